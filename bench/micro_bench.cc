// bench/micro_bench.cc — Google Benchmark micro-benchmarks of single operations, templated over the heap
// compositions (`./bazelw run //bench:micro_bench`).
//
//   BM_AllocFree/<size>:   one allocate and one free of a fixed size, on a "warm" heap that already holds 1000
//                          live blocks of 16..512 bytes with every second one freed (so the fit search has
//                          something to walk past, as in a real program).
//   BM_ReallocGrowth:      a block grown by doubling from 16 B to 64 KiB with reallocate, then freed.
//   BM_VecPushBack/<n>:    a fresh Vec<std::uint64_t> (containers/vec.h) on the heap receives n push_backs and is
//                          destroyed (growth goes through reallocate for this trivially relocatable type).
// Counter `bytes_per_block`: what one block of the benchmarked size costs beyond the request (tags or malloc's
// header, plus rounding; for Vec, the final buffer beyond its capacity, with the unused capacity in `slack_bytes`).
// glibc malloc is the reference; each composition uses BasicHeap's default checks.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloc/alloc.h"
#include "alloc/heap_ref.h"
#include "bench/bench_allocator.h"
#include "bench/heap_adapter.h"
#include "bench/mapped_memory.h"
#include "bench/trace.h"
#include "containers/vec.h"

namespace nostd::bench {
namespace {

/// One arena for every benchmark, written once before any timing.
std::span<std::byte> arena() {
  static const MappedRegion region(std::size_t{64} << 20);
  return region.first(region.size());
}

/// reallocate for a heap composition.
template <class Fit, class Tags>
void* grow(HeapAdapter<Fit, Tags>& a, void* p, std::size_t size) {
  Result<void*> r = a.heap().reallocate(p, size);
  return r ? *r : nullptr;
}

/// realloc for glibc.
void* grow(MallocAdapter&, void* p, std::size_t size) { return std::realloc(p, size); }

/// A containers Allocator handle over glibc (malloc, realloc, malloc_usable_size): the Vec reference.
struct MallocRef {
  /// malloc; alignments above max_align_t are refused.
  Result<void*> allocate(Layout layout) const {
    if (layout.align() > alignof(std::max_align_t)) return fail(AllocError::kInvalidLayout);
    void* p = std::malloc(layout.size());
    if (p == nullptr) return fail(AllocError::kOutOfMemory);
    return p;
  }
  /// free.
  void deallocate(void* p, Layout) const { std::free(p); }
  /// realloc (keeps max_align_t alignment).
  Result<void*> reallocate(void* p, Layout, std::size_t new_size) const {
    void* q = std::realloc(p, new_size);
    if (q == nullptr) return fail(AllocError::kOutOfMemory);
    return q;
  }
  /// malloc_usable_size.
  std::size_t usable_size(const void* p) const { return malloc_usable_size(const_cast<void*>(p)); }
};

/// The containers allocator handle for a heap composition.
template <class Fit, class Tags>
HeapRef<typename HeapAdapter<Fit, Tags>::Heap> handle(HeapAdapter<Fit, Tags>& a) {
  return HeapRef<typename HeapAdapter<Fit, Tags>::Heap>(a.heap());
}

/// The containers allocator handle for glibc.
MallocRef handle(MallocAdapter&) { return MallocRef{}; }

/// Bytes a block of `size` costs beyond the request, measured on a fresh allocation.
template <class A>
double bytes_per_block(A& a, std::size_t size) {
  void* p = a.allocate(size);
  if (p == nullptr) return 0;
  const double overhead = static_cast<double>(a.block_overhead(p, size));
  a.free(p, size);
  return overhead;
}

/// Fills `a` with 1000 blocks of 16..512 bytes (splitmix64, seed 12345) and frees every second one.
template <class A>
std::vector<void*> warm_up(A& a) {
  SplitMix64 rng(kDefaultSeed);
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(a.allocate(rng.range(16, 512)));
  for (std::size_t i = 0; i < blocks.size(); i += 2) {
    a.free(blocks[i], 0);
    blocks[i] = nullptr;
  }
  return blocks;
}

template <class A>
void BM_AllocFree(benchmark::State& state) {
  A a(arena());
  std::vector<void*> live = warm_up(a);
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = a.allocate(size);
    benchmark::DoNotOptimize(p);
    if (p == nullptr) {
      state.SkipWithError("allocation failed");
      break;
    }
    *static_cast<unsigned char*>(p) = 1;
    a.free(p, size);
  }
  state.counters["bytes_per_block"] = bytes_per_block(a, size);
  for (void* p : live) {
    if (p != nullptr) a.free(p, 0);
  }
}

template <class A>
void BM_ReallocGrowth(benchmark::State& state) {
  A a(arena());
  double overhead = 0;
  for (auto _ : state) {
    std::size_t size = 16;
    void* p = a.allocate(size);
    while (p != nullptr && size < (std::size_t{64} << 10)) {
      size *= 2;
      p = grow(a, p, size);
      benchmark::DoNotOptimize(p);
    }
    if (p == nullptr) {
      state.SkipWithError("reallocation failed");
      break;
    }
    a.free(p, size);
  }
  overhead = bytes_per_block(a, std::size_t{64} << 10);
  state.counters["bytes_per_block"] = overhead;
  state.SetItemsProcessed(state.iterations() * 13);  // 1 allocate + 12 doublings
}

template <class A>
void BM_VecPushBack(benchmark::State& state) {
  A a(arena());
  const auto n = static_cast<std::uint64_t>(state.range(0));
  double overhead = 0;
  double slack = 0;
  for (auto _ : state) {
    Vec<std::uint64_t, decltype(handle(a))> v(handle(a));
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!v.push_back(i)) {
        state.SkipWithError("push_back failed");
        return;
      }
    }
    benchmark::DoNotOptimize(v.data());
    overhead = static_cast<double>(a.block_overhead(v.data(), v.capacity() * sizeof(std::uint64_t)));
    slack = static_cast<double>((v.capacity() - v.size()) * sizeof(std::uint64_t));
  }
  state.counters["bytes_per_block"] = overhead;
  state.counters["slack_bytes"] = slack;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

using FirstCompact = HeapAdapter<FirstFit, CompactTags>;
using FirstFull = HeapAdapter<FirstFit, FullTags>;
using NextCompact = HeapAdapter<NextFit, CompactTags>;
using NextFull = HeapAdapter<NextFit, FullTags>;
using BestCompact = HeapAdapter<BestFit, CompactTags>;
using BestFull = HeapAdapter<BestFit, FullTags>;

#define NOSTD_SIZES Arg(16)->Arg(64)->Arg(256)->Arg(4096)
BENCHMARK_TEMPLATE(BM_AllocFree, FirstCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, FirstFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, NextCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, NextFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, BestCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, BestFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, MallocAdapter)->NOSTD_SIZES;

BENCHMARK_TEMPLATE(BM_ReallocGrowth, FirstCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, FirstFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, NextCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, NextFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, BestCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, BestFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, MallocAdapter);

#define NOSTD_COUNTS Arg(1000)->Arg(100000)
BENCHMARK_TEMPLATE(BM_VecPushBack, FirstCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, FirstFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, NextCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, NextFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, BestCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, BestFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, MallocAdapter)->NOSTD_COUNTS;

}  // namespace
}  // namespace nostd::bench
