// tests/fault_allocator.h — an allocator wrapper that fails on demand, for the containers' strong-guarantee tests.
//
//   FaultInjector<Heap>   owns the plan (which attempts fail) and counts attempts; refers to the heap.
//   FaultyAlloc<Heap, C>  the Allocator handle containers get: one pointer to an injector. `C` picks which
//                         optional abilities it exposes (kReallocate, kUsableSize), so one heap can test every
//                         container path: with reallocate and usable_size, and with neither.
// An *attempt* is a call to `allocate` or `reallocate`; `deallocate` and `usable_size` never fail.
#pragma once

#include <cstddef>

#include "alloc/allocator.h"
#include "alloc/error.h"
#include "alloc/heap_ref.h"
#include "alloc/layout.h"

namespace nostd::test {

/// Which attempts fail, and how many attempts there were.
class FaultPlan {
 public:
  /// The next `successes` attempts succeed; every later one fails (until the plan changes).
  void fail_after(std::size_t successes) noexcept {
    mode_ = Mode::kAfter;
    remaining_ = successes;
  }
  /// Only the `n`-th attempt from now (1-based) fails.
  void fail_nth(std::size_t n) noexcept {
    mode_ = Mode::kNth;
    remaining_ = n;
  }
  /// No attempt fails.
  void never_fail() noexcept { mode_ = Mode::kNever; }

  /// Records one attempt and says whether it must fail.
  bool next_attempt_fails() noexcept {
    switch (mode_) {
      case Mode::kNever:
        return false;
      case Mode::kAfter:
        if (remaining_ == 0) return true;
        --remaining_;
        return false;
      case Mode::kNth:
        if (remaining_ == 0) return false;
        return --remaining_ == 0;
    }
    return false;
  }

 private:
  enum class Mode { kNever, kAfter, kNth };
  Mode mode_ = Mode::kNever;
  std::size_t remaining_ = 0;
};

/// A fault plan bound to a heap, with attempt counters.
template <class Heap>
class FaultInjector : public FaultPlan {
 public:
  /// An injector in front of `heap` that fails nothing until told to.
  explicit FaultInjector(Heap& heap) noexcept : heap_(&heap) {}

  /// The heap behind the injector (for validate() and stats()).
  Heap& heap() const noexcept { return *heap_; }
  /// `allocate` calls so far.
  std::size_t allocate_calls = 0;
  /// `reallocate` calls so far.
  std::size_t reallocate_calls = 0;
  /// Attempts failed on purpose so far.
  std::size_t injected_failures = 0;
  /// Resets the counters.
  void reset_counts() noexcept { allocate_calls = reallocate_calls = injected_failures = 0; }

 private:
  Heap* heap_;
};

/// Abilities a `FaultyAlloc` exposes besides allocate/deallocate.
enum Capability : unsigned { kReallocate = 1, kUsableSize = 2 };
/// Both optional abilities.
inline constexpr unsigned kAllCapabilities = kReallocate | kUsableSize;
/// Neither: containers must fall back to allocate + move + deallocate and count exact capacities.
inline constexpr unsigned kNoCapabilities = 0;

/// An Allocator over `Heap` that fails the attempts its injector's plan says; `kCaps` selects the optional
/// abilities it forwards.
template <class Heap, unsigned kCaps = kAllCapabilities>
class FaultyAlloc {
 public:
  /// A handle to `injector` (which must outlive it).
  explicit FaultyAlloc(FaultInjector<Heap>& injector) noexcept : injector_(&injector) {}

  /// Fails with kOutOfMemory when the plan says so, else forwards to the heap.
  [[nodiscard]] Result<void*> allocate(Layout layout) const {
    ++injector_->allocate_calls;
    if (injector_->next_attempt_fails()) {
      ++injector_->injected_failures;
      return fail(AllocError::kOutOfMemory);
    }
    return injector_->heap().allocate(layout);
  }

  /// Forwards to the heap; never fails.
  void deallocate(void* ptr, Layout layout) const { injector_->heap().deallocate(ptr, layout); }

  /// Fails with kOutOfMemory when the plan says so (the block untouched), else forwards to the heap.
  [[nodiscard]] Result<void*> reallocate(void* ptr, Layout old_layout, std::size_t new_size) const
      requires((kCaps & kReallocate) != 0 && RawHeapWithReallocate<Heap>) {
    static_cast<void>(old_layout);
    ++injector_->reallocate_calls;
    if (injector_->next_attempt_fails()) {
      ++injector_->injected_failures;
      return fail(AllocError::kOutOfMemory);
    }
    return injector_->heap().reallocate(ptr, new_size);
  }

  /// Forwards to the heap.
  std::size_t usable_size(const void* ptr) const requires((kCaps & kUsableSize) != 0 && RawHeapWithUsableSize<Heap>) {
    return injector_->heap().usable_size(ptr);
  }

  /// The injector behind this handle.
  FaultInjector<Heap>& injector() const noexcept { return *injector_; }
  /// The heap behind this handle.
  Heap& heap() const noexcept { return injector_->heap(); }

  /// Handles are equal when they share an injector.
  friend bool operator==(const FaultyAlloc&, const FaultyAlloc&) noexcept = default;

 private:
  FaultInjector<Heap>* injector_;
};

}  // namespace nostd::test
