// alloc/fit/free_list.h — FreeList: the intrusive doubly-linked list of free blocks that the list fits share.
//
// Insertion is at the head (LIFO): O(1) and cache-friendly, since a block freed a moment ago is likely still in
// cache when it is reused. The price is that list order carries no address order, so first-fit here is the
// classic "LIFO first-fit" rather than address-ordered first-fit (which has lower fragmentation but an O(n)
// free). Removal is O(1) through the prev link.
#pragma once

#include <cstddef>

#include "alloc/internal/free_node.h"
#include "alloc/internal/optimize.h"

namespace nostd::internal {

/// An intrusive, nullptr-terminated doubly-linked list of FreeNodes with a count.
class FreeList {
 public:
  constexpr FreeList() noexcept = default;

  /// Pushes `node` at the head. O(1).
  NOSTD_HOT void push_front(FreeNode* node) noexcept {
    node->prev = nullptr;
    node->next = head_;
    if (head_ != nullptr) head_->prev = node;
    head_ = node;
    ++count_;
  }

  /// Unlinks `node`, which must be on this list. O(1).
  NOSTD_HOT void erase(FreeNode* node) noexcept {
    if (node->prev != nullptr) {
      node->prev->next = node->next;
    } else {
      head_ = node->next;
    }
    if (node->next != nullptr) node->next->prev = node->prev;
    --count_;
  }

  /// Safe unlinking: true when `node`'s neighbours point back at it (`next->prev == node`, `prev->next == node`,
  /// or `head() == node` when it has no prev), each checked with `in_heap(neighbour)` before it is read. A
  /// use-after-free write to a free block's links makes this false, so that `erase` is never steered into
  /// writing through a forged pointer. Precondition: `node` may be read. O(1) plus two `in_heap` calls.
  template <class InHeap>
  NOSTD_HOT bool links_intact(const FreeNode* node, InHeap&& in_heap) const noexcept {
    const FreeNode* const prev = node->prev;
    if (prev == nullptr ? head_ != node : !in_heap(prev) || prev->next != node) return false;
    return next_link_intact(node, in_heap);
  }

  /// First node, or nullptr.
  FreeNode* head() const noexcept { return head_; }
  /// Number of nodes on the list.
  std::size_t count() const noexcept { return count_; }
  /// True when no node is on the list.
  bool empty() const noexcept { return head_ == nullptr; }

  /// Calls `visit(node)` for each node until it returns false; returns false when stopped early. Visits at most
  /// `limit` nodes so that a corrupted (cyclic) list cannot hang the validator; returns false past the limit.
  /// `visit(node)` runs before `node->next` is read, so a validator that returns false on a node it cannot vouch
  /// for is never led through a corrupted link; a visitor that offers `may_follow` (stats()'s, from BasicChecks up)
  /// vouches for each link before its target is visited (internal::may_follow), and a refused link stops the walk
  /// (false).
  template <class Visit>
  bool for_each(Visit&& visit, std::size_t limit) const noexcept {
    std::size_t seen = 0;
    for (const FreeNode* node = head_; node != nullptr; node = node->next) {
      if (++seen > limit || !visit(node)) return false;
      if (node->next != nullptr && !may_follow(visit, node, node->next)) return false;
    }
    return true;
  }

 private:
  FreeNode* head_ = nullptr;
  std::size_t count_ = 0;
};

/// The part of a fit index that keeps one LIFO FreeList: insert, remove, links_intact, count and for_each.
/// FirstFit, NextFit and BestFit derive from it and add only their `find` (NextFit also its rover); user fits may
/// do the same.
class ListIndex {
 public:
  constexpr ListIndex() noexcept = default;

  /// Adds a free block of `size` bytes at the head. O(1).
  NOSTD_HOT void insert(FreeNode* node, std::size_t /*size*/) noexcept { list_.push_front(node); }
  /// Removes a free block. O(1).
  NOSTD_HOT void remove(FreeNode* node, std::size_t /*size*/) noexcept { list_.erase(node); }
  /// Safe unlinking (optional FitIndex member, see alloc/concepts/fit_policy.h): true when removing `node` would
  /// only write through links that point back at it; neighbours are checked with `in_heap` before being read.
  template <class InHeap>
  NOSTD_HOT bool links_intact(const FreeNode* node, InHeap&& in_heap) const noexcept {
    return list_.links_intact(node, in_heap);
  }
  /// Number of free blocks indexed.
  std::size_t count() const noexcept { return list_.count(); }
  /// Visits every indexed block (at most `limit`); false when stopped early (by `visit`, or at a link its
  /// `may_follow` refuses) or past the limit.
  template <class Visit>
  bool for_each(Visit&& visit, std::size_t limit) const noexcept {
    return list_.for_each(visit, limit);
  }

 protected:
  FreeList list_;
};

}  // namespace nostd::internal
