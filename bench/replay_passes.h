// bench/replay_passes.h — replays a trace against one allocator: a throughput pass, a per-call latency pass and
// a sizing probe, all driven by one step function (`replay_step`), so that fit_compare's synthetic workloads and
// `//bench:replay`'s recorded traces go through the very same loop.
//
// Every pass runs the identical trace. Every allocated block gets its slot number written into its first word
// (its first bytes, for blocks under 8 bytes) and its last byte written; the first word is checked before the
// block is freed or reallocated, and after a reallocate (a mismatch aborts: an allocator that hands out
// overlapping blocks, or loses a block's contents when it moves it, must not produce a figure). An allocation
// that fails leaves its slot empty and is counted; the later free or reallocate of that slot is skipped. A
// reallocate that fails leaves the old block in its slot.
//
// Throughput pass: one steady_clock interval around the whole trace, checked every kChunk operations against a
// time cap; when the cap is hit the replay stops and reports the calls done. Latency pass: the TSC is read around
// each allocate and free call (bench/tsc_timer.h); bookkeeping for the fragmentation figures happens outside the
// timed regions.
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "bench/bench_allocator.h"
#include "bench/mapped_memory.h"
#include "bench/trace.h"
#include "bench/tsc_timer.h"

namespace nostd::bench {

/// A stored trace (kept out of malloc's heap).
using Trace = std::vector<Op, MmapAllocator<Op>>;

/// The most of an arena of `arena` bytes that a heap composition can reach replaying `ops`, rounded up to MiB: a heap
/// carves blocks from the low end of the free space that takes them, so the arena is used from its base up, and each
/// allocate or reallocate raises the highest block end by at most its request, its tags, the padding of its
/// alignment and a split's slack (SegregatedFit hands out up to 1/32 more; an eighth is allowed). For a long trace
/// this is the whole arena (its calls together ask for far more than the peak); a short trace with a huge request,
/// or any trace in an arena far larger than it needs (fit_compare's and replay's --arena), reaches a fraction of it.
/// The tools write only this part before timing, so that a replay does not fill memory no heap will touch; beyond it
/// a heap's first touch would cost a page fault.
inline std::size_t reachable_bytes(const Trace& ops, std::size_t arena) {
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  // The heaps' own start: region header, control blocks of the external rows, the first blocks. The end sentinel at
  // the arena's top lies past it: one page fault, in the first timed run only.
  std::size_t reach = 16 * kMiB;
  for (const Op& op : ops) {
    if (op.kind == OpKind::kFree) continue;
    const std::size_t align = op.align_log2 == 0 ? 16 : std::size_t{1} << op.align_log2;
    reach += std::size_t{op.size} + op.size / 8 + align + 64;
    if (reach >= arena) return arena;
  }
  return std::min((reach + kMiB - 1) & ~(kMiB - 1), arena);
}

/// What a slot holds during a replay.
struct Slot {
  void* ptr = nullptr;          ///< the block, or nullptr when empty
  std::uint32_t size = 0;       ///< its requested size
  std::uint8_t align_log2 = 0;  ///< its alignment (0: default), which some allocators need again to free it
};

/// The slot table of a replay (kept out of malloc's heap).
using SlotTable = std::vector<Slot, MmapAllocator<Slot>>;

/// Operations replayed between two looks at the clock (cap and progress checks).
inline constexpr std::size_t kChunk = 4096;

/// Shows on a terminal what is running, how far it got and the elapsed time; silent when disabled (stderr not a
/// terminal). Updates at most five times a second, so its cost inside a timed pass is negligible.
class Progress {
 public:
  /// `enabled`: whether to print at all; `start`: when the whole benchmark started (for the total elapsed time).
  Progress(bool enabled, std::chrono::steady_clock::time_point start) : enabled_(enabled), start_(start) {}

  /// Names the run that follows (`label`, e.g. "b  first/compact  rep 2/3") and its total operation count.
  void begin(const char* label, std::uint64_t total) {
    label_ = label;
    total_ = total;
    last_ = std::chrono::steady_clock::time_point{};
  }

  /// Reports `done` operations after `seconds` of this run.
  void update(std::uint64_t done, double seconds) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double total_s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r\033[K[%6.1f s] %s  %llu/%llu calls (%3.0f%%)  %.1f s", total_s, label_,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 100.0 * static_cast<double>(done) / static_cast<double>(total_ ? total_ : 1), seconds);
    std::fflush(stderr);
  }

  /// Clears the progress line.
  void clear() {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  const char* label_ = "";
  std::uint64_t total_ = 0;
};

/// Result of a throughput pass.
struct ThroughputRun {
  std::uint64_t calls = 0;   ///< operations replayed (all of the trace unless capped)
  double seconds = 0;        ///< wall time of those operations
  double cpu_seconds = 0;    ///< CPU time this thread spent on them (excludes time other processes ran)
  bool capped = false;       ///< the time cap stopped the replay early
  std::uint64_t failed = 0;  ///< allocations that returned nullptr
  /// Millions of calls per second.
  double mcalls_per_s() const { return seconds > 0 ? static_cast<double>(calls) / seconds / 1e6 : 0; }
  /// Millions of calls per CPU-second of this thread.
  double mcalls_per_cpu_s() const { return cpu_seconds > 0 ? static_cast<double>(calls) / cpu_seconds / 1e6 : 0; }
};

/// Percentiles of one kind of call in a latency pass, in TSC ticks.
struct LatencyTicks {
  std::uint64_t count = 0;  ///< calls timed
  std::uint64_t p50 = 0;    ///< median
  std::uint64_t p999 = 0;   ///< 99.9th percentile
  std::uint64_t max = 0;    ///< slowest call
};

/// Result of a latency (and fragmentation) pass.
struct DetailRun {
  std::uint64_t calls = 0;                     ///< operations replayed
  bool capped = false;                         ///< the time cap stopped the replay early
  std::uint64_t failed = 0;                    ///< allocations that returned nullptr
  LatencyTicks allocate;                       ///< per-call allocate latency
  LatencyTicks free;                           ///< per-call free latency
  std::uint64_t peak_live_bytes = 0;           ///< largest sum of live requested sizes
  std::optional<std::size_t> footprint;        ///< address space or memory the run occupied (see each adapter)
  bool reached_churn_end = false;              ///< the replay got to the start of the drain phase
  std::optional<FreeSpace> free_at_churn_end;  ///< free space when the drain began (arena allocators)
  std::optional<double> overhead_per_block;    ///< mean bytes per live block beyond its request, then
  std::uint64_t live_blocks_at_churn_end = 0;  ///< live blocks when the drain began
};

namespace internal {

/// CPU time consumed by the calling thread, in seconds (CLOCK_THREAD_CPUTIME_ID: nanosecond resolution on Linux;
/// it stops while the scheduler runs other processes, which wall time does not).
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Touches the block's last byte and writes the slot number into its first word (in that order: in an 8-byte
/// block the last byte is part of the first word); blocks under 8 bytes get the tag's first `size` bytes.
inline void fill_block(void* p, std::uint32_t slot, std::uint32_t size) {
  if (size == 0) [[unlikely]]
    return;
  static_cast<unsigned char*>(p)[size - 1] = static_cast<unsigned char>(~slot);
  const std::uint64_t tag = slot;
  if (size >= sizeof tag) [[likely]] {
    std::memcpy(p, &tag, sizeof tag);
  } else {
    std::memcpy(p, &tag, size);
  }
}

/// fill_block for a block of at least 8 bytes (a plain trace's).
inline void fill_word_block(void* p, std::uint32_t slot, std::uint32_t size) {
  static_cast<unsigned char*>(p)[size - 1] = static_cast<unsigned char>(~slot);
  const std::uint64_t tag = slot;
  std::memcpy(p, &tag, sizeof tag);
}

/// True when `trace` has no reallocate, no alignment above the default and no block under 8 bytes: replay_step's
/// plain variant replays it. O(operations), before any timing.
template <class Ops>
bool plain_trace(const Ops& trace) {
  return std::all_of(trace.begin(), trace.end(), [](const Op& op) {
    return op.kind == OpKind::kFree || (op.kind == OpKind::kAllocate && op.align_log2 == 0 && op.size >= 8);
  });
}

/// Aborts unless the block's first word (its first `size` bytes, if fewer) still holds its slot number.
inline void check_block(const void* p, std::uint32_t slot, std::uint32_t size) {
  std::uint64_t tag = 0;
  std::uint64_t want = slot;
  if (size >= sizeof tag) [[likely]] {
    std::memcpy(&tag, p, sizeof tag);
  } else {
    std::memcpy(&tag, p, size);
    want = size == 0 ? 0 : (want & ((std::uint64_t{1} << (8 * size)) - 1));
  }
  if (tag != want) [[unlikely]] {
    std::fprintf(stderr, "bench: block of slot %u at %p was overwritten (first word %llu)\n", slot, p,
                 static_cast<unsigned long long>(tag));
    std::abort();
  }
}

/// The alignment a slot's block was allocated with, in bytes (0: the default).
inline std::size_t slot_align(const Slot& s) { return s.align_log2 == 0 ? 0 : std::size_t{1} << s.align_log2; }

/// Frees whatever is still live after a capped replay (untimed).
template <BenchAllocator A>
void free_remaining(A& a, SlotTable& slots) {
  for (Slot& s : slots) {
    if (s.ptr != nullptr) a.free(s.ptr, s.size, slot_align(s));
    s = Slot{};
  }
}

/// Percentiles of `samples` (reordered).
inline LatencyTicks summarise(std::span<std::uint32_t> samples) {
  LatencyTicks t;
  t.count = samples.size();
  if (samples.empty()) return t;
  const std::size_t n = samples.size();
  auto at = [&](std::size_t k) {
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k), samples.end());
    return samples[k];
  };
  t.p50 = at((n - 1) / 2);
  t.p999 = at(static_cast<std::size_t>(static_cast<double>(n - 1) * 0.999));
  t.max = *std::max_element(samples.begin(), samples.end());
  return t;
}

}  // namespace internal

/// What a pass does around each allocator call: `Hooks` below for the passes that only count, the latency pass's
/// own for timing and bookkeeping. Every member is inlined into the loop; the empty ones cost nothing.
struct NoHooks {
  /// Before an allocator call: a token (a timestamp where timed).
  std::uint64_t begin() { return 0; }
  /// After an allocate or reallocate call that started at `token`.
  void allocated(std::uint64_t) {}
  /// After a free call that started at `token`.
  void freed(std::uint64_t) {}
  /// A block of `size` bytes was placed at `p` (allocate, or the new block of a reallocate).
  void placed(const void*, std::uint32_t) {}
  /// A block of `size` bytes left its slot (free, or the old block of a reallocate).
  void released(std::uint32_t) {}
};

/// Applies operation `op` of a trace to allocator `a` and the slot table, with the bookkeeping the file comment
/// describes. Returns false when an allocation or reallocation failed. The one loop body of every pass.
///
/// `kGeneral = false` is the same step for a *plain* trace (plain_trace: no reallocate, no alignment above the
/// default, no block under 8 bytes), as fit_compare's synthetic workloads are: the branches for those cases are
/// compiled out. With them the loop took about 10 more instructions per call than fit_compare's loop before the two
/// tools shared it (34 against 22 per allocate, 31 against 21 per free, in the disassembly of the glibc pass), which
/// is visible in the glibc row, where a call costs ~25 ns.
template <bool kGeneral = true, BenchAllocator A, class Hooks>
[[gnu::always_inline]] inline bool replay_step(A& a, Slot* table, const Op op, Hooks& hooks) {
  if (op.kind == OpKind::kAllocate) {
    const std::uint64_t t = hooks.begin();
    void* p = nullptr;
    if constexpr (kGeneral) {
      p = op.align_log2 == 0 ? a.allocate(op.size) : a.allocate_aligned(op.size, std::size_t{1} << op.align_log2);
    } else {
      p = a.allocate(op.size);
    }
    hooks.allocated(t);
    if (p == nullptr) [[unlikely]]
      return false;
    if constexpr (kGeneral) {
      internal::fill_block(p, op.slot, op.size);
    } else {
      internal::fill_word_block(p, op.slot, op.size);
    }
    table[op.slot] = Slot{p, op.size, op.align_log2};
    hooks.placed(p, op.size);
    return true;
  }
  const Slot s = table[op.slot];
  if (s.ptr == nullptr) [[unlikely]]
    return true;  // its allocation failed: nothing to free or resize
  if constexpr (kGeneral) {
    internal::check_block(s.ptr, op.slot, s.size);
  } else {
    internal::check_block(s.ptr, op.slot, sizeof(std::uint64_t));
  }
  if (!kGeneral || op.kind == OpKind::kFree) [[likely]] {
    const std::uint64_t t = hooks.begin();
    a.free(s.ptr, s.size, internal::slot_align(s));
    hooks.freed(t);
    table[op.slot].ptr = nullptr;
    hooks.released(s.size);
    return true;
  }
  const std::uint64_t t = hooks.begin();
  void* p = a.reallocate(s.ptr, s.size, op.size, internal::slot_align(s));
  hooks.allocated(t);
  if (p == nullptr) [[unlikely]]
    return false;
  internal::check_block(p, op.slot, std::min(s.size, op.size));
  internal::fill_block(p, op.slot, op.size);
  // As realloc, a reallocate promises only the default alignment: the slot's block is now of the default (the pmr pool
  // row frees it with that; it had been given the old block's, which chose another pool).
  table[op.slot] = Slot{p, op.size, 0};
  hooks.released(s.size);
  hooks.placed(p, op.size);
  return true;
}

/// Replays `trace` against a fresh `A` over `arena`, timing the whole replay. Stops after `cap_seconds`.
/// `slots` must have one empty entry per slot; it is left empty.
template <BenchAllocator A>
ThroughputRun replay_throughput(std::span<std::byte> arena, const Trace& trace, SlotTable& slots, double cap_seconds,
                                Progress& progress) {
  using Clock = std::chrono::steady_clock;
  A a(arena);
  ThroughputRun run;
  Slot* const table = slots.data();
  const Op* const ops = trace.data();
  const std::size_t n = trace.size();
  std::size_t i = 0;
  std::uint64_t failed = 0;
  const bool plain = internal::plain_trace(trace);
  // Operations [from, end) with the step variant kGeneral; returns the failed allocations. Everything the loop
  // touches is a local here, so that the index and the table stay in registers.
  auto replay_range = [&a, table, ops]<bool kGeneral>(std::size_t from, std::size_t end) {
    A& allocator = a;  // copies of the captures: the closure lives in memory, and the allocator calls would
    Slot* const slot_table = table;  // make the compiler reload its members on every operation
    const Op* const trace_ops = ops;
    NoHooks no_hooks;
    std::uint64_t failures = 0;
    for (std::size_t k = from; k < end; ++k) {
      if (!replay_step<kGeneral>(allocator, slot_table, trace_ops[k], no_hooks)) [[unlikely]]
        ++failures;
    }
    return failures;
  };
  const double cpu0 = internal::thread_cpu_seconds();
  const auto t0 = Clock::now();
  double seconds = 0;
  while (i < n) {
    const std::size_t end = std::min(n, i + kChunk);
    failed += plain ? replay_range.template operator()<false>(i, end) : replay_range.template operator()<true>(i, end);
    i = end;
    seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    progress.update(i, seconds);
    if (seconds > cap_seconds && i < n) {
      run.capped = true;
      break;
    }
  }
  run.cpu_seconds = internal::thread_cpu_seconds() - cpu0;
  run.calls = i;
  run.seconds = seconds;
  run.failed = failed;
  internal::free_remaining(a, slots);
  return run;
}

/// Latency samples of one pass (kept out of malloc's heap), reused across passes.
struct LatencyBuffers {
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> allocate;  ///< ticks per allocate (and reallocate) call
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> free;      ///< ticks per free call
};

/// Replays `trace` against a fresh `A` over `arena`, timing each call with the TSC, and records the fragmentation
/// figures: peak live bytes, the adapter's footprint, and just before operation `drain_begin` (the start of the
/// drain, or the peak of a recorded trace; == trace.size() means after the last operation) the free space and mean
/// per-block overhead. Reallocate calls count as allocate calls. Stops after `cap_seconds`.
template <BenchAllocator A>
DetailRun replay_detail(std::span<std::byte> arena, const Trace& trace, std::uint64_t drain_begin, SlotTable& slots,
                        double cap_seconds, Progress& progress, LatencyBuffers& buffers) {
  using Clock = std::chrono::steady_clock;
  A a(arena);
  DetailRun run;
  buffers.allocate.clear();
  buffers.free.clear();
  Slot* const table = slots.data();
  const std::size_t n = trace.size();

  // Timing and the footprint bookkeeping, outside the timed regions.
  struct DetailHooks {
    LatencyBuffers& buffers;
    DetailRun& run;
    std::uint64_t live_bytes = 0;
    std::uintptr_t lowest = UINTPTR_MAX;
    std::uintptr_t highest_end = 0;
    static std::uint32_t ticks32(std::uint64_t t) {
      return static_cast<std::uint32_t>(std::min<std::uint64_t>(t, UINT32_MAX));
    }
    std::uint64_t begin() { return tsc_begin(); }
    void allocated(std::uint64_t b) {
      const std::uint64_t e = tsc_end();
      buffers.allocate.push_back(ticks32(e - b));
    }
    void freed(std::uint64_t b) {
      const std::uint64_t e = tsc_end();
      buffers.free.push_back(ticks32(e - b));
    }
    void placed(const void* p, std::uint32_t size) {
      live_bytes += size;
      run.peak_live_bytes = std::max(run.peak_live_bytes, live_bytes);
      const auto addr = reinterpret_cast<std::uintptr_t>(p);
      lowest = std::min(lowest, addr);
      highest_end = std::max(highest_end, addr + size);
    }
    void released(std::uint32_t size) { live_bytes -= size; }
  } hooks{buffers, run};

  auto snapshot = [&] {
    run.reached_churn_end = true;
    if constexpr (HasFreeSpace<A>) run.free_at_churn_end = a.free_space();
    std::uint64_t live = 0;
    double overhead = 0;
    for (const Slot& s : slots) {
      if (s.ptr == nullptr) continue;
      ++live;
      if constexpr (HasBlockOverhead<A>) overhead += static_cast<double>(a.block_overhead(s.ptr, s.size));
    }
    run.live_blocks_at_churn_end = live;
    if constexpr (HasBlockOverhead<A>) {
      if (live > 0) run.overhead_per_block = overhead / static_cast<double>(live);
    }
  };

  std::size_t i = 0;
  const auto t0 = Clock::now();
  while (i < n) {
    const std::size_t end = std::min(n, i + kChunk);
    for (; i < end; ++i) {
      if (i == drain_begin) snapshot();
      if (!replay_step(a, table, trace[i], hooks)) ++run.failed;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    progress.update(i, seconds);
    if (seconds > cap_seconds && i < n) {
      run.capped = true;
      break;
    }
  }
  if (i == n && drain_begin == n) snapshot();
  run.calls = i;
  if constexpr (HasFootprint<A>) {
    if (hooks.highest_end > 0) run.footprint = a.footprint(hooks.lowest, hooks.highest_end);
  }
  run.allocate = internal::summarise(buffers.allocate);
  run.free = internal::summarise(buffers.free);
  internal::free_remaining(a, slots);
  return run;
}

/// How a sizing probe ended.
enum class Probe : std::uint8_t {
  kFits,    ///< the whole trace ran without a failed allocation
  kFailed,  ///< an allocation or reallocation failed (the probe stopped there)
  kCapped,  ///< the time cap stopped the probe before either
};

/// Replays `trace` against a fresh `A` over `arena` until the first failed allocation: does the trace fit in this
/// arena? Untimed; stops after `cap_seconds` of this thread's CPU time (not wall time: the sizing search runs
/// many probes, and on a loaded machine a wall-clock cap would stop probes that do little work). The sizing search
/// (bench/sizing.h) calls it repeatedly.
template <BenchAllocator A>
Probe replay_fits(std::span<std::byte> arena, const Trace& trace, SlotTable& slots, double cap_seconds) {
  A a(arena);
  NoHooks hooks;
  Slot* const table = slots.data();
  const std::size_t n = trace.size();
  const double t0 = internal::thread_cpu_seconds();
  Probe result = Probe::kFits;
  for (std::size_t i = 0; i < n && result == Probe::kFits;) {
    const std::size_t end = std::min(n, i + kChunk);
    for (; i < end; ++i) {
      if (!replay_step(a, table, trace[i], hooks)) {
        result = Probe::kFailed;
        break;
      }
    }
    if (result == Probe::kFits && i < n && internal::thread_cpu_seconds() - t0 > cap_seconds) {
      result = Probe::kCapped;
    }
  }
  internal::free_remaining(a, slots);
  return result;
}

}  // namespace nostd::bench
