// alloc/error.h — the error vocabulary of nostd-alloc and the `Result<T>` every fallible call returns.
//
// Expected failures (out of memory, a bad layout, an overflowing size, a pointer the heap does not own) are values
// of `AllocError`; nothing in the library throws. Detected corruption goes to a check policy's handler instead
// (see alloc/check/), but `try_` variants of the API report it as `kDoubleFree` / `kCorrupted` too.
#pragma once

#include <cstdint>
#include <expected>
#include <string_view>

// `Result` is C++23's std::expected. An older -std (g++'s -std=c++20, which the C++20 policies might suggest), or a
// compiler below the concepts level the standard library's <expected> asks for (clang 14 with libstdc++ 12), left
// <expected> empty and gave some 180 errors about `std::expected` in every header; this gives one line, and the
// missing include after it stops the compiler there (a missing include is fatal in g++ and clang; #error alone is
// not). __cpp_lib_expected is defined by <expected> exactly when it provides std::expected.
#if __cplusplus <= 202002L || !defined(__cpp_lib_expected)
#error "nostd-alloc needs C++23 for std::expected: compile with -std=c++2b, by g++ 12 or clang 19 on (not clang 14)"
#include <nostd-alloc stops here: see the #error above>
#endif

namespace nostd {

/// Why a heap or layout operation failed.
enum class AllocError : std::uint8_t {
  kOutOfMemory,     ///< No free block is large enough (or the source cannot supply more memory).
  kInvalidLayout,   ///< Alignment is 0 or not a power of two, or exceeds what the heap supports.
  kSizeOverflow,    ///< The size, once rounded or given its block header, does not fit in `std::size_t`.
  kInvalidPointer,  ///< The pointer is not one this heap handed out (foreign, interior or misaligned), or its block's
                    ///< tags were overwritten so that the check cannot tell it from such a pointer.
  kDoubleFree,      ///< The pointer's block is already free.
  kCorrupted,       ///< A heap invariant is broken (overwritten tag, broken free list, bad canary).
  kInUse,           ///< The memory is still in use: a region to take back (`remove_region`) holds a live block.
};

/// A short, stable, human-readable name for `error` ("out of memory", ...). Never allocates.
constexpr std::string_view to_string(AllocError error) noexcept {
  switch (error) {
    case AllocError::kOutOfMemory:
      return "out of memory";
    case AllocError::kInvalidLayout:
      return "invalid layout";
    case AllocError::kSizeOverflow:
      return "size overflow";
    case AllocError::kInvalidPointer:
      return "invalid pointer";
    case AllocError::kDoubleFree:
      return "double free";
    case AllocError::kCorrupted:
      return "heap corrupted";
    case AllocError::kInUse:
      return "in use";
  }
  return "unknown error";
}

/// The result of every fallible call: a value, or the `AllocError` that explains its absence.
template <class T>
using Result = std::expected<T, AllocError>;

/// Shorthand for the failure branch: `return fail(AllocError::kOutOfMemory);`.
constexpr std::unexpected<AllocError> fail(AllocError error) noexcept { return std::unexpected<AllocError>(error); }

}  // namespace nostd
