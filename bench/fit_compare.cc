// bench/fit_compare.cc — `./bazelw run //bench:fit_compare`: the fit strategies against each other and against
// glibc malloc and std::pmr::unsynchronized_pool_resource, on the workloads of bench/trace.h.
//
// Method. Each workload's trace is generated once (bench/trace.h) and replayed, unchanged, by every allocator,
// as bench/comparison.h describes (interleaved throughput runs, a TSC latency pass, a time cap); `//bench:replay`
// shares that code and the replay loop for recorded traces.
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
#include <expected>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/allocator_list.h"
#include "bench/bench_allocator.h"
#include "bench/cli_args.h"
#include "bench/comparison.h"
#include "bench/mapped_memory.h"
#include "bench/output_file.h"
#include "bench/replay_passes.h"
#include "bench/trace.h"
#include "bench/trace_io.h"
#include "bench/tsc_timer.h"

namespace nostd::bench {
namespace {

using Clock = std::chrono::steady_clock;

/// Output format of the results on stdout.
enum class Format { kTable, kJson };

/// Command-line options.
struct Options : TimingOptions {  // --quick also runs 1/10 of the churn steps
  Options() : TimingOptions{.reps = 5, .cap_seconds = 15, .min_seconds = 1.0} {}
  Format format = Format::kTable;
  std::string workloads = "abce";
  std::vector<std::string> allocator_filters;  // empty: all
  std::string plot_data;                       // gnuplot data file, empty: none
  std::string write_trace;                     // write the workload's trace here and exit, empty: none
  std::uint64_t seed = kDefaultSeed;
  std::size_t arena_bytes = 0;     // --arena: every workload's arena; 0: each workload's own (bench/trace.h)
  char glibc_footprint_child = 0;  // internal: measure glibc's footprint on this workload and exit
};

void print_usage() {
  std::printf(
      "usage: fit_compare [options]\n"
      "  --quick                  first look: 1/10 of the churn steps, 1 repetition (a short run is\n"
      "                           repeated until the runs total 0.1 s), 2 s cap\n"
      "  --workloads=a,c          workloads to run (a b c e; default all)\n"
      "  --allocators=first,glibc allocators whose name contains one of the words, or is the name after\n"
      "                           '=' (=seg/compact: that row alone); default all; alias --policies=; names:\n");
  for (const AllocatorEntry& e : all_allocators()) std::printf("                             %s\n", e.name);
  std::printf(
      "  --reps=N                 throughput repetitions (default 5; median reported)\n"
      "  --cap=SECONDS            time cap per run (default 15, quick 2)\n"
      "  --min_time=SECONDS       repeat short runs (up to 100) until they total this (default 1, quick 0.1)\n"
      "  --json                   machine-readable output on stdout (also --format=json,\n"
      "                           --benchmark_format=json)\n"
      "  --plot_data=FILE         also write gnuplot data (used by //bench:chart)\n"
      "  --write_trace=FILE       write the (one) workload's trace in the recorded-trace format and exit\n"
      "                           (a relative FILE is taken from where ./bazelw run was started)\n"
      "  --seed=N                 trace seed (default 12345, as the issue specifies)\n"
      "  --arena=BYTES            the arena every heap gets, K, M or G allowed (default: the workload's own,\n"
      "                           64M for a, b and c, 256K for e); a heap the trace does not fit shows its\n"
      "                           failed allocations; glibc and pmr/pool are not bounded by it; the debug\n"
      "                           row poisons, so writes, all of it in every run: keep it near the need\n");
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  // An option's value that is not what the option takes: one line, and the run does not start.
  auto refuse = [](std::string_view option, const char* takes) -> std::optional<Options> {
    print_bad_value("fit_compare", option, takes);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view v;
    const OptionRead timing = read_timing_option("fit_compare", arg, o);
    if (timing == OptionRead::kRefused) return std::nullopt;
    if (timing == OptionRead::kRead) continue;
    if (arg == "--json" || arg == "--format=json" || arg == "--benchmark_format=json") {
      o.format = Format::kJson;
    } else if (arg == "--format=table" || arg == "--benchmark_format=console") {
      o.format = Format::kTable;
    } else if (option_value(arg, "--workloads=", &v)) {
      o.workloads.clear();
      for (const std::string& w : split_words(v)) {
        // One letter a word; each workload once (a repeat would run it twice and print its table twice).
        if (w.size() != 1 || find_workload(w[0]) == nullptr || o.workloads.find(w[0]) != std::string::npos) {
          return refuse(arg, "a list of distinct workloads among a, b, c, e (--workloads=a,e)");
        }
        o.workloads.push_back(w[0]);
      }
    } else if (option_value(arg, "--allocators=", &v) || option_value(arg, "--policies=", &v)) {
      for (std::string& w : split_words(v)) o.allocator_filters.push_back(std::move(w));
    } else if (option_value(arg, "--write_trace=", &v)) {
      if (v.empty()) return refuse(arg, "a file name");
      o.write_trace = from_working_dir(std::string(v));
    } else if (option_value(arg, "--plot_data=", &v)) {
      if (v.empty()) return refuse(arg, "a file name");
      o.plot_data = v;
    } else if (option_value(arg, "--seed=", &v)) {
      const std::optional<std::uint64_t> seed = parse_whole(v);
      if (!seed) return refuse(arg, "a whole number below 2^64");
      o.seed = *seed;
    } else if (option_value(arg, "--arena=", &v)) {
      const std::optional<std::uint64_t> bytes = parse_bytes(v, std::numeric_limits<std::size_t>::max());
      if (!bytes || *bytes == 0) return refuse(arg, "a byte count above 0, optionally with K, M or G (256K)");
      o.arena_bytes = static_cast<std::size_t>(*bytes);
    } else if (option_value(arg, "--glibc_footprint_child=", &v) && v.size() == 1 && find_workload(v[0])) {
      o.glibc_footprint_child = v[0];
    } else if (arg == "--help" || arg == "-h") {
      print_usage();
      std::exit(0);
    } else {
      print_unknown_option("fit_compare", arg,
                           {"--workloads=", "--allocators=", "--policies=", "--reps=", "--min_time=", "--cap=",
                            "--write_trace=", "--plot_data=", "--seed=", "--arena=", "--format="});
      return std::nullopt;
    }
  }
  apply_quick(o);
  return o;
}

/// Everything measured on one workload.
struct WorkloadResult {
  WorkloadSpec spec;
  TraceInfo info;
  std::vector<Row> rows;
  std::size_t written_bytes = 0;  ///< how much of the arena was written before timing (reachable_bytes)
};

/// The workload as this run replays it (quick mode divides the steps; --seed replaces the seed, --arena the arena).
WorkloadSpec effective_spec(char id, const Options& opt) {
  WorkloadSpec spec = opt.quick ? scaled(*find_workload(id), 10) : *find_workload(id);
  spec.seed = opt.seed;
  if (opt.arena_bytes != 0) spec.arena_bytes = opt.arena_bytes;
  return spec;
}

/// Child-process side of the glibc footprint: replays the workload once against glibc in this fresh process
/// (default malloc settings but no mmap'd blocks, see MallocSpanAdapter; empty heap) and prints the address span its
/// blocks covered, in bytes.
int glibc_footprint_child(const Options& opt) {
  const WorkloadSpec spec = effective_spec(opt.glibc_footprint_child, opt);
  Trace trace;
  trace.reserve(static_cast<std::size_t>(2 * (std::uint64_t{spec.slots} + spec.steps)));
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> sizes(spec.slots);
  const TraceInfo info = generate(spec, sizes, [&](const Op& op) { trace.push_back(op); });
  SlotTable slots(spec.slots);
  LatencyBuffers buffers;
  buffers.allocate.reserve(static_cast<std::size_t>(info.allocations));
  buffers.free.reserve(static_cast<std::size_t>(info.frees));
  Progress silent(false, Clock::now());
  const DetailRun run =
      replay_detail<MallocSpanAdapter>({}, trace, info.drain_begin, slots, opt.cap_seconds, silent, buffers);
  std::printf("%zu\n", run.footprint.value_or(0));
  return 0;
}

/// glibc's footprint on `spec`, measured in a fresh child process (this process's heap holds the other runs'
/// leftovers, so an address span measured here would mean nothing); nullopt if the child fails.
std::optional<std::size_t> glibc_footprint(const WorkloadSpec& spec, const Options& opt) {
  char args[200];
  std::snprintf(args, sizeof args, "' --glibc_footprint_child=%c --seed=%llu --cap=%.17g%s", spec.id,
                static_cast<unsigned long long>(opt.seed), opt.cap_seconds, opt.quick ? " --quick" : "");
  return child_footprint("'" + self_exe() + args);
}

/// The workload's trace, generated once into `trace`.
TraceInfo generate_trace(const WorkloadSpec& spec, Trace& trace) {
  const std::uint64_t max_calls =
      spec.pattern == Pattern::kChurn ? 2 * (std::uint64_t{spec.slots} + spec.steps) : spec.steps + spec.slots;
  trace.reserve(static_cast<std::size_t>(max_calls));
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> sizes(spec.slots);
  return generate(spec, sizes, [&](const Op& op) { trace.push_back(op); });
}

WorkloadResult run_workload(const WorkloadSpec& spec, const Options& opt,
                            std::span<const AllocatorEntry* const> allocators, MappedRegion& region,
                            Progress& progress) {
  WorkloadResult result{spec, {}, {}, 0};
  Trace trace;
  result.info = generate_trace(spec, trace);
  // Before any timing, the part of the arena the trace can reach is written: all of it for a full run in the
  // workloads' own arenas, less for a --quick trace (whose warm-up run faults in the rest before the timed ones) or
  // an --arena far larger than the trace needs. A DebugChecks row poisons the free memory of every fresh heap, and
  // so writes the whole arena in each of its runs whatever this writes.
  result.written_bytes = reachable_bytes(trace, spec.arena_bytes);
  region.write_first(result.written_bytes);
  char label[8];
  std::snprintf(label, sizeof label, "%c ", spec.id);
  result.rows = run_comparison(allocators, region.first(spec.arena_bytes), trace, spec.slots, result.info.drain_begin,
                               result.info.allocations, result.info.frees, opt, progress, label,
                               [&] { return glibc_footprint(spec, opt); });
  return result;
}

void print_table(const WorkloadResult& w, const Options& opt, double ticks_per_ns) {
  const WorkloadSpec& s = w.spec;
  std::printf("\n### Workload %c — %s\n\n", s.id, std::string(s.name).c_str());
  const std::string own = human_bytes(find_workload(s.id)->arena_bytes);
  const std::string written = " (as far as the trace's calls can reach) is written before timing";
  std::printf("%s, %u slots, sizes %u..%u B, %llu %s, %llu calls, peak live %.1f MiB, arena %s%s%s.\n\n",
              s.pattern == Pattern::kChurn ? "churn" : "LIFO", s.slots, s.min_size, s.max_size,
              static_cast<unsigned long long>(s.steps), s.pattern == Pattern::kChurn ? "churn steps" : "stack calls",
              static_cast<unsigned long long>(w.info.calls), static_cast<double>(w.info.peak_live_bytes) / (1 << 20),
              human_bytes(s.arena_bytes).c_str(),
              opt.arena_bytes != 0 ? (" (--arena; the workload's own: " + own + ")").c_str() : "",
              w.written_bytes < s.arena_bytes
                  ? (", of which the first " + human_bytes(w.written_bytes) + written).c_str()
                  : "");
  print_rows(w.rows, opt.cap_seconds, ticks_per_ns);
}

/// Writes the workload's trace as a recorded trace (record/trace_format.h), block id = slot number, so that
/// `//bench:replay` can be compared with this tool on the same operations.
std::expected<void, std::string> write_trace(const WorkloadSpec& spec, const std::string& path) {
  Trace trace;
  (void)generate_trace(spec, trace);
  std::vector<std::byte> out(record::kTraceMagic.size());
  std::memcpy(out.data(), record::kTraceMagic.data(), out.size());
  for (const Op& op : trace) {
    append_binary(out, op.kind == OpKind::kAllocate ? TraceEvent{EventKind::kAllocate, op.align_log2, op.slot, op.size}
                                                    : TraceEvent{EventKind::kFree, 0, op.slot, 0});
  }
  append_binary(out, TraceEvent{EventKind::kEnd, 0, trace.size(), 0});
  return write_output(path, out);  // a failure leaves a file already there as it was
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
  std::printf(
      "  \"options\": {\"quick\": %s, \"reps\": %d, \"cap_seconds\": %g, \"seed\": %llu, \"arena_bytes\": %s},\n",
      opt.quick ? "true" : "false", opt.reps, opt.cap_seconds, static_cast<unsigned long long>(opt.seed),
      opt.arena_bytes != 0 ? std::to_string(opt.arena_bytes).c_str() : "null");
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
      std::printf(",\n       \"latency_pass_calls\": %llu, \"latency_pass_capped\": %s%s}%s\n",
                  static_cast<unsigned long long>(d.calls), d.capped ? "true" : "false", fragmentation_json(r).c_str(),
                  ri + 1 < w.rows.size() ? "," : "");
    }
    std::printf("    ]}%s\n", wi + 1 < results.size() ? "," : "");
  }
  std::printf("  ]\n}\n");
}

/// gnuplot data: three blocks (throughput, allocate p99.9, free p99.9), each a row per workload and a column per
/// allocator (the header row names them), separated by two blank lines (gnuplot's `index`).
/// `path` was checked before the run (check_output); false after one line when it cannot be written, which leaves
/// a file already there as it was.
bool write_plot_data(const std::string& path, const std::vector<WorkloadResult>& results, double tpn) {
  std::optional<OutputFile> out = open_output("fit_compare", "--plot_data", path);
  if (!out) return false;
  std::FILE* const f = out->stream();
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
  return close_output("fit_compare", "--plot_data", path, *out);
}

int run(int argc, char** argv) {
  const auto start = Clock::now();
  const std::optional<Options> parsed = parse(argc, argv);
  if (!parsed) return 2;
  const Options& opt = *parsed;
  if (opt.glibc_footprint_child != 0) return glibc_footprint_child(opt);

  std::string bad_word;
  const std::vector<const AllocatorEntry*> allocators =
      select_allocators(all_allocators(), opt.allocator_filters, &bad_word);
  if (allocators.empty()) {
    print_unselected("fit_compare", bad_word);
    return 2;
  }

  if (!opt.write_trace.empty()) {
    if (opt.workloads.size() != 1) {
      std::fprintf(stderr, "fit_compare: --write_trace needs exactly one workload (--workloads=a)\n");
      return 2;
    }
    // A trace does not depend on the arena: an --arena beside it would be ignored, so it is refused, as the other
    // options that would have no effect are.
    if (opt.arena_bytes != 0) {
      std::fprintf(stderr,
                   "fit_compare: --arena: a trace does not depend on the arena, and --write_trace writes the trace "
                   "and exits (run them separately)\n");
      return 2;
    }
    // The run measures nothing, so there would be no gnuplot data: said, rather than exit 0 without the file.
    if (!opt.plot_data.empty()) {
      std::fprintf(stderr,
                   "fit_compare: --plot_data: nothing to plot with --write_trace, which writes the trace and "
                   "exits (run them separately)\n");
      return 2;
    }
    if (const std::expected<void, std::string> written =
            write_trace(effective_spec(opt.workloads[0], opt), opt.write_trace);
        !written) {
      std::fprintf(stderr, "fit_compare: --write_trace: cannot write %s: %s\n", opt.write_trace.c_str(),
                   written.error().c_str());
      return 1;
    }
    return 0;
  }

  // Checked now, so that a path that cannot be written is refused before minutes of measuring.
  std::optional<std::string> plot_path;
  if (!opt.plot_data.empty()) {
    plot_path = check_output("fit_compare", "--plot_data", opt.plot_data);
    if (!plot_path) return 2;
  }

  // One region for every workload, as large as the largest arena; each workload writes what its trace can reach
  // (run_workload), so nothing is written here. It is mapped before glibc's start-up write (prepare_malloc), which
  // could otherwise take the memory a strict overcommit limit leaves for it, and an --arena the system will not map
  // is said in one line before the run starts.
  std::size_t arena_bytes = 0;
  for (char id : opt.workloads) arena_bytes = std::max(arena_bytes, effective_spec(id, opt).arena_bytes);
  std::expected<MappedRegion, int> mapped = MappedRegion::map(arena_bytes);
  if (!mapped) {
    std::fprintf(stderr, "fit_compare: cannot map a %s arena: %s (--arena sets it)\n", human_bytes(arena_bytes).c_str(),
                 std::strerror(mapped.error()));
    return 1;
  }
  MappedRegion& region = *mapped;

  Machine m = measure_machine();
  if (opt.format == Format::kTable)
    print_machine(m, "fit_compare", opt.quick ? "; QUICK MODE: 1/10 of the churn steps" : "");

  prepare_malloc("fit_compare");
  Progress progress(isatty(STDERR_FILENO) != 0, start);

  std::vector<WorkloadResult> results;
  for (char id : opt.workloads) {
    const WorkloadSpec spec = effective_spec(id, opt);
    results.push_back(run_workload(spec, opt, allocators, region, progress));
    if (opt.format == Format::kTable) {
      print_table(results.back(), opt, m.ticks_per_ns);
      std::fflush(stdout);
    }
  }
  m.load_end = read_line("/proc/loadavg");
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  if (opt.format == Format::kTable) {
    const std::string heaps =
        "Heaps: BasicHeap<Fit, Tags, Check, Cache, RegionSource> with NullLock, named fit/tags[/check][+cache]: "
        "fit first, next, best or seg (SegregatedFit<>; seg-l16 and seg-l32: SegregatedFit<0, 16> and <0, 32>); " +
        std::string(kTagsNote) +
        "; check BasicChecks<> unless named (nochecks, "
        "unsafe-unlink: BasicChecks without safe unlinking, hardened, debug); +cache: QuickCache<> (+cache6: "
        "QuickCache<6>; +cache8k: QuickCache<8, 8192, 256>). A fresh heap per run over an arena written before any "
        "timing. " +
        std::string(kReferenceNote);
    print_legend(opt, m, "at the end of the churn phase", heaps.c_str(), /*has_json=*/true);
    std::printf("\n- Load average (/proc/loadavg) at end: %s. Total time %.0f s.\n", m.load_end.c_str(), total);
  } else {
    print_json(results, opt, m);
  }
  if (plot_path && !write_plot_data(*plot_path, results, m.ticks_per_ns)) return 1;
  return 0;
}

}  // namespace
}  // namespace nostd::bench

int main(int argc, char** argv) { return nostd::bench::run(argc, argv); }
