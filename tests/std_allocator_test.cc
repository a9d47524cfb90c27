// Tests for alloc/adapt/std_allocator.h: StdAllocator meets the C++ Allocator requirements (traits, rebind,
// equality by heap identity, propagation, max_size) and carries std::vector, std::map, std::basic_string and
// std::allocate_shared on several heap compositions, with validate() after every step and exact live-block
// counts; an exhausted heap or an overflowing count reaches the out-of-memory handler with the right figures.
#include "alloc/adapt/std_allocator.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "alloc/alloc.h"
#include "tests/door_heaps.h"
#include "tests/heap_test_util.h"
#include "tests/out_of_memory_recorder.h"

namespace nostd::testing {
namespace {

struct alignas(64) Aligned64 {
  std::byte bytes[64];
};

/// An object for allocate_shared that counts live instances.
struct Widget {
  static inline int live = 0;
  explicit Widget(int v) : value(v) { ++live; }
  ~Widget() { --live; }
  Widget(const Widget&) = delete;
  Widget& operator=(const Widget&) = delete;
  int value;
};

template <class Heap>
class StdAllocatorTest : public ::testing::Test {
 protected:
  template <class T>
  using Alloc = StdAllocator<T, Heap>;
  Heap& heap() { return owner_->heap(); }
  Heap& other_heap() { return other_->heap(); }
  std::unique_ptr<TestHeap<Heap>> owner_ = std::make_unique<TestHeap<Heap>>();
  std::unique_ptr<TestHeap<Heap>> other_ = std::make_unique<TestHeap<Heap>>();
};

TYPED_TEST_SUITE(StdAllocatorTest, DoorHeaps, HeapNames);

TYPED_TEST(StdAllocatorTest, MeetsTheAllocatorRequirements) {
  using A = StdAllocator<int, TypeParam>;
  using Traits = std::allocator_traits<A>;
  static_assert(std::is_same_v<typename Traits::value_type, int>);
  static_assert(std::is_same_v<typename Traits::pointer, int*>);
  static_assert(std::is_same_v<typename Traits::size_type, std::size_t>);
  static_assert(std::is_same_v<typename Traits::template rebind_alloc<long>, StdAllocator<long, TypeParam>>);
  static_assert(std::is_same_v<typename A::template rebind<char>::other, StdAllocator<char, TypeParam>>);
  static_assert(Traits::propagate_on_container_copy_assignment::value);
  static_assert(Traits::propagate_on_container_move_assignment::value);
  static_assert(Traits::propagate_on_container_swap::value);
  static_assert(!Traits::is_always_equal::value);
  static_assert(std::is_nothrow_copy_constructible_v<A> && std::is_nothrow_move_constructible_v<A>);
  static_assert(std::is_convertible_v<TypeParam&, A>, "a heap converts to its allocator");
  static_assert(std::is_convertible_v<StdAllocator<long, TypeParam>, A>, "rebinding conversion");
  static_assert(sizeof(A) == sizeof(void*), "an allocator is one pointer");
  static_assert(A::max_size() == static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(int));
  static_assert(StdAllocator<Aligned64, TypeParam>::max_size() == static_cast<std::size_t>(PTRDIFF_MAX) / 64);

  A a(this->heap());
  EXPECT_EQ(Traits::max_size(a), A::max_size());
  EXPECT_EQ(&a.heap(), &this->heap());
  const A copy = Traits::select_on_container_copy_construction(a);
  EXPECT_TRUE(copy == a);
}

TYPED_TEST(StdAllocatorTest, EqualExactlyWhenTheHeapIsTheSame) {
  using A = StdAllocator<int, TypeParam>;
  using B = StdAllocator<double, TypeParam>;
  const A a(this->heap());
  const A a2(this->heap());
  const A other(this->other_heap());
  const B b(a);
  EXPECT_TRUE(a == a2);
  EXPECT_FALSE(a != a2);
  EXPECT_TRUE(a != other);
  EXPECT_TRUE(a == b) << "rebound copies compare equal";
  EXPECT_TRUE(A(b) == a) << "A(B(a)) == a";
  EXPECT_TRUE(b != B(other));
  A moved = std::move(A(a2));
  EXPECT_TRUE(moved == a);
}

TYPED_TEST(StdAllocatorTest, AllocatesAlignedStorageFromTheHeap) {
  auto& heap = this->heap();
  StdAllocator<std::uint32_t, TypeParam> words(heap);
  StdAllocator<Aligned64, TypeParam> lines(heap);
  const HeapStats before = heap.stats();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100}}) {
    std::uint32_t* w = words.allocate(n);
    ASSERT_NE(w, nullptr);
    EXPECT_TRUE(is_aligned(w, alignof(std::uint32_t)));
    EXPECT_GE(heap.usable_size(w), n * sizeof(std::uint32_t));
    fill(w, n * sizeof(std::uint32_t), n);
    Aligned64* l = lines.allocate(n + 1);
    EXPECT_TRUE(is_aligned(l, 64)) << n;
    fill(l, (n + 1) * 64, n + 1);
    EXPECT_EQ(heap.stats().live_allocations, before.live_allocations + 2);
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(holds_pattern(w, n * sizeof(std::uint32_t), n));
    words.deallocate(w, n);
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(holds_pattern(l, (n + 1) * 64, n + 1));
    lines.deallocate(l, n + 1);
    ASSERT_TRUE(valid(heap));
  }
  const HeapStats after = heap.stats();
  EXPECT_EQ(after.live_allocations, before.live_allocations);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.total_allocations, before.total_allocations + 8);
}

TYPED_TEST(StdAllocatorTest, VectorLivesOnTheHeap) {
  auto& heap = this->heap();
  {
    std::vector<int, StdAllocator<int, TypeParam>> v(heap);
    EXPECT_EQ(heap.stats().live_allocations, 0u) << "an empty vector allocates nothing";
    for (int i = 0; i < 2000; ++i) {
      v.push_back(i * 3);
      ASSERT_EQ(heap.stats().live_allocations, 1u) << "one buffer, the old one freed on growth";
      ASSERT_TRUE(valid(heap));
    }
    EXPECT_TRUE(heap.owns(v.data()));
    EXPECT_GE(heap.stats().bytes_in_use, 2000 * sizeof(int));
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(v[static_cast<std::size_t>(i)], i * 3);
    v.erase(v.begin(), v.begin() + 1000);
    v.shrink_to_fit();
    ASSERT_TRUE(valid(heap));
    EXPECT_EQ(v.front(), 3000);
    EXPECT_TRUE((v.get_allocator() == StdAllocator<int, TypeParam>(heap)));
    // A copy stays on the heap too (select_on_container_copy_construction copies the allocator).
    auto copy = v;
    EXPECT_EQ(heap.stats().live_allocations, 2u);
    EXPECT_TRUE(copy == v);
    ASSERT_TRUE(valid(heap));
  }
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 0u);
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
}

TYPED_TEST(StdAllocatorTest, MapNodesLiveOnTheHeap) {
  auto& heap = this->heap();
  using Map = std::map<int, long, std::less<int>, StdAllocator<std::pair<const int, long>, TypeParam>>;
  {
    Map m(heap);
    for (int i = 0; i < 300; ++i) {
      m.emplace(i, i * 10L);
      ASSERT_EQ(heap.stats().live_allocations, m.size()) << "one node per element, from the rebound allocator";
      ASSERT_TRUE(valid(heap));
    }
    for (int i = 1; i < 300; i += 2) {
      m.erase(i);
      ASSERT_TRUE(valid(heap));
    }
    EXPECT_EQ(m.size(), 150u);
    EXPECT_EQ(heap.stats().live_allocations, 150u);
    EXPECT_EQ(m.at(298), 2980L);
    EXPECT_EQ(m.count(297), 0u);
  }
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}

TYPED_TEST(StdAllocatorTest, BasicStringLivesOnTheHeap) {
  auto& heap = this->heap();
  using String = std::basic_string<char, std::char_traits<char>, StdAllocator<char, TypeParam>>;
  {
    String s(heap);
    for (int i = 0; i < 500; ++i) {
      s.push_back(static_cast<char>('a' + i % 26));
      ASSERT_LE(heap.stats().live_allocations, 1u);
      ASSERT_TRUE(valid(heap));
    }
    EXPECT_EQ(heap.stats().live_allocations, 1u) << "500 characters do not fit the small-string buffer";
    EXPECT_TRUE(heap.owns(s.data()));
    EXPECT_EQ(s.size(), 500u);
    EXPECT_EQ(std::string_view(s).substr(0, 5), "abcde");  // libstdc++ 12's substr default-constructs an allocator
    String t = s + s;
    EXPECT_EQ(t.size(), 1000u);
    EXPECT_EQ(heap.stats().live_allocations, 2u);
    ASSERT_TRUE(valid(heap));
  }
  EXPECT_EQ(heap.stats().live_allocations, 0u);
  ASSERT_TRUE(valid(heap));
}

TYPED_TEST(StdAllocatorTest, AllocateSharedPutsObjectAndCountsOnTheHeap) {
  auto& heap = this->heap();
  std::weak_ptr<Widget> weak;
  {
    std::shared_ptr<Widget> p = std::allocate_shared<Widget>(StdAllocator<Widget, TypeParam>(heap), 42);
    EXPECT_EQ(p->value, 42);
    EXPECT_EQ(Widget::live, 1);
    EXPECT_EQ(heap.stats().live_allocations, 1u) << "object and control block share one block";
    EXPECT_TRUE(heap.owns(p.get()));
    ASSERT_TRUE(valid(heap));
    std::shared_ptr<Widget> q = p;
    EXPECT_EQ(p.use_count(), 2);
    weak = p;
  }
  EXPECT_EQ(Widget::live, 0) << "destroyed with the last shared_ptr";
  EXPECT_EQ(heap.stats().live_allocations, 1u) << "the weak_ptr keeps the control block";
  ASSERT_TRUE(valid(heap));
  weak.reset();
  EXPECT_EQ(heap.stats().live_allocations, 0u);
  ASSERT_TRUE(valid(heap));
}

TYPED_TEST(StdAllocatorTest, ContainersPropagateTheirHeap) {
  using Vector = std::vector<int, StdAllocator<int, TypeParam>>;
  auto& one = this->heap();
  auto& two = this->other_heap();
  {
    Vector a(one);
    Vector b(two);
    a.assign(100, 1);
    b.assign(50, 2);
    const std::size_t one_allocations = one.stats().total_allocations;
    const std::size_t two_allocations = two.stats().total_allocations;

    b = std::move(a);  // takes a's heap and buffer: nothing allocated anywhere
    EXPECT_TRUE((b.get_allocator() == StdAllocator<int, TypeParam>(one)));
    EXPECT_EQ(b.size(), 100u);
    EXPECT_EQ(one.stats().total_allocations, one_allocations);
    EXPECT_EQ(two.stats().total_allocations, two_allocations);
    EXPECT_EQ(two.stats().live_allocations, 0u) << "b's old buffer went back to its heap";
    ASSERT_TRUE(valid(one));
    ASSERT_TRUE(valid(two));

    Vector c(two);
    c.assign(10, 3);
    c.swap(b);  // O(1): the heaps travel with the buffers
    EXPECT_TRUE((c.get_allocator() == StdAllocator<int, TypeParam>(one)));
    EXPECT_TRUE((b.get_allocator() == StdAllocator<int, TypeParam>(two)));
    EXPECT_EQ(c.size(), 100u);
    EXPECT_EQ(b.size(), 10u);

    Vector d(two);
    d = c;  // copy assignment copies c's allocator: d now lives on heap one
    EXPECT_TRUE((d.get_allocator() == StdAllocator<int, TypeParam>(one)));
    EXPECT_TRUE(one.owns(d.data()));
    EXPECT_EQ(one.stats().live_allocations, 2u);
    EXPECT_EQ(two.stats().live_allocations, 1u);
    ASSERT_TRUE(valid(one));
    ASSERT_TRUE(valid(two));
  }
  EXPECT_EQ(one.stats().live_allocations, 0u);
  EXPECT_EQ(two.stats().live_allocations, 0u);
}

TYPED_TEST(StdAllocatorTest, ExhaustionAndOverflowReachTheHandler) {
  auto& heap = this->heap();
  StdAllocator<std::uint64_t, TypeParam, RecordingOom> a(heap);
  std::uint64_t* kept = a.allocate(16);
  const HeapStats before = heap.stats();

  // More than the heap holds: the heap's error and the byte count.
  EXPECT_OUT_OF_MEMORY(static_cast<void>(a.allocate(kTestHeapBytes / 8)));
  EXPECT_EQ(RecordingOom::last.error, AllocError::kOutOfMemory);
  EXPECT_EQ(RecordingOom::last.bytes, kTestHeapBytes);
  EXPECT_EQ(RecordingOom::last.align, alignof(std::uint64_t));
  EXPECT_EQ(heap.stats().failed_allocations, before.failed_allocations + 1);

  // Counts whose byte size overflows, or exceeds max_size(): kSizeOverflow, never a wrapped small block.
  for (std::size_t n : {a.max_size() + 1, SIZE_MAX / 8 + 1, SIZE_MAX}) {
    EXPECT_OUT_OF_MEMORY(static_cast<void>(a.allocate(n)));
    EXPECT_EQ(RecordingOom::last.error, AllocError::kSizeOverflow) << n;
    EXPECT_EQ(RecordingOom::last.bytes, OutOfMemory::kOverflowedBytes);
  }

  // An element type aligned beyond the heap's largest alignment: kInvalidLayout, never a block aligned less.
  struct alignas(TypeParam::kMaxAlignment * 2) TooAligned {
    std::byte byte;
  };
  StdAllocator<TooAligned, TypeParam, RecordingOom> too_aligned(heap);
  EXPECT_OUT_OF_MEMORY(static_cast<void>(too_aligned.allocate(1)));
  EXPECT_TRUE(valid(heap));
  EXPECT_EQ(RecordingOom::last.error, AllocError::kInvalidLayout);
  EXPECT_EQ(RecordingOom::last.bytes, sizeof(TooAligned));
  EXPECT_EQ(RecordingOom::last.align, alignof(TooAligned));
  EXPECT_EQ(heap.stats().failed_allocations, before.failed_allocations + 2);

  // Nothing was lost: the heap is intact and the earlier block still usable.
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, before.live_allocations);
  EXPECT_EQ(heap.stats().bytes_in_use, before.bytes_in_use);
  kept[15] = 7;
  a.deallocate(kept, 16);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}

#if GTEST_HAS_DEATH_TEST
/// A handler that reports the failure and ends the process with status 3.
struct ExitOnOom {
  [[noreturn]] static void on_out_of_memory(const OutOfMemory& failure) {
    std::fprintf(stderr, "out of memory: %s, %zu bytes, align %zu\n", to_string(failure.error).data(), failure.bytes,
                 failure.align);
    std::_Exit(3);
  }
};

using Heap = BasicHeap<FirstFit, CompactTags, RegionSource>;

TEST(StdAllocatorDeathTest, DefaultHandlerAbortsWithoutExceptions) {
  auto owner = std::make_unique<TestHeap<Heap>>();
  std::vector<int, StdAllocator<int, Heap>> v(owner->heap());
  EXPECT_DEATH(v.reserve(kTestHeapBytes), "");
  EXPECT_DEATH(v.resize(v.max_size()), "");
  EXPECT_TRUE(v.empty());
}

/// A handler that breaks the contract: it counts the failure and returns (it is not [[noreturn]]).
struct ReturningOom {
  static inline int calls = 0;
  static void on_out_of_memory(const OutOfMemory&) { ++calls; }
};

TEST(StdAllocatorDeathTest, HandlerThatReturnsStopsTheProgram) {
  // allocate has no block to return: it must not hand the caller the failed Result's bytes as a pointer.
  auto owner = std::make_unique<TestHeap<Heap>>();
  StdAllocator<int, Heap, ReturningOom> a(owner->heap());
  EXPECT_DEATH(static_cast<void>(a.allocate(kTestHeapBytes)), "");
  EXPECT_DEATH(static_cast<void>(a.allocate(a.max_size() + 1)), "");
  EXPECT_TRUE(valid(owner->heap()));
  EXPECT_EQ(owner->heap().stats().live_allocations, 0u);
}

TEST(StdAllocatorDeathTest, ReplacedHandlerSeesTheFailure) {
  auto owner = std::make_unique<TestHeap<Heap>>();
  std::vector<int, StdAllocator<int, Heap, ExitOnOom>> v(owner->heap());
  v.assign(1000, 5);
  EXPECT_EXIT(v.reserve(kTestHeapBytes), ::testing::ExitedWithCode(3),
              "out of memory: out of memory, 262144 bytes, align 4");
  using Map = std::map<int, int, std::less<int>, StdAllocator<std::pair<const int, int>, Heap, ExitOnOom>>;
  EXPECT_EXIT(
      {
        Map m(owner->heap());
        for (int i = 0;; ++i) m.emplace(i, i);
      },
      ::testing::ExitedWithCode(3), "out of memory: out of memory, [0-9]+ bytes");
  EXPECT_EQ(v.size(), 1000u);
  EXPECT_TRUE(valid(owner->heap()));
}
#endif

}  // namespace
}  // namespace nostd::testing
