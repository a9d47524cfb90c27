// tests/heap_conformance.h — the conformance suite every BasicHeap composition must pass, written once as a
// typed test (TYPED_TEST_SUITE_P) and instantiated over the policy combinations in the *_test.cc files.
//
// After every heap operation the heap is validated, and payloads carry fill patterns that are checked before
// they are freed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {

/// Fixture: a fresh heap of type `Heap` per test.
template <class Heap>
class HeapConformance : public ::testing::Test {
 protected:
  HeapConformance() : owner_(new TestHeap<Heap>()) {}

  Heap& heap() { return owner_->heap(); }

  /// Allocates `size` bytes aligned to `align`, fills them with `tag`'s pattern and validates; fails the test on
  /// an allocation failure.
  void* allocate_filled(std::size_t size, std::size_t tag, std::size_t align = alignof(std::max_align_t)) {
    Result<void*> p = heap().allocate(size, align);
    EXPECT_TRUE(p.has_value()) << "size " << size << " align " << align;
    EXPECT_TRUE(valid(heap()));
    if (!p) return nullptr;
    EXPECT_TRUE(is_aligned(*p, align));
    EXPECT_GE(heap().usable_size(*p), size);
    const Result<std::size_t> checked = heap().try_usable_size(*p);
    EXPECT_TRUE(checked.has_value() && *checked == heap().usable_size(*p)) << "try_usable_size of a live block";
    fill(*p, size, tag);
    return *p;
  }

  /// Checks `tag`'s pattern over `size` bytes at `p`, frees it and validates.
  void free_checked(void* p, std::size_t size, std::size_t tag) {
    EXPECT_TRUE(holds_pattern(p, size, tag)) << "payload of block " << tag << " was overwritten";
    heap().deallocate(p);
    EXPECT_TRUE(valid(heap()));
  }

  /// Asserts the heap is back to one free block as large as a fresh heap's, once a cache policy's cached blocks are
  /// flushed (QuickCache keeps small freed blocks unmerged; a no-op for the default NoCache).
  void expect_fully_coalesced() {
    heap().flush_cache();
    EXPECT_TRUE(valid(heap()));
    const HeapStats s = heap().stats();
    EXPECT_EQ(s.live_allocations, 0u);
    EXPECT_EQ(s.free_blocks, 1u);
    EXPECT_EQ(s.largest_free_block, fresh_.largest_free_block);
    EXPECT_EQ(s.bytes_free, fresh_.bytes_free);
  }

  void SetUp() override {
    ASSERT_TRUE(valid(heap()));
    fresh_ = heap().stats();
  }

  std::unique_ptr<TestHeap<Heap>> owner_;
  HeapStats fresh_;
};

TYPED_TEST_SUITE_P(HeapConformance);

TYPED_TEST_P(HeapConformance, FreshHeapIsOneFreeBlock) {
  const HeapStats s = this->heap().stats();
  EXPECT_GT(s.capacity, kTestHeapBytes - 256);
  EXPECT_LE(s.capacity, kTestHeapBytes);
  EXPECT_EQ(s.free_blocks, 1u);
  EXPECT_EQ(s.live_allocations, 0u);
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.largest_free_block, s.bytes_free);
  EXPECT_EQ(s.capacity, s.bytes_in_use + s.bytes_free + s.overhead_bytes);
  EXPECT_EQ(s.fragmentation(), 0.0);
}

TYPED_TEST_P(HeapConformance, AllocationCyclesKeepPayloadsAndCoalesce) {
  constexpr std::size_t kCount = 40;
  std::array<void*, kCount> blocks{};
  auto size_of = [](std::size_t i) { return 1 + (i * 37) % 700; };
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < kCount; ++i) blocks[i] = this->allocate_filled(size_of(i), i);
    // Free in a different order each round: forward, backward, odd-then-even (which makes isolated holes first).
    for (std::size_t k = 0; k < kCount; ++k) {
      std::size_t i = round == 0   ? k
                      : round == 1 ? kCount - 1 - k
                                   : (k < kCount / 2 ? 2 * k + 1 : 2 * (k - kCount / 2));
      this->free_checked(blocks[i], size_of(i), i);
    }
    this->expect_fully_coalesced();
  }
}

TYPED_TEST_P(HeapConformance, AlignmentsFromOneTo4096) {
  std::array<void*, 13 * 3> blocks{};
  std::size_t n = 0;
  for (std::size_t align = 1; align <= 4096; align <<= 1) {
    for (std::size_t size : {std::size_t{1}, std::size_t{24}, std::size_t{300}}) {
      blocks[n] = this->allocate_filled(size, n, align);
      ASSERT_NE(blocks[n], nullptr);
      EXPECT_TRUE(is_aligned(blocks[n], align)) << "align " << align;
      ++n;
    }
  }
  n = 0;
  for (std::size_t align = 1; align <= 4096; align <<= 1) {
    for (std::size_t size : {std::size_t{1}, std::size_t{24}, std::size_t{300}}) {
      this->free_checked(blocks[n], size, n);
      ++n;
    }
  }
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ZeroSizeGetsUniqueFreeableBlock) {
  Result<void*> a = this->heap().allocate(0);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(valid(this->heap()));
  Result<void*> b = this->heap().allocate(std::size_t{0});
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_NE(*a, nullptr);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(this->heap().stats().live_allocations, 2u);
  this->heap().deallocate(*a);
  EXPECT_TRUE(valid(this->heap()));
  this->heap().deallocate(*b);
  EXPECT_TRUE(valid(this->heap()));
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, BadAlignmentIsInvalidLayout) {
  for (std::size_t align :
       {std::size_t{0}, std::size_t{3}, std::size_t{24}, std::size_t{4097}, std::numeric_limits<std::size_t>::max()}) {
    Result<void*> p = this->heap().allocate(64, align);
    ASSERT_FALSE(p.has_value()) << align;
    EXPECT_EQ(p.error(), AllocError::kInvalidLayout) << align;
    EXPECT_TRUE(valid(this->heap()));
  }
  Result<void*> huge_align = this->heap().allocate(64, TypeParam::kMaxAlignment * 2);
  ASSERT_FALSE(huge_align.has_value());
  EXPECT_EQ(huge_align.error(), AllocError::kInvalidLayout);
  EXPECT_TRUE(valid(this->heap()));
  // With an overflowing size too, the alignment is what is reported (Layout::from alone says kSizeOverflow).
  Result<void*> both = this->heap().allocate(std::numeric_limits<std::size_t>::max() - 8, TypeParam::kMaxAlignment * 2);
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error(), AllocError::kInvalidLayout);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().failed_allocations, 7u);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, OverflowingSizesAreSizeOverflow) {
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  for (std::size_t size : {kMax, kMax - 1, kMax - 8, kMax - (TypeParam::kGranule - 1), kMax - TypeParam::kTagOverhead,
                           kMax - TypeParam::kTagOverhead - 1}) {
    Result<void*> p = this->heap().allocate(size);
    ASSERT_FALSE(p.has_value()) << size;
    EXPECT_EQ(p.error(), AllocError::kSizeOverflow) << size;
    EXPECT_TRUE(valid(this->heap()));
    Result<void*> q = this->heap().allocate(*Layout::from(size, 1));
    ASSERT_FALSE(q.has_value()) << size;
    EXPECT_EQ(q.error(), AllocError::kSizeOverflow) << size;
    EXPECT_TRUE(valid(this->heap()));
  }
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, LargerThanHeapIsOutOfMemory) {
  const std::size_t capacity = this->heap().stats().capacity;
  for (std::size_t size : {capacity, capacity + 1, std::size_t{1} << (sizeof(std::size_t) * 8 - 4)}) {
    Result<void*> p = this->heap().allocate(size);
    ASSERT_FALSE(p.has_value()) << size;
    EXPECT_EQ(p.error(), AllocError::kOutOfMemory) << size;
    EXPECT_TRUE(valid(this->heap()));
  }
  // The largest free block is exactly obtainable, and one byte more is not.
  const std::size_t largest = this->heap().stats().largest_free_block;
  EXPECT_EQ(this->heap().allocate(largest + 1).error(), AllocError::kOutOfMemory);
  void* p = this->allocate_filled(largest, 1);
  EXPECT_EQ(this->heap().stats().free_blocks, 0u);
  EXPECT_EQ(this->heap().allocate(0).error(), AllocError::kOutOfMemory);
  EXPECT_TRUE(valid(this->heap()));
  this->free_checked(p, largest, 1);
  EXPECT_EQ(this->heap().stats().failed_allocations, 5u);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ExhaustionAndRecovery) {
  constexpr std::size_t kMaxBlocks = kTestHeapBytes / 32;
  auto blocks = std::make_unique<void*[]>(kMaxBlocks);
  for (int round = 0; round < 2; ++round) {
    std::size_t n = 0;
    for (;;) {
      Result<void*> p = this->heap().allocate(48);
      ASSERT_TRUE(valid(this->heap()));
      if (!p) {
        EXPECT_EQ(p.error(), AllocError::kOutOfMemory);
        break;
      }
      ASSERT_LT(n, kMaxBlocks);
      fill(*p, 48, n);
      blocks[n++] = *p;
    }
    EXPECT_GT(n, kTestHeapBytes / 128);  // 48 bytes + tags fit in at most 64: at least half the heap is used
    EXPECT_EQ(this->heap().stats().live_allocations, n);
    for (std::size_t i = 0; i < n; ++i) this->free_checked(blocks[i], 48, i);
    this->expect_fully_coalesced();
  }
}

TYPED_TEST_P(HeapConformance, TryDeallocateRejectsBadPointersAndKeepsHeap) {
  void* a = this->allocate_filled(100, 1);
  void* b = this->allocate_filled(200, 2);
  auto expect_error = [&](void* ptr, AllocError error) {
    const HeapStats before = this->heap().stats();
    Result<void> r = this->heap().try_deallocate(ptr);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), error);
    EXPECT_TRUE(valid(this->heap()));
    EXPECT_EQ(this->heap().stats().live_allocations, before.live_allocations);
    EXPECT_EQ(this->heap().stats().total_frees, before.total_frees);
  };
  alignas(64) std::byte on_stack[64] = {};
  expect_error(on_stack + 16, AllocError::kInvalidPointer);                    // foreign
  expect_error(static_cast<std::byte*>(a) + 1, AllocError::kInvalidPointer);   // misaligned interior
  expect_error(static_cast<std::byte*>(a) + 16, AllocError::kInvalidPointer);  // aligned interior
  expect_error(static_cast<std::byte*>(b) + 32, AllocError::kInvalidPointer);
  expect_error(static_cast<std::byte*>(b) + 192, AllocError::kInvalidPointer);
  EXPECT_TRUE(holds_pattern(a, 100, 1));
  EXPECT_TRUE(holds_pattern(b, 200, 2));
  ASSERT_TRUE(this->heap().try_deallocate(a).has_value());
  EXPECT_TRUE(valid(this->heap()));
  expect_error(a, AllocError::kDoubleFree);
  ASSERT_TRUE(this->heap().try_deallocate(nullptr).has_value());
  this->free_checked(b, 200, 2);
  expect_error(b, AllocError::kDoubleFree);  // freed and already merged with its free neighbours
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, PointerFromAnotherHeapIsForeign) {
  auto other = std::make_unique<TestHeap<TypeParam>>();
  Result<void*> theirs = other->heap().allocate(64);
  ASSERT_TRUE(theirs.has_value());
  Result<void> r = this->heap().try_deallocate(*theirs);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), AllocError::kInvalidPointer);
  EXPECT_FALSE(this->heap().owns(*theirs));
  EXPECT_TRUE(other->heap().owns(*theirs));
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_TRUE(valid(other->heap()));
  other->heap().deallocate(*theirs);
  EXPECT_TRUE(valid(other->heap()));
}

TYPED_TEST_P(HeapConformance, DeallocateNullIsNoop) {
  this->heap().deallocate(nullptr);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().total_frees, 0u);
}

TYPED_TEST_P(HeapConformance, StatsAreExact) {
  const std::size_t sizes[] = {1, 16, 100, 1000, 3000};
  void* blocks[5];
  std::size_t usable = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    blocks[i] = this->allocate_filled(sizes[i], i);
    usable += this->heap().usable_size(blocks[i]);
    const HeapStats s = this->heap().stats();
    EXPECT_EQ(s.bytes_in_use, usable);
    EXPECT_EQ(s.live_allocations, i + 1);
    EXPECT_EQ(s.total_allocations, i + 1);
    EXPECT_EQ(s.peak_bytes_in_use, usable);
    EXPECT_EQ(s.capacity, s.bytes_in_use + s.bytes_free + s.overhead_bytes);
    if constexpr (TypeParam::Check::kLevel < CheckLevel::kDebug) {
      // Under DebugChecks the canary bytes count as overhead too (usable_size is the request).
      EXPECT_EQ(s.overhead_bytes, (s.live_allocations + s.free_blocks + s.cached_blocks) * TypeParam::kUsedOverhead);
    }
  }
  const std::size_t peak = usable;
  ASSERT_FALSE(this->heap().allocate(this->heap().stats().capacity).has_value());
  // Free the middle one: a hole between used blocks, so two free blocks (the hole may be cached: QuickCache).
  usable -= this->heap().usable_size(blocks[2]);
  this->free_checked(blocks[2], sizes[2], 2);
  HeapStats s = this->heap().stats();
  EXPECT_EQ(s.bytes_in_use, usable);
  EXPECT_EQ(s.peak_bytes_in_use, peak);
  EXPECT_EQ(s.free_blocks + s.cached_blocks, 2u);
  if constexpr (TypeParam::Check::kLevel < CheckLevel::kDebug) {
    EXPECT_EQ(s.overhead_bytes, (s.live_allocations + s.free_blocks + s.cached_blocks) * TypeParam::kUsedOverhead);
  }
  EXPECT_EQ(s.total_frees, 1u);
  EXPECT_EQ(s.failed_allocations, 1u);
  EXPECT_LT(s.largest_free_block, s.bytes_free);
  EXPECT_GT(s.fragmentation(), 0.0);
  EXPECT_EQ(s.capacity, s.bytes_in_use + s.bytes_free + s.overhead_bytes);
  for (std::size_t i : {0u, 1u, 3u, 4u}) this->free_checked(blocks[i], sizes[i], i);
  s = this->heap().stats();
  EXPECT_EQ(s.total_frees, 5u);
  EXPECT_EQ(s.bytes_in_use, 0u);
  this->expect_fully_coalesced();
}

// bytes_in_use and its peak are Σ usable_size over the live blocks, also for over-aligned blocks, whose last payload
// byte records their alignment (issue 10: allocate(100, 64) had usable_size 103 and counted 104).
TYPED_TEST_P(HeapConformance, BytesInUseIsSumOfUsableSizesWithOverAlignment) {
  struct Request {
    std::size_t size, align;
  };
  const Request requests[] = {{100, 64}, {1, 4096}, {300, 32}, {24, 16}, {7, 1}, {500, 256}};
  void* blocks[6];
  std::size_t usable = 0, peak = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    blocks[i] = this->allocate_filled(requests[i].size, i, requests[i].align);
    usable += this->heap().usable_size(blocks[i]);
    peak = std::max(peak, usable);
    const HeapStats s = this->heap().stats();
    EXPECT_EQ(s.bytes_in_use, usable) << "after allocate(" << requests[i].size << ", " << requests[i].align << ")";
    EXPECT_EQ(s.peak_bytes_in_use, peak);
    EXPECT_EQ(s.capacity, s.bytes_in_use + s.bytes_free + s.overhead_bytes);
  }
  // Reallocate in place (shrink, grow) and moved: the identity holds through each.
  for (std::size_t new_size : {std::size_t{40}, std::size_t{90}, std::size_t{2000}}) {
    const std::size_t old_usable = this->heap().usable_size(blocks[0]);
    Result<void*> p = this->heap().reallocate(blocks[0], new_size);
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(valid(this->heap()));
    // A moving reallocate holds both blocks for a moment, and the peak counts that moment.
    if (*p != blocks[0]) peak = std::max(peak, usable + this->heap().usable_size(*p));
    blocks[0] = *p;
    usable = usable - old_usable + this->heap().usable_size(blocks[0]);
    peak = std::max(peak, usable);
    EXPECT_EQ(this->heap().stats().bytes_in_use, usable) << "after reallocate to " << new_size;
    EXPECT_EQ(this->heap().stats().peak_bytes_in_use, peak);
  }
  for (std::size_t i = 0; i < 6; ++i) {
    usable -= this->heap().usable_size(blocks[i]);
    this->heap().deallocate(blocks[i]);
    ASSERT_TRUE(valid(this->heap()));
    EXPECT_EQ(this->heap().stats().bytes_in_use, usable);
  }
  EXPECT_EQ(this->heap().stats().peak_bytes_in_use, peak);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ReallocateShrinksInPlace) {
  void* p = this->allocate_filled(1000, 7);
  void* guard = this->allocate_filled(64, 8);  // keeps the successor used: the freed tail stands alone
  Result<void*> q = this->heap().reallocate(p, 100);
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_EQ(*q, p);
  EXPECT_TRUE(holds_pattern(p, 100, 7));
  EXPECT_GE(this->heap().usable_size(p), 100u);
  EXPECT_LT(this->heap().usable_size(p), 1000u);
  EXPECT_EQ(this->heap().stats().free_blocks, 2u);
  this->free_checked(p, 100, 7);
  this->free_checked(guard, 64, 8);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ReallocateGrowsInPlaceIntoFreeSuccessor) {
  void* p = this->allocate_filled(100, 3);  // followed by the rest of the heap, free
  Result<void*> q = this->heap().reallocate(p, 4000);
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_EQ(*q, p);
  EXPECT_GE(this->heap().usable_size(p), 4000u);
  EXPECT_TRUE(holds_pattern(p, 100, 3));
  EXPECT_EQ(this->heap().stats().total_allocations, 1u);
  this->free_checked(p, 100, 3);
  this->expect_fully_coalesced();
}

// The shrink's split threshold: shrinking one granule at a time leaves each tail inside the block as slack until it
// reaches exactly a minimum block, which is freed on its own (the guard keeps it from the heap's free rest); from
// there the next tails are slack again until one can be a block, which joins the freed tail. The requested size
// steps by whole granules, so each step's block needs exactly one granule less whatever the tags and checks add.
TYPED_TEST_P(HeapConformance, ReallocateShrinkFreesATailOfExactlyAMinimumBlock) {
  constexpr std::size_t kG = TypeParam::kGranule;
  constexpr std::size_t kMinSteps = TypeParam::kMinBlockSize / kG;
  constexpr std::size_t kSize = 1000;
  void* p = this->allocate_filled(kSize, 7);
  void* guard = this->allocate_filled(64, 8);
  for (std::size_t k = 1; k <= 2 * kMinSteps + 1; ++k) {
    Result<void*> q = this->heap().reallocate(p, kSize - k * kG);
    ASSERT_TRUE(q.has_value()) << k;
    ASSERT_TRUE(valid(this->heap()));
    EXPECT_EQ(*q, p) << k;
    EXPECT_TRUE(holds_pattern(p, kSize - k * kG, 7)) << k;
    EXPECT_EQ(this->heap().stats().free_blocks, k < kMinSteps ? 1u : 2u) << "step " << k;
  }
  this->free_checked(p, kSize - (2 * kMinSteps + 1) * kG, 7);
  this->free_checked(guard, 64, 8);
  this->expect_fully_coalesced();
}

// The grow's split threshold and bound: growing into a free successor of M bytes (above a cache's largest block, so
// that its free merges at once) by exactly M less a minimum block leaves that minimum block free after the block, and
// growing by exactly M, which the block and its free successor now hold to the byte, still stays in place.
TYPED_TEST_P(HeapConformance, ReallocateGrowsInPlaceUpToExactlyItsFreeSuccessor) {
  constexpr std::size_t kSize = 100;
  void* p = this->allocate_filled(kSize, 3);
  void* mid = this->allocate_filled(2000, 4);
  void* guard = this->allocate_filled(64, 5);
  const auto m = static_cast<std::size_t>(static_cast<std::byte*>(guard) - static_cast<std::byte*>(mid));
  this->free_checked(mid, 2000, 4);
  ASSERT_EQ(this->heap().stats().free_blocks, 2u);
  const std::size_t sizes[] = {kSize + m - TypeParam::kMinBlockSize, kSize + m};
  const std::size_t free_after[] = {2u, 1u};
  for (std::size_t i = 0; i < 2; ++i) {
    Result<void*> q = this->heap().reallocate(p, sizes[i]);
    ASSERT_TRUE(q.has_value()) << sizes[i];
    ASSERT_TRUE(valid(this->heap()));
    EXPECT_EQ(*q, p) << sizes[i];
    EXPECT_TRUE(holds_pattern(p, kSize, 3));
    EXPECT_EQ(this->heap().stats().free_blocks, free_after[i]) << sizes[i];
  }
  this->free_checked(p, kSize, 3);
  this->free_checked(guard, 64, 5);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ReallocateMovesWhenBlocked) {
  void* p = this->allocate_filled(100, 4);
  void* blocker = this->allocate_filled(32, 5);
  Result<void*> q = this->heap().reallocate(p, 3000);
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_NE(*q, p);
  EXPECT_TRUE(holds_pattern(*q, 100, 4));
  const HeapStats s = this->heap().stats();
  EXPECT_EQ(s.live_allocations, 2u);
  EXPECT_EQ(s.total_allocations, 3u);
  EXPECT_EQ(s.total_frees, 1u);
  this->free_checked(*q, 100, 4);
  this->free_checked(blocker, 32, 5);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ReallocateFailureKeepsOldBlock) {
  void* p = this->allocate_filled(200, 6);
  void* blocker = this->allocate_filled(32, 9);
  const HeapStats before = this->heap().stats();
  Result<void*> q = this->heap().reallocate(p, before.capacity);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error(), AllocError::kOutOfMemory);
  EXPECT_TRUE(valid(this->heap()));
  Result<void*> r = this->heap().reallocate(p, std::numeric_limits<std::size_t>::max() - 4);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), AllocError::kSizeOverflow);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_TRUE(holds_pattern(p, 200, 6));
  EXPECT_EQ(this->heap().stats().live_allocations, before.live_allocations);
  EXPECT_EQ(this->heap().stats().bytes_in_use, before.bytes_in_use);
  this->free_checked(p, 200, 6);
  this->free_checked(blocker, 32, 9);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ReallocateKeepsOverAlignment) {
  void* p = this->allocate_filled(100, 10, 256);
  // Only the free block after p is large enough for this blocker, whatever the fit: p cannot grow in place.
  const std::size_t blocker_size = this->heap().stats().largest_free_block - 6000;
  void* blocker = this->allocate_filled(blocker_size, 11);
  Result<void*> q = this->heap().reallocate(p, 5000);
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_NE(*q, p);
  EXPECT_TRUE(is_aligned(*q, 256));
  EXPECT_TRUE(holds_pattern(*q, 100, 10));
  this->free_checked(*q, 100, 10);
  this->free_checked(blocker, blocker_size, 11);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ReallocateNullAllocates) {
  Result<void*> p = this->heap().reallocate(nullptr, 50);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_GE(this->heap().usable_size(*p), 50u);
  this->heap().deallocate(*p);
  EXPECT_TRUE(valid(this->heap()));
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, OwnsAndWalk) {
  void* a = this->allocate_filled(10, 1);
  void* b = this->allocate_filled(500, 2);
  EXPECT_TRUE(this->heap().owns(a));
  EXPECT_TRUE(this->heap().owns(static_cast<std::byte*>(b) + 499));
  int local = 0;
  EXPECT_FALSE(this->heap().owns(&local));
  std::size_t total = 0, used = 0, blocks = 0;
  bool saw_a = false;
  this->heap().walk([&](const BlockInfo& info) {
    total += info.size;
    used += info.used ? 1 : 0;
    ++blocks;
    saw_a = saw_a || info.payload == a;
  });
  EXPECT_EQ(total, this->heap().stats().capacity);
  EXPECT_EQ(used, 2u);
  EXPECT_EQ(blocks, 3u);
  EXPECT_TRUE(saw_a);
  this->free_checked(a, 10, 1);
  this->free_checked(b, 500, 2);
  this->expect_fully_coalesced();
}

// walk_free visits the fit index's blocks: exactly those walk() reports neither used nor cached, each once, as many
// as stats() counts free, with `used` and `cached` false and walk()'s size; never a used block, nor (with a cache) a
// block the cache keeps aside.
TYPED_TEST_P(HeapConformance, WalkFreeVisitsExactlyTheIndexedFreeBlocks) {
  const auto expect_walk_free_matches_walk = [this](const char* when) {
    struct Walked {
      const void* payload;
      std::size_t size;
      bool used;
      bool cached;
      bool visited;
    };
    std::array<Walked, 64> walked{};
    std::size_t blocks = 0, free_blocks = 0;
    this->heap().walk([&](const BlockInfo& info) {
      if (blocks < walked.size()) walked[blocks] = {info.payload, info.size, info.used, info.cached, false};
      ++blocks;
      free_blocks += (!info.used && !info.cached) ? 1 : 0;
    });
    EXPECT_TRUE(valid(this->heap()));
    ASSERT_LE(blocks, walked.size()) << when;
    std::size_t visits = 0;
    this->heap().walk_free([&](const BlockInfo& info) {
      ++visits;
      EXPECT_FALSE(info.used) << when;
      EXPECT_FALSE(info.cached) << when;
      const auto found = std::find_if(walked.begin(), walked.begin() + static_cast<std::ptrdiff_t>(blocks),
                                      [&info](const Walked& w) { return w.payload == info.payload; });
      ASSERT_NE(found, walked.begin() + static_cast<std::ptrdiff_t>(blocks)) << when << ": visits no block start";
      EXPECT_FALSE(found->used) << when << ": visits a used block";
      EXPECT_FALSE(found->cached) << when << ": visits a cached block";
      EXPECT_FALSE(found->visited) << when << ": visits a block twice";
      EXPECT_EQ(info.size, found->size) << when;
      found->visited = true;
    });
    EXPECT_TRUE(valid(this->heap()));
    EXPECT_EQ(visits, free_blocks) << when;
    EXPECT_EQ(visits, this->heap().stats().free_blocks) << when;
    EXPECT_TRUE(valid(this->heap()));
  };

  expect_walk_free_matches_walk("fresh heap");
  // Sizes from cache-sized to larger than any cache bin; every other block freed, so that each freed block has used
  // neighbours: free blocks apart, and with a cache the small ones kept aside.
  constexpr std::size_t kSizes[] = {16, 48, 200, 700, 1500};
  constexpr std::size_t kBlocks = 15;
  void* blocks[kBlocks];
  for (std::size_t i = 0; i < kBlocks; ++i) blocks[i] = this->allocate_filled(kSizes[i % std::size(kSizes)], i);
  expect_walk_free_matches_walk("all allocated");
  for (std::size_t i = 0; i < kBlocks; i += 2) this->free_checked(blocks[i], kSizes[i % std::size(kSizes)], i);
  if constexpr (TypeParam::kCaching) {
    EXPECT_GT(this->heap().stats().cached_blocks, 0u);
  }
  EXPECT_TRUE(valid(this->heap()));
  expect_walk_free_matches_walk("every other block freed");
  if constexpr (TypeParam::kCaching) {
    this->heap().flush_cache();
    EXPECT_TRUE(valid(this->heap()));
    EXPECT_EQ(this->heap().stats().cached_blocks, 0u);
    EXPECT_TRUE(valid(this->heap()));
    expect_walk_free_matches_walk("cache flushed");
  }
  for (std::size_t i = 1; i < kBlocks; i += 2) this->free_checked(blocks[i], kSizes[i % std::size(kSizes)], i);
  expect_walk_free_matches_walk("all freed");
  this->expect_fully_coalesced();
  expect_walk_free_matches_walk("coalesced");
}

TYPED_TEST_P(HeapConformance, ValidateReportsOverwrittenHeader) {
  void* a = this->allocate_filled(64, 1);
  void* b = this->allocate_filled(64, 2);
  std::byte* header = static_cast<std::byte*>(b) - TypeParam::Tags::kHeaderSize;
  std::byte saved[sizeof(std::uintptr_t)];
  expose(header, TypeParam::Tags::kHeaderSize);
  std::memcpy(saved, header, TypeParam::Tags::kHeaderSize);
  std::memset(header, 0xA5, TypeParam::Tags::kHeaderSize);  // an overflow from block a
  ValidateResult r = this->heap().validate();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error, AllocError::kCorrupted);
  EXPECT_EQ(r.error().where, header);
  EXPECT_EQ(this->heap().try_deallocate(b).error(), AllocError::kInvalidPointer);
  std::memcpy(header, saved, TypeParam::Tags::kHeaderSize);
  EXPECT_TRUE(valid(this->heap()));
  this->free_checked(a, 64, 1);
  this->free_checked(b, 64, 2);
  this->expect_fully_coalesced();
}

TYPED_TEST_P(HeapConformance, ValidateReportsBrokenFreeList) {
  void* a = this->allocate_filled(64, 1);
  void* b = this->allocate_filled(64, 2);
  void* c = this->allocate_filled(64, 3);
  this->free_checked(b, 64, 2);  // a free block between used ones: its links sit at b
  auto* links = static_cast<internal::FreeNode*>(b);
  internal::FreeNode saved = *links;
  links->next = links;  // a cycle
  ValidateResult r = this->heap().validate();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error, AllocError::kCorrupted);
  *links = saved;
  EXPECT_TRUE(valid(this->heap()));
  this->free_checked(a, 64, 1);
  this->free_checked(c, 64, 3);
  this->expect_fully_coalesced();
}

REGISTER_TYPED_TEST_SUITE_P(HeapConformance, ReallocateShrinkFreesATailOfExactlyAMinimumBlock,
                            ReallocateGrowsInPlaceUpToExactlyItsFreeSuccessor, FreshHeapIsOneFreeBlock,
                            AllocationCyclesKeepPayloadsAndCoalesce, AlignmentsFromOneTo4096,
                            ZeroSizeGetsUniqueFreeableBlock, BadAlignmentIsInvalidLayout,
                            OverflowingSizesAreSizeOverflow, LargerThanHeapIsOutOfMemory, ExhaustionAndRecovery,
                            TryDeallocateRejectsBadPointersAndKeepsHeap, PointerFromAnotherHeapIsForeign,
                            DeallocateNullIsNoop, StatsAreExact, BytesInUseIsSumOfUsableSizesWithOverAlignment,
                            ReallocateShrinksInPlace, ReallocateGrowsInPlaceIntoFreeSuccessor,
                            ReallocateMovesWhenBlocked, ReallocateFailureKeepsOldBlock, ReallocateKeepsOverAlignment,
                            ReallocateNullAllocates, OwnsAndWalk, WalkFreeVisitsExactlyTheIndexedFreeBlocks,
                            ValidateReportsOverwrittenHeader, ValidateReportsBrokenFreeList);

/// Names typed-test instances after their policies (no RTTI here, so gtest cannot print type names itself).
struct HeapTypeNames {
  template <class Heap>
  static std::string GetName(int /*index*/) {
    return heap_name<Heap>();
  }
};

}  // namespace nostd::testing
