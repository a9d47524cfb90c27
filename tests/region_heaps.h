// tests/region_heaps.h — the RegionSource heaps the region suites run over (every fit, both tag layouts, the check
// levels and QuickCache), and the caller-owned buffers they lend them: region_source_test and remove_region_test.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>

#include "alloc/alloc.h"
#include "alloc/source/region.h"

namespace nostd::testing {

/// Every fit, both tag layouts (pointer-sized and 32-bit), the check levels and QuickCache, over RegionSource; a
/// suite appends the `Extra` heaps it needs as well.
template <class... Extra>
using RegionHeapsWith =
    ::testing::Types<BasicHeap<FirstFit, RegionSource>, BasicHeap<NextFit, FullTags, RegionSource>,
                     BasicHeap<BestFit, RegionSource>, BasicHeap<FirstFit, FullTags, RegionSource, NoChecks>,
                     BasicHeap<SegregatedFit<>, BasicCompactTags<std::uint32_t>, RegionSource, HardenedChecks<>>,
                     BasicHeap<BestFit, FullTags, RegionSource, DebugChecks<>>,
                     BasicHeap<SegregatedFit<>, CompactTags, RegionSource, QuickCache<>>, Extra...>;

/// Three buffers to lend a heap, apart from one another (the gaps keep them from being adjacent).
struct RegionBuffers {
  alignas(64) std::byte a[8192];
  std::byte gap1[64];
  alignas(64) std::byte b[16384];
  std::byte gap2[64];
  alignas(64) std::byte c[4096];
};

}  // namespace nostd::testing
