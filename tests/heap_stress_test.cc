// Deterministic stress: per heap composition, at least 1,000,000 seeded operations (allocate, free, reallocate)
// with log-distributed sizes (16 B .. 4 KiB), steering the heap towards a target fill level. Every live block
// carries a fill pattern that is checked before it is freed or after it is reallocated. validate() runs after
// every operation for the first 20,000 and after every 1,000th afterwards (a full walk per operation would make
// 1M operations quadratic), and once more at the end, when everything is freed and must coalesce into one block.
// The workload is the framework-free driver tests/heap_stress.h, which the bare-metal check program shares.
#include "tests/heap_stress.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {
namespace {

#if defined(NOSTD_STRESS_OPS)
constexpr std::size_t kOps = NOSTD_STRESS_OPS;
#else
constexpr std::size_t kOps = 1'000'000;
#endif

template <class Heap>
class HeapStress : public ::testing::Test {};

template <class Fit, class Tags>
using H = BasicHeap<Fit, Tags, RegionSource>;
using StressHeaps = ::testing::Types<H<FirstFit, CompactTags>, H<FirstFit, FullTags>, H<NextFit, CompactTags>,
                                     H<NextFit, FullTags>, H<BestFit, CompactTags>, H<BestFit, FullTags>,
                                     H<SegregatedFit<>, CompactTags>, H<SegregatedFit<>, FullTags>>;

struct StressNames {
  template <class Heap>
  static std::string GetName(int) {
    return heap_name<Heap>();
  }
};
TYPED_TEST_SUITE(HeapStress, StressHeaps, StressNames);

TYPED_TEST(HeapStress, MillionSeededOperationsAtTargetFill) {
  auto owner = std::make_unique<TestHeap<TypeParam>>();
  StressOptions options;
  options.ops = kOps;
  const StressReport report = run_stress(owner->heap(), options);
  ASSERT_TRUE(report.ok()) << report.failure << " at op " << report.op
                           << " (validate: " << (report.fault.what != nullptr ? report.fault.what : "passed") << ")";
  this->RecordProperty("allocation_failures", static_cast<int>(report.allocation_failures));
  this->RecordProperty("moved", static_cast<int>(report.moved));
  EXPECT_EQ(report.end.live_allocations, 0u);
  EXPECT_EQ(report.end.free_blocks, 1u);
}

}  // namespace
}  // namespace nostd::testing
