// alloc/fit/next_fit.h — NextFit: first fit that resumes where the last search ended (a roving pointer).
#pragma once

#include <cstddef>

#include "alloc/concepts/role.h"
#include "alloc/fit/free_list.h"
#include "alloc/internal/free_node.h"
#include "alloc/internal/optimize.h"

namespace nostd {

/// Next fit over one LIFO free list: the search starts at the roving pointer (the block after the last one
/// taken), runs to the end of the list and wraps around to the head. Free is O(1); allocation is O(free blocks).
///
/// Trade-off: spreading allocations over the list avoids first-fit's pile-up of small remainders at the head,
/// so the average search is short; the price is worse locality and usually more fragmentation, because large
/// blocks get split wherever the rover happens to be.
struct NextFit {
  using policy_role = role::Fit;

  /// The free-block index a heap with tag layout `Tags` keeps.
  template <class Tags>
  class Index : public internal::ListIndex {
   public:
    constexpr Index() noexcept = default;

    /// Removes a free block. O(1). A rover on that block moves on to its successor, a link the core's safe
    /// unlinking has vouched for by then from BasicChecks up. (Insertion, at the head, leaves the rover where it is.)
    NOSTD_HOT void remove(internal::FreeNode* node, std::size_t size) noexcept {
      if (rover_ == node) rover_ = node->next;
      ListIndex::remove(node, size);
    }

    /// The first block from the rover on (wrapping once) of at least `need` bytes for which `fits` holds, or
    /// nullptr. The rover is left on the block after the one found once the core takes it, so the next search
    /// resumes there. Each `next` link is vouched for before the block it names is read (internal::may_follow: from
    /// BasicChecks up, a link a write after free forged is reported at the block holding it instead of crashing the
    /// search); a refused link ends the search with nullptr and leaves the rover where it was.
    template <class Fits>
    NOSTD_HOT internal::FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      internal::FreeNode* start = rover_ != nullptr ? rover_ : list_.head();
      internal::FreeNode* node = start;
      while (node != nullptr) {
        const std::size_t size = internal::node_block_size<Tags>(node);
        if (size >= need && fits(node, size)) {
          // The rover is a link later searches start from without a check, so where `fits` checks links it never
          // takes an unchecked one: it stays on the block found, and remove() moves it to the block's `next` after
          // the core's safe unlinking has vouched for that link (a forged `next` on the block found had become the
          // rover as the core reported the block, and the next search started from it). The one difference: a block
          // found but not taken (QuickCache's high-water mark) is where the next search starts, not the block after
          // it. Without checks the rover moves on here, as it always did.
          if constexpr (internal::kChecksLinks<Fits>) {
            rover_ = node;
          } else {
            rover_ = node->next;
          }
          return node;
        }
        internal::FreeNode* const next = node->next;
        if (next != nullptr && !internal::may_follow(fits, node, next)) return nullptr;
        node = next != nullptr ? next : list_.head();
        if (node == start) break;
      }
      return nullptr;
    }

    /// The block the next search starts from (nullptr: the head). For tests and validation.
    const internal::FreeNode* rover() const noexcept { return rover_; }

   private:
    internal::FreeNode* rover_ = nullptr;
  };
};

}  // namespace nostd
