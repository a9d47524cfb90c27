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
      [[maybe_unused]] bool wrapped = false;  // past the list's end to its head: kCountsLinks walks only
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
        if constexpr (internal::kCountsLinks<Fits>) wrapped = wrapped || next == nullptr;
        node = next != nullptr ? next : list_.head();
        // The lap ends back at its start. A list leads there by a link only after the wrap (from the start's
        // predecessor), so a link there before it closes a forged cycle, which ending the lap would take for the
        // end of the list: kOutOfMemory, the blocks behind the cycle never searched. Where the walk keeps a budget
        // (HardenedChecks up) it goes on round the cycle until may_follow reports it, as the other list fits' walks
        // do; below that, with no budget to stop it, the lap ends as it always did (BasicChecks' limit).
        if (node == start && (!internal::kCountsLinks<Fits> || wrapped)) break;
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
