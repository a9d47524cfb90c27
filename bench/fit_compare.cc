// bench/fit_compare.cc — `./bazelw run //bench:fit_compare`: the fit strategies against each other and against
// glibc malloc and std::pmr::unsynchronized_pool_resource, on the workloads of bench/trace.h.
//
// Method. Each workload's trace is generated once (bench/trace.h) and replayed, unchanged, by every allocator.
// Throughput passes are interleaved — for each repetition, every allocator runs once, in alternating order — so
// that load from other processes falls on all of them alike; short traces get more repetitions (until their runs
// total --min_time), and one untimed warm-up replay precedes each workload's runs. The table shows the median
// over runs and the spread (max - min) / median. Latency comes from a separate pass that reads the TSC around every
// call (bench/tsc_timer.h); the timer's own cost is printed and is included in those figures. A run that exceeds the
// time cap stops, reports throughput over the calls it did, and is marked "capped" (and not repeated).
//
// Heap arenas are mmap'd once and written before any timing. glibc malloc gets the same treatment: its trim
// threshold is raised and its heap written once at start-up, so that neither pays first-touch page faults.
#include <gnu/libc-version.h>
#include <malloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/allocator_list.h"
#include "bench/bench_allocator.h"
#include "bench/mapped_memory.h"
#include "bench/replay.h"
#include "bench/trace.h"
#include "bench/tsc_timer.h"

namespace nostd::bench {
namespace {

using Clock = std::chrono::steady_clock;

/// Output format of the results on stdout.
enum class Format { kTable, kJson };

/// Command-line options.
struct Options {
  bool quick = false;
  int reps = 5;
  double cap_seconds = 15;
  double min_seconds = 1.0;
  Format format = Format::kTable;
  std::string workloads = "abce";
  std::vector<std::string> allocator_filters;  // empty: all
  std::string plot_data;                       // gnuplot data file, empty: none
  std::uint64_t seed = kDefaultSeed;
  char glibc_footprint_child = 0;  // internal: measure glibc's footprint on this workload and exit
};

void print_usage() {
  std::printf(
      "usage: fit_compare [options]\n"
      "  --quick                  first look: 1/10 of the churn steps, 1 repetition, 2 s cap\n"
      "  --workloads=a,c          workloads to run (a b c e; default all)\n"
      "  --allocators=first,glibc allocators whose name contains one of the words (default all; alias\n"
      "                           --policies=); names:\n");
  for (const AllocatorEntry& e : all_allocators()) std::printf("                             %s\n", e.name);
  std::printf(
      "  --reps=N                 throughput repetitions (default 5; median reported)\n"
      "  --cap=SECONDS            time cap per run (default 15, quick 2)\n"
      "  --min_time=SECONDS       repeat short runs (up to 100) until they total this (default 1, quick 0.1)\n"
      "  --json                   machine-readable output on stdout (also --format=json,\n"
      "                           --benchmark_format=json)\n"
      "  --plot_data=FILE         also write gnuplot data (used by //bench:chart)\n"
      "  --seed=N                 trace seed (default 12345, as the issue specifies)\n");
}

bool starts_with(std::string_view s, std::string_view prefix, std::string_view* rest) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  *rest = s.substr(prefix.size());
  return true;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  bool cap_given = false;
  bool reps_given = false;
  bool min_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view v;
    if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--json" || arg == "--format=json" || arg == "--benchmark_format=json") {
      o.format = Format::kJson;
    } else if (arg == "--format=table" || arg == "--benchmark_format=console") {
      o.format = Format::kTable;
    } else if (starts_with(arg, "--workloads=", &v)) {
      o.workloads.clear();
      for (char c : v) {
        if (c == ',') continue;
        if (find_workload(c) == nullptr) {
          std::fprintf(stderr, "fit_compare: unknown workload '%c' (have a, b, c, e)\n", c);
          return std::nullopt;
        }
        o.workloads.push_back(c);
      }
    } else if (starts_with(arg, "--allocators=", &v) || starts_with(arg, "--policies=", &v)) {
      while (!v.empty()) {
        const std::size_t comma = v.find(',');
        o.allocator_filters.emplace_back(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      }
    } else if (starts_with(arg, "--reps=", &v)) {
      o.reps = std::max(1, std::atoi(std::string(v).c_str()));
      reps_given = true;
    } else if (starts_with(arg, "--min_time=", &v)) {
      o.min_seconds = std::atof(std::string(v).c_str());
      min_given = true;
    } else if (starts_with(arg, "--cap=", &v)) {
      o.cap_seconds = std::atof(std::string(v).c_str());
      cap_given = true;
    } else if (starts_with(arg, "--plot_data=", &v)) {
      o.plot_data = v;
    } else if (starts_with(arg, "--seed=", &v)) {
      o.seed = std::strtoull(std::string(v).c_str(), nullptr, 10);
    } else if (starts_with(arg, "--glibc_footprint_child=", &v) && v.size() == 1 && find_workload(v[0])) {
      o.glibc_footprint_child = v[0];
    } else if (arg == "--help" || arg == "-h") {
      print_usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "fit_compare: unknown option %s (see --help)\n", argv[i]);
      return std::nullopt;
    }
  }
  if (o.quick) {
    if (!reps_given) o.reps = 1;
    if (!cap_given) o.cap_seconds = 2;
    if (!min_given) o.min_seconds = 0.1;
  }
  return o;
}

bool selected(const Options& o, const AllocatorEntry& e) {
  if (o.allocator_filters.empty()) return true;
  const std::string_view name = e.name;
  return std::any_of(o.allocator_filters.begin(), o.allocator_filters.end(),
                     [&](const std::string& f) { return name.find(f) != std::string_view::npos; });
}

/// One line of text from a file (the first line starting with `key` when given), without the newline.
std::string read_line(const char* path, const char* key = nullptr) {
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
  std::string cpu = read_line("/proc/cpuinfo", "model name");
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::string load_start = read_line("/proc/loadavg");
  std::string load_end;
  std::string kernel;
  std::string glibc = gnu_get_libc_version();
  std::string compiler = __VERSION__;
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
  bool optimised = true;
#else
  bool optimised = false;  // or sanitized: the figures would describe the instrumentation
#endif
  double ticks_per_ns = 0;
  double timer_cost_ns = 0;
  double tsc_step_ns = 0;
};

/// glibc keeps its heap between runs instead of returning it to the kernel (and faulting it back in later),
/// and the pool resource's chunks come from that heap rather than fresh mmaps; then the heap is written once.
void prepare_malloc() {
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  constexpr std::size_t kBlock = 64 << 10;
  constexpr std::size_t kBlocks = 4096;  // 256 MiB
  std::vector<void*, MmapAllocator<void*>> blocks(kBlocks);
  for (void*& p : blocks) {
    p = std::malloc(kBlock);
    if (p != nullptr) std::memset(p, 1, kBlock);
  }
  for (void* p : blocks) std::free(p);
}

/// Everything measured for one allocator on one workload.
struct Row {
  const AllocatorEntry* allocator = nullptr;
  std::vector<ThroughputRun> runs;
  DetailRun detail;
  double median_mcalls = 0;       // per CPU-second of the benchmark thread
  double median_wall_mcalls = 0;  // per wall-clock second
  double spread = 0;              // (max - min) / median over repetitions, CPU-time figures
  bool capped = false;
};

/// Everything measured on one workload.
struct WorkloadResult {
  WorkloadSpec spec;
  TraceInfo info;
  std::vector<Row> rows;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string human_bytes(std::size_t b) {
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

/// The workload as this run replays it (quick mode divides the steps; --seed replaces the seed).
WorkloadSpec effective_spec(char id, const Options& opt) {
  WorkloadSpec spec = opt.quick ? scaled(*find_workload(id), 10) : *find_workload(id);
  spec.seed = opt.seed;
  return spec;
}

/// Child-process side of the glibc footprint: replays the workload once against glibc in this fresh process
/// (default malloc settings, empty heap) and prints the address span its blocks covered, in bytes.
int glibc_footprint_child(const Options& opt) {
  const WorkloadSpec spec = effective_spec(opt.glibc_footprint_child, opt);
  Trace trace;
  trace.reserve(2 * (std::uint64_t{spec.slots} + spec.steps));
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> sizes(spec.slots);
  const TraceInfo info = generate(spec, sizes, [&](const Op& op) { trace.push_back(op); });
  SlotTable slots(spec.slots);
  LatencyBuffers buffers;
  buffers.allocate.reserve(info.allocations);
  buffers.free.reserve(info.frees);
  Progress silent(false, Clock::now());
  const DetailRun run =
      replay_detail<MallocSpanAdapter>({}, trace, info.drain_begin, slots, opt.cap_seconds, silent, buffers);
  std::printf("%zu\n", run.footprint.value_or(0));
  return 0;
}

/// glibc's footprint on `spec`, measured in a fresh child process (this process's heap holds the other runs'
/// leftovers, so an address span measured here would mean nothing); nullopt if the child fails.
std::optional<std::size_t> glibc_footprint(const WorkloadSpec& spec, const Options& opt) {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return std::nullopt;
  exe[n] = 0;
  char cmd[4300];
  std::snprintf(cmd, sizeof cmd, "'%s' --glibc_footprint_child=%c --seed=%llu --cap=%.1f%s", exe, spec.id,
                static_cast<unsigned long long>(opt.seed), opt.cap_seconds, opt.quick ? " --quick" : "");
  std::FILE* child = popen(cmd, "r");
  if (child == nullptr) return std::nullopt;
  unsigned long long bytes = 0;
  const bool ok = std::fscanf(child, "%llu", &bytes) == 1;
  const int status = pclose(child);
  if (!ok || status != 0 || bytes == 0) return std::nullopt;
  return static_cast<std::size_t>(bytes);
}

WorkloadResult run_workload(const WorkloadSpec& spec, const Options& opt,
                            std::span<const AllocatorEntry* const> allocators, const MappedRegion& region,
                            Progress& progress, double ticks_per_ns) {
  WorkloadResult result{spec, {}, {}};
  // The trace, stored once.
  Trace trace;
  const std::uint64_t max_calls =
      spec.pattern == Pattern::kChurn ? 2 * (std::uint64_t{spec.slots} + spec.steps) : spec.steps + spec.slots;
  trace.reserve(max_calls);
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> sizes(spec.slots);
  result.info = generate(spec, sizes, [&](const Op& op) { trace.push_back(op); });
  SlotTable slots(spec.slots);
  const std::span<std::byte> arena = region.first(spec.arena_bytes);

  for (const AllocatorEntry* a : allocators) result.rows.push_back(Row{a, {}, {}, 0, 0, false});

  char label[160];
  // One untimed replay first: the first timed run of a workload was measurably slower than later ones (caches,
  // TLB and branch predictors still full of the previous workload), which would penalise whoever runs first.
  std::snprintf(label, sizeof label, "%c  %-16s warm-up", spec.id, result.rows[0].allocator->name);
  progress.begin(label, trace.size());
  (void)result.rows[0].allocator->throughput(arena, trace, slots, std::min(opt.cap_seconds, 2.0), progress);

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
  for (int rep = 0; std::any_of(result.rows.begin(), result.rows.end(), needs_more); ++rep) {
    for (std::size_t k = 0; k < result.rows.size(); ++k) {
      // Alternate the order between repetitions so no allocator always runs right after the same neighbour.
      Row& row = result.rows[rep % 2 == 0 ? k : result.rows.size() - 1 - k];
      if (!needs_more(row)) continue;
      std::snprintf(label, sizeof label, "%c  %-16s throughput run %d", spec.id, row.allocator->name, rep + 1);
      progress.begin(label, trace.size());
      const ThroughputRun r = row.allocator->throughput(arena, trace, slots, opt.cap_seconds, progress);
      row.runs.push_back(r);
      row.capped = row.capped || r.capped;
    }
  }
  LatencyBuffers buffers;
  buffers.allocate.reserve(result.info.allocations);
  buffers.free.reserve(result.info.frees);
  for (Row& row : result.rows) {
    std::snprintf(label, sizeof label, "%c  %-16s latency", spec.id, row.allocator->name);
    progress.begin(label, trace.size());
    row.detail =
        row.allocator->detail(arena, trace, result.info.drain_begin, slots, opt.cap_seconds, progress, buffers);
    if (std::string_view(row.allocator->name) == kGlibcBaseline) row.detail.footprint = glibc_footprint(spec, opt);
    std::vector<double> m;
    std::vector<double> wall;
    for (const ThroughputRun& r : row.runs) {
      m.push_back(r.mcalls_per_cpu_s());
      wall.push_back(r.mcalls_per_s());
    }
    row.median_mcalls = median(m);
    row.median_wall_mcalls = median(wall);
    const auto [lo, hi] = std::minmax_element(m.begin(), m.end());
    row.spread = row.median_mcalls > 0 ? (*hi - *lo) / row.median_mcalls : 0;
  }
  progress.clear();
  (void)ticks_per_ns;
  return result;
}

const Row* find_row(const WorkloadResult& w, std::string_view name) {
  for (const Row& r : w.rows) {
    if (name == r.allocator->name) return &r;
  }
  return nullptr;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string ratio(double num, const Row* base) {
  if (base == nullptr || base->median_mcalls <= 0) return "—";
  return fmt("%.2f", num / base->median_mcalls);
}

std::string ns(std::uint64_t ticks, double ticks_per_ns) {
  return fmt("%.0f", static_cast<double>(ticks) / ticks_per_ns);
}

void print_table(const WorkloadResult& w, const Options& opt, double ticks_per_ns) {
  const WorkloadSpec& s = w.spec;
  std::printf("\n### Workload %c — %s\n\n", s.id, std::string(s.name).c_str());
  std::printf("%s, %u slots, sizes %u..%u B, %llu %s, %llu calls, peak live %.1f MiB, arena %s.\n\n",
              s.pattern == Pattern::kChurn ? "churn" : "LIFO", s.slots, s.min_size, s.max_size,
              static_cast<unsigned long long>(s.steps), s.pattern == Pattern::kChurn ? "churn steps" : "stack calls",
              static_cast<unsigned long long>(w.info.calls), static_cast<double>(w.info.peak_live_bytes) / (1 << 20),
              human_bytes(s.arena_bytes).c_str());
  const Row* first = find_row(w, kFirstFitBaseline);
  const Row* glibc = find_row(w, kGlibcBaseline);
  std::printf(
      "| allocator | M calls/s | runs | spread | ÷ first | ÷ glibc | alloc ns p50 / p99.9 / max | free ns p50 / p99.9 "
      "/ "
      "max | touched ÷ peak live | largest ÷ free | B/block | note |\n");
  std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (const Row& r : w.rows) {
    const DetailRun& d = r.detail;
    std::string touched = "—";
    if (d.footprint && d.peak_live_bytes > 0) {
      touched = fmt("%.2f", static_cast<double>(*d.footprint) / static_cast<double>(d.peak_live_bytes));
    }
    std::string largest = "n/a";
    if (d.free_at_churn_end) {
      largest = d.free_at_churn_end->bytes_free > 0
                    ? fmt("%.2f", static_cast<double>(d.free_at_churn_end->largest_free_block) /
                                      static_cast<double>(d.free_at_churn_end->bytes_free))
                    : "—";
    } else if (!d.reached_churn_end) {
      largest = "—";
    }
    const std::string per_block = d.overhead_per_block ? fmt("%.1f", *d.overhead_per_block) : "n/a";
    std::string note;
    if (r.capped) {
      const ThroughputRun& last = r.runs.back();
      note = "capped after " + std::to_string(last.calls) + " calls (" + fmt("%.0f", opt.cap_seconds) + " s)";
    }
    std::uint64_t failed = 0;
    for (const ThroughputRun& t : r.runs) failed = std::max(failed, t.failed);
    if (failed > 0) note += (note.empty() ? "" : "; ") + std::to_string(failed) + " failed allocations";
    std::printf("| %s | %.2f | %zu | %.0f%% | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s |\n",
                r.allocator->name, r.median_mcalls, r.runs.size(), 100 * r.spread,
                ratio(r.median_mcalls, first).c_str(), ratio(r.median_mcalls, glibc).c_str(),
                ns(d.allocate.p50, ticks_per_ns).c_str(), ns(d.allocate.p999, ticks_per_ns).c_str(),
                ns(d.allocate.max, ticks_per_ns).c_str(), ns(d.free.p50, ticks_per_ns).c_str(),
                ns(d.free.p999, ticks_per_ns).c_str(), ns(d.free.max, ticks_per_ns).c_str(), touched.c_str(),
                largest.c_str(), per_block.c_str(), note.c_str());
  }
}

void print_legend(const Options& opt, const Machine& m) {
  std::printf("\nHow to read the tables:\n\n");
  std::printf(
      "- M calls/s: allocate + free calls per CPU-second of the benchmark thread (CLOCK_THREAD_CPUTIME_ID, so time "
      "the scheduler gives to other processes is not counted; wall-clock figures are in --json) over the whole "
      "trace, median of at least %d interleaved "
      "runs (more, up to 100, until they total %.1f s; runs column), after one untimed warm-up replay; spread = "
      "(max - min) / median. ÷ first and ÷ glibc: ratio to %s and to %s in the same run.\n",
      opt.reps, opt.min_seconds, kFirstFitBaseline, kGlibcBaseline);
  std::printf(
      "- Latency (ns): a separate pass reading the TSC around every call; the timer's own cost (%.0f ns, median of "
      "an empty timed region) is included; the TSC advances in steps of %.1f ns here. max is dominated by "
      "preemption and interrupts on a shared machine.\n",
      m.timer_cost_ns, m.tsc_step_ns);
  std::printf(
      "- touched ÷ peak live: memory the run occupied divided by the peak of live requested bytes. Heaps: highest "
      "block end above the arena base. glibc: span from its lowest block to its highest block end, measured in a "
      "fresh child process (this process's heap holds other runs' leftovers). pmr: peak bytes it took from "
      "upstream.\n");
  std::printf(
      "- largest ÷ free: largest free block ÷ free bytes in the arena at the end of the churn phase (1.00 = no "
      "external fragmentation). n/a for allocators that grow from the OS; — when a capped run never got there.\n");
  std::printf(
      "- B/block: mean bytes a live block costs beyond its request (tags or malloc's header, plus rounding) at the "
      "end of the churn phase; n/a where not observable (pmr).\n");
  std::printf(
      "- Heaps: BasicHeap<Fit, Tags, RegionSource> with the default NullLock and BasicChecks<>, a fresh heap per run "
      "over an arena written before any timing. glibc: malloc/free with M_TRIM_THRESHOLD raised to 1 GiB and "
      "M_MMAP_THRESHOLD fixed at 32 MiB, its heap written once (256 MiB) at start-up, so that it too pays no page "
      "faults while timed. pmr/pool: std::pmr::unsynchronized_pool_resource, default options, over "
      "new_delete_resource(), constructed per run.\n");
  std::printf(
      "- capped: the run hit the %.0f s cap; its throughput covers the calls it did (the fill and early churn, the "
      "easier part), it was not repeated, and its latency pass was capped alike.\n",
      opt.cap_seconds);
}

void print_machine(const Machine& m, const Options& opt) {
  std::printf("## fit_compare\n\n");
  std::printf("- CPU: %s, %ld online; kernel %s; glibc %s; g++ %s%s\n", m.cpu.c_str(), m.cpus, m.kernel.c_str(),
              m.glibc.c_str(), m.compiler.c_str(),
              m.optimised ? ", optimised" : ", NOT OPTIMISED OR SANITIZED: figures not meaningful");
  std::printf("- Load average (/proc/loadavg) at start: %s\n", m.load_start.c_str());
  std::printf("- TSC: %.3f ticks/ns, step %.1f ns; timer cost %.1f ns%s\n", m.ticks_per_ns, m.tsc_step_ns,
              m.timer_cost_ns, opt.quick ? "; QUICK MODE: 1/10 of the churn steps" : "");
}

void json_string(std::FILE* f, std::string_view s) {
  std::fputc('"', f);
  for (char c : s) {
    if (c == '"' || c == '\\') std::fputc('\\', f);
    std::fputc(c, f);
  }
  std::fputc('"', f);
}

void json_latency(const char* name, const LatencyTicks& t, double tpn) {
  std::printf("\"%s\": {\"count\": %llu, \"p50_ns\": %.1f, \"p999_ns\": %.1f, \"max_ns\": %.1f}", name,
              static_cast<unsigned long long>(t.count), static_cast<double>(t.p50) / tpn,
              static_cast<double>(t.p999) / tpn, static_cast<double>(t.max) / tpn);
}

void print_json(const std::vector<WorkloadResult>& results, const Options& opt, const Machine& m) {
  std::printf("{\n  \"machine\": {\"cpu\": ");
  json_string(stdout, m.cpu);
  std::printf(", \"cpus\": %ld, \"kernel\": ", m.cpus);
  json_string(stdout, m.kernel);
  std::printf(", \"glibc\": ");
  json_string(stdout, m.glibc);
  std::printf(", \"compiler\": ");
  json_string(stdout, m.compiler);
  std::printf(", \"optimised\": %s, \"load_start\": ", m.optimised ? "true" : "false");
  json_string(stdout, m.load_start);
  std::printf(", \"load_end\": ");
  json_string(stdout, m.load_end);
  std::printf(", \"tsc_ticks_per_ns\": %.4f, \"timer_cost_ns\": %.2f, \"tsc_step_ns\": %.2f},\n", m.ticks_per_ns,
              m.timer_cost_ns, m.tsc_step_ns);
  std::printf("  \"options\": {\"quick\": %s, \"reps\": %d, \"cap_seconds\": %.1f, \"seed\": %llu},\n",
              opt.quick ? "true" : "false", opt.reps, opt.cap_seconds, static_cast<unsigned long long>(opt.seed));
  std::printf("  \"workloads\": [\n");
  for (std::size_t wi = 0; wi < results.size(); ++wi) {
    const WorkloadResult& w = results[wi];
    std::printf(
        "    {\"id\": \"%c\", \"name\": \"%s\", \"slots\": %u, \"min_size\": %u, \"max_size\": %u, \"steps\": %llu, "
        "\"arena_bytes\": %zu, \"calls\": %llu, \"peak_live_bytes\": %llu, \"results\": [\n",
        w.spec.id, std::string(w.spec.name).c_str(), w.spec.slots, w.spec.min_size, w.spec.max_size,
        static_cast<unsigned long long>(w.spec.steps), w.spec.arena_bytes,
        static_cast<unsigned long long>(w.info.calls), static_cast<unsigned long long>(w.info.peak_live_bytes));
    for (std::size_t ri = 0; ri < w.rows.size(); ++ri) {
      const Row& r = w.rows[ri];
      const DetailRun& d = r.detail;
      std::printf(
          "      {\"allocator\": \"%s\", \"mcalls_per_cpu_s\": %.4f, \"mcalls_per_wall_s\": %.4f, \"spread\": %.4f, "
          "\"capped\": %s, \"runs\": [",
          r.allocator->name, r.median_mcalls, r.median_wall_mcalls, r.spread, r.capped ? "true" : "false");
      for (std::size_t k = 0; k < r.runs.size(); ++k) {
        std::printf("%s{\"calls\": %llu, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"failed\": %llu}", k ? ", " : "",
                    static_cast<unsigned long long>(r.runs[k].calls), r.runs[k].seconds, r.runs[k].cpu_seconds,
                    static_cast<unsigned long long>(r.runs[k].failed));
      }
      std::printf("],\n       ");
      json_latency("allocate", d.allocate, m.ticks_per_ns);
      std::printf(", ");
      json_latency("free", d.free, m.ticks_per_ns);
      std::printf(",\n       \"latency_pass_calls\": %llu, \"latency_pass_capped\": %s, \"peak_live_bytes\": %llu",
                  static_cast<unsigned long long>(d.calls), d.capped ? "true" : "false",
                  static_cast<unsigned long long>(d.peak_live_bytes));
      if (d.footprint) std::printf(", \"footprint_bytes\": %zu", *d.footprint);
      if (d.free_at_churn_end) {
        std::printf(", \"largest_free_block\": %zu, \"bytes_free\": %zu", d.free_at_churn_end->largest_free_block,
                    d.free_at_churn_end->bytes_free);
      }
      if (d.overhead_per_block) std::printf(", \"overhead_bytes_per_block\": %.2f", *d.overhead_per_block);
      std::printf("}%s\n", ri + 1 < w.rows.size() ? "," : "");
    }
    std::printf("    ]}%s\n", wi + 1 < results.size() ? "," : "");
  }
  std::printf("  ]\n}\n");
}

/// gnuplot data: three blocks (throughput, allocate p99.9, free p99.9), each a row per workload and a column per
/// allocator (the header row names them), separated by two blank lines (gnuplot's `index`).
bool write_plot_data(const std::string& path, const std::vector<WorkloadResult>& results, double tpn) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const char* titles[] = {"M calls/s", "allocate p99.9 ns", "free p99.9 ns"};
  for (int block = 0; block < 3; ++block) {
    if (block > 0) std::fprintf(f, "\n\n");
    std::fprintf(f, "# %s\nworkload", titles[block]);
    if (results.empty()) continue;
    for (const Row& r : results[0].rows) std::fprintf(f, " %s", r.allocator->name);
    std::fprintf(f, "\n");
    for (const WorkloadResult& w : results) {
      std::fprintf(f, "%c", w.spec.id);
      for (const Row& r : w.rows) {
        const double v = block == 0   ? r.median_mcalls
                         : block == 1 ? static_cast<double>(r.detail.allocate.p999) / tpn
                                      : static_cast<double>(r.detail.free.p999) / tpn;
        std::fprintf(f, " %.4f", v);
      }
      std::fprintf(f, "\n");
    }
  }
  std::fclose(f);
  return true;
}

int run(int argc, char** argv) {
  const auto start = Clock::now();
  const std::optional<Options> parsed = parse(argc, argv);
  if (!parsed) return 2;
  const Options& opt = *parsed;
  if (opt.glibc_footprint_child != 0) return glibc_footprint_child(opt);

  std::vector<const AllocatorEntry*> allocators;
  for (const AllocatorEntry& e : all_allocators()) {
    if (selected(opt, e)) allocators.push_back(&e);
  }
  if (allocators.empty()) {
    std::fprintf(stderr, "fit_compare: --allocators matched nothing (see --help)\n");
    return 2;
  }

  Machine m;
  utsname u{};
  if (uname(&u) == 0) m.kernel = u.release;
  m.ticks_per_ns = calibrate_ticks_per_ns();
  m.timer_cost_ns = static_cast<double>(timer_cost_ticks()) / m.ticks_per_ns;
  m.tsc_step_ns = static_cast<double>(tsc_step_ticks()) / m.ticks_per_ns;
  if (opt.format == Format::kTable) print_machine(m, opt);

  prepare_malloc();
  std::size_t arena_bytes = 0;
  for (char id : opt.workloads) arena_bytes = std::max(arena_bytes, find_workload(id)->arena_bytes);
  const MappedRegion region(arena_bytes);
  Progress progress(isatty(STDERR_FILENO) != 0, start);

  std::vector<WorkloadResult> results;
  for (char id : opt.workloads) {
    const WorkloadSpec spec = effective_spec(id, opt);
    results.push_back(run_workload(spec, opt, allocators, region, progress, m.ticks_per_ns));
    if (opt.format == Format::kTable) {
      print_table(results.back(), opt, m.ticks_per_ns);
      std::fflush(stdout);
    }
  }
  m.load_end = read_line("/proc/loadavg");
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  if (opt.format == Format::kTable) {
    print_legend(opt, m);
    std::printf("\n- Load average (/proc/loadavg) at end: %s. Total time %.0f s.\n", m.load_end.c_str(), total);
  } else {
    print_json(results, opt, m);
  }
  if (!opt.plot_data.empty() && !write_plot_data(opt.plot_data, results, m.ticks_per_ns)) {
    std::fprintf(stderr, "fit_compare: cannot write %s\n", opt.plot_data.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace nostd::bench

int main(int argc, char** argv) { return nostd::bench::run(argc, argv); }
