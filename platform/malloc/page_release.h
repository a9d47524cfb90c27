// platform/malloc/page_release.h — giving the pages inside large free blocks of an arena back to the system.
//
// An arena's chunks stay mapped (the heap keeps its regions), but the whole pages inside a large free block hold
// nothing the heap needs: madvise(MADV_DONTNEED) drops them, the process's resident memory goes down, and the next
// touch maps a fresh zero page. Only the edges of a free block carry heap data (the header and list links at its
// start, the footer at its end), and they stay:
//
//   | hdr | links |  ....  [ page | page | ... | page ]  ....  | footer || next block
//   ^ block          ^ payload + kFreeBlockKeepBytes, rounded up to a page     rounded down ^
//
// Trade-off: a page given back costs a page fault and zeroing when it is used again, so only holes of at least
// kReleaseMinBytes are released (small ones are reused soon), and the arena releases after a volume of frees (see
// Arena::note_freed), not on every free.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "alloc/basic_heap.h"
#include "platform/malloc/errno_kept.h"

namespace nostd::malloc_door {

/// Free blocks smaller than this keep their pages.
inline constexpr std::size_t kReleaseMinBytes = 64 * 1024;
/// Bytes after a free block's payload start and before its end that are never released: the heap's free-list links
/// (two pointers after the header) and its footer (the word before the next block) live there. 64 covers both
/// with room for a tag layout with larger tags.
inline constexpr std::size_t kFreeBlockKeepBytes = 64;

static_assert(kReleaseMinBytes > 2 * kFreeBlockKeepBytes,
              "page_release: a releasable block must be larger than the edges it keeps");

/// Which free blocks a release gives pages back from, and what it keeps of each: blocks of at least `min_bytes`, the
/// first `keep_front` bytes of their payload left resident (at least kFreeBlockKeepBytes: the links). The defaults
/// are the full release's (Arena::release_pages); the arena's tail release between two full ones (Arena::release_due)
/// passes kTailBounds (arena.h).
struct ReleaseBounds {
  std::size_t min_bytes = kReleaseMinBytes;      ///< Smaller free blocks keep their pages.
  std::size_t keep_front = kFreeBlockKeepBytes;  ///< Bytes from a block's payload start that are never released.
};

/// The whole pages (of `page_bytes`, a power of two) inside free block `block` that may be released, as
/// [*begin, *end), keeping the block's edges (`bounds.keep_front` bytes at its start, 2 * kFreeBlockKeepBytes at its
/// end); false when there is none or the block is under `bounds.min_bytes`. A block the heap's cache keeps aside
/// (`block.cached`) is never released: its payload holds the cache's link and key, and it is about to be handed out
/// whole. (release_free_pages visits the fit's index, which holds no cached block, and the drop-in's cache keeps blocks
/// of at most 8 KiB (MallocCache), under kReleaseMinBytes, so this only guards a caller that passes the blocks of
/// BasicHeap::walk.)
inline bool releasable_pages(const BlockInfo& block, std::size_t page_bytes, std::uintptr_t* begin, std::uintptr_t* end,
                             const ReleaseBounds& bounds = {}) noexcept {
  if (block.used || block.cached || block.size < bounds.min_bytes) return false;
  const auto payload = reinterpret_cast<std::uintptr_t>(block.payload);
  // The block ends at (payload - header) + size; keeping 2 * kFreeBlockKeepBytes before payload + size keeps the
  // footer whatever the header size (at most kFreeBlockKeepBytes).
  const std::uintptr_t lo =
      (payload + std::max(bounds.keep_front, kFreeBlockKeepBytes) + page_bytes - 1) & ~(page_bytes - 1);
  const std::uintptr_t hi = (payload + block.size - 2 * kFreeBlockKeepBytes) & ~(page_bytes - 1);
  if (hi <= lo) return false;
  *begin = lo;
  *end = hi;
  return true;
}

/// Releases the pages inside every large free block of `heap` (madvise MADV_DONTNEED) and returns the bytes
/// advised (pages that were never touched count too: the kernel skips them cheaply). O(free blocks) plus one system
/// call per large free block: it visits the fit's index (BasicHeap::walk_free), not every block, as a walk of a
/// 1 GiB heap of 1.5 M blocks took a fifth of a churning program's time. The caller holds the heap exclusively (the
/// arena's lock).
/// `bounds` chooses the blocks and their kept front (ReleaseBounds); `visited`, when given, receives the number of free
/// blocks visited (the walk's cost, which the arena's tail release paces itself by).
template <class Heap>
std::size_t release_free_pages(const Heap& heap, std::size_t page_bytes, const ReleaseBounds& bounds = {},
                               std::size_t* visited = nullptr) noexcept {
  std::size_t released = 0;
  std::size_t blocks = 0;
  const ErrnoKept kept;  // called from free, which leaves errno alone
  heap.walk_free([&](const BlockInfo& block) {
    ++blocks;
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    if (!releasable_pages(block, page_bytes, &begin, &end, bounds)) return;
    if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) == 0) released += end - begin;
  });
  if (visited != nullptr) *visited = blocks;
  return released;
}

}  // namespace nostd::malloc_door
