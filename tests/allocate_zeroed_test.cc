// BasicHeap::allocate_zeroed (calloc's allocation): every byte it hands out reads zero, whatever the heap handed out
// and the caller wrote before; and a heap whose source's memory starts zero (MmapSource) and that keeps a cache's
// high-water mark leaves the memory it never handed out unwritten, its pages not resident.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "alloc/alloc.h"
#include "alloc/internal/memory_tools.h"
#include "platform/mmap_source.h"
#include "tests/heap_test_util.h"
#include "tests/resident_pages.h"

namespace nostd::testing {
namespace {

constexpr std::size_t kHeapBytes = std::size_t{4} << 20;
constexpr unsigned char kDirty = 0xA5;

/// A buffer of kHeapBytes filled with kDirty: memory that does not start zero.
struct DirtyBuffer {
  DirtyBuffer() : bytes(std::make_unique<std::byte[]>(kHeapBytes)) { std::memset(bytes.get(), kDirty, kHeapBytes); }
  std::unique_ptr<std::byte[]> bytes;
};

/// A RegionSource heap over a DirtyBuffer (a base, so that it is filled before the heap is built), which
/// allocate_zeroed must clear whole.
template <class... Policies>
struct DirtyRegionHeap : DirtyBuffer, BasicHeap<Policies..., RegionSource> {
  DirtyRegionHeap() : BasicHeap<Policies..., RegionSource>(std::span<std::byte>(bytes.get(), kHeapBytes)) {}
};

// Heaps that know their fresh memory (a zeroed source and a cache), and heaps that clear every byte: no cache (the
// hardened level keeps none), or a source whose memory is old.
using SegCached = BasicHeap<SegregatedFit<>, MmapSource<kHeapBytes>, QuickCache<>>;
using SegFullChecked =
    BasicHeap<SegregatedFit<>, FullTags, BasicChecks<>, MmapSource<kHeapBytes>, QuickCache<8, 8192, 256>>;
using FirstHalfWord = BasicHeap<FirstFit, BasicCompactTags<std::uint32_t>, MmapSource<kHeapBytes>, QuickCache<>>;
using BestFull = BasicHeap<BestFit, FullTags, NoChecks, MmapSource<kHeapBytes>, QuickCache<>>;
using TrackingHeaps = ::testing::Types<SegCached, SegFullChecked, FirstHalfWord, BestFull>;
using AllHeaps =
    ::testing::Types<SegCached, SegFullChecked, FirstHalfWord, BestFull,
                     BasicHeap<SegregatedFit<>, HardenedChecks<>, MmapSource<kHeapBytes>>,
                     BasicHeap<NextFit, MmapSource<kHeapBytes>>, DirtyRegionHeap<SegregatedFit<>, QuickCache<>>>;

template <class Heap>
class AllocateZeroed : public ::testing::Test {};
/// heap_name, numbered (DirtyRegionHeap's name is its base's).
class AllNames {
 public:
  template <class Heap>
  static std::string GetName(int index) {
    return std::to_string(index) + "_" + heap_name<Heap>();
  }
};
TYPED_TEST_SUITE(AllocateZeroed, AllHeaps, AllNames);

::testing::AssertionResult all_zero(const void* p, std::size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] != 0) {
      return ::testing::AssertionFailure() << "byte " << i << " of " << n << " reads " << int{bytes[i]};
    }
  }
  return ::testing::AssertionSuccess();
}

// Seeded operations of every kind the heap hands memory out by (allocate, over-aligned allocate, reallocate that
// grows in place, moves or shrinks, the cache's hits), each block written whole with kDirty, frees and cache flushes
// in between, until the heap is full and emptied again: every allocate_zeroed reads zero over its whole request, and
// validate() passes after each operation.
TYPED_TEST(AllocateZeroed, EveryBlockReadsZeroWhateverWasWrittenBefore) {
  auto heap = std::make_unique<TypeParam>();
  std::mt19937_64 rng(20261207);
  struct Live {
    void* p;
  };
  std::vector<Live> live;
  const auto dirty = [&](void* p) { std::memset(p, kDirty, heap->usable_size(p)); };
  const auto size_of = [&]() -> std::size_t {
    const std::uint64_t r = rng() % 100;
    if (r < 50) return rng() % 256;
    if (r < 70) return rng() % 4096;
    return 4096 + rng() % (60 * 1024);  // allocate_zeroed plans its clear from a page up
  };
  std::size_t zeroed = 0;
  for (int step = 0; step < 4000; ++step) {
    if (step % 500 == 499) {
      // A fresh heap now and then: a full heap's mark sits at the region's end, where every clear is whole.
      for (const Live& block : live) heap->deallocate(block.p);
      live.clear();
      ASSERT_TRUE(valid(*heap));
      heap = std::make_unique<TypeParam>();
    }
    const std::uint64_t op = rng() % 100;
    if (op < 25) {
      Result<void*> p = heap->allocate(size_of());
      if (p) {
        dirty(*p);
        live.push_back({*p});
      }
    } else if (op < 50) {
      const std::size_t size = size_of();
      Result<void*> p = heap->allocate_zeroed(size);
      if (p) {
        ASSERT_TRUE(all_zero(*p, size)) << "step " << step << ", " << size << " bytes";
        ++zeroed;
        dirty(*p);
        live.push_back({*p});
      }
    } else if (op < 55) {
      Result<void*> p = heap->allocate(size_of(), std::size_t{32} << (rng() % 7));
      if (p) {
        dirty(*p);
        live.push_back({*p});
      }
    } else if (op < 70 && !live.empty()) {
      Live& block = live[rng() % live.size()];
      Result<void*> p = heap->reallocate(block.p, size_of());
      if (p) {
        block.p = *p;
        dirty(*p);
      }
    } else if (op < 98 && !live.empty()) {
      const std::size_t i = rng() % live.size();
      heap->deallocate(live[i].p);
      live[i] = live.back();
      live.pop_back();
    } else {
      heap->flush_cache();
    }
    ASSERT_TRUE(valid(*heap)) << "step " << step;
  }
  EXPECT_GT(zeroed, 400u);
  for (const Live& block : live) {
    heap->deallocate(block.p);
    ASSERT_TRUE(valid(*heap));
  }
}

// Bad input is refused as allocate(size) refuses it, and nothing changes: an overflowing size, a size no block holds.
// Size 0 gets a unique minimum block, as from allocate.
TYPED_TEST(AllocateZeroed, RefusesWhatAllocateRefuses) {
  auto heap = std::make_unique<TypeParam>();
  Result<void*> kept = heap->allocate_zeroed(100);
  ASSERT_TRUE(kept.has_value());
  ASSERT_TRUE(valid(*heap));
  const HeapStats before = heap->stats();
  EXPECT_EQ(heap->allocate_zeroed(SIZE_MAX).error(), AllocError::kSizeOverflow);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->allocate_zeroed(2 * kHeapBytes).error(), AllocError::kOutOfMemory);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->stats().live_allocations, before.live_allocations);
  EXPECT_EQ(heap->stats().bytes_in_use, before.bytes_in_use);
  EXPECT_TRUE(all_zero(*kept, 100));
  Result<void*> empty = heap->allocate_zeroed(0);
  ASSERT_TRUE(empty.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_NE(*empty, *kept);
  heap->deallocate(*empty);
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(*kept);
  ASSERT_TRUE(valid(*heap));
}

template <class Heap>
class FreshMemory : public ::testing::Test {};
TYPED_TEST_SUITE(FreshMemory, TrackingHeaps, AllNames);

// A block carved from memory the heap never handed out is not written: its pages stay as the mapping gave them, not
// resident, where clearing it whole would have faulted in every one.
TYPED_TEST(FreshMemory, MemoryNeverHandedOutIsNotWritten) {
  if (internal::kMemoryTools) GTEST_SKIP() << "no cache under ASan and Valgrind, so no high-water mark: all is cleared";
  if (!small_pages_only()) GTEST_SKIP() << "transparent huge pages at \"always\": pages cannot be counted one by one";
  auto heap = std::make_unique<TypeParam>();
  Result<void*> first = heap->allocate_zeroed(1000);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(valid(*heap));
  constexpr std::size_t kLarge = std::size_t{1} << 20;
  Result<void*> large = heap->allocate_zeroed(kLarge);
  ASSERT_TRUE(large.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_LE(resident_bytes_inside(*large, kLarge), 2 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)))
      << "the fresh block was written";
  EXPECT_TRUE(all_zero(*large, kLarge));
  heap->deallocate(*large);
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(*first);
  ASSERT_TRUE(valid(*heap));
}

// A block that grew in place into the memory after it (reallocate) and was written there, then shrank back: that
// memory was handed out, and a later allocate_zeroed over it reads zero. The grow raises the mark as an allocation
// does; without it the memory read as never handed out.
TYPED_TEST(FreshMemory, MemoryAGrowInPlaceHandedOutIsCleared) {
  auto heap = std::make_unique<TypeParam>();
  Result<void*> block = heap->allocate(64);
  ASSERT_TRUE(block.has_value());
  ASSERT_TRUE(valid(*heap));
  constexpr std::size_t kGrown = 512 * 1024;
  Result<void*> grown = heap->reallocate(*block, kGrown);
  ASSERT_TRUE(grown.has_value());
  ASSERT_EQ(*grown, *block) << "expected to grow in place into the untouched rest of the heap";
  ASSERT_TRUE(valid(*heap));
  std::memset(*grown, kDirty, kGrown);
  Result<void*> shrunk = heap->reallocate(*grown, 64);
  ASSERT_TRUE(shrunk.has_value());
  ASSERT_TRUE(valid(*heap));
  Result<void*> zeroed = heap->allocate_zeroed(kGrown - 1024);
  ASSERT_TRUE(zeroed.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_TRUE(all_zero(*zeroed, kGrown - 1024));
  heap->deallocate(*zeroed);
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(*shrunk);
  ASSERT_TRUE(valid(*heap));
}

// SegregatedFit's exact path takes a free block of the request's size whole, without a carve, and without raising the
// mark (it is allocate's hottest path): when that block is the region's last free block, past the mark, it lies within
// the region's last kRegionEndBytes, which allocate_zeroed clears, so once written, freed and merged with the block
// before it, it reads zero from an allocate_zeroed of the merged block (a request of a page or more, whose clear is
// planned from the mark).
TEST(FreshMemoryExact, TheLastFreeBlockTakenWholeIsClearedOnceWritten) {
  using Heap = SegCached;
  auto heap = std::make_unique<Heap>();
  // Leave kLast bytes of payload in the heap's last free block: blocks of 2 KiB, then one sized to leave it. Each
  // request is small enough that its slack (a 32nd) cannot take the rest whole.
  constexpr std::size_t kLast = 384;
  std::vector<void*> fill;
  while (heap->stats().largest_free_block > 8192 + kLast) {
    Result<void*> block = heap->allocate(2048);
    ASSERT_TRUE(block.has_value());
    fill.push_back(*block);
  }
  ASSERT_TRUE(valid(*heap));
  Result<void*> large = heap->allocate(heap->stats().largest_free_block - kLast - Heap::kUsedOverhead);
  ASSERT_TRUE(large.has_value());
  fill.push_back(*large);
  ASSERT_TRUE(valid(*heap));
  // What the last free block serves (kLast, less any rounding to the granule).
  const std::size_t last_size = heap->stats().largest_free_block;
  ASSERT_GE(last_size, kLast - 16) << "the layout this test needs";
  ASSERT_LE(last_size, kLast) << "the layout this test needs";
  Result<void*> last = heap->allocate(last_size);
  ASSERT_TRUE(last.has_value());
  ASSERT_TRUE(valid(*heap));
  std::memset(*last, kDirty, last_size);
  heap->deallocate(*last);
  ASSERT_TRUE(valid(*heap));
  heap->flush_cache();  // back on the index, the last free block again
  ASSERT_TRUE(valid(*heap));
  // The block before it, freed too, merges with it: one free block of a page or more ending at the region's end.
  const std::size_t before_size = heap->usable_size(fill.back());
  heap->deallocate(fill.back());
  fill.pop_back();
  ASSERT_TRUE(valid(*heap));
  const std::size_t merged = heap->stats().largest_free_block;
  ASSERT_GE(merged, before_size + last_size);
  ASSERT_GE(merged, std::size_t{4096});
  Result<void*> zeroed = heap->allocate_zeroed(merged);
  ASSERT_TRUE(zeroed.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_TRUE(all_zero(*zeroed, merged));
  heap->deallocate(*zeroed);
  ASSERT_TRUE(valid(*heap));
  for (void* block : fill) {
    heap->deallocate(block);
    ASSERT_TRUE(valid(*heap));
  }
}

}  // namespace
}  // namespace nostd::testing
