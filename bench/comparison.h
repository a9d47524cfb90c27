// bench/comparison.h — one trace replayed by a list of allocators, measured and printed as a table: the part
// that `//bench:fit_compare` (synthetic workloads) and `//bench:replay` (recorded traces) share.
//
// Method. Throughput passes are interleaved — for each repetition, every allocator runs once, in alternating
// order — so that load from other processes falls on all of them alike; short traces get more repetitions (until
// their runs total `min_seconds`), and one untimed warm-up replay precedes the runs. The table shows the median
// over runs and the spread (max - min) / median. Latency comes from a separate pass that reads the TSC around
// every call (bench/tsc_timer.h); the timer's own cost is printed and is included in those figures. A run that
// exceeds the time cap stops, reports throughput over the calls it did, and is marked "capped" (and not
// repeated).
#pragma once

#include <gnu/libc-version.h>
#include <malloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/allocator_list.h"
#include "bench/cli_args.h"
#include "bench/mapped_memory.h"
#include "bench/replay_passes.h"
#include "bench/tsc_timer.h"

namespace nostd::bench {

/// One line of text from a file (the first line starting with `key` when given), without the newline.
inline std::string read_line(const char* path, const char* key = nullptr) {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return "?";
  char buf[512];
  std::string out = "?";
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    if (key != nullptr && std::strncmp(buf, key, std::strlen(key)) != 0) continue;
    out = buf;
    if (key != nullptr) {
      const std::size_t colon = out.find(':');
      if (colon != std::string::npos) out = out.substr(colon + 2);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    break;
  }
  std::fclose(f);
  return out;
}

/// The machine and build the figures were measured on.
struct Machine {
  std::string cpu = read_line("/proc/cpuinfo", "model name");  ///< CPU model
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);                   ///< online CPUs
  std::string load_start = read_line("/proc/loadavg");         ///< load average when measuring began
  std::string load_end;                                        ///< load average when it ended
  std::string kernel;                                          ///< uname release
  std::string glibc = gnu_get_libc_version();                  ///< glibc version
  std::string compiler = __VERSION__;                          ///< compiler version
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
  bool optimised = true;  ///< built optimised and not sanitized (figures meaningful)
#else
  bool optimised = false;  // or sanitized: the figures would describe the instrumentation
#endif
  double ticks_per_ns = 0;   ///< TSC rate
  double timer_cost_ns = 0;  ///< cost of an empty timed region
  double tsc_step_ns = 0;    ///< TSC resolution
};

/// The machine, with the TSC calibrated.
inline Machine measure_machine() {
  Machine m;
  utsname u{};
  if (uname(&u) == 0) m.kernel = u.release;
  m.ticks_per_ns = calibrate_ticks_per_ns();
  m.timer_cost_ns = static_cast<double>(timer_cost_ticks()) / m.ticks_per_ns;
  m.tsc_step_ns = static_cast<double>(tsc_step_ticks()) / m.ticks_per_ns;
  return m;
}

/// Prints the machine lines under a `## title` heading; `note` is appended to the TSC line.
inline void print_machine(const Machine& m, const char* title, const char* note) {
  std::printf("## %s\n\n", title);
  std::printf("- CPU: %s, %ld online; kernel %s; glibc %s; g++ %s%s\n", m.cpu.c_str(), m.cpus, m.kernel.c_str(),
              m.glibc.c_str(), m.compiler.c_str(),
              m.optimised ? ", optimised" : ", NOT OPTIMISED OR SANITIZED: figures not meaningful");
  std::printf("- Load average (/proc/loadavg) at start: %s\n", m.load_start.c_str());
  std::printf("- TSC: %.3f ticks/ns, step %.1f ns; timer cost %.1f ns%s\n", m.ticks_per_ns, m.tsc_step_ns,
              m.timer_cost_ns, note);
}

/// glibc keeps its heap between runs instead of returning it to the kernel (and faulting it back in later),
/// and the pool resource's chunks come from that heap rather than fresh mmaps; then the heap is written once.
/// When the system refuses part of it (an address-space or commit limit the tool's arena left little room under),
/// `tool` says so in one line on stderr, and the heap is given back (malloc_trim), so that the tool's own mappings
/// made later (traces, samples) find the room: the glibc row then pays its page faults while timed.
inline void prepare_malloc(const char* tool) {
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  constexpr std::size_t kBlock = 64 << 10;
  constexpr std::size_t kBlocks = 4096;  // 256 MiB
  std::vector<void*, MmapAllocator<void*>> blocks(kBlocks);
  std::size_t refused = 0;
  for (void*& p : blocks) {
    p = std::malloc(kBlock);
    if (p != nullptr)
      std::memset(p, 1, kBlock);
    else
      ++refused;
  }
  for (void* p : blocks) std::free(p);
  if (refused != 0) {
    malloc_trim(0);
    std::fprintf(stderr,
                 "%s: note: the system refused %zu of glibc's %zu start-up blocks of 64 KiB (a memory limit?), so "
                 "they were given back: glibc's row pays for its page faults while timed\n",
                 tool, refused, kBlocks);
  }
}

/// Everything measured for one allocator on one trace.
struct Row {
  const AllocatorEntry* allocator = nullptr;  ///< who
  std::vector<ThroughputRun> runs;            ///< the throughput runs
  DetailRun detail;                           ///< the latency and fragmentation pass
  double median_mcalls = 0;                   ///< per CPU-second of the benchmark thread
  double median_wall_mcalls = 0;              ///< per wall-clock second
  double spread = 0;                          ///< (max - min) / median over repetitions, CPU-time figures
  bool capped = false;                        ///< a run hit the cap

  /// The most allocations any run saw fail.
  std::uint64_t failed() const {
    std::uint64_t f = detail.failed;
    for (const ThroughputRun& t : runs) f = std::max(f, t.failed);
    return f;
  }
};

namespace internal {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace internal

/// Replays `trace` (with `slot_count` slots; the fragmentation snapshot before operation `snapshot_index`) with
/// every allocator of `allocators` over `arena`: a warm-up, interleaved throughput runs, then one latency pass
/// each. `label` prefixes the progress line; `glibc_footprint`, when given, replaces glibc's footprint (which
/// only a fresh process can measure).
inline std::vector<Row> run_comparison(std::span<const AllocatorEntry* const> allocators, std::span<std::byte> arena,
                                       const Trace& trace, std::uint32_t slot_count, std::uint64_t snapshot_index,
                                       std::uint64_t allocations, std::uint64_t frees, const TimingOptions& opt,
                                       Progress& progress, const char* label,
                                       const std::function<std::optional<std::size_t>()>& glibc_footprint) {
  std::vector<Row> rows;
  for (const AllocatorEntry* a : allocators) rows.push_back(Row{a, {}, {}, 0, 0, 0, false});
  SlotTable slots(slot_count);
  char line[200];
  // One untimed replay first: the first timed run of a workload was measurably slower than later ones (caches,
  // TLB and branch predictors still full of the previous workload), which would penalise whoever runs first.
  std::snprintf(line, sizeof line, "%s %-22s warm-up", label, rows[0].allocator->name);
  progress.begin(line, trace.size());
  (void)rows[0].allocator->throughput(arena, trace, slots, std::min(opt.cap_seconds, 2.0), progress);

  // A row needs more runs until it has `reps` of them and, for short traces, `min_seconds` of measured time in
  // total (a 20 ms run is at the mercy of a single preemption); at most kMaxReps runs.
  constexpr std::size_t kMaxReps = 100;
  auto needs_more = [&](const Row& row) {
    if (row.capped) return false;  // a capped run is not repeated: it would only cost the cap again
    double total = 0;
    for (const ThroughputRun& r : row.runs) total += r.seconds;
    return row.runs.size() < static_cast<std::size_t>(opt.reps) ||
           (total < opt.min_seconds && row.runs.size() < kMaxReps);
  };
  for (int rep = 0; std::any_of(rows.begin(), rows.end(), needs_more); ++rep) {
    for (std::size_t k = 0; k < rows.size(); ++k) {
      // Alternate the order between repetitions so no allocator always runs right after the same neighbour.
      Row& row = rows[rep % 2 == 0 ? k : rows.size() - 1 - k];
      if (!needs_more(row)) continue;
      std::snprintf(line, sizeof line, "%s %-22s throughput run %d", label, row.allocator->name, rep + 1);
      progress.begin(line, trace.size());
      const ThroughputRun r = row.allocator->throughput(arena, trace, slots, opt.cap_seconds, progress);
      row.runs.push_back(r);
      row.capped = row.capped || r.capped;
    }
  }
  LatencyBuffers buffers;
  buffers.allocate.reserve(static_cast<std::size_t>(allocations));
  buffers.free.reserve(static_cast<std::size_t>(frees));
  for (Row& row : rows) {
    std::snprintf(line, sizeof line, "%s %-22s latency", label, row.allocator->name);
    progress.begin(line, trace.size());
    row.detail = row.allocator->detail(arena, trace, snapshot_index, slots, opt.cap_seconds, progress, buffers);
    if (glibc_footprint && std::string_view(row.allocator->name) == kGlibcBaseline) {
      row.detail.footprint = glibc_footprint();
    }
    std::vector<double> m;
    std::vector<double> wall;
    for (const ThroughputRun& r : row.runs) {
      m.push_back(r.mcalls_per_cpu_s());
      wall.push_back(r.mcalls_per_s());
    }
    row.median_mcalls = internal::median(m);
    row.median_wall_mcalls = internal::median(wall);
    const auto [lo, hi] = std::minmax_element(m.begin(), m.end());
    row.spread = row.median_mcalls > 0 ? (*hi - *lo) / row.median_mcalls : 0;
  }
  progress.clear();
  return rows;
}

/// "64 MiB", "12 KiB" or "100 B" for exact multiples, else bytes.
inline std::string human_bytes(std::size_t b) {
  char buf[32];
  if (b >= (1u << 20) && b % (1u << 20) == 0) {
    std::snprintf(buf, sizeof buf, "%zu MiB", b >> 20);
  } else if (b >= 1024 && b % 1024 == 0) {
    std::snprintf(buf, sizeof buf, "%zu KiB", b >> 10);
  } else {
    std::snprintf(buf, sizeof buf, "%zu B", b);
  }
  return buf;
}

/// printf of one number into a string.
inline std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// The row of allocator `name`, or nullptr.
inline const Row* find_row(std::span<const Row> rows, std::string_view name) {
  for (const Row& r : rows) {
    if (name == r.allocator->name) return &r;
  }
  return nullptr;
}

/// True when no run of the row saw an allocation fail: the trace fitted the arena, so the figures of its latency
/// pass describe the trace (not the part of it the arena could hold).
inline bool trace_fitted(const Row& r) { return r.failed() == 0; }

/// The memory the run touched divided by its peak of live bytes; nullopt when not known, and when allocations failed:
/// that peak then counts only the blocks the arena could hold, which would flatter the fit on a trace it did not run.
inline std::optional<double> touched_ratio(const Row& r) {
  if (!trace_fitted(r) || !r.detail.footprint || r.detail.peak_live_bytes == 0) return std::nullopt;
  return static_cast<double>(*r.detail.footprint) / static_cast<double>(r.detail.peak_live_bytes);
}

/// A row's fragmentation figures as JSON members, each after ", ": "failed_allocations" (the most any of its runs saw
/// fail), then "peak_live_bytes" and, where the allocator shows them, "footprint_bytes", "largest_free_block" and
/// "bytes_free", and "overhead_bytes_per_block". When allocations failed, each figure after "failed_allocations" is
/// null, as the table shows "—": over the blocks the arena could hold they would not describe the trace.
inline std::string fragmentation_json(const Row& r) {
  const DetailRun& d = r.detail;
  const bool fitted = trace_fitted(r);
  auto member = [fitted](const char* name, const std::string& value) {
    return std::string(", \"") + name + "\": " + (fitted ? value : "null");
  };
  std::string out = ", \"failed_allocations\": " + std::to_string(r.failed());
  out += member("peak_live_bytes", std::to_string(d.peak_live_bytes));
  if (d.footprint) out += member("footprint_bytes", std::to_string(*d.footprint));
  if (d.free_at_churn_end) {
    out += member("largest_free_block", std::to_string(d.free_at_churn_end->largest_free_block));
    out += member("bytes_free", std::to_string(d.free_at_churn_end->bytes_free));
  }
  if (d.overhead_per_block) out += member("overhead_bytes_per_block", fmt("%.2f", *d.overhead_per_block));
  return out;
}

/// The table: throughput, ratios to first fit and glibc, latency percentiles, memory touched, largest free block,
/// bytes per block, notes (capped, failed allocations). A row whose allocations failed shows "—" for the three
/// fragmentation figures, which would describe the blocks the arena could hold rather than the trace, and its note
/// says that the trace did not fit.
inline void print_rows(std::span<const Row> rows, double cap_seconds, double ticks_per_ns) {
  const Row* first = find_row(rows, kFirstFitBaseline);
  const Row* glibc = find_row(rows, kGlibcBaseline);
  auto ratio = [](double num, const Row* base) -> std::string {
    if (base == nullptr || base->median_mcalls <= 0) return "—";
    return fmt("%.2f", num / base->median_mcalls);
  };
  auto ns = [&](std::uint64_t ticks) { return fmt("%.0f", static_cast<double>(ticks) / ticks_per_ns); };
  std::printf(
      "| allocator | M calls/s | runs | spread | ÷ first | ÷ glibc | alloc ns p50 / p99.9 / max | free ns p50 / p99.9 "
      "/ "
      "max | touched ÷ peak live | largest ÷ free | B/block | note |\n");
  std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (const Row& r : rows) {
    const DetailRun& d = r.detail;
    const std::optional<double> t = touched_ratio(r);
    const std::string touched = t ? fmt("%.2f", *t) : "—";
    const bool fitted = trace_fitted(r);
    std::string largest = "n/a";
    if (d.free_at_churn_end && !fitted) {
      largest = "—";
    } else if (d.free_at_churn_end) {
      largest = d.free_at_churn_end->bytes_free > 0
                    ? fmt("%.2f", static_cast<double>(d.free_at_churn_end->largest_free_block) /
                                      static_cast<double>(d.free_at_churn_end->bytes_free))
                    : "—";
    } else if (!d.reached_churn_end) {
      largest = "—";
    }
    std::string per_block = "n/a";
    if (d.overhead_per_block) per_block = fitted ? fmt("%.1f", *d.overhead_per_block) : "—";
    std::string note;
    if (r.capped) {
      const ThroughputRun& last = r.runs.back();
      note = "capped after " + std::to_string(last.calls) + " calls (" + fmt("%g", cap_seconds) + " s)";
    }
    if (!fitted) {
      note += (note.empty() ? "" : "; ") + std::to_string(r.failed()) +
              " failed allocations: the trace does not fit the arena";
    }
    std::printf("| %s | %.2f | %zu | %.0f%% | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s |\n",
                r.allocator->name, r.median_mcalls, r.runs.size(), 100 * r.spread,
                ratio(r.median_mcalls, first).c_str(), ratio(r.median_mcalls, glibc).c_str(),
                ns(d.allocate.p50).c_str(), ns(d.allocate.p999).c_str(), ns(d.allocate.max).c_str(),
                ns(d.free.p50).c_str(), ns(d.free.p999).c_str(), ns(d.free.max).c_str(), touched.c_str(),
                largest.c_str(), per_block.c_str(), note.c_str());
  }
}

/// How to read the table. `snapshot`: when the fragmentation figures were taken ("at the end of the churn
/// phase"); `heaps`: how the heaps were set up; `has_json`: the tool has a --json output with wall-clock figures.
inline void print_legend(const TimingOptions& opt, const Machine& m, const char* snapshot, const char* heaps,
                         bool has_json) {
  std::printf("\nHow to read the tables:\n\n");
  std::printf(
      "- M calls/s: allocate + free calls per CPU-second of the benchmark thread (CLOCK_THREAD_CPUTIME_ID, so time "
      "the scheduler gives to other processes is not counted%s) over the whole trace, median of at least %d "
      "interleaved run%s (more, up to 100, until they total %.1f s; runs column), after one untimed warm-up replay; "
      "spread = (max - min) / median. ÷ first and ÷ glibc: ratio to %s and to %s in the same run.\n",
      has_json ? "; wall-clock figures are in --json" : "", opt.reps, opt.reps == 1 ? "" : "s", opt.min_seconds,
      kFirstFitBaseline, kGlibcBaseline);
  std::printf(
      "- Latency (ns): a separate pass reading the TSC around every call; the timer's own cost (%.0f ns, median of "
      "an empty timed region) is included; the TSC advances in steps of %.1f ns here. max is dominated by "
      "preemption and interrupts on a shared machine.\n",
      m.timer_cost_ns, m.tsc_step_ns);
  std::printf(
      "- touched ÷ peak live: memory the run occupied divided by the peak of live requested bytes. Heaps: highest "
      "block end above the arena base. glibc: span from its lowest block to its highest block end, measured in a "
      "fresh child process (this process's heap holds other runs' leftovers) with mmap'd blocks off, so that large "
      "ones stay in its heap. pmr: peak bytes it took from upstream. — when allocations failed (note column): the "
      "trace "
      "does not fit the arena, and a peak of the blocks it could hold would flatter the fit.\n");
  std::printf(
      "- largest ÷ free: largest free block ÷ free bytes in the arena %s (1.00 = no "
      "external fragmentation). n/a for allocators that grow from the OS; — when a capped run never got there or "
      "allocations failed.\n",
      snapshot);
  std::printf(
      "- B/block: mean bytes a live block costs beyond its request (tags or malloc's header, plus rounding) %s; "
      "n/a where not observable (pmr); — when allocations failed.\n",
      snapshot);
  std::printf("- %s\n", heaps);
  std::printf(
      "- capped: the run hit the %g s cap; its throughput covers the calls it did (the fill and early churn, the "
      "easier part), it was not repeated, and its latency pass was capped alike, so its touched ÷ peak live and "
      "B/block "
      "describe the calls it did, not the whole trace.\n",
      opt.cap_seconds);
}

/// What every table's heap note says about the tag layouts' part of a row name (bench/allocator_list.h names them).
inline constexpr const char* kTagsNote =
    "tags compact (CompactTags), compact32 (BasicCompactTags<uint32_t>) or full (FullTags)";

/// What every table's heap note says about the reference allocators.
inline constexpr const char* kReferenceNote =
    "glibc: malloc/free with M_TRIM_THRESHOLD raised to 1 GiB and M_MMAP_THRESHOLD fixed at 32 MiB, its heap "
    "written once (256 MiB) at start-up, so that it too pays no page faults while timed. pmr/pool: "
    "std::pmr::unsynchronized_pool_resource, default options, over new_delete_resource(), constructed per run.";

/// The address span glibc's blocks covered when `child_command` (a command line that replays the trace against
/// glibc in a fresh process and prints that span) ran; nullopt if the child fails.
inline std::optional<std::size_t> child_footprint(const std::string& child_command) {
  std::FILE* child = popen(child_command.c_str(), "r");
  if (child == nullptr) return std::nullopt;
  unsigned long long bytes = 0;
  const bool ok = std::fscanf(child, "%llu", &bytes) == 1;
  const int status = pclose(child);
  if (!ok || status != 0 || bytes == 0) return std::nullopt;
  return static_cast<std::size_t>(bytes);
}

/// This executable's path (for re-running itself as a child).
inline std::string self_exe() {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return {};
  exe[n] = 0;
  return exe;
}

}  // namespace nostd::bench
