// alloc/internal/free_node.h — the links a free block carries in its payload, shared by every fit policy.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "alloc/internal/optimize.h"

namespace nostd::internal {

/// Doubly-linked list links stored at the payload address of a free block. A list ends in nullptr at both ends,
/// so unlinking is O(1) without a sentinel (a sentinel would need memory outside the heap's blocks).
struct FreeNode {
  FreeNode* next;
  FreeNode* prev;
};

}  // namespace nostd::internal

namespace nostd::internal {

/// The size of the free block whose links are `node` (the links sit at the block's payload).
template <class Tags>
inline std::size_t node_block_size(const FreeNode* node) noexcept {
  return Tags::size(reinterpret_cast<const std::byte*>(node) - Tags::kHeaderSize);
}

/// The `next` half of safe unlinking, shared by every index: true when `node` has no next, or when its next passes
/// `in_heap` (before it is read) and points back at `node`. Whether a free block has a successor on its list is data
/// the heap's churn makes random, so this does not branch on it: without a next, `in_heap` and the read go to `node`
/// itself and a mask makes the answer true. Branching on it cost `SegregatedFit<>` with BasicChecks 0.39 mispredicted
/// branches per allocate + free on workload e (callgrind's branch simulation, `op_count seg/compact e 10`) for 18
/// instructions fewer; docs/segregated_fit_log.md, issue 11's BasicChecks bullet, has the times. The branch left, on
/// `in_heap`, fails only on a corrupted link. Size builds (-Os) keep the branch. Precondition: `node` may be read. The
/// core passes the links of a free block, which pass `in_heap` unless the heap is already corrupt; a `node` that does
/// not (a forged one with no successor) gets false here in speed builds, and true from the size builds' form.
template <class InHeap>
NOSTD_HOT inline bool next_link_intact(const FreeNode* node, InHeap&& in_heap) noexcept {
  const FreeNode* const next = node->next;
  if constexpr (kOptimizingForSize) {
    // The branch is smaller: 12-16 bytes of Cortex-M4 .text per BasicChecks row of the footprint report.
    return next == nullptr || (in_heap(next) && next->prev == node);
  } else {
    const bool has_next = next != nullptr;
    const FreeNode* const probe = has_next ? next : node;
    if (!in_heap(probe)) return false;
    // Arithmetic, not `!has_next || probe->prev == node`: GCC compiled that, and a select between the two answers,
    // back into the branch.
    const auto differs = reinterpret_cast<std::uintptr_t>(probe->prev) ^ reinterpret_cast<std::uintptr_t>(node);
    return (differs & (std::uintptr_t{0} - std::uintptr_t{has_next})) == 0;
  }
}

/// True when `Walker`, the callable the core hands an index's `find` (its `fits` predicate) or `for_each` (its
/// visitor), offers `may_follow(from, to)`: the core's, where safe unlinking runs (from BasicChecks up).
template <class Walker>
inline constexpr bool kChecksLinks = requires(Walker& walker, const FreeNode* node) {
  { walker.may_follow(node, node) } -> std::same_as<bool>;
};

/// True when `Walker`'s may_follow also keeps the walk's budget (the core's from HardenedChecks up): the link that
/// would make a walk's links as many as the index holds blocks is reported, so a walk that finds itself on a cycle
/// may go on round it until that link is refused, where without the budget it would go round without end.
template <class Walker>
inline constexpr bool kCountsLinks = requires {
  requires std::remove_reference_t<Walker>::kCountsLinks;
};

/// A walk's check of the link from `from` to `to` (non-null) before it reads `to`: `walker.may_follow(from, to)` where
/// the walker offers it (kChecksLinks), else true, and then the check compiles away (NoChecks). The core's answers
/// true when `to` lies in the heap and points back at `from`, and otherwise reports kCorrupted at `from` to the check
/// handler; from HardenedChecks up it also counts the links a walk follows, and reports the one that would make them
/// as many as the index holds blocks (a cycle forged with two words: a legitimate walk follows fewer). A walker whose
/// may_follow returns false instead makes the walk stop there (each walk says what it then returns), so that a `next`
/// a write after free forged is never read through. Every index whose `find` or `for_each` follows a `next` link past
/// a list head asks this first, once per link it follows, so that the count holds.
template <class Walker>
NOSTD_HOT inline bool may_follow(Walker& walker, const FreeNode* from, const FreeNode* to) noexcept {
  if constexpr (kChecksLinks<Walker>) {
    return walker.may_follow(from, to);
  } else {
    return true;
  }
}

/// The node after `node` on its list, for a walk that reads it next: `node->next` once `walker` vouches for the link
/// (may_follow), or nullptr, so that a refused link ends the walk as the list's end would. The step of FirstFit's and
/// BestFit's searches and of SegregatedFit's last-list walk (NextFit wraps at the end, and for_each tells a refused
/// link from the end, so they ask may_follow themselves).
template <class Walker, class Node>
NOSTD_HOT inline Node* checked_next(Walker& walker, Node* node) noexcept {
  Node* const next = node->next;
  if (next != nullptr && !may_follow(walker, node, next)) return nullptr;
  return next;
}

/// Safe unlinking for a nullptr-terminated list of FreeNodes whose head the caller cannot see: each neighbour of
/// `node` is either nullptr or passes `in_heap` (which vouches that it may be read) and points back at `node`.
/// `in_heap` runs before a neighbour is read, so a corrupted link is reported, never followed.
/// Precondition: `node` itself may be read (the caller vouched for it); see next_link_intact for one outside the heap.
template <class InHeap>
inline bool free_node_links_intact(const FreeNode* node, InHeap&& in_heap) noexcept {
  const FreeNode* const prev = node->prev;
  if (!next_link_intact(node, in_heap)) return false;
  return prev == nullptr || (in_heap(prev) && prev->next == node);
}

}  // namespace nostd::internal
