// platform/malloc/malloc_door.h — the drop-in malloc's core: arenas, huge blocks, settings, fork and exit hooks.
//
// The exported C and C++ entry points (exports.cc) are thin: they check their arguments, call these functions
// and report to the hook (malloc_hook.h). Everything here is safe to call before main, from any thread, and from
// inside a fork handler; nothing here allocates through malloc.
//
// Where a block lives:
//   size >= kHugeThreshold or align > kMaxArenaAlignment   its own mapping (HugeBlocks), munmap on free
//   otherwise                                            an arena: a MallocHeap over 64 MiB chunks (ChunkMap);
//                                                        pages of large free blocks go back with madvise
#pragma once

#include <cstddef>

#include "alloc/check/heap_fault.h"
#include "platform/malloc/malloc_config.h"  // kMallocAlignment

namespace nostd::malloc_door {

/// Requests of this many bytes or more get their own mapping, so that one large buffer is returned to the
/// system when freed and never fragments an arena. glibc's threshold starts at 128 KiB and adapts up to 32 MiB;
/// a fixed 1 MiB keeps the mmap/munmap system calls off the common medium sizes (sqlite pages, Python lists).
inline constexpr std::size_t kHugeThreshold = std::size_t{1} << 20;
/// Largest alignment an arena serves; larger ones are mapped directly (over-aligned searches are slow in a heap).
inline constexpr std::size_t kMaxArenaAlignment = 4096;

/// Allocates `size` bytes aligned to `align` (a power of two, at least kMallocAlignment). nullptr when out of
/// memory. Size 0 gets a unique block.
void* allocate(std::size_t size, std::size_t align) noexcept;
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
