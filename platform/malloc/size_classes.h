// platform/malloc/size_classes.h — SizeClasses: an arena's free and cached blocks counted per size class, for
// malloc_info's `<sizes>`.
//
// A class is one list of the fit's size -> list mapping (MallocFit: SegregatedFit<>, one block size per list below
// 1 KiB on 64-bit targets, then 32 lists per power of two). A block the cache keeps aside counts in the class of the
// list it joins when the cache merges it, so the classes never overlap; glibc lists its fastbins apart, ahead of its
// bins, whose ranges they overlap. Ranges and bytes are payload (what the blocks could serve, the unit of mallinfo2 and
// of `<total>`), so the classes' counts and bytes add up to `<total type="fast">` and `<total type="rest">` together;
// glibc's count chunk bytes, header included.
#pragma once

#include <cstddef>

#include "alloc/basic_heap.h"  // BlockInfo

namespace nostd::malloc_door {

/// Most classes kept per arena. 128 x 32 B keeps an arena's figures at 4 KiB, taken under its lock into a value on
/// the caller's stack (glibc's malloc_info holds 136 such entries there); an arena with more non-empty lists has its
/// largest classes merged into the last one (SizeClasses::add).
inline constexpr unsigned kMaxSizeClasses = 128;

/// One size class: `count` blocks serving `from`..`to` bytes each, `total` bytes in all (malloc_info's `<size>`).
struct SizeClass {
  std::size_t from = 0;   ///< The smallest payload a block of the class serves.
  std::size_t to = 0;     ///< The largest.
  std::size_t total = 0;  ///< The payload of its blocks, summed.
  std::size_t count = 0;  ///< Its blocks.
};

/// Up to kMaxSizeClasses non-empty classes in increasing, non-overlapping ranges. Fixed size: filled under an arena's
/// lock, where nothing may allocate.
struct SizeClasses {
  SizeClass classes[kMaxSizeClasses];  ///< The first `used` are set, ascending.
  unsigned used = 0;                   ///< How many.

  /// Counts `count` blocks of `total` payload bytes in class [from, to] (ranges of different classes never overlap).
  /// O(used): a binary search and a shift. When all kMaxSizeClasses are in use and the class is new, the last class
  /// takes it in (its range stretched to cover it) when it lies above the last but one, else the two largest classes
  /// merge to make room: the figures still add up and stay ascending, the smallest classes exact, the last coarse.
  void add(std::size_t from, std::size_t to, std::size_t total, std::size_t count) noexcept {
    unsigned lo = 0;
    unsigned hi = used;
    while (lo < hi) {
      const unsigned mid = (lo + hi) / 2;
      if (classes[mid].to < from) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    // `lo`: the first class not below [from, to]. Inside a merged last class, the block joins it.
    if (lo < used && classes[lo].from <= to) {
      classes[lo].total += total;
      classes[lo].count += count;
      return;
    }
    if (used == kMaxSizeClasses) {
      if (lo + 1 >= used) {  // above the last class but one: the last class stretches to take it in
        SizeClass& last = classes[used - 1];
        if (from < last.from) last.from = from;
        if (to > last.to) last.to = to;
        last.total += total;
        last.count += count;
        return;
      }
      SizeClass& merged = classes[used - 2];  // room for it below: the two largest classes become one
      merged.to = classes[used - 1].to;
      merged.total += classes[used - 1].total;
      merged.count += classes[used - 1].count;
      --used;
    }
    for (unsigned i = used; i > lo; --i) classes[i] = classes[i - 1];
    classes[lo] = SizeClass{from, to, total, count};
    ++used;
  }
};

/// Fills `out` with `heap`'s cached and free blocks per list of `Fit`'s size -> list mapping (a fit with the static
/// `unclamped_list_of(size)` and `list_floor(list)` of SegregatedFit). Reuses the heap's walks: walk_cache_bins
/// (O(bins)) and walk_free (O(free blocks), its links checked as stats() checks them). The caller holds the arena's
/// lock, so that the figures agree with a stats() taken in the same hold.
template <class Fit, class Heap>
void count_size_classes(const Heap& heap, SizeClasses& out) noexcept {
  // A list holds block sizes [list_floor(list), list_floor(list + 1)), in granule steps; the clamp of the last list is
  // left out, so that a block above the index's largest size gets the range of its own power of two.
  const auto add = [&out](std::size_t block_size, std::size_t payload, std::size_t count) {
    const std::size_t list = Fit::unclamped_list_of(block_size);
    const std::size_t floor = Fit::list_floor(list);
    const std::size_t top = Fit::list_floor(list + 1) - Fit::kGranule;
    out.add(Heap::free_payload(floor), Heap::free_payload(top), payload * count, count);
  };
  heap.walk_cache_bins(
      [&add](std::size_t block_size, std::size_t count) { add(block_size, block_size - Heap::kUsedOverhead, count); });
  heap.walk_free([&add](const BlockInfo& block) { add(block.size, Heap::free_payload(block.size), 1); });
}

}  // namespace nostd::malloc_door
