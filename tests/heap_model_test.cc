// The model-based stress driver (tests/heap_model.h) over the configuration corners the other suites leave out:
// SegregatedFit with few lists, a large smallest class, a small largest block (its last list then unbounded), one or
// two classes, no slack and a slack of one half; QuickCache with depths of 1 to 255, blocks of 32 B to 64 KiB, a bin
// size off the granule, give-way shares of 1 and 65536 and slack shares of 0 to 32; pointer-sized, 32-bit and 16-bit
// tags of both layouts (16-bit ones split every added region above 64 KiB); RegionSource heaps given more regions
// (some too small, one overlapping), then taken back and lent again, and StaticArraySource heaps of 256 B and 4 KiB;
// a RegionSource whose memory starts zero, with a cache (allocate_zeroed after each removal); every check level. Each
// operation is checked against the model (tests/heap_model.h says how); the run must also have reached the paths it is
// for (refusals, moves, grows in place, cached frees, added and removed regions, a removal refused as in use). Seeded:
// the same operations on every platform.
#include "tests/heap_model.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {
namespace {

template <class Heap>
class HeapModelTest : public ::testing::Test {};

// The test heap and the memory the run adds as regions, in one block aligned to the heap's largest alignment: where a
// request of any alignment lands, and so every operation of the run, is then the same from run to run (a plain
// allocation's address moves with ASLR, and with it the leading gap of an over-aligned request).
template <class Heap>
class ModelArena {
 public:
  ModelArena() : memory_(static_cast<std::byte*>(::operator new (kBytes, std::align_val_t{kAlign}, std::nothrow))) {
    if (memory_ != nullptr) owner_ = new (memory_) TestHeap<Heap>;
  }
  ~ModelArena() {
    if (owner_ != nullptr) owner_->~TestHeap<Heap>();
    ::operator delete (memory_, std::align_val_t{kAlign});
  }
  ModelArena(const ModelArena&) = delete;
  ModelArena& operator=(const ModelArena&) = delete;
  /// False when the block could not be had.
  bool ok() const { return owner_ != nullptr; }
  /// The heap under test.
  Heap& heap() { return owner_->heap(); }
  /// The memory the run hands to add_region (RegionSource heaps; the others ignore it).
  std::span<std::byte> spare() { return {memory_ + kHeapBytes, kSpareBytes}; }

 private:
  static constexpr std::size_t kAlign = Heap::kMaxAlignment;
  static constexpr std::size_t kSpareBytes = 256 * 1024;
  static constexpr std::size_t kHeapBytes = align_up(sizeof(TestHeap<Heap>), 64);
  static constexpr std::size_t kBytes = kHeapBytes + kSpareBytes;
  std::byte* memory_;
  TestHeap<Heap>* owner_ = nullptr;
};

// SegregatedFit<>'s class-0 limit on this target (L granules), for the two-class index.
constexpr std::size_t kSmall = SegregatedFit<>::kSmallLimit;

// A RegionSource whose memory starts zero (as ChunkRegionSource's mappings do): with a cache, allocate_zeroed leaves
// the newest region's memory above its high-water mark as it is, and remove_region must move that mark (run_model
// lends such a source zeroed memory only).
class ZeroedRegionSource : public RegionSource {
 public:
  using RegionSource::RegionSource;
  static constexpr bool kZeroedMemory = true;
};

using ModelHeaps = ::testing::Types<
    // SegregatedFit: few lists, a large smallest class, a small largest block, two classes, the slack's extremes.
    BasicHeap<SegregatedFit<0, 4>, CompactTags, NoChecks, RegionSource>,
    BasicHeap<SegregatedFit<0, 4>, FullTags, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<0, 8, 8192>, CompactTags, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<1024>, CompactTags, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<1024>, FullTags, NoChecks, RegionSource>,
    BasicHeap<SegregatedFit<2 * kSmall>, BasicCompactTags<std::uint32_t>, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<2 * kSmall>, BasicFullTags<std::uint32_t>, HardenedChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<0, 4, 0, 2>, CompactTags, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<0, 32, 0, 0>, FullTags, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<>, BasicCompactTags<std::uint16_t>, BasicChecks<>, RegionSource>,
    BasicHeap<SegregatedFit<4096, 4>, BasicFullTags<std::uint16_t>, DebugChecks<>, RegionSource>,
    // Indexes sized to a small static array: one or two classes, and few lists over 4 KiB.
    BasicHeap<SegregatedFit<>, CompactTags, BasicChecks<>, StaticArraySource<256>>,
    BasicHeap<SegregatedFit<0, 4>, FullTags, BasicChecks<>, StaticArraySource<4096>>,
    // QuickCache's parameters at their edges, over every fit.
    BasicHeap<SegregatedFit<>, CompactTags, BasicChecks<>, RegionSource, QuickCache<1, 32, 1, 2>>,
    BasicHeap<FirstFit, FullTags, BasicChecks<>, RegionSource, QuickCache<255, 64 * 1024, 65536, 0>>,
    BasicHeap<BestFit, CompactTags, NoChecks, RegionSource, QuickCache<8, 8192, 256>>,
    BasicHeap<NextFit, BasicCompactTags<std::uint32_t>, BasicChecks<>, RegionSource, QuickCache<3, 100, 2, 4>>,
    BasicHeap<SegregatedFit<1024, 4>, BasicCompactTags<std::uint16_t>, BasicChecks<>, RegionSource,
              QuickCache<2, 4096, 1, 2>>,
    BasicHeap<SegregatedFit<0, 4, 0, 2>, BasicFullTags<std::uint32_t>, NoChecks, RegionSource,
              QuickCache<8, 8192, 256, 2>>,
    // A source whose memory starts zero, with a cache: allocate_zeroed's planned clear after each removal.
    BasicHeap<BestFit, FullTags, BasicChecks<>, ZeroedRegionSource, QuickCache<>>,
    // The levels above BasicChecks (the cache stands aside there).
    BasicHeap<FirstFit, CompactTags, ParanoidChecks<>, RegionSource>,
    BasicHeap<BestFit, BasicFullTags<std::uint16_t>, DebugChecks<>, RegionSource>,
    BasicHeap<NextFit, FullTags, HardenedChecks<>, RegionSource, QuickCache<>>>;
TYPED_TEST_SUITE(HeapModelTest, ModelHeaps);

// Operations per run: fewer where validate() reads every free byte (DebugChecks and up), so that the suite stays far
// from its timeout under QEMU.
template <class Heap>
constexpr std::size_t kOps = Heap::Check::kLevel >= CheckLevel::kDebug ? 1'000 : 3'000;

TYPED_TEST(HeapModelTest, EveryOperationAgreesWithTheModel) {
  ModelArena<TypeParam> arena;
  ASSERT_TRUE(arena.ok());
  ModelOptions options;
  options.ops = kOps<TypeParam>;
  options.seed = 135;
  const ModelReport report = run_model(arena.heap(), options, arena.spare());
  ASSERT_TRUE(report.ok()) << report.failure << " at operation " << report.op << " ("
                           << (report.fault.what != nullptr ? report.fault.what : "validate() passed") << ")";
  // The run reached what it is for.
  EXPECT_GT(report.refused, 0u);
  EXPECT_GT(report.moved, 0u);
  EXPECT_GT(report.grown_in_place, 0u);
  if constexpr (TypeParam::kCaching) {
    EXPECT_GT(report.cached_frees, 0u);
  }
  if constexpr (TypeParam::Source::kAcceptsRegions) {
    EXPECT_GT(report.regions_added, 0u);
    EXPECT_GT(report.regions_removed, 0u);
    // A piece taken back while a live block lies in it: the shorter runs (DebugChecks and up) reach few removals.
    if constexpr (kOps<TypeParam> >= 3'000) {
      EXPECT_GT(report.removals_in_use, 0u);
    }
  }
}

}  // namespace
}  // namespace nostd::testing
