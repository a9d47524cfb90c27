// tests/heap_model.h — a model-based stress driver for a heap's configuration corners: requests drawn at the block size
// boundaries the composition has (granule, minimum block, split threshold, cache bins, segregated list floors, the
// largest block the index tells apart, the capacity) and at the overflow boundaries (SIZE_MAX - k, alignments up to
// 2^63), reallocations around a block's own size, flushes, added regions taken back (remove_region) and lent again
// (after each removal: owns() over the piece, and the piece lent and taken back again as the newest region, followed,
// for a source whose memory starts zero and a cache, by allocate_zeroed), each checked against a model of what the heap
// must do. After every operation: validate(), the touched block's contents, no two live blocks overlapping, each
// block's alignment, every stats() counter against the model and the walk, and a refused request checked to be one that
// nothing could serve (after a flush, the same request fails again; for the list fits, no free block fits).
// Framework-free, so that the bare-metal check programs could run it too; tests/heap_model_test.cc runs it over the
// compositions the other suites leave out.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "alloc/alloc.h"
#include "tests/test_heap.h"

namespace nostd::testing {

/// How a model run goes.
struct ModelOptions {
  /// Heap calls made.
  std::size_t ops = 20'000;
  /// The generator's seed.
  std::uint64_t seed = 0x5EED;
  /// Every live block's contents are checked after every `contents_every`-th operation (the touched block's after
  /// each).
  std::size_t contents_every = 16;
};

/// What a model run saw: `failure` is null when every check held; otherwise what broke, at operation `op`, with
/// validate()'s report when validate() failed.
struct ModelReport {
  const char* failure = nullptr;
  std::size_t op = 0;
  HeapFault fault{};
  std::size_t allocated = 0;        ///< successful allocate calls
  std::size_t refused = 0;          ///< allocate and reallocate calls refused with kOutOfMemory
  std::size_t moved = 0;            ///< reallocate calls that moved the block
  std::size_t grown_in_place = 0;   ///< reallocate calls that grew a block in place
  std::size_t regions_added = 0;    ///< successful add_region calls (a piece lent again included)
  std::size_t regions_removed = 0;  ///< successful remove_region calls
  std::size_t removals_in_use = 0;  ///< remove_region calls refused with kInUse
  std::size_t cached_frees = 0;     ///< frees the cache kept aside
  std::size_t most_cached = 0;      ///< the most cached blocks stats() reported at once
  /// True when every check held.
  bool ok() const noexcept { return failure == nullptr; }
};

namespace internal_model {

// The heap's index type (private in BasicHeap), for the list floors of a SegregatedFit.
template <class Heap>
using IndexOf = typename nostd::internal::FitIndexFor<typename Heap::Fit, typename Heap::Tags,
                                                      nostd::internal::kSourceBytes<typename Heap::Source>>::type;

template <class Heap>
inline constexpr bool kSegregated = requires {
  IndexOf<Heap>::kListCount;
};

template <class Heap>
inline constexpr bool kListFit = std::is_base_of_v<nostd::internal::ListIndex, IndexOf<Heap>>;

template <class Heap>
inline constexpr std::size_t kCacheMaxBlock = [] {
  if constexpr (requires { Heap::Cache::kMaxBlock; }) {
    return static_cast<std::size_t>(Heap::Cache::kMaxBlock);
  } else {
    return std::size_t{0};
  }
}();

}  // namespace internal_model

/// Runs the model workload on `heap`, which must start empty. `spare` (RegionSource heaps) is memory the run hands to
/// `add_region` piece by piece (some pieces too small, one overlapping); once all of it is handed out, the add_region
/// step takes a lent piece back with `remove_region` instead (kInUse when a live block lies in it), or lends one taken
/// back again. For a source whose memory starts zero (kZeroedMemory) `spare` is zeroed first. `kSlots` bounds the live
/// blocks.
template <std::size_t kSlots = 48, class Heap>
ModelReport run_model(Heap& heap, const ModelOptions& options, std::span<std::byte> spare = {}) {
  using namespace internal_model;
  static constexpr std::size_t kG = Heap::kGranule;
  static constexpr std::size_t kMin = Heap::kMinBlockSize;
  static constexpr bool kDebug = Heap::Check::kLevel >= CheckLevel::kDebug;
  static constexpr std::size_t kCanary = kDebug ? 1 : 0;
  static constexpr std::size_t kOverhead = Heap::kUsedOverhead;
  static constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

  struct Slot {
    std::byte* ptr = nullptr;
    std::size_t usable = 0;  // usable_size at the last operation on it: every byte filled
    std::size_t align = 0;   // as asked (0: the default)
    std::size_t tag = 0;
  };
  Slot slots[kSlots] = {};
  ModelReport report;
  std::size_t allocations = 0, frees = 0, failures = 0, peak = 0, next_tag = 1;
  std::size_t spare_at = 0, added_end = 0;  // where the next piece of `spare` starts; the end of the last added
  // The pieces add_region took, in its order: where each lies in `spare`, the capacity, free bytes and free blocks (one
  // per region: 16-bit tags split a piece above 64 KiB) it added, and whether it is a region now (remove_region may
  // have taken it back). A piece past the last entry is never taken back.
  struct Piece {
    std::size_t at = 0, length = 0, capacity = 0, bytes_free = 0, free_blocks = 0;
    bool lent = false;
  };
  constexpr std::size_t kMaxPieces = 64;
  Piece pieces[kMaxPieces] = {};
  std::size_t piece_count = 0;
  SplitMix64 rng(options.seed);
  // A source whose memory starts zero (kZeroedMemory) is lent only memory nobody has written: the spare memory, and a
  // piece taken back, before it is lent again.
  static constexpr bool kZeroed = nostd::internal::kZeroedSource<typename Heap::Source>;
  if constexpr (kZeroed) std::fill(spare.begin(), spare.end(), std::byte{0});

  auto fail = [&report](const char* what, std::size_t op) {
    report.failure = what;
    report.op = op;
    return false;
  };
  auto in_use = [&slots]() {
    std::size_t bytes = 0;
    for (const Slot& s : slots) bytes += s.ptr != nullptr ? s.usable : 0;
    return bytes;
  };
  auto live = [&slots]() {
    std::size_t n = 0;
    for (const Slot& s : slots) n += s.ptr != nullptr ? 1 : 0;
    return n;
  };
  // The block size a request of `size` bytes at alignment `align` takes, or 0 when it overflows (kSizeOverflow).
  auto block_for = [](std::size_t size, std::size_t align) -> std::size_t {
    const std::size_t extra = kOverhead + kCanary + (align > kG ? 1 : 0);
    if (size > kMax - extra - (kG - 1)) return 0;
    return std::max(align_up(size + extra, kG), kMin);
  };
  // The bytes a block at payload address `payload` must leave in front to align it to `align` (BasicHeap's
  // leading_gap: a gap under a minimum block is widened).
  auto leading_gap = [](std::uintptr_t payload, std::size_t align) -> std::size_t {
    std::uintptr_t aligned = align_up(payload, align);
    if (aligned != payload && aligned - payload < kMin) aligned = align_up(payload + kMin, align);
    return aligned - payload;
  };

  // A block size at one of the composition's boundaries, as the request that takes it plus a small offset.
  std::size_t palette[4];
  for (std::size_t& p : palette) p = rng.range(0, 40);
  auto boundary_size = [&]() -> std::size_t {
    const std::size_t capacity = heap.stats().capacity;
    std::size_t block = kMin;
    switch (rng.range(0, 9)) {
      case 0:
        block = kMin;
        break;
      case 1:
        block = kMin + kG * rng.range(0, 4);
        break;
      case 2:
        if constexpr (kCacheMaxBlock<Heap> != 0) {
          block = kCacheMaxBlock<Heap> + kG * rng.range(0, 2) - kG;
        } else {
          block = kG * rng.range(2, 64);
        }
        break;
      case 3:
        if constexpr (kSegregated<Heap>) {
          block = Heap::Fit::list_floor(rng.range(0, IndexOf<Heap>::kListCount - 1));
        } else {
          block = std::size_t{1} << rng.range(5, 12);
        }
        break;
      case 4:
        if constexpr (kSegregated<Heap>) {
          block = rng.range(0, 1) != 0 ? IndexOf<Heap>::kExactLimit : IndexOf<Heap>::kLargestBlock;
        } else {
          block = capacity / 2;
        }
        break;
      case 5:
        block = rng.range(0, 3) == 0 ? capacity / (std::size_t{1} << rng.range(0, 6)) : kMin;
        break;
      case 6:
      case 7:
      case 8:
        // A small palette of sizes (cache bins), so that freed blocks meet their size again.
        block = kMin + kG * palette[rng.range(0, 3)];
        break;
      default:
        return rng.log_size(0, 11);
    }
    block = std::max(block, kMin);
    const std::size_t request = block > kOverhead + kCanary ? block - kOverhead - kCanary : 0;
    const std::size_t offset = rng.range(0, 2 * kG + 2);
    return request + offset >= kG + 1 ? request + offset - kG - 1 : request;
  };
  // An alignment: mostly the default, else 1..4096, sometimes up to the heap's maximum or past it.
  auto pick_align = [&]() -> std::size_t {
    switch (rng.range(0, 15)) {
      case 0:
      case 1:
      case 2:
        return std::size_t{1} << rng.range(0, 12);
      case 3:
        return std::size_t{1} << rng.range(13, std::countr_zero(Heap::kMaxAlignment));
      case 4:
        if (rng.range(0, 7) == 0) {
          return std::size_t{1} << rng.range(std::countr_zero(Heap::kMaxAlignment) + 1, sizeof(std::size_t) * 8 - 1);
        }
        return 0;
      default:
        return 0;
    }
  };
  // A size near SIZE_MAX, or half of it.
  auto huge_size = [&]() -> std::size_t {
    return rng.range(0, 3) == 0 ? kMax / 2 + rng.range(0, 64) : kMax - rng.range(0, 80);
  };

  auto fill_slot = [](Slot& s) { fill(s.ptr, s.usable, s.tag); };
  auto slot_intact = [](const Slot& s) { return holds_pattern(s.ptr, s.usable, s.tag); };

  // Walk-derived figures and the stats() identities, with no two live blocks overlapping and every block aligned.
  auto check_heap = [&](std::size_t op, bool all_contents) -> bool {
    if (ValidateResult v = heap.validate(); !v) {
      report.fault = v.error();
      return fail("validate() failed", op);
    }
    struct Walked {
      std::size_t capacity = 0, used_blocks = 0, free_blocks = 0, cached_blocks = 0, cached_bytes = 0, free_bytes = 0;
      std::size_t largest = 0;
    } w;
    heap.walk([&w](const BlockInfo& b) {
      w.capacity += b.size;
      if (b.used) {
        ++w.used_blocks;
      } else if (b.cached) {
        ++w.cached_blocks;
        w.cached_bytes += b.size - kOverhead;
        w.free_bytes += b.size - kOverhead;
        w.largest = std::max(w.largest, b.size);
      } else {
        ++w.free_blocks;
        // What the block could serve: nothing, not a negative share, when it is smaller than a used block's tags,
        // trailer and canary (a minimum block from DebugChecks up with 4-byte full tags: 16 B against 17).
        w.free_bytes += b.size > kOverhead + kCanary ? b.size - kOverhead - kCanary : 0;
        w.largest = std::max(w.largest, b.size);
      }
    });
    const HeapStats s = heap.stats();
    const std::size_t bytes = in_use();
    if (s.capacity != w.capacity) return fail("stats().capacity differs from the walk", op);
    if (s.live_allocations != live() || w.used_blocks != live()) return fail("live blocks differ from the model", op);
    if (s.bytes_in_use != bytes) return fail("stats().bytes_in_use is not the sum of usable sizes", op);
    if (s.free_blocks != w.free_blocks) return fail("stats().free_blocks differs from the walk", op);
    if (s.cached_blocks != w.cached_blocks) return fail("stats().cached_blocks differs from the walk", op);
    if (s.cached_bytes != w.cached_bytes) return fail("stats().cached_bytes differs from the walk", op);
    report.most_cached = std::max(report.most_cached, s.cached_blocks);
    if (s.bytes_free != w.free_bytes) return fail("stats().bytes_free differs from the walk", op);
    if (s.capacity != s.bytes_in_use + s.bytes_free + s.overhead_bytes) return fail("capacity identity broken", op);
    const std::size_t largest = w.largest > kOverhead + kCanary ? w.largest - kOverhead - kCanary : 0;
    if (s.largest_free_block != largest) return fail("stats().largest_free_block differs from the walk", op);
    if (s.total_allocations != allocations) return fail("stats().total_allocations differs from the model", op);
    if (s.total_frees != frees) return fail("stats().total_frees differs from the model", op);
    if (s.failed_allocations != failures) return fail("stats().failed_allocations differs from the model", op);
    if (s.peak_bytes_in_use != peak) return fail("stats().peak_bytes_in_use differs from the model", op);
    // Overlap: the live blocks sorted by address, each ending before the next begins.
    const Slot* order[kSlots];
    std::size_t n = 0;
    for (const Slot& slot : slots) {
      if (slot.ptr == nullptr) continue;
      if (heap.usable_size(slot.ptr) != slot.usable) return fail("usable_size changed under a live block", op);
      const Result<std::size_t> checked = heap.try_usable_size(slot.ptr);
      if (!checked || *checked != slot.usable) return fail("try_usable_size disagrees with usable_size", op);
      if (!heap.owns(slot.ptr) || !heap.owns(slot.ptr + (slot.usable != 0 ? slot.usable - 1 : 0))) {
        return fail("owns() denies a live block", op);
      }
      if (slot.align != 0 && !is_aligned(slot.ptr, slot.align)) return fail("a block lost its alignment", op);
      if (!is_aligned(slot.ptr, alignof(std::max_align_t))) return fail("a block is not granule-aligned", op);
      if (all_contents && !slot_intact(slot)) return fail("a live block's contents changed", op);
      order[n++] = &slot;
    }
    std::sort(order, order + n, [](const Slot* a, const Slot* b) { return a->ptr < b->ptr; });
    for (std::size_t i = 1; i < n; ++i) {
      if (order[i - 1]->ptr + order[i - 1]->usable + kOverhead > order[i]->ptr) {
        return fail("two live blocks overlap", op);
      }
    }
    return true;
  };

  // After a refused request of `size` bytes at `align` (0: the default): flush, and the same request must fail again
  // (allocate flushes by itself before it refuses); for the list fits no free block may fit it, and for SegregatedFit
  // no list at or above the request's rounded list may hold a block (its head would have been taken).
  auto check_refusal = [&](std::size_t size, std::size_t align, std::size_t op) -> bool {
    const std::size_t need = block_for(size, align);
    // No block could hold it: nothing to check, and no flush to spoil the cache.
    if (need > heap.stats().capacity) return true;
    heap.flush_cache();
    bool must_fit = false;
    heap.walk([&](const BlockInfo& b) {
      if (b.used || b.cached) return;
      const std::uintptr_t payload = reinterpret_cast<std::uintptr_t>(b.payload);
      const std::size_t gap = align > kG ? leading_gap(payload, align) : 0;
      if (b.size < need || gap > b.size - need) return;
      if constexpr (kListFit<Heap>) {
        must_fit = true;
      } else if constexpr (kSegregated<Heap>) {
        using Index = IndexOf<Heap>;
        const std::size_t list = Heap::Fit::list_for_request(need);
        const std::size_t own = Index::list_of(b.size);
        if (list < Index::kListCount && own >= list) {
          // Every block of this block's list is at least `need`: for the default alignment its head is taken; an
          // over-aligned request is certain of a head only where every block of the list leaves room for the gap.
          if (align <= kG || Heap::Fit::list_floor(own) >= need + align + kMin) must_fit = true;
        }
        // An unbounded last list is walked, first fit, before a request is refused.
        if (Index::kLastListUnbounded && own == Index::kListCount - 1) must_fit = true;
      }
    });
    if (must_fit) return fail("a request was refused while a free block fits it", op);
    Result<void*> again = align == 0 ? heap.allocate(size) : heap.allocate(size, align);
    if (again) return fail("a refused request succeeded after flush_cache()", op);
    ++failures;
    return true;
  };

  // The slot an operation works on. Phases of 400 operations: fill the heap (allocations mostly), drain it (frees
  // mostly), churn; so that the cache fills while the heap is exhausted, and the request that follows fits only once
  // the cache gives way.
  auto pick_slot = [&](std::size_t op) -> Slot& {
    const std::size_t phase = op / 400 % 3;
    const std::size_t first = rng.range(0, kSlots - 1);
    const bool want_live = phase == 1;
    if (phase == 2 || rng.range(0, 9) < 3) return slots[first];
    for (std::size_t i = 0; i < kSlots; ++i) {
      Slot& s = slots[(first + i) % kSlots];
      if ((s.ptr != nullptr) == want_live) return s;
    }
    return slots[first];
  };
  // After a piece is taken back: none of its bytes is the heap's (owns(), whose one-compare test of the newest region
  // must have followed the removal). Then it is lent again and at once taken back again, so that each removal also
  // takes back the newest region, whose successor as the newest must count as touched all through: with a source whose
  // memory starts zero and a cache (allocate_zeroed's planned clear), blocks of kPlannedZeroingBytes are taken with
  // allocate_zeroed while the largest free block holds one (so until every region's room for one is taken, the new
  // newest region's included), each checked to be zero, then all freed. No draw of the generator.
  auto after_removal = [&](std::span<std::byte> bytes, std::size_t op) -> bool {
    if constexpr (Heap::Source::kAcceptsRegions) {
      if (!owns_none(heap, bytes.data(), bytes.size()))
        return fail("the heap owns a byte of a piece remove_region took back", op);
      if constexpr (kZeroed) std::fill(bytes.begin(), bytes.end(), std::byte{0});
      const HeapStats before = heap.stats();
      if (!heap.add_region(bytes)) return fail("add_region refused a piece taken back", op);
      if (!heap.validate()) return fail("validate() failed after a piece was lent again", op);
      if (!heap.remove_region(bytes)) return fail("remove_region refused the piece just lent again", op);
      if (ValidateResult v = heap.validate(); !v) {
        report.fault = v.error();
        return fail("validate() failed after remove_region", op);
      }
      if (heap.stats() != before) return fail("a piece lent again and taken back at once changed stats()", op);
      if (!owns_none(heap, bytes.data(), bytes.size()))
        return fail("the heap owns a byte of the newest region remove_region took back", op);
      ++report.regions_added;
      ++report.regions_removed;
      if constexpr (kZeroed && Heap::kCaching) {
        constexpr std::size_t kSize = Heap::kPlannedZeroingBytes;
        void* taken[128];
        std::size_t n = 0, bytes_taken = 0;
        while (n < std::size(taken) && heap.stats().largest_free_block >= kSize) {
          Result<void*> p = heap.allocate_zeroed(kSize);
          if (ValidateResult v = heap.validate(); !v) {
            report.fault = v.error();
            return fail("validate() failed after allocate_zeroed", op);
          }
          if (!p) return fail("allocate_zeroed refused a request the largest free block holds", op);
          taken[n++] = *p;
          ++allocations;
          bytes_taken += heap.usable_size(*p);
          peak = std::max(peak, in_use() + bytes_taken);
          const auto* const b = static_cast<const std::byte*>(*p);
          if (!std::all_of(b, b + kSize, [](std::byte x) { return x == std::byte{0}; })) {
            return fail("allocate_zeroed handed out a nonzero byte after remove_region", op);
          }
        }
        for (std::size_t i = 0; i < n; ++i) {
          heap.deallocate(taken[i]);
          ++frees;
          if (!heap.validate()) return fail("validate() failed after an allocate_zeroed block was freed", op);
        }
      }
    } else {
      static_cast<void>(bytes);
      static_cast<void>(op);
    }
    return true;
  };
  // Once `spare` is all handed out, the add_region step works on a lent piece, chosen by the operation's number (no
  // draw of the generator, so that the other steps draw what they drew before): a lent piece is taken back exactly
  // when no live block of the model lies in it (cached blocks count as free); then validate(), capacity down by what
  // add_region added and, when no cached block lay in it, free bytes and free blocks too with the cache untouched
  // (a cached block in it flushes the whole cache, which merges blocks elsewhere as well: no cached block is left);
  // its bytes are the caller's again and given a pattern. kInUse otherwise, with every stats() field as it was. A
  // piece taken back is lent again, its pattern intact, adding the same capacity, free bytes and blocks as at first.
  auto remove_or_lend_again = [&](std::size_t op) -> bool {
    if constexpr (Heap::Source::kAcceptsRegions) {
      if (piece_count == 0) return true;
      Piece& piece = pieces[op % piece_count];
      const std::span<std::byte> bytes = spare.subspan(piece.at, piece.length);
      const std::size_t tag = ~piece.at;  // the piece's pattern while the caller has it back
      const HeapStats before = heap.stats();
      if (!piece.lent) {
        if (!holds_pattern(bytes.data(), bytes.size(), tag)) {
          return fail("the heap wrote to a piece remove_region gave back", op);
        }
        if constexpr (kZeroed) std::fill(bytes.begin(), bytes.end(), std::byte{0});
        if (!heap.add_region(bytes)) return fail("add_region refused a piece taken back", op);
        const HeapStats after = heap.stats();
        if (after.capacity - before.capacity != piece.capacity ||
            after.bytes_free - before.bytes_free != piece.bytes_free ||
            after.free_blocks - before.free_blocks != piece.free_blocks) {
          return fail("a piece lent again added other capacity, free bytes or blocks than at first", op);
        }
        piece.lent = true;
        ++report.regions_added;
        return true;
      }
      const auto lo = reinterpret_cast<std::uintptr_t>(bytes.data());
      const std::uintptr_t hi = lo + bytes.size();
      bool occupied = false;
      for (const Slot& s : slots) {
        const auto at = reinterpret_cast<std::uintptr_t>(s.ptr);
        occupied = occupied || (s.ptr != nullptr && at >= lo && at < hi);
      }
      std::size_t cached_in_piece = 0;
      heap.walk([&](const BlockInfo& b) {
        const auto at = reinterpret_cast<std::uintptr_t>(b.payload);
        cached_in_piece += b.cached && at >= lo && at < hi ? 1 : 0;
      });
      const Result<void> removed = heap.remove_region(bytes);
      if (occupied) {
        if (removed) return fail("remove_region took back a piece a live block lies in", op);
        if (removed.error() != AllocError::kInUse) return fail("remove_region of a piece in use was not kInUse", op);
        if (heap.stats() != before) return fail("a refused remove_region changed stats()", op);
        ++report.removals_in_use;
        return true;
      }
      if (!removed) return fail("remove_region refused a piece no live block lies in", op);
      if (ValidateResult v = heap.validate(); !v) {
        report.fault = v.error();
        return fail("validate() failed after remove_region", op);
      }
      const HeapStats after = heap.stats();
      if (before.capacity - after.capacity != piece.capacity) {
        return fail("remove_region dropped other capacity than add_region added", op);
      }
      if (cached_in_piece == 0) {
        if (before.bytes_free - after.bytes_free != piece.bytes_free ||
            before.free_blocks - after.free_blocks != piece.free_blocks) {
          return fail("remove_region dropped other free bytes or blocks than add_region added", op);
        }
        if (after.cached_blocks != before.cached_blocks) {
          return fail("remove_region flushed a cache it had no need to", op);
        }
      } else if (after.cached_blocks != 0) {
        return fail("remove_region of a piece holding cached blocks left the cache unflushed", op);
      }
      if (after.live_allocations != before.live_allocations || after.bytes_in_use != before.bytes_in_use) {
        return fail("remove_region changed the live blocks", op);
      }
      if (!after_removal(bytes, op)) return false;
      fill(bytes.data(), bytes.size(), tag);
      piece.lent = false;
      ++report.regions_removed;
    } else {
      static_cast<void>(op);
    }
    return true;
  };
  // One operation; false when a check failed (report says which).
  auto step = [&](std::size_t op) -> bool {
    Slot& slot = pick_slot(op);
    const std::size_t action = rng.range(0, 999);
    if (action < 5) {
      heap.flush_cache();
      if (heap.stats().cached_blocks != 0) return fail("flush_cache() left cached blocks", op);
    } else if (action < 25) {
      if constexpr (Heap::Source::kAcceptsRegions) {
        if (spare_at >= spare.size()) {
          if (!remove_or_lend_again(op)) return false;
          return check_heap(op, op % options.contents_every == 0);
        }
        // A piece of the spare memory: sometimes too small for a block, sometimes overlapping the last piece.
        std::size_t at = spare_at;
        std::size_t piece = rng.range(0, 3) == 0 ? rng.range(0, 96) : rng.range(256, 96 * 1024);
        const bool overlap = added_end != 0 && rng.range(0, 5) == 0;
        if (overlap) at = added_end - 64, piece = std::max<std::size_t>(piece, 128);
        piece = std::min(piece, spare.size() - at);
        const HeapStats before = heap.stats();
        Result<void> added = heap.add_region(spare.subspan(at, piece));
        if (overlap) {
          if (added || added.error() != AllocError::kInvalidPointer) {
            return fail("add_region of an overlapping span was not kInvalidPointer", op);
          }
          return true;
        }
        spare_at = at + piece;
        if (added) {
          ++report.regions_added;
          added_end = spare_at;
          const HeapStats after = heap.stats();
          if (after.capacity <= before.capacity) return fail("add_region added no capacity", op);
          if (piece_count < kMaxPieces) {
            pieces[piece_count++] = Piece{at,
                                          piece,
                                          after.capacity - before.capacity,
                                          after.bytes_free - before.bytes_free,
                                          after.free_blocks - before.free_blocks,
                                          true};
          }
        } else if (added.error() != AllocError::kOutOfMemory || piece >= 256) {
          return fail("add_region refused a span that holds a block", op);
        }
      }
    } else if (slot.ptr == nullptr) {
      // allocate: a boundary size (sometimes a huge one) at the default alignment, or at a picked one.
      const std::size_t size = rng.range(0, 15) == 0 ? huge_size() : boundary_size();
      const std::size_t align = pick_align();
      // Through allocate(size), allocate(size, align) or allocate(Layout) (where the layout can be formed).
      const Result<Layout> layout = Layout::from(size, align == 0 ? alignof(std::max_align_t) : align);
      Result<void*> p = layout && rng.range(0, 3) == 0 ? heap.allocate(*layout)
                        : align == 0                   ? heap.allocate(size)
                                                       : heap.allocate(size, align);
      const bool bad_align = align > Heap::kMaxAlignment;
      const bool overflow =
          !bad_align && (block_for(size, align) == 0 || !align_up_checked(size, std::max<std::size_t>(align, 1)));
      if (bad_align || overflow) {
        if (p) return fail("a request past the overflow boundary was served", op);
        ++failures;
        if (p.error() != (bad_align ? AllocError::kInvalidLayout : AllocError::kSizeOverflow)) {
          return fail("an overflowing request failed with the wrong error", op);
        }
      } else if (!p) {
        if (p.error() != AllocError::kOutOfMemory) return fail("allocate failed with an unexpected error", op);
        ++failures;
        ++report.refused;
        if (!check_refusal(size, align, op)) return false;
      } else {
        slot = Slot{static_cast<std::byte*>(*p), 0, align, next_tag++};
        slot.usable = heap.usable_size(slot.ptr);
        if (slot.usable < size) return fail("usable_size is below the request", op);
        if (align != 0 && !is_aligned(slot.ptr, align)) return fail("allocate ignored the alignment", op);
        ++allocations;
        ++report.allocated;
        peak = std::max(peak, in_use());
        fill_slot(slot);
      }
    } else if (action < 450) {
      // reallocate around the block's own size, sometimes to a boundary size, a huge size or 0.
      const std::size_t old_usable = slot.usable;
      std::size_t size = 0;
      switch (rng.range(0, 7)) {
        case 0:
          size = huge_size();
          break;
        case 1:
          size = boundary_size();
          break;
        case 2:
          size = rng.range(0, 2 * kMin);
          break;
        default: {
          const std::size_t steps[] = {0, 1, kG - 1, kG, kG + 1, kMin - 1, kMin, kMin + 1, 2 * kMin, 8 * kG};
          const std::size_t by = steps[rng.range(0, 9)] + (rng.range(0, 3) == 0 ? old_usable / 32 : 0);
          size = rng.range(0, 1) != 0 ? old_usable + by : (old_usable > by ? old_usable - by : 0);
        }
      }
      // The block's own size and its successor's when that is free (not cached): where it must grow in place.
      std::size_t old_block = 0, successor_free = 0;
      bool after = false;
      heap.walk([&](const BlockInfo& b) {
        if (after) {
          // The next block walked, if it is in the same region (right after the block).
          if (!b.used && !b.cached && b.payload == slot.ptr + old_block) successor_free = b.size;
          after = false;
        } else if (b.payload == slot.ptr) {
          old_block = b.size;
          after = true;
        }
      });
      const std::size_t in_use_before = in_use();
      Result<void*> p = heap.reallocate(slot.ptr, size);
      const std::size_t need = block_for(size, slot.align > kG ? slot.align : 0);
      if (!p) {
        ++failures;
        if (p.error() != (need == 0 ? AllocError::kSizeOverflow : AllocError::kOutOfMemory)) {
          return fail("reallocate failed with an unexpected error", op);
        }
        if (need != 0) ++report.refused;
        if (need != 0 && need <= old_block + successor_free)
          return fail("reallocate refused a block that fits in place", op);
        if (!slot_intact(slot) || heap.usable_size(slot.ptr) != old_usable) {
          return fail("a failed reallocate changed the block", op);
        }
        if (need != 0 && need <= heap.stats().capacity) {
          // Refused: after a flush the same call must fail again (reallocate gives the cache way before it refuses).
          heap.flush_cache();
          if (heap.reallocate(slot.ptr, size)) return fail("a refused reallocate succeeded after flush_cache()", op);
          ++failures;
        }
        return true;
      }
      if (need == 0) return fail("an overflowing reallocate was served", op);
      auto* const q = static_cast<std::byte*>(*p);
      if (!holds_pattern(q, std::min(size, old_usable), slot.tag))
        return fail("reallocate lost the block's contents", op);
      if (need <= old_block + successor_free && q != slot.ptr)
        return fail("reallocate moved a block that fits in place", op);
      const std::size_t new_usable = heap.usable_size(q);
      if (new_usable < size) return fail("usable_size is below the reallocated size", op);
      if (slot.align > kG && !is_aligned(q, slot.align)) return fail("reallocate lost the alignment", op);
      if (q != slot.ptr) {
        ++allocations;
        ++frees;
        ++report.moved;
        peak = std::max(peak, in_use_before + new_usable);  // both blocks were live for a moment
      } else if (need > old_block) {
        ++report.grown_in_place;
      }
      slot.ptr = q;
      slot.usable = new_usable;
      slot.tag = next_tag++;
      peak = std::max(peak, in_use());
      fill_slot(slot);
    } else if (action < 500) {
      // try_deallocate of an interior pointer: refused, nothing changed. Below HardenedChecks only a misaligned one is
      // certain to be: payload bytes that read as a consistent block pass the O(1) check there (the README's limit).
      std::size_t offset = rng.range(1, slot.usable + 1);
      if (Heap::Check::kLevel < CheckLevel::kHardened && offset % kG == 0) offset -= 1;
      if (offset != 0 && offset < slot.usable && heap.try_deallocate(slot.ptr + offset)) {
        return fail("try_deallocate accepted an interior pointer", op);
      }
    } else {
      if (!slot_intact(slot)) return fail("a live block's contents changed before its free", op);
      const std::size_t cached_before = heap.stats().cached_blocks;
      const std::size_t how = rng.range(0, 2);
      if (how == 0) {
        heap.deallocate(slot.ptr);
      } else if (how == 1) {
        heap.deallocate(slot.ptr, *Layout::from(slot.usable, slot.align == 0 ? 1 : slot.align));
      } else if (!heap.try_deallocate(slot.ptr)) {
        return fail("try_deallocate refused a live block", op);
      }
      ++frees;
      slot = Slot{};
      if (heap.stats().cached_blocks > cached_before) ++report.cached_frees;
    }
    if (slot.ptr != nullptr && !slot_intact(slot)) return fail("the touched block's contents changed", op);
    return check_heap(op, op % options.contents_every == 0);
  };

  for (std::size_t op = 0; op < options.ops; ++op) {
    if (!step(op)) return report;
  }
  // Free everything: one free block per region, no cached block, every counter back to the model's.
  for (Slot& slot : slots) {
    if (slot.ptr == nullptr) continue;
    if (!slot_intact(slot)) {
      fail("a live block's contents changed", options.ops);
      return report;
    }
    heap.deallocate(slot.ptr);
    ++frees;
    slot = Slot{};
    if (!check_heap(options.ops, false)) return report;
  }
  heap.flush_cache();
  if (!check_heap(options.ops, false)) return report;
  for (std::size_t i = 0; i < piece_count; ++i) {
    if (!pieces[i].lent && !holds_pattern(spare.data() + pieces[i].at, pieces[i].length, ~pieces[i].at)) {
      fail("the heap wrote to a piece remove_region gave back", options.ops);
      return report;
    }
  }
  bool all_free = true;
  heap.walk([&all_free](const BlockInfo& b) { all_free = all_free && !b.used && !b.cached; });
  if (!all_free) fail("a block is not free after everything was freed and flushed", options.ops);
  // Recovery: the largest free block is obtainable whole (for SegregatedFit when it is the only one: its find probes
  // one head of the request's own list).
  const HeapStats end = heap.stats();
  if (report.ok() && (!kSegregated<Heap> || end.free_blocks == 1)) {
    Result<void*> whole = heap.allocate(end.largest_free_block);
    if (!whole) {
      fail("the largest free block could not be allocated after everything was freed", options.ops);
    } else {
      heap.deallocate(*whole);
      if (!heap.validate()) fail("validate() failed after the largest free block was freed", options.ops);
    }
  }
  return report;
}

}  // namespace nostd::testing
