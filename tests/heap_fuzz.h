// tests/heap_fuzz.h — decodes a byte string into heap requests (allocate, aligned allocate, free, reallocate,
// try_deallocate of bad pointers) and runs them with validate() after each; shared by the seeded replay test
// (every platform with GoogleTest), the bare-metal check program (tests/heap_checks.cc) and the libFuzzer target
// (host, --config=fuzz). Framework-free: results are return values, never assertions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "alloc/alloc.h"
#include "tests/test_heap.h"

namespace nostd::testing {

/// Runs the requests encoded in `data` against a fresh heap of type `Heap`. Returns false at the first broken
/// expectation (a failed validate(), a damaged payload, an unexpected error, a stats() counter that disagrees with
/// the live blocks), true when all held.
///
/// Each request is an operation byte, a slot byte and two size bytes (a few requests read one or two bytes more). The
/// operation byte modulo 5 picks the kind; the same byte divided by 5 picks a variant, so that every entry point is
/// reached: `allocate(size)` (the default alignment's own path) or `allocate(size, align)`; `deallocate(ptr)`,
/// `deallocate(ptr, layout)`, a free followed by `flush_cache()`, or `try_deallocate(ptr)` twice (the second must be
/// refused); `reallocate`; and a bad pointer for `try_deallocate`, `add_region` of a piece of a spare buffer (too
/// small ones refused, an overlap with a region refused, the span untouched either way) or `flush_cache()`. Where
/// the slot is empty, the second bad-pointer variant (which found no block to point into) is `remove_region` of a
/// piece lent so far, or of a bad span near one (then a neighbour lent back to back with a lent piece, the spans
/// reaching from one into the other refused, and the neighbour taken back), or the piece lent again: a request that
/// did nothing before remove_region, so that inputs written before it decode and run as they did up to their first
/// such request.
template <class Heap>
bool run_fuzz_input(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kSlots = 32;
  constexpr std::size_t kSpareBytes = 8 * 1024;
  struct Slot {
    void* ptr = nullptr;
    std::size_t size = 0;
    std::size_t align = 0;
  };
  // The spare buffer's pieces become regions of the heap, so it is declared first and outlives the heap.
  struct Owner {
    alignas(64) std::byte spare[kSpareBytes];
    TestHeap<Heap, 16 * 1024> test_heap;
  };
  auto owner = std::make_unique<Owner>();
  Heap& heap = owner->test_heap.heap();
  fill(owner->spare, kSpareBytes, kSlots);  // a refused region must leave these bytes as they are
  std::size_t spare_used = 0;               // pieces are carved upwards: [0, spare_used) may be regions
  std::size_t regions = 1;  // the regions the heap has, each one free block once everything is freed and flushed
  // The pieces lent so far, in the order add_region took them (the last is the one an overlapping request aims at):
  // where each lies in the spare buffer, the capacity it added, and whether it is a region now (remove_region may
  // have taken it back, and the remove request may lend it again).
  struct Piece {
    std::size_t at = 0;
    std::size_t length = 0;
    std::size_t gained = 0;
    bool lent = false;
  };
  constexpr std::size_t kMaxPieces = kSpareBytes / (Heap::kRegionOverhead + Heap::kMinBlockSize) + 1;
  Piece pieces[kMaxPieces] = {};
  std::size_t piece_count = 0;
  Slot slots[kSlots] = {};
  std::size_t pos = 0;
  auto byte = [&]() -> std::size_t { return pos < size ? data[pos++] : 0; };
  // Whether a live block lies in [lo, hi).
  [[maybe_unused]] auto live_in = [&](const std::byte* lo, const std::byte* hi) {
    bool in_use = false;
    for (const Slot& block : slots) in_use = in_use || (block.ptr != nullptr && block.ptr >= lo && block.ptr < hi);
    return in_use;
  };
  // Pieces are carved at random gaps, so that two lie back to back with the first one's region ending where the second
  // one's span starts (a granule boundary) about once in a thousand lends: the case where remove_region must look at
  // the bytes a span's layout leaves unused. This lends one such neighbour on purpose: a region whose span starts at
  // the granule boundary where piece `index`'s region ends (the piece's tail under a granule is bytes its region
  // leaves unused: the piece could as well have been lent up to there), up to kNeighbourBytes or the next lent piece.
  // Each span reaching one byte into the other region is refused with kInvalidPointer and nothing changed: the
  // neighbour from the byte before it (the piece's end sentinel), and the piece up to the neighbour header's first
  // byte (kInUse instead while a live block lies in the piece). The neighbour, the newest region, is then taken back:
  // stats() as before it was lent, none of its bytes the heap's, and its bytes given the spare buffer's pattern again.
  [[maybe_unused]] auto lend_neighbour = [&](auto& h, std::size_t index) -> bool {
    constexpr std::size_t kNeighbourBytes = 256;
    const Piece& piece = pieces[index];
    std::byte* const lo = owner->spare + piece.at;
    const auto end = reinterpret_cast<std::uintptr_t>(lo) + piece.length;
    const std::size_t from = piece.at + piece.length - (end - align_down(end, Heap::kGranule));
    std::size_t limit = kSpareBytes;  // the start of the next lent piece
    for (std::size_t i = index + 1; i < piece_count && limit == kSpareBytes; ++i) {
      if (pieces[i].lent) limit = pieces[i].at;
    }
    const std::size_t length = std::min(limit - from, kNeighbourBytes);
    if (length < Heap::kRegionOverhead + Heap::kMinBlockSize) return true;  // no room before the next lent piece
    std::byte* const at = owner->spare + from;
    const HeapStats before = h.stats();
    if (!h.add_region(std::span<std::byte>(at, length)) || !h.validate()) return false;
    const HeapStats lent = h.stats();
    const Result<void> into_piece = h.remove_region(std::span<std::byte>(at - 1, length + 1));
    if (into_piece || into_piece.error() != AllocError::kInvalidPointer || !h.validate() || h.stats() != lent) {
      return false;
    }
    const AllocError expected = live_in(lo, lo + piece.length) ? AllocError::kInUse : AllocError::kInvalidPointer;
    const Result<void> into_neighbour =
        h.remove_region(std::span<std::byte>(lo, std::max(piece.length, from + 1 - piece.at)));
    if (into_neighbour || into_neighbour.error() != expected || !h.validate() || h.stats() != lent) return false;
    if (!h.remove_region(std::span<std::byte>(at, length)) || !h.validate() || h.stats() != before) return false;
    if (!owns_none(h, at, length)) return false;
    for (std::size_t i = from; i < from + length; ++i) owner->spare[i] = pattern_byte(kSlots, i);
    return true;
  };
  // remove_region of piece `index` (kinds 0 to 3), or of a bad span that must be refused with kInvalidPointer and
  // nothing changed (4 to 7). A lent piece is taken back exactly when no live block lies in it (kInUse otherwise,
  // unchanged; cached blocks count as free), and stats().capacity drops by what add_region added; its bytes are then
  // the caller's again (given the spare buffer's pattern, which must still be there when the piece is lent again).
  // Kinds 0 to 3 lend a piece taken back before again, which must add the same capacity. Kind 4 is a piece taken back
  // before, or a lent piece that starts at a granule boundary with the byte before it: the same region (add_region
  // rounds the header's address up to the same place), unless that byte lies in the previous piece's region, which
  // ends at its last granule boundary, so exactly when the two pieces are back to back (README's remove_region row);
  // other lent pieces go on as kind 5. The bad spans of kinds 5 to 7: the piece extended to the next granule boundary
  // past its end (one byte when that is where it lies: a shorter extension within its tail's granule is the same
  // piece); its inner part from a granule and a byte past its start (no region header there); and the piece less its
  // last granule. After a bad span of a lent piece, lend_neighbour lends a region back to back with it.
  // A successful removal leaves no byte of the piece the heap's (owns(), whose one-compare test of the newest region
  // must have followed the removal).
  // Generic in the heap, so that its body is compiled only where the source takes regions (remove_region exists).
  [[maybe_unused]] auto remove_piece = [&](auto& h, std::size_t index, std::size_t kind) -> bool {
    Piece& piece = pieces[index];
    std::byte* const lo = owner->spare + piece.at;
    std::byte* const hi = lo + piece.length;
    const HeapStats before = h.stats();
    auto unchanged = [&] { return h.stats() == before; };
    if (kind < 4 && !piece.lent) {  // lend it again
      for (std::size_t i = piece.at; i < piece.at + piece.length; ++i) {
        if (owner->spare[i] != pattern_byte(kSlots, i)) return false;  // the heap wrote to memory it gave back
      }
      if (!h.add_region(std::span<std::byte>(lo, piece.length))) return false;
      if (h.stats().capacity - before.capacity != piece.gained) return false;
      piece.lent = true;
      ++regions;
      return true;
    }
    const bool at_granule = reinterpret_cast<std::uintptr_t>(lo) % Heap::kGranule == 0;
    if (kind < 4 || (kind == 4 && piece.lent && piece.at > 0 && at_granule)) {
      const std::size_t widen = kind == 4 ? 1 : 0;
      const Piece* const prev = index > 0 ? &pieces[index - 1] : nullptr;
      const bool into_prev = widen != 0 && prev != nullptr && prev->lent && prev->at + prev->length == piece.at;
      const bool in_use = live_in(lo, hi);
      const Result<void> removed = h.remove_region(std::span<std::byte>(lo - widen, piece.length + widen));
      if (into_prev) {
        return !removed && removed.error() == AllocError::kInvalidPointer && h.validate() && unchanged();
      }
      if (in_use) return !removed && removed.error() == AllocError::kInUse && h.validate() && unchanged();
      if (!removed || !h.validate()) return false;
      if (before.capacity - h.stats().capacity != piece.gained || !owns_none(h, lo, piece.length)) return false;
      for (std::size_t i = piece.at; i < piece.at + piece.length; ++i) owner->spare[i] = pattern_byte(kSlots, i);
      piece.lent = false;
      --regions;
      return true;
    }
    std::span<std::byte> bad;
    const auto end = reinterpret_cast<std::uintptr_t>(hi);
    const std::size_t extended = align_down(end, Heap::kGranule) + Heap::kGranule - end;
    if (kind == 4 && !piece.lent) {
      bad = std::span<std::byte>(lo, piece.length);
    } else if (kind <= 5) {
      if (piece.at + piece.length + extended > kSpareBytes) return true;
      bad = std::span<std::byte>(lo, piece.length + extended);
    } else if (kind == 6) {
      bad = std::span<std::byte>(lo + Heap::kGranule + 1, piece.length - Heap::kGranule - 1);
    } else {
      bad = std::span<std::byte>(lo, piece.length - Heap::kGranule);
    }
    const Result<void> refused = h.remove_region(bad);
    if (refused || refused.error() != AllocError::kInvalidPointer || !h.validate() || !unchanged()) return false;
    return !piece.lent || lend_neighbour(h, index);
  };
  while (pos < size) {
    const std::size_t op = byte();
    const std::size_t variant = (op / 5) % 4;
    Slot& slot = slots[byte() % kSlots];
    const std::size_t tag = static_cast<std::size_t>(&slot - slots);
    // Sizes: two bytes, up to 64 KiB (beyond the heap; random bytes rarely give the small sizes, the fuzzer's
    // mutations often do), sometimes near SIZE_MAX.
    std::size_t request = byte() | (byte() << 8);
    if ((op & 0xF0) == 0xF0) request = static_cast<std::size_t>(-1) - byte();
    switch (op % 5) {
      case 0:
      case 1: {  // allocate: op 0 with the default alignment (its own entry point for even variants), op 1 from 1 to
                 // 4096
        if (slot.ptr != nullptr) break;
        const std::size_t align = op % 5 == 1 ? std::size_t{1} << (byte() % 13) : Heap::kDefaultAlignment;
        Result<void*> p = op % 5 == 0 && variant % 2 == 0 ? heap.allocate(request) : heap.allocate(request, align);
        if (p) {
          if (!is_aligned(*p, align) || heap.usable_size(*p) < request) return false;
          slot = Slot{*p, request, align};
          fill(slot.ptr, request, tag);
        } else if (p.error() != AllocError::kOutOfMemory && p.error() != AllocError::kSizeOverflow) {
          return false;
        }
        break;
      }
      case 2: {  // free, four ways
        if (slot.ptr == nullptr) break;
        if (!holds_pattern(slot.ptr, slot.size, tag)) return false;
        if (variant == 0) {
          heap.deallocate(slot.ptr);
        } else if (variant == 1) {
          heap.deallocate(slot.ptr, *Layout::from(slot.size, slot.align));  // the layout it was allocated with
        } else if (variant == 2) {
          heap.deallocate(slot.ptr);
          heap.flush_cache();
        } else {
          // try_deallocate checks at every level: the live block is freed, and the same pointer again is refused
          // (kDoubleFree, or kInvalidPointer where the freed block merged into its predecessor) with nothing changed.
          if (!heap.try_deallocate(slot.ptr)) return false;
          if (!heap.validate()) return false;
          const HeapStats before = heap.stats();
          if (heap.try_deallocate(slot.ptr)) return false;
          const HeapStats after = heap.stats();
          if (after.total_frees != before.total_frees || after.free_blocks != before.free_blocks ||
              after.bytes_free != before.bytes_free) {
            return false;
          }
        }
        slot = Slot{};
        break;
      }
      case 3: {  // reallocate
        if (slot.ptr == nullptr) break;
        Result<void*> p = heap.reallocate(slot.ptr, request);
        if (!p) {
          if (!holds_pattern(slot.ptr, slot.size, tag)) return false;
          break;
        }
        if (!is_aligned(*p, slot.align)) return false;  // reallocate keeps the block's alignment
        if (!holds_pattern(*p, request < slot.size ? request : slot.size, tag)) return false;
        slot = Slot{*p, request, slot.align};
        fill(slot.ptr, request, tag);
        break;
      }
      case 4:
        if (variant == 2) {  // add_region of the spare buffer's next piece: a gap, then 1 to 4,096 bytes
          if constexpr (Heap::Source::kAcceptsRegions) {
            const bool overlap = (request & 0x8000) != 0 && piece_count > 0 && pieces[piece_count - 1].lent;
            const std::size_t last_piece = piece_count > 0 ? pieces[piece_count - 1].at : 0;
            // An overlapping piece starts 8 to 39 bytes into the last piece added: past its region header's start
            // (8-byte aligned) and before its end (a region holds its header and a minimum block).
            const std::size_t at = overlap ? last_piece + 8 + byte() % 32 : spare_used + byte() % 64;
            const std::size_t length = 1 + request % 4096;
            if (at + length > kSpareBytes) break;
            std::byte* const piece = owner->spare + at;
            const HeapStats before = heap.stats();
            const Result<void> added = heap.add_region(std::span<std::byte>(piece, length));
            const std::uintptr_t lo = align_up(reinterpret_cast<std::uintptr_t>(piece), Heap::kGranule);
            const std::uintptr_t hi = align_down(reinterpret_cast<std::uintptr_t>(piece) + length, Heap::kGranule);
            const std::size_t inner = hi > lo ? hi - lo : 0;
            if (overlap) {
              // Refused as an overlap, whatever its size.
              if (added || added.error() != AllocError::kInvalidPointer) return false;
            } else if (!added) {
              if (added.error() != AllocError::kOutOfMemory || inner >= Heap::kRegionOverhead + Heap::kMinBlockSize) {
                return false;
              }
            } else {
              // At least one minimum block, at least the granule-aligned inner part less kRegionOverhead, and less
              // than the span less kRegionOverhead plus a granule (the header's own rounding can take part of a
              // misalignment, as in //tests:region_source_test).
              const std::size_t gained = heap.stats().capacity - before.capacity;
              if (gained < Heap::kMinBlockSize || gained + Heap::kRegionOverhead < inner ||
                  gained + Heap::kRegionOverhead >= length + Heap::kGranule) {
                return false;
              }
              if (piece_count == kMaxPieces) return false;  // more regions than minimum pieces fit in the buffer
              pieces[piece_count++] = Piece{at, length, gained, true};
              ++regions;
              spare_used = at + length;
            }
            if (!added) {  // a refused span is not touched: the buffer past the regions still holds its pattern
              for (std::size_t i = spare_used; i < kSpareBytes; ++i) {
                if (owner->spare[i] != pattern_byte(kSlots, i)) return false;
              }
            }
          }
        } else if (variant == 3) {
          heap.flush_cache();
        } else if (variant == 1 && slot.ptr == nullptr) {
          if constexpr (Heap::Source::kAcceptsRegions) {
            if (piece_count == 0) break;
            if (!remove_piece(heap, (request & 0xFF) % piece_count, (request >> 8) % 8)) return false;
          }
        } else {  // try_deallocate of an interior pointer must be refused without damage
          if (slot.ptr == nullptr) break;
          const std::size_t offset = 1 + request % (slot.size + 1);
          if (offset < slot.size && heap.try_deallocate(static_cast<std::byte*>(slot.ptr) + offset)) return false;
        }
        break;
    }
    if (!heap.validate()) return false;
    // stats() against the live blocks: bytes_in_use is their usable sizes (over-aligned ones included), the counters
    // agree with each other, and the byte counts add up to the capacity without wrapping.
    std::size_t usable = 0;
    std::size_t live = 0;
    for (const Slot& block : slots) {
      if (block.ptr == nullptr) continue;
      usable += heap.usable_size(block.ptr);
      ++live;
    }
    const HeapStats s = heap.stats();
    if (s.bytes_in_use != usable || s.live_allocations != live || s.total_allocations - s.total_frees != live) {
      return false;
    }
    if (s.bytes_in_use > s.capacity || s.bytes_free > s.capacity - s.bytes_in_use ||
        s.largest_free_block > s.bytes_free || s.bytes_in_use + s.bytes_free + s.overhead_bytes != s.capacity ||
        s.peak_bytes_in_use < s.bytes_in_use) {
      return false;
    }
  }
  for (Slot& slot : slots) {
    if (slot.ptr == nullptr) continue;
    if (!holds_pattern(slot.ptr, slot.size, static_cast<std::size_t>(&slot - slots))) return false;
    heap.deallocate(slot.ptr);
    if (!heap.validate()) return false;
  }
  for (std::size_t p = 0; p < piece_count; ++p) {  // what remove_region gave back was not written to since
    if (pieces[p].lent) continue;
    for (std::size_t i = pieces[p].at; i < pieces[p].at + pieces[p].length; ++i) {
      if (owner->spare[i] != pattern_byte(kSlots, i)) return false;
    }
  }
  heap.flush_cache();  // a cache policy keeps small freed blocks unmerged until flushed (no-op without one)
  if (!heap.validate()) return false;
  return heap.stats().free_blocks == regions && heap.stats().live_allocations == 0;
}

/// The first failing round of a seeded replay (-1: none failed).
struct FuzzReplayReport {
  int failed_round = -1;
  int rounds = 0;
  /// True when every input kept the heap sound.
  bool ok() const noexcept { return failed_round < 0; }
};

/// Replays `rounds` random byte strings (0 to 400 bytes, from SplitMix64 seeded with `seed`) through
/// run_fuzz_input on fresh heaps of type `Heap`; stops at the first failing round.
template <class Heap>
FuzzReplayReport replay_seeded_inputs(std::uint64_t seed, int rounds) {
  SplitMix64 rng(seed);
  std::uint8_t input[400];
  FuzzReplayReport report;
  for (int round = 0; round < rounds; ++round) {
    const std::size_t size = rng.range(0, sizeof input);
    for (std::size_t i = 0; i < size; ++i) input[i] = static_cast<std::uint8_t>(rng.next());
    report.rounds = round + 1;
    if (!run_fuzz_input<Heap>(input, size)) {
      report.failed_round = round;
      break;
    }
  }
  return report;
}

}  // namespace nostd::testing
