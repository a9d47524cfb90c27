// alloc/fit/first_fit.h — FirstFit: the first free block on the list that fits.
#pragma once

#include <cstddef>

#include "alloc/concepts/role.h"
#include "alloc/fit/free_list.h"
#include "alloc/internal/free_node.h"

namespace nostd {

/// First fit over one LIFO free list: allocation takes the first block large enough, scanning from the most
/// recently freed. Free is O(1); allocation is O(free blocks) in the worst case.
///
/// Trade-off: the scan stops early, so it is fast while small blocks are plentiful near the head, but blocks too
/// small for most requests collect at the front of the list and every large request pays to walk past them.
/// Choose it for small heaps and uniform sizes; prefer SegregatedFit when latency must be bounded.
struct FirstFit {
  using policy_role = role::Fit;

  /// The free-block index a heap with tag layout `Tags` keeps.
  template <class Tags>
  class Index {
   public:
    constexpr Index() noexcept = default;

    /// Adds a free block of `size` bytes. O(1).
    void insert(internal::FreeNode* node, std::size_t /*size*/) noexcept { list_.push_front(node); }
    /// Removes a free block. O(1).
    void remove(internal::FreeNode* node, std::size_t /*size*/) noexcept { list_.erase(node); }

    /// The first block of at least `need` bytes for which `fits(node, size)` holds, or nullptr.
    template <class Fits>
    internal::FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      for (internal::FreeNode* node = list_.head(); node != nullptr; node = node->next) {
        const std::size_t size = internal::node_block_size<Tags>(node);
        if (size >= need && fits(node, size)) return node;
      }
      return nullptr;
    }

    /// Number of free blocks indexed.
    std::size_t count() const noexcept { return list_.count(); }
    /// Visits every indexed block (at most `limit`); false when stopped early or past the limit.
    template <class Visit>
    bool for_each(Visit&& visit, std::size_t limit) const noexcept {
      return list_.for_each(visit, limit);
    }

   private:
    internal::FreeList list_;
  };
};

}  // namespace nostd
