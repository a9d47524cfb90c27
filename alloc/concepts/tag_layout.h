// alloc/concepts/tag_layout.h — the TagLayout concept: how a block's size and state are stored.
//
// A block starts with a header word; its payload begins `kHeaderSize` bytes later. The heap core is written only
// against the accessors below, so the layouts (CompactTags, FullTags) differ only in what they store and where.
#pragma once

#include <concepts>
#include <cstddef>

#include "alloc/concepts/role.h"

namespace nostd {

/// A boundary-tag layout. Every accessor takes a block's start address (its header).
template <class T>
concept TagLayout = HasRole<T, role::Tags> &&
    requires(std::byte* block, const std::byte* cblock, std::size_t size, bool flag) {
  { T::kHeaderSize } -> std::convertible_to<std::size_t>;    // bytes from block start to payload
  { T::kUsedOverhead } -> std::convertible_to<std::size_t>;  // tag bytes a used block carries
  { T::kFreeTagBytes } -> std::convertible_to<std::size_t>;  // tag bytes a free block carries
  { T::kMaxBlockSize } -> std::convertible_to<std::size_t>;  // largest size a tag can hold
  { T::size(cblock) } -> std::same_as<std::size_t>;
  { T::used(cblock) } -> std::same_as<bool>;
  { T::prev_used(cblock) } -> std::same_as<bool>;
  { T::over_aligned(cblock) } -> std::same_as<bool>;
  { T::prev_free_size(cblock) } -> std::same_as<std::size_t>;
  { T::check(cblock) } -> std::same_as<const char*>;
  T::set_prev_used(block, flag);
  T::make_used(block, size, flag, flag);
  T::make_free(block, size);
  T::make_edges(block, block);
};

namespace internal {

/// Fails to compile with one line naming the first TagLayout requirement `T` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
template <class T>
consteval bool diagnose_tag_layout() {
  if constexpr (!HasRole<T, role::Tags>) {
    static_assert(dependent_false<T>, "TagLayout: missing `using policy_role = nostd::role::Tags;`");
  } else if constexpr (!requires {
                         T::kHeaderSize;
                         T::kUsedOverhead;
                         T::kMaxBlockSize;
                       }) {
    static_assert(dependent_false<T>, "TagLayout: missing kHeaderSize, kUsedOverhead or kMaxBlockSize");
  } else if constexpr (!requires(const std::byte* b) {
                         T::size(b);
                         T::used(b);
                         T::prev_used(b);
                         T::over_aligned(b);
                         T::prev_free_size(b);
                         T::check(b);
                       }) {
    static_assert(dependent_false<T>,
                  "TagLayout: missing a reader (size, used, prev_used, over_aligned, prev_free_size, check)");
  } else if constexpr (!TagLayout<T>) {
    static_assert(dependent_false<T>, "TagLayout: missing a writer (set_prev_used, make_used, make_free, make_edges)");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
