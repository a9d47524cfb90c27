// bench/trace.h — the fit comparison's workloads as fixed, seeded operation traces.
//
// A trace is a sequence of operations on numbered slots: `kAllocate` puts a new block of `size` bytes into an
// empty slot, `kFree` frees the block in an occupied slot. Every allocator in a comparison replays the very same
// trace, so differences in the figures come from the allocators alone.
//
// Glossary:
//   churn  — fill every slot, then repeatedly free a random slot and allocate a new random size into it;
//   LIFO   — a stack whose depth random-walks between targets; frees always pop the newest block;
//   drain  — the final phase that frees everything still live.
//
// Generation streams operations to a sink (any callable taking an Op), so a test can check a two-million-call
// trace without storing it, and the benchmark can store it in memory of its choice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace nostd::bench {

/// The splitmix64 generator (Steele, Lea, Flood 2014): one 64-bit state word, full period, good enough for
/// workload generation and identical on every platform.
class SplitMix64 {
 public:
  /// A generator whose first output is determined by `seed` alone.
  explicit constexpr SplitMix64(std::uint64_t seed) : state_(seed) {}

  /// The next 64-bit pseudo-random number.
  constexpr std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// A number in [lo, hi] as the issue defines it: `lo + next() % (hi - lo + 1)` (the slight modulo bias is part
  /// of the definition, so that every implementation produces the same trace). Precondition: lo <= hi.
  constexpr std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }

 private:
  std::uint64_t state_;
};

/// The seed every workload's trace is generated from.
inline constexpr std::uint64_t kDefaultSeed = 12345;

/// What an operation does to its slot.
enum class OpKind : std::uint8_t {
  kAllocate,    ///< allocate `size` bytes into the (empty) slot
  kFree,        ///< free the block in the (occupied) slot; `size` repeats the block's requested size
  kReallocate,  ///< resize the block in the (occupied) slot to `size` bytes (recorded traces only)
};

/// One operation of a trace: 12 bytes, so a two-million-call trace takes 24 MB. The generated workloads use
/// allocate and free with the default alignment; recorded traces (bench/trace_io.h) use every field.
struct Op {
  OpKind kind;                  ///< allocate, free or reallocate
  std::uint8_t align_log2 = 0;  ///< allocate: 0 for the default alignment, else log2 of the alignment
  std::uint32_t slot;           ///< slot index, < the trace's slot count
  std::uint32_t size;           ///< requested size in bytes (for a free: the size the block was allocated with)
};
static_assert(sizeof(Op) == 12, "Op: the alignment byte lives in padding, so traces stay 12 bytes per call");

/// The shape of a workload's operation sequence.
enum class Pattern : std::uint8_t {
  kChurn,  ///< fill all slots; `steps` times free a random slot and refill it; drain
  kLifo,   ///< a stack random-walking to depth targets in [0, slots]; `steps` calls; drain
};

/// One workload: everything needed to generate its trace and to size the heap that replays it.
struct WorkloadSpec {
  char id;                            ///< the letter the issue and `--workloads=` use ('a', 'b', 'c', 'e')
  std::string_view name;              ///< short human-readable name ("churn, small")
  Pattern pattern;                    ///< churn or LIFO
  std::uint32_t slots;                ///< number of slots (churn: all filled; LIFO: maximum stack depth)
  std::uint32_t min_size;             ///< smallest request, bytes (>= 8: the benchmark writes a word into every block)
  std::uint32_t max_size;             ///< largest request, bytes
  std::uint64_t steps;                ///< churn: free+allocate steps; LIFO: calls before the drain
  std::size_t arena_bytes;            ///< bytes of the region a heap gets for this workload
  std::uint64_t seed = kDefaultSeed;  ///< splitmix64 seed
};

/// The workloads a, b, c and e at full size, in that order.
inline constexpr WorkloadSpec kWorkloads[] = {
    {'a', "churn, small", Pattern::kChurn, 10'000, 16, 512, 1'000'000, std::size_t{64} << 20},
    {'b', "churn, medium", Pattern::kChurn, 10'000, 16, 8192, 1'000'000, std::size_t{64} << 20},
    {'c', "LIFO", Pattern::kLifo, 10'000, 16, 1024, 2'000'000, std::size_t{64} << 20},
    {'e', "embedded", Pattern::kChurn, 400, 8, 256, 1'000'000, std::size_t{256} << 10},
};

/// The full-size workload with letter `id`, or nullptr.
constexpr const WorkloadSpec* find_workload(char id) {
  for (const WorkloadSpec& w : kWorkloads) {
    if (w.id == id) return &w;
  }
  return nullptr;
}

/// `spec` with its `steps` divided by `divisor` (at least 1 step): the quick mode's smaller traces.
constexpr WorkloadSpec scaled(WorkloadSpec spec, std::uint64_t divisor) {
  spec.steps = spec.steps / divisor > 0 ? spec.steps / divisor : 1;
  return spec;
}

/// Counts describing a generated trace.
struct TraceInfo {
  std::uint64_t calls = 0;             ///< operations emitted (allocations + frees)
  std::uint64_t allocations = 0;       ///< kAllocate operations
  std::uint64_t frees = 0;             ///< kFree operations
  std::uint64_t drain_begin = 0;       ///< index of the first drain operation: the churn (or LIFO) phase ends here
  std::uint64_t peak_live_bytes = 0;   ///< largest sum of live requested sizes at any point
  std::uint32_t peak_live_blocks = 0;  ///< largest number of live blocks at any point
};

/// Emits `spec`'s trace, operation by operation, to `sink(const Op&)`. `sizes` is scratch space of at least
/// `spec.slots` words (the size held by each slot). Deterministic: the same spec always yields the same trace.
///
/// Churn: slot i = 0..slots-1 gets `range(min, max)`; then `steps` times: slot = `next() % slots`, free it,
/// allocate `range(min, max)` into it; then free slots 0..slots-1 in order. Calls: 2 * slots + 2 * steps.
/// LIFO: repeat { target = `range(0, slots)`; push (allocate `range(min, max)` at slot = depth) or pop (free
/// slot depth-1) one call at a time until depth == target } until `steps` calls; then pop everything.
template <class Sink>
constexpr TraceInfo generate(const WorkloadSpec& spec, std::span<std::uint32_t> sizes, Sink&& sink) {
  SplitMix64 rng(spec.seed);
  TraceInfo info;
  std::uint64_t live_bytes = 0;
  std::uint32_t live_blocks = 0;
  auto allocate = [&](std::uint32_t slot) {
    const auto size = static_cast<std::uint32_t>(rng.range(spec.min_size, spec.max_size));
    sizes[slot] = size;
    sink(Op{OpKind::kAllocate, 0, slot, size});
    ++info.allocations;
    live_bytes += size;
    ++live_blocks;
    if (live_bytes > info.peak_live_bytes) info.peak_live_bytes = live_bytes;
    if (live_blocks > info.peak_live_blocks) info.peak_live_blocks = live_blocks;
  };
  auto free = [&](std::uint32_t slot) {
    sink(Op{OpKind::kFree, 0, slot, sizes[slot]});
    ++info.frees;
    live_bytes -= sizes[slot];
    --live_blocks;
  };

  if (spec.pattern == Pattern::kChurn) {
    for (std::uint32_t slot = 0; slot < spec.slots; ++slot) allocate(slot);
    for (std::uint64_t step = 0; step < spec.steps; ++step) {
      const auto slot = static_cast<std::uint32_t>(rng.next() % spec.slots);
      free(slot);
      allocate(slot);
    }
    info.drain_begin = info.allocations + info.frees;
    for (std::uint32_t slot = 0; slot < spec.slots; ++slot) free(slot);
  } else {
    std::uint32_t depth = 0;
    std::uint64_t calls = 0;
    while (calls < spec.steps) {
      const auto target = static_cast<std::uint32_t>(rng.range(0, spec.slots));
      while (depth != target && calls < spec.steps) {
        if (depth < target) {
          allocate(depth++);
        } else {
          free(--depth);
        }
        ++calls;
      }
    }
    info.drain_begin = calls;
    while (depth > 0) free(--depth);
  }
  info.calls = info.allocations + info.frees;
  return info;
}

}  // namespace nostd::bench
