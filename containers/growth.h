// containers/growth.h — how Vec and String choose a new capacity when they run out of room.
//
// Growth factor 1.5, with a retry at the exact size:
//   * Geometric growth makes a sequence of n push_backs cost O(n) element moves in total (amortised O(1)).
//   * 1.5 rather than 2: on a free-list heap, with a factor below the golden ratio the blocks a vector freed
//     earlier eventually add up to more than its next request, so after coalescing a first-fit heap can serve
//     the next growth from memory the vector itself released; with 2 it never can (each new block is larger than
//     all previous ones together). It also wastes at most a third of a block instead of half, which matters on a
//     small embedded heap.
//   * Near a full heap the 1.5x request may fail where the exact size would fit, so a growth that fails is retried
//     once with exactly what the operation needs before the error is returned.
//   * A minimum first capacity avoids the 1 -> 2 -> 3 -> 4 sequence of tiny blocks, each paying a block header:
//     8 elements of size 1 (a String's first block is then 9 bytes with the NUL), 4 up to 256 bytes, else 1.
#pragma once

#include <algorithm>
#include <cstddef>

namespace nostd::internal {

/// The first capacity a container of elements of `element_size` bytes allocates (see the file comment).
constexpr std::size_t min_capacity(std::size_t element_size) noexcept {
  return element_size == 1 ? 8 : element_size <= 256 ? 4 : 1;
}

/// The capacity to ask for when a container of capacity `current` needs room for `required` elements:
/// `max(required, 1.5 * current, minimum)`, but never more than `max` (the largest capacity the container can
/// describe). Preconditions: `current < required <= max`, `max <= SIZE_MAX / 2` (so `current * 1.5` cannot wrap).
constexpr std::size_t grown_capacity(std::size_t current, std::size_t required, std::size_t minimum,
                                     std::size_t max) noexcept {
  const std::size_t grown = current + current / 2;
  return std::min(std::max({required, grown, minimum}), max);
}

}  // namespace nostd::internal
