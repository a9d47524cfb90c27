// bench/heap_adapter.h — a nostd::BasicHeap composition as a fit-comparison allocator.
//
// `HeapAdapter<Fit, Tags, Check, Cache>` builds `BasicHeap<Fit, Tags, Check, RegionSource, Cache>` (lock NullLock;
// checks BasicChecks<> and cache NoCache unless given, as a user gets them) over the arena the comparison hands it: a
// fresh heap per run, over memory that was written before any timing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/alloc.h"
#include "bench/bench_allocator.h"

namespace nostd::bench {

/// `BasicHeap<Fit, Tags, Check, RegionSource>` behind the BenchAllocator interface, with every optional report.
template <class Fit, class Tags, class Check = BasicChecks<>, class Cache = NoCache>
class HeapAdapter {
 public:
  /// The composition measured.
  using Heap = BasicHeap<Fit, Tags, Check, RegionSource, Cache>;

  /// A fresh heap over `arena`.
  explicit HeapAdapter(std::span<std::byte> arena)
      : base_(reinterpret_cast<std::uintptr_t>(arena.data())), heap_(arena) {}

  /// BasicHeap::allocate(size); nullptr on any error.
  void* allocate(std::size_t size) {
    Result<void*> r = heap_.allocate(size);
    return r ? *r : nullptr;
  }
  /// BasicHeap::allocate(size, align); nullptr on any error.
  void* allocate_aligned(std::size_t size, std::size_t align) {
    Result<void*> r = heap_.allocate(size, align);
    return r ? *r : nullptr;
  }
  /// BasicHeap::reallocate(p, new_size); nullptr (p untouched) on any error.
  void* reallocate(void* p, std::size_t, std::size_t new_size, std::size_t = 0) {
    Result<void*> r = heap_.reallocate(p, new_size);
    return r ? *r : nullptr;
  }
  /// BasicHeap::deallocate (the heap finds the size and alignment in the block's tags).
  void free(void* p, std::size_t, std::size_t = 0) { heap_.deallocate(p); }

  /// Calls `visit(nostd::BlockInfo)` for every block of the arena, in address order (the heap map).
  template <class Visitor>
  void walk(Visitor&& visit) const {
    heap_.walk(visit);
  }
  /// The arena's first byte, as an address.
  std::uintptr_t base() const { return base_; }

  /// The heap itself, for calls beyond allocate and free (reallocate in the micro-benchmarks).
  Heap& heap() { return heap_; }

  /// The highest block end the run reached, measured from the arena's first byte (region header included).
  std::size_t footprint(std::uintptr_t, std::uintptr_t highest_end) const {
    return static_cast<std::size_t>(highest_end - base_);
  }
  /// stats(): largest free block and free payload bytes.
  FreeSpace free_space() const {
    const HeapStats s = heap_.stats();
    return FreeSpace{s.largest_free_block, s.bytes_free};
  }
  /// The whole block (tags, check trailer, canary and rounding) minus the request, read from the block's header.
  std::size_t block_overhead(const void* p, std::size_t size) const {
    return Heap::Tags::size(static_cast<const std::byte*>(p) - Heap::Tags::kHeaderSize) - size;
  }

 private:
  std::uintptr_t base_;
  Heap heap_;
};

}  // namespace nostd::bench
