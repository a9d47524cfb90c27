// SizeClasses (platform/malloc/size_classes.h), malloc_info's per-arena size classes: classes kept ascending and
// apart, the largest merged once kMaxSizeClasses are in use (their figures still adding up), and count_size_classes
// over a cached segregated-fit heap: one class per list, cached blocks in their list's class, the classes adding up to
// stats()' free and cached blocks. Every heap operation is followed by validate().
#include "platform/malloc/size_classes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"

namespace nostd::malloc_door {
namespace {

// Classes ascending, non-overlapping, non-empty.
void expect_ordered(const SizeClasses& sizes) {
  for (unsigned i = 0; i < sizes.used; ++i) {
    EXPECT_LE(sizes.classes[i].from, sizes.classes[i].to) << i;
    EXPECT_GE(sizes.classes[i].count, 1u) << i;
    if (i > 0) {
      EXPECT_LT(sizes.classes[i - 1].to, sizes.classes[i].from) << i;
    }
  }
}

TEST(SizeClasses, AClassAddedTwiceIsOneClass) {
  SizeClasses sizes;
  sizes.add(100, 120, 300, 3);
  sizes.add(40, 40, 40, 1);
  sizes.add(100, 120, 110, 1);
  ASSERT_EQ(sizes.used, 2u);
  expect_ordered(sizes);
  EXPECT_EQ(sizes.classes[0].from, 40u);
  EXPECT_EQ(sizes.classes[1].count, 4u);
  EXPECT_EQ(sizes.classes[1].total, 410u);
}

// 200 classes added in `order` (indices, some twice): the smallest kMaxSizeClasses - 1 stay as given, the rest are
// one last class spanning them, and the counts and bytes add up to what was added.
void expect_merged_beyond_the_maximum(const std::vector<std::size_t>& order) {
  constexpr std::size_t kClasses = 200;
  auto sizes = std::make_unique<SizeClasses>();
  std::size_t count = 0, total = 0;
  std::vector<std::size_t> count_of(kClasses, 0);
  for (const std::size_t i : order) {
    sizes->add(10 * i, 10 * i + 5, 10 * i, 1);
    ++count;
    total += 10 * i;
    ++count_of[i];
    ASSERT_LE(sizes->used, kMaxSizeClasses);
    expect_ordered(*sizes);
  }
  ASSERT_EQ(sizes->used, kMaxSizeClasses);
  for (unsigned i = 0; i + 1 < kMaxSizeClasses; ++i) {
    EXPECT_EQ(sizes->classes[i].from, 10 * i);
    EXPECT_EQ(sizes->classes[i].to, 10 * i + 5);
    EXPECT_EQ(sizes->classes[i].count, count_of[i]) << i;
  }
  const SizeClass& last = sizes->classes[kMaxSizeClasses - 1];
  EXPECT_EQ(last.from, 10 * (kMaxSizeClasses - 1));
  EXPECT_EQ(last.to, 10 * (kClasses - 1) + 5);
  std::size_t summed_count = 0, summed_total = 0;
  for (unsigned i = 0; i < sizes->used; ++i) {
    summed_count += sizes->classes[i].count;
    summed_total += sizes->classes[i].total;
  }
  EXPECT_EQ(summed_count, count);
  EXPECT_EQ(summed_total, total);
}

// Ascending, as the arenas' walks mostly add them (the fit's lists in order), then descending and shuffled.
TEST(SizeClasses, BeyondTheMaximumTheLargestClassesMerge) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < 200; ++i) order.push_back(i);
  for (std::size_t i = 0; i < 200; i += 7) order.push_back(i);
  expect_merged_beyond_the_maximum(order);
  std::reverse(order.begin(), order.end());
  expect_merged_beyond_the_maximum(order);
  std::shuffle(order.begin(), order.end(), std::mt19937(20261207));
  expect_merged_beyond_the_maximum(order);
}

// count_size_classes over a cached SegregatedFit heap: freed blocks with live neighbours, some cached and some on the
// lists (their bin is full); each class is a list of the fit's mapping, in payload bytes, and the classes add up to
// stats()' free and cached blocks and bytes.
TEST(CountSizeClasses, ClassesAreTheFitsListsAndAddUpToStats) {
  using Fit = SegregatedFit<>;
  using Heap = BasicHeap<Fit, QuickCache<2, 1024>, CompactTags, RegionSource, BasicChecks<>>;
  if constexpr (!Heap::kCaching) GTEST_SKIP() << "no cache in builds with memory-tool hooks";
  auto owner = std::make_unique<testing::TestHeap<Heap>>();
  Heap& heap = owner->heap();
  std::vector<void*> blocks;
  for (std::size_t size : {40, 40, 40, 40, 700, 700, 3000, 3100}) {
    for (int i = 0; i < 2; ++i) {
      Result<void*> p = heap.allocate(size);
      ASSERT_TRUE(p.has_value());
      EXPECT_TRUE(testing::valid(heap));
      blocks.push_back(*p);
    }
  }
  for (std::size_t i = 0; i < blocks.size(); i += 2) {
    heap.deallocate(blocks[i]);
    EXPECT_TRUE(testing::valid(heap));
  }
  SizeClasses sizes;
  count_size_classes<Fit>(heap, sizes);
  EXPECT_TRUE(testing::valid(heap));
  expect_ordered(sizes);
  const HeapStats stats = heap.stats();
  ASSERT_GE(stats.cached_blocks, 1u);
  ASSERT_GE(stats.free_blocks, 2u);
  std::size_t count = 0, total = 0;
  for (unsigned i = 0; i < sizes.used; ++i) {
    count += sizes.classes[i].count;
    total += sizes.classes[i].total;
    // Each class is one list: its ends map to the same list, and the sizes just outside it do not.
    const std::size_t lo = sizes.classes[i].from + (Heap::kGranule - Heap::free_payload(Heap::kGranule));
    const std::size_t hi = sizes.classes[i].to + (Heap::kGranule - Heap::free_payload(Heap::kGranule));
    EXPECT_EQ(Fit::unclamped_list_of(lo), Fit::unclamped_list_of(hi)) << i;
    EXPECT_NE(Fit::unclamped_list_of(lo - Heap::kGranule), Fit::unclamped_list_of(lo)) << i;
    EXPECT_NE(Fit::unclamped_list_of(hi + Heap::kGranule), Fit::unclamped_list_of(hi)) << i;
  }
  EXPECT_EQ(count, stats.free_blocks + stats.cached_blocks);
  EXPECT_EQ(total, stats.bytes_free);
  // The four 40-byte blocks: two cached (the bin's depth), two on their exact list: one class of one size.
  const std::size_t usable = heap.usable_size(blocks[1]);
  const auto at = std::find_if(sizes.classes, sizes.classes + sizes.used,
                               [usable](const SizeClass& c) { return c.from <= usable && usable <= c.to; });
  ASSERT_NE(at, sizes.classes + sizes.used);
  EXPECT_EQ(at->from, usable);
  EXPECT_EQ(at->to, usable);
  EXPECT_EQ(at->count, 4u);
  EXPECT_EQ(at->total, 4 * usable);
  for (std::size_t i = 1; i < blocks.size(); i += 2) {
    heap.deallocate(blocks[i]);
    EXPECT_TRUE(testing::valid(heap));
  }
}

}  // namespace
}  // namespace nostd::malloc_door
