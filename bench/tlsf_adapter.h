// bench/tlsf_adapter.h — TLSF (mattconte/tlsf 3.1, third_party/ext_alloc) as a fit-comparison allocator, in the
// opt-in //bench:fit_compare_ext, //bench:op_count_ext and //bench:scaling_bench_ext.
//
// Two-level segregated fit: 32 linear size classes per power of two, a bitmap search for the first non-empty class
// at or above the request's (rounded up to its class, so a request never takes a list that might be too small),
// immediate coalescing, an 8-byte size word per used block. On 64-bit its blocks are 8-byte aligned
// (ALIGN_SIZE): allocate() returns 8-aligned pointers, where the nostd heaps and glibc return 16-aligned ones.
//
// The adapter reports every optional figure, free_space() through TLSF's public pool walker; for scaling_bench it
// also counts the free blocks and says beforehand whether TLSF can take an arena (refusal()).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "alloc/layout.h"
#include "bench/bench_allocator.h"

// The sources are not part of the repository: ext_alloc_sources.h stops the build with one #error when they are
// missing, and this adapter then declares nothing.
#include "bench/ext_alloc_sources.h"
#ifndef NOSTD_BENCH_TLSF_MISSING
#include "tlsf.h"

namespace nostd::bench {

/// TLSF with one pool over the arena the comparison hands it, behind the BenchAllocator interface.
class TlsfAdapter {
 public:
  /// Why TLSF cannot take `arena`, in one line, or nullptr when it can: the arena is too small for the control
  /// structure and one block larger than the minimum (a pool of exactly one minimum block, which TLSF would take,
  /// is refused too: on the safe side, and no arena of the grid comes near), or the pool after the control structure
  /// reaches tlsf_block_size_max() (2^FL_INDEX_MAX bytes: 4 GiB on 64-bit). tlsf_add_pool refuses a pool above it
  /// (printing to stdout), and a free block of exactly that size would map to a first-level index one past TLSF's table
  /// (mapping_insert), so that is out too.
  static const char* refusal(std::span<const std::byte> arena) {
    const std::size_t pad = pad_of(arena.data());
    if (arena.size() <= pad + tlsf_size() + tlsf_pool_overhead() + tlsf_block_size_min()) {
      return "too small for TLSF's control structure and one block";
    }
    const std::size_t a = tlsf_align_size();
    if (((arena.size() - pad - tlsf_size() - tlsf_pool_overhead()) & ~(a - 1)) >= tlsf_block_size_max()) {
      return "its pool would reach tlsf_block_size_max() (4 GiB on 64-bit), the largest block TLSF can file";
    }
    return nullptr;
  }

  /// tlsf_create_with_pool over `arena` (start rounded up to tlsf_align_size()), done as its two steps,
  /// tlsf_create then tlsf_add_pool after the control structure, so that a refused pool is noticed. Aborts when
  /// TLSF refuses the arena (refusal() says beforehand whether it will).
  explicit TlsfAdapter(std::span<std::byte> arena) : base_(reinterpret_cast<std::uintptr_t>(arena.data())) {
    if (const char* why = refusal(arena)) {
      std::fprintf(stderr, "TlsfAdapter: TLSF cannot take an arena of %zu bytes: %s\n", arena.size(), why);
      std::abort();
    }
    const std::size_t pad = pad_of(arena.data());
    void* mem = arena.data() + pad;
    tlsf_ = tlsf_create(mem);
    if (tlsf_ != nullptr) {
      pool_ = tlsf_add_pool(tlsf_, static_cast<char*>(mem) + tlsf_size(), arena.size() - pad - tlsf_size());
    }
    if (tlsf_ == nullptr || pool_ == nullptr) {
      std::fprintf(stderr, "TlsfAdapter: TLSF refused an arena of %zu bytes\n", arena.size());
      std::abort();
    }
  }

  /// tlsf_malloc (8-byte aligned). A zero-byte request asks for one byte, as malloc(0) gets a unique pointer from
  /// glibc (tlsf_malloc returns NULL for 0).
  void* allocate(std::size_t size) { return tlsf_malloc(tlsf_, size == 0 ? 1 : size); }
  /// tlsf_memalign.
  void* allocate_aligned(std::size_t size, std::size_t align) {
    return tlsf_memalign(tlsf_, align, size == 0 ? 1 : size);
  }
  /// tlsf_realloc: grows or shrinks in place when it can, else allocate, copy, free; on failure returns nullptr and
  /// leaves p untouched. (A zero new size would free p there; it asks for one byte instead.)
  void* reallocate(void* p, std::size_t, std::size_t new_size, std::size_t = 0) {
    return tlsf_realloc(tlsf_, p, new_size == 0 ? 1 : new_size);
  }
  /// tlsf_free.
  void free(void* p, std::size_t, std::size_t = 0) { tlsf_free(tlsf_, p); }

  /// The highest block end the run reached, measured from the arena's first byte (control structure included), as
  /// HeapAdapter measures it.
  std::size_t footprint(std::uintptr_t, std::uintptr_t highest_end) const {
    return static_cast<std::size_t>(highest_end - base_);
  }

  /// tlsf_walk_pool over the pool. bytes_free: the sizes of the free blocks (TLSF's block size is the payload a
  /// used block of that size serves). largest_free_block: the largest request that would succeed now, which is
  /// the lower bound of the largest free block's size class, not the block itself: tlsf_malloc rounds a request up
  /// to the next class boundary and takes any block filed in that class or above.
  FreeSpace free_space() const {
    struct Sum {
      std::size_t free_bytes = 0;
      std::size_t largest = 0;
    } sum;
    tlsf_walk_pool(
        pool_,
        [](void*, std::size_t size, int used, void* user) {
          auto* s = static_cast<Sum*>(user);
          if (used) return;
          s->free_bytes += size;
          if (size > s->largest) s->largest = size;
        },
        &sum);
    return FreeSpace{largest_request(sum.largest), sum.free_bytes};
  }

  /// The number of free blocks, by tlsf_walk_pool (O(blocks)).
  std::size_t free_blocks() const {
    std::size_t count = 0;
    tlsf_walk_pool(
        pool_, [](void*, std::size_t, int used, void* user) { *static_cast<std::size_t*>(user) += used ? 0 : 1; },
        &count);
    return count;
  }

  /// The block's size word and its payload beyond the request (alignment rounding, the minimum block size).
  std::size_t block_overhead(const void* p, std::size_t size) const {
    return tlsf_block_size(const_cast<void*>(p)) + tlsf_alloc_overhead() - size;
  }

  /// The largest request tlsf_malloc serves from a free block of `block` bytes when no larger block is free:
  /// classes below 256 bytes (SMALL_BLOCK_SIZE, 32 classes of ALIGN_SIZE) are exact; above, a class spans
  /// 2^(floor(log2 size) - 5) bytes (SL_INDEX_COUNT_LOG2 = 5), and only requests up to its lower bound map to it.
  static std::size_t largest_request(std::size_t block) {
    constexpr std::size_t kSmallBlock = 256;
    constexpr std::size_t kSlLog2 = 5;
    if (block < kSmallBlock) return block;
    const std::size_t fl = static_cast<std::size_t>(std::bit_width(block)) - 1;
    return block & ~((std::size_t{1} << (fl - kSlLog2)) - 1);
  }

 private:
  /// Bytes from `p` up to the next multiple of tlsf_align_size().
  static std::size_t pad_of(const std::byte* p) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    return align_up(addr, tlsf_align_size()) - addr;
  }

  std::uintptr_t base_;
  tlsf_t tlsf_ = nullptr;
  pool_t pool_ = nullptr;
};

}  // namespace nostd::bench

#endif  // NOSTD_BENCH_TLSF_MISSING
