// alloc/adapt/std_allocator.h — StdAllocator<T, Heap>: a nostd heap behind the C++ standard library's Allocator
// interface, so `std::vector`, `std::map`, `std::basic_string`, `std::allocate_shared` and every other
// allocator-aware type can live on it.
//
//   using Alloc = nostd::StdAllocator<int, Heap>;
//   std::vector<int, Alloc> v{Alloc(g_heap)};           // or v(g_heap): the heap converts to the allocator
//
// An allocator is one pointer to its heap. Two allocators are equal when they point to the same heap (memory from
// one can be freed by the other), whatever their element types. Containers *propagate* the allocator on copy
// assignment, move assignment and swap: a container assigned from another moves to the other's heap. That keeps
// move assignment and swap O(1) and non-allocating between containers on different heaps (the alternative,
// std::pmr's rule of never propagating, pins a container to one heap but turns such a move into an element-wise
// copy that can run out of memory). Use `std::pmr` containers over `HeapResource` for pinned containers.
//
// An exhausted heap cannot be reported through `allocate(n)`, which returns a pointer: the allocator calls its
// out-of-memory handler (alloc/adapt/out_of_memory.h), by default `DefaultOutOfMemory`, which throws
// `std::bad_alloc` when exceptions are on and calls `std::abort()` when they are off.
#pragma once

#include <cstddef>
#include <limits>
#include <type_traits>

#include "alloc/adapt/out_of_memory.h"
#include "alloc/error.h"
#include "alloc/heap_ref.h"
#include "alloc/layout.h"

namespace nostd {

/// A standard C++ Allocator of `T` over the nostd heap `Heap` (any heap with `allocate(Layout) -> Result<void*>`
/// and `deallocate(void*, Layout)`, e.g. any BasicHeap). Holds a pointer to the heap, which must outlive every
/// object allocated through it; thread safety is the heap's lock policy. `OnOutOfMemory` is called, and must not
/// return, when the heap cannot serve a request.
template <class T, RawHeap Heap, OutOfMemoryHandler OnOutOfMemory = DefaultOutOfMemory>
class StdAllocator {
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T> && !std::is_reference_v<T> && std::is_object_v<T>,
                "StdAllocator: T must be a non-const, non-volatile object type (as for std::allocator)");

 public:
  /// The element type.
  using value_type = T;
  /// Element counts.
  using size_type = std::size_t;
  /// Pointer differences.
  using difference_type = std::ptrdiff_t;
  /// The heap type.
  using heap_type = Heap;
  /// Copy assignment of a container copies the source's allocator: the container moves to the source's heap.
  using propagate_on_container_copy_assignment = std::true_type;
  /// Move assignment of a container takes the source's allocator, so it never reallocates (see the file comment).
  using propagate_on_container_move_assignment = std::true_type;
  /// Swapping containers swaps their allocators (and heaps); O(1) also for containers on different heaps.
  using propagate_on_container_swap = std::true_type;
  /// Allocators of different heaps are not interchangeable.
  using is_always_equal = std::false_type;

  /// The same allocator for another element type (std::allocator_traits finds it; spelt out for clarity).
  template <class U>
  struct rebind {
    /// An allocator of `U` over the same heap type and out-of-memory handler.
    using other = StdAllocator<U, Heap, OnOutOfMemory>;
  };

  /// An allocator over `heap`. Implicit, as `std::pmr::polymorphic_allocator`'s from a resource is, so
  /// `std::vector<int, StdAllocator<int, Heap>> v(heap);` reads naturally.
  constexpr StdAllocator(Heap& heap) noexcept : heap_(&heap) {}  // NOLINT(google-explicit-constructor)

  /// The allocator of another element type over the same heap (the rebind conversion containers use).
  template <class U>
  constexpr StdAllocator(const StdAllocator<U, Heap, OnOutOfMemory>& rebound_from) noexcept  // NOLINT
      : heap_(&rebound_from.heap()) {}

  /// Storage for `n` objects of `T`, aligned to `alignof(T)` (over-aligned types included, up to the heap's
  /// maximum alignment); the objects are not constructed. `n == 0` returns a unique block that must be freed like
  /// any other. When the heap cannot serve it, or `n` exceeds `max_size()`, calls `OnOutOfMemory` (never returns
  /// nullptr). Complexity: the heap's allocate.
  [[nodiscard]] T* allocate(std::size_t n) {
    const Result<Layout> layout = Layout::array<T>(n);
    if (!layout || n > max_size()) {
      internal::report_out_of_memory<OnOutOfMemory>(
          OutOfMemory{AllocError::kSizeOverflow, OutOfMemory::kOverflowedBytes, alignof(T)});
    }
    Result<void*> block = heap_->allocate(*layout);
    if (!block) internal::report_out_of_memory<OnOutOfMemory>(OutOfMemory{block.error(), layout->size(), alignof(T)});
    return static_cast<T*>(*block);
  }

  /// Frees storage `allocate(n)` returned, with the same `n`. Misuse (a pointer from another heap, a double free)
  /// goes to the heap's check policy. O(1) plus the check for a BasicHeap.
  void deallocate(T* ptr, std::size_t n) noexcept {
    // Valid when `n` is what allocate(n) took (a heap below DebugChecks ignores it); otherwise Layout::unfit, which
    // DebugChecks reports.
    const Result<Layout> layout = Layout::array<T>(n);
    heap_->deallocate(ptr, layout ? *layout : Layout::unfit());
  }

  /// The largest `n` that `allocate(n)` can be asked for: the byte count must fit in `std::ptrdiff_t`, so that
  /// pointer differences inside the block are defined. The heap's free memory limits real requests far earlier.
  static constexpr std::size_t max_size() noexcept {
    return static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(T);
  }

  /// The heap this allocator draws from.
  constexpr Heap& heap() const noexcept { return *heap_; }

  /// Equal when both draw from the same heap (memory allocated by one can be freed by the other), for any element
  /// types.
  template <class U>
  constexpr bool operator==(const StdAllocator<U, Heap, OnOutOfMemory>& other) const noexcept {
    return heap_ == &other.heap();
  }

 private:
  Heap* heap_;
};

}  // namespace nostd
