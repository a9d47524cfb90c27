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
/// expectation (a failed validate(), a damaged payload, an unexpected error), true when all held.
template <class Heap>
bool run_fuzz_input(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kSlots = 32;
  struct Slot {
    void* ptr = nullptr;
    std::size_t size = 0;
  };
  auto owner = std::make_unique<TestHeap<Heap, 16 * 1024>>();
  Heap& heap = owner->heap();
  Slot slots[kSlots] = {};
  std::size_t pos = 0;
  auto byte = [&]() -> std::size_t { return pos < size ? data[pos++] : 0; };
  while (pos < size) {
    const std::size_t op = byte();
    Slot& slot = slots[byte() % kSlots];
    const std::size_t tag = static_cast<std::size_t>(&slot - slots);
    // Sizes: two bytes, up to 64 KiB (beyond the heap; random bytes rarely give the small sizes, the fuzzer's
    // mutations often do), sometimes near SIZE_MAX.
    std::size_t request = byte() | (byte() << 8);
    if ((op & 0xF0) == 0xF0) request = static_cast<std::size_t>(-1) - byte();
    switch (op % 5) {
      case 0:
      case 1: {  // allocate, with an alignment from 1 to 4096 for op 1
        if (slot.ptr != nullptr) break;
        const std::size_t align = op % 5 == 1 ? std::size_t{1} << (byte() % 13) : alignof(std::max_align_t);
        Result<void*> p = heap.allocate(request, align);
        if (p) {
          if (!is_aligned(*p, align) || heap.usable_size(*p) < request) return false;
          slot = Slot{*p, request};
          fill(slot.ptr, request, tag);
        } else if (p.error() != AllocError::kOutOfMemory && p.error() != AllocError::kSizeOverflow) {
          return false;
        }
        break;
      }
      case 2:  // free
        if (slot.ptr == nullptr) break;
        if (!holds_pattern(slot.ptr, slot.size, tag)) return false;
        heap.deallocate(slot.ptr);
        slot = Slot{};
        break;
      case 3: {  // reallocate
        if (slot.ptr == nullptr) break;
        Result<void*> p = heap.reallocate(slot.ptr, request);
        if (!p) {
          if (!holds_pattern(slot.ptr, slot.size, tag)) return false;
          break;
        }
        if (!holds_pattern(*p, request < slot.size ? request : slot.size, tag)) return false;
        slot = Slot{*p, request};
        fill(slot.ptr, request, tag);
        break;
      }
      case 4: {  // try_deallocate of an interior or stale pointer must be refused without damage
        if (slot.ptr == nullptr) break;
        const std::size_t offset = 1 + request % (slot.size + 1);
        if (offset < slot.size && heap.try_deallocate(static_cast<std::byte*>(slot.ptr) + offset)) return false;
        break;
      }
    }
    if (!heap.validate()) return false;
    // stats().bytes_in_use is Σ usable_size over the live blocks (over-aligned ones included).
    std::size_t usable = 0;
    for (const Slot& live : slots) usable += live.ptr != nullptr ? heap.usable_size(live.ptr) : 0;
    if (heap.stats().bytes_in_use != usable) return false;
  }
  for (Slot& slot : slots) {
    if (slot.ptr == nullptr) continue;
    if (!holds_pattern(slot.ptr, slot.size, static_cast<std::size_t>(&slot - slots))) return false;
    heap.deallocate(slot.ptr);
    if (!heap.validate()) return false;
  }
  heap.flush_cache();  // a cache policy keeps small freed blocks unmerged until flushed (no-op without one)
  if (!heap.validate()) return false;
  return heap.stats().free_blocks == 1 && heap.stats().live_allocations == 0;
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
