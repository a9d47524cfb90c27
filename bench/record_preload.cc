// bench/record_preload.cc — librecord_preload.so: records any program's malloc family with glibc's own malloc
// underneath, for `LD_PRELOAD=.../librecord_preload.so NOSTD_ALLOC_TRACE=out.trace program`.
//
// The drop-in malloc of platform/malloc/ records through the same library (record/malloc_recorder.h) when it
// replaces glibc; this shim exists so that a trace can be taken of a program running on the allocator it was
// written for, with nothing changed but the recording. Each function forwards to glibc's internal entry points
// (__libc_malloc, ...), which glibc exports for exactly this kind of interposition, and reports the call:
// allocations after they succeed, frees before they happen (see the recorder for why).
#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "record/malloc_recorder.h"

extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* p);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t align, std::size_t size);
}

namespace {

using nostd::record::malloc_recording;

void* allocated(void* p, std::size_t size, std::size_t align) {
  if (p != nullptr && malloc_recording()) nostd::record::malloc_recorder_allocated(p, size, align);
  return p;
}

__attribute__((constructor)) void start_recording() { nostd::record::malloc_recorder_start_from_env(); }
__attribute__((destructor)) void stop_recording() { nostd::record::malloc_recorder_stop(); }

}  // namespace

extern "C" {

/// glibc malloc, recorded.
void* malloc(std::size_t size) { return allocated(__libc_malloc(size), size, 0); }

/// glibc free, recorded before the block is released.
void free(void* p) {
  if (p != nullptr && malloc_recording()) nostd::record::malloc_recorder_freeing(p);
  __libc_free(p);
}

/// glibc calloc (which checks n * size for overflow), recorded as one allocation of n * size bytes.
void* calloc(std::size_t n, std::size_t size) {
  void* p = __libc_calloc(n, size);
  return p == nullptr ? nullptr : allocated(p, n * size, 0);
}

/// glibc realloc: null allocates; size 0 frees (glibc's behaviour); otherwise a reallocate event.
void* realloc(void* p, std::size_t size) {
  if (p == nullptr) return allocated(__libc_realloc(nullptr, size), size, 0);
  if (size == 0) {
    if (malloc_recording()) nostd::record::malloc_recorder_freeing(p);
    return __libc_realloc(p, 0);
  }
  void* q = __libc_realloc(p, size);
  if (q != nullptr && malloc_recording()) nostd::record::malloc_recorder_reallocated(p, q, size);
  return q;
}

/// realloc with an overflow check on n * size.
void* reallocarray(void* p, std::size_t n, std::size_t size) {
  std::size_t bytes;
  if (__builtin_mul_overflow(n, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, bytes);
}

/// glibc memalign, recorded with its alignment.
void* memalign(std::size_t align, std::size_t size) { return allocated(__libc_memalign(align, size), size, align); }

/// aligned_alloc: memalign (glibc accepts any size).
void* aligned_alloc(std::size_t align, std::size_t size) { return memalign(align, size); }

/// posix_memalign: EINVAL unless align is a power of two multiple of sizeof(void*).
int posix_memalign(void** out, std::size_t align, std::size_t size) {
  if (align % sizeof(void*) != 0 || (align & (align - 1)) != 0 || align == 0) return EINVAL;
  void* p = memalign(align, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

/// valloc: aligned to the system's page (glibc's page size, not a constant: 4 KiB is no page on a 16 or 64 KiB-page
/// kernel).
void* valloc(std::size_t size) { return memalign(static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), size); }

/// pvalloc: page-aligned, rounded up to whole pages; NULL and ENOMEM when the rounding overflows, as glibc's (the
/// rounding had wrapped to 0, and pvalloc(SIZE_MAX) returned a block of one page where glibc fails).
void* pvalloc(std::size_t size) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t rounded = 0;
  if (__builtin_add_overflow(size, page - 1, &rounded)) {
    errno = ENOMEM;
    return nullptr;
  }
  return memalign(page, rounded & ~(page - 1));
}

}  // extern "C"
