// bench/scaling_bench.cc — `./bazelw run //bench:scaling_bench`: how allocate and free latency grow with the arena
// and with the number of free blocks, SegregatedFit beside FirstFit.
//
// Method. For every arena size (64 KiB .. 1 GiB) and free-block count N (10 .. 100,000) that the arena can hold,
// a fresh BasicHeap<Fit, CompactTags, RegionSource> (default checks) is filled with blocks of 16..1024 bytes
// (log-uniform, seeded) until less than 1/16 of the arena is left, and then every k-th block is freed so that N
// holes are spread evenly over the whole arena (the rest of the arena stays one free block at the end, so there
// are N + 1 free blocks). Then rounds each allocate one block and free it at once, timing both calls with the
// TSC. The request sizes are those of the holes, drawn at random, so every request fits some hole but usually not
// the first one a list walk meets; allocate-then-free leaves the free-block count unchanged (the carved block
// merges back into its hole). The tables report the 99.9th percentile of each call's latency (timer cost
// included) and the sample count; a cell that hits the time cap stops early and says so.
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
// buffers written before the first cell, so no page fault lands among the rounds.
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
// Pages. The arena is mapped with huge pages advised (MADV_HUGEPAGE; THP in mode "madvise" grants 2 MiB pages only
// on request; the header line says how much was granted), as a program with a 1 GiB heap would map it: a page walk
// over 4 KiB pages of 1 GiB reads page-table entries spread over 2 MiB, which do not stay cached, and the TLB
// refills above cost more. `--small-pages` measures 4 KiB pages instead.
//
// Selected cells. `--cells=16M:10,16M:1000` runs only the cells named (arena with a K, M or G suffix, then the
// free-block count; each must be a cell of the grid that the arena can hold) and prints the tables over their rows
// and columns, "not run" where a row and a column meet at a cell not named. The arena is still mapped at 1 GiB, so
// the header line and the kernel-entry probe are those of a full run. A cell the arena cannot hold is one where 15/16
// of it takes fewer than 2 N blocks of the fill's mean size (267 B with CompactTags), the "—" cells of a full run.
// The summary lines (largest ÷ smallest p99.9, kernel entries) and --plot_data then cover the named cells only.
//
// Under callgrind. The rounds call allocate and free through round_allocate and round_free, never inlined, so that
// `--toggle-collect='*round_*'` counts the heap's work in the rounds and nothing else (not the setup, the timer or
// the bookkeeping; allocate was a call before them, free was inlined into the loop and now pays a call: a few
// instructions, alike for both fits). Each fit's cell calls
// `timed_rounds_begin()` before its first timed round and `timed_rounds_end()` after its last, so that
// `--dump-before='*timed_rounds_*'` writes one part per phase: per cell, SegregatedFit's warm-up, its timed rounds,
// then FirstFit's two. For instance
//   valgrind --tool=callgrind --cache-sim=yes --toggle-collect='*round_*' --dump-before='*timed_rounds_*'
//            bazel-bin/bench/scaling_bench --quick --cells=16M:1000
// writes callgrind.out.PID.2 (SegregatedFit's timed rounds) and .4 (FirstFit's), .6 and .8 for a second cell, and so
// on in the tables' order: divide by the samples per cell of the output's last line. (A cell whose time cap stops it
// during the warm-up calls neither marker, which shifts the numbering of the parts after it: its line says "capped".)
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
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "alloc/alloc.h"
#include "bench/mapped_memory.h"
#include "bench/trace.h"
#include "bench/tsc_timer.h"

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

/// Latency percentiles of one cell, in ticks.
struct Cell {
  bool feasible = false;             ///< the arena holds 2 N blocks
  bool capped = false;               ///< the time cap stopped the rounds early
  std::size_t samples = 0;           ///< rounds timed
  std::size_t free_blocks = 0;       ///< free blocks during the rounds (stats().free_blocks)
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

/// The mean block size of draw_size's requests in ScalingHeap (tags added, rounded to the granule, at least a
/// minimum block): 267 B with CompactTags on x86_64.
constexpr double mean_fill_block_bytes() {
  using Heap = ScalingHeap<FirstFit>;
  double mean = 0;
  for (std::size_t base = 16; base <= 512; base *= 2) {
    std::size_t octave = 0;
    for (std::size_t size = base; size < 2 * base; ++size) {
      octave += std::max(Heap::kMinBlockSize, align_up(size + Heap::kUsedOverhead, Heap::kGranule));
    }
    mean += static_cast<double>(octave) / static_cast<double>(base) / 6;
  }
  return mean;
}

/// Whether run_cell's fill of `arena` bytes is expected to leave the 2 x `holes` blocks a cell needs: 15/16 of the
/// arena in blocks of the mean size. The cells this refuses are those a full run prints as "—" (run_cell still
/// checks the blocks it really got).
bool arena_holds(std::size_t arena, std::size_t holes) {
  return static_cast<double>(arena - arena / 16) / mean_fill_block_bytes() >= static_cast<double>(2 * holes);
}

/// A round's allocate and free, never inlined (as op_count's counted_allocate and counted_free), so that
/// callgrind's `--toggle-collect` can count them and nothing else of the loop (file comment). The setup calls the
/// heap directly. Free was inlined into the loop before: its call adds a few instructions, alike for both fits.
template <class Heap>
[[gnu::noinline]] Result<void*> round_allocate(Heap& heap, std::size_t size) {
  return heap.allocate(size);
}
template <class Heap>
[[gnu::noinline]] void round_free(Heap& heap, void* p) {
  heap.deallocate(p);
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
  std::vector<std::uint32_t> alloc_ticks;  ///< allocate latency per round
  std::vector<std::uint32_t> free_ticks;   ///< free latency per round
  std::vector<std::uint64_t> starts;       ///< TSC at the start of each round's allocate
  std::vector<const void*> blocks;         ///< the block each round's allocate returned
};

/// One cell: `Fit` over `arena` with `holes` free blocks, `rounds` warm-up rounds and `rounds` timed rounds
/// (`log` holds at least 2 x rounds).
template <class Fit>
Cell run_cell(std::span<std::byte> arena, std::size_t holes, std::size_t rounds, double cap_seconds,
              std::uint64_t gap_ticks, RoundLog& log) {
  using Heap = ScalingHeap<Fit>;
  Cell cell;
  auto heap = std::make_unique<Heap>(arena);
  SplitMix64 rng(0x5CA1E + holes);
  std::vector<void*> blocks;
  std::vector<std::size_t> sizes;
  const std::size_t reserve = arena.size() / 16;
  while (heap->stats().largest_free_block > reserve + 1024 + Heap::kMinBlockSize) {
    const std::size_t size = draw_size(rng);
    Result<void*> p = heap->allocate(size);
    if (!p) break;
    blocks.push_back(*p);
    sizes.push_back(size);
  }
  if (blocks.size() < 2 * holes) return cell;
  cell.feasible = true;
  const std::size_t step = blocks.size() / holes;
  std::vector<std::size_t> hole_sizes;
  for (std::size_t i = 0; i < holes; ++i) {
    heap->deallocate(blocks[i * step]);
    hole_sizes.push_back(sizes[i * step]);
  }
  cell.free_blocks = heap->stats().free_blocks;
  // Rounds [0, rounds) warm up, [rounds, 2 rounds) are timed; all are recorded, and sorted out afterwards.
  const std::size_t total = std::min(2 * rounds, log.alloc_ticks.size());
  std::size_t done = 0;
  const auto start = Clock::now();
  for (; done < total; ++done) {
    if (done == rounds) timed_rounds_begin();
    const std::size_t size = hole_sizes[static_cast<std::size_t>(rng.range(0, holes - 1))];
    const std::uint64_t t0 = tsc_begin();
    Result<void*> p = round_allocate(*heap, size);
    const std::uint64_t t1 = tsc_end();
    if (!p) {
      std::fprintf(stderr, "scaling_bench: allocate(%zu) failed with %zu holes\n", size, holes);
      std::abort();
    }
    static_cast<unsigned char*>(*p)[size - 1] = 1;  // the block is really there
    const std::uint64_t t2 = tsc_begin();
    round_free(*heap, *p);
    const std::uint64_t t3 = tsc_end();
    log.alloc_ticks[done] = clamp_ticks(t1 - t0);
    log.free_ticks[done] = clamp_ticks(t3 - t2);
    log.starts[done] = t0;
    log.blocks[done] = *p;
    if ((done & 255) == 255 && std::chrono::duration<double>(Clock::now() - start).count() > cap_seconds) {
      cell.capped = true;
      ++done;
      break;
    }
  }
  if (done > rounds) timed_rounds_end();
  if (heap->stats().free_blocks != cell.free_blocks) {
    std::fprintf(stderr, "scaling_bench: the free-block count drifted (%zu -> %zu)\n", cell.free_blocks,
                 heap->stats().free_blocks);
    std::abort();
  }
  // First uses: of a block since the setup (warm-up rounds: cold), or since the last kernel entry (timed rounds:
  // refills). The block stands for the memory a round touches (its list neighbours and the split tail's list head
  // are as stable: allocate-then-free puts every list back as it was).
  std::unordered_set<const void*> since_setup, since_entry;
  std::vector<std::uint32_t> cold, hot;
  for (std::size_t r = 0; r < done; ++r) {
    const bool timed = r >= rounds;
    if (r > 0 && log.starts[r] - log.starts[r - 1] > gap_ticks) {
      since_entry.clear();
      cell.kernel_entries += timed ? 1 : 0;
    }
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

/// The digits of `text` as a number, or false (empty, another character, or more than 12 digits).
bool parse_count(std::string_view text, std::size_t& value) {
  if (text.empty() || text.size() > 12) return false;
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

/// The power of two a size suffix stands for: 10, 20 or 30 for K, M or G (either case), else 0.
int suffix_shift(char suffix) {
  switch (suffix) {
    case 'K':
    case 'k':
      return 10;
    case 'M':
    case 'm':
      return 20;
    case 'G':
    case 'g':
      return 30;
    default:
      return 0;
  }
}

/// Parses `--cells`' list ("16M:10,16M:1000") into `out`. Returns "" or what is wrong with it, in one line.
std::string parse_cells(std::string_view list, CellSelection& out) {
  out.all = false;
  std::string arenas, counts;
  for (const std::size_t bytes : kArenas) arenas += (arenas.empty() ? "" : ", ") + short_size_name(bytes);
  for (const std::size_t n : kFreeBlocks) counts += (counts.empty() ? "" : ", ") + std::to_string(n);
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const std::size_t colon = item.find(':');
    std::size_t number = 0, holes = 0;
    if (colon == std::string_view::npos || colon == 0 || !parse_count(item.substr(0, colon - 1), number) ||
        !parse_count(item.substr(colon + 1), holes)) {
      return "malformed cell '" + std::string(item) + "': expected ARENA:COUNT, e.g. 16M:1000";
    }
    const int shift = suffix_shift(item[colon - 1]);
    if (shift == 0) {
      return "malformed cell '" + std::string(item) + "': the arena needs a K, M or G suffix, e.g. 16M:1000";
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
    if (!arena_holds(*arena, holes)) {
      return "cell '" + std::string(item) + "': a " + size_name(*arena) + " arena cannot hold " +
             std::to_string(holes) + " free blocks (it needs room for twice as many blocks)";
    }
    out.named[arena - std::begin(kArenas)][count - std::begin(kFreeBlocks)] = true;
    if (comma == std::string_view::npos) return "";
    list.remove_prefix(comma + 1);
  }
}

/// Command-line options (see main's usage text).
struct Options {
  bool quick = false;        ///< 2,000 rounds per cell instead of 20,000
  bool small_pages = false;  ///< the arena in 4 KiB pages instead of huge pages advised
  std::string plot_data;     ///< where to write gnuplot data, if anywhere
  CellSelection cells;       ///< the cells to run (--cells; default all)
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

/// A markdown table over the grid (the rows and columns of the selected cells): `value(cell)` of SegregatedFit /
/// FirstFit per cell, in ns.
template <class Value>
void print_table(const char* title, const Grid& seg, const Grid& first, const CellSelection& cells, double tpn,
                 Value value) {
  std::printf("#### %s\n\n| arena \\ free blocks |", title);
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
      if (!seg[a][n].feasible) {
        std::printf(" — |");
        continue;
      }
      std::printf(" %.0f / %.0f%s |", static_cast<double>(value(seg[a][n])) / tpn,
                  static_cast<double>(value(first[a][n])) / tpn,
                  seg[a][n].capped || first[a][n].capped ? " (capped)" : "");
    }
    std::printf("\n");
  }
  std::printf("\n");
}

/// The smallest and largest `value(cell)` over SegregatedFit's feasible cells.
template <class Value>
std::pair<double, double> seg_range(const Grid& seg, Value value) {
  double lo = 1e300, hi = 0;
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      if (!seg[a][n].feasible) continue;
      const auto v = static_cast<double>(value(seg[a][n]));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  return {lo, hi};
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
  static Grid seg, first;
  RoundLog log(2 * rounds);
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      if (!opt.cells.has(a, n)) continue;
      const std::span<std::byte> arena = region.first(kArenas[a]);
      seg[a][n] = run_cell<SegregatedFit<>>(arena, kFreeBlocks[n], rounds, cap, gap_ticks, log);
      first[a][n] = run_cell<FirstFit>(arena, kFreeBlocks[n], rounds, cap, gap_ticks, log);
      std::fprintf(stderr, ".");
    }
  }
  std::fprintf(stderr, "\n");
  auto ns = [tpn](double ticks) { return ticks / tpn; };
  print_table("allocate latency p99.9, ns: SegregatedFit / FirstFit", seg, first, opt.cells, tpn,
              [](const Cell& c) { return c.alloc_p999; });
  print_table("free latency p99.9, ns: SegregatedFit / FirstFit", seg, first, opt.cells, tpn,
              [](const Cell& c) { return c.free_p999; });
  print_table(
      "diagnosis: allocate p99.9 without the first use of each block after a kernel entry (TLB refills), "
      "ns: SegregatedFit / FirstFit",
      seg, first, opt.cells, tpn, [](const Cell& c) { return c.alloc_hot_p999; });
  print_table(
      "cold first use after the setup (warm-up rounds whose block was not used before), allocate, slowest, "
      "ns: SegregatedFit / FirstFit",
      seg, first, opt.cells, tpn, [](const Cell& c) { return c.alloc_cold_max; });
  // The target: SegregatedFit's p99.9 across the grid within 1.5x of its smallest value.
  const auto alloc = seg_range(seg, [](const Cell& c) { return c.alloc_p999; });
  const auto dealloc = seg_range(seg, [](const Cell& c) { return c.free_p999; });
  const auto hot = seg_range(seg, [](const Cell& c) { return c.alloc_hot_p999; });
  const auto cold_p50 = seg_range(seg, [](const Cell& c) { return c.alloc_cold_p50; });
  const auto cold_max = seg_range(seg, [](const Cell& c) { return c.alloc_cold_max; });
  const auto uses = seg_range(seg, [](const Cell& c) { return c.cold_uses; });
  const auto entries = seg_range(seg, [](const Cell& c) { return c.kernel_entries; });
  const auto refills = seg_range(seg, [](const Cell& c) { return c.refills; });
  std::printf("SegregatedFit allocate p99.9: %.0f .. %.0f ns, largest / smallest = %.2f\n", ns(alloc.first),
              ns(alloc.second), alloc.second / alloc.first);
  std::printf("SegregatedFit free p99.9: %.0f .. %.0f ns, largest / smallest = %.2f\n", ns(dealloc.first),
              ns(dealloc.second), dealloc.second / dealloc.first);
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
  std::printf("\nsamples per cell (seg / first): ");
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      if (seg[a][n].feasible) std::printf("%zu/%zu ", seg[a][n].samples, first[a][n].samples);
    }
  }
  std::printf("\n");
  if (!opt.plot_data.empty()) {
    // gnuplot data: one block per arena; columns free blocks, seg alloc, first alloc, seg free, first free, seg alloc
    // and first alloc without the post-kernel-entry refills (ns).
    std::FILE* f = std::fopen(opt.plot_data.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "scaling_bench: cannot write %s\n", opt.plot_data.c_str());
      return 1;
    }
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
    std::fclose(f);
  }
  return 0;
}

}  // namespace
}  // namespace nostd::bench

int main(int argc, char** argv) {
  nostd::bench::Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      opt.quick = true;
    } else if (arg == "--small-pages") {
      opt.small_pages = true;
    } else if (arg.substr(0, 12) == "--plot_data=") {
      opt.plot_data = std::string(arg.substr(12));
    } else if (arg.substr(0, 8) == "--cells=") {
      const std::string error = nostd::bench::parse_cells(arg.substr(8), opt.cells);
      if (!error.empty()) {
        std::fprintf(stderr, "scaling_bench: --cells: %s\n", error.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: scaling_bench [--quick] [--small-pages] [--cells=ARENA:COUNT,...] [--plot_data=FILE]\n"
                   "  --quick            2,000 rounds per cell instead of 20,000, 0.5 s cap instead of 4 s\n"
                   "  --small-pages      the arena in 4 KiB pages (default: huge pages advised)\n"
                   "  --cells=LIST       only these cells, e.g. 16M:10,16M:1000 (arena 64K, 1M, 16M, 256M or 1G;\n"
                   "                     free blocks 10, 100, 1000, 10000 or 100000; default: every cell)\n"
                   "  --plot_data=FILE   also write gnuplot data (used by //bench:scaling_chart)\n");
      return 2;
    }
  }
  return nostd::bench::run(opt);
}
