// Tests for alloc/allocator.h and alloc/heap_ref.h: which types are Allocators and which abilities they expose,
// HeapRef / StaticHeapRef forwarding, and the size of containers on a StaticHeapRef (three words).
#include "alloc/heap_ref.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "alloc/alloc.h"
#include "alloc/allocator.h"
#include "containers/string.h"
#include "containers/vec.h"
#include "tests/fault_allocator.h"

namespace nostd {
namespace {

using Heap = BasicHeap<FirstFit, CompactTags, StaticArraySource<16 * 1024>>;
constinit Heap g_heap;
constinit Heap g_other_heap;
using GlobalRef = StaticHeapRef<g_heap>;

/// A heap with only the two required calls, so handles to it must not offer reallocate or usable_size.
class MinimalHeap {
 public:
  /// Forwards to an inner BasicHeap.
  Result<void*> allocate(Layout layout) { return heap_.allocate(layout); }
  /// Forwards to an inner BasicHeap.
  void deallocate(void* ptr, Layout layout) { heap_.deallocate(ptr, layout); }
  /// The inner heap, for validate() and stats().
  Heap& inner() { return heap_; }

 private:
  Heap heap_;
};
constinit MinimalHeap g_minimal;

// What is an Allocator, and which optional abilities each handle has.
static_assert(Allocator<HeapRef<Heap>> && HasReallocate<HeapRef<Heap>> && HasUsableSize<HeapRef<Heap>>);
static_assert(Allocator<GlobalRef> && HasReallocate<GlobalRef> && HasUsableSize<GlobalRef>);
static_assert(Allocator<HeapRef<MinimalHeap>>);
static_assert(!HasReallocate<HeapRef<MinimalHeap>> && !HasUsableSize<HeapRef<MinimalHeap>>,
              "a capability the heap lacks must be absent from the handle, not stubbed");
static_assert(!Allocator<Heap>, "a heap cannot be copied: containers hold a handle to it");
static_assert(!Allocator<int> && !Allocator<void*>);
static_assert(internal::diagnose_allocator<HeapRef<Heap>>());
static_assert(!HasReallocate<test::FaultyAlloc<Heap, test::kNoCapabilities>> &&
              !HasUsableSize<test::FaultyAlloc<Heap, test::kNoCapabilities>>);
static_assert(HasReallocate<test::FaultyAlloc<Heap, test::kReallocate>> &&
              !HasUsableSize<test::FaultyAlloc<Heap, test::kReallocate>>);
static_assert(!HasReallocate<test::FaultyAlloc<Heap, test::kUsableSize>> &&
              HasUsableSize<test::FaultyAlloc<Heap, test::kUsableSize>>);

// Sizes: a HeapRef is one pointer; a StaticHeapRef is nothing, so a Vec or String on it is three words.
static_assert(sizeof(HeapRef<Heap>) == sizeof(void*));
static_assert(std::is_empty_v<GlobalRef>);
static_assert(sizeof(Vec<int, GlobalRef>) == 3 * sizeof(void*), "Vec on a StaticHeapRef: pointer, size, capacity");
static_assert(sizeof(String<GlobalRef>) == 3 * sizeof(void*), "String on a StaticHeapRef: pointer, size, capacity");
static_assert(sizeof(Vec<int, HeapRef<Heap>>) == 4 * sizeof(void*));
static_assert(std::is_trivially_copyable_v<HeapRef<Heap>> && std::is_trivially_copyable_v<GlobalRef>);
static_assert(kIsTriviallyRelocatable<Vec<int, GlobalRef>> && kIsTriviallyRelocatable<String<HeapRef<Heap>>>);

class HeapRefTest : public ::testing::Test {
 protected:
  void SetUp() override { live_at_start_ = g_heap.stats().live_allocations; }
  void TearDown() override {
    EXPECT_TRUE(g_heap.validate());
    EXPECT_EQ(g_heap.stats().live_allocations, live_at_start_);
  }
  std::size_t live_at_start_ = 0;
};

TEST_F(HeapRefTest, ForwardsEveryCallToTheHeap) {
  HeapRef<Heap> ref(g_heap);
  EXPECT_EQ(&ref.heap(), &g_heap);
  const Layout layout = *Layout::from(40, 8);
  Result<void*> p = ref.allocate(layout);
  ASSERT_TRUE(p);
  ASSERT_TRUE(g_heap.validate());
  EXPECT_TRUE(g_heap.owns(*p));
  EXPECT_EQ(g_heap.stats().live_allocations, live_at_start_ + 1);
  EXPECT_GE(ref.usable_size(*p), 40u);
  EXPECT_EQ(ref.usable_size(*p), g_heap.usable_size(*p));
  std::memset(*p, 0x5A, 40);

  Result<void*> q = ref.reallocate(*p, layout, 4000);
  ASSERT_TRUE(q);
  ASSERT_TRUE(g_heap.validate());
  EXPECT_GE(ref.usable_size(*q), 4000u);
  for (std::size_t i = 0; i < 40; ++i) ASSERT_EQ(static_cast<unsigned char*>(*q)[i], 0x5A) << i;

  ref.deallocate(*q, *Layout::from(4000, 8));
  ASSERT_TRUE(g_heap.validate());
}

TEST_F(HeapRefTest, ForwardsOverAlignedRequests) {
  GlobalRef ref;
  const Layout layout = *Layout::from(100, 64);
  Result<void*> p = ref.allocate(layout);
  ASSERT_TRUE(p);
  EXPECT_TRUE(is_aligned(*p, 64));
  Result<void*> q = ref.reallocate(*p, layout, 3000);
  ASSERT_TRUE(q);
  EXPECT_TRUE(is_aligned(*q, 64)) << "reallocate keeps the block's alignment";
  ref.deallocate(*q, *Layout::from(3000, 64));
  ASSERT_TRUE(g_heap.validate());
}

TEST_F(HeapRefTest, ErrorsComeBackUnchanged) {
  HeapRef<Heap> ref(g_heap);
  Result<void*> huge = ref.allocate(*Layout::from(1u << 20, 8));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error(), AllocError::kOutOfMemory);
  Result<void*> bad_align = ref.allocate(*Layout::from(8, Heap::kMaxAlignment * 2));
  ASSERT_FALSE(bad_align);
  EXPECT_EQ(bad_align.error(), AllocError::kInvalidLayout);
}

TEST_F(HeapRefTest, HandlesCompareByHeap) {
  EXPECT_EQ(HeapRef<Heap>(g_heap), HeapRef<Heap>(g_heap));
  EXPECT_NE(HeapRef<Heap>(g_heap), HeapRef<Heap>(g_other_heap));
  EXPECT_EQ(GlobalRef{}, GlobalRef{});
  EXPECT_EQ(&GlobalRef::heap(), &g_heap);
}

TEST_F(HeapRefTest, ContainersOnAStaticHeapRef) {
  Vec<int, GlobalRef> v;  // default-constructible: the handle has no state
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(v.push_back(i));
  ASSERT_TRUE(g_heap.validate());
  EXPECT_TRUE(g_heap.owns(v.data()));
  EXPECT_EQ(v[499], 499);

  String<GlobalRef> s;
  ASSERT_TRUE(s.append("static heap"));
  ASSERT_TRUE(g_heap.validate());
  EXPECT_EQ(s, "static heap");
}

TEST(MinimalHeapTest, ContainersFallBackToAllocateCopyFree) {
  const std::size_t live = g_minimal.inner().stats().live_allocations;
  {
    HeapRef<MinimalHeap> ref(g_minimal);
    Vec<int, HeapRef<MinimalHeap>> v(ref);
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(v.push_back(i));
      ASSERT_TRUE(g_minimal.inner().validate());
    }
    for (int i = 0; i < 300; ++i) ASSERT_EQ(v[static_cast<std::size_t>(i)], i);
    ASSERT_TRUE(v.shrink_to_fit());
    EXPECT_EQ(v.capacity(), 300u) << "without usable_size, capacity is exactly what was asked";

    String<HeapRef<MinimalHeap>> s(ref);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(s.append("ab"));
    EXPECT_EQ(s.size(), 200u);
    EXPECT_TRUE(s.starts_with("abab") && s.ends_with("ab"));
    ASSERT_TRUE(g_minimal.inner().validate());
  }
  EXPECT_EQ(g_minimal.inner().stats().live_allocations, live);
}

}  // namespace
}  // namespace nostd
