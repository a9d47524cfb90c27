// alloc/internal/asan_hooks.h — AddressSanitizer's manual poisoning interface, present only in ASan builds.
//
// In a build with -fsanitize=address the heap poisons the bytes a caller must not touch (tags, free blocks, the
// bytes after a block's usable size) and unpoisons what it hands out, so that ASan itself reports a
// use-after-free or an overflow inside the heap. Every other build compiles these calls to nothing, and needs
// no sanitizer header.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define NOSTD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOSTD_ASAN 1
#endif
#endif

#if defined(NOSTD_ASAN)
#include <sanitizer/asan_interface.h>
/// Marks a function whose memory accesses ASan must not check: the heap's own reads and writes of tags and
/// poisoned bytes, which are poisoned precisely so that the *caller* cannot touch them.
#define NOSTD_NO_SANITIZE_ADDRESS __attribute__((no_sanitize_address))
#else
#define NOSTD_NO_SANITIZE_ADDRESS
#endif

namespace nostd::internal {

#if defined(NOSTD_ASAN)
/// True in a build instrumented by AddressSanitizer.
inline constexpr bool kAsan = true;
#else
/// True in a build instrumented by AddressSanitizer.
inline constexpr bool kAsan = false;
#endif

/// Makes [p, p + n) unaddressable for instrumented code (a no-op without ASan). ASan tracks 8-byte granules
/// whose first k bytes may be addressable, so poisoning after a byte-precise unpoison keeps that precision.
inline void asan_poison(const void* p, std::size_t n) noexcept {
#if defined(NOSTD_ASAN)
  __asan_poison_memory_region(p, n);
#else
  (void)p;
  (void)n;
#endif
}

/// Makes [p, p + n) addressable again (a no-op without ASan).
inline void asan_unpoison(const void* p, std::size_t n) noexcept {
#if defined(NOSTD_ASAN)
  __asan_unpoison_memory_region(p, n);
#else
  (void)p;
  (void)n;
#endif
}

}  // namespace nostd::internal
