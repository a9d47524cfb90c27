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

/// Safe unlinking for a nullptr-terminated list of FreeNodes whose head the caller cannot see: each neighbour of
/// `node` is either nullptr or passes `in_heap` (which vouches that it may be read) and points back at `node`.
/// `in_heap` runs before a neighbour is read, so a corrupted link is reported, never followed.
/// Precondition: `node` itself may be read (the caller vouched for it).
template <class InHeap>
inline bool free_node_links_intact(const FreeNode* node, InHeap&& in_heap) noexcept {
  const FreeNode* const next = node->next;
  const FreeNode* const prev = node->prev;
  if (next != nullptr && (!in_heap(next) || next->prev != node)) return false;
  return prev == nullptr || (in_heap(prev) && prev->next == node);
}

}  // namespace nostd::internal
