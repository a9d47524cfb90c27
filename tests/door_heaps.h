// tests/door_heaps.h — the heap compositions the door suites (tests/std_allocator_test.cc, StdAllocator, and
// tests/heap_resource_test.cc, HeapResource) run over: the list fits over both tag layouts and both kinds of source,
// and the segregated compositions a program puts behind a container or a pmr resource for speed.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "alloc/alloc.h"
#include "tests/test_heap.h"

namespace nostd::testing {

/// The door suites' heaps. The last two cache freed small blocks (QuickCache): a door's deallocate(p, n) and the
/// containers' reuse of freed blocks go through the cache's bins there, not the fit's lists. `SegregatedFit<>` with
/// `QuickCache<>` keeps the default BasicChecks; the second is issue 11's cache composition (half-word tags,
/// `MediumQuickCache`) without checks. The DebugChecks heap is the one whose `deallocate` checks the layout
/// it is given (the size requested, the block's alignment): a door's sized free must pass what its allocate asked.
using DoorHeaps = ::testing::Types<BasicHeap<FirstFit, CompactTags, RegionSource>,
                                   BasicHeap<BestFit, FullTags, StaticArraySource<kTestHeapBytes>>,
                                   BasicHeap<NextFit, CompactTags, RegionSource, NoChecks>,
                                   BasicHeap<FirstFit, CompactTags, RegionSource, DebugChecks<>>,
                                   BasicHeap<SegregatedFit<>, CompactTags, RegionSource, QuickCache<>>,
                                   BasicHeap<SegregatedFit<>, BasicCompactTags<std::uint32_t>,
                                             StaticArraySource<kTestHeapBytes>, NoChecks, MediumQuickCache>>;

}  // namespace nostd::testing
