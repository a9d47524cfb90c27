// alloc/adapt/out_of_memory.h — what the standard-library doors do when the heap cannot serve a request.
//
// nostd's own API reports an exhausted heap as a value (`Result<void*>`), but the standard interfaces have no
// place for one: `std::allocator_traits<A>::allocate` and `std::pmr::memory_resource::allocate` must return
// memory or not return at all. With exceptions they throw `std::bad_alloc`; without them (`-fno-exceptions`, the
// norm on microcontrollers and in this project) the doors call an *out-of-memory handler* instead: a type with
//
//   [[noreturn]] static void on_out_of_memory(const OutOfMemory& failure);
//
// given as a template argument (`StdAllocator<T, Heap, MyHandler>`, `HeapResource<Heap, MyHandler>`), as a check
// policy's fault handler is. A handler may log the failure and reset the board, or throw when exceptions are on;
// it must not return, because the container that asked has no way to continue without the memory.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <new>

#include "alloc/error.h"

namespace nostd {

/// A request a standard-library door could not serve, as its out-of-memory handler receives it.
struct OutOfMemory {
  /// Bytes the door needs the request to hold; `kOverflowedBytes` when an element count is beyond the door's limit
  /// (`StdAllocator::max_size()`: its byte count exceeds `PTRDIFF_MAX` or overflows `std::size_t`).
  static constexpr std::size_t kOverflowedBytes = std::numeric_limits<std::size_t>::max();

  AllocError error;   ///< kOutOfMemory, kSizeOverflow or kInvalidLayout (an alignment the heap cannot give).
  std::size_t bytes;  ///< Size of the request in bytes, or kOverflowedBytes.
  std::size_t align;  ///< Alignment of the request in bytes.
};

/// A type that can be a door's out-of-memory handler: a static, non-returning `on_out_of_memory(OutOfMemory)`.
template <class H>
concept OutOfMemoryHandler = requires(const OutOfMemory& failure) {
  H::on_out_of_memory(failure);
};

namespace internal {

/// Calls `H::on_out_of_memory(failure)`, the doors' one way to report a request they cannot serve. A concept cannot
/// see `[[noreturn]]`, so a handler that returns anyway ends the program here (`std::abort()`) instead of letting
/// the door hand out a failed request as a block; after a `[[noreturn]]` handler the call costs nothing.
template <OutOfMemoryHandler H>
[[noreturn]] void report_out_of_memory(const OutOfMemory& failure) {
  H::on_out_of_memory(failure);
  std::abort();
}

}  // namespace internal

// The default handler's two forms are two types, one per inline namespace, named after the including translation
// unit's exception mode: one inline function with a body per mode would break the one-definition rule in a program
// that links code built with and without exceptions, and the linker would keep either body for both (code built
// without exceptions then threw through frames that cannot unwind, or code built with them aborted). As two types,
// `StdAllocator<T, Heap>` and `HeapResource<Heap>` are distinct instantiations on each side too.
#if defined(__cpp_exceptions)
inline namespace oom_throws {
#else
inline namespace oom_aborts {
#endif

/// The default handler. With exceptions enabled it throws `std::bad_alloc` (`std::bad_array_new_length` when the
/// byte count overflowed), as `std::allocator` does; with exceptions disabled it calls `std::abort()`, as
/// libstdc++'s `operator new` does then. It prints nothing (the library never prints): replace it to report.
/// The choice is made where the door is instantiated, so code built with exceptions gets the throwing form, also
/// in a program that links code built without them (see the inline namespace above).
struct DefaultOutOfMemory {
  /// Throws or aborts; never returns.
  [[noreturn]] static void on_out_of_memory(const OutOfMemory& failure) {
#if defined(__cpp_exceptions)
    if (failure.error == AllocError::kSizeOverflow) throw std::bad_array_new_length();
    throw std::bad_alloc();
#else
    static_cast<void>(failure);
    std::abort();
#endif
  }
};

}  // namespace oom_throws / oom_aborts

static_assert(OutOfMemoryHandler<DefaultOutOfMemory>);

}  // namespace nostd
