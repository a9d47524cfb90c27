// tests/sizing_test.cc — the smallest-arena search (bench/sizing.h): its answer on a probe with a known
// threshold, its limits (never fits, capped), and on real heaps that the answer fits and a smaller arena fails.
#include "bench/sizing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "alloc/alloc.h"
#include "bench/heap_adapter.h"
#include "bench/mapped_memory.h"
#include "bench/replay_passes.h"
#include "bench/trace.h"

namespace nostd::bench {
namespace {

TEST(Sizing, NoChecksVariantsShareTheirCheckedTwinsAnswer) {
  EXPECT_EQ(layout_twin("seg/compact/nochecks"), "seg/compact");
  // Only the "/nochecks" token goes: a cached variant's twin keeps its cache (it places blocks differently).
  EXPECT_EQ(layout_twin("seg/compact/nochecks+cache"), "seg/compact+cache");
  EXPECT_EQ(layout_twin("seg/compact32/nochecks+cache8k"), "seg/compact32+cache8k");
  EXPECT_EQ(layout_twin("first/full"), "first/full");
  EXPECT_EQ(layout_twin("glibc"), "glibc");
}

TEST(Sizing, FindsAThresholdToWithinItsPrecision) {
  for (std::size_t threshold : {std::size_t{1}, std::size_t{1000}, std::size_t{4097}, std::size_t{123456789}}) {
    const Sizing s = smallest_arena(100, std::size_t{1} << 40, 64, [&](std::size_t bytes) {
      return bytes >= threshold ? Probe::kFits : Probe::kFailed;
    });
    ASSERT_TRUE(s.bytes) << threshold;
    const std::size_t want = std::max<std::size_t>(threshold, 100);  // never below the lower bound it was given
    EXPECT_GE(*s.bytes, want);
    EXPECT_LE(*s.bytes - want, std::max<std::size_t>(64, *s.bytes / 1000)) << threshold;
    EXPECT_LT(s.probes, 80);
  }
}

TEST(Sizing, NothingFitsUpToTheLimit) {
  const Sizing s = smallest_arena(100, 5000, 64, [](std::size_t) { return Probe::kFailed; });
  EXPECT_FALSE(s.bytes);
  EXPECT_FALSE(s.capped);
}

TEST(Sizing, ACappedProbeGivesNoAnswer) {
  const Sizing s = smallest_arena(100, 1 << 20, 64,
                                  [](std::size_t bytes) { return bytes < 10000 ? Probe::kFailed : Probe::kCapped; });
  EXPECT_FALSE(s.bytes);
  EXPECT_TRUE(s.capped);
  EXPECT_EQ(s.probes, 8);  // 100, 200, ..., 6400 failed, 12800 capped: the search ends there, not at the limit
}

TEST(Sizing, CappedProbesBelowTheAnswerCountAsFailures) {
  const Sizing s = smallest_arena(100, 20000, std::size_t{1} << 30, 64, [](std::size_t bytes) {
    return bytes >= 5000 ? Probe::kFits : bytes >= 1000 ? Probe::kCapped : Probe::kFailed;
  });
  ASSERT_TRUE(s.bytes);
  EXPECT_GE(*s.bytes, 5000u);
  EXPECT_LE(*s.bytes, 5064u);
  EXPECT_TRUE(s.capped_below);
  EXPECT_FALSE(s.capped);
}

TEST(Sizing, StartsFromTheGivenSizeAndStillFindsTheSmallest) {
  int probes_above = 0;
  const Sizing s = smallest_arena(100, 1 << 20, std::size_t{1} << 30, 64, [&](std::size_t bytes) {
    if (bytes >= (1u << 20)) ++probes_above;
    return bytes >= 3000 ? Probe::kFits : Probe::kFailed;
  });
  ASSERT_TRUE(s.bytes);
  EXPECT_LE(*s.bytes - 3000, 64u);
  EXPECT_EQ(probes_above, 1);  // the start fitted: no doubling
}

TEST(Sizing, WithoutAStartTheSearchBeginsAtTheLowerBound) {
  std::vector<std::size_t> probed;
  const Sizing s = smallest_arena(1000, std::size_t{1} << 30, 64, [&](std::size_t bytes) {
    probed.push_back(bytes);
    return bytes >= 1000 ? Probe::kFits : Probe::kFailed;
  });
  EXPECT_EQ(s.bytes, 1000u);
  EXPECT_EQ(probed, std::vector<std::size_t>{1000});  // the lower bound fitted at once: nothing else to try
  EXPECT_EQ(s.probes, 1);
}

// The answer is never below the lower bound, even when it fits and the search starts above it: the bisection's
// first failing size lies a granule under the bound, and a midpoint between them had been probed and returned (96
// for a bound of 100 and a granularity of 64).
TEST(Sizing, TheAnswerIsNeverBelowTheLowerBound) {
  std::size_t smallest_probed = SIZE_MAX;
  const Sizing s = smallest_arena(100, 1000, std::size_t{1} << 30, 64, [&](std::size_t bytes) {
    smallest_probed = std::min(smallest_probed, bytes);
    return Probe::kFits;
  });
  ASSERT_TRUE(s.bytes.has_value());
  EXPECT_EQ(*s.bytes, 100u);
  EXPECT_EQ(smallest_probed, 100u);
}

TEST(Sizing, AStartAboveTheLimitIsNotProbed) {
  std::size_t largest = 0;
  const Sizing s = smallest_arena(100, 1 << 20, 5000, 64, [&](std::size_t bytes) {
    largest = std::max(largest, bytes);
    return bytes >= 3000 ? Probe::kFits : Probe::kFailed;
  });
  ASSERT_TRUE(s.bytes);
  EXPECT_LE(*s.bytes - 3000, 64u);
  EXPECT_EQ(largest, 5000u);
}

TEST(Sizing, AGranularityOfZeroIsOneByte) {
  // Bisection to within 0 bytes would never end; within 1 it finds the threshold exactly.
  for (const std::size_t granularity : {std::size_t{0}, std::size_t{1}}) {
    int probes = 0;
    const Sizing s = smallest_arena(10, 1000, granularity, [&](std::size_t bytes) {
      if (++probes > 100) {
        ADD_FAILURE() << "the search does not end";
        return Probe::kFits;  // ends it: every later bisection step moves the upper bound down
      }
      return bytes >= 37 ? Probe::kFits : Probe::kFailed;
    });
    EXPECT_EQ(s.bytes, 37u) << granularity;
  }
}

/// A trace whose live set peaks at 100 blocks of 200 bytes, with holes punched in it.
Trace holes_trace() {
  Trace t;
  for (std::uint32_t i = 0; i < 100; ++i) t.push_back(Op{OpKind::kAllocate, 0, i, 200});
  for (std::uint32_t i = 0; i < 100; i += 2) t.push_back(Op{OpKind::kFree, 0, i, 200});
  for (std::uint32_t i = 0; i < 100; i += 2) t.push_back(Op{OpKind::kAllocate, 0, i, 300});  // cannot reuse holes
  t.push_back(Op{OpKind::kReallocate, 0, 1, 1000});
  for (std::uint32_t i = 0; i < 100; ++i) t.push_back(Op{OpKind::kFree, 0, i, i == 1 ? 1000u : (i % 2 ? 200u : 300u)});
  return t;
}

template <class Adapter>
void expect_tight_sizing() {
  const Trace trace = holes_trace();
  SlotTable slots(100);
  const MappedRegion region(1 << 20);
  const Sizing s = smallest_arena(100 * 200, region.size(), 16, [&](std::size_t bytes) {
    return replay_fits<Adapter>(region.first(bytes), trace, slots, 60);
  });
  ASSERT_TRUE(s.bytes);
  EXPECT_EQ(replay_fits<Adapter>(region.first(*s.bytes), trace, slots, 60), Probe::kFits);
  const std::size_t precision = std::max<std::size_t>(16, *s.bytes / 1000);
  EXPECT_EQ(replay_fits<Adapter>(region.first(*s.bytes - precision - 1), trace, slots, 60), Probe::kFailed);
  // The holes left by the 200-byte blocks cannot hold the 300-byte ones, so the arena exceeds the peak live bytes
  // by more than the tags alone would explain.
  EXPECT_GT(*s.bytes, std::size_t{50 * 200 + 50 * 300});
}

TEST(Sizing, FirstFitCompactAnswerFitsAndASmallerArenaFails) {
  expect_tight_sizing<HeapAdapter<FirstFit, CompactTags>>();
}
TEST(Sizing, BestFitFullAnswerFitsAndASmallerArenaFails) { expect_tight_sizing<HeapAdapter<BestFit, FullTags>>(); }
TEST(Sizing, NextFitNoChecksAnswerFitsAndASmallerArenaFails) {
  expect_tight_sizing<HeapAdapter<NextFit, CompactTags, NoChecks>>();
}

}  // namespace
}  // namespace nostd::bench
