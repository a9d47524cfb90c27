// bench/allocator_list.h — the allocators the fit comparison runs, in table order.
//
// Each entry pairs a name with the two replay passes instantiated for its adapter, so the comparison loops over
// allocators at run time while every replay loop is compiled for one concrete allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/alloc.h"
#include "bench/bench_allocator.h"
#include "bench/heap_adapter.h"
#include "bench/replay.h"

namespace nostd::bench {

/// One allocator of the comparison.
struct AllocatorEntry {
  /// Name in tables and `--allocators=` ("first/compact", "glibc", ...).
  const char* name;
  /// The throughput pass for this allocator.
  ThroughputRun (*throughput)(std::span<std::byte> arena, const Trace& trace, SlotTable& slots, double cap_seconds,
                              Progress& progress);
  /// The latency and fragmentation pass for this allocator.
  DetailRun (*detail)(std::span<std::byte> arena, const Trace& trace, std::uint64_t drain_begin, SlotTable& slots,
                      double cap_seconds, Progress& progress, LatencyBuffers& buffers);
};

/// The entry for adapter `A`.
template <BenchAllocator A>
constexpr AllocatorEntry make_entry(const char* name) {
  return AllocatorEntry{name, &replay_throughput<A>, &replay_detail<A>};
}

/// The first-fit composition every throughput is also divided by ("÷ first").
inline constexpr const char* kFirstFitBaseline = "first/compact";
/// The system allocator every throughput is also divided by ("÷ glibc").
inline constexpr const char* kGlibcBaseline = "glibc";

/// Every allocator of the comparison, in table order.
inline std::span<const AllocatorEntry> all_allocators() {
  static const AllocatorEntry kAll[] = {
      make_entry<HeapAdapter<FirstFit, CompactTags>>("first/compact"),
      make_entry<HeapAdapter<FirstFit, FullTags>>("first/full"),
      make_entry<HeapAdapter<NextFit, CompactTags>>("next/compact"),
      make_entry<HeapAdapter<NextFit, FullTags>>("next/full"),
      make_entry<HeapAdapter<BestFit, CompactTags>>("best/compact"),
      make_entry<HeapAdapter<BestFit, FullTags>>("best/full"),
      make_entry<MallocAdapter>("glibc"),
      make_entry<PmrPoolAdapter>("pmr/pool"),
  };
  return kAll;
}

}  // namespace nostd::bench
