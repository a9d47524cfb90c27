// QuickCache with a single bin (a MaxBlock less than a granule above the minimum block: QuickCache<4, 32> on a 64-bit
// host), built as a user's release build with UndefinedBehaviorSanitizer would build it (GCC, -O2
// -fsanitize=undefined; the BUILD rule's copts): its slack probe, which has no bin past the one to read, had made
// GCC 12 report `heads[1]` of the one-element bin array (-Werror=array-bounds) and stop the build. The tests check
// that the one bin caches and serves its size, with and without slack, and that other sizes pass it by. Every heap
// operation is followed by validate().
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>

#include "alloc/alloc.h"
#include "alloc/cache/quick_cache.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {
namespace {

// One-bin caches over both fits that use it differently, both tag layouts, with and without checks; the last takes a
// slack of 1/2, so that its probe would look one bin past the minimum block's.
using OneBinHeaps =
    ::testing::Types<BasicHeap<SegregatedFit<>, CompactTags, RegionSource, BasicChecks<>, QuickCache<4, 32>>,
                     BasicHeap<FirstFit, FullTags, RegionSource, NoChecks, QuickCache<4, 32>>,
                     BasicHeap<SegregatedFit<>, CompactTags, RegionSource, NoChecks, QuickCache<4, 47, 16, 2>>>;

template <class Heap>
class QuickCacheOneBinTest : public ::testing::Test {
 protected:
  static_assert(Heap::kMinBlockSize + Heap::kGranule > Heap::Cache::kMaxBlock,
                "the cache under test must have one bin (the minimum block's): a 64-bit host's");
  void SetUp() override {
    if constexpr (!Heap::kCaching) GTEST_SKIP() << "no cache in builds with memory-tool hooks";
  }
  Heap& heap() { return owner_->heap(); }
  void* take(std::size_t size) {
    Result<void*> p = heap().allocate(size);
    EXPECT_TRUE(p.has_value()) << size;
    EXPECT_TRUE(valid(heap()));
    return p ? *p : nullptr;
  }
  void give(void* p) {
    heap().deallocate(p);
    EXPECT_TRUE(valid(heap()));
  }

 private:
  std::unique_ptr<TestHeap<Heap>> owner_ = std::make_unique<TestHeap<Heap>>();
};

TYPED_TEST_SUITE(QuickCacheOneBinTest, OneBinHeaps);

// A freed minimum block between two live ones is cached and handed back whole to its own size; a larger request,
// which no bin holds, takes memory of its own.
TYPED_TEST(QuickCacheOneBinTest, TheBinServesTheMinimumBlockAndOnlyIt) {
  void* a = this->take(1);
  void* guard = this->take(1);
  this->give(a);
  EXPECT_EQ(this->heap().stats().cached_blocks, 1u);
  void* larger = this->take(TypeParam::kMinBlockSize);  // a block a granule larger: past the one bin
  EXPECT_NE(larger, a);
  EXPECT_EQ(this->heap().stats().cached_blocks, 1u);
  void* again = this->take(1);
  EXPECT_EQ(again, a) << "the minimum block's request takes the cached block";
  EXPECT_EQ(this->heap().stats().cached_blocks, 0u);
  for (void* p : {again, larger, guard}) this->give(p);
  this->heap().flush_cache();  // a freed minimum block between live ones went back into the bin
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
  EXPECT_EQ(this->heap().stats().cached_blocks, 0u);
}

}  // namespace
}  // namespace nostd::testing
