// MmapSource (hosted only): the conformance suite and the model-based stress driver over heaps whose memory is one
// anonymous mapping, and the source's own behaviour.
#include "platform/mmap_source.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "alloc/alloc.h"
#include "platform/hosted.h"
#include "tests/heap_conformance.h"
#include "tests/heap_model.h"

namespace nostd::testing {
namespace {

using MmapHeaps = ::testing::Types<BasicHeap<FirstFit, MmapSource<kTestHeapBytes>>,
                                   BasicHeap<BestFit, FullTags, MutexLock, MmapSource<kTestHeapBytes>>,
                                   BasicHeap<NextFit, SpinLock, MmapSource<kTestHeapBytes>>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Mmap, HeapConformance, MmapHeaps, HeapTypeNames);

TEST(MmapSourceTest, MapsOnFirstUseOnly) {
  MmapSource<1 << 20> source;
  std::span<std::byte> region = source.acquire();
  ASSERT_EQ(region.size(), std::size_t{1} << 20);
  EXPECT_TRUE(is_aligned(region.data(), 4096));
  region[0] = std::byte{1};
  region[region.size() - 1] = std::byte{2};
  EXPECT_EQ(region[region.size() - 1], std::byte{2});
}

TEST(MmapSourceTest, LargeReservationIsLazy) {
  // 1 GiB of address space: the kernel commits pages only when touched, so this is cheap.
  auto heap = std::make_unique<BasicHeap<FirstFit, MmapSource<std::size_t{1} << 30>>>();
  EXPECT_GT(heap->stats().capacity, (std::size_t{1} << 30) - 256);
  Result<void*> p = heap->allocate(std::size_t{512} << 20);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(valid(*heap));
  heap->deallocate(*p);
  EXPECT_TRUE(valid(*heap));
}

// A mapping the kernel cannot make (2^62 bytes: more than any user address space of x86_64 or riscv64): the heap is
// empty, every request fails with kOutOfMemory and no operation crashes, on the first call as on the ones after it
// (each of which asks the kernel again: MmapSource's kRetriesAcquire). The destructor unmaps nothing.
template <class Heap>
class FailedMappingTest : public ::testing::Test {};
constexpr std::size_t kUnmappable = std::size_t{1} << 62;
using FailedMappingHeaps =
    ::testing::Types<BasicHeap<FirstFit, MmapSource<kUnmappable>>,
                     BasicHeap<SegregatedFit<>, FullTags, HardenedChecks<>, MmapSource<kUnmappable>>,
                     BasicHeap<BestFit, BasicCompactTags<std::uint32_t>, MmapSource<kUnmappable>, QuickCache<>>>;
TYPED_TEST_SUITE(FailedMappingTest, FailedMappingHeaps, HeapNames);

TYPED_TEST(FailedMappingTest, AFailedMappingLeavesAnEmptyHeapThatRefusesEveryRequest) {
  auto heap = std::make_unique<TypeParam>();
  for (std::size_t attempt = 1; attempt <= 2; ++attempt) {
    Result<void*> p = heap->allocate(16);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error(), AllocError::kOutOfMemory);
    ASSERT_TRUE(valid(*heap));
    Result<void*> grown = heap->reallocate(nullptr, 64);
    ASSERT_FALSE(grown.has_value());
    EXPECT_EQ(grown.error(), AllocError::kOutOfMemory);
    ASSERT_TRUE(valid(*heap));
    heap->flush_cache();
    ASSERT_TRUE(valid(*heap));
    const HeapStats s = heap->stats();
    EXPECT_EQ(s.capacity, 0u);
    EXPECT_EQ(s.bytes_free, 0u);
    EXPECT_EQ(s.free_blocks, 0u);
    EXPECT_EQ(s.failed_allocations, 2 * attempt);
    EXPECT_FALSE(heap->owns(heap.get()));
    int local = 0;
    EXPECT_EQ(heap->try_deallocate(&local).error(), AllocError::kInvalidPointer);
    ASSERT_TRUE(valid(*heap));
  }
}

// The source's own contract, below any heap (which would also refuse a bogus region): a refused mapping is an empty
// span, not MAP_FAILED with the size asked for.
TEST(MmapSourceTest, ARefusedMappingIsAnEmptySpan) {
  MmapSource<kUnmappable> source;
  const std::span<std::byte> region = source.acquire();
  EXPECT_TRUE(region.empty());
  EXPECT_EQ(region.data(), nullptr);
}

// The destructor gives the mapping back: afterwards its pages are no longer mapped (mincore fails with ENOMEM on
// an unmapped range). Nothing else in this single-threaded test maps memory in between.
TEST(MmapSourceTest, TheDestructorUnmaps) {
  std::byte* data = nullptr;
  {
    MmapSource<1 << 20> source;
    const std::span<std::byte> region = source.acquire();
    ASSERT_EQ(region.size(), std::size_t{1} << 20);
    data = region.data();
    data[0] = std::byte{1};
    unsigned char resident[1];
    ASSERT_EQ(::mincore(data, 4096, resident), 0);
  }
  unsigned char resident[1];
  errno = 0;
  EXPECT_EQ(::mincore(data, 4096, resident), -1) << "the mapping outlived its source";
  EXPECT_EQ(errno, ENOMEM);
}

/// MmapSource<Bytes> counting the calls of its acquire() (each call is one mmap), and refusing the first `refusals`
/// of them as the kernel would under an address-space limit.
template <std::size_t Bytes>
struct CountedMmapSource : MmapSource<Bytes> {
  static inline int acquires = 0;
  static inline int refusals = 0;
  std::span<std::byte> acquire() noexcept {
    ++acquires;
    if (refusals > 0) {
      --refusals;
      return {};
    }
    return MmapSource<Bytes>::acquire();
  }
};

// README (Policies, MmapSource): one mapping, made on first use (not by the constructor) and never again once made;
// while the kernel refuses it, every operation asks again (the heap's observers too), and each fails as an empty heap
// does.
TEST(MmapSourceTest, TheMappingIsAskedForOnFirstUseAndAgainOnlyWhileRefused) {
  using Mapped = CountedMmapSource<kTestHeapBytes>;
  using Refused = CountedMmapSource<kUnmappable>;
  Mapped::acquires = 0;  // the counts are per type, not per heap: from zero on every run (--gtest_repeat)
  Mapped::refusals = 0;
  Refused::acquires = 0;
  Refused::refusals = 0;
  auto heap = std::make_unique<BasicHeap<FirstFit, Mapped>>();
  EXPECT_EQ(Mapped::acquires, 0) << "mapped before first use";
  Result<void*> p = heap->allocate(100);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(Mapped::acquires, 1);
  EXPECT_EQ(heap->allocate(2 * kTestHeapBytes).error(), AllocError::kOutOfMemory);  // no growth
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(*p);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(Mapped::acquires, 1) << "a mapped heap asked for its mapping again";

  auto empty = std::make_unique<BasicHeap<FirstFit, Refused>>();
  EXPECT_EQ(Refused::acquires, 0) << "mapped before first use";
  for (int attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_EQ(empty->allocate(16).error(), AllocError::kOutOfMemory);
    EXPECT_EQ(Refused::acquires, 5 * attempt - 4) << "the refused mapping was not asked for again";
    ASSERT_TRUE(valid(*empty));
    EXPECT_EQ(Refused::acquires, 5 * attempt - 3);
    EXPECT_EQ(empty->reallocate(nullptr, 16).error(), AllocError::kOutOfMemory);
    EXPECT_EQ(Refused::acquires, 5 * attempt - 2);
    ASSERT_TRUE(valid(*empty));
    EXPECT_EQ(Refused::acquires, 5 * attempt - 1);
    EXPECT_EQ(empty->stats().capacity, 0u);
    EXPECT_EQ(Refused::acquires, 5 * attempt);
  }
}

// Test names say which source a heap has: an MmapSource heap (or one over a source derived from it) had been named
// "Static", as a StaticArraySource heap is.
TEST(MmapSourceTest, TestNamesCallItMmap) {
  using Mapped = BasicHeap<FirstFit, MmapSource<4096>>;
  using Counted = BasicHeap<BestFit, FullTags, CountedMmapSource<4096>, NoChecks>;
  using Static = BasicHeap<FirstFit, StaticArraySource<4096>>;
  using Regions = BasicHeap<FirstFit, RegionSource>;
  EXPECT_EQ(heap_name<Mapped>(), "FirstFit_CompactTags_Mmap_BasicChecks");
  EXPECT_EQ(heap_name<Counted>(), "BestFit_FullTags_Mmap_NoChecks");
  EXPECT_EQ(heap_name<Static>(), "FirstFit_CompactTags_Static_BasicChecks");
  EXPECT_EQ(heap_name<Regions>(), "FirstFit_CompactTags_Region_BasicChecks");
}

/// A source with nothing to give and no kRetriesAcquire (as a board's linker-script heap of zero bytes would be),
/// counting the calls of its acquire().
struct EmptyOnceSource {
  using policy_role = role::Source;
  static constexpr bool kAcceptsRegions = false;
  static inline int acquires = 0;
  std::span<std::byte> acquire() noexcept {
    ++acquires;
    return {};
  }
};

// Without kRetriesAcquire, an empty first region is the heap's answer for good: it is asked for once, not on every
// operation (MmapSource's retries are its own).
TEST(MmapSourceTest, ASourceWithoutRetriesIsAskedOnce) {
  static_assert(internal::kRetryingSource<MmapSource<4096>> && !internal::kRetryingSource<EmptyOnceSource>);
  EmptyOnceSource::acquires = 0;
  auto heap = std::make_unique<BasicHeap<FirstFit, EmptyOnceSource>>();
  for (int attempt = 0; attempt < 3; ++attempt) {
    EXPECT_EQ(heap->allocate(16).error(), AllocError::kOutOfMemory);
    ASSERT_TRUE(valid(*heap));
  }
  EXPECT_EQ(EmptyOnceSource::acquires, 1);
}

// A refusal that passes: the first four mappings are refused, asked for by two allocations (each fails as an empty
// heap's does, with kOutOfMemory) and the validate() after each (an empty heap is valid); the fifth is made, and from
// then on the heap works as one mapped at once, HardenedChecks and QuickCache too, and asks for nothing more. Before
// kRetriesAcquire, one refusal had left the heap empty for good.
template <class Heap>
class RetriedMappingTest : public ::testing::Test {};
using RetriedMappingHeaps = ::testing::Types<
    BasicHeap<FirstFit, CountedMmapSource<kTestHeapBytes>>,
    BasicHeap<SegregatedFit<>, FullTags, HardenedChecks<>, CountedMmapSource<kTestHeapBytes + 4096>>,
    BasicHeap<BestFit, BasicCompactTags<std::uint32_t>, CountedMmapSource<kTestHeapBytes + 8192>, QuickCache<>>>;
TYPED_TEST_SUITE(RetriedMappingTest, RetriedMappingHeaps, HeapNames);

TYPED_TEST(RetriedMappingTest, AMappingRefusedFourTimesIsMadeAtTheFifthOperation) {
  using Source = typename TypeParam::Source;
  Source::acquires = 0;
  Source::refusals = 4;
  auto heap = std::make_unique<TypeParam>();
  for (int refused = 1; refused <= 2; ++refused) {
    Result<void*> p = heap->allocate(64);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error(), AllocError::kOutOfMemory);
    EXPECT_EQ(Source::acquires, 2 * refused - 1);
    ASSERT_TRUE(valid(*heap));
    EXPECT_EQ(Source::acquires, 2 * refused);
  }
  void* blocks[8];
  for (void*& block : blocks) {
    Result<void*> p = heap->allocate(64);
    ASSERT_TRUE(p.has_value()) << "the heap did not take the mapping made at the third try";
    ASSERT_TRUE(valid(*heap));
    std::memset(*p, 0x5a, 64);
    block = *p;
  }
  EXPECT_EQ(Source::acquires, 5);
  const HeapStats s = heap->stats();
  EXPECT_GE(s.capacity, kTestHeapBytes / 2);
  EXPECT_EQ(s.failed_allocations, 2u);
  for (void* block : blocks) {
    ASSERT_TRUE(heap->try_deallocate(block).has_value());
    ASSERT_TRUE(valid(*heap));
  }
  EXPECT_EQ(Source::acquires, 5) << "a mapped heap asked for its mapping again";
}

// The model-based stress driver (tests/heap_model.h) over heaps whose index is sized to the mapping: SegregatedFit<>
// alone, and with few lists, a largest block below the mapping's size (an unbounded last list) and QuickCache<>.
template <class Heap>
void expect_model_agrees() {
  auto owner = std::make_unique<TestHeap<Heap>>();
  ModelOptions options;
  options.ops = 3'000;
  options.seed = 135;
  const ModelReport report = run_model(owner->heap(), options);
  ASSERT_TRUE(report.ok()) << report.failure << " at operation " << report.op << " ("
                           << (report.fault.what != nullptr ? report.fault.what : "validate() passed") << ")";
  EXPECT_GT(report.refused, 0u);
  EXPECT_GT(report.moved, 0u);
  EXPECT_GT(report.grown_in_place, 0u);
}

TEST(MmapSourceTest, TheModelAgreesWithASegregatedFitSizedToTheMapping) {
  expect_model_agrees<BasicHeap<SegregatedFit<>, CompactTags, MmapSource<kTestHeapBytes>>>();
}

TEST(MmapSourceTest, TheModelAgreesWithACachedSegregatedFitOfAnUnboundedLastList) {
  using Heap = BasicHeap<SegregatedFit<1024, 4>, FullTags, MmapSource<kTestHeapBytes>, QuickCache<>>;
  static_assert(internal::FitIndexFor<Heap::Fit, Heap::Tags, kTestHeapBytes>::type::kLastListUnbounded);
  expect_model_agrees<Heap>();
}

}  // namespace
}  // namespace nostd::testing
