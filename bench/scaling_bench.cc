// bench/scaling_bench.cc — `./bazelw run //bench:scaling_bench`: how allocate and free latency grow with the arena
// and with the number of free blocks, SegregatedFit beside FirstFit; in the opt-in twin //bench:scaling_bench_ext,
// TLSF and o1heap beside them (below, "External allocators").
//
// Method. For every arena size (64 KiB .. 1 GiB) and free-block count N (10 .. 100,000), a fresh
// BasicHeap<Fit, CompactTags, RegionSource> (default checks) is filled with blocks of 16..1024 bytes (log-uniform,
// seeded) until less than 1/16 of the arena is left, and then every k-th block is freed so that N holes are spread
// evenly over the whole arena (the rest of the arena stays one free block at the end, so there are N + 1 free
// blocks). A cell whose fill leaves fewer than 2 N blocks cannot be made and reads "—" (the small arenas with many
// holes). Then rounds each allocate one block and free it at once, timing both calls with the TSC. The request
// sizes are those of the holes, drawn at random, so every request fits some hole but usually not the first one a
// list walk meets; allocate-then-free leaves the free-block count unchanged (the carved block merges back into its
// hole; checked after the rounds). The tables report the 99.9th percentile of each call's latency (timer cost
// included) and the sample count; a cell that hits the time cap stops early and says so.
//
// Fill. Every allocator takes the same sequence of sizes (one generator per N) and stops by its own free tail:
// while the payload the tail could still serve exceeds a sixteenth of the arena plus kFillMargin (the largest draw
// and one minimum block), it takes the next size. The tail is the allocator's own figure, overhead and rounding
// included: BasicHeap's stats().largest_free_block, as before the external allocators came (the same blocks, the
// same count); for TLSF and o1heap (TLSF keeps no statistics, o1heap only its capacity and bytes allocated; one
// rule for both), the free payload of the fresh arena less each
// block taken whole, checked against a walk of their blocks after the fill. So each allocator fills the same
// fraction of the arena with as many blocks as its overhead allows: o1heap, which rounds every block with its
// 32-byte header up to a power of two (393 B a block on average here, against 267 B in BasicHeap), holds about
// two thirds as many, and its cells of 2 N blocks run out sooner; TLSF's 6,536-byte control structure costs it the
// 64 KiB arena's 100 holes. A cell that an allocator cannot make reads "—" in its column, and the summary counts
// those where SegregatedFit could. One asymmetry stays: BasicHeap keeps its index in the heap object, outside the
// arena, where TLSF's control structure and o1heap's instance (576 B) lie inside it.
//
// Steady state, and what it leaves out. Each cell runs R warm-up rounds and then R timed rounds (R = 20,000), all
// drawn from the same generator: the warm-up touches the lists the timed rounds use without replaying their exact
// sequence. The tables' p99.9 is over the timed rounds. Without the warm-up it was the setup's doing: filling up
// to 1 GiB leaves none of the lines and TLB entries the rounds need, and SegregatedFit takes the head of one of
// up to ~50 lists (one per hole-size range; FirstFit reuses the one hole it freed last), so its first ~50 rounds
// each paid a page walk and cache misses of 0.3-1.4 us, and 50 of 20,000 samples is more than the 0.1 % a p99.9
// looks at (timing the same rounds twice, 4 KiB pages: the second pass's p99.9 at 1 GiB with 1,000 holes was
// 0.12 us against the first's 1.5 us; with 100,000 holes 0.57 against 0.82 us, the rest being the kernel entries
// below). That cold first use is real and is reported on its own, not hidden: the "cold first use" table gives, per
// cell, the slowest warm-up allocate whose block had not been used since the setup. The per-round records live in
// buffers written before the first cell, so no page fault lands among the rounds, and their timed part is written
// again after the warm-up, so that its lines come from the caches and not from memory (the fill of a large arena
// evicts them; the analysis below does not count the pause this makes as a kernel entry). Before that, free's p99.9 at
// 100,000 holes read 86-157 ns where the other cells read 37-46 (and FirstFit's and TLSF's allocate 145-169 ns there):
// the slow frees were rounds right after one whose record began a new cache line of the log (rounds 16 or 32 apart),
// and with the log rewritten the same cell reads 38-42 ns in both binaries. The store buffer commits in order, so a
// free whose loads waited on its own stores waited for the log's miss as well (inferred from that pattern; the VM has
// no counters). Which binary showed the step had followed the heap's and the log's addresses.
//
// Kernel entries. On the machine this was written on (a VM with page-table isolation and no PCID), a kernel entry
// flushes the TLB: the "kernel-entry probe" line measures it (one load of a line touched just before, median: 20
// ns; right after a getppid() call: 50 ns). Every timer tick therefore makes the next use of each list head a TLB
// miss again, ~50 refills per tick that no warm-up removes, costlier the larger the arena. The tables keep them:
// they are what a program on this machine sees. For diagnosis only, a further table leaves out each timed round
// that used its block for the first time since the last kernel entry (a gap of over 5 us between two rounds'
// starts: the CPU was away), so that what remains is the allocator's own steps on memory it has just used; the
// summary counts the kernel entries and the rounds left out.
//
// Which block, counted. A last table counts, per 10,000 timed rounds, the allocates that returned no hole's block.
// The holes lie between used blocks, so the only other free block is the arena's free tail: such an allocate was
// served from the tail, splitting it (the path that set SegregatedFit's allocate p99.9 in the cells of 1,000 holes
// and more, README "Scaling"). An allocate that takes a larger hole and splits it returns that hole's address and is
// not counted. It is not a timing, so the load does not move it, and it tells on a noisy machine whether a change to
// the fit removed that path.
//
// Pages. The arena is mapped with huge pages advised (MADV_HUGEPAGE; THP in mode "madvise" grants 2 MiB pages only
// on request; the header line says how much was granted), as a program with a 1 GiB heap would map it: a page walk
// over 4 KiB pages of 1 GiB reads page-table entries spread over 2 MiB, which do not stay cached, and the TLB
// refills above cost more. `--small-pages` measures 4 KiB pages instead.
//
// Selected cells. `--cells=16M:10,16M:1000` runs only the cells named (arena with a K, M or G suffix, then the
// free-block count; each must be a cell of the grid) and prints the tables over their rows and columns, "not run"
// where a row and a column meet at a cell not named. The arena is still mapped at 1 GiB, so the header line and the
// kernel-entry probe are those of a full run. A named cell the arena cannot hold is decided as in a full run, by
// the fill, and reads "—". The summary lines (largest ÷ smallest p99.9, kernel entries) and --plot_data then cover
// the named cells only.
//
// External allocators. //bench:scaling_bench_ext (tagged manual; it needs their sources, see
// third_party/ext_alloc/BUILD.bazel) adds the columns ext/tlsf and ext/o1heap to every table, through the adapters
// of fit_compare_ext (bench/tlsf_adapter.h, bench/o1heap_adapter.h), each cell made and timed as the heaps' are,
// and a "largest / smallest" line for each one's allocate and free p99.9. Their checks: a round's allocate never
// fails, and the free-block count (a walk of their blocks) is the same after the rounds as before. An allocator
// that cannot take an arena (adapter's refusal(): o1heap needs room for its instance once its base is aligned and
// truncates a capacity above (SIZE_MAX >> 1) + 1; TLSF files no block of tlsf_block_size_max(), 4 GiB, or more)
// reads "—" in that arena's cells, with a line before the tables saying why; none of the grid's arenas is refused
// on x86_64. Neither checks anything (-DNDEBUG), where the heaps run with their default BasicChecks.
// --plot_data writes SegregatedFit's and FirstFit's columns only.
//
// Under callgrind. The rounds call allocate and free through round_allocate and round_free, never inlined, so that
// `--toggle-collect='*round_*'` counts the heap's work in the rounds and nothing else (not the setup, the timer or
// the bookkeeping; allocate was a call before them, free was inlined into the loop and now pays a call: a few
// instructions, alike for both fits). Each allocator's cell calls
// `timed_rounds_begin()` before its first timed round and `timed_rounds_end()` after its last, so that
// `--dump-before='*timed_rounds_*'` writes one part per phase: per cell, SegregatedFit's warm-up, its timed rounds,
// then FirstFit's two (in scaling_bench_ext, then TLSF's two and o1heap's two). For instance
//   valgrind --tool=callgrind --cache-sim=yes --toggle-collect='*round_*' --dump-before='*timed_rounds_*'
//            bazel-bin/bench/scaling_bench --quick --cells=16M:1000
// writes callgrind.out.PID.2 (SegregatedFit's timed rounds) and .4 (FirstFit's), .6 and .8 for a second cell, and so
// on in the tables' order: divide by the samples per cell of the output's last line. (A cell whose time cap stops it
// during the warm-up calls neither marker, which shifts the numbering of the parts after it: its line says "capped";
// so does a column's "—", which runs no rounds.)
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "alloc/alloc.h"
#include "bench/cli_args.h"
#include "bench/mapped_memory.h"
#include "bench/output_file.h"
#include "bench/trace.h"
#include "bench/tsc_timer.h"

// The opt-in external allocators (//bench:scaling_bench_ext): their adapters' libraries define these switches.
#ifdef NOSTD_BENCH_O1HEAP
#include "bench/o1heap_adapter.h"
#endif
#ifdef NOSTD_BENCH_TLSF
#include "bench/tlsf_adapter.h"
#endif

namespace nostd::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kArenas[] = {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{16} << 20,
                                   std::size_t{256} << 20, std::size_t{1} << 30};
constexpr std::size_t kFreeBlocks[] = {10, 100, 1'000, 10'000, 100'000};
constexpr std::size_t kA = std::size(kArenas), kN = std::size(kFreeBlocks);

/// The heap every cell measures, with fit policy `Fit`.
template <class Fit>
using ScalingHeap = BasicHeap<Fit, CompactTags, RegionSource>;

/// A gap of this many nanoseconds between the starts of two consecutive rounds means the CPU left for the kernel
/// in between (an interrupt or a preemption): a round's own work takes well under 2 us even when cold.
constexpr double kKernelEntryGapNs = 5'000;

/// Latency percentiles of one allocator in one cell, in ticks.
struct Cell {
  bool feasible = false;             ///< the allocator took the arena and its fill left at least 2 N blocks
  bool capped = false;               ///< the time cap stopped the rounds early
  std::size_t samples = 0;           ///< rounds timed
  std::size_t free_blocks = 0;       ///< free blocks during the rounds (the allocator's own count)
  std::uint64_t alloc_p999 = 0;      ///< allocate latency, 99.9th percentile (steady state)
  std::uint64_t free_p999 = 0;       ///< free latency, 99.9th percentile (steady state)
  std::uint64_t alloc_p50 = 0;       ///< allocate latency, median
  std::uint64_t free_p50 = 0;        ///< free latency, median
  std::size_t kernel_entries = 0;    ///< gaps of over kKernelEntryGapNs among the timed rounds
  std::size_t refills = 0;           ///< timed rounds that used their block first since the last kernel entry
  std::uint64_t alloc_hot_p999 = 0;  ///< allocate p99.9 of the timed rounds that are not refills (diagnosis)
  std::size_t cold_uses = 0;         ///< warm-up rounds that used their block first since the setup
  std::uint64_t alloc_cold_p50 = 0;  ///< allocate latency of those rounds, median
  std::uint64_t alloc_cold_max = 0;  ///< and slowest
  std::size_t off_hole = 0;          ///< timed allocates that returned no hole's block (served from the free tail)
};

/// The `q` quantile of `v` (reorders it; 0 when empty).
std::uint64_t percentile(std::vector<std::uint32_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(static_cast<double>(v.size() - 1) * q);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

/// A payload size of 16..1024 bytes, log-uniform (as many per octave).
std::size_t draw_size(SplitMix64& rng) {
  const unsigned octave = static_cast<unsigned>(rng.range(4, 9));
  const std::size_t base = std::size_t{1} << octave;
  return base + static_cast<std::size_t>(rng.range(0, base - 1));
}

/// The fill's stop margin beyond a sixteenth of the arena: the largest draw (1023 bytes) rounded up, plus one
/// minimum block of ScalingHeap, so that every block of the fill is carved from the free tail. One figure for every
/// allocator (file comment, "Fill").
constexpr std::size_t kFillMargin = 1024 + ScalingHeap<FirstFit>::kMinBlockSize;
static_assert(ScalingHeap<SegregatedFit<>>::kMinBlockSize == ScalingHeap<FirstFit>::kMinBlockSize,
              "kFillMargin: both fits must stop their fill at the same margin, as run_cell did per fit before");

/// A BasicHeap as run_cell measures it: ScalingHeap<Fit> (allocated apart, as it was before the subjects: the
/// stack of run() need not hold it). The fill's free tail is stats().largest_free_block (O(free blocks): the fill
/// has one), and the heap counts its own free blocks.
template <class Fit>
class HeapSubject {
 public:
  /// BasicHeap takes every arena of the grid.
  static const char* refusal(std::span<const std::byte>) { return nullptr; }
  /// A fresh heap over `arena`.
  explicit HeapSubject(std::span<std::byte> arena) : heap_(std::make_unique<ScalingHeap<Fit>>(arena)) {}
  /// A block of `size` bytes, or nullptr.
  void* allocate(std::size_t size) {
    const Result<void*> p = heap_->allocate(size);
    return p ? *p : nullptr;
  }
  /// Frees `p`.
  void free(void* p) { heap_->deallocate(p); }
  /// The largest request the free tail serves (during the fill, the tail is the only free block).
  std::size_t tail_payload() const { return heap_->stats().largest_free_block; }
  /// allocate() during the fill (the heap keeps its own tail figure).
  void* fill_allocate(std::size_t size) { return allocate(size); }
  /// Nothing to check: tail_payload() is the heap's own figure.
  void check_fill() const {}
  /// The heap's free blocks.
  std::size_t free_blocks() const { return heap_->stats().free_blocks; }

 private:
  std::unique_ptr<ScalingHeap<Fit>> heap_;
};

#if defined(NOSTD_BENCH_O1HEAP) || defined(NOSTD_BENCH_TLSF)
/// An external allocator as run_cell measures it, through its fit-comparison adapter. Neither tells its free tail
/// as BasicHeap's stats() does (TLSF keeps no statistics, o1heap only its capacity and bytes allocated), so the
/// fill's free tail is counted here: the adapter's free payload on the fresh arena (one free
/// block), less each block the fill takes as a whole (block_overhead(p, 0): header, payload and rounding, so its
/// own overhead); check_fill() compares that count with a walk of the allocator's blocks.
template <class Adapter>
class ExtSubject {
 public:
  /// Why the allocator cannot take `arena`, or nullptr (the adapter's refusal()).
  static const char* refusal(std::span<const std::byte> arena) { return Adapter::refusal(arena); }
  /// The allocator over `arena`, its tail the free payload of the fresh arena.
  explicit ExtSubject(std::span<std::byte> arena) : adapter_(arena), tail_(adapter_.free_space().bytes_free) {}
  /// A block of `size` bytes, or nullptr.
  void* allocate(std::size_t size) { return adapter_.allocate(size); }
  /// Frees `p`.
  void free(void* p) { adapter_.free(p, 0); }
  /// The free tail's payload during the fill, as counted.
  std::size_t tail_payload() const { return tail_; }
  /// allocate() during the fill, less the block's whole size from the tail counted.
  void* fill_allocate(std::size_t size) {
    void* const p = adapter_.allocate(size);
    if (p != nullptr) tail_ -= adapter_.block_overhead(p, 0);
    return p;
  }
  /// Aborts unless the tail counted is the one free block a walk finds (O(blocks)).
  void check_fill() const {
    const FreeSpace walked = adapter_.free_space();
    if (adapter_.free_blocks() != 1 || walked.bytes_free != tail_) {
      std::fprintf(stderr, "scaling_bench: the fill's tail count (%zu) is not the walk's (%zu in %zu blocks)\n", tail_,
                   walked.bytes_free, adapter_.free_blocks());
      std::abort();
    }
  }
  /// The allocator's free blocks, by a walk (O(blocks)).
  std::size_t free_blocks() const { return adapter_.free_blocks(); }

 private:
  Adapter adapter_;
  std::size_t tail_;  ///< payload of the free tail during the fill
};
#endif

/// A round's allocate and free, never inlined (as op_count's counted_allocate and counted_free), so that
/// callgrind's `--toggle-collect` can count them and nothing else of the loop (file comment). The setup calls the
/// allocator directly. Free was inlined into the loop before: its call adds a few instructions, alike for every
/// allocator.
template <class Subject>
[[gnu::noinline]] void* round_allocate(Subject& subject, std::size_t size) {
  return subject.allocate(size);
}
template <class Subject>
[[gnu::noinline]] void round_free(Subject& subject, void* p) {
  subject.free(p);
}

/// Markers for callgrind's `--dump-before` (file comment): called before a cell's first timed round and after its
/// last, outside the timed calls. Never inlined, and an empty volatile asm, so that the compiler keeps the calls
/// although the bodies do nothing (GCC's noipa would say it in one word, but clang does not know it).
[[gnu::noinline]] void timed_rounds_begin() { asm volatile(""); }
[[gnu::noinline]] void timed_rounds_end() { asm volatile(""); }

/// A tick count stored in 32 bits (a preempted call can take seconds; the percentiles need no more).
std::uint32_t clamp_ticks(std::uint64_t ticks) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(ticks, UINT32_MAX));
}

/// What every round of a cell records. Sized and written once before the first cell, so that no page fault (a
/// kernel entry, which flushes the TLB on the machine described above) happens while rounds are timed.
struct RoundLog {
  /// Room for `rounds` rounds, every page touched.
  explicit RoundLog(std::size_t rounds) : alloc_ticks(rounds), free_ticks(rounds), starts(rounds), blocks(rounds) {}
  /// Writes rounds [begin, end) again, outside the timed calls, so that their lines are cached when the rounds write
  /// them (file comment, "Steady state": a record's cache miss showed in the next round's free).
  void warm(std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      alloc_ticks[r] = 0;
      free_ticks[r] = 0;
      starts[r] = 0;
      blocks[r] = nullptr;
    }
  }
  std::vector<std::uint32_t> alloc_ticks;  ///< allocate latency per round
  std::vector<std::uint32_t> free_ticks;   ///< free latency per round
  std::vector<std::uint64_t> starts;       ///< TSC at the start of each round's allocate
  std::vector<const void*> blocks;         ///< the block each round's allocate returned
};

/// One cell: `Subject` (named `name` in messages) over `arena` with `holes` free blocks, `rounds` warm-up rounds
/// and `rounds` timed rounds (`log` holds at least 2 x rounds). The caller has checked Subject::refusal(arena).
template <class Subject>
Cell run_cell(std::span<std::byte> arena, std::size_t holes, std::size_t rounds, double cap_seconds,
              std::uint64_t gap_ticks, RoundLog& log, const char* name) {
  Cell cell;
  Subject subject(arena);
  SplitMix64 rng(0x5CA1E + holes);
  std::vector<void*> blocks;
  std::vector<std::size_t> sizes;
  // The fill: the same size sequence for every allocator, each stopping by its own free tail (file comment).
  const std::size_t reserve = arena.size() / 16;
  while (subject.tail_payload() > reserve + kFillMargin) {
    const std::size_t size = draw_size(rng);
    void* const p = subject.fill_allocate(size);
    if (p == nullptr) break;
    blocks.push_back(p);
    sizes.push_back(size);
  }
  subject.check_fill();
  if (blocks.size() < 2 * holes) return cell;
  cell.feasible = true;
  const std::size_t step = blocks.size() / holes;
  std::vector<std::size_t> hole_sizes;
  std::unordered_set<const void*> hole_blocks;  // every hole sits between used blocks, so it keeps its address
  for (std::size_t i = 0; i < holes; ++i) {
    subject.free(blocks[i * step]);
    hole_sizes.push_back(sizes[i * step]);
    hole_blocks.insert(blocks[i * step]);
  }
  cell.free_blocks = subject.free_blocks();
  // Rounds [0, rounds) warm up, [rounds, 2 rounds) are timed; all are recorded, and sorted out afterwards.
  const std::size_t total = std::min(2 * rounds, log.alloc_ticks.size());
  std::size_t done = 0;
  const auto start = Clock::now();
  for (; done < total; ++done) {
    if (done == rounds) {
      log.warm(rounds, total);
      timed_rounds_begin();
    }
    const std::size_t size = hole_sizes[static_cast<std::size_t>(rng.range(0, holes - 1))];
    const std::uint64_t t0 = tsc_begin();
    void* const p = round_allocate(subject, size);
    const std::uint64_t t1 = tsc_end();
    if (p == nullptr) {
      std::fprintf(stderr, "scaling_bench: %s: allocate(%zu) failed with %zu holes\n", name, size, holes);
      std::abort();
    }
    static_cast<unsigned char*>(p)[size - 1] = 1;  // the block is really there
    const std::uint64_t t2 = tsc_begin();
    round_free(subject, p);
    const std::uint64_t t3 = tsc_end();
    log.alloc_ticks[done] = clamp_ticks(t1 - t0);
    log.free_ticks[done] = clamp_ticks(t3 - t2);
    log.starts[done] = t0;
    log.blocks[done] = p;
    if ((done & 255) == 255 && std::chrono::duration<double>(Clock::now() - start).count() > cap_seconds) {
      cell.capped = true;
      ++done;
      break;
    }
  }
  if (done > rounds) timed_rounds_end();
  if (subject.free_blocks() != cell.free_blocks) {
    std::fprintf(stderr, "scaling_bench: %s: the free-block count drifted (%zu -> %zu)\n", name, cell.free_blocks,
                 subject.free_blocks());
    std::abort();
  }
  // First uses: of a block since the setup (warm-up rounds: cold), or since the last kernel entry (timed rounds:
  // refills). The block stands for the memory a round touches (its list neighbours and the split tail's list head
  // are as stable: allocate-then-free puts every list back as it was).
  std::unordered_set<const void*> since_setup, since_entry;
  std::vector<std::uint32_t> cold, hot;
  for (std::size_t r = 0; r < done; ++r) {
    const bool timed = r >= rounds;
    // The gap before the first timed round holds RoundLog::warm, not a kernel entry.
    if (r > 0 && r != rounds && log.starts[r] - log.starts[r - 1] > gap_ticks) {
      since_entry.clear();
      cell.kernel_entries += timed ? 1 : 0;
    }
    if (timed && hole_blocks.count(log.blocks[r]) == 0) ++cell.off_hole;
    const bool first_since_setup = since_setup.insert(log.blocks[r]).second;
    const bool first_since_entry = since_entry.insert(log.blocks[r]).second;
    if (!timed) {
      if (first_since_setup) cold.push_back(log.alloc_ticks[r]);
    } else if (first_since_entry) {
      ++cell.refills;
    } else {
      hot.push_back(log.alloc_ticks[r]);
    }
  }
  cell.cold_uses = cold.size();
  cell.alloc_cold_p50 = percentile(cold, 0.5);
  cell.alloc_cold_max = cold.empty() ? 0 : *std::max_element(cold.begin(), cold.end());
  cell.alloc_hot_p999 = percentile(hot, 0.999);
  // The steady state: the timed rounds, everything included.
  const auto first_timed = static_cast<std::ptrdiff_t>(std::min(rounds, done));
  std::vector<std::uint32_t> alloc_ticks(log.alloc_ticks.begin() + first_timed,
                                         log.alloc_ticks.begin() + static_cast<std::ptrdiff_t>(done));
  std::vector<std::uint32_t> free_ticks(log.free_ticks.begin() + first_timed,
                                        log.free_ticks.begin() + static_cast<std::ptrdiff_t>(done));
  cell.samples = alloc_ticks.size();
  cell.alloc_p999 = percentile(alloc_ticks, 0.999);
  cell.free_p999 = percentile(free_ticks, 0.999);
  cell.alloc_p50 = percentile(alloc_ticks, 0.5);
  cell.free_p50 = percentile(free_ticks, 0.5);
  return cell;
}

/// "64 KiB", "16 MiB", "1 GiB".
std::string size_name(std::size_t bytes) {
  char buf[32];
  if (bytes >= (std::size_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%zu GiB", bytes >> 30);
  } else if (bytes >= (std::size_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%zu MiB", bytes >> 20);
  } else {
    std::snprintf(buf, sizeof buf, "%zu KiB", bytes >> 10);
  }
  return buf;
}

/// "64K", "16M", "1G": the spelling `--cells` takes.
std::string short_size_name(std::size_t bytes) {
  const char* const suffixes = "KMG";
  int unit = 0;
  for (bytes >>= 10; unit < 2 && bytes >= 1024 && bytes % 1024 == 0; ++unit) bytes >>= 10;
  return std::to_string(bytes) + suffixes[unit];
}

/// The cells a run measures: all of them, or those `--cells` names.
struct CellSelection {
  bool all = true;          ///< no --cells: every cell
  bool named[kA][kN] = {};  ///< with --cells: the cells named
  bool has(std::size_t a, std::size_t n) const { return all || named[a][n]; }
  bool has_arena(std::size_t a) const {
    for (std::size_t n = 0; n < kN; ++n) {
      if (has(a, n)) return true;
    }
    return false;
  }
  bool has_count(std::size_t n) const {
    for (std::size_t a = 0; a < kA; ++a) {
      if (has(a, n)) return true;
    }
    return false;
  }
};

/// The digits of `text` as a number, or false (empty, another character, or above 999,999,999,999).
bool parse_count(std::string_view text, std::size_t& value) {
  const std::optional<std::uint64_t> number = parse_whole(text, 999'999'999'999);
  if (!number) return false;
  value = static_cast<std::size_t>(*number);
  return true;
}

/// Parses `--cells`' list ("16M:10,16M:1000") into `out`. Returns "" or what is wrong with it, in one line.
std::string parse_cells(std::string_view list, CellSelection& out) {
  const std::string whole(list);  // for messages: `list` is consumed cell by cell
  out.all = false;
  std::string arenas, counts;
  for (const std::size_t bytes : kArenas) arenas += (arenas.empty() ? "" : ", ") + short_size_name(bytes);
  for (const std::size_t n : kFreeBlocks) counts += (counts.empty() ? "" : ", ") + std::to_string(n);
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    if (item.empty()) return "an empty cell in '" + whole + "': expected ARENA:COUNT, e.g. 16M:1000";
    const std::size_t colon = item.find(':');
    std::size_t number = 0, holes = 0;
    if (colon == std::string_view::npos || colon == 0) {
      return "malformed cell '" + std::string(item) + "': expected ARENA:COUNT, e.g. 16M:1000";
    }
    // The suffix first: an arena of one digit and no suffix ('0:10') had been called malformed, as if the colon were
    // missing, while '16:10' was told what it lacks.
    const int shift = binary_suffix_shift(item[colon - 1]);
    if (shift == 0) {
      return "malformed cell '" + std::string(item) + "': the arena needs a K, M or G suffix, e.g. 16M:1000";
    }
    if (!parse_count(item.substr(0, colon - 1), number) || !parse_count(item.substr(colon + 1), holes)) {
      return "malformed cell '" + std::string(item) + "': expected ARENA:COUNT, e.g. 16M:1000";
    }
    const std::size_t* const arena = number > (std::size_t{1} << 20)
                                         ? std::end(kArenas)
                                         : std::find(std::begin(kArenas), std::end(kArenas), number << shift);
    if (arena == std::end(kArenas)) {
      return "unknown arena in '" + std::string(item) + "': the arenas are " + arenas;
    }
    const std::size_t* const count = std::find(std::begin(kFreeBlocks), std::end(kFreeBlocks), holes);
    if (count == std::end(kFreeBlocks)) {
      return "free-block count " + std::to_string(holes) + " of '" + std::string(item) + "' is not in the table (" +
             counts + ")";
    }
    out.named[arena - std::begin(kArenas)][count - std::begin(kFreeBlocks)] = true;
    if (comma == std::string_view::npos) return "";
    list.remove_prefix(comma + 1);
  }
}

/// Command-line options (see main's usage text).
struct Options {
  bool quick = false;                    ///< 2,000 rounds per cell instead of 20,000
  bool small_pages = false;              ///< the arena in 4 KiB pages instead of huge pages advised
  std::optional<std::string> plot_path;  ///< --plot_data's file, checked before the run (check_output), if given
  CellSelection cells;                   ///< the cells to run (--cells; default all)
};

/// The process's transparent huge pages, in bytes (AnonHugePages of /proc/self/smaps_rollup; 0 when unreadable).
std::size_t anon_huge_page_bytes() {
  std::FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return 0;
  char line[256];
  std::size_t kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "AnonHugePages: %zu kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib << 10;
}

/// What a kernel entry does to memory already in use: the median latency (ticks, timer included) of one load from
/// each of 50 random cache lines spread over `region`, all touched just before, loaded again with nothing in
/// between (`warm`) and right after a getppid() system call (`after_entry`). Where a kernel entry flushes the TLB
/// (page-table isolation without PCID), the second pays a page walk per line.
struct EntryProbe {
  std::uint64_t warm = 0;         ///< median load latency, no kernel entry since the last touch
  std::uint64_t after_entry = 0;  ///< median load latency right after a system call
};

/// Measures EntryProbe over `region` (which must be mapped and written).
EntryProbe probe_kernel_entry(std::span<std::byte> region) {
  constexpr std::size_t kLines = 50, kRepeats = 200;
  std::size_t offsets[kLines];
  SplitMix64 rng(0x7EB);
  for (std::size_t& off : offsets) off = static_cast<std::size_t>(rng.range(0, region.size() / 64 - 1)) * 64;
  std::vector<std::uint32_t> warm, after_entry;
  warm.reserve(kLines * kRepeats);
  after_entry.reserve(kLines * kRepeats);
  volatile const std::byte* const base = region.data();
  for (std::size_t rep = 0; rep < kRepeats; ++rep) {
    for (const std::size_t off : offsets) static_cast<void>(base[off]);
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 0) ::syscall(SYS_getppid);
      for (const std::size_t off : offsets) {
        const std::uint64_t t0 = tsc_begin();
        static_cast<void>(base[off]);
        const std::uint64_t t1 = tsc_end();
        (pass == 0 ? after_entry : warm).push_back(clamp_ticks(t1 - t0));
      }
    }
  }
  return {percentile(warm, 0.5), percentile(after_entry, 0.5)};
}

using Grid = Cell[kA][kN];

/// One allocator of the tables: a column of every cell, in this order.
struct Column {
  const char* name;        ///< in the tables' titles and the summary
  const char* short_name;  ///< in the samples line
  bool range_lines;        ///< prints its own "largest / smallest" lines (SegregatedFit's come with its diagnosis)
  const char* (*refusal)(std::span<const std::byte> arena);  ///< why it cannot take `arena`, or nullptr
  Cell (*run)(std::span<std::byte>, std::size_t, std::size_t, double, std::uint64_t, RoundLog&, const char*);
};

/// SegregatedFit and FirstFit; in //bench:scaling_bench_ext, TLSF and o1heap after them.
constexpr Column kColumns[] = {
    {"SegregatedFit", "seg", false, &HeapSubject<SegregatedFit<>>::refusal, &run_cell<HeapSubject<SegregatedFit<>>>},
    {"FirstFit", "first", false, &HeapSubject<FirstFit>::refusal, &run_cell<HeapSubject<FirstFit>>},
#ifdef NOSTD_BENCH_TLSF
    {"ext/tlsf", "tlsf", true, &ExtSubject<TlsfAdapter>::refusal, &run_cell<ExtSubject<TlsfAdapter>>},
#endif
#ifdef NOSTD_BENCH_O1HEAP
    {"ext/o1heap", "o1heap", true, &ExtSubject<O1heapAdapter>::refusal, &run_cell<ExtSubject<O1heapAdapter>>},
#endif
};
constexpr std::size_t kC = std::size(kColumns);

/// The columns' names joined by `separator`: "SegregatedFit / FirstFit", the order of a cell's values.
std::string column_names(bool short_names, const char* separator) {
  std::string names;
  for (const Column& c : kColumns)
    names += (names.empty() ? "" : separator) + std::string(short_names ? c.short_name : c.name);
  return names;
}

/// A markdown table over the grid (the rows and columns of the selected cells): `value(cell)` / `divisor` of every
/// column per cell (ticks / ticks per ns: ns, the `unit` of the title); "—" for a column that could not run the cell,
/// and for the whole cell when none could.
template <class Value>
void print_table(const char* title, const char* unit, const Grid (&grids)[kC], const CellSelection& cells,
                 double divisor, Value value) {
  std::printf("#### %s, %s: %s\n\n| arena \\ free blocks |", title, unit, column_names(false, " / ").c_str());
  for (std::size_t n = 0; n < kN; ++n) {
    if (cells.has_count(n)) std::printf(" %zu |", kFreeBlocks[n]);
  }
  std::printf("\n|---|");
  for (std::size_t n = 0; n < kN; ++n) {
    if (cells.has_count(n)) std::printf("--:|");
  }
  std::printf("\n");
  for (std::size_t a = 0; a < kA; ++a) {
    if (!cells.has_arena(a)) continue;
    std::printf("| %s |", size_name(kArenas[a]).c_str());
    for (std::size_t n = 0; n < kN; ++n) {
      if (!cells.has_count(n)) continue;
      if (!cells.has(a, n)) {
        std::printf(" not run |");
        continue;
      }
      bool any = false, capped = false;
      std::string text;
      for (std::size_t c = 0; c < kC; ++c) {
        const Cell& cell = grids[c][a][n];
        any = any || cell.feasible;
        capped = capped || cell.capped;
        char buf[32] = "—";
        if (cell.feasible) std::snprintf(buf, sizeof buf, "%.0f", static_cast<double>(value(cell)) / divisor);
        text += (c == 0 ? "" : " / ") + std::string(buf);
      }
      std::printf(" %s%s |", any ? text.c_str() : "—", capped ? " (capped)" : "");
    }
    std::printf("\n");
  }
  std::printf("\n");
}

/// How many cells of `grid` were run.
std::size_t feasible_cells(const Grid& grid) {
  std::size_t count = 0;
  for (const auto& row : grid) {
    for (const Cell& cell : row) count += cell.feasible ? 1 : 0;
  }
  return count;
}

/// The smallest and largest `value(cell)` over the feasible cells of `grid` (call it with at least one).
template <class Value>
std::pair<double, double> cell_range(const Grid& grid, Value value) {
  double lo = 1e300, hi = 0;
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      if (!grid[a][n].feasible) continue;
      const auto v = static_cast<double>(value(grid[a][n]));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  return {lo, hi};
}

/// `name`'s allocate and free p99.9 ranges over the feasible cells of `grid` (at least one), with the ratio the
/// target reads (largest / smallest), in ns at `tpn` ticks per ns.
void print_ranges(const char* name, const Grid& grid, double tpn) {
  const auto alloc = cell_range(grid, [](const Cell& c) { return c.alloc_p999; });
  const auto dealloc = cell_range(grid, [](const Cell& c) { return c.free_p999; });
  std::printf("%s allocate p99.9: %.0f .. %.0f ns, largest / smallest = %.2f\n", name, alloc.first / tpn,
              alloc.second / tpn, alloc.second / alloc.first);
  std::printf("%s free p99.9: %.0f .. %.0f ns, largest / smallest = %.2f\n", name, dealloc.first / tpn,
              dealloc.second / tpn, dealloc.second / dealloc.first);
}

int run(const Options& opt) {
  const double tpn = calibrate_ticks_per_ns();
  const double timer_ns = static_cast<double>(timer_cost_ticks()) / tpn;
  const std::size_t rounds = opt.quick ? 2'000 : 20'000;
  const double cap = opt.quick ? 0.5 : 4.0;
  const auto gap_ticks = static_cast<std::uint64_t>(kKernelEntryGapNs * tpn);
  const MappedRegion region(kArenas[kA - 1], opt.small_pages ? HugePages::kNo : HugePages::kAdvise);
  const EntryProbe entry = probe_kernel_entry(region.first(region.size()));
  std::printf(
      "scaling_bench: %zu warm-up + %zu timed rounds per cell (cap %.1f s), TSC %.3f ticks/ns, timer cost "
      "%.1f ns%s; arena %s, %zu of %zu MiB in huge pages\n",
      rounds, rounds, cap, tpn, timer_ns,
#ifdef __OPTIMIZE__
      ", optimised",
#else
      ", NOT optimised",
#endif
      opt.small_pages ? "in 4 KiB pages (--small-pages)" : "with huge pages advised", anon_huge_page_bytes() >> 20,
      region.size() >> 20);
  std::printf(
      "kernel-entry probe: one load of a line touched just before, median over 50 lines of the %zu MiB arena: "
      "%.0f ns, right after a system call %.0f ns (a TLB flush on kernel entry shows as the difference)\n\n",
      region.size() >> 20, static_cast<double>(entry.warm) / tpn, static_cast<double>(entry.after_entry) / tpn);
  // An allocator that cannot take an arena reads "—" in that arena's cells; why, in one line each.
  for (const Column& column : kColumns) {
    for (std::size_t a = 0; a < kA; ++a) {
      const char* const why = opt.cells.has_arena(a) ? column.refusal(region.first(kArenas[a])) : nullptr;
      if (why != nullptr) std::printf("%s: — at %s: %s\n\n", column.name, size_name(kArenas[a]).c_str(), why);
    }
  }
  static Grid grids[kC];
  const Grid& seg = grids[0];
  const Grid& first = grids[1];
  RoundLog log(2 * rounds);
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      if (!opt.cells.has(a, n)) continue;
      const std::span<std::byte> arena = region.first(kArenas[a]);
      for (std::size_t c = 0; c < kC; ++c) {
        if (kColumns[c].refusal(arena) != nullptr) continue;  // not feasible: "—"
        grids[c][a][n] = kColumns[c].run(arena, kFreeBlocks[n], rounds, cap, gap_ticks, log, kColumns[c].name);
      }
      std::fprintf(stderr, ".");
    }
  }
  std::fprintf(stderr, "\n");
  auto ns = [tpn](double ticks) { return ticks / tpn; };
  print_table("allocate latency p99.9", "ns", grids, opt.cells, tpn, [](const Cell& c) { return c.alloc_p999; });
  print_table("free latency p99.9", "ns", grids, opt.cells, tpn, [](const Cell& c) { return c.free_p999; });
  print_table("diagnosis: allocate p99.9 without the first use of each block after a kernel entry (TLB refills)", "ns",
              grids, opt.cells, tpn, [](const Cell& c) { return c.alloc_hot_p999; });
  print_table("cold first use after the setup (warm-up rounds whose block was not used before), allocate, slowest",
              "ns", grids, opt.cells, tpn, [](const Cell& c) { return c.alloc_cold_max; });
  // Not a timing: which block each timed allocate returned. The holes lie between used blocks, so one that returns no
  // hole's block was served from the arena's free tail (file comment, "Which block, counted").
  print_table("timed allocates served from the arena's free tail (no hole's block returned)", "per 10,000 rounds",
              grids, opt.cells, 1.0, [](const Cell& c) {
                return c.samples == 0 ? 0.0
                                      : 10'000.0 * static_cast<double>(c.off_hole) / static_cast<double>(c.samples);
              });
  if (feasible_cells(seg) == 0) {
    std::printf("SegregatedFit: no cell run (every cell named reads \"—\")\n");
  } else {
    // The target: SegregatedFit's p99.9 across the grid within 1.5x of its smallest value.
    print_ranges("SegregatedFit", seg, tpn);
    const auto hot = cell_range(seg, [](const Cell& c) { return c.alloc_hot_p999; });
    const auto cold_p50 = cell_range(seg, [](const Cell& c) { return c.alloc_cold_p50; });
    const auto cold_max = cell_range(seg, [](const Cell& c) { return c.alloc_cold_max; });
    const auto uses = cell_range(seg, [](const Cell& c) { return c.cold_uses; });
    const auto entries = cell_range(seg, [](const Cell& c) { return c.kernel_entries; });
    const auto refills = cell_range(seg, [](const Cell& c) { return c.refills; });
    std::printf(
        "SegregatedFit allocate p99.9 without post-kernel-entry refills (diagnosis): %.0f .. %.0f ns, "
        "largest / smallest = %.2f\n",
        ns(hot.first), ns(hot.second), hot.second / hot.first);
    std::printf(
        "SegregatedFit cold first use after the setup: %.0f .. %.0f blocks per cell, allocate median %.0f .. "
        "%.0f ns, slowest %.0f .. %.0f ns\n",
        uses.first, uses.second, ns(cold_p50.first), ns(cold_p50.second), ns(cold_max.first), ns(cold_max.second));
    std::printf(
        "SegregatedFit timed rounds: %.0f .. %.0f kernel entries (gaps over %.0f us) per cell, %.0f .. %.0f "
        "refills per cell\n",
        entries.first, entries.second, kKernelEntryGapNs / 1000, refills.first, refills.second);
  }
  // The external allocators' own ranges, over the cells each could run, and the cells it could not where
  // SegregatedFit could (its fill left fewer than 2 N blocks: o1heap's power-of-two blocks take more room).
  for (std::size_t c = 0; c < kC; ++c) {
    if (!kColumns[c].range_lines) continue;
    const char* const name = kColumns[c].name;
    std::size_t short_cells = 0;
    for (std::size_t a = 0; a < kA; ++a) {
      for (std::size_t n = 0; n < kN; ++n) {
        const bool refused = kColumns[c].refusal(region.first(kArenas[a])) != nullptr;
        short_cells += seg[a][n].feasible && !grids[c][a][n].feasible && !refused ? 1 : 0;
      }
    }
    if (feasible_cells(grids[c]) == 0) {
      std::printf("%s: no cell run\n", name);
    } else {
      print_ranges(name, grids[c], tpn);
    }
    if (short_cells != 0) {
      std::printf("%s: — in %zu cell(s) SegregatedFit runs: its fill of the arena left fewer than 2 N blocks\n", name,
                  short_cells);
    }
  }
  std::printf("\nsamples per cell (%s): ", column_names(true, " / ").c_str());
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      std::string text;
      bool any = false;
      for (std::size_t c = 0; c < kC; ++c) {
        any = any || grids[c][a][n].feasible;
        text += (c == 0 ? "" : "/") + (grids[c][a][n].feasible ? std::to_string(grids[c][a][n].samples) : "—");
      }
      if (any) std::printf("%s ", text.c_str());
    }
  }
  std::printf("\n");
  if (opt.plot_path) {
    // gnuplot data: one block per arena; columns free blocks, seg alloc, first alloc, seg free, first free, seg alloc
    // and first alloc without the post-kernel-entry refills (ns). SegregatedFit and FirstFit only, also in _ext.
    std::optional<OutputFile> out = open_output("scaling_bench", "--plot_data", *opt.plot_path);
    if (!out) return 1;
    std::FILE* const f = out->stream();
    for (std::size_t a = 0; a < kA; ++a) {
      std::fprintf(f, "# arena %s\n", size_name(kArenas[a]).c_str());
      for (std::size_t n = 0; n < kN; ++n) {
        if (!seg[a][n].feasible) continue;
        std::fprintf(f, "%zu %.1f %.1f %.1f %.1f %.1f %.1f\n", kFreeBlocks[n],
                     ns(static_cast<double>(seg[a][n].alloc_p999)), ns(static_cast<double>(first[a][n].alloc_p999)),
                     ns(static_cast<double>(seg[a][n].free_p999)), ns(static_cast<double>(first[a][n].free_p999)),
                     ns(static_cast<double>(seg[a][n].alloc_hot_p999)),
                     ns(static_cast<double>(first[a][n].alloc_hot_p999)));
      }
      std::fprintf(f, "\n\n");
    }
    if (!close_output("scaling_bench", "--plot_data", *opt.plot_path, *out)) return 1;
  }
  return 0;
}

// The usage text, on stdout for --help (an unknown option gets one line on stderr that points there).
void print_usage(std::FILE* out) {
  std::fputs(
      "usage: scaling_bench [--quick] [--small-pages] [--cells=ARENA:COUNT,...] [--plot_data=FILE]\n"
      "  --quick            2,000 rounds per cell instead of 20,000, 0.5 s cap instead of 4 s\n"
      "  --small-pages      the arena in 4 KiB pages (default: huge pages advised)\n"
      "  --cells=LIST       only these cells, e.g. 16M:10,16M:1000 (arena 64K, 1M, 16M, 256M or 1G;\n"
      "                     free blocks 10, 100, 1000, 10000 or 100000; default: every cell); a cell\n"
      "                     the arena cannot hold reads \"—\", as in a full run\n"
      "  --plot_data=FILE   also write gnuplot data (used by //bench:scaling_chart; SegregatedFit and\n"
      "                     FirstFit)\n"
      "  -h, --help         this text (on stdout, exit 0)\n"
      "scaling_bench_ext (./bazelw build -c opt //bench:scaling_bench_ext, then bazel-bin/bench/):\n"
      "  the same, with the columns ext/tlsf and ext/o1heap in every table\n",
      out);
}

}  // namespace
}  // namespace nostd::bench

int main(int argc, char** argv) {
  nostd::bench::Options opt;
  std::optional<std::string> plot_path;  // --plot_data's file, checked once every option is accepted
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view value;
    if (arg == "--quick") {
      opt.quick = true;
    } else if (arg == "--small-pages") {
      opt.small_pages = true;
    } else if (nostd::bench::option_value(arg, "--plot_data=", &value)) {
      plot_path = std::string(value);
    } else if (nostd::bench::option_value(arg, "--cells=", &value)) {
      const std::string error = nostd::bench::parse_cells(value, opt.cells);
      if (!error.empty()) {
        std::fprintf(stderr, "scaling_bench: --cells: %s\n", error.c_str());
        return 2;
      }
    } else if (arg == "--help" || arg == "-h") {
      nostd::bench::print_usage(stdout);
      return 0;
    } else {
      nostd::bench::print_unknown_option("scaling_bench", arg, {"--plot_data=", "--cells="});
      return 2;
    }
  }
  if (plot_path) {
    // Checked now, so that a path that cannot be written is refused before the run, not after it.
    opt.plot_path = nostd::bench::check_output("scaling_bench", "--plot_data", *plot_path);
    if (!opt.plot_path) return 2;
  }
  return nostd::bench::run(opt);
}
