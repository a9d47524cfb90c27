// alloc/internal/valgrind_hooks.h — Valgrind memcheck client requests, compiled in only with NOSTD_VALGRIND.
//
// Built with -DNOSTD_VALGRIND (`--config=valgrind` does it), the heap announces every block as malloc-like and
// free-like and marks free memory and tags no-access, so memcheck reports leaks, invalid reads and writes of our
// blocks as it does for malloc's. The requests come from Debian's `valgrind` package
// (/usr/include/valgrind/memcheck.h); without NOSTD_VALGRIND nothing is included and every call is a no-op, so
// embedded builds need no Valgrind header and pay nothing (a client request costs a few instructions even when
// not running under Valgrind, which the hot path should not pay by default).
#pragma once

#include <cstddef>

#if defined(NOSTD_VALGRIND)
#if !__has_include(<valgrind/memcheck.h>)
#error "NOSTD_VALGRIND needs <valgrind/memcheck.h> (Debian: apt-get install valgrind)"
#endif
#include <valgrind/memcheck.h>
#endif

namespace nostd::internal {

#if defined(NOSTD_VALGRIND)
/// True when the heap speaks to Valgrind (built with NOSTD_VALGRIND).
inline constexpr bool kValgrind = true;
#else
/// True when the heap speaks to Valgrind (built with NOSTD_VALGRIND).
inline constexpr bool kValgrind = false;
#endif

/// Announces a block of `n` bytes at `p` handed to the caller (contents undefined), as malloc would.
inline void valgrind_malloclike(const void* p, std::size_t n) noexcept {
#if defined(NOSTD_VALGRIND)
  VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0);
#else
  (void)p;
  (void)n;
#endif
}

/// Announces that the block at `p` was freed: later accesses are invalid, and it no longer counts as a leak.
inline void valgrind_freelike(const void* p) noexcept {
#if defined(NOSTD_VALGRIND)
  VALGRIND_FREELIKE_BLOCK(p, 0);
#else
  (void)p;
#endif
}

/// Announces that the block at `p` changed size in place from `old_n` to `new_n` bytes.
inline void valgrind_resize(const void* p, std::size_t old_n, std::size_t new_n) noexcept {
#if defined(NOSTD_VALGRIND)
  VALGRIND_RESIZEINPLACE_BLOCK(p, old_n, new_n, 0);
#else
  (void)p;
  (void)old_n;
  (void)new_n;
#endif
}

/// Marks [p, p + n) no-access: any read or write by the program is reported.
inline void valgrind_noaccess(const void* p, std::size_t n) noexcept {
#if defined(NOSTD_VALGRIND)
  VALGRIND_MAKE_MEM_NOACCESS(p, n);
#else
  (void)p;
  (void)n;
#endif
}

/// Marks [p, p + n) addressable and defined (the heap's own list links).
inline void valgrind_defined(const void* p, std::size_t n) noexcept {
#if defined(NOSTD_VALGRIND)
  VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
  (void)p;
  (void)n;
#endif
}

/// Stops (`quiet` true) or resumes reporting invalid accesses in [p, p + n). The heap is quiet over its regions
/// for the length of each of its own operations: it reads and writes tags and poisoned bytes that are no-access
/// precisely so that the program cannot touch them. Memcheck reads no-access bytes as defined, so the heap's checks
/// see the real values.
inline void valgrind_quiet(const void* p, std::size_t n, bool quiet) noexcept {
#if defined(NOSTD_VALGRIND)
  if (quiet) {
    VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE(p, n);
  } else {
    VALGRIND_ENABLE_ADDR_ERROR_REPORTING_IN_RANGE(p, n);
  }
#else
  (void)p;
  (void)n;
  (void)quiet;
#endif
}

}  // namespace nostd::internal
