// alloc/fit/best_fit.h — BestFit: the smallest free block that fits.
#pragma once

#include <cstddef>

#include "alloc/concepts/role.h"
#include "alloc/fit/free_list.h"
#include "alloc/internal/free_node.h"
#include "alloc/internal/optimize.h"

namespace nostd {

/// Best fit over one LIFO free list: allocation takes the smallest block large enough, stopping early on an
/// exact fit. Free is O(1); allocation is O(free blocks), and a miss or a non-exact hit always walks the whole
/// list.
///
/// Trade-off: it splits the least and so keeps large blocks intact for large requests (lowest fragmentation of
/// the list fits in most traces), at the cost of a full scan on most allocations.
struct BestFit {
  using policy_role = role::Fit;

  /// The free-block index a heap with tag layout `Tags` keeps.
  template <class Tags>
  class Index : public internal::ListIndex {
   public:
    constexpr Index() noexcept = default;

    /// The smallest block of at least `need` bytes for which `fits(node, size)` holds, or nullptr. Among equal
    /// sizes the one nearest the head (most recently freed) wins. Each `next` link is vouched for before the block
    /// it names is read (internal::checked_next: from BasicChecks up, a link a write after free forged is reported at
    /// the block holding it instead of crashing the search).
    template <class Fits>
    NOSTD_HOT internal::FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      internal::FreeNode* best = nullptr;
      std::size_t best_size = 0;
      for (internal::FreeNode* node = list_.head(); node != nullptr; node = internal::checked_next(fits, node)) {
        const std::size_t size = internal::node_block_size<Tags>(node);
        if (size < need || (best != nullptr && size >= best_size) || !fits(node, size)) continue;
        best = node;
        best_size = size;
        if (size == need) break;  // nothing can beat an exact fit
      }
      return best;
    }
  };
};

}  // namespace nostd
