// platform/malloc/malloc_heap.h — MallocHeap<Check>: the heap composition every arena of the drop-in malloc uses.
#pragma once

#include <cstdint>

#include "alloc/basic_heap.h"
#include "alloc/block/compact_tags.h"
#include "alloc/cache/quick_cache.h"
#include "alloc/fit/segregated_fit.h"
#include "alloc/lock/null_lock.h"
#include "platform/malloc/chunk_region_source.h"

namespace nostd::malloc_door {

/// The fit policy of the arenas: the one place to change it. SegregatedFit<>: O(1) allocate and free whatever the
/// number of free blocks (two bitmap lookups and a list head). The list fits (FirstFit, used until it landed)
/// scan their free list, which real programs with many free blocks notice (README, "The drop-in malloc").
using MallocFit = SegregatedFit<>;

/// The cache policy of the arenas: the one place to change it. MediumQuickCache, QuickCache<8, 8192, 256>: a freed
/// block of at most 8 KiB whose neighbours are both used waits, unmerged, in a bin of its exact size (up to 8 per size)
/// for the next request of that size (or of a size up to a 32nd smaller, for blocks of 512 bytes and up: QuickCache's
/// slack): glibc's tcache idea, per arena and under the arena's lock (README, "The drop-in malloc"). Active at
/// NOSTD_MALLOC_CHECK=none and basic only (hardened seals every freed block at once). Bins up to 8 KiB, not
/// QuickCache<>'s 1 KiB: churn_bench's blocks run to 4 KiB, a quarter of them above 1 KiB, each merged at once and
/// split again; with them cached its churn ran 1.23x (1 thread) and 1.44x (2 threads) faster, in every one of 7
/// interleaved rounds, and the programs of //bench:preload did not move (docs/malloc_log.md). It gives way at 1/256 of
/// the touched memory rather than 1/16, so that holding medium blocks back does not grow the heap (issue 11's cache
/// composition, fit_compare's +cache8k rows); the touched memory is the newest chunk's (the high-water mark follows
/// the heap's newest region, QuickCache), so an arena of several chunks gives way sooner than its size suggests.
/// Cost: cached blocks keep their neighbours from merging until a flush; the arena flushes before every page release
/// and malloc_trim, and an allocation that finds no block flushes by itself. At most 8 blocks of each of 511 sizes
/// (32 B .. 8 KiB) wait: 8 x 2,101,232 B = 16.03 MiB an arena at the very most, memory the program had in use, merged
/// again by the next release or malloc_trim.
using MallocCache = MediumQuickCache;

/// The tag layout of the arenas: the one place to change it. Half-word tags, BasicCompactTags<std::uint32_t>: 4 bytes
/// per used block on 64-bit targets where glibc spends 8, with the same 16-byte granule. Their limit, 4 GiB per
/// block, never binds here: an arena's blocks lie inside one 64 MiB chunk (Arena checks it at compile time), and
/// larger requests are mapped on their own (HugeBlocks). On workload "churn, small" of //bench:fit_compare they
/// bring touched / peak live from 1.083 to 1.068 (the seg/compact32 rows).
using MallocTags = BasicCompactTags<std::uint32_t>;

/// One arena's heap: MallocTags, regions handed in by the arena as it grows, one per chunk, which the source finds
/// from a pointer through the chunk map (ChunkRegionSource: O(1) whatever the number of chunks), no lock of its own
/// (the arena's lock also covers growth), and the check policy the environment chose.
template <class Check>
using MallocHeap = BasicHeap<MallocFit, MallocCache, MallocTags, ChunkRegionSource, NullLock, Check>;

}  // namespace nostd::malloc_door
