// The standard-library doors in code built *with* exceptions (this one test target adds -fexceptions): the
// default out-of-memory handler throws std::bad_alloc (std::bad_array_new_length for an overflowing count), as
// std::allocator and std::pmr resources do, and the container and heap are left as they were.
#include <gtest/gtest.h>

#include <csignal>
#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>
#include <vector>

#include "alloc/adapt/heap_resource.h"
#include "alloc/adapt/std_allocator.h"
#include "alloc/alloc.h"
#include "tests/door_without_exceptions.h"
#include "tests/heap_test_util.h"

#if !defined(__cpp_exceptions)
#error "door_exceptions_test must be compiled with -fexceptions"
#endif

namespace nostd::testing {
namespace {

using Heap = BasicHeap<FirstFit, CompactTags, RegionSource>;

TEST(DoorExceptionsTest, StdAllocatorThrowsBadAlloc) {
  auto owner = std::make_unique<TestHeap<Heap>>();
  Heap& heap = owner->heap();
  std::vector<int, StdAllocator<int, Heap>> v(heap);
  v.assign(100, 7);
  const int* data = v.data();
  const HeapStats before = heap.stats();
  EXPECT_THROW(v.reserve(kTestHeapBytes), std::bad_alloc);
  EXPECT_EQ(v.size(), 100u);
  EXPECT_EQ(v.data(), data) << "strong guarantee: the vector kept its buffer";
  EXPECT_EQ(v[99], 7);
  EXPECT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, before.live_allocations);
  EXPECT_EQ(heap.stats().failed_allocations, before.failed_allocations + 1);

  StdAllocator<int, Heap> a(heap);
  EXPECT_THROW(static_cast<void>(a.allocate(a.max_size() + 1)), std::bad_array_new_length);
  EXPECT_TRUE(valid(heap));
}

TEST(DoorExceptionsTest, HeapResourceThrowsBadAlloc) {
  auto owner = std::make_unique<TestHeap<Heap>>();
  Heap& heap = owner->heap();
  HeapResource<Heap> resource(heap);
  std::pmr::vector<char> v(&resource);
  v.assign(10, 'x');
  EXPECT_THROW(v.reserve(kTestHeapBytes), std::bad_alloc);
  EXPECT_EQ(v.size(), 10u);
  EXPECT_THROW(static_cast<void>(resource.allocate(8, 3)), std::bad_alloc) << "alignment not a power of two";
  EXPECT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 1u);
}

#if GTEST_HAS_DEATH_TEST
// A program may link code built with and without exceptions; the default handler is chosen where the door is
// used, so the same StdAllocator and HeapResource types in tests/door_without_exceptions.cc abort while this file
// throws. They used to be one inline function with two bodies, and the linker kept this file's: that code threw
// through frames built without exceptions (or, with the other link order, this file aborted).
TEST(DoorExceptionsDeathTest, CodeBuiltWithoutExceptionsStillAborts) {
  auto owner = std::make_unique<TestHeap<DoorHeap>>();
  DoorHeap& heap = owner->heap();
  EXPECT_EXIT(
      {
        try {
          static_cast<void>(allocate_ints_without_exceptions(heap, kTestHeapBytes));
        } catch (const std::bad_alloc&) {
        }
      },
      ::testing::KilledBySignal(SIGABRT), "");
  EXPECT_EXIT(
      {
        try {
          static_cast<void>(resource_allocate_without_exceptions(heap, 8, 3));
        } catch (const std::bad_alloc&) {
        }
      },
      ::testing::KilledBySignal(SIGABRT), "");
  StdAllocator<int, DoorHeap> a(heap);
  EXPECT_THROW(static_cast<void>(a.allocate(kTestHeapBytes)), std::bad_alloc) << "this file still throws";
  EXPECT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}
#endif

}  // namespace
}  // namespace nostd::testing
