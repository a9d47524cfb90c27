// tests/heap_stress.h — the seeded stress driver, framework-free: allocate, free and reallocate with
// log-distributed sizes, steering the heap towards a target fill level. Every live block carries a fill pattern
// that is checked before it is freed and after it is reallocated; validate() runs after every operation for the
// first `always_validate` operations and after every `validate_every`-th afterwards (a full walk per operation
// would make a million operations quadratic), each time with the identity stats().bytes_in_use == Σ usable_size
// over the live blocks (one allocation in ten is over-aligned, so alignment records are in play); at the end
// everything is freed and must coalesce into one block.
//
// Called by the GoogleTest suite (tests/heap_stress_test.cc, 1,000,000 operations per composition) and by the
// bare-metal check program (tests/heap_checks.cc, every composition of tests/heap_compositions.h), which cannot
// link GoogleTest. The driver never allocates: its slots live on the stack.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/alloc.h"
#include "tests/test_heap.h"

namespace nostd::testing {

/// How a stress run goes.
struct StressOptions {
  /// Heap calls (allocate, free, reallocate); picks skipped to hold the fill level do not count.
  std::size_t ops = 1'000'000;
  /// validate() after each of the first `always_validate` operations ...
  std::size_t always_validate = 20'000;
  /// ... and after every `validate_every`-th one afterwards.
  std::size_t validate_every = 1'000;
  /// The generator's seed: the same seed gives the same operations on every platform.
  std::uint64_t seed = 0x5EED;
  /// Request sizes are log-uniform in [2^min_size_log, 2^max_size_log).
  unsigned min_size_log = 4;
  unsigned max_size_log = 12;
  /// Aim at this share of the capacity in use, in percent: frequent reuse and splitting.
  std::size_t fill_percent = 60;
};

/// What a stress run saw. `failure` is null when every check held; otherwise it says what broke at operation `op`
/// (and `fault` is validate()'s report when validate() failed).
struct StressReport {
  const char* failure = nullptr;
  std::size_t op = 0;
  HeapFault fault{};
  std::size_t allocation_failures = 0;  ///< allocate / reallocate calls that returned kOutOfMemory
  std::size_t moved = 0;                ///< reallocate calls that moved the block
  HeapStats before_cleanup{};           ///< stats() after the last operation, before everything is freed
  HeapStats end{};                      ///< stats() after everything was freed
  /// True when every check held.
  bool ok() const noexcept { return failure == nullptr; }
};

/// Runs the stress workload on `heap`, which must start empty. `kSlots` is how many blocks can be live at once.
template <std::size_t kSlots = 512, class Heap>
StressReport run_stress(Heap& heap, const StressOptions& options) {
  struct Slot {
    void* ptr = nullptr;
    std::size_t size = 0;
    std::size_t tag = 0;
  };
  Slot slots[kSlots] = {};
  StressReport report;
  auto fail = [&report](const char* what, std::size_t op) {
    report.failure = what;
    report.op = op;
    return report;
  };
  auto validated = [&report, &heap]() {
    ValidateResult valid = heap.validate();
    if (!valid) report.fault = valid.error();
    return valid.has_value();
  };
  const std::size_t target = heap.stats().capacity * options.fill_percent / 100;
  SplitMix64 rng(options.seed);
  std::size_t live_bytes = 0, usable_live = 0, next_tag = 1;
  for (std::size_t op = 0; op < options.ops; ++op) {
    Slot& slot = slots[rng.range(0, kSlots - 1)];
    const std::size_t action = rng.range(0, 9);
    if (slot.ptr == nullptr && live_bytes > target && action < 7) {
      --op;  // over target: mostly let frees catch up
      continue;
    }
    if (slot.ptr == nullptr) {
      const std::size_t size = rng.log_size(options.min_size_log, options.max_size_log);
      // One allocation in ten over-aligned (64): its block carries an alignment record, which stats must not count.
      Result<void*> p = heap.allocate(size, action == 9 ? 64 : alignof(std::max_align_t));
      if (!p) {
        if (p.error() != AllocError::kOutOfMemory)
          return fail("allocate failed with an error other than out of memory", op);
        ++report.allocation_failures;
      } else {
        slot = Slot{*p, size, next_tag++};
        fill(slot.ptr, size, slot.tag);
        live_bytes += size;
        usable_live += heap.usable_size(slot.ptr);
      }
    } else if (action < 2) {
      const std::size_t size = rng.log_size(options.min_size_log, options.max_size_log);
      const std::size_t usable_before = heap.usable_size(slot.ptr);
      Result<void*> p = heap.reallocate(slot.ptr, size);
      if (!p) {
        if (p.error() != AllocError::kOutOfMemory)
          return fail("reallocate failed with an error other than out of memory", op);
        if (!holds_pattern(slot.ptr, slot.size, slot.tag)) return fail("a failed reallocate damaged the block", op);
        ++report.allocation_failures;
      } else {
        const std::size_t kept = size < slot.size ? size : slot.size;
        if (!holds_pattern(*p, kept, slot.tag)) return fail("reallocate lost the block's contents", op);
        report.moved += *p != slot.ptr ? 1 : 0;
        live_bytes = live_bytes - slot.size + size;
        usable_live = usable_live - usable_before + heap.usable_size(*p);
        slot.ptr = *p;
        slot.size = size;
        fill(slot.ptr, size, slot.tag);
      }
    } else {
      if (!holds_pattern(slot.ptr, slot.size, slot.tag)) return fail("a live block was overwritten", op);
      usable_live -= heap.usable_size(slot.ptr);
      heap.deallocate(slot.ptr);
      live_bytes -= slot.size;
      slot = Slot{};
    }
    if (op < options.always_validate || op % options.validate_every == 0) {
      if (!validated()) return fail("validate() failed", op);
      const HeapStats s = heap.stats();
      if (s.bytes_in_use != usable_live) return fail("stats().bytes_in_use is not the sum of usable sizes", op);
      if (s.peak_bytes_in_use < usable_live) return fail("stats().peak_bytes_in_use is below the bytes in use", op);
    }
  }
  report.before_cleanup = heap.stats();
  const HeapStats& mid = report.before_cleanup;
  // Roughly 40% of the calls allocate (the rest free or reallocate); a quarter is a safe lower bound.
  if (mid.total_allocations + report.allocation_failures <= options.ops / 4) {
    return fail("fewer allocations than a quarter of the operations", options.ops);
  }
  if (options.ops >= 10'000 && report.moved == 0) return fail("no reallocate moved a block", options.ops);
  if (mid.failed_allocations != report.allocation_failures) {
    return fail("stats().failed_allocations disagrees with the failures seen", options.ops);
  }
  for (Slot& slot : slots) {
    if (slot.ptr == nullptr) continue;
    if (!holds_pattern(slot.ptr, slot.size, slot.tag)) return fail("a live block was overwritten", options.ops);
    heap.deallocate(slot.ptr);
    slot = Slot{};
    if (!validated()) return fail("validate() failed while freeing everything", options.ops);
  }
  heap.flush_cache();  // a cache policy keeps small freed blocks unmerged until flushed (no-op without one)
  if (!validated()) return fail("validate() failed after flush_cache()", options.ops);
  report.end = heap.stats();
  if (report.end.live_allocations != 0) return fail("blocks still live after freeing everything", options.ops);
  if (report.end.free_blocks != 1) return fail("the free memory did not coalesce into one block", options.ops);
  if (report.end.total_allocations != report.end.total_frees) return fail("allocations and frees differ", options.ops);
  if (report.end.largest_free_block != report.end.bytes_free) {
    return fail("the largest free block is not all the free memory", options.ops);
  }
  return report;
}

}  // namespace nostd::testing
