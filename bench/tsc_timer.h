// bench/tsc_timer.h — per-call timing with the x86 time-stamp counter.
//
// A single allocate or free takes tens of nanoseconds, close to what `std::chrono::steady_clock::now()` itself
// costs through the vDSO. The time-stamp counter is cheaper and finer: on CPUs with an invariant TSC
// (`constant_tsc nonstop_tsc` in /proc/cpuinfo) it ticks at a fixed rate, which `calibrate()` measures against
// steady_clock. Reads are fenced (`lfence; rdtsc; lfence` before, `rdtscp; lfence` after) so that the timed call
// can neither start before the first read nor finish after the second. The empty-region cost of that pair is
// measured by `timer_cost_ticks()` and reported next to every latency figure (it is included in them).
#pragma once

#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace nostd::bench {

/// Reads the TSC before a timed region: no earlier instruction is still executing, no later one has started.
inline std::uint64_t tsc_begin() {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

/// Reads the TSC after a timed region: every earlier instruction has finished.
inline std::uint64_t tsc_end() {
  unsigned aux = 0;
  const std::uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

/// TSC ticks per nanosecond, measured against steady_clock over about `millis` milliseconds of spinning.
inline double calibrate_ticks_per_ns(int millis = 100) {
  using Clock = std::chrono::steady_clock;
  const auto c0 = Clock::now();
  const std::uint64_t t0 = tsc_begin();
  auto c1 = c0;
  while (c1 - c0 < std::chrono::milliseconds(millis)) c1 = Clock::now();
  const std::uint64_t t1 = tsc_end();
  const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(c1 - c0).count());
  return static_cast<double>(t1 - t0) / ns;
}

/// Median ticks of an empty timed region (`tsc_end() - tsc_begin()` with nothing between), over `samples`
/// back-to-back measurements: the timer's own cost, included in every per-call latency.
inline std::uint64_t timer_cost_ticks(int samples = 100'000) {
  std::vector<std::uint64_t> v(static_cast<std::size_t>(samples));
  for (auto& x : v) {
    const std::uint64_t t0 = tsc_begin();
    x = tsc_end() - t0;
  }
  std::nth_element(v.begin(), v.begin() + samples / 2, v.end());
  return v[static_cast<std::size_t>(samples / 2)];
}

/// The counter's effective resolution in ticks (some virtual machines and CPUs advance it in steps of several
/// ticks): the smallest non-zero difference between two consecutive TSC reads that makes up at least a tenth of them
/// (the smallest of all when none does). Not simply the smallest: on a KVM guest whose counter steps by 26 ticks (10
/// ns), up to 0.5 % of the differences read 1 tick (a read one tick late, the next one 77 ticks on), which made the
/// reported step 0.4 ns in some runs while every latency was a multiple of 10 ns.
inline std::uint64_t tsc_step_ticks(int samples = 100'000) {
  std::vector<std::uint64_t> diffs;
  diffs.reserve(static_cast<std::size_t>(samples));
  std::uint64_t prev = __rdtsc();
  for (int i = 0; i < samples; ++i) {
    const std::uint64_t now = __rdtsc();
    if (now != prev) diffs.push_back(now - prev);
    prev = now;
  }
  std::sort(diffs.begin(), diffs.end());
  const std::size_t enough = std::max<std::size_t>(diffs.size() / 10, 1);
  for (std::size_t i = 0; i < diffs.size();) {
    std::size_t j = i;
    while (j < diffs.size() && diffs[j] == diffs[i]) ++j;
    if (j - i >= enough) return diffs[i];
    i = j;
  }
  return diffs.empty() ? 0 : diffs.front();
}

}  // namespace nostd::bench
