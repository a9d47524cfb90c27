// platform/malloc/malloc_hook.h — the one place every malloc-family call of the drop-in passes through.
//
// Each exported function (malloc, free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign,
// valloc, pvalloc and every operator new/delete) ends by describing what it did in one MallocEvent and handing it
// to observe(). With no observer installed that costs one load and a predicted branch; malloc, free and operator
// new/delete test observing() first instead and, with nothing to observe, end in a tail call of the door. A tracer
// (record every call to a file, replay it in bench/) installs itself with set_malloc_observer() when the library
// initialises; see malloc_door.cc, `init`, for where an environment variable switches it on.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nostd::malloc_door {

/// Which entry point a call came through.
enum class MallocCall : std::uint8_t {
  kMalloc,
  kCalloc,
  kRealloc,
  kReallocArray,
  kFree,
  kPosixMemalign,
  kAlignedAlloc,
  kMemalign,
  kValloc,
  kPvalloc,
  kOperatorNew,     ///< Every form of operator new / new[] (plain, aligned, nothrow).
  kOperatorDelete,  ///< Every form of operator delete / delete[] (plain, sized, aligned, nothrow).
};

/// One completed call. For a free, `in` is the pointer freed and `out` is nullptr; for an allocation `in` is
/// nullptr (realloc: the old block) and `out` what the caller got (nullptr: the call failed).
struct MallocEvent {
  MallocCall call;    ///< The entry point.
  const void* in;     ///< Block passed in (free, realloc), else nullptr.
  std::size_t size;   ///< Bytes requested (calloc, reallocarray: the product); 0 for a free.
  std::size_t align;  ///< Alignment requested (16 when the call has none).
  const void* out;    ///< Block returned, else nullptr.
};

/// An observer of every call. Runs on the calling thread after the call completed, with no allocator lock held.
/// It must not call malloc itself unless it guards against the recursion (it would observe its own calls).
using MallocObserver = void (*)(const MallocEvent& event) noexcept;

namespace internal {
/// The observer until the drop-in has started: it observes nothing, but it is not nullptr, so that every call before
/// then takes the observed path (observing()) and the call that starts the drop-in, which installs the recorder, is
/// recorded by it.
inline void observer_not_started(const MallocEvent& /*event*/) noexcept {}
/// The installed observer (nullptr: none). An atomic so that installing it races with nothing.
inline std::atomic<MallocObserver> g_observer{&observer_not_started};
}  // namespace internal

/// Installs `observer` (nullptr removes it). Thread-safe; calls already running may still see the old one. The drop-in
/// installs its own (the recorder's, or nullptr) when it starts.
inline void set_malloc_observer(MallocObserver observer) noexcept {
  internal::g_observer.store(observer, std::memory_order_release);
}

/// True while calls must end in observe(): an observer is installed, or the drop-in has not started yet. An entry
/// point tests this first and, when false, tail-calls the door: with observe() after the call, malloc and free each
/// kept a frame (saved registers, a return through it) on every call (cachegrind, churn_bench: 12 instructions per
/// malloc, 8 per free).
inline bool observing() noexcept { return internal::g_observer.load(std::memory_order_acquire) != nullptr; }

/// The hook: every exported call ends here, with the fields of its MallocEvent. Inlined into each entry point. The
/// event is built only when an observer is installed: built before the test, as an argument, it cost every call five
/// stores to the stack (GCC does not sink them into the branch).
inline void observe(MallocCall call, const void* in, std::size_t size, std::size_t align, const void* out) noexcept {
  if (const MallocObserver observer = internal::g_observer.load(std::memory_order_acquire)) [[unlikely]] {
    const MallocEvent event{call, in, size, align, out};
    observer(event);
  }
}

}  // namespace nostd::malloc_door
