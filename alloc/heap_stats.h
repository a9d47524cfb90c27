// alloc/heap_stats.h — HeapStats: a snapshot of a heap's usage counters.
#pragma once

#include <cstddef>

namespace nostd {

/// Usage figures of one heap, taken under its lock. Byte figures count payload bytes (what callers can use);
/// `capacity == bytes_in_use + bytes_free + overhead_bytes` always holds. `largest_free_block` is the largest
/// allocation at the default alignment that a fit searching every block (FirstFit, NextFit, BestFit) serves now;
/// SegregatedFit refuses it when that block is not the head of its list and no larger list holds a block (good fit's
/// limit, alloc/fit/segregated_fit.h), unless the block is on a last list it walks (kLastListUnbounded). 0 when the
/// largest free block holds no byte of payload, and also when it cannot serve even `allocate(0)`: from DebugChecks up,
/// with 4-byte full tags (FullTags on Cortex-M and bare-metal rv32), a minimum block (16 B) is smaller than any used
/// block (tags, check trailer and canary: 17 B, rounded up to the granule). `bytes_free` counts such a block as 0.
struct HeapStats {
  std::size_t capacity = 0;            ///< Bytes of all blocks in all regions (excludes region headers/edges).
  std::size_t bytes_in_use = 0;        ///< Σ usable_size over live blocks (>= the sizes requested).
  std::size_t bytes_free = 0;          ///< Payload the free blocks could serve: each less a used block's tags, >= 0.
  std::size_t overhead_bytes = 0;      ///< Tags and alignment records: capacity - bytes_in_use - bytes_free.
  std::size_t largest_free_block = 0;  ///< Payload of the largest free or cached block (see above: not every fit).
  std::size_t peak_bytes_in_use = 0;   ///< Highest `bytes_in_use` seen.
  std::size_t live_allocations = 0;    ///< Blocks allocated and not yet freed.
  std::size_t free_blocks = 0;         ///< Blocks on the free index.
  std::size_t cached_blocks = 0;       ///< Freed blocks a cache policy keeps aside (in bytes_free, not free_blocks).
  std::size_t cached_bytes = 0;        ///< Payload the cached blocks could serve (part of bytes_free).
  std::size_t total_allocations = 0;   ///< Successful allocations (a reallocate that moves counts as one, plus a free).
  std::size_t total_frees = 0;         ///< Blocks freed.
  std::size_t failed_allocations = 0;  ///< Allocations (and growing reallocations) that failed.

  /// External fragmentation: `1 - largest_free_block / bytes_free` (0 when all free memory is one block, or none
  /// is free; near 1 when free memory is scattered in small blocks).
  constexpr double fragmentation() const noexcept {
    if (bytes_free == 0) return 0.0;
    return 1.0 - static_cast<double>(largest_free_block) / static_cast<double>(bytes_free);
  }

  /// Every figure equal (a refused call, which must leave the heap as it was, leaves its stats equal).
  friend constexpr bool operator==(const HeapStats&, const HeapStats&) noexcept = default;
};

}  // namespace nostd
