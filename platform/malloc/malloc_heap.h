// platform/malloc/malloc_heap.h — MallocHeap<Check>: the heap composition every arena of the drop-in malloc uses.
#pragma once

#include "alloc/basic_heap.h"
#include "alloc/block/compact_tags.h"
#include "alloc/fit/segregated_fit.h"
#include "alloc/lock/null_lock.h"
#include "alloc/source/region.h"

namespace nostd::malloc_door {

/// The fit policy of the arenas: the one place to change it. SegregatedFit<>: O(1) allocate and free whatever the
/// number of free blocks (two bitmap lookups and a list head). The list fits (FirstFit, used until it landed)
/// scan their free list, which real programs with many free blocks notice (README, "The drop-in malloc").
using MallocFit = SegregatedFit<>;

/// One arena's heap: CompactTags (8 bytes per block, 16-byte granule on x86_64, as glibc), regions handed in by
/// the arena as it grows (RegionSource), no lock of its own (the arena's lock also covers growth), and the check
/// policy the environment chose.
template <class Check>
using MallocHeap = BasicHeap<MallocFit, CompactTags, RegionSource, NullLock, Check>;

}  // namespace nostd::malloc_door
