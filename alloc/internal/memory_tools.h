// alloc/internal/memory_tools.h — what the heap core tells AddressSanitizer and Valgrind about its blocks, and the
// unchecked byte access it uses for memory it has hidden from them.
//
// Glossary: *forbid* a range = the program must not touch it (ASan: poisoned; memcheck: no-access); *permit* =
// the heap's list links, which the fit policies read and write directly. What the caller may touch is announced
// with allocate / free / resize notices. Without either tool every function here is an empty inline function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "alloc/internal/asan_hooks.h"
#include "alloc/internal/valgrind_hooks.h"

namespace nostd::internal {

/// True when some memory tool watches the heap's blocks (the heap then spends time on shadow state).
inline constexpr bool kMemoryTools = kAsan || kValgrind;

/// The program must not touch [p, p + n).
inline void tool_forbid(const void* p, std::size_t n) noexcept {
  asan_poison(p, n);
  valgrind_noaccess(p, n);
}

/// The heap's own links at [p, p + n) are read and written directly (by the fit policy): make them accessible.
inline void tool_permit(const void* p, std::size_t n) noexcept {
  asan_unpoison(p, n);
  valgrind_defined(p, n);
}

/// The `n` bytes at `p` now belong to the caller.
inline void tool_allocated(const void* p, std::size_t n) noexcept {
  asan_unpoison(p, n);
  valgrind_malloclike(p, n);
}

/// The block at `p` (its `n` caller bytes) was freed.
inline void tool_freed(const void* p, std::size_t n) noexcept {
  valgrind_freelike(p);
  asan_poison(p, n);
}

/// The caller's bytes at `p` went from `old_n` to `new_n` in place.
inline void tool_resized(const void* p, std::size_t old_n, std::size_t new_n) noexcept {
  valgrind_resize(p, old_n, new_n);
  if (new_n > old_n) {
    asan_unpoison(p, new_n);
  } else {
    asan_poison(static_cast<const std::byte*>(p) + new_n, old_n - new_n);
  }
}

/// Writes `value` over [p, p + n), which may be poisoned (the heap's fill and poison patterns).
NOSTD_NO_SANITIZE_ADDRESS inline void unchecked_fill(std::byte* p, std::size_t n, std::byte value) noexcept {
  if constexpr (kAsan) {
    // ASan intercepts memset and would check the poisoned range; a plain loop in this unchecked function is not.
    for (std::size_t i = 0; i < n; ++i) p[i] = value;
  } else {
    std::memset(p, std::to_integer<int>(value), n);
  }
}

/// True when some byte of [p, p + n) differs from `value`. [p, p + n) may be poisoned. (unchecked_find_other's fast
/// path.)
NOSTD_NO_SANITIZE_ADDRESS inline bool differs_from(const std::byte* p, std::size_t n, std::byte value) noexcept {
  // Bytewise under the memory tools: ASan's memcpy interceptor would check a wide load of a poisoned range, and
  // memcheck marks the no-access bytes of a word load that is only partly addressable (a canary next to payload
  // bytes, a poisoned byte next to a free block's links) undefined, so the comparison would be reported.
  if constexpr (kMemoryTools) {
    unsigned char diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff |= std::to_integer<unsigned char>(p[i] ^ value);
    return diff != 0;
  } else {
    using Word = std::uintptr_t;
    constexpr std::size_t kWord = sizeof(Word);
    Word pattern;
    std::memset(&pattern, std::to_integer<int>(value), kWord);
    Word diff = 0;
    std::size_t i = 0;
    for (; i < n && reinterpret_cast<std::uintptr_t>(p + i) % kWord != 0; ++i)
      diff |= std::to_integer<Word>(p[i] ^ value);
    auto word_at = [p](std::size_t at) {
      Word w;
      std::memcpy(&w, std::assume_aligned<alignof(Word)>(p + at), kWord);
      return w;
    };
    for (; n - i >= 4 * kWord; i += 4 * kWord) {
      diff |= (word_at(i) ^ pattern) | (word_at(i + kWord) ^ pattern) | (word_at(i + 2 * kWord) ^ pattern) |
              (word_at(i + 3 * kWord) ^ pattern);
    }
    for (; n - i >= kWord; i += kWord) diff |= word_at(i) ^ pattern;
    for (; i < n; ++i) diff |= std::to_integer<Word>(p[i] ^ value);
    return diff != 0;
  }
}

/// The first byte in [p, p + n) that differs from `value`, or nullptr. [p, p + n) may be poisoned.
NOSTD_NO_SANITIZE_ADDRESS inline const std::byte* unchecked_find_other(const std::byte* p, std::size_t n,
                                                                       std::byte value) noexcept {
  // DebugChecks' scans of freed bytes run on every allocate and free, over whole blocks: no early exit on the common
  // path, the differences OR-ed together a machine word at a time, four words per step (g++ -O2 does not vectorise
  // a byte loop of unknown length; this runs about 8x fewer instructions than it, see README "What each level
  // costs"). Only a range that holds a difference is scanned again, bytewise, for its first one. Under ASan and
  // Valgrind the loads stay bytewise (differs_from says why).
  if (!differs_from(p, n, value)) return nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != value) return p + i;
  }
  return nullptr;
}

}  // namespace nostd::internal
