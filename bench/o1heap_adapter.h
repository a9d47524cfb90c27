// bench/o1heap_adapter.h — o1heap (pavel-kirienko/o1heap, third_party/ext_alloc) as a fit-comparison allocator,
// in the opt-in //bench:fit_compare_ext, //bench:op_count_ext and //bench:scaling_bench_ext.
//
// o1heap is a constant-time allocator for hard real-time systems: every request plus its 32-byte header (on
// 64-bit: O1HEAP_ALIGNMENT) is rounded up to a power of two, the fragment comes from the smallest non-empty bin
// of fragments at least that large, and a free merges with both neighbours at once. The price is memory: up to
// twice the request per block, so it needs a larger arena than a good-fit heap for the same trace.
//
// The adapter reports every optional figure. free_space() and block_overhead() read the heap's own fragment
// headers; o1heap keeps its instance private, so the adapter mirrors its layout (o1heap.c of commit 977ca9c) and
// checks the mirror against the public diagnostics when it is constructed and on every walk (aborting on a
// mismatch rather than printing a wrong figure). For scaling_bench it also counts the free fragments and says
// beforehand whether o1heap can take an arena (refusal()).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "alloc/layout.h"
#include "bench/bench_allocator.h"

// The sources are not part of the repository: ext_alloc_sources.h stops the build with one #error when they are
// missing, and this adapter then declares nothing.
#include "bench/ext_alloc_sources.h"
#ifndef NOSTD_BENCH_O1HEAP_MISSING
#include "o1heap.h"

namespace nostd::bench {

/// o1heap over the arena the comparison hands it, behind the BenchAllocator interface.
class O1heapAdapter {
 public:
  /// Why o1heap cannot take `arena`, in one line, or nullptr when it can. Its base must be aligned to
  /// O1HEAP_ALIGNMENT (the constructor rounds it up, so only the bytes that costs matter); it must hold the
  /// instance and one minimum fragment; and the capacity after the instance may not exceed (SIZE_MAX >> 1) + 1
  /// (o1heap.c's FRAGMENT_SIZE_MAX), above which o1heapInit would truncate it silently (o1heap.h).
  static const char* refusal(std::span<const std::byte> arena) {
    const std::size_t pad = pad_of(arena.data());
    if (arena.size() < pad + kInstancePadded + kFragmentMin) {
      return "too small for o1heap's instance and one fragment once aligned";
    }
    if (arena.size() - pad - kInstancePadded > (SIZE_MAX >> 1) + 1) {
      return "above o1heap's capacity limit, (SIZE_MAX >> 1) + 1 bytes, where o1heapInit truncates silently";
    }
    return nullptr;
  }

  /// o1heapInit over `arena`, its start rounded up to O1HEAP_ALIGNMENT (o1heapInit refuses an unaligned base).
  /// Aborts when o1heap cannot take the arena (refusal() says beforehand whether it will).
  explicit O1heapAdapter(std::span<std::byte> arena) : base_(reinterpret_cast<std::uintptr_t>(arena.data())) {
    if (const char* why = refusal(arena)) {
      std::fprintf(stderr, "O1heapAdapter: o1heap cannot take an arena of %zu bytes: %s\n", arena.size(), why);
      std::abort();
    }
    const std::size_t pad = pad_of(arena.data());
    const std::uintptr_t aligned = base_ + pad;
    heap_ = o1heapInit(reinterpret_cast<void*>(aligned), arena.size() - pad, nullptr, nullptr);
    if (heap_ == nullptr) {
      std::fprintf(stderr, "O1heapAdapter: o1heapInit refused an arena of %zu bytes\n", arena.size());
      std::abort();
    }
    first_ = reinterpret_cast<const Header*>(aligned + kInstancePadded);
    check_layout();
  }

  /// o1heapAllocate (32-byte aligned). A zero-byte request asks for one byte, as malloc(0) gets a unique pointer
  /// from glibc (o1heap returns NULL for 0).
  void* allocate(std::size_t size) { return o1heapAllocate(heap_, size == 0 ? 1 : size); }
  /// o1heap has no aligned allocation: requests up to O1HEAP_ALIGNMENT are plain allocations (every fragment is
  /// that aligned), larger alignments fail (nullptr).
  void* allocate_aligned(std::size_t size, std::size_t align) { return align <= kAlign ? allocate(size) : nullptr; }
  /// o1heap has no realloc: allocate, copy, free; nullptr (p untouched) when the new block cannot be had.
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t = 0) {
    void* q = allocate(new_size);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, old_size < new_size ? old_size : new_size);
    o1heapFree(heap_, p);
    return q;
  }
  /// o1heapFree.
  void free(void* p, std::size_t, std::size_t = 0) { o1heapFree(heap_, p); }

  /// The highest block end the run reached, measured from the arena's first byte (alignment pad and o1heap's
  /// instance included), as HeapAdapter measures it.
  std::size_t footprint(std::uintptr_t, std::uintptr_t highest_end) const {
    return static_cast<std::size_t>(highest_end - base_);
  }

  /// Walks the fragments in address order. bytes_free: the payload the free fragments could serve (each minus its
  /// 32-byte header, as HeapStats counts free payload); largest_free_block: the largest request that would succeed
  /// now, which for o1heap is not the largest free fragment minus its header: a request needs a fragment of
  /// bit_ceil(request + 32) bytes from a bin whose fragments are all that large, so the largest fragment F serves
  /// bit_floor(F) - 32 bytes at most.
  FreeSpace free_space() const {
    std::size_t free_bytes = 0;
    std::size_t free_fragments = 0;
    std::size_t largest = 0;
    for (const Header* h = first_; h != nullptr; h = h->next) {
      if (h->used) continue;
      free_bytes += h->size;
      ++free_fragments;
      if (h->size > largest) largest = h->size;
    }
    const O1HeapDiagnostics d = o1heapGetDiagnostics(heap_);
    if (free_bytes != d.capacity - d.allocated) {
      std::fprintf(stderr, "O1heapAdapter: fragment walk found %zu free bytes, diagnostics say %zu\n", free_bytes,
                   d.capacity - d.allocated);
      std::abort();
    }
    const std::size_t largest_request = largest >= kFragmentMin ? std::bit_floor(largest) - kAlign : 0;
    return FreeSpace{largest_request, free_bytes - free_fragments * kAlign};
  }

  /// The number of free fragments, by the same walk (O(fragments)).
  std::size_t free_blocks() const {
    std::size_t count = 0;
    for (const Header* h = first_; h != nullptr; h = h->next) count += h->used ? 0 : 1;
    return count;
  }

  /// The block's whole fragment (header and power-of-two rounding) minus the request, from the fragment header.
  std::size_t block_overhead(const void* p, std::size_t size) const { return header_of(p)->size - size; }

 private:
  static constexpr std::size_t kAlign = O1HEAP_ALIGNMENT;
  static constexpr std::size_t kFragmentMin = 2 * kAlign;
  /// Bytes from `p` up to the next multiple of O1HEAP_ALIGNMENT: what aligning the arena's base costs.
  static std::size_t pad_of(const std::byte* p) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    return align_up(addr, kAlign) - addr;
  }

  // Mirrors of o1heap.c's private types (commit 977ca9c): FragmentHeader, and O1HeapInstance for its size.
  struct Header {
    const Header* next;
    const Header* prev;
    std::size_t size;
    bool used;
  };
  struct InstanceMirror {
    void* bins[sizeof(std::size_t) * 8];
    std::size_t nonempty_bin_mask;
    O1HeapHook critical_section_enter;
    O1HeapHook critical_section_leave;
    O1HeapDiagnostics diagnostics;
  };
  static constexpr std::size_t kInstancePadded = align_up(sizeof(InstanceMirror), kAlign);

  static const Header* header_of(const void* p) {
    return reinterpret_cast<const Header*>(static_cast<const std::byte*>(p) - kAlign);
  }

  /// Aborts unless the mirror matches the fresh heap: one free fragment of the whole capacity right after the
  /// instance, filed in the bin its size selects, and the instance's diagnostics where the mirror puts them.
  void check_layout() const {
    const O1HeapDiagnostics d = o1heapGetDiagnostics(heap_);
    const auto* inst = reinterpret_cast<const InstanceMirror*>(heap_);
    const std::size_t bin = static_cast<std::size_t>(std::bit_width(d.capacity / kFragmentMin)) - 1;
    const bool ok = inst->diagnostics.capacity == d.capacity && first_->size == d.capacity && !first_->used &&
                    first_->next == nullptr && first_->prev == nullptr &&
                    inst->nonempty_bin_mask == (std::size_t{1} << bin) && inst->bins[bin] == first_;
    if (!ok) {
      std::fprintf(stderr, "O1heapAdapter: o1heap's private layout is not the one this adapter mirrors\n");
      std::abort();
    }
  }

  std::uintptr_t base_;
  O1HeapInstance* heap_ = nullptr;
  const Header* first_ = nullptr;
};

}  // namespace nostd::bench

#endif  // NOSTD_BENCH_O1HEAP_MISSING
