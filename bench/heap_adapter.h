// bench/heap_adapter.h — a nostd::BasicHeap composition as a fit-comparison allocator.
//
// `HeapAdapter<Fit, Tags>` builds `BasicHeap<Fit, Tags, RegionSource>` (default lock NullLock and checks
// BasicChecks<>, as a user gets them) over the arena the comparison hands it: a fresh heap per run, over memory
// that was written before any timing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/alloc.h"
#include "bench/bench_allocator.h"

namespace nostd::bench {

/// `BasicHeap<Fit, Tags, RegionSource>` behind the BenchAllocator interface, with every optional report.
template <class Fit, class Tags>
class HeapAdapter {
 public:
  /// The composition measured.
  using Heap = BasicHeap<Fit, Tags, RegionSource>;

  /// A fresh heap over `arena`.
  explicit HeapAdapter(std::span<std::byte> arena)
      : base_(reinterpret_cast<std::uintptr_t>(arena.data())), heap_(arena) {}

  /// BasicHeap::allocate(size); nullptr on any error.
  void* allocate(std::size_t size) {
    Result<void*> r = heap_.allocate(size);
    return r ? *r : nullptr;
  }
  /// BasicHeap::deallocate (the heap finds the size in the block's tags).
  void free(void* p, std::size_t) { heap_.deallocate(p); }

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
  /// The whole block (tags and rounding) minus the request.
  std::size_t block_overhead(const void* p, std::size_t size) const {
    return heap_.usable_size(p) + Heap::kTagOverhead - size;
  }

 private:
  std::uintptr_t base_;
  Heap heap_;
};

}  // namespace nostd::bench
