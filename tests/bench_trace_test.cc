// tests/bench_trace_test.cc — the fit comparison's trace generator (bench/trace.h): deterministic, and shaped
// exactly as issue 6 specifies (call counts, size ranges, slot discipline).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "bench/trace.h"

namespace nostd::bench {
namespace {

/// Generates `spec`'s trace and checks, on the fly, that every operation is legal: allocations go into empty
/// slots with sizes in range, frees hit occupied slots with the size they were allocated with, LIFO frees pop
/// the newest block. Returns a hash of the whole trace.
struct Checked {
  TraceInfo info;
  std::uint64_t hash = 0;
  bool all_empty_at_end = true;
};

Checked generate_checked(const WorkloadSpec& spec) {
  std::vector<std::uint32_t> scratch(spec.slots);
  std::vector<std::uint32_t> held(spec.slots, 0);  // 0: empty
  std::vector<std::uint32_t> stack;
  Checked c;
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&](std::uint64_t v) {
    h ^= v;
    h *= 1099511628211ULL;
  };
  c.info = generate(spec, scratch, [&](const Op& op) {
    ASSERT_LT(op.slot, spec.slots);
    mix(static_cast<std::uint64_t>(op.kind));
    mix(op.slot);
    mix(op.size);
    if (op.kind == OpKind::kAllocate) {
      ASSERT_EQ(held[op.slot], 0u) << "allocation into an occupied slot";
      ASSERT_GE(op.size, spec.min_size);
      ASSERT_LE(op.size, spec.max_size);
      held[op.slot] = op.size;
      stack.push_back(op.slot);
    } else {
      ASSERT_EQ(held[op.slot], op.size) << "free of an empty slot or with the wrong size";
      held[op.slot] = 0;
      if (spec.pattern == Pattern::kLifo) {
        ASSERT_EQ(stack.back(), op.slot) << "LIFO free that is not the newest block";
        stack.pop_back();
      }
    }
  });
  for (std::uint32_t v : held) c.all_empty_at_end = c.all_empty_at_end && v == 0;
  c.hash = h;
  return c;
}

TEST(BenchTraceTest, SplitMix64MatchesTheReferenceSequence) {
  // First outputs of splitmix64 seeded with 1234567 (the reference implementation's test vector).
  SplitMix64 rng(1234567);
  EXPECT_EQ(rng.next(), 6457827717110365317ULL);
  EXPECT_EQ(rng.next(), 3203168211198807973ULL);
  EXPECT_EQ(rng.next(), 9817491932198370423ULL);
}

TEST(BenchTraceTest, RangeStaysInsideItsBounds) {
  SplitMix64 rng(kDefaultSeed);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = rng.range(16, 512);
    ASSERT_GE(v, 16u);
    ASSERT_LE(v, 512u);
  }
}

TEST(BenchTraceTest, ChurnSmallHasExactlyTheSpecifiedCalls) {
  const Checked c = generate_checked(*find_workload('a'));
  EXPECT_EQ(c.info.calls, 2'020'000u);
  EXPECT_EQ(c.info.allocations, 1'010'000u);
  EXPECT_EQ(c.info.frees, 1'010'000u);
  EXPECT_EQ(c.info.drain_begin, 2'010'000u);
  EXPECT_EQ(c.info.peak_live_blocks, 10'000u);
  EXPECT_TRUE(c.all_empty_at_end);
}

TEST(BenchTraceTest, ChurnMediumHasExactlyTheSpecifiedCalls) {
  const Checked c = generate_checked(*find_workload('b'));
  EXPECT_EQ(c.info.calls, 2'020'000u);
  EXPECT_TRUE(c.all_empty_at_end);
}

TEST(BenchTraceTest, LifoRunsTwoMillionCallsThenDrains) {
  const WorkloadSpec& spec = *find_workload('c');
  const Checked c = generate_checked(spec);
  EXPECT_EQ(c.info.drain_begin, 2'000'000u);
  EXPECT_EQ(c.info.allocations, c.info.frees);
  EXPECT_EQ(c.info.calls, c.info.allocations + c.info.frees);
  EXPECT_LE(c.info.calls, 2'000'000u + spec.slots);
  EXPECT_LE(c.info.peak_live_blocks, spec.slots);
  EXPECT_GT(c.info.peak_live_blocks, spec.slots / 2);  // the random walk does reach deep targets
  EXPECT_TRUE(c.all_empty_at_end);
}

TEST(BenchTraceTest, EmbeddedHasExactlyTheSpecifiedCalls) {
  const Checked c = generate_checked(*find_workload('e'));
  EXPECT_EQ(c.info.calls, 2'000'800u);
  EXPECT_EQ(c.info.peak_live_blocks, 400u);
  EXPECT_LE(c.info.peak_live_bytes, 400u * 256u);
  EXPECT_TRUE(c.all_empty_at_end);
}

TEST(BenchTraceTest, SameSeedSameTraceOtherSeedOtherTrace) {
  for (const WorkloadSpec& spec : kWorkloads) {
    const WorkloadSpec small = scaled(spec, 100);
    EXPECT_EQ(generate_checked(small).hash, generate_checked(small).hash) << spec.id;
    WorkloadSpec other = small;
    other.seed = kDefaultSeed + 1;
    EXPECT_NE(generate_checked(small).hash, generate_checked(other).hash) << spec.id;
  }
}

TEST(BenchTraceTest, QuickModeDividesTheSteps) {
  const WorkloadSpec quick = scaled(*find_workload('a'), 10);
  EXPECT_EQ(quick.steps, 100'000u);
  EXPECT_EQ(generate_checked(quick).info.calls, 2u * 10'000u + 2u * 100'000u);
}

}  // namespace
}  // namespace nostd::bench
