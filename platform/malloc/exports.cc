// platform/malloc/exports.cc — the exported malloc family and C++ operator new/delete of the drop-in malloc.
//
// Built with -fno-builtin (so that the compiler does not turn code here into calls of the very functions being
// defined, such as malloc + memset into calloc) and -fvisibility=hidden: only the functions below are exported,
// and calls between them stay inside the library instead of going through the PLT.
//
// Every function that allocates or frees validates its arguments as glibc does (errno ENOMEM / EINVAL, nullptr), calls
// the core (malloc_door.h) and ends in observe() (malloc_hook.h), the single hook for tracing; malloc, free and the
// operator new/delete backend skip it (a tail call) when observing() says nothing observes calls. operator new/delete
// come from the operator new/delete door's forwarding macro, with the arenas as its backend. The statistics and tuning
// calls (malloc_usable_size, malloc_trim, mallinfo2, mallinfo, malloc_stats, malloc_info, mallopt) are not observed.
#include <errno.h>
#include <malloc.h>  // struct mallinfo2, struct mallinfo: their layouts are glibc's
#include <unistd.h>  // STDERR_FILENO

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "platform/malloc/errno_kept.h"
#include "platform/malloc/malloc_door.h"
#include "platform/malloc/malloc_hook.h"
#include "platform/new_delete/new_delete.h"

#define NOSTD_EXPORT __attribute__((visibility("default")))

namespace door = nostd::malloc_door;
using door::MallocCall;

namespace {

void* observed(MallocCall call, const void* in, std::size_t size, std::size_t align, void* out) noexcept {
  door::observe(call, in, size, align, out);
  return out;
}

// free's and operator delete's body: the door's free alone (a tail call) unless the call must be observed.
[[gnu::always_inline]] inline void deallocate_observed(MallocCall call, void* ptr) noexcept {
  if (!door::observing()) [[likely]]
    return door::deallocate(ptr);
  door::deallocate(ptr);
  observed(call, ptr, 0, door::kMallocAlignment, nullptr);
}

// memalign and friends: an alignment below malloc's is raised to it (every block is at least that aligned).
std::size_t at_least_malloc_alignment(std::size_t align) noexcept {
  return align < door::kMallocAlignment ? door::kMallocAlignment : align;
}

bool is_power_of_two(std::size_t value) noexcept { return value != 0 && (value & (value - 1)) == 0; }

}  // namespace

extern "C" {

// malloc and free, the calls programs make most (and operator new/delete, below), tail-call the door unless their
// call must be observed (door::observing()); the other calls always end in observe().
NOSTD_EXPORT void* malloc(std::size_t size) {
  if (!door::observing()) [[likely]]
    return door::allocate_or_enomem(size, door::kMallocAlignment);
  return observed(MallocCall::kMalloc, nullptr, size, door::kMallocAlignment,
                  door::allocate_or_enomem(size, door::kMallocAlignment));
}

NOSTD_EXPORT void free(void* ptr) { deallocate_observed(MallocCall::kFree, ptr); }

NOSTD_EXPORT void* calloc(std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return observed(MallocCall::kCalloc, nullptr, SIZE_MAX, door::kMallocAlignment, nullptr);
  }
  // Cleared unless it is a fresh mapping (allocate_zeroed): a block of a huge size may come from an arena once the
  // huge threshold has risen.
  void* const block = door::allocate_zeroed(bytes);
  if (block == nullptr) errno = ENOMEM;
  return observed(MallocCall::kCalloc, nullptr, bytes, door::kMallocAlignment, block);
}

NOSTD_EXPORT void* realloc(void* ptr, std::size_t size) {
  if (ptr != nullptr && size == 0) {
    // glibc's behaviour (C23 leaves it undefined): free, return nullptr.
    door::deallocate(ptr);
    return observed(MallocCall::kRealloc, ptr, 0, door::kMallocAlignment, nullptr);
  }
  void* const block = door::reallocate(ptr, size);
  if (block == nullptr) errno = ENOMEM;
  return observed(MallocCall::kRealloc, ptr, size, door::kMallocAlignment, block);
}

NOSTD_EXPORT void* reallocarray(void* ptr, std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return observed(MallocCall::kReallocArray, ptr, SIZE_MAX, door::kMallocAlignment, nullptr);
  }
  if (ptr != nullptr && bytes == 0) {
    door::deallocate(ptr);
    return observed(MallocCall::kReallocArray, ptr, 0, door::kMallocAlignment, nullptr);
  }
  void* const block = door::reallocate(ptr, bytes);
  if (block == nullptr) errno = ENOMEM;
  return observed(MallocCall::kReallocArray, ptr, bytes, door::kMallocAlignment, block);
}

NOSTD_EXPORT int posix_memalign(void** out, std::size_t align, std::size_t size) {
  // POSIX: a power of two multiple of sizeof(void*); errors are returned, errno is left alone.
  if (!is_power_of_two(align) || align % sizeof(void*) != 0) {
    observed(MallocCall::kPosixMemalign, nullptr, size, align, nullptr);
    return EINVAL;
  }
  const door::ErrnoKept kept;  // a refused mmap for a huge block sets errno
  void* const block = door::allocate(size, at_least_malloc_alignment(align));
  observed(MallocCall::kPosixMemalign, nullptr, size, align, block);
  if (block == nullptr) return ENOMEM;
  *out = block;
  return 0;
}

NOSTD_EXPORT void* aligned_alloc(std::size_t align, std::size_t size) {
  // C17 (DR 460): any valid alignment, any size. An alignment that is not a power of two is refused, as glibc does
  // from 2.38 (2.36, Debian 12's, rounds it up as memalign does).
  if (!is_power_of_two(align)) {
    errno = EINVAL;
    return observed(MallocCall::kAlignedAlloc, nullptr, size, align, nullptr);
  }
  return observed(MallocCall::kAlignedAlloc, nullptr, size, align,
                  door::allocate_or_enomem(size, at_least_malloc_alignment(align)));
}

NOSTD_EXPORT void* memalign(std::size_t align, std::size_t size) {
  // glibc rounds an alignment that is not a power of two up to the next one; one beyond half the address space
  // cannot be met.
  if (align > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return observed(MallocCall::kMemalign, nullptr, size, align, nullptr);
  }
  std::size_t rounded = door::kMallocAlignment;
  while (rounded < align) rounded <<= 1;
  return observed(MallocCall::kMemalign, nullptr, size, align, door::allocate_or_enomem(size, rounded));
}

NOSTD_EXPORT void* valloc(std::size_t size) {
  const std::size_t page = door::page_size();
  return observed(MallocCall::kValloc, nullptr, size, page, door::allocate_or_enomem(size, page));
}

NOSTD_EXPORT void* pvalloc(std::size_t size) {
  const std::size_t page = door::page_size();
  if (size > SIZE_MAX - page) {
    errno = ENOMEM;
    return observed(MallocCall::kPvalloc, nullptr, size, page, nullptr);
  }
  const std::size_t rounded = size == 0 ? page : (size + page - 1) & ~(page - 1);
  return observed(MallocCall::kPvalloc, nullptr, rounded, page, door::allocate_or_enomem(rounded, page));
}

NOSTD_EXPORT std::size_t malloc_usable_size(void* ptr) { return door::usable_size(ptr); }

/// glibc's malloc_trim: returns free memory to the system now; 1 if any was released, else 0. `pad` (memory to
/// keep at the top of the heap, in glibc) has no meaning here: only whole pages inside free blocks are released,
/// never memory a block holds.
NOSTD_EXPORT int malloc_trim(std::size_t /*pad*/) { return door::release_free_memory() != 0 ? 1 : 0; }

/// glibc's mallinfo2, over the drop-in's arenas and huge blocks (under LD_PRELOAD, glibc's own would describe its
/// unused heap: zeros). The fields as glibc uses them (the newlib door, platform/newlib, too, but for usmblks): arena
/// the bytes of the arenas' chunks (address space; the kernel backs the pages touched), ordblks their free blocks,
/// smblks and fsmblks the blocks the per-arena cache keeps (glibc's fastbins: freed, not merged) and their bytes, hblks
/// and hblkhd the live huge blocks and the bytes of their mappings (and of freed blocks whose munmap the system
/// refused), uordblks the bytes usable in live arena blocks, fordblks what the free and cached blocks could serve
/// (fsmblks included, as glibc counts its fastbins). usmblks is 0, as in glibc; keepcost is 0: no arena gives its
/// chunks back (their free pages go back by madvise, malloc_trim). uordblks + fordblks leaves out the tags, so it is
/// below arena. Each arena is locked in turn: O(free blocks). The free lists are walked with their links checked as
/// malloc's searches check them: at basic and hardened a free block whose links the program overwrote stops the process
/// with the heap's report (MallocDoorDeathTest.MallinfoOfAFreeListTheProgramOverwroteStopsWithAMessage); at none they
/// are followed unchecked.
NOSTD_EXPORT struct mallinfo2 mallinfo2() {
  const door::Usage usage = door::usage();
  struct mallinfo2 info {};
  info.arena = usage.arenas.capacity;
  info.ordblks = usage.arenas.free_blocks;
  info.smblks = usage.arenas.cached_blocks;
  info.hblks = usage.huge_blocks;
  info.hblkhd = usage.huge_bytes;
  info.fsmblks = usage.arenas.cached_bytes;
  info.uordblks = usage.arenas.bytes_in_use;
  info.fordblks = usage.arenas.bytes_free;
  return info;
}

/// glibc's older mallinfo: mallinfo2's figures in int fields, each held at INT_MAX where it does not fit (glibc's
/// truncates them: a 4 GiB heap reads as 0 there).
NOSTD_EXPORT struct mallinfo mallinfo() {
  const struct mallinfo2 wide = mallinfo2();
  const auto narrow = [](std::size_t value) { return value > INT_MAX ? INT_MAX : static_cast<int>(value); };
  struct mallinfo info {};
  info.arena = narrow(wide.arena);
  info.ordblks = narrow(wide.ordblks);
  info.smblks = narrow(wide.smblks);
  info.hblks = narrow(wide.hblks);
  info.hblkhd = narrow(wide.hblkhd);
  info.fsmblks = narrow(wide.fsmblks);
  info.uordblks = narrow(wide.uordblks);
  info.fordblks = narrow(wide.fordblks);
  return info;
}

/// glibc's malloc_stats: prints, on stderr and now, the statistics line NOSTD_MALLOC_STATS=1 prints at exit (glibc's
/// own is a table per arena; neither is meant for a program to read).
NOSTD_EXPORT void malloc_stats() { door::write_statistics(STDERR_FILENO); }

/// glibc's malloc_info: writes to `stream` the XML document glibc's writes (`<malloc version="1">`), from the figures
/// mallinfo2 reads, and returns 0; `options` other than 0 return EINVAL and leave errno, as glibc's does (its manual
/// says -1 and errno). One `<heap nr="N">`
/// per arena that has mapped a chunk, N its index (glibc numbers its arenas from 0 in list order; an arena here that
/// never mapped one is left out, as glibc has not created it): `<sizes>` one `<size from= to= total= count=/>` per
/// non-empty size class of its free and cached blocks, ascending (size_classes.h: a class is a list of the fit, a
/// cached block counts in the list it would join; from/to and total are payload bytes, so the classes add up to the two
/// totals that follow; no `<unsorted>`, which glibc prints for its unsorted bin: nothing here waits unsorted),
/// `<total type="fast">` its cached blocks and their bytes
/// (mallinfo2's smblks, fsmblks), `<total type="rest">` its free blocks and their bytes without the cached ones
/// (ordblks, fordblks - fsmblks), `<system type="current">` and `type="max"` its chunks' bytes (arena; no arena gives a
/// chunk back, so the current size is the largest), `<aspace>` the same. Then the sums, and `<total type="mmap">` the
/// live huge blocks and their mappings' bytes (hblks, hblkhd). As glibc's, each arena's figures are taken under its
/// lock (door::arena_usage) and written after, no lock held: stdio may call malloc (a stream's first write allocates
/// its buffer). A null `stream` returns EINVAL as well (glibc's would crash); an error of the stream's gives -1 with
/// the stream's errno.
NOSTD_EXPORT int malloc_info(int options, FILE* stream) {
  if (options != 0 || stream == nullptr) return EINVAL;
  std::size_t fast_count = 0, fast_bytes = 0, rest_count = 0, rest_bytes = 0, system = 0;
  door::ArenaUsage usage;
  unsigned position = 0;
  // The first arena's figures before the first write, which allocates the stream's buffer (in that arena, mostly).
  bool more = door::arena_usage(&position, &usage);
  bool written = std::fputs("<malloc version=\"1\">\n", stream) >= 0;
  for (; more; more = door::arena_usage(&position, &usage)) {
    const nostd::HeapStats& arena = usage.stats;
    const std::size_t rest = arena.bytes_free - arena.cached_bytes;
    fast_count += arena.cached_blocks;
    fast_bytes += arena.cached_bytes;
    rest_count += arena.free_blocks;
    rest_bytes += rest;
    system += arena.capacity;
    written = written && std::fprintf(stream, "<heap nr=\"%u\">\n<sizes>\n", usage.index) >= 0;
    for (unsigned i = 0; i < usage.sizes.used; ++i) {
      const door::SizeClass& size = usage.sizes.classes[i];
      written = written && std::fprintf(stream, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
                                        size.from, size.to, size.total, size.count) >= 0;
    }
    written = written && std::fprintf(stream,
                                      "</sizes>\n"
                                      "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
                                      "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
                                      "<system type=\"current\" size=\"%zu\"/>\n"
                                      "<system type=\"max\" size=\"%zu\"/>\n"
                                      "<aspace type=\"total\" size=\"%zu\"/>\n"
                                      "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
                                      "</heap>\n",
                                      arena.cached_blocks, arena.cached_bytes, arena.free_blocks, rest, arena.capacity,
                                      arena.capacity, arena.capacity, arena.capacity) >= 0;
  }
  const door::HugeUsage huge = door::huge_usage();
  written = written && std::fprintf(stream,
                                    "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
                                    "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
                                    "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n"
                                    "<system type=\"current\" size=\"%zu\"/>\n"
                                    "<system type=\"max\" size=\"%zu\"/>\n"
                                    "<aspace type=\"total\" size=\"%zu\"/>\n"
                                    "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
                                    "</malloc>\n",
                                    fast_count, fast_bytes, rest_count, rest_bytes, huge.blocks, huge.bytes, system,
                                    system, system, system) >= 0;
  return written ? 0 : -1;
}

/// glibc's mallopt: 1 when the setting is honoured, 0 when not (glibc's failure value), nothing changed then. Honoured:
/// M_MMAP_THRESHOLD from kHugeThreshold (1 MiB) to kMaxHugeThreshold (32 MiB), which fixes the huge threshold there
/// and turns its raise in free off, as glibc's does (door::fix_huge_threshold). Everything else gives 0: a threshold
/// below 1 MiB (malloc's hot path places those sizes by a constant, reading no variable), M_ARENA_MAX and M_ARENA_TEST
/// (the arena count is fixed at the first call, NOSTD_MALLOC_ARENAS: free reads it without a lock to find a block's
/// arena, so it can neither fall, leaving blocks in arenas it no longer counts, nor rise under a concurrent free),
/// M_PERTURB (a fill on every malloc and free), M_TRIM_THRESHOLD and M_TOP_PAD (no heap top: free pages go back by
/// madvise after a quarter of an arena is freed), M_MMAP_MAX (requests above 32 MiB must be mapped), M_MXFAST (the
/// cache's bounds are MallocCache's template arguments, malloc_heap.h), M_CHECK_ACTION (NOSTD_MALLOC_CHECK chooses the
/// checks), and any parameter glibc does not know (its mallopt returns 1 for those).
NOSTD_EXPORT int mallopt(int param, int value) {
  if (param == M_MMAP_THRESHOLD && value >= 0) {
    return door::fix_huge_threshold(static_cast<std::size_t>(value)) ? 1 : 0;
  }
  return 0;
}

}  // extern "C"

// ---- C++ operator new / delete ----
//
// The forwarding of every form (plain, array, aligned, nothrow; sized and aligned deletes) is the operator
// new/delete door's (platform/new_delete/new_delete.h); the backend below routes it to the arenas and reports each
// call to the hook. Out of memory follows the standard protocol there: the program's new_handler is called while
// there is one, then std::abort() (the project builds without exceptions); the nothrow forms return nullptr. The
// door asks libstdc++ for the new_handler, so the shared library links libstdc++ statically (two functions:
// get_new_handler and set_new_handler, exported so that the program's own calls reach the same handler) and a C
// program still loads libc only.
namespace {

struct NewDeleteBackend {
  // As malloc and free: the door's call alone unless the call must be observed.
  static void* allocate(std::size_t size, std::size_t align) noexcept {
    if (!door::observing()) [[likely]]
      return door::allocate(size, align);
    return observed(MallocCall::kOperatorNew, nullptr, size, align, door::allocate(size, align));
  }
  static void deallocate(void* ptr) noexcept { deallocate_observed(MallocCall::kOperatorDelete, ptr); }
};

}  // namespace

NOSTD_NEW_DELETE_USE_BACKEND(NewDeleteBackend);
