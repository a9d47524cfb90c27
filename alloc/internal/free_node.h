// alloc/internal/free_node.h — the links a free block carries in its payload, shared by every fit policy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/internal/optimize.h"

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

/// The `next` half of safe unlinking, shared by every index: true when `node` has no next, or when its next passes
/// `in_heap` (before it is read) and points back at `node`. Whether a free block has a successor on its list is data
/// the heap's churn makes random, so this does not branch on it: without a next, `in_heap` and the read go to `node`
/// itself and a mask makes the answer true. Branching on it cost `SegregatedFit<>` with BasicChecks 0.39 mispredicted
/// branches per allocate + free on workload e (callgrind's branch simulation, `op_count seg/compact e 10`) for 18
/// instructions fewer; docs/segregated_fit_log.md, issue 11's BasicChecks bullet, has the times. The branch left, on
/// `in_heap`, fails only on a corrupted link. Size builds (-Os) keep the branch. Precondition: `node` may be read. The
/// core passes the links of a free block, which pass `in_heap` unless the heap is already corrupt; a `node` that does
/// not (a forged one with no successor) gets false here in speed builds, and true from the size builds' form.
template <class InHeap>
NOSTD_HOT inline bool next_link_intact(const FreeNode* node, InHeap&& in_heap) noexcept {
  const FreeNode* const next = node->next;
  if constexpr (kOptimizingForSize) {
    // The branch is smaller: 12-16 bytes of Cortex-M4 .text per BasicChecks row of the footprint report.
    return next == nullptr || (in_heap(next) && next->prev == node);
  } else {
    const bool has_next = next != nullptr;
    const FreeNode* const probe = has_next ? next : node;
    if (!in_heap(probe)) return false;
    // Arithmetic, not `!has_next || probe->prev == node`: GCC compiled that, and a select between the two answers,
    // back into the branch.
    const auto differs = reinterpret_cast<std::uintptr_t>(probe->prev) ^ reinterpret_cast<std::uintptr_t>(node);
    return (differs & (std::uintptr_t{0} - std::uintptr_t{has_next})) == 0;
  }
}

/// Safe unlinking for a nullptr-terminated list of FreeNodes whose head the caller cannot see: each neighbour of
/// `node` is either nullptr or passes `in_heap` (which vouches that it may be read) and points back at `node`.
/// `in_heap` runs before a neighbour is read, so a corrupted link is reported, never followed.
/// Precondition: `node` itself may be read (the caller vouched for it); see next_link_intact for one outside the heap.
template <class InHeap>
inline bool free_node_links_intact(const FreeNode* node, InHeap&& in_heap) noexcept {
  const FreeNode* const prev = node->prev;
  if (!next_link_intact(node, in_heap)) return false;
  return prev == nullptr || (in_heap(prev) && prev->next == node);
}

}  // namespace nostd::internal
