// Tests for alloc/adapt/heap_resource.h: HeapResource is a std::pmr::memory_resource over a heap. std::pmr
// containers (vector, string, map, nested containers that pass the resource down, a monotonic buffer with the
// heap upstream) allocate from it, with validate() after every step and exact live-block counts; equality is
// identity; bad alignments and exhaustion reach the out-of-memory handler and lose nothing.
#include "alloc/adapt/heap_resource.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <memory_resource>
#include <string>
#include <vector>

#include "alloc/alloc.h"
#include "tests/door_heaps.h"
#include "tests/heap_test_util.h"
#include "tests/out_of_memory_recorder.h"

namespace nostd::testing {
namespace {

template <class Heap>
class HeapResourceTest : public ::testing::Test {
 protected:
  Heap& heap() { return owner_->heap(); }
  std::unique_ptr<TestHeap<Heap>> owner_ = std::make_unique<TestHeap<Heap>>();
  HeapResource<Heap> resource_{owner_->heap()};
};

TYPED_TEST_SUITE(HeapResourceTest, DoorHeaps, HeapNames);

TYPED_TEST(HeapResourceTest, AllocatesAlignedBlocksFromTheHeap) {
  auto& heap = this->heap();
  std::pmr::memory_resource& r = this->resource_;
  EXPECT_EQ(&this->resource_.heap(), &heap);
  for (std::size_t align :
       {std::size_t{1}, std::size_t{8}, alignof(std::max_align_t), std::size_t{64}, std::size_t{4096}}) {
    for (std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{3000}}) {
      void* p = r.allocate(bytes, align);
      ASSERT_TRUE(heap.owns(p));
      EXPECT_TRUE(is_aligned(p, align)) << bytes << " bytes aligned to " << align;
      EXPECT_GE(heap.usable_size(p), bytes);
      fill(p, bytes, bytes + align);
      EXPECT_EQ(heap.stats().live_allocations, 1u);
      ASSERT_TRUE(valid(heap));
      EXPECT_TRUE(holds_pattern(p, bytes, bytes + align));
      r.deallocate(p, bytes, align);
      ASSERT_TRUE(valid(heap));
      EXPECT_EQ(heap.stats().live_allocations, 0u);
    }
  }
}

TYPED_TEST(HeapResourceTest, EqualityIsIdentity) {
  HeapResource<TypeParam> second(this->heap());
  const std::pmr::memory_resource& r = this->resource_;
  EXPECT_TRUE(r.is_equal(this->resource_));
  EXPECT_TRUE(r == this->resource_);
  EXPECT_FALSE(r.is_equal(second)) << "no RTTI to recognise another resource over the same heap";
  EXPECT_FALSE(r.is_equal(*std::pmr::new_delete_resource()));
  EXPECT_FALSE(std::pmr::new_delete_resource()->is_equal(r));
  std::pmr::polymorphic_allocator<int> a(&this->resource_);
  std::pmr::polymorphic_allocator<int> b(&this->resource_);
  std::pmr::polymorphic_allocator<int> c(&second);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
}

TYPED_TEST(HeapResourceTest, PmrContainersLiveOnTheHeap) {
  auto& heap = this->heap();
  {
    std::pmr::vector<int> v(&this->resource_);
    for (int i = 0; i < 1000; ++i) {
      v.push_back(i);
      ASSERT_EQ(heap.stats().live_allocations, 1u);
      ASSERT_TRUE(valid(heap));
    }
    EXPECT_TRUE(heap.owns(v.data()));

    std::pmr::string s("a string long enough to leave the small-string buffer behind", &this->resource_);
    EXPECT_TRUE(heap.owns(s.data()));
    EXPECT_EQ(heap.stats().live_allocations, 2u);

    std::pmr::map<int, int> m(&this->resource_);
    for (int i = 0; i < 100; ++i) {
      m.emplace(i, -i);
      ASSERT_TRUE(valid(heap));
    }
    EXPECT_EQ(heap.stats().live_allocations, 102u) << "vector, string and one node per map element";
    for (int i = 0; i < 100; i += 2) m.erase(i);
    EXPECT_EQ(heap.stats().live_allocations, 52u);
    ASSERT_TRUE(valid(heap));
  }
  EXPECT_EQ(heap.stats().live_allocations, 0u);
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
  ASSERT_TRUE(valid(heap));
}

TYPED_TEST(HeapResourceTest, NestedContainersPassTheResourceDown) {
  auto& heap = this->heap();
  {
    std::pmr::vector<std::pmr::string> names(&this->resource_);
    names.reserve(10);
    for (int i = 0; i < 10; ++i) {
      names.emplace_back(40 + static_cast<std::size_t>(i), static_cast<char>('a' + i));
      ASSERT_TRUE(valid(heap));
    }
    // uses-allocator construction: every string got the vector's resource, so all 11 blocks are on the heap.
    EXPECT_EQ(heap.stats().live_allocations, 11u);
    for (const auto& name : names) {
      EXPECT_TRUE(heap.owns(name.data()));
      EXPECT_TRUE(*name.get_allocator().resource() == this->resource_);
    }
  }
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}

TYPED_TEST(HeapResourceTest, UpstreamOfAMonotonicBuffer) {
  auto& heap = this->heap();
  {
    std::pmr::monotonic_buffer_resource arena(1024, &this->resource_);
    std::pmr::vector<std::uint64_t> v(&arena);
    for (std::uint64_t i = 0; i < 2000; ++i) v.push_back(i);
    EXPECT_GE(heap.stats().live_allocations, 1u) << "the arena's chunks come from the heap";
    EXPECT_GE(heap.stats().bytes_in_use, 2000 * sizeof(std::uint64_t));
    ASSERT_TRUE(valid(heap));
  }
  EXPECT_EQ(heap.stats().live_allocations, 0u) << "the arena gave its chunks back";
  ASSERT_TRUE(valid(heap));
}

TYPED_TEST(HeapResourceTest, BadRequestsReachTheHandlerAndLoseNothing) {
  auto& heap = this->heap();
  HeapResource<TypeParam, RecordingOom> resource(heap);
  std::pmr::memory_resource& r = resource;
  void* kept = r.allocate(64, 16);
  fill(kept, 64, 9);
  const HeapStats before = heap.stats();

  EXPECT_OUT_OF_MEMORY(static_cast<void>(r.allocate(kTestHeapBytes, 8)));
  EXPECT_EQ(RecordingOom::last.error, AllocError::kOutOfMemory);
  EXPECT_EQ(RecordingOom::last.bytes, kTestHeapBytes);
  EXPECT_EQ(RecordingOom::last.align, 8u);

  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{48}}) {
    EXPECT_OUT_OF_MEMORY(static_cast<void>(r.allocate(16, align)));
    EXPECT_EQ(RecordingOom::last.error, AllocError::kInvalidLayout) << align;
    EXPECT_EQ(RecordingOom::last.align, align);
  }
  EXPECT_OUT_OF_MEMORY(static_cast<void>(r.allocate(16, TypeParam::kMaxAlignment * 2)));
  EXPECT_EQ(RecordingOom::last.error, AllocError::kInvalidLayout);

  volatile std::size_t huge = SIZE_MAX - 4;  // volatile: g++ rejects a constant this large at compile time
  EXPECT_OUT_OF_MEMORY(static_cast<void>(r.allocate(huge, 8)));
  EXPECT_EQ(RecordingOom::last.error, AllocError::kSizeOverflow);
  EXPECT_EQ(RecordingOom::last.bytes, SIZE_MAX - 4);
  // Both wrong: the alignment the heap cannot give is what is reported (Layout::from alone says kSizeOverflow).
  EXPECT_OUT_OF_MEMORY(static_cast<void>(r.allocate(huge, TypeParam::kMaxAlignment * 2)));
  EXPECT_EQ(RecordingOom::last.error, AllocError::kInvalidLayout);

  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, before.live_allocations);
  EXPECT_EQ(heap.stats().bytes_in_use, before.bytes_in_use);
  // Every refusal went through the heap, which counted it: the exhaustion, five bad alignments and the huge size.
  EXPECT_EQ(heap.stats().failed_allocations, before.failed_allocations + 7);
  EXPECT_TRUE(holds_pattern(kept, 64, 9));
  r.deallocate(kept, 64, 16);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}

#if GTEST_HAS_DEATH_TEST
TEST(HeapResourceDeathTest, DefaultHandlerAbortsWithoutExceptions) {
  using Heap = BasicHeap<FirstFit, CompactTags, RegionSource>;
  auto owner = std::make_unique<TestHeap<Heap>>();
  HeapResource<Heap> resource(owner->heap());
  std::pmr::vector<char> v(&resource);
  EXPECT_DEATH(v.reserve(kTestHeapBytes), "");
  EXPECT_TRUE(valid(owner->heap()));
}

/// A handler that breaks the contract: it counts the failure and returns (it is not [[noreturn]]).
struct ReturningOom {
  static inline int calls = 0;
  static void on_out_of_memory(const OutOfMemory&) { ++calls; }
};

TEST(HeapResourceDeathTest, HandlerThatReturnsStopsTheProgram) {
  // do_allocate has no block to return: it must not hand the caller the failed Result's bytes as a pointer.
  using Heap = BasicHeap<FirstFit, CompactTags, RegionSource>;
  auto owner = std::make_unique<TestHeap<Heap>>();
  HeapResource<Heap, ReturningOom> resource(owner->heap());
  EXPECT_DEATH(static_cast<void>(resource.allocate(kTestHeapBytes, 8)), "");
  EXPECT_DEATH(static_cast<void>(resource.allocate(16, 3)), "");
  EXPECT_DEATH(static_cast<void>(resource.allocate(16, Heap::kMaxAlignment * 2)), "");
  EXPECT_TRUE(valid(owner->heap()));
  EXPECT_EQ(owner->heap().stats().live_allocations, 0u);
}
#endif

}  // namespace
}  // namespace nostd::testing
