// bench/op_count.cc — replays a workload's trace once, untimed, with every allocator call behind a function that
// is never inlined, so that an instruction counter can attribute instructions to allocate and free exactly.
//
//   op_count ALLOCATOR [WORKLOAD [DIVISOR [REPS]]]   e.g. op_count seg/compact/nochecks a 10
//
// Meant to run under Valgrind (`bench/instructions.sh`, `./bazelw run //bench:instructions`):
// `--toggle-collect='*counted_allocate*'` counts the instructions of every allocate call, and only those, and the
// same for `counted_free`. Instruction counts do not move with the load of a shared machine, unlike wall-clock
// figures, so they compare two variants of the heap reliably; they do not see cache misses or branch mispredictions
// (cachegrind's simulation does, roughly). Prints the call counts the per-call figures divide by, and the CPU time
// per call of the fastest of REPS replays (default 1; each on a fresh heap): run two builds of the heap alternately
// with REPS > 1 to compare them in time as well.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "alloc/alloc.h"
#include "bench/bench_allocator.h"
#include "bench/cli_args.h"
#include "bench/heap_adapter.h"
#include "bench/mapped_memory.h"
#include "bench/replay_passes.h"
#include "bench/trace.h"

// The opt-in external allocators (//bench:op_count_ext): their adapters' libraries define these switches.
#ifdef NOSTD_BENCH_O1HEAP
#include "bench/o1heap_adapter.h"
#endif
#ifdef NOSTD_BENCH_TLSF
#include "bench/tlsf_adapter.h"
#endif

namespace {

using namespace nostd;
using namespace nostd::bench;

template <class A>
[[gnu::noinline]] void* counted_allocate(A& a, std::size_t size) {
  return a.allocate(size);
}

template <class A>
[[gnu::noinline]] void counted_free(A& a, void* p, std::size_t size) {
  a.free(p, size);
}

struct Counts {
  std::uint64_t allocations = 0;
  std::uint64_t frees = 0;
};

// Replays `trace` against a fresh A over `arena`, the block bookkeeping of replay_passes.h around every call.
template <class A>
Counts replay(std::span<std::byte> arena, const Trace& trace, SlotTable& slots) {
  A a(arena);
  Counts counts;
  for (const Op& op : trace) {
    if (op.kind == OpKind::kAllocate) {
      void* p = counted_allocate(a, op.size);
      if (p == nullptr) {
        std::fprintf(stderr, "op_count: allocation of %u bytes failed\n", op.size);
        std::exit(1);
      }
      bench::internal::fill_block(p, op.slot, op.size);
      slots[op.slot] = Slot{p, op.size, 0};
      ++counts.allocations;
    } else {
      const Slot s = slots[op.slot];
      bench::internal::check_block(s.ptr, op.slot, s.size);
      counted_free(a, s.ptr, s.size);
      slots[op.slot] = Slot{};
      ++counts.frees;
    }
  }
  return counts;
}

struct Entry {
  const char* name;
  Counts (*run)(std::span<std::byte>, const Trace&, SlotTable&);
};

const Entry kEntries[] = {
    {"seg/compact/nochecks", &replay<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks>>},
    {"seg/compact", &replay<HeapAdapter<SegregatedFit<>, CompactTags>>},
    {"seg/compact/nochecks+cache", &replay<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, QuickCache<>>>},
    {"seg/compact+cache", &replay<HeapAdapter<SegregatedFit<>, CompactTags, BasicChecks<>, QuickCache<>>>},
    {"seg/compact/nochecks+cache8k", &replay<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, MediumQuickCache>>},
    {"seg/compact+cache8k", &replay<HeapAdapter<SegregatedFit<>, CompactTags, BasicChecks<>, MediumQuickCache>>},
    // HardenedChecks (README "Hardening"; named as fit_compare names its levels): the exact fast path is off there.
    {"seg/compact/hardened", &replay<HeapAdapter<SegregatedFit<>, CompactTags, HardenedChecks<>>>},
    {"seg/full/nochecks", &replay<HeapAdapter<SegregatedFit<>, FullTags, NoChecks>>},
    {"seg/full", &replay<HeapAdapter<SegregatedFit<>, FullTags>>},
    // The lists per class fixed at 16 and 32, as in fit_compare (README, "Lists per class on a 32-bit target").
    {"seg-l16/compact/nochecks", &replay<HeapAdapter<SegregatedFit<0, 16>, CompactTags, NoChecks>>},
    {"seg-l32/compact/nochecks", &replay<HeapAdapter<SegregatedFit<0, 32>, CompactTags, NoChecks>>},
    {"first/compact/nochecks", &replay<HeapAdapter<FirstFit, CompactTags, NoChecks>>},
    {"first/compact", &replay<HeapAdapter<FirstFit, CompactTags>>},
    {"first/compact/hardened", &replay<HeapAdapter<FirstFit, CompactTags, HardenedChecks<>>>},
    // The list fits, whose searches follow next links (fit_compare's names), with their HardenedChecks rows for the
    // cost of a level's checks per link (README "What each level costs").
    {"next/compact/nochecks", &replay<HeapAdapter<NextFit, CompactTags, NoChecks>>},
    {"next/compact", &replay<HeapAdapter<NextFit, CompactTags>>},
    {"next/compact/hardened", &replay<HeapAdapter<NextFit, CompactTags, HardenedChecks<>>>},
    {"best/compact/nochecks", &replay<HeapAdapter<BestFit, CompactTags, NoChecks>>},
    {"best/compact", &replay<HeapAdapter<BestFit, CompactTags>>},
    {"best/compact/hardened", &replay<HeapAdapter<BestFit, CompactTags, HardenedChecks<>>>},
    {"glibc", &replay<MallocAdapter>},
#ifdef NOSTD_BENCH_O1HEAP
    {"ext/o1heap", &replay<O1heapAdapter>},
#endif
#ifdef NOSTD_BENCH_TLSF
    {"ext/tlsf", &replay<TlsfAdapter>},
#endif
};

}  // namespace

int main(int argc, char** argv) {
  // --help: the usage on stdout, exit 0; a wrong argument count: the usage on stderr, exit 2.
  const bool help = argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0);
  if (argc < 2 || argc > 5 || help) {
    std::FILE* const out = help ? stdout : stderr;
    std::fprintf(out, "usage: op_count ALLOCATOR [WORKLOAD [DIVISOR [REPS]]]\nallocators:");
    for (const Entry& e : kEntries) std::fprintf(out, " %s", e.name);
    std::fprintf(out, "\nworkloads: a b c e (default a), divisor of the churn steps or LIFO calls (default 10)\n");
    return help ? 0 : 2;
  }
  const Entry* entry = nullptr;
  for (const Entry& e : kEntries) {
    if (std::strcmp(e.name, argv[1]) == 0) entry = &e;
  }
  if (entry == nullptr) {
    std::fprintf(stderr, "op_count: unknown allocator %s (--help lists them)\n", argv[1]);
    return 2;
  }
  // Each argument is read whole (bench/cli_args.h): "bogus" is not workload b, "10x" not 10, "1.5" not 1.
  const std::string_view workload = argc > 2 ? argv[2] : "a";
  const WorkloadSpec* spec = workload.size() == 1 ? find_workload(workload[0]) : nullptr;
  if (spec == nullptr) {
    print_bad_value("op_count", "WORKLOAD '" + std::string(workload) + "'", "a, b, c or e");
    return 2;
  }
  // At most the workload's steps, so that the replay keeps one step at least.
  const std::optional<std::uint64_t> divisor = argc > 3 ? parse_whole(argv[3], spec->steps) : 10;
  if (!divisor || *divisor == 0) {
    const std::string takes =
        "a whole number from 1 to " + std::to_string(spec->steps) + " (workload " + spec->id + "'s steps)";
    print_bad_value("op_count", "DIVISOR '" + std::string(argv[3]) + "'", takes.c_str());
    return 2;
  }
  const std::optional<int> reps = argc > 4 ? parse_reps(argv[4]) : 1;
  if (!reps) {
    print_bad_value("op_count", "REPS '" + std::string(argv[4]) + "'", kRepsTakes);
    return 2;
  }
  const WorkloadSpec w = scaled(*spec, *divisor);
  Trace trace;
  std::vector<std::uint32_t> sizes(w.slots);
  generate(w, sizes, [&trace](const Op& op) { trace.push_back(op); });
  SlotTable slots(w.slots);
  MappedRegion region(w.arena_bytes);
  Counts counts;
  double best = 0;
  for (int rep = 0; rep < *reps; ++rep) {
    const double start = bench::internal::thread_cpu_seconds();
    counts = entry->run(region.first(w.arena_bytes), trace, slots);
    const double seconds = bench::internal::thread_cpu_seconds() - start;
    if (rep == 0 || seconds < best) best = seconds;
  }
  const double calls = static_cast<double>(counts.allocations + counts.frees);
  std::printf("allocator=%s workload=%c steps=%llu allocations=%llu frees=%llu cpu_ns_per_call=%.2f\n", entry->name,
              w.id, static_cast<unsigned long long>(w.steps), static_cast<unsigned long long>(counts.allocations),
              static_cast<unsigned long long>(counts.frees), best * 1e9 / calls);
  return 0;
}
