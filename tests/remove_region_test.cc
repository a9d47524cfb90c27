// BasicHeap::remove_region: a region taken back from a RegionSource heap once its blocks are free (cached ones
// included), the memory then the caller's alone; every span that is no region, and a region with a live block, refused
// with the heap unchanged; a heap left with no region; a span add_region split into several regions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "alloc/alloc.h"
#include "alloc/concepts/role.h"
#include "alloc/source/region.h"
#include "tests/heap_test_util.h"
#include "tests/region_heaps.h"

namespace nostd::testing {
namespace {

template <class Heap>
class RemoveRegionTest : public ::testing::Test {};
// The region suites' heaps (tests/region_heaps.h), and next fit with a cache, with and without checks: its rover and
// the cache's newest-region tracking together.
using RemovableHeaps = RegionHeapsWith<BasicHeap<NextFit, CompactTags, RegionSource, QuickCache<>>,
                                       BasicHeap<NextFit, FullTags, RegionSource, NoChecks, QuickCache<>>>;
TYPED_TEST_SUITE(RemoveRegionTest, RemovableHeaps, HeapNames);

using Buffers = RegionBuffers;

std::span<std::byte> span_of(std::byte* p, std::size_t n) { return std::span<std::byte>(p, n); }

// The error of `r`, or a value no AllocError has when `r` succeeded (so that EXPECT_EQ reports it, where .error() of a
// success is undefined).
template <class T>
AllocError error_of(const Result<T>& r) {
  return r.has_value() ? static_cast<AllocError>(0xFF) : r.error();
}

// True when every byte of `bytes` is `value`.
bool all_bytes(std::span<const std::byte> bytes, std::byte value) {
  return std::all_of(bytes.begin(), bytes.end(), [value](std::byte x) { return x == value; });
}

// True when walk() reports no block inside `bytes`.
template <class Heap>
bool walks_nothing_in(const Heap& heap, std::span<const std::byte> bytes) {
  bool inside = false;
  heap.walk([&](const BlockInfo& info) {
    const auto* p = static_cast<const std::byte*>(info.payload);
    inside = inside || (p >= bytes.data() && p < bytes.data() + bytes.size());
  });
  return !inside;
}

// Adding b and c and removing b (a region in the middle of the list, whose neighbour's header is resealed) then c
// (the newest): each removal takes back exactly what its add_region gave, field by field, and at the end the heap's
// stats are what they were with a alone. The removed memory is the caller's: written over, it stays as written
// while the heap goes on serving from its other regions.
TYPED_TEST(RemoveRegionTest, RemovingAFreeRegionTakesBackExactlyWhatAddingGave) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{span_of(buffers->a, sizeof(buffers->a))};
  void* live = *heap.allocate(100);  // in a, the only region
  ASSERT_TRUE(valid(heap));
  fill(live, 100, 7);
  const HeapStats with_a = heap.stats();
  ASSERT_TRUE(heap.add_region(span_of(buffers->b, sizeof(buffers->b))).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats with_b = heap.stats();
  EXPECT_EQ(with_b.capacity - with_a.capacity, sizeof(buffers->b) - TypeParam::kRegionOverhead);
  ASSERT_TRUE(heap.add_region(span_of(buffers->c, sizeof(buffers->c))).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats with_c = heap.stats();

  ASSERT_TRUE(heap.remove_region(span_of(buffers->b, sizeof(buffers->b))).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats without_b = heap.stats();
  EXPECT_EQ(with_c.capacity - without_b.capacity, with_b.capacity - with_a.capacity);
  EXPECT_EQ(with_c.bytes_free - without_b.bytes_free, with_b.bytes_free - with_a.bytes_free);
  EXPECT_EQ(with_c.overhead_bytes - without_b.overhead_bytes, with_b.overhead_bytes - with_a.overhead_bytes);
  EXPECT_EQ(with_c.free_blocks - without_b.free_blocks, 1u);
  EXPECT_EQ(without_b.bytes_in_use, with_c.bytes_in_use);
  EXPECT_FALSE(heap.owns(buffers->b + 1024));
  EXPECT_TRUE(walks_nothing_in(heap, span_of(buffers->b, sizeof(buffers->b))));

  ASSERT_TRUE(heap.remove_region(span_of(buffers->c, sizeof(buffers->c))).has_value());
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), with_a));
  EXPECT_FALSE(heap.owns(buffers->c + 1024));  // c was the newest region: a cache's one-compare lookup knew it

  // The caller's memory now: written over, and the heap works on in a without reading or writing it.
  std::memset(buffers->b, 0x5C, sizeof(buffers->b));
  std::memset(buffers->c, 0x5C, sizeof(buffers->c));
  for (std::size_t i = 0; i < 4; ++i) {
    void* p = *heap.allocate(500);
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(heap.owns(p));
    heap.deallocate(p);
    ASSERT_TRUE(valid(heap));
  }
  EXPECT_EQ(error_of(heap.allocate(9000)), AllocError::kOutOfMemory);  // b's room is gone
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(all_bytes(span_of(buffers->b, sizeof(buffers->b)), std::byte{0x5C}));
  EXPECT_TRUE(all_bytes(span_of(buffers->c, sizeof(buffers->c)), std::byte{0x5C}));
  EXPECT_TRUE(holds_pattern(live, 100, 7));
  heap.deallocate(live);
  ASSERT_TRUE(valid(heap));
}

// A region holding a live block is refused with kInUse and the heap is unchanged; once the block is freed the same
// span is taken back.
TYPED_TEST(RemoveRegionTest, RefusesARegionWithALiveBlock) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{span_of(buffers->a, sizeof(buffers->a))};
  const std::span<std::byte> b = span_of(buffers->b, sizeof(buffers->b));
  ASSERT_TRUE(heap.add_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  void* in_b = *heap.allocate(15000);  // only b holds it
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.owns(in_b) && in_b >= static_cast<void*>(buffers->b) && in_b < static_cast<void*>(buffers->gap2));
  fill(in_b, 15000, 3);
  const HeapStats before = heap.stats();
  Result<void> refused = heap.remove_region(b);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), AllocError::kInUse);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), before));
  EXPECT_TRUE(heap.owns(in_b));
  EXPECT_TRUE(holds_pattern(in_b, 15000, 3));
  // Still the heap's: freed and allocated again.
  heap.deallocate(in_b);
  ASSERT_TRUE(valid(heap));
  in_b = *heap.allocate(15000);
  ASSERT_TRUE(valid(heap));
  // A small live block at the region's end, after a free one: still in use.
  void* tail = *heap.allocate(16);
  ASSERT_TRUE(valid(heap));
  heap.deallocate(in_b);
  ASSERT_TRUE(valid(heap));
  if (heap.owns(tail) && tail >= static_cast<void*>(buffers->b) && tail < static_cast<void*>(buffers->gap2)) {
    const HeapStats with_tail = heap.stats();
    EXPECT_EQ(error_of(heap.remove_region(b)), AllocError::kInUse);
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(same_stats(heap.stats(), with_tail));
  }
  heap.deallocate(tail);
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.remove_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  EXPECT_FALSE(heap.owns(buffers->b + 1024));
}

// Spans that are no region of the heap: kInvalidPointer, the heap unchanged, for each; a region removed twice.
TYPED_TEST(RemoveRegionTest, RefusesSpansThatAreNoRegion) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{span_of(buffers->a, sizeof(buffers->a))};
  const std::span<std::byte> b = span_of(buffers->b, sizeof(buffers->b));
  ASSERT_TRUE(heap.add_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats before = heap.stats();
  const std::span<std::byte> not_regions[] = {
      {},                                                    // null
      span_of(buffers->b, 0),                                // empty
      span_of(buffers->c, sizeof(buffers->c)),               // never added
      span_of(buffers->gap1, sizeof(buffers->gap1)),         // between two regions
      span_of(buffers->b + 64, sizeof(buffers->b) - 64),     // starts inside b, ends with it
      span_of(buffers->b, sizeof(buffers->b) - 64),          // starts with b, ends inside it
      span_of(buffers->b + 1024, 2048),                      // inside b
      span_of(buffers->gap1 + 32, sizeof(buffers->b) + 32),  // begins before b, ends inside it
      span_of(buffers->a, sizeof(Buffers)),                  // a, b and more: starts where a does
      span_of(buffers->a, sizeof(buffers->a) / 2),           // a's first half: a's header, not a's end
  };
  for (const std::span<std::byte>& span : not_regions) {
    SCOPED_TRACE(static_cast<const void*>(span.data()));
    Result<void> refused = heap.remove_region(span);
    ASSERT_FALSE(refused.has_value()) << span.size();
    EXPECT_EQ(refused.error(), AllocError::kInvalidPointer) << span.size();
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(same_stats(heap.stats(), before));
  }
  ASSERT_TRUE(heap.remove_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats removed = heap.stats();
  EXPECT_EQ(error_of(heap.remove_region(b)), AllocError::kInvalidPointer);  // twice
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), removed));
}

// A span whose layout matches a region but whose unused bytes (before the header's word boundary, or a tail under a
// granule) hold part of an adjacent region: the caller would be handed that region's end sentinel or header, so it is
// no span of this heap (kInvalidPointer, the heap unchanged). b's halves are two regions back to back.
TYPED_TEST(RemoveRegionTest, RefusesASpanReachingIntoAnAdjacentRegion) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{span_of(buffers->a, sizeof(buffers->a))};
  constexpr std::size_t kHalf = sizeof(buffers->b) / 2;
  std::byte* const mid = buffers->b + kHalf;
  ASSERT_TRUE(heap.add_region(span_of(buffers->b, kHalf)).has_value());
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.add_region(span_of(mid, kHalf)).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats before = heap.stats();
  const std::span<std::byte> reaching[] = {
      span_of(buffers->b, kHalf + 1),  // the low half and the first byte of the high half's header
      span_of(buffers->b, kHalf + alignof(void*) - 1),
      span_of(mid - 1, kHalf + 1),  // the high half and the last byte of the low half's end sentinel
      span_of(mid - (alignof(void*) - 1), kHalf + alignof(void*) - 1),
  };
  for (const std::span<std::byte>& span : reaching) {
    SCOPED_TRACE(static_cast<const void*>(span.data()));
    EXPECT_EQ(error_of(heap.remove_region(span)), AllocError::kInvalidPointer) << span.size();
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(same_stats(heap.stats(), before));
  }
  // The same slack beside no region is the caller's to include.
  ASSERT_TRUE(heap.remove_region(span_of(mid, kHalf + 1)).has_value());
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.remove_region(span_of(buffers->b, kHalf + 1)).has_value());
  ASSERT_TRUE(valid(heap));
  EXPECT_FALSE(heap.owns(buffers->b + 1024));
  EXPECT_FALSE(heap.owns(mid + 1024));
}

// A span removed and added again is a region as before: the same stats, and b's room serves again.
TYPED_TEST(RemoveRegionTest, ARemovedRegionCanBeAddedAgain) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{span_of(buffers->a, sizeof(buffers->a))};
  const std::span<std::byte> b = span_of(buffers->b, sizeof(buffers->b));
  ASSERT_TRUE(heap.add_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats added = heap.stats();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    void* in_b = *heap.allocate(15000);
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(in_b >= static_cast<void*>(buffers->b) && in_b < static_cast<void*>(buffers->gap2));
    heap.deallocate(in_b);
    ASSERT_TRUE(valid(heap));
    ASSERT_TRUE(heap.remove_region(b).has_value());
    ASSERT_TRUE(valid(heap));
    EXPECT_EQ(error_of(heap.allocate(15000)), AllocError::kOutOfMemory);
    ASSERT_TRUE(valid(heap));
    ASSERT_TRUE(heap.add_region(b).has_value());
    ASSERT_TRUE(valid(heap));
    const HeapStats again = heap.stats();
    EXPECT_EQ(again.capacity, added.capacity);
    EXPECT_EQ(again.bytes_free, added.bytes_free);
    EXPECT_EQ(again.overhead_bytes, added.overhead_bytes);
    EXPECT_EQ(again.free_blocks, added.free_blocks);
    EXPECT_EQ(again.largest_free_block, added.largest_free_block);
  }
}

// The heap's first region (the constructor's, taken on first use, here by remove_region itself) can go too: the heap
// then has no region, allocations fail with kOutOfMemory, and add_region gives it memory again.
TYPED_TEST(RemoveRegionTest, RemovingTheOnlyRegionLeavesAnEmptyWorkingHeap) {
  auto buffers = std::make_unique<Buffers>();
  const std::span<std::byte> a = span_of(buffers->a, sizeof(buffers->a));
  const std::span<std::byte> b = span_of(buffers->b, sizeof(buffers->b));
  TypeParam heap{a};
  ASSERT_TRUE(heap.remove_region(a).has_value());  // before any other use
  ASSERT_TRUE(valid(heap));
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    HeapStats s = heap.stats();
    EXPECT_EQ(s.capacity, 0u);
    EXPECT_EQ(s.bytes_free, 0u);
    EXPECT_EQ(s.overhead_bytes, 0u);
    EXPECT_EQ(s.free_blocks, 0u);
    EXPECT_EQ(s.largest_free_block, 0u);
    EXPECT_EQ(error_of(heap.allocate(16)), AllocError::kOutOfMemory);
    ASSERT_TRUE(valid(heap));
    EXPECT_EQ(error_of(heap.allocate(0)), AllocError::kOutOfMemory);
    ASSERT_TRUE(valid(heap));
    EXPECT_EQ(heap.stats().failed_allocations, s.failed_allocations + 2);
    EXPECT_FALSE(heap.owns(buffers->a + 1024));
    EXPECT_FALSE(heap.owns(buffers->b + 1024));
    EXPECT_TRUE(walks_nothing_in(heap, span_of(buffers->a, sizeof(Buffers))));
    EXPECT_EQ(error_of(heap.remove_region(a)), AllocError::kInvalidPointer);
    ASSERT_TRUE(valid(heap));
    // Memory again, used, and taken back: the heap is empty once more.
    const std::span<std::byte> next = round == 0 ? b : a;
    ASSERT_TRUE(heap.add_region(next).has_value());
    ASSERT_TRUE(valid(heap));
    void* p[3];
    for (std::size_t i = 0; i < 3; ++i) {
      p[i] = *heap.allocate(64 * (i + 1));
      ASSERT_TRUE(valid(heap));
      fill(p[i], 64 * (i + 1), i);
    }
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(holds_pattern(p[i], 64 * (i + 1), i));
      heap.deallocate(p[i]);
      ASSERT_TRUE(valid(heap));
    }
    ASSERT_TRUE(heap.remove_region(next).has_value());
    ASSERT_TRUE(valid(heap));
  }
}

// Next fit's rover on the removed region's free block moves on with it: three regions listed b, c, a (LIFO); an
// allocation takes b's block and leaves the rover on c's; c is removed and written over, and the next search starts
// elsewhere (a rover left in c would read the bytes written over c's block: a fault, a crash, or c handed out).
TYPED_TEST(RemoveRegionTest, NextFitsRoverLeavesTheRemovedRegion) {
  if constexpr (!std::is_same_v<typename TypeParam::Fit, NextFit>) {
    GTEST_SKIP() << "next fit only";
  } else {
    auto buffers = std::make_unique<Buffers>();
    TypeParam heap{span_of(buffers->a, sizeof(buffers->a))};
    const std::span<std::byte> c = span_of(buffers->c, sizeof(buffers->c));
    ASSERT_TRUE(heap.add_region(c).has_value());
    ASSERT_TRUE(valid(heap));
    ASSERT_TRUE(heap.add_region(span_of(buffers->b, sizeof(buffers->b))).has_value());
    ASSERT_TRUE(valid(heap));
    void* in_b = *heap.allocate(7000);  // the head, b's block: the rover moves on to c's
    ASSERT_TRUE(valid(heap));
    ASSERT_TRUE(in_b >= static_cast<void*>(buffers->b) && in_b < static_cast<void*>(buffers->gap2));
    ASSERT_TRUE(heap.remove_region(c).has_value());
    ASSERT_TRUE(valid(heap));
    std::memset(buffers->c, 0xFF, sizeof(buffers->c));
    for (std::size_t i = 0; i < 4; ++i) {
      void* p = *heap.allocate(1000);
      ASSERT_TRUE(valid(heap));
      EXPECT_TRUE(heap.owns(p));
      EXPECT_FALSE(p >= static_cast<void*>(buffers->c) && p < static_cast<void*>(buffers->c + sizeof(buffers->c)));
    }
    EXPECT_TRUE(all_bytes(c, std::byte{0xFF}));
    heap.deallocate(in_b);
    ASSERT_TRUE(valid(heap));
  }
}

// Blocks a cache keeps aside count as free: a region whose other blocks are free is taken back after the cache gives
// its blocks back (the whole cache is flushed); a cached block beside a live one does not make the region removable.
// Without an active cache the same frees merge at once, and the region is taken back all the same.
TYPED_TEST(RemoveRegionTest, CachedBlocksInTheRegionAreTakenBackWithIt) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap;
  const std::span<std::byte> b = span_of(buffers->b, sizeof(buffers->b));
  ASSERT_TRUE(heap.add_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  void* x = *heap.allocate(64);
  ASSERT_TRUE(valid(heap));
  void* y = *heap.allocate(64);
  ASSERT_TRUE(valid(heap));
  void* z = *heap.allocate(64);
  ASSERT_TRUE(valid(heap));
  heap.deallocate(y);  // between two live blocks: cached
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.add_region(span_of(buffers->a, sizeof(buffers->a))).has_value());  // a is the newest now
  ASSERT_TRUE(valid(heap));
  const HeapStats live = heap.stats();
  if constexpr (TypeParam::kCaching) {
    EXPECT_EQ(live.cached_blocks, 1u);
  }
  EXPECT_EQ(error_of(heap.remove_region(b)), AllocError::kInUse);  // x and z
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), live));
  heap.deallocate(x);  // before the cached y: cached too
  ASSERT_TRUE(valid(heap));
  const HeapStats one_live = heap.stats();
  if constexpr (TypeParam::kCaching) {
    EXPECT_EQ(one_live.cached_blocks, 2u);
  }
  EXPECT_EQ(error_of(heap.remove_region(b)), AllocError::kInUse);  // z
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), one_live));
  heap.deallocate(z);  // before the free rest of b: merges
  ASSERT_TRUE(valid(heap));
  if constexpr (TypeParam::kCaching) {
    EXPECT_EQ(heap.stats().cached_blocks, 2u);
  }
  ASSERT_TRUE(heap.remove_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats s = heap.stats();
  EXPECT_EQ(s.cached_blocks, 0u);
  EXPECT_EQ(s.free_blocks, 1u);
  EXPECT_EQ(s.capacity, sizeof(buffers->a) - TypeParam::kRegionOverhead);
  EXPECT_FALSE(heap.owns(buffers->b + 64));
  std::memset(buffers->b, 0xA5, sizeof(buffers->b));
  void* p = *heap.allocate(64);  // a's, whatever the cache held
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(p >= static_cast<void*>(buffers->a) && p < static_cast<void*>(buffers->gap1));
  heap.deallocate(p);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(all_bytes(b, std::byte{0xA5}));
}

// A RegionSource whose memory starts zero (as ChunkRegionSource's mappings do), so that allocate_zeroed skips the
// memory above the cache's high-water mark, which only the newest region keeps.
class ZeroedRegionSource : public RegionSource {
 public:
  static constexpr bool kZeroedMemory = true;
};

// When the newest region goes, the region that becomes the newest has had blocks handed out and written that no mark
// records: its mark must count all of it as touched, or allocate_zeroed hands out its old contents as zeros.
TEST(RemoveRegionZeroedTest, TheNextNewestRegionCountsAsTouched) {
  using Heap = BasicHeap<SegregatedFit<>, ZeroedRegionSource, QuickCache<>>;
  // (Under ASan or Valgrind no cache is active and allocate_zeroed clears everything: the test passes trivially.)
  auto buffers = std::make_unique<Buffers>();  // zero
  Heap heap;
  ASSERT_TRUE(heap.add_region(span_of(buffers->a, sizeof(buffers->a))).has_value());
  ASSERT_TRUE(valid(heap));
  void* dirty = *heap.allocate(7000);
  ASSERT_TRUE(valid(heap));
  std::memset(dirty, 0xEE, 7000);
  heap.deallocate(dirty);
  ASSERT_TRUE(valid(heap));
  const std::span<std::byte> b = span_of(buffers->b, sizeof(buffers->b));
  ASSERT_TRUE(heap.add_region(b).has_value());  // the newest: its mark at its start
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.remove_region(b).has_value());
  ASSERT_TRUE(valid(heap));
  void* zeroed = *heap.allocate_zeroed(6000);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(all_bytes(std::span<const std::byte>(static_cast<const std::byte*>(zeroed), 6000), std::byte{0}));
  heap.deallocate(zeroed);
  ASSERT_TRUE(valid(heap));
}

// A span larger than a tag word records became several back-to-back regions (16-bit tags: blocks up to 64 KiB, so
// 160 KiB is three); remove_region takes back all of them, or none: a live block in any one refuses the whole span,
// and so does a prefix of the span, whose first region matches but whose second does not.
template <class Heap>
class RemoveSplitRegionTest : public ::testing::Test {};
using NarrowTagHeaps =
    ::testing::Types<BasicHeap<FirstFit, BasicCompactTags<std::uint16_t>, RegionSource>,
                     BasicHeap<BestFit, BasicFullTags<std::uint16_t>, RegionSource, DebugChecks<>>,
                     BasicHeap<FirstFit, BasicCompactTags<std::uint16_t>, RegionSource, QuickCache<>>>;
TYPED_TEST_SUITE(RemoveSplitRegionTest, NarrowTagHeaps);

TYPED_TEST(RemoveSplitRegionTest, ASplitSpanGoesWhole) {
  constexpr std::size_t kBytes = 160 * 1024;
  struct Owner {
    alignas(64) std::byte small[4096];
    alignas(64) std::byte big[kBytes];
  };
  auto owner = std::make_unique<Owner>();
  TypeParam heap{span_of(owner->small, sizeof(owner->small))};
  ASSERT_TRUE(valid(heap));
  const HeapStats before = heap.stats();
  const std::span<std::byte> big = span_of(owner->big, kBytes);
  ASSERT_TRUE(heap.add_region(big).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats added = heap.stats();
  ASSERT_EQ(added.free_blocks, before.free_blocks + 3);
  void* p[3];
  for (std::size_t i = 0; i < 3; ++i) {
    p[i] = *heap.allocate(i < 2 ? 60000 : 30000);  // one in each region of the span
    ASSERT_TRUE(valid(heap));
  }
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const HeapStats live = heap.stats();
    EXPECT_EQ(error_of(heap.remove_region(big)), AllocError::kInUse);
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(same_stats(heap.stats(), live));
    heap.deallocate(p[i]);
    ASSERT_TRUE(valid(heap));
  }
  const HeapStats free_again = heap.stats();
  EXPECT_EQ(error_of(heap.remove_region(span_of(owner->big, 100 * 1024))), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), free_again));
  // The first region's span and a few bytes of the second's header: its layout is the first region alone, but the
  // second's header would be the caller's.
  const std::size_t first_region_bytes =
      TypeParam::kRegionOverhead + align_down(TypeParam::Tags::kMaxBlockSize, TypeParam::kGranule);
  EXPECT_EQ(error_of(heap.remove_region(span_of(owner->big, first_region_bytes + 1))), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(same_stats(heap.stats(), free_again));
  ASSERT_TRUE(heap.remove_region(big).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats after = heap.stats();
  EXPECT_EQ(after.capacity, before.capacity);
  EXPECT_EQ(after.bytes_free, before.bytes_free);
  EXPECT_EQ(after.overhead_bytes, before.overhead_bytes);
  EXPECT_EQ(after.free_blocks, before.free_blocks);
  EXPECT_FALSE(heap.owns(owner->big + kBytes / 2));
  EXPECT_FALSE(heap.owns(owner->big + kBytes - 1024));
}

// Only sources that take caller memory can give it back.
template <class Heap>
concept CanRemoveRegions = requires(Heap& heap, std::span<std::byte> span) {
  heap.remove_region(span);
};
static_assert(CanRemoveRegions<BasicHeap<FirstFit, RegionSource>>);
static_assert(!CanRemoveRegions<BasicHeap<FirstFit, StaticArraySource<4096>>>,
              "a heap over its own array has no region a caller lent");

}  // namespace
}  // namespace nostd::testing
