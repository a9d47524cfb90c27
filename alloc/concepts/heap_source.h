// alloc/concepts/heap_source.h — the HeapSource concept: where a heap's memory comes from.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "alloc/concepts/role.h"

namespace nostd {

/// A source of heap memory. `acquire()` hands the heap its initial region once, on first use; an empty span
/// means none could be had (every allocation then fails with kOutOfMemory; a source that sets `kRetriesAcquire` is
/// asked again at the heap's next operation, internal::kRetryingSource). A source that also takes regions
/// from the caller (`BasicHeap(std::span<std::byte>)`, `add_region`) sets `kAcceptsRegions`; the heap then checks
/// every region it gets, `acquire()`'s too, as caller memory, which must not overlap the heap object (a source that
/// holds its memory in itself, as StaticArraySource does, leaves `kAcceptsRegions` false). A source that can
/// hand over its region inside a constant expression's object (StaticArraySource) makes the heap `constinit`.
template <class S>
concept HeapSource = HasRole<S, role::Source> && requires(S& source) {
  { source.acquire() } -> std::same_as<std::span<std::byte>>;
  { S::kAcceptsRegions } -> std::convertible_to<bool>;
};

namespace internal {

/// The size of a source's memory when the source knows it at compile time (`static constexpr std::size_t
/// kBytes`, as StaticArraySource and MmapSource have), else 0. A fit policy may size its index to it, so it is 0 for a
/// source that also accepts regions from the caller (`kAcceptsRegions`), whose regions `kBytes` does not bound.
template <class S>
inline constexpr std::size_t kSourceBytes = 0;
template <class S>
requires requires {
  { S::kBytes } -> std::convertible_to<std::size_t>;
} &&(!S::kAcceptsRegions) inline constexpr std::size_t kSourceBytes<S> = S::kBytes;

/// True when a source promises that every region it gives the heap, `acquire()`'s and each one added later, is memory
/// nobody has written, all zero, as a fresh anonymous mapping is: `static constexpr bool kZeroedMemory = true`
/// (MmapSource, the drop-in malloc's chunks). BasicHeap::allocate_zeroed then leaves the bytes the heap never handed
/// out as they are. StaticArraySource does not promise it: a heap object on the stack holds whatever was there.
template <class S>
inline constexpr bool kZeroedSource = false;
template <class S>
requires requires {
  { S::kZeroedMemory } -> std::convertible_to<bool>;
}
inline constexpr bool kZeroedSource<S> = S::kZeroedMemory;

/// True when a source's refusal may be temporary, so that the heap asks again: `static constexpr bool
/// kRetriesAcquire = true` (MmapSource: an address-space limit or strict overcommit can refuse a mapping that a later
/// call gets). While `acquire()` hands over nothing, the heap stays as it was before its first use, and its next
/// operation calls `acquire()` again, as malloc asks the kernel again on each call; once a region came, never again.
/// Other sources are asked once: an empty span leaves the heap empty for good (a board's memory does not appear).
template <class S>
inline constexpr bool kRetryingSource = false;
template <class S>
requires requires {
  { S::kRetriesAcquire } -> std::convertible_to<bool>;
}
inline constexpr bool kRetryingSource<S> = S::kRetriesAcquire;

/// True when a source that takes regions (`kAcceptsRegions`) can also say where the span holding a pointer begins:
/// `const std::byte* region_start(const void* p) const noexcept`, the start of the span given to the heap's
/// `add_region` (or its constructor) that holds `p`, or nullptr when it cannot tell. A heap of many regions then finds
/// a pointer's region in O(1) instead of walking its list of regions (the drop-in malloc's arenas, a region per chunk:
/// platform/malloc/chunk_region_source.h). The answer must name a span this heap was given and still holds, or
/// nullptr: the heap reads the region header there.
template <class S>
inline constexpr bool kLocatesRegions = false;
template <class S>
requires requires(const S& source, const void* p) {
  { source.region_start(p) } -> std::same_as<const std::byte*>;
} && S::kAcceptsRegions inline constexpr bool kLocatesRegions<S> = true;

/// Fails to compile with one line naming the first HeapSource requirement `S` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
template <class S>
consteval bool diagnose_heap_source() {
  if constexpr (!HasRole<S, role::Source>) {
    static_assert(dependent_false<S>, "HeapSource: missing `using policy_role = nostd::role::Source;`");
  } else if constexpr (!requires(S & source) {
                         { source.acquire() } -> std::same_as<std::span<std::byte>>;
                       }) {
    static_assert(dependent_false<S>, "HeapSource: missing `std::span<std::byte> acquire()`");
  } else if constexpr (!HeapSource<S>) {
    static_assert(dependent_false<S>, "HeapSource: missing `static constexpr bool kAcceptsRegions`");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
