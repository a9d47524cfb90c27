// Seeded replay of the fuzz driver (tests/heap_fuzz.h) on every platform: 3,000 random byte strings per heap
// composition, each decoded into heap requests with validate() after every one.
#include "tests/heap_fuzz.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace nostd::testing {
namespace {

template <class Heap>
class HeapFuzzReplay : public ::testing::Test {};
using FuzzHeaps =
    ::testing::Types<BasicHeap<FirstFit, CompactTags, RegionSource>, BasicHeap<NextFit, FullTags, RegionSource>,
                     BasicHeap<BestFit, BasicCompactTags<std::uint32_t>, RegionSource>>;
TYPED_TEST_SUITE(HeapFuzzReplay, FuzzHeaps);

TYPED_TEST(HeapFuzzReplay, RandomInputsKeepTheHeapSound) {
  SplitMix64 rng(20261125);
  std::vector<std::uint8_t> input;
  for (int round = 0; round < 3000; ++round) {
    input.resize(rng.range(0, 400));
    for (std::uint8_t& b : input) b = static_cast<std::uint8_t>(rng.next());
    ASSERT_TRUE(run_fuzz_input<TypeParam>(input.data(), input.size())) << "round " << round;
  }
}

}  // namespace
}  // namespace nostd::testing
