// alloc/allocator.h — the `Allocator` concept: what a container needs from the memory it grows into.
//
// An allocator here is a small copyable *handle* (HeapRef, StaticHeapRef, a test wrapper), not the heap itself: a
// container stores one and copies it into clones. Two abilities are optional and detected with concepts:
//   HasReallocate<A>  `reallocate(p, old_layout, new_size)`: resize a block, in place when the allocator can.
//   HasUsableSize<A>  `usable_size(p)`: how many bytes the block really has (>= what was asked), so a container
//                     can count the slack of a block as capacity instead of reallocating into it.
// A container uses them when present and falls back to allocate + copy + deallocate when not.
//
// Glossary: a layout *fits* a block when its alignment is the one the block was allocated with and its size lies
// between the size requested and `usable_size` of the block (Rust's allocator_api uses the same rule). Every
// `deallocate` and `reallocate` receives a layout that fits.
#pragma once

#include <concepts>
#include <cstddef>

#include "alloc/concepts/role.h"
#include "alloc/error.h"
#include "alloc/layout.h"

namespace nostd {

/// What a container needs: a copyable handle with `allocate(Layout) -> Result<void*>` and
/// `deallocate(void*, Layout)`. `allocate` returns a block of at least `layout.size()` bytes aligned to
/// `layout.align()`, or an error and no block; `deallocate` takes a pointer `allocate` returned with a layout that
/// fits it (see the file comment). Copies of a handle must refer to the same memory.
template <class A>
concept Allocator = std::copy_constructible<A> && requires(A& a, void* ptr, Layout layout) {
  { a.allocate(layout) } -> std::same_as<Result<void*>>;
  a.deallocate(ptr, layout);
};

/// An `Allocator` that can resize a block: `reallocate(p, old_layout, new_size) -> Result<void*>` returns a block of
/// at least `new_size` bytes with `old_layout.align()` alignment holding the first `min(old, new)` bytes of the
/// old one (the same pointer when it resized in place); on failure the old block is untouched and still owned.
template <class A>
concept HasReallocate = Allocator<A> && requires(A& a, void* ptr, Layout layout, std::size_t new_size) {
  { a.reallocate(ptr, layout, new_size) } -> std::same_as<Result<void*>>;
};

/// An `Allocator` that reports the real size of a block: `usable_size(p) >= ` the size it was allocated with.
template <class A>
concept HasUsableSize = Allocator<A> && requires(const A& a, const void* ptr) {
  { a.usable_size(ptr) } -> std::convertible_to<std::size_t>;
};

namespace internal {

/// Fails to compile with one line naming the first Allocator requirement `A` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
/// Use as `static_assert(internal::diagnose_allocator<A>());` at the top of a class template.
template <class A>
consteval bool diagnose_allocator() {
  if constexpr (!std::copy_constructible<A>) {
    static_assert(dependent_false<A>, "Allocator: must be copy constructible (pass a handle such as HeapRef)");
  } else if constexpr (!requires(A & a, Layout layout) {
                         { a.allocate(layout) } -> std::same_as<Result<void*>>;
                       }) {
    static_assert(dependent_false<A>, "Allocator: missing `Result<void*> allocate(Layout)`");
  } else if constexpr (!requires(A & a, void* ptr, Layout layout) { a.deallocate(ptr, layout); }) {
    static_assert(dependent_false<A>, "Allocator: missing `void deallocate(void*, Layout)`");
  } else if constexpr (!Allocator<A>) {
    static_assert(dependent_false<A>, "Allocator: does not satisfy `Allocator` (alloc/allocator.h)");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
