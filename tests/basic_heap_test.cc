// Conformance of BasicHeap over fit × tags × source × checks: the suite of tests/heap_conformance.h run on
// every portable combination. Hosted sources are covered in tests/mmap_source_test.cc.
#include <gtest/gtest.h>

#include "alloc/alloc.h"
#include "tests/heap_conformance.h"

namespace nostd::testing {
namespace {

template <class Fit, class Tags, class Source, class Check = BasicChecks<>>
using H = BasicHeap<Fit, Tags, Source, Check>;
using Static = StaticArraySource<kTestHeapBytes>;

using PortableHeaps = ::testing::Types<
    H<FirstFit, CompactTags, Static>, H<FirstFit, CompactTags, RegionSource>, H<FirstFit, FullTags, Static>,
    H<FirstFit, FullTags, RegionSource>, H<NextFit, CompactTags, Static>, H<NextFit, CompactTags, RegionSource>,
    H<NextFit, FullTags, Static>, H<NextFit, FullTags, RegionSource>, H<BestFit, CompactTags, Static>,
    H<BestFit, CompactTags, RegionSource>, H<BestFit, FullTags, Static>, H<BestFit, FullTags, RegionSource>,
    // Narrow 32-bit tag words (halve the overhead on 64-bit targets) and the unchecked heap.
    H<FirstFit, BasicCompactTags<std::uint32_t>, RegionSource>, H<BestFit, BasicFullTags<std::uint32_t>, Static>,
    H<FirstFit, CompactTags, Static, NoChecks>, H<NextFit, FullTags, RegionSource, NoChecks>,
    // Segregated fit: sized to the static array, to the default 4 GiB over a region, with narrow tags, unchecked,
    // and with coarse tuning (4 lists per class, a 256-byte class 0 of 64-byte steps).
    H<SegregatedFit<>, CompactTags, Static>, H<SegregatedFit<>, FullTags, RegionSource>,
    H<SegregatedFit<>, BasicCompactTags<std::uint32_t>, RegionSource>,
    H<SegregatedFit<>, CompactTags, RegionSource, NoChecks>, H<SegregatedFit<64 * 1024, 4, 256>, FullTags, Static>,
    // The check levels above BasicChecks, over every fit and both tag layouts between them.
    H<SegregatedFit<>, CompactTags, RegionSource, DebugChecks<>>,
    H<SegregatedFit<>, FullTags, Static, HardenedChecks<>>, H<FirstFit, CompactTags, RegionSource, HardenedChecks<>>,
    H<BestFit, FullTags, Static, HardenedChecks<>>,
    H<NextFit, BasicCompactTags<std::uint32_t>, RegionSource, HardenedChecks<>>,
    H<FirstFit, FullTags, RegionSource, DebugChecks<>>, H<NextFit, CompactTags, Static, DebugChecks<>>,
    H<BestFit, BasicFullTags<std::uint32_t>, RegionSource, DebugChecks<>>,
    H<FirstFit, CompactTags, RegionSource, ParanoidChecks<>>, H<BestFit, FullTags, RegionSource, ParanoidChecks<>>,
    // QuickCache (deferred coalescing of small blocks) over both layouts, with and without checks.
    BasicHeap<SegregatedFit<>, CompactTags, RegionSource, QuickCache<>>,
    BasicHeap<SegregatedFit<>, FullTags, Static, NoChecks, QuickCache<>>,
    BasicHeap<FirstFit, BasicCompactTags<std::uint32_t>, RegionSource, QuickCache<4, 256>>,
    BasicHeap<SegregatedFit<>, CompactTags, RegionSource, HardenedChecks<>, QuickCache<>>>;

INSTANTIATE_TYPED_TEST_SUITE_P(Portable, HeapConformance, PortableHeaps, HeapTypeNames);

}  // namespace
}  // namespace nostd::testing
