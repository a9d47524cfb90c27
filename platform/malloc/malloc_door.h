// platform/malloc/malloc_door.h — the drop-in malloc's core: arenas, huge blocks, settings, fork and exit hooks.
//
// The exported C and C++ entry points (exports.cc) are thin: they check their arguments, call these functions
// and report to the hook (malloc_hook.h). Everything here is safe to call before main, from any thread, and from
// inside a fork handler; nothing here allocates through malloc.
//
// Where a block lives:
//   size >= huge_threshold() or align > kMaxArenaAlignment   its own mapping (HugeBlocks), munmap on free
//   otherwise                                              an arena: a MallocHeap over 64 MiB chunks (ChunkMap);
//                                                          pages of large free blocks go back with madvise
// huge_threshold() starts at kHugeThreshold and only rises, up to kMaxHugeThreshold (glibc's dynamic mmap threshold),
// until mallopt(M_MMAP_THRESHOLD) fixes it (fix_huge_threshold).
#pragma once

#include <cstddef>

#include "alloc/check/heap_fault.h"
#include "alloc/heap_stats.h"
#include "platform/malloc/chunk_map.h"      // kChunkBytes
#include "platform/malloc/huge_block.h"     // HugeBlocks::Counts
#include "platform/malloc/malloc_config.h"  // kMallocAlignment, kMaxArenas
#include "platform/malloc/size_classes.h"

namespace nostd::malloc_door {

/// Where the huge threshold starts: requests of this many bytes or more get their own mapping until a free raises it,
/// so that one large buffer is returned to the system when freed and never fragments an arena. glibc's threshold starts
/// at 128 KiB; 1 MiB keeps the mmap/munmap system calls off the common medium sizes (sqlite pages, Python lists).
inline constexpr std::size_t kHugeThreshold = std::size_t{1} << 20;
/// Where the huge threshold stops rising: glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit targets. Requests of this size
/// or more are always mapped on their own.
inline constexpr std::size_t kMaxHugeThreshold = std::size_t{32} << 20;
/// Largest alignment an arena serves; larger ones are mapped directly. The heap serves an over-aligned request from a
/// block of the request plus the alignment, and frees the gap in front of it (glibc's memalign does the same): up to
/// an alignment's worth of arena per block, against a mapping per block (a system call, and a kernel mapping that
/// counts toward vm.max_map_count). At 4 KiB (until 2026-12-06) 64-byte blocks at 8 KiB alignment were each a 12 KiB
/// mapping: a churn of 20,000 of them took 62-64 s where glibc took 1.5 s, and 140,000 live ones reached
/// vm.max_map_count; from the arenas, 1.6 s and 80 mappings.
inline constexpr std::size_t kMaxArenaAlignment = std::size_t{64} << 10;
static_assert(kHugeThreshold <= kMaxHugeThreshold, "kMaxHugeThreshold: the threshold starts at or below its cap");
// An arena grows by one chunk and retries (Arena::allocate): a whole chunk must hold any request below the cap, at the
// largest arena alignment, with the region header and block tags (a few dozen bytes, well inside one alignment step).
static_assert(kMaxHugeThreshold + 2 * kMaxArenaAlignment <= kChunkBytes,
              "kMaxHugeThreshold: a whole arena chunk must hold the largest request the raised threshold sends there");

/// The current huge threshold (kHugeThreshold..kMaxHugeThreshold). Freeing a huge block whose extent (from its header
/// to its mapping's end) exceeds it and is at most kMaxHugeThreshold raises it to that extent, as glibc's free raises
/// its mmap threshold: a program that frees a block of that size is likely to ask for one again, and an arena serves
/// it without a mapping, a munmap and a page fault per page each time. It never falls, and a realloc that moves a huge
/// block leaves it (glibc's realloc unmaps without it too). Once fix_huge_threshold has set it, it stays there.
std::size_t huge_threshold() noexcept;
/// mallopt(M_MMAP_THRESHOLD, bytes), as glibc's: sets the huge threshold to `bytes` and turns the raise in free off for
/// the rest of the process. True when done; false, nothing changed, for `bytes` outside [kHugeThreshold,
/// kMaxHugeThreshold]: below kHugeThreshold, requests are placed by the constant alone (allocate's hot path reads no
/// variable), and from kMaxHugeThreshold on they are always mapped (glibc's takes any value). A value
/// below the current threshold is honoured: requests of that size or more are mapped again from then on; blocks an
/// arena already holds stay there until freed. Safe against a concurrent free's raise (one atomic word holds both).
bool fix_huge_threshold(std::size_t bytes) noexcept;
/// Whether fix_huge_threshold has fixed the threshold (free no longer raises it).
bool huge_threshold_fixed() noexcept;
/// The huge blocks' counters (the statistics line's huge_* fields).
HugeBlocks::Counts huge_counts() noexcept;

/// What mallinfo2 and mallinfo report, taken now.
struct Usage {
  HeapStats arenas;             ///< Every arena's HeapStats summed (ArenaSet::totals: the peak is a sum of peaks).
  std::size_t huge_blocks = 0;  ///< Live huge blocks.
  std::size_t huge_bytes = 0;   ///< Bytes of their mappings, and of those whose munmap failed (Counts::live_bytes).
};
/// The figures for mallinfo2: each arena locked in turn, O(free blocks) as HeapStats is; then the huge blocks.
Usage usage() noexcept;

/// One arena's part of Usage::arenas, for malloc_info's `<heap>` element. Held by value (about 4 KiB) so that the
/// caller writes it with no lock held: stdio may call malloc.
struct ArenaUsage {
  unsigned index = 0;  ///< The arena's index, 0-based (its chunk map owner byte less one).
  HeapStats stats;     ///< Its heap's statistics (bytes_free includes cached_bytes).
  SizeClasses sizes;   ///< Its free and cached blocks per size class, taken with `stats` (their sums are its counts).
};
/// The figures for malloc_info, one arena at a time, as glibc's malloc_info takes them: the first arena at or after
/// `*position` that has mapped a chunk, into `out`, under its lock; `*position` then names the arena after it. False
/// when none is left. O(free blocks) of the arena.
bool arena_usage(unsigned* position, ArenaUsage* out) noexcept;
/// Live huge blocks and the bytes of their mappings (Usage's huge_* fields), for malloc_info.
struct HugeUsage {
  std::size_t blocks = 0;  ///< As Usage::huge_blocks.
  std::size_t bytes = 0;   ///< As Usage::huge_bytes.
};
/// The huge blocks' part of usage(), without locking the arenas.
HugeUsage huge_usage() noexcept;
/// Writes the statistics line of NOSTD_MALLOC_STATS (`nostd-malloc: check=...`) to `fd` now: malloc_stats, and the
/// exit report.
void write_statistics(int fd) noexcept;

/// Allocates `size` bytes aligned to `align` (a power of two, at least kMallocAlignment). nullptr when out of
/// memory. Size 0 gets a unique block.
void* allocate(std::size_t size, std::size_t align) noexcept;
/// allocate for the C calls that report failure in errno (malloc, memalign, aligned_alloc, valloc, pvalloc): as
/// allocate, and errno ENOMEM when it returns nullptr. errno is set here, on the failure path only, so that malloc
/// can end in a tail call of this function.
void* allocate_or_enomem(std::size_t size, std::size_t align) noexcept;
/// calloc's allocation: as allocate(size, kMallocAlignment), the payload zeroed (a fresh mapping is zero already; an
/// arena block, of any size below huge_threshold(), is cleared).
void* allocate_zeroed(std::size_t size) noexcept;
/// Frees a block from allocate/reallocate (nullptr: no-op). A pointer it never returned stops the process with
/// a message (at every check level when it lies outside the arenas; from `basic` up inside them).
void deallocate(void* ptr) noexcept;
/// realloc: resizes keeping the contents; nullptr allocates. nullptr on failure, the old block then untouched.
/// `size` 0 is the caller's business (glibc frees and returns nullptr).
void* reallocate(void* ptr, std::size_t size) noexcept;
/// Payload bytes usable at `ptr` (0 for nullptr). Precondition: a live block.
std::size_t usable_size(void* ptr) noexcept;
/// Gives the whole pages inside every arena's free blocks of at least kReleaseMinBytes back to the system
/// (madvise MADV_DONTNEED; page_release.h) and returns the bytes advised. Arenas also do this by themselves after
/// a quarter of their memory has been freed; this is malloc_trim's way to ask now. O(blocks).
std::size_t release_free_memory() noexcept;
/// Runs validate() on every arena (each under its lock) and returns the first broken invariant. For tests and
/// the exit check; O(blocks).
ValidateResult validate() noexcept;
/// The system page size (valloc, pvalloc).
std::size_t page_size() noexcept;

}  // namespace nostd::malloc_door
