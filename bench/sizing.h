// bench/sizing.h — the smallest arena in which a whole trace runs without a failed allocation.
//
// An embedded user must choose the size of a static heap; the answer depends on the composition (tags cost
// bytes per block, fits fragment differently). The search: grow the arena from a lower bound by doubling until
// the trace fits, then bisect between the largest size that failed and the smallest that fit, down to a
// precision of max(granularity, 0.1 % of the size). Each probe is a full replay that stops at its first failed
// allocation (bench/replay_passes.h, replay_fits), so failing probes are cheap.
//
// Bisection assumes that a trace that fits in N bytes also fits in N + k. For FirstFit and NextFit over one
// region that holds (a larger arena only lengthens the last free block, which every earlier choice ignores);
// BestFit may place a block differently when the last block's size changes, so its answer is the smallest size
// the search found; whatever the fit, the size returned is one that was replayed and fitted.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bench/replay_passes.h"

namespace nostd::bench {

/// The composition whose answer a composition named `name` shares: a "/nochecks" variant places blocks exactly as
/// its checked twin, the name without "/nochecks" (the check level changes what a call verifies, not where blocks
/// go), so it is sized once: "seg/compact/nochecks+cache" shares "seg/compact+cache"'s. Other names are their own.
inline std::string layout_twin(std::string_view name) {
  constexpr std::string_view kNoChecks = "/nochecks";
  const std::size_t k = name.find(kNoChecks);
  if (k == std::string_view::npos) return std::string(name);
  return std::string(name.substr(0, k)) + std::string(name.substr(k + kNoChecks.size()));
}

/// The outcome of a sizing search.
struct Sizing {
  std::optional<std::size_t> bytes;  ///< the smallest arena found that fits (nullopt: none up to the limit)
  bool capped = false;               ///< the first probe that should have fitted hit its time cap: no answer
  bool capped_below = false;         ///< some smaller probe hit the cap: `bytes` is the smallest that fitted in time
  int probes = 0;                    ///< replays run
};

/// Searches for the smallest arena size in [lower, limit] for which `probe(bytes)` returns Probe::kFits, to
/// within max(granularity, size / 1000). `lower` is a size known (or likely) to fail, such as the trace's peak
/// of live bytes; the answer is never below it. `start` is the first size tried (a size likely to fit, such as the
/// memory a run touched in a larger arena; from there the search doubles until a size fits). A probe that hits
/// its time cap during the bisection counts as a failure and sets `capped_below` (a nearly full arena can make a
/// slow fit much slower); one that hits it before any size fitted ends the search with `capped`. See the file
/// comment for the assumption.
template <class ProbeFn>
Sizing smallest_arena(std::size_t lower, std::size_t start, std::size_t limit, std::size_t granularity,
                      ProbeFn&& probe) {
  Sizing s;
  granularity = std::max<std::size_t>(granularity, 1);
  std::size_t lo = std::max<std::size_t>(lower, granularity) - granularity;  // largest size known to fail
  std::size_t hi = std::min(std::max({lower, start, granularity}), limit);
  while (true) {
    ++s.probes;
    const Probe p = probe(hi);
    if (p == Probe::kCapped) {
      s.capped = true;
      return s;
    }
    if (p == Probe::kFits) break;
    lo = hi;
    if (hi == limit) return s;
    hi = std::min(limit, hi * 2);
  }
  while (hi - lo > std::max(granularity, hi / 1000)) {
    // Never below `lower`: `lo` starts a granule under it, so that `lower` itself can be the answer.
    const std::size_t mid = std::max(lo + (hi - lo) / 2, lower);
    ++s.probes;
    const Probe p = probe(mid);
    if (p == Probe::kFits) {
      hi = mid;
    } else {
      if (p == Probe::kCapped) s.capped_below = true;
      lo = mid;
    }
  }
  s.bytes = hi;
  return s;
}

/// smallest_arena starting from `lower` itself.
template <class ProbeFn>
Sizing smallest_arena(std::size_t lower, std::size_t limit, std::size_t granularity, ProbeFn&& probe) {
  return smallest_arena(lower, lower, limit, granularity, probe);
}

}  // namespace nostd::bench
