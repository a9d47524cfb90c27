// bench/micro_bench.cc — Google Benchmark micro-benchmarks of single operations, templated over the heap
// compositions (`./bazelw run //bench:micro_bench`).
//
//   BM_AllocFree/<size>:   one allocate and one free of a fixed size, on a "warm" heap that already holds 1000
//                          live blocks of 16..512 bytes with every second one freed (so the fit search has
//                          something to walk past, as in a real program).
//   BM_ReallocGrowth:      a block grown by doubling from 16 B to 64 KiB with reallocate, then freed.
// Counter `bytes_per_block`: what one block of the benchmarked size costs beyond the request (tags or malloc's
// header, plus rounding). glibc malloc is the reference; each composition uses BasicHeap's default checks.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <vector>

#include "alloc/alloc.h"
#include "bench/bench_allocator.h"
#include "bench/heap_adapter.h"
#include "bench/mapped_memory.h"
#include "bench/trace.h"

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

}  // namespace
}  // namespace nostd::bench
