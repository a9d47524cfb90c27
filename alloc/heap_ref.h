// alloc/heap_ref.h — allocator handles that let containers use a heap they do not own.
//
//   HeapRef<Heap>            one pointer to any heap; copies share the heap. The general-purpose handle.
//   StaticHeapRef<kHeap>     no storage at all: the heap is a template argument, so it must have static storage
//                            duration. With `[[no_unique_address]]` a `Vec` using it is three words.
//
// Both forward `allocate` and `deallocate`, and forward `reallocate` / `usable_size` only when the heap has them
// (a capability the heap lacks is absent from the handle, never stubbed), so containers detect them through
// `HasReallocate` / `HasUsableSize` (alloc/allocator.h).
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

#include "alloc/allocator.h"
#include "alloc/error.h"
#include "alloc/layout.h"

namespace nostd {

/// What a handle needs from the heap it refers to: `allocate(Layout) -> Result<void*>` and
/// `deallocate(void*, Layout)` — `BasicHeap` and any heap with the same two calls.
template <class H>
concept RawHeap = requires(H& heap, void* ptr, Layout layout) {
  { heap.allocate(layout) } -> std::same_as<Result<void*>>;
  heap.deallocate(ptr, layout);
};

/// A heap with `reallocate(void*, std::size_t new_size) -> Result<void*>` that keeps the block's alignment and
/// leaves the old block untouched on failure (BasicHeap's contract).
template <class H>
concept RawHeapWithReallocate = RawHeap<H> && requires(H& heap, void* ptr, std::size_t size) {
  { heap.reallocate(ptr, size) } -> std::same_as<Result<void*>>;
};

/// A heap with `usable_size(const void*) -> std::size_t`, at least the size the block was allocated with.
template <class H>
concept RawHeapWithUsableSize = RawHeap<H> && requires(const H& heap, const void* ptr) {
  { heap.usable_size(ptr) } -> std::convertible_to<std::size_t>;
};

/// A pointer-sized allocator handle to `heap`; copies refer to the same heap, which must outlive every container
/// using the handle. Thread safety is the heap's (its lock policy).
template <RawHeap Heap>
class HeapRef {
 public:
  /// A handle to `heap`. Stores its address only.
  constexpr explicit HeapRef(Heap& heap) noexcept : heap_(&heap) {}

  /// Forwards to `Heap::allocate(layout)`.
  [[nodiscard]] Result<void*> allocate(Layout layout) const { return heap_->allocate(layout); }

  /// Forwards to `Heap::deallocate(ptr, layout)`. `ptr` must come from this heap (nullptr is a no-op).
  void deallocate(void* ptr, Layout layout) const { heap_->deallocate(ptr, layout); }

  /// Forwards to `Heap::reallocate(ptr, new_size)`: in place when the heap can, the old block kept on failure.
  /// `old_layout` is not needed by such a heap (it knows its block sizes and keeps the alignment).
  [[nodiscard]] Result<void*> reallocate(void* ptr, Layout old_layout,
                                         std::size_t new_size) const requires RawHeapWithReallocate<Heap> {
    static_cast<void>(old_layout);
    return heap_->reallocate(ptr, new_size);
  }

  /// Forwards to `Heap::usable_size(ptr)`.
  std::size_t usable_size(const void* ptr) const requires RawHeapWithUsableSize<Heap> {
    return heap_->usable_size(ptr);
  }

  /// The heap this handle refers to.
  constexpr Heap& heap() const noexcept { return *heap_; }

  /// Handles are equal when they refer to the same heap (memory from one can be freed through the other).
  friend constexpr bool operator==(const HeapRef&, const HeapRef&) noexcept = default;

 private:
  Heap* heap_;
};

/// A stateless allocator handle to `kHeap`, a heap with static storage duration (a global, a `static` member or
/// a function-local `static`). Empty: stored with `[[no_unique_address]]` it adds nothing to a container.
template <auto& kHeap>
requires RawHeap<std::remove_reference_t<decltype(kHeap)>>
class StaticHeapRef {
 public:
  /// The heap type.
  using Heap = std::remove_reference_t<decltype(kHeap)>;

  /// Forwards to `kHeap.allocate(layout)`.
  [[nodiscard]] Result<void*> allocate(Layout layout) const { return kHeap.allocate(layout); }

  /// Forwards to `kHeap.deallocate(ptr, layout)`.
  void deallocate(void* ptr, Layout layout) const { kHeap.deallocate(ptr, layout); }

  /// Forwards to `kHeap.reallocate(ptr, new_size)` (see `HeapRef::reallocate`).
  [[nodiscard]] Result<void*> reallocate(void* ptr, Layout old_layout,
                                         std::size_t new_size) const requires RawHeapWithReallocate<Heap> {
    static_cast<void>(old_layout);
    return kHeap.reallocate(ptr, new_size);
  }

  /// Forwards to `kHeap.usable_size(ptr)`.
  std::size_t usable_size(const void* ptr) const requires RawHeapWithUsableSize<Heap> { return kHeap.usable_size(ptr); }

  /// The heap this handle refers to.
  static constexpr Heap& heap() noexcept { return kHeap; }

  /// All handles to one heap are equal.
  friend constexpr bool operator==(StaticHeapRef, StaticHeapRef) noexcept { return true; }
};

}  // namespace nostd
