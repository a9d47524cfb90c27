// bench/bench_allocator.h — what the fit comparison needs from an allocator, and the two reference allocators.
//
// An adapter wraps one allocator behind a tiny interface so that the replay loop (bench/replay_passes.h) is a
// template instantiated once per allocator, with no virtual call in the timed path:
//   explicit A(std::span<std::byte> arena);   fresh state for one run (reference allocators ignore the arena)
//   void* allocate(std::size_t size);          default alignment; nullptr when out of memory
//   void* allocate_aligned(std::size_t size, std::size_t align);   align: a power of two above the default
//   void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t old_align = 0);
//                                              nullptr (p untouched) on failure; old_size and old_align: what p was
//                                              allocated with; the new block may have only the default alignment
//   void free(void* p, std::size_t size, std::size_t align = 0);  size and alignment p was allocated with
//                                                                 (align 0: the default)
// and, optionally, for the fragmentation and overhead columns:
//   std::size_t footprint(std::uintptr_t lowest, std::uintptr_t highest_end) const;
//   FreeSpace free_space() const;
//   std::size_t block_overhead(const void* p, std::size_t size) const;
#pragma once

#include <malloc.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <span>

namespace nostd::bench {

/// Free memory inside a fixed arena: the largest block a request could still get, and the total.
struct FreeSpace {
  std::size_t largest_free_block;  ///< bytes of the largest request that would succeed
  std::size_t bytes_free;          ///< all free bytes
};

/// The interface every allocator adapter implements (see the file comment).
template <class A>
concept BenchAllocator = std::constructible_from<A, std::span<std::byte>> && requires(A& a, void* p, std::size_t n) {
  { a.allocate(n) } -> std::same_as<void*>;
  { a.allocate_aligned(n, n) } -> std::same_as<void*>;
  { a.reallocate(p, n, n, n) } -> std::same_as<void*>;
  a.free(p, n, n);
};

/// Adapters that can say how many bytes of address space the run occupied, given the lowest block address and
/// the highest block end the replay saw.
template <class A>
concept HasFootprint = requires(const A& a, std::uintptr_t x) {
  { a.footprint(x, x) } -> std::convertible_to<std::size_t>;
};

/// Adapters over a fixed arena that can report its free space.
template <class A>
concept HasFreeSpace = requires(const A& a) {
  { a.free_space() } -> std::same_as<FreeSpace>;
};

/// Adapters that can say how many bytes a live block costs beyond its request (tags, header, rounding).
template <class A>
concept HasBlockOverhead = requires(const A& a, const void* p, std::size_t n) {
  { a.block_overhead(p, n) } -> std::convertible_to<std::size_t>;
};

/// glibc's malloc and free, the system reference. Its heap (the main arena, grown with brk) persists across runs
/// and is shared with the rest of the process, so no footprint is reported for it: an address span would include
/// holes left by earlier runs.
class MallocAdapter {
 public:
  /// glibc needs no arena.
  explicit MallocAdapter(std::span<std::byte>) {}
  /// std::malloc.
  void* allocate(std::size_t size) { return std::malloc(size); }
  /// memalign (glibc's aligned allocation without aligned_alloc's size rule).
  void* allocate_aligned(std::size_t size, std::size_t align) { return memalign(align, size); }
  /// std::realloc, asked for at least 1 byte: glibc's realloc(p, 0) frees p and returns nullptr, where a trace's
  /// "r ID 0" (BasicHeap::reallocate(p, 0), recorded by RecordingHeap) keeps the block live, as the other rows do.
  void* reallocate(void* p, std::size_t, std::size_t new_size, std::size_t = 0) {
    return std::realloc(p, new_size == 0 ? 1 : new_size);
  }
  /// std::free.
  void free(void* p, std::size_t, std::size_t = 0) { std::free(p); }
  /// glibc's chunk header (one size_t) plus what malloc_usable_size adds over the request.
  std::size_t block_overhead(const void* p, std::size_t size) const {
    return malloc_usable_size(const_cast<void*>(p)) + sizeof(std::size_t) - size;
  }
};

/// glibc malloc, reporting as footprint the address span from the lowest block to the highest block end. Only
/// meaningful in a fresh process whose heap holds nothing else (fit_compare and replay run it in a child process).
class MallocSpanAdapter : public MallocAdapter {
 public:
  /// Turns glibc's mmap'd blocks off for the rest of the process (M_MMAP_MAX 0): every block then comes from the
  /// one brk heap, whatever its size. A recorded trace may ask for 128 KiB or more, which glibc would map far above
  /// that heap, and the span between them (tens of TiB: replay printed touched / peak live of 44,390,328 for a
  /// trace with one 1 MiB block) is no memory the run occupied. The timed glibc row keeps its mmap threshold.
  explicit MallocSpanAdapter(std::span<std::byte> arena) : MallocAdapter(arena) { mallopt(M_MMAP_MAX, 0); }
  /// highest_end - lowest: in a fresh process with mmap'd blocks off, the main arena is one contiguous brk heap.
  std::size_t footprint(std::uintptr_t lowest, std::uintptr_t highest_end) const {
    return static_cast<std::size_t>(highest_end - lowest);
  }
};

/// A memory_resource that forwards to another and records the peak bytes it holds: how much a pool resource took
/// from its upstream.
class CountingResource final : public std::pmr::memory_resource {
 public:
  /// Forwards to `upstream`.
  explicit CountingResource(std::pmr::memory_resource* upstream) : upstream_(upstream) {}
  /// Largest number of bytes held from upstream at once.
  std::size_t peak_bytes() const { return peak_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    void* p = upstream_->allocate(bytes, align);
    held_ += bytes;
    if (held_ > peak_) peak_ = held_;
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    held_ -= bytes;
    upstream_->deallocate(p, bytes, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::pmr::memory_resource* upstream_;
  std::size_t held_ = 0;
  std::size_t peak_ = 0;
};

/// `std::pmr::unsynchronized_pool_resource` with default options over `new_delete_resource()` (so, over glibc
/// malloc), alignment `alignof(std::max_align_t)`. Constructed fresh for every run; its destructor returns
/// everything upstream.
class PmrPoolAdapter {
 public:
  /// The pool resource needs no arena.
  explicit PmrPoolAdapter(std::span<std::byte>) {}
  /// unsynchronized_pool_resource::allocate.
  void* allocate(std::size_t size) { return pool_.allocate(size, alignof(std::max_align_t)); }
  /// unsynchronized_pool_resource::allocate with `align`.
  void* allocate_aligned(std::size_t size, std::size_t align) { return pool_.allocate(size, align); }
  /// A memory_resource cannot resize: allocate, copy, deallocate (what a pmr container does). The old block goes
  /// back with the alignment it was allocated with, which chose its pool: given the default for a block of 64, the
  /// pool resource had kept it (a leak inside the pool, which inflated this row's footprint).
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t old_align = 0) {
    void* q = pool_.allocate(new_size, alignof(std::max_align_t));
    std::memcpy(q, p, old_size < new_size ? old_size : new_size);
    pool_.deallocate(p, old_size, old_align == 0 ? alignof(std::max_align_t) : old_align);
    return q;
  }
  /// unsynchronized_pool_resource::deallocate, which needs the size and alignment.
  void free(void* p, std::size_t size, std::size_t align = 0) {
    pool_.deallocate(p, size, align == 0 ? alignof(std::max_align_t) : align);
  }
  /// The peak bytes the pool held from upstream (its chunks are malloc'd and may lie anywhere, so an address
  /// span would mean nothing).
  std::size_t footprint(std::uintptr_t, std::uintptr_t) const { return counter_.peak_bytes(); }

 private:
  CountingResource counter_{std::pmr::new_delete_resource()};
  std::pmr::unsynchronized_pool_resource pool_{&counter_};
};

}  // namespace nostd::bench
