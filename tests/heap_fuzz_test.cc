// Seeded replay of the fuzz driver (tests/heap_fuzz.h) on every platform: 3,000 random byte strings per heap
// composition, each decoded into heap requests with validate() after every one (tests/heap_fuzz.h, shared with the
// bare-metal check program).
#include "tests/heap_fuzz.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace nostd::testing {
namespace {

template <class Heap>
class HeapFuzzReplay : public ::testing::Test {};
using FuzzHeaps =
    ::testing::Types<BasicHeap<FirstFit, CompactTags, RegionSource>, BasicHeap<NextFit, FullTags, RegionSource>,
                     BasicHeap<BestFit, BasicCompactTags<std::uint32_t>, RegionSource>,
                     BasicHeap<SegregatedFit<>, FullTags, RegionSource>,
                     BasicHeap<BestFit, CompactTags, HardenedChecks<>, RegionSource>,
                     BasicHeap<NextFit, FullTags, DebugChecks<>, RegionSource>,
                     // The speed paths (outside ASan and Valgrind): SegregatedFit's exact path, with and without
                     // checks, and QuickCache in front of it.
                     BasicHeap<SegregatedFit<>, CompactTags, RegionSource>,
                     BasicHeap<SegregatedFit<>, CompactTags, NoChecks, RegionSource>,
                     BasicHeap<SegregatedFit<>, CompactTags, QuickCache<>, RegionSource>,
                     // Issue 11's cache composition: the 32-bit tag word and the medium-block cache.
                     BasicHeap<SegregatedFit<>, BasicCompactTags<std::uint32_t>, MediumQuickCache, RegionSource>,
                     // Where the exact path is off and the good-head path takes the exact lists' heads too
                     // (good_head<true>): keyed check words, and the debug level's canaries and poisoning.
                     BasicHeap<SegregatedFit<>, CompactTags, HardenedChecks<>, RegionSource>,
                     BasicHeap<SegregatedFit<>, FullTags, DebugChecks<>, RegionSource>,
                     // An index of two classes, whose last list is not exact (the clamp).
                     BasicHeap<SegregatedFit<2 * SegregatedFit<>::kSmallLimit>, CompactTags, NoChecks, RegionSource>>;
TYPED_TEST_SUITE(HeapFuzzReplay, FuzzHeaps);

TYPED_TEST(HeapFuzzReplay, RandomInputsKeepTheHeapSound) {
  const FuzzReplayReport report = replay_seeded_inputs<TypeParam>(20261125, 3000);
  ASSERT_TRUE(report.ok()) << "round " << report.failed_round;
  EXPECT_EQ(report.rounds, 3000);
}

}  // namespace
}  // namespace nostd::testing
