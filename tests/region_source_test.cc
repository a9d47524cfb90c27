// RegionSource: heaps over caller memory, several non-contiguous regions in one heap, and add_region's bad input; a
// source that locates regions;
// StaticArraySource: the memory inside the heap object.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "alloc/alloc.h"
#include "alloc/concepts/heap_source.h"
#include "alloc/concepts/role.h"
#include "alloc/source/region.h"
#include "tests/heap_test_util.h"
#include "tests/region_heaps.h"

namespace nostd::testing {
namespace {

template <class Heap>
class RegionSourceTest : public ::testing::Test {};
using RegionHeaps = RegionHeapsWith<>;
TYPED_TEST_SUITE(RegionSourceTest, RegionHeaps, HeapNames);

using Buffers = RegionBuffers;

TYPED_TEST(RegionSourceTest, SeveralRegionsServeOneHeap) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{std::span<std::byte>(buffers->a)};
  ASSERT_TRUE(valid(heap));
  // Each region gives its span less kRegionOverhead: these spans start and end on granule boundaries.
  const std::size_t first_capacity = heap.stats().capacity;
  EXPECT_EQ(first_capacity, sizeof(buffers->a) - TypeParam::kRegionOverhead);
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(buffers->b)).has_value());
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(buffers->c)).has_value());
  ASSERT_TRUE(valid(heap));
  HeapStats s = heap.stats();
  EXPECT_EQ(s.free_blocks, 3u);
  EXPECT_EQ(s.capacity, first_capacity + sizeof(buffers->b) + sizeof(buffers->c) - 2 * TypeParam::kRegionOverhead);
  // Three large allocations can only be served by three different regions.
  void* in_b = *heap.allocate(15000);
  ASSERT_TRUE(valid(heap));
  void* in_a = *heap.allocate(7000);
  ASSERT_TRUE(valid(heap));
  void* in_c = *heap.allocate(3000);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(in_a >= static_cast<void*>(buffers->a) && in_a < static_cast<void*>(buffers->a + 8192));
  EXPECT_TRUE(in_b >= static_cast<void*>(buffers->b) && in_b < static_cast<void*>(buffers->b + 16384));
  EXPECT_TRUE(in_c >= static_cast<void*>(buffers->c) && in_c < static_cast<void*>(buffers->c + 4096));
  EXPECT_TRUE(heap.owns(in_a) && heap.owns(in_b) && heap.owns(in_c));
  EXPECT_FALSE(heap.owns(buffers->gap1 + 8));
  // No block spans two regions: a request larger than any one region fails although the total would fit.
  for (void* p : {in_a, in_b, in_c}) {
    heap.deallocate(p);
    ASSERT_TRUE(valid(heap));
  }
  EXPECT_EQ(heap.allocate(20000).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  s = heap.stats();
  EXPECT_EQ(s.free_blocks, 3u);
  EXPECT_EQ(s.live_allocations, 0u);
  std::size_t walked = 0;
  heap.walk([&](const BlockInfo& info) { walked += info.size; });
  EXPECT_EQ(walked, s.capacity);
}

TYPED_TEST(RegionSourceTest, AddRegionRejectsBadRegions) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{std::span<std::byte>(buffers->a)};
  // Overlapping the existing region, fully or partly.
  EXPECT_EQ(heap.add_region(std::span<std::byte>(buffers->a)).error(), AllocError::kInvalidPointer);
  EXPECT_EQ(heap.add_region(std::span<std::byte>(buffers->a + 4096, 8192)).error(), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  // Too small to hold one block.
  EXPECT_EQ(heap.add_region(std::span<std::byte>(buffers->c, TypeParam::kMinBlockSize - 1)).error(),
            AllocError::kOutOfMemory);
  EXPECT_EQ(heap.add_region(std::span<std::byte>(buffers->c, 0)).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().free_blocks, 1u);
  // A misaligned start is fine: the heap aligns inside it. It adds at least the span's granule-aligned inner part
  // less kRegionOverhead, and less than its size less kRegionOverhead plus a granule (the header's own rounding can
  // take up part of the misalignment: with 32-bit tags it does here) (README, "Complexity and overhead").
  const std::size_t before = heap.stats().capacity;
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(buffers->b + 3, 1000)).has_value());
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().free_blocks, 2u);
  const std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(buffers->b + 3);
  const std::uintptr_t inner_lo = align_up(lo, TypeParam::kGranule);
  const std::uintptr_t inner_hi = align_down(lo + 1000, TypeParam::kGranule);
  const std::size_t gained = heap.stats().capacity - before;
  EXPECT_GE(gained, (inner_hi - inner_lo) - TypeParam::kRegionOverhead);
  EXPECT_LT(gained, 1000 - TypeParam::kRegionOverhead + TypeParam::kGranule);
}

// add_region's size bound: a span of exactly kRegionOverhead + kMinBlockSize bytes on a granule boundary holds one
// minimum block, and is a region whether it comes first (the constructor) or later (add_region); one byte less holds
// none and is refused with kOutOfMemory, the heap unchanged.
TYPED_TEST(RegionSourceTest, ASpanOfOneMinimumBlockIsTheSmallestRegion) {
  constexpr std::size_t kMin = TypeParam::kMinBlockSize;
  constexpr std::size_t kSmallest = TypeParam::kRegionOverhead + kMin;
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{std::span<std::byte>(buffers->a, kSmallest)};
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().capacity, kMin);
  EXPECT_EQ(heap.add_region(std::span<std::byte>(buffers->b, kSmallest - 1)).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().capacity, kMin);
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(buffers->b, kSmallest)).has_value());
  ASSERT_TRUE(valid(heap));
  const HeapStats s = heap.stats();
  EXPECT_EQ(s.capacity, 2 * kMin);
  EXPECT_EQ(s.free_blocks, 2u);
  // bytes_free counts what the blocks could serve, largest_free_block each one's share: 0 for a block no request fits
  // (from DebugChecks up with 4-byte full tags on Cortex-M, a used block takes 24 B and a minimum block is 16 B). That
  // share had been negative, and bytes_free wrapped to SIZE_MAX - 1.
  EXPECT_EQ(s.bytes_free, 2 * s.largest_free_block);
  EXPECT_EQ(s.capacity, s.bytes_in_use + s.bytes_free + s.overhead_bytes);
  EXPECT_LE(s.overhead_bytes, s.capacity);
  // Each region is one free minimum block, inside its own span.
  std::size_t in_a = 0, in_b = 0;
  heap.walk([&](const BlockInfo& info) {
    EXPECT_EQ(info.size, kMin);
    EXPECT_FALSE(info.used);
    const auto* const payload = static_cast<const std::byte*>(info.payload);
    in_a += payload >= buffers->a && payload < buffers->a + kSmallest ? 1 : 0;
    in_b += payload >= buffers->b && payload < buffers->b + kSmallest ? 1 : 0;
  });
  EXPECT_EQ(in_a, 1u);
  EXPECT_EQ(in_b, 1u);
}

// The overlap test's bounds: a region that ends where another begins, or begins where it ends, is accepted and stays a
// region of its own (blocks never merge across regions); one byte more on either side is refused.
TYPED_TEST(RegionSourceTest, AdjacentRegionsAreAcceptedAndStaySeparate) {
  constexpr std::size_t kPiece = 4096;  // a multiple of the granule: each region uses its span to the last byte
  struct Arena {
    alignas(64) std::byte bytes[3 * kPiece];
  };
  auto arena = std::make_unique<Arena>();
  std::byte* const middle = arena->bytes + kPiece;
  TypeParam heap{std::span<std::byte>(middle, kPiece)};
  ASSERT_TRUE(valid(heap));
  const HeapStats one = heap.stats();
  ASSERT_GT(one.capacity, 0u);
  EXPECT_EQ(heap.add_region(std::span<std::byte>(middle + kPiece - 1, kPiece)).error(), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.add_region(std::span<std::byte>(arena->bytes, kPiece + 1)).error(), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().capacity, one.capacity);
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(middle + kPiece, kPiece)).has_value());  // after
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(arena->bytes, kPiece)).has_value());  // before
  ASSERT_TRUE(valid(heap));
  HeapStats s = heap.stats();
  EXPECT_EQ(s.capacity, 3 * one.capacity);
  EXPECT_EQ(s.bytes_free, 3 * one.bytes_free);
  EXPECT_EQ(s.free_blocks, 3u);
  EXPECT_EQ(s.largest_free_block, one.largest_free_block);
  std::size_t walked = 0;
  std::size_t blocks = 0;
  heap.walk([&](const BlockInfo& info) { walked += info.size, ++blocks; });
  EXPECT_EQ(walked, s.capacity);
  EXPECT_EQ(blocks, 3u);
  // Nothing larger than one region's block: the three stay apart, each filled by one allocation.
  EXPECT_EQ(heap.allocate(one.largest_free_block + 1).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  void* p[3];
  for (std::size_t i = 0; i < 3; ++i) {
    Result<void*> r = heap.allocate(one.largest_free_block);
    ASSERT_TRUE(r.has_value()) << i;
    ASSERT_TRUE(valid(heap));
    p[i] = *r;
    fill(p[i], one.largest_free_block, i);
  }
  EXPECT_EQ(heap.stats().bytes_free, 0u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(holds_pattern(p[i], one.largest_free_block, i));
    heap.deallocate(p[i]);
    ASSERT_TRUE(valid(heap));
  }
  heap.flush_cache();
  ASSERT_TRUE(valid(heap));
  s = heap.stats();
  EXPECT_EQ(s.free_blocks, 3u);
  EXPECT_EQ(s.bytes_free, 3 * one.bytes_free);
}

// README (Policies, RegionSource): the heap aligns inside a span; the bytes before the aligned region header and after
// the last granule boundary stay unused, and another region may take them. Span a starts 1 byte past a granule and
// ends 5 bytes past one; span b ends 2 bytes into a's span, span c starts 1 byte before a's ends: both overlap a's span
// in bytes a leaves unused only, and are accepted. The heap is then filled with 64-byte blocks: each lies inside one
// span, and no two share a byte (each keeps its fill pattern).
TYPED_TEST(RegionSourceTest, SpansMayShareTheBytesARegionLeavesUnused) {
  constexpr std::size_t kPiece = 4096, kRequest = 64, kMaxBlocks = 3 * kPiece / kRequest;
  struct Arena {
    alignas(64) std::byte bytes[3 * kPiece];
  };
  auto arena = std::make_unique<Arena>();
  std::byte* const base = arena->bytes;
  const std::span<std::byte> spans[3] = {
      {base + kPiece + 1, kPiece + 4}, {base, kPiece + 3}, {base + 2 * kPiece + 4, kPiece - 4}};
  TypeParam heap{spans[0]};
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.add_region(spans[1]).has_value());
  ASSERT_TRUE(valid(heap));
  ASSERT_TRUE(heap.add_region(spans[2]).has_value());
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().free_blocks, 3u);
  void* taken[kMaxBlocks] = {};
  std::size_t n = 0;
  std::size_t in_span[3] = {};
  for (Result<void*> p = heap.allocate(kRequest); p.has_value(); p = heap.allocate(kRequest)) {
    ASSERT_TRUE(valid(heap));
    ASSERT_LT(n, kMaxBlocks);
    const auto* const bytes = static_cast<const std::byte*>(*p);
    std::size_t holders = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      if (bytes >= spans[i].data() && bytes + kRequest <= spans[i].data() + spans[i].size()) ++holders, ++in_span[i];
    }
    EXPECT_EQ(holders, 1u) << "block " << *p << " is not inside one span";
    fill(*p, kRequest, n);
    taken[n++] = *p;
  }
  for (std::size_t i = 0; i < 3; ++i) EXPECT_GT(in_span[i], 0u) << "span " << i << " served no block";
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(holds_pattern(taken[i], kRequest, i)) << i;
    heap.deallocate(taken[i]);
    ASSERT_TRUE(valid(heap));
  }
}

// A span inside a live block, or one that holds a whole region, overlaps the heap: refused, the block's contents kept.
TYPED_TEST(RegionSourceTest, ContainedAndContainingSpansAreRefused) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{std::span<std::byte>(buffers->b)};
  void* live = *heap.allocate(4096);
  ASSERT_TRUE(valid(heap));
  fill(live, 4096, 7);
  const HeapStats before = heap.stats();
  EXPECT_EQ(heap.add_region(std::span<std::byte>(static_cast<std::byte*>(live) + 64, 2048)).error(),
            AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(
      heap.add_region(std::span<std::byte>(buffers->gap1, sizeof(Buffers::gap1) + sizeof(Buffers::b) + 64)).error(),
      AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(holds_pattern(live, 4096, 7));
  const HeapStats after = heap.stats();
  EXPECT_EQ(after.capacity, before.capacity);
  EXPECT_EQ(after.bytes_free, before.bytes_free);
  EXPECT_EQ(after.free_blocks, before.free_blocks);
  heap.deallocate(live);
  ASSERT_TRUE(valid(heap));
}

// A region that holds the heap object itself: the heap would write a region header over its own fields. add_region
// refuses it, and the constructor's region is dropped the same way (the heap stays empty), as one too small is.
TYPED_TEST(RegionSourceTest, ARegionOverTheHeapObjectIsRefused) {
  constexpr std::size_t kHalf = (sizeof(TypeParam) + 8191) / 4096 * 4096;
  struct Arena {
    alignas(64) std::byte bytes[2 * kHalf];
  };
  auto arena = std::make_unique<Arena>();
  auto* heap = new (arena->bytes) TypeParam{std::span<std::byte>(arena->bytes + kHalf, kHalf)};
  ASSERT_TRUE(valid(*heap));
  void* live = *heap->allocate(256);
  ASSERT_TRUE(valid(*heap));
  fill(live, 256, 3);
  const HeapStats before = heap->stats();
  auto* const self = reinterpret_cast<std::byte*>(heap);
  EXPECT_EQ(heap->add_region(std::span<std::byte>(arena->bytes, kHalf)).error(), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->add_region(std::span<std::byte>(self + sizeof(TypeParam) - 8, kHalf - sizeof(TypeParam) + 8)).error(),
            AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(*heap));
  const HeapStats after = heap->stats();
  EXPECT_EQ(after.capacity, before.capacity);
  EXPECT_EQ(after.free_blocks, before.free_blocks);
  EXPECT_TRUE(holds_pattern(live, 256, 3));
  // Just past the heap object is fine.
  ASSERT_TRUE(heap->add_region(std::span<std::byte>(self + sizeof(TypeParam), kHalf - sizeof(TypeParam))).has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_GT(heap->stats().capacity, before.capacity);
  heap->deallocate(live);
  ASSERT_TRUE(valid(*heap));
  heap->~TypeParam();

  heap = new (arena->bytes) TypeParam{std::span<std::byte>(arena->bytes, 2 * kHalf)};
  EXPECT_EQ(heap->allocate(16).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->stats().capacity, 0u);
  heap->~TypeParam();
}

// A span that starts below the heap object and reaches into it or past it: refused, as one that starts inside it
// (the other of add_region's two compares); one that ends where the object begins is accepted. A constructor's such
// span leaves the heap empty.
TYPED_TEST(RegionSourceTest, ARegionFromBelowTheHeapObjectIsRefused) {
  constexpr std::size_t kPiece = (sizeof(TypeParam) + 8191) / 4096 * 4096;
  struct Arena {
    alignas(64) std::byte bytes[3 * kPiece];
  };
  auto arena = std::make_unique<Arena>();
  std::byte* const below = arena->bytes;
  std::byte* const self = arena->bytes + kPiece;  // the heap object, with memory of the arena on both sides
  auto* heap = new (self) TypeParam{std::span<std::byte>(arena->bytes + 2 * kPiece, kPiece)};
  void* live = *heap->allocate(256);
  ASSERT_TRUE(valid(*heap));
  fill(live, 256, 5);
  const HeapStats before = heap->stats();
  for (const std::size_t size : {kPiece + 1, kPiece + sizeof(TypeParam), 2 * kPiece}) {
    EXPECT_EQ(heap->add_region(std::span<std::byte>(below, size)).error(), AllocError::kInvalidPointer) << size;
    ASSERT_TRUE(valid(*heap));
  }
  const HeapStats after = heap->stats();
  EXPECT_EQ(after.capacity, before.capacity);
  EXPECT_EQ(after.free_blocks, before.free_blocks);
  EXPECT_TRUE(holds_pattern(live, 256, 5));
  ASSERT_TRUE(heap->add_region(std::span<std::byte>(below, kPiece)).has_value());  // up to the object's first byte
  ASSERT_TRUE(valid(*heap));
  EXPECT_GT(heap->stats().capacity, before.capacity);
  heap->deallocate(live);
  ASSERT_TRUE(valid(*heap));
  heap->~TypeParam();

  heap = new (self) TypeParam{std::span<std::byte>(below, 3 * kPiece)};
  EXPECT_EQ(heap->allocate(16).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->stats().capacity, 0u);
  heap->~TypeParam();
}

// Spans no memory can be behind: a null pointer with a length, and spans at the top of the address space, whose end
// wraps (kInvalidPointer) or whose region layout would wrap past it (too small: kOutOfMemory). None is touched.
TYPED_TEST(RegionSourceTest, NullAndWrappingSpansAreRefusedUntouched) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap{std::span<std::byte>(buffers->a)};
  const HeapStats before = heap.stats();
  EXPECT_EQ(heap.add_region(std::span<std::byte>(static_cast<std::byte*>(nullptr), 4096)).error(),
            AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.add_region(std::span<std::byte>()).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  constexpr std::uintptr_t kTop = std::numeric_limits<std::uintptr_t>::max();
  // Shorter than a minimum block and its two edge tags: no region fits, wherever the span starts.
  constexpr std::size_t kTooSmall = TypeParam::kMinBlockSize + 2 * TypeParam::Tags::kHeaderSize;
  for (std::size_t size = 1; size <= kTooSmall; ++size) {
    auto* const start = reinterpret_cast<std::byte*>(kTop - size);
    EXPECT_EQ(heap.add_region(std::span<std::byte>(start, size)).error(), AllocError::kOutOfMemory) << size;
    ASSERT_TRUE(valid(heap));
    EXPECT_EQ(heap.add_region(std::span<std::byte>(start, size + 2)).error(), AllocError::kInvalidPointer) << size;
    ASSERT_TRUE(valid(heap));
  }
  const HeapStats after = heap.stats();
  EXPECT_EQ(after.capacity, before.capacity);
  EXPECT_EQ(after.free_blocks, before.free_blocks);
}

TYPED_TEST(RegionSourceTest, EmptyHeapTakesItsFirstRegionLater) {
  auto buffers = std::make_unique<Buffers>();
  TypeParam heap;
  EXPECT_EQ(heap.allocate(16).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().capacity, 0u);
  ASSERT_TRUE(heap.add_region(std::span<std::byte>(buffers->c)).has_value());
  ASSERT_TRUE(valid(heap));
  void* p = *heap.allocate(16);
  ASSERT_TRUE(valid(heap));
  heap.deallocate(p);
  ASSERT_TRUE(valid(heap));
}

TYPED_TEST(RegionSourceTest, ReallocateKeepsTheRequestedAlignmentNotTheAddresses) {
  // A block asked for 32-byte alignment but happens to sit on a 64 KiB boundary. Moving it must look for a
  // 32-aligned block; demanding the address's own alignment would fail in a heap that has plenty of space.
  alignas(65536) static std::byte buffer[2 * 65536];
  TypeParam heap{std::span<std::byte>(buffer)};
  std::byte* const boundary = buffer + 65536;
  void* probe = *heap.allocate(16);  // learn where the first payload is, then give it back
  heap.deallocate(probe);
  ASSERT_TRUE(valid(heap));
  // One byte short of the gap with the block's tags and check trailer: rounded up, the block ends at the boundary
  // whatever the check level (DebugChecks needs a canary byte past the request).
  const std::size_t filler_size =
      static_cast<std::size_t>(boundary - static_cast<std::byte*>(probe)) - TypeParam::kUsedOverhead - 1;
  void* filler = *heap.allocate(filler_size);
  ASSERT_TRUE(valid(heap));
  Result<void*> a = heap.allocate(64, 32);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(valid(heap));
  ASSERT_EQ(*a, boundary);
  fill(*a, 64, 1);
  void* guard = *heap.allocate(16);  // pins the block after `a`: growth must move
  ASSERT_TRUE(valid(heap));
  heap.deallocate(filler);
  ASSERT_TRUE(valid(heap));
  Result<void*> moved = heap.reallocate(*a, 128);
  ASSERT_TRUE(moved.has_value()) << to_string(moved.error());
  ASSERT_TRUE(valid(heap));
  EXPECT_NE(*moved, *a);
  EXPECT_TRUE(is_aligned(*moved, 32));
  EXPECT_TRUE(holds_pattern(*moved, 64, 1));
  EXPECT_GE(heap.usable_size(*moved), 128u);
  heap.deallocate(*moved);
  ASSERT_TRUE(valid(heap));
  heap.deallocate(guard);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().free_blocks, 1u);
}

// A source that also says where the span holding a pointer starts (internal::kLocatesRegions, region_start): the heap
// finds a pointer's region from it instead of walking its regions (BasicHeap::region_of; the drop-in malloc's arenas,
// platform/malloc/chunk_region_source.h). The test tells it each span it hands the heap. `mode` makes it answer
// right, never (nullptr: "cannot tell"), or wrong (the next span's start): the heap must take an answer only when the
// pointer lies in that span's region, and walk otherwise.
class LocatingSource {
 public:
  using policy_role = role::Source;
  static constexpr bool kAcceptsRegions = true;
  enum class Mode { kRight, kNever, kWrong };

  LocatingSource() = default;
  /// A heap's first region, as RegionSource takes it: remembered, and handed over by acquire().
  explicit LocatingSource(std::span<std::byte> region) : initial_(region) { remember(region); }
  std::span<std::byte> acquire() noexcept { return std::exchange(initial_, {}); }
  void remember(std::span<std::byte> span) { spans_[count_++] = span; }
  const std::byte* region_start(const void* p) const noexcept {
    ++asked;
    const auto* const b = static_cast<const std::byte*>(p);
    for (std::size_t i = 0; i < count_; ++i) {
      if (b < spans_[i].data() || b >= spans_[i].data() + spans_[i].size()) continue;
      switch (mode) {
        case Mode::kRight:
          return spans_[i].data();
        case Mode::kNever:
          return nullptr;
        case Mode::kWrong:
          return spans_[(i + 1) % count_].data();
      }
    }
    return nullptr;
  }

  Mode mode = Mode::kRight;
  mutable std::size_t asked = 0;  ///< region_start's calls

 private:
  std::span<std::byte> initial_;
  std::span<std::byte> spans_[16];
  std::size_t count_ = 0;
};
static_assert(internal::kLocatesRegions<LocatingSource>);
static_assert(!internal::kLocatesRegions<RegionSource>, "RegionSource cannot tell: its heaps walk their regions");

// A region larger than the tag word can record used to be capped silently at that size (4 GiB with 32-bit tags):
// the rest of it was lost. It becomes back-to-back regions instead. 16-bit tags (blocks up to 65528 bytes) show it
// with a 160 KiB buffer, on every platform. With a source that locates regions, the source names the span's start,
// whose region holds only the first piece: pointers in the later pieces are found by the walk.
template <class Heap>
class OversizedRegionTest : public ::testing::Test {};
using NarrowTagHeaps = ::testing::Types<BasicHeap<FirstFit, BasicCompactTags<std::uint16_t>, RegionSource>,
                                        BasicHeap<FirstFit, BasicFullTags<std::uint16_t>, RegionSource>,
                                        BasicHeap<FirstFit, BasicCompactTags<std::uint16_t>, LocatingSource>>;
TYPED_TEST_SUITE(OversizedRegionTest, NarrowTagHeaps);

TYPED_TEST(OversizedRegionTest, RegionLargerThanATagRecordsIsSplitNotCapped) {
  using Heap = TypeParam;
  using Tags = typename Heap::Tags;
  constexpr std::size_t kBytes = 160 * 1024;
  struct Owner {
    alignas(64) std::byte buf[kBytes];
  };
  auto owner = std::make_unique<Owner>();
  Heap heap{std::span<std::byte>(owner->buf)};
  ASSERT_TRUE(valid(heap));
  HeapStats s = heap.stats();
  EXPECT_GT(s.capacity, kBytes - 3 * 256) << "the region was capped at one tag's reach";
  EXPECT_EQ(s.free_blocks, 3u);  // 160 KiB in blocks of at most 64 KiB
  EXPECT_LE(s.largest_free_block, Tags::kMaxBlockSize);
  // Two 60000-byte blocks and one of 30000 fit only across the pieces; one larger than a tag records never does.
  void* p[3];
  for (std::size_t i = 0; i < 3; ++i) {
    Result<void*> r = heap.allocate(i < 2 ? 60000 : 30000);
    ASSERT_TRUE(r.has_value()) << i;
    ASSERT_TRUE(valid(heap));
    p[i] = *r;
    fill(p[i], 1000, i);
    EXPECT_TRUE(heap.owns(p[i]));
  }
  Result<void*> too_big = heap.allocate(Tags::kMaxBlockSize);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(heap));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(holds_pattern(p[i], 1000, i));
    heap.deallocate(p[i]);
    ASSERT_TRUE(valid(heap));
  }
  EXPECT_EQ(heap.stats().free_blocks, 3u);
  EXPECT_EQ(heap.stats().bytes_free, s.bytes_free);
  if constexpr (internal::kLocatesRegions<typename Heap::Source>) {
    EXPECT_GT(heap.source().asked, 0u);
  }
}

template <class Heap>
class LocatingSourceTest : public ::testing::Test {};
// A list fit and SegregatedFit, both tag layouts, BasicChecks up to DebugChecks, and QuickCache (whose newest-region
// compare comes first).
using LocatingHeaps =
    ::testing::Types<BasicHeap<FirstFit, LocatingSource>,
                     BasicHeap<BestFit, FullTags, LocatingSource, HardenedChecks<>>,
                     BasicHeap<SegregatedFit<>, BasicCompactTags<std::uint32_t>, LocatingSource, QuickCache<>>,
                     BasicHeap<NextFit, LocatingSource, DebugChecks<>>>;
TYPED_TEST_SUITE(LocatingSourceTest, LocatingHeaps, HeapNames);

// Twelve regions, each filled with blocks and then freed in an order that jumps between them, for each of the three
// answers: every free finds its region and every heap validates; a pointer between two spans, and one inside a span's
// region header, are refused. With right answers the heap asks the source.
TYPED_TEST(LocatingSourceTest, RegionsAreFoundWhateverTheSourceAnswers) {
  constexpr std::size_t kRegions = 12;
  constexpr std::size_t kSpan = 1024;
  constexpr std::size_t kStride = kSpan + 64;  // a 64-byte gap after each span
  struct Buffer {
    alignas(64) std::byte bytes[kRegions * kStride];
  };
  using Mode = LocatingSource::Mode;
  for (const Mode mode : {Mode::kRight, Mode::kNever, Mode::kWrong}) {
    SCOPED_TRACE(static_cast<int>(mode));
    auto buffer = std::make_unique<Buffer>();
    TypeParam heap;
    heap.source().mode = mode;
    for (std::size_t i = 0; i < kRegions; ++i) {
      const std::span<std::byte> span(buffer->bytes + i * kStride, kSpan);
      heap.source().remember(span);
      ASSERT_TRUE(heap.add_region(span).has_value()) << i;
      ASSERT_TRUE(valid(heap));
    }
    void* blocks[kRegions * 8];
    std::size_t n = 0;
    for (Result<void*> p = heap.allocate(150); p.has_value(); p = heap.allocate(150)) {
      ASSERT_TRUE(valid(heap));
      ASSERT_LT(n, kRegions * 8);
      fill(*p, 150, n);
      blocks[n++] = *p;
    }
    ASSERT_TRUE(valid(heap));
    ASSERT_GE(n, 2 * kRegions) << "every region holds blocks";
    for (std::size_t i = 0; i < kRegions; ++i) {
      EXPECT_EQ(heap.try_deallocate(buffer->bytes + i * kStride + kSpan + 16).error(), AllocError::kInvalidPointer);
      EXPECT_EQ(heap.try_deallocate(buffer->bytes + i * kStride + 16).error(), AllocError::kInvalidPointer);
      ASSERT_TRUE(valid(heap));
    }
    // Every fifth block, then the rest: consecutive frees lie in different regions.
    for (std::size_t start = 0; start < 5; ++start) {
      for (std::size_t i = start; i < n; i += 5) {
        EXPECT_TRUE(holds_pattern(blocks[i], 150, i));
        heap.deallocate(blocks[i]);
        ASSERT_TRUE(valid(heap));
      }
    }
    heap.flush_cache();  // QuickCache's blocks merge back (a no-op without a cache)
    ASSERT_TRUE(valid(heap));
    const HeapStats s = heap.stats();
    EXPECT_EQ(s.live_allocations, 0u);
    EXPECT_EQ(s.free_blocks, kRegions);
    if (mode == Mode::kRight) {
      EXPECT_GT(heap.source().asked, 0u) << "the heap walked instead of asking the source";
    }
  }
}

// A heap is neither copied nor moved: its blocks' links, region headers and (StaticArraySource) its array would still
// point at the original.
static_assert(!std::is_copy_constructible_v<BasicHeap<RegionSource>> &&
              !std::is_move_constructible_v<BasicHeap<RegionSource>> &&
              !std::is_copy_assignable_v<BasicHeap<RegionSource>> &&
              !std::is_move_assignable_v<BasicHeap<RegionSource>>);
static_assert(!std::is_copy_constructible_v<BasicHeap<StaticArraySource<4096>>> &&
              !std::is_move_constructible_v<BasicHeap<StaticArraySource<4096>>> &&
              !std::is_move_assignable_v<BasicHeap<StaticArraySource<4096>>>);

// README (Policies): StaticArraySource's memory is an array inside the heap object. Every block a heap over it hands
// out, up to the last that fits, lies within the object's own bytes, and its capacity is the array's, less the
// region's header and edge tags (kRegionOverhead: the array is granule-aligned and a whole number of granules).
template <class Heap, std::size_t Bytes>
void expect_blocks_inside_the_heap_object() {
  constexpr std::size_t kRequest = 100;
  auto heap = std::make_unique<Heap>();
  const auto* const object = reinterpret_cast<const std::byte*>(heap.get());
  void* taken[Bytes / kRequest] = {};
  std::size_t n = 0;
  for (Result<void*> p = heap->allocate(kRequest); p.has_value(); p = heap->allocate(kRequest)) {
    ASSERT_TRUE(valid(*heap));
    ASSERT_LT(n, Bytes / kRequest);
    const auto* const block = static_cast<const std::byte*>(*p);
    ASSERT_TRUE(block >= object && block + kRequest <= object + sizeof(Heap))
        << "block " << *p << " lies outside the heap object at " << heap.get();
    taken[n++] = *p;
  }
  EXPECT_GE(n, Bytes / (2 * kRequest));
  const HeapStats s = heap->stats();
  EXPECT_EQ(s.capacity, Bytes - Heap::kRegionOverhead);
  for (std::size_t i = 0; i < n; ++i) {
    heap->deallocate(taken[i]);
    ASSERT_TRUE(valid(*heap));
  }
}

TEST(StaticArraySourceTest, TheMemoryIsAnArrayInsideTheHeapObject) {
  expect_blocks_inside_the_heap_object<BasicHeap<FirstFit, StaticArraySource<4096>>, 4096>();
  expect_blocks_inside_the_heap_object<BasicHeap<BestFit, FullTags, StaticArraySource<8192>>, 8192>();
  expect_blocks_inside_the_heap_object<BasicHeap<SegregatedFit<>, StaticArraySource<4096>, DebugChecks<>>, 4096>();
  // The figures kRegionOverhead's comment and the README give: four words of header and two tag words, rounded up
  // to the granule (x86_64 and riscv64: 48 B, a capacity of 4,048; Cortex-M: 24 B, 4,072; rv32imac, whose granule is
  // 16: 32 B).
  using Small = BasicHeap<FirstFit, StaticArraySource<4096>>;
  if constexpr (sizeof(void*) == 8 && Small::kGranule == 16) {
    EXPECT_EQ(Small::kRegionOverhead, 48u);
  }
  if constexpr (sizeof(void*) == 4 && Small::kGranule == 8) {
    EXPECT_EQ(Small::kRegionOverhead, 24u);
  }
  if constexpr (sizeof(void*) == 4 && Small::kGranule == 16) {
    EXPECT_EQ(Small::kRegionOverhead, 32u);
  }
}

TEST(RegionSourceTest, TooSmallFirstRegionLeavesHeapEmpty) {
  alignas(16) std::byte tiny[24] = {};
  BasicHeap<RegionSource> heap{std::span<std::byte>(tiny)};
  EXPECT_EQ(heap.allocate(1).error(), AllocError::kOutOfMemory);
  EXPECT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().capacity, 0u);
}

}  // namespace
}  // namespace nostd::testing
