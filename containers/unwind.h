// containers/unwind.h — what `Vec` needs when an element constructor throws, in code built with exceptions.
//
// The project builds without exceptions, but a user's file may enable them and store a `T` whose copy (or other)
// constructor throws. `Vec` then gives the strong guarantee for that throw too: the elements it built are destroyed,
// a new block goes back to the allocator, the vector is as it was, and the exception goes on. The paths that do this
// are chosen at compile time by `kConstructionMayThrow`, which is false in code built without exceptions (the code
// there is what it was), and for element constructors that are `noexcept`.
//
// Glossary:
//   unwind guard  an object whose destructor undoes a partial operation unless the operation finished and
//                 dismissed it; during a throw, stack unwinding runs it, then the exception continues.
#pragma once

#include <type_traits>
#include <utility>

namespace nostd::internal {

/// True in code compiled with exceptions (`__cpp_exceptions`). A program that links files of both kinds gets one
/// definition of each inline container function both instantiate, as with the standard library's containers, so
/// the files that store a throwing `T` should be the only ones to instantiate its `Vec`.
#if defined(__cpp_exceptions)
inline constexpr bool kExceptions = true;
#else
inline constexpr bool kExceptions = false;
#endif

/// True when constructing a `T` from `Args` may throw an exception that reaches the container: only with exceptions
/// and a constructor that is not `noexcept`.
template <class T, class... Args>
inline constexpr bool kConstructionMayThrow = kExceptions && !std::is_nothrow_constructible_v<T, Args...>;

/// Runs `undo` when it goes out of scope, unless `dismiss()` was called first (see the file comment). `undo` must
/// not throw.
template <class Undo>
class UnwindGuard {
 public:
  /// A guard that will run `undo`.
  explicit UnwindGuard(Undo undo) noexcept : undo_(std::move(undo)) {}
  UnwindGuard(const UnwindGuard&) = delete;
  UnwindGuard& operator=(const UnwindGuard&) = delete;
  /// Runs `undo` unless dismissed.
  ~UnwindGuard() {
    if (armed_) undo_();
  }
  /// The operation finished: nothing to undo.
  void dismiss() noexcept { armed_ = false; }

 private:
  Undo undo_;
  bool armed_ = true;
};

}  // namespace nostd::internal
