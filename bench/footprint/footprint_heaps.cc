// bench/footprint/footprint_heaps.cc — one heap composition per build, behind a malloc-like C API, for the
// footprint report (footprint.sh). FP_COMPOSITION selects the composition; FP_REALLOC adds reallocate to the API.
//
// The API functions are the roots the linker keeps (--gc-sections): what remains is exactly the code a program
// using this heap pays for, plus the libc/libgcc helpers it calls (memcpy, ...). BasicChecks report misuse through
// TrapOnFault (a `udf` instruction), as firmware would, rather than AbortOnFault, which pulls in newlib's
// abort/raise/signal machinery.
#include <cstddef>

#include "alloc/alloc.h"
#ifdef FP_INTERRUPT_LOCK
#include "platform/interrupt_lock.h"
#endif

namespace {

/// Stops at the faulting operation with an undefined instruction (a HardFault on Cortex-M).
struct TrapOnFault {
  [[noreturn]] static void on_fault(const nostd::HeapFault& /*fault*/) noexcept { __builtin_trap(); }
};
using Checked = nostd::BasicChecks<TrapOnFault>;
using Static = nostd::StaticArraySource<FP_ARENA>;

#if FP_COMPOSITION == 1
using Heap = nostd::BasicHeap<nostd::FirstFit, nostd::CompactTags, nostd::NoChecks, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 2
using Heap = nostd::BasicHeap<nostd::NextFit, nostd::CompactTags, nostd::NoChecks, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 3
using Heap = nostd::BasicHeap<nostd::BestFit, nostd::CompactTags, nostd::NoChecks, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 4
using Heap = nostd::BasicHeap<nostd::FirstFit, nostd::CompactTags, Checked, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 5
using Heap = nostd::BasicHeap<nostd::FirstFit, nostd::FullTags, Checked, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 6
using Heap = nostd::BasicHeap<nostd::FirstFit, nostd::CompactTags, Checked, nostd::InterruptLock, Static>;
#elif FP_COMPOSITION == 7
#define FP_REGION 1
using Heap = nostd::BasicHeap<nostd::BestFit, nostd::FullTags, Checked, nostd::InterruptLock, nostd::RegionSource>;
#elif FP_COMPOSITION == 8
using Heap = nostd::BasicHeap<nostd::SegregatedFit<>, nostd::CompactTags, nostd::NoChecks, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 9
using Heap = nostd::BasicHeap<nostd::SegregatedFit<>, nostd::CompactTags, Checked, nostd::NullLock, Static>;
#elif FP_COMPOSITION == 10
using Heap = nostd::BasicHeap<nostd::SegregatedFit<>, nostd::CompactTags, nostd::NoChecks, nostd::NullLock, Static,
                              nostd::QuickCache<> >;
#else
#error "FP_COMPOSITION: unknown composition"
#endif

}  // namespace

#ifdef FP_REGION
alignas(8) std::byte fp_arena[FP_ARENA];
/// The heap under measurement (symbol size = the heap object; the arena is fp_arena).
Heap fp_heap{std::span<std::byte>(fp_arena)};
#else
/// The heap under measurement (symbol size = the heap object including its FP_ARENA-byte arena).
constinit Heap fp_heap;
#endif

extern "C" {

/// malloc: `size` bytes at the default alignment, or null.
void* fp_allocate(std::size_t size) {
  nostd::Result<void*> p = fp_heap.allocate(size);
  return p ? *p : nullptr;
}

/// free.
void fp_deallocate(void* p) { fp_heap.deallocate(p); }

#if FP_REALLOC
/// realloc: resize in place or move; null (old block kept) on failure.
void* fp_reallocate(void* p, std::size_t size) {
  nostd::Result<void*> q = fp_heap.reallocate(p, size);
  return q ? *q : nullptr;
}
#endif

}  // extern "C"
