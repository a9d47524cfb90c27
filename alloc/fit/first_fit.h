// alloc/fit/first_fit.h — FirstFit: the first free block on the list that fits.
#pragma once

#include <cstddef>

#include "alloc/concepts/role.h"
#include "alloc/fit/free_list.h"
#include "alloc/internal/free_node.h"
#include "alloc/internal/optimize.h"

namespace nostd {

/// First fit over one LIFO free list: allocation takes the first block large enough, scanning from the most
/// recently freed. Free is O(1); allocation is O(free blocks) in the worst case.
///
/// Trade-off: the scan stops early, so it is fast while small blocks are plentiful near the head, but blocks too
/// small for most requests collect at the front of the list and every large request pays to walk past them.
/// Choose it for small heaps and uniform sizes; where allocation latency must be bounded, a size-class
/// (segregated) index is the better choice.
struct FirstFit {
  using policy_role = role::Fit;

  /// The free-block index a heap with tag layout `Tags` keeps.
  template <class Tags>
  class Index : public internal::ListIndex {
   public:
    constexpr Index() noexcept = default;

    /// The first block of at least `need` bytes for which `fits(node, size)` holds, or nullptr. Each `next` link is
    /// vouched for before the block it names is read (internal::checked_next: from BasicChecks up, a link a write
    /// after free forged is reported at the block holding it instead of crashing the search).
    template <class Fits>
    NOSTD_HOT internal::FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      for (internal::FreeNode* node = list_.head(); node != nullptr; node = internal::checked_next(fits, node)) {
        const std::size_t size = internal::node_block_size<Tags>(node);
        if (size >= need && fits(node, size)) return node;
      }
      return nullptr;
    }
  };
};

}  // namespace nostd
