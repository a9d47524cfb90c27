// alloc/internal/free_node.h — the links a free block carries in its payload, shared by every fit policy.
#pragma once

#include <cstddef>

namespace nostd::internal {

/// Doubly-linked list links stored at the payload address of a free block. A list ends in nullptr at both ends,
/// so unlinking is O(1) without a sentinel (a sentinel would need memory outside the heap's blocks).
struct FreeNode {
  FreeNode* next;
  FreeNode* prev;
};

}  // namespace nostd::internal

namespace nostd::internal {

/// The size of the free block whose links are `node` (the links sit at the block's payload).
template <class Tags>
inline std::size_t node_block_size(const FreeNode* node) noexcept {
  return Tags::size(reinterpret_cast<const std::byte*>(node) - Tags::kHeaderSize);
}

}  // namespace nostd::internal
