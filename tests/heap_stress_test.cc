// Deterministic stress: per heap composition, at least 1,000,000 seeded operations (allocate, free, reallocate)
// with log-distributed sizes (16 B .. 4 KiB), steering the heap towards a target fill level. Every live block
// carries a fill pattern that is checked before it is freed or after it is reallocated. validate() runs after
// every operation for the first 20,000 and after every 1,000th afterwards (a full walk per operation would make
// 1M operations quadratic), and once more at the end, when everything is freed and must coalesce into one block.
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
constexpr std::size_t kSlots = 512;
constexpr std::size_t kAlwaysValidate = 20'000;
constexpr std::size_t kValidateEvery = 1'000;

template <class Heap>
class HeapStress : public ::testing::Test {};

template <class Fit, class Tags>
using H = BasicHeap<Fit, Tags, RegionSource>;
using StressHeaps = ::testing::Types<H<FirstFit, CompactTags>, H<FirstFit, FullTags>, H<NextFit, CompactTags>,
                                     H<NextFit, FullTags>, H<BestFit, CompactTags>, H<BestFit, FullTags>>;

struct StressNames {
  template <class Heap>
  static std::string GetName(int) {
    return heap_name<Heap>();
  }
};
TYPED_TEST_SUITE(HeapStress, StressHeaps, StressNames);

struct Slot {
  void* ptr = nullptr;
  std::size_t size = 0;
  std::size_t tag = 0;
};

TYPED_TEST(HeapStress, MillionSeededOperationsAtTargetFill) {
  auto owner = std::make_unique<TestHeap<TypeParam>>();
  TypeParam& heap = owner->heap();
  const std::size_t capacity = heap.stats().capacity;
  const std::size_t target = capacity * 6 / 10;  // aim at 60% of capacity in use: frequent reuse and splitting
  auto slots = std::make_unique<Slot[]>(kSlots);
  SplitMix64 rng(0x5EED);
  std::size_t live_bytes = 0, failures = 0, moved = 0, next_tag = 1;
  // `op` counts heap calls only: picks that are skipped to hold the fill level do not count.
  for (std::size_t op = 0; op < kOps; ++op) {
    Slot& slot = slots[rng.range(0, kSlots - 1)];
    const std::size_t action = rng.range(0, 9);
    if (slot.ptr == nullptr && live_bytes > target && action < 7) {
      --op;  // over target: mostly let frees catch up
      continue;
    }
    if (slot.ptr == nullptr) {
      const std::size_t size = rng.log_size(4, 12);
      Result<void*> p = heap.allocate(size);
      if (!p) {
        ASSERT_EQ(p.error(), AllocError::kOutOfMemory);
        ++failures;
      } else {
        slot = Slot{*p, size, next_tag++};
        fill(slot.ptr, size, slot.tag);
        live_bytes += size;
      }
    } else if (action < 2) {
      const std::size_t size = rng.log_size(4, 12);
      Result<void*> p = heap.reallocate(slot.ptr, size);
      if (!p) {
        ASSERT_EQ(p.error(), AllocError::kOutOfMemory);
        ASSERT_TRUE(holds_pattern(slot.ptr, slot.size, slot.tag)) << "failed reallocate damaged the block";
        ++failures;
      } else {
        const std::size_t kept = size < slot.size ? size : slot.size;
        ASSERT_TRUE(holds_pattern(*p, kept, slot.tag)) << "reallocate lost contents at op " << op;
        moved += *p != slot.ptr ? 1 : 0;
        live_bytes = live_bytes - slot.size + size;
        slot.ptr = *p;
        slot.size = size;
        fill(slot.ptr, size, slot.tag);
      }
    } else {
      ASSERT_TRUE(holds_pattern(slot.ptr, slot.size, slot.tag)) << "block overwritten, op " << op;
      heap.deallocate(slot.ptr);
      live_bytes -= slot.size;
      slot = Slot{};
    }
    if (op < kAlwaysValidate || op % kValidateEvery == 0) {
      ASSERT_TRUE(valid(heap)) << "op " << op;
    }
  }
  const HeapStats mid = heap.stats();
  // Roughly 40% of the calls allocate (the rest free or reallocate); a quarter is a safe lower bound.
  EXPECT_GT(mid.total_allocations + failures, kOps / 4);
  EXPECT_GT(moved, 0u);
  EXPECT_EQ(mid.failed_allocations, failures);
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (slots[i].ptr == nullptr) continue;
    ASSERT_TRUE(holds_pattern(slots[i].ptr, slots[i].size, slots[i].tag));
    heap.deallocate(slots[i].ptr);
    ASSERT_TRUE(valid(heap));
  }
  const HeapStats end = heap.stats();
  EXPECT_EQ(end.live_allocations, 0u);
  EXPECT_EQ(end.free_blocks, 1u);
  EXPECT_EQ(end.total_allocations, end.total_frees);
  EXPECT_EQ(end.largest_free_block, end.bytes_free);
}

}  // namespace
}  // namespace nostd::testing
