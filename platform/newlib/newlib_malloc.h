// platform/newlib/newlib_malloc.h — the newlib door: newlib's malloc family served by a nostd heap over the
// board's linker-script heap, so that everything that allocates on a bare-metal board (C code, newlib's stdio,
// libstdc++'s operator new, GoogleTest) allocates from it.
//
// Linking //platform/newlib:newlib_malloc replaces, at link time, `malloc`, `free`, `calloc`, `realloc`,
// `memalign`, `posix_memalign`, `aligned_alloc`, `malloc_usable_size` and their reentrant `_r` forms (`_malloc_r`,
// `_free_r`, `_calloc_r`, `_realloc_r`, `_memalign_r`, `_malloc_usable_size_r`), and newlib's `_mallinfo_r`,
// `_malloc_stats_r`, `_mallopt_r`, `_malloc_trim_r` (so `mallinfo()` and friends describe this heap instead of
// pulling in newlib's allocator, which would fail the link with duplicate definitions). newlib's own `valloc`,
// `pvalloc`, `reallocf`, `reallocarray` and `cfree` call these and need no replacement (its `aligned_alloc` calls
// posix_memalign, which refuses alignments below sizeof(void*), so the door has its own).
//
// Behaviour, where C leaves a choice:
//   malloc(0)            a unique minimum block (free it like any other).
//   calloc(n, size)      NULL with errno ENOMEM when n * size overflows; the block is zeroed.
//   realloc(p, 0)        shrinks p to a minimum block and returns it (musl's choice): a caller that reads NULL as
//                        failure and keeps p can never double-free it. realloc(NULL, n) is malloc(n).
//   failure              NULL with errno ENOMEM (EINVAL for a bad alignment); a failed realloc keeps the block.
//   memalign(a, n)       a must be a power of two up to the heap's maximum (1 MiB on 32-bit), else NULL/EINVAL;
//                        alignments below the default give the default (0 too, as in newlib). aligned_alloc(a, n)
//                        the same, with any n, but 0 is EINVAL.
//   free(bad pointer)    a pointer the heap did not hand out, or a double free, stops the program: the heap's
//                        checks report it (one line on stderr: "nostd malloc: pointer is not a live block of
//                        this heap (foreign, interior, misaligned, or its tags overwritten) 0x...") and abort().
//   malloc_usable_size   0 for NULL and for a pointer outside the heap; a freed, interior or misaligned pointer
//                        into the heap stops the program as free does.
//
// Thread safety: the heap's lock is InterruptLock, so interrupt handlers may allocate and free too (not NMI or
// HardFault handlers). Fit: `Fit` below, SegregatedFit<> (O(1)); another fit is that one line.
#pragma once

#include "alloc/alloc.h"
#include "platform/interrupt_lock.h"
#include "platform/newlib/linker_script_source.h"

namespace nostd::newlib {

/// The fit strategy of the malloc heap: SegregatedFit<> allocates and frees in O(1) whatever the number of free
/// blocks (a list fit walks them: too slow for a program such as GoogleTest that leaves many). Change it here.
using Fit = SegregatedFit<>;

/// Misuse found by the heap's checks (a bad or double free, a corrupted block): one line on stderr, then abort().
/// Writes with `write(2, ...)`, which does not allocate, since the heap that found the fault is locked.
struct ReportAndAbort {
  /// Never returns.
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept;
};

/// The heap behind malloc: over the linker script's heap region, interrupt-safe, with O(1) checks on every free.
using Heap = BasicHeap<Fit, CompactTags, InterruptLock, LinkerScriptSource, BasicChecks<ReportAndAbort>>;

/// The heap malloc allocates from, for statistics (`heap().stats()`) and `validate()`. Constant-initialised: usable
/// at any time, before and after main.
Heap& heap() noexcept;

}  // namespace nostd::newlib
