// bench/replay.h — replays a trace against one allocator: a throughput pass and a per-call latency pass.
//
// Both passes run the identical trace. Every allocated block gets its slot number written into its first word
// and its last byte written; the first word is checked before the block is freed (a mismatch aborts: an allocator
// that hands out overlapping blocks must not produce a figure). An allocation that fails leaves its slot empty
// and is counted; the later free of that slot is skipped.
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

/// What a slot holds during a replay.
struct Slot {
  void* ptr = nullptr;     ///< the block, or nullptr when empty
  std::uint32_t size = 0;  ///< its requested size
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
/// block the last byte is part of the first word).
inline void fill_block(void* p, std::uint32_t slot, std::uint32_t size) {
  static_cast<unsigned char*>(p)[size - 1] = static_cast<unsigned char>(~slot);
  const std::uint64_t tag = slot;
  std::memcpy(p, &tag, sizeof tag);
}

/// Aborts unless the block's first word still holds its slot number.
inline void check_block(const void* p, std::uint32_t slot) {
  std::uint64_t tag = 0;
  std::memcpy(&tag, p, sizeof tag);
  if (tag != slot) [[unlikely]] {
    std::fprintf(stderr, "bench: block of slot %u at %p was overwritten (first word %llu)\n", slot, p,
                 static_cast<unsigned long long>(tag));
    std::abort();
  }
}

/// Frees whatever is still live after a capped replay (untimed).
template <BenchAllocator A>
void free_remaining(A& a, SlotTable& slots) {
  for (Slot& s : slots) {
    if (s.ptr != nullptr) a.free(s.ptr, s.size);
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
  const double cpu0 = internal::thread_cpu_seconds();
  const auto t0 = Clock::now();
  double seconds = 0;
  while (i < n) {
    const std::size_t end = std::min(n, i + kChunk);
    for (; i < end; ++i) {
      const Op op = ops[i];
      if (op.kind == OpKind::kAllocate) {
        void* p = a.allocate(op.size);
        if (p == nullptr) [[unlikely]] {
          ++failed;
          continue;
        }
        internal::fill_block(p, op.slot, op.size);
        table[op.slot] = Slot{p, op.size};
      } else {
        const Slot s = table[op.slot];
        if (s.ptr == nullptr) [[unlikely]]
          continue;
        internal::check_block(s.ptr, op.slot);
        a.free(s.ptr, s.size);
        table[op.slot].ptr = nullptr;
      }
    }
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
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> allocate;  ///< ticks per allocate call
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> free;      ///< ticks per free call
};

/// Replays `trace` against a fresh `A` over `arena`, timing each call with the TSC, and records the fragmentation
/// figures: peak live bytes, the adapter's footprint, and at the start of the drain (index `drain_begin`) the
/// free space and mean per-block overhead. Stops after `cap_seconds`.
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
  std::uint64_t live_bytes = 0;
  std::uintptr_t lowest = UINTPTR_MAX;
  std::uintptr_t highest_end = 0;
  auto ticks32 = [](std::uint64_t t) { return static_cast<std::uint32_t>(std::min<std::uint64_t>(t, UINT32_MAX)); };

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
      const Op op = trace[i];
      if (op.kind == OpKind::kAllocate) {
        const std::uint64_t b = tsc_begin();
        void* p = a.allocate(op.size);
        const std::uint64_t e = tsc_end();
        buffers.allocate.push_back(ticks32(e - b));
        if (p == nullptr) {
          ++run.failed;
          continue;
        }
        internal::fill_block(p, op.slot, op.size);
        table[op.slot] = Slot{p, op.size};
        live_bytes += op.size;
        run.peak_live_bytes = std::max(run.peak_live_bytes, live_bytes);
        const auto addr = reinterpret_cast<std::uintptr_t>(p);
        lowest = std::min(lowest, addr);
        highest_end = std::max(highest_end, addr + op.size);
      } else {
        const Slot s = table[op.slot];
        if (s.ptr == nullptr) continue;
        internal::check_block(s.ptr, op.slot);
        const std::uint64_t b = tsc_begin();
        a.free(s.ptr, s.size);
        const std::uint64_t e = tsc_end();
        buffers.free.push_back(ticks32(e - b));
        table[op.slot].ptr = nullptr;
        live_bytes -= s.size;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    progress.update(i, seconds);
    if (seconds > cap_seconds && i < n) {
      run.capped = true;
      break;
    }
  }
  run.calls = i;
  if constexpr (HasFootprint<A>) {
    if (highest_end > 0) run.footprint = a.footprint(lowest, highest_end);
  }
  run.allocate = internal::summarise(buffers.allocate);
  run.free = internal::summarise(buffers.free);
  internal::free_remaining(a, slots);
  return run;
}

}  // namespace nostd::bench
