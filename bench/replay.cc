// bench/replay.cc — `./bazelw run //bench:replay -- TRACE`: your workload, replayed. A trace recorded from a
// program (record/trace_format.h) runs against every composition — each fit × tag layout × check level — and
// glibc and the pmr pool, through the same comparison and replay loop as fit_compare (bench/comparison.h,
// bench/replay_passes.h). Then: a recommendation (throughput, worst-case latency, smallest heap), the smallest
// arena each composition needs for the whole trace (bench/sizing.h), and heap maps (bench/heap_map.h).
//
// Relative paths are taken from the directory `bazel run` was started in (BUILD_WORKING_DIRECTORY).
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/allocator_list.h"
#include "bench/cli_args.h"
#include "bench/comparison.h"
#include "bench/heap_map.h"
#include "bench/mapped_memory.h"
#include "bench/output_file.h"
#include "bench/replay_passes.h"
#include "bench/sizing.h"
#include "bench/trace_io.h"

namespace nostd::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options : TimingOptions {
  Options() : TimingOptions{.reps = 3, .cap_seconds = 10, .min_seconds = 0.5} {}
  std::string trace;
  std::size_t arena_bytes = 0;  // 0: from the trace's peak
  bool sizing = true;
  std::optional<std::string> heap_map;  // prefix; nullopt: next to the trace; "": none
  std::vector<std::string> allocator_filters;
  bool glibc_footprint_child = false;
};

void print_usage() {
  std::printf(
      "usage: replay [options] TRACE\n"
      "  TRACE                    a recorded trace: binary or text (record/trace_format.h), or the raw form\n"
      "                           NOSTD_ALLOC_TRACE writes (record/raw_trace.h), converted on loading\n"
      "  --allocators=first,glibc compositions whose name contains one of the words, or is the name after\n"
      "                           '=' (=seg/compact: that row alone); default all; names:\n");
  for (const AllocatorEntry& e : all_compositions()) std::printf("                             %s\n", e.name);
  std::printf(
      "  --reps=N                 throughput repetitions (default 3; median reported)\n"
      "  --cap=SECONDS            time cap per run and per sizing probe (default 10; quick 2)\n"
      "  --min_time=SECONDS       repeat short runs (up to 100) until they total this (default 0.5)\n"
      "  --quick                  1 repetition, 2 s cap, --min_time=0.1 (each unless given)\n"
      "  --arena=BYTES            arena the tables are measured in, K, M or G allowed (default: 8 x peak\n"
      "                           live + 16 MiB)\n"
      "  --no_sizing              skip the smallest-arena search\n"
      "  --heap_map=PREFIX        write PREFIX.png and PREFIX_peak.png (default: next to TRACE as\n"
      "                           TRACE.heap_map.png; --heap_map= for none). Needs gnuplot.\n");
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  // An option's value that is not what the option takes: one line, and the run does not start.
  auto refuse = [](std::string_view option, const char* takes) -> std::optional<Options> {
    print_bad_value("replay", option, takes);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view v;
    const OptionRead timing = read_timing_option("replay", arg, o);
    if (timing == OptionRead::kRefused) return std::nullopt;
    if (timing == OptionRead::kRead) continue;
    if (arg == "--no_sizing") {
      o.sizing = false;
    } else if (arg == "--glibc_footprint_child") {
      o.glibc_footprint_child = true;
    } else if (option_value(arg, "--allocators=", &v)) {
      for (std::string& w : split_words(v)) o.allocator_filters.push_back(std::move(w));
    } else if (option_value(arg, "--arena=", &v)) {
      const std::optional<std::uint64_t> bytes = parse_bytes(v, std::numeric_limits<std::size_t>::max());
      if (!bytes || *bytes == 0) return refuse(arg, "a byte count above 0, optionally with K, M or G (16M)");
      o.arena_bytes = static_cast<std::size_t>(*bytes);
    } else if (option_value(arg, "--heap_map=", &v)) {
      // A prefix that ends in a slash names a directory: its maps would be the hidden files DIR/.png and
      // DIR/_peak.png.
      if (v.ends_with('/')) return refuse(arg, "a file name prefix (PREFIX.png, PREFIX_peak.png; DIR/m for DIR)");
      o.heap_map = v.empty() ? std::string() : from_working_dir(std::string(v));
    } else if (arg == "-h" || arg == "--help") {
      print_usage();
      std::exit(0);
    } else if (arg.empty()) {
      // An empty name (an unset shell variable) had been skipped: `replay "" TRACE` ran on TRACE, `replay ""` said
      // no trace was given.
      std::fprintf(stderr, "replay: an empty argument: not a trace file name (see --help)\n");
      return std::nullopt;
    } else if (refuse_value_apart("replay", arg,
                                  {"--allocators=", "--reps=", "--cap=", "--min_time=", "--arena=", "--heap_map="})) {
      return std::nullopt;
    } else if (arg.starts_with("-")) {
      // Named as the other tools name it: "unexpected argument --nosizing" had read as if the option existed but
      // was misplaced.
      std::fprintf(stderr, "replay: unknown option %s (see --help)\n", argv[i]);
      return std::nullopt;
    } else if (!o.trace.empty()) {
      std::fprintf(stderr, "replay: unexpected argument %s: one TRACE a run (see --help)\n", argv[i]);
      return std::nullopt;
    } else {
      o.trace = from_working_dir(std::string(arg));
    }
  }
  if (o.trace.empty()) {
    std::fprintf(stderr, "replay: no trace given (see --help)\n");
    return std::nullopt;
  }
  apply_quick(o);
  return o;
}

/// `s` as one word for the shell that popen starts: in single quotes, each quote in it written as '\''.
std::string shell_quoted(std::string_view s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string_view("'\\''") : std::string_view(&c, 1);
  return out + "'";
}

/// "1.5 MiB" style, for figures that are not exact multiples.
std::string mib(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20)) return fmt("%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  if (bytes >= 1024) return fmt("%.1f KiB", static_cast<double>(bytes) / 1024);
  return std::to_string(bytes) + " B";
}

struct SizingRow {
  const AllocatorEntry* allocator;
  Sizing sizing;
};

std::vector<SizingRow> run_sizing(const std::vector<const AllocatorEntry*>& allocators, const std::vector<Row>& rows,
                                  const ReplayTrace& t, const MappedRegion& region, const Options& opt,
                                  Progress& progress) {
  std::vector<SizingRow> out;
  SlotTable slots(t.slots);
  for (const AllocatorEntry* a : allocators) {
    // A "/nochecks" variant takes its checked twin's answer when the twin was sized; else (the twin filtered out) it
    // is sized itself.
    const std::string twin = layout_twin(a->name);
    const auto done =
        std::find_if(out.begin(), out.end(), [&](const SizingRow& r) { return twin == r.allocator->name; });
    if (done != out.end()) {
      out.push_back(SizingRow{a, done->sizing});
      continue;
    }
    if (a->fits == nullptr) continue;
    char label[160];
    const auto t0 = Clock::now();
    // Start from what the table's run touched, plus room for the region's own header: a size that fits when the
    // trace fitted there; when its allocations failed, one that fails, from which the search doubles.
    std::size_t start = t.info.peak_live_bytes;
    if (const Row* row = find_row(rows, a->name); row != nullptr && row->detail.footprint) {
      start = *row->detail.footprint + 4096;
    }
    const Sizing s = smallest_arena(t.info.peak_live_bytes, start, region.size(), 64, [&](std::size_t bytes) {
      std::snprintf(label, sizeof label, "sizing %-22s arena %s", a->name, mib(bytes).c_str());
      progress.begin(label, 1);
      progress.update(0, std::chrono::duration<double>(Clock::now() - t0).count());
      return a->fits(region.first(bytes), t.ops, slots, opt.cap_seconds);
    });
    out.push_back(SizingRow{a, s});
  }
  progress.clear();
  return out;
}

/// The sizing table; `limit` is the largest arena a search may try (the table's).
void print_sizing(const std::vector<SizingRow>& rows, const ReplayTrace& t, double cap, std::size_t limit) {
  std::printf("\n### Sizing: the smallest arena that runs the whole trace\n\n");
  std::printf("| composition | smallest arena | ÷ peak live | probes |\n|---|--:|--:|--:|\n");
  for (const SizingRow& r : rows) {
    std::string bytes = "—";
    std::string ratio = "—";
    if (r.sizing.bytes) {
      bytes = std::to_string(*r.sizing.bytes) + " (" + mib(*r.sizing.bytes) + ")";
      if (t.info.peak_live_bytes > 0) {  // 0 when every block is of 0 bytes: no ratio
        ratio = fmt("%.2f", static_cast<double>(*r.sizing.bytes) / static_cast<double>(t.info.peak_live_bytes));
      }
      if (r.sizing.capped_below) bytes += " (smaller arenas: a probe hit the cap)";
    } else if (r.sizing.capped) {
      bytes = "capped (a whole replay took over " + fmt("%.0f", cap) + " CPU-s)";
    } else {
      bytes = "does not fit in the table's arena of " + human_bytes(limit) + " (--arena sets it)";
    }
    std::printf("| %s | %s | %s | %d |\n", r.allocator->name, bytes.c_str(), ratio.c_str(), r.sizing.probes);
  }
}

/// Worst of the allocate and free p99.9, in ticks.
std::uint64_t worst_p999(const Row& r) { return std::max(r.detail.allocate.p999, r.detail.free.p999); }

void print_recommendation(const std::vector<Row>& rows, const std::vector<SizingRow>& sizing, const ReplayTrace& t,
                          double ticks_per_ns) {
  std::printf("\n### Recommendation\n\n");
  // Candidates are the heap compositions (glibc and the pmr pool are references, not something to choose here)
  // that replayed the whole trace without a cap or a failed allocation.
  std::vector<const Row*> ok;
  std::size_t heaps = 0;
  for (const Row& r : rows) {
    const std::string_view name = r.allocator->name;
    if (name == kGlibcBaseline || name == "pmr/pool") continue;
    ++heaps;
    if (!r.capped && r.failed() == 0) ok.push_back(&r);
  }
  if (heaps == 0) {
    // Not "raise --cap or --arena": neither would give a recommendation (it had said so).
    std::printf(
        "No heap composition among the rows (--allocators selected only glibc or pmr/pool): nothing to "
        "recommend.\n");
    return;
  }
  if (ok.empty()) {
    std::printf(
        "No heap composition replayed the whole trace without a cap or a failed allocation: raise --cap or "
        "--arena.\n");
    return;
  }
  // The project's rule for a shared machine: a ratio under 1.3 is not a resolved difference unless repeated.
  auto resolved = [](double ratio) { return ratio >= 1.3 ? "" : " — within 1.3×: not a resolved difference here"; };
  const Row* glibc = find_row(rows, kGlibcBaseline);
  auto by_speed = ok;
  std::sort(by_speed.begin(), by_speed.end(),
            [](const Row* a, const Row* b) { return a->median_mcalls > b->median_mcalls; });
  const Row* fast = by_speed[0];
  std::printf("- **Throughput: %s** — %.2f M calls/s", fast->allocator->name, fast->median_mcalls);
  if (glibc != nullptr && glibc->median_mcalls > 0) {
    std::printf(" (%.2f× glibc)", fast->median_mcalls / glibc->median_mcalls);
  }
  if (by_speed.size() > 1) {
    const double r = fast->median_mcalls / by_speed[1]->median_mcalls;
    std::printf(", %.2f× the next, %s (%.2f)%s", r, by_speed[1]->allocator->name, by_speed[1]->median_mcalls,
                resolved(r));
  }
  std::printf("; spread %.0f%%.\n", 100 * fast->spread);

  auto by_latency = ok;
  std::sort(by_latency.begin(), by_latency.end(),
            [](const Row* a, const Row* b) { return worst_p999(*a) < worst_p999(*b); });
  const Row* steady = by_latency[0];
  auto ns = [&](std::uint64_t ticks) { return static_cast<double>(ticks) / ticks_per_ns; };
  std::printf("- **Worst-case latency: %s** — p99.9 allocate %.0f ns / free %.0f ns (max %.0f / %.0f ns)",
              steady->allocator->name, ns(steady->detail.allocate.p999), ns(steady->detail.free.p999),
              ns(steady->detail.allocate.max), ns(steady->detail.free.max));
  if (by_latency.size() > 1) {
    const double r = static_cast<double>(worst_p999(*by_latency[1])) /
                     static_cast<double>(std::max<std::uint64_t>(1, worst_p999(*steady)));
    std::printf("; next %s at %.0f ns%s", by_latency[1]->allocator->name, ns(worst_p999(*by_latency[1])), resolved(r));
  }
  std::printf(". Ranked by the worse of the two p99.9 (max is mostly preemption on a shared machine).\n");

  const SizingRow* small = nullptr;
  const SizingRow* large = nullptr;
  for (const SizingRow& s : sizing) {
    if (!s.sizing.bytes) continue;
    if (small == nullptr || *s.sizing.bytes < *small->sizing.bytes) small = &s;
    if (large == nullptr || *s.sizing.bytes > *large->sizing.bytes) large = &s;
  }
  if (small != nullptr) {
    std::printf("- **Smallest heap: %s** — the whole trace runs in a %zu-byte arena (%s", small->allocator->name,
                *small->sizing.bytes, mib(*small->sizing.bytes).c_str());
    if (t.info.peak_live_bytes > 0) {
      std::printf(", %.2f× the %s peak of live bytes)",
                  static_cast<double>(*small->sizing.bytes) / static_cast<double>(t.info.peak_live_bytes),
                  mib(t.info.peak_live_bytes).c_str());
    } else {
      std::printf("; every block of the trace is of 0 bytes)");
    }
    if (large != small) {
      std::printf("; the largest need is %s's, %s (%.2f×)", large->allocator->name, mib(*large->sizing.bytes).c_str(),
                  static_cast<double>(*large->sizing.bytes) / static_cast<double>(*small->sizing.bytes));
    }
    std::printf(". Round up for what the trace did not exercise.\n");
  } else {
    std::printf("- Smallest heap: no sizing result (sizing skipped, capped, or nothing fitted).\n");
  }
}

/// Whether `path` names a regular file (not a pipe, a FIFO, process substitution's /dev/fd/N or /dev/stdin).
bool is_regular_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// The path glibc's footprint child reads the trace from: `trace` itself when it is a regular file (`regular`);
/// otherwise (a pipe, a FIFO, process substitution, /dev/stdin) a copy of `bytes`, the bytes read from it, in a memory
/// file that this process keeps open and the child inherits (/dev/fd/N). What was read from a pipe is gone for the
/// child, which then failed, and glibc's touched ÷ peak live read "—" with nothing to say why. `trace` when no copy
/// can be made.
std::string trace_for_child(const std::string& trace, bool regular, std::span<const std::byte> bytes) {
  if (regular) return trace;
  const int fd = memfd_create("replay-trace", 0);  // not MFD_CLOEXEC: the child inherits it
  if (fd < 0) return trace;
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return trace;
    }
    written += static_cast<std::size_t>(n);
  }
  return "/dev/fd/" + std::to_string(fd);
}

int glibc_footprint_child(const Options& opt) {
  const auto bytes = read_trace_file(opt.trace.c_str());
  if (!bytes) return 1;
  const auto t = load_replay(*bytes);
  if (!t) return 1;
  SlotTable slots(t->slots);
  LatencyBuffers buffers;
  Progress silent(false, Clock::now());
  const DetailRun run =
      replay_detail<MallocSpanAdapter>({}, t->ops, t->info.drain_begin, slots, opt.cap_seconds, silent, buffers);
  std::printf("%zu\n", run.footprint.value_or(0));
  return 0;
}

void draw_maps(const std::vector<const AllocatorEntry*>& allocators, const std::vector<Row>& rows, const ReplayTrace& t,
               const MappedRegion& region, std::span<std::byte> arena, const std::string& prefix,
               const std::string& trace_name, double cap_seconds, Progress& progress) {
  // One address scale for every panel: the most memory any heap touched, so the panels compare directly.
  std::size_t span = 0;
  bool mapped = false;
  for (const Row& r : rows) {
    mapped = mapped || r.allocator->map != nullptr;
    if (r.allocator->map != nullptr && r.detail.footprint) span = std::max(span, *r.detail.footprint);
  }
  if (!mapped) {
    std::fprintf(stderr, "replay: no heap map: none of the selected rows is a heap composition (glibc has none)\n");
    return;
  }
  if (span == 0) {
    std::fprintf(stderr,
                 "replay: no heap map: no heap composition allocated anything (an arena too small for the trace's "
                 "first requests?)\n");
    return;
  }
  span = span + span / 50;
  HeapMapShape shape;
  shape.span = span;
  shape.cap_seconds = 3 * cap_seconds;
  std::vector<HeapMapPanel> panels;
  SlotTable slots(t.slots);
  for (const AllocatorEntry* a : allocators) {
    if (a->map == nullptr) continue;
    char label[160];
    std::snprintf(label, sizeof label, "heap map %-22s", a->name);
    progress.begin(label, 1);
    progress.update(0, 0);
    HeapMapPanel p{a->name, a->map(arena, t.ops, t.info.drain_begin, slots, shape), {}};
    const Row* r = find_row(rows, a->name);
    if (p.map.failed > 0) {
      // The map shows the blocks the arena could hold: no ratio to a peak of live bytes it never held.
      p.note = "did not fit: " + std::to_string(p.map.failed) + " failed";
    } else if (p.map.capped) {
      p.note = "capped at call " + std::to_string(p.map.calls);
    } else if (r != nullptr) {
      if (const std::optional<double> touched = touched_ratio(*r)) p.note = fmt("touched %.2f× peak", *touched);
    }
    panels.push_back(std::move(p));
  }
  progress.clear();
  (void)region;
  char dir[] = "/tmp/nostd_heap_map_XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    std::fprintf(stderr, "replay: cannot create a temporary directory for the heap map\n");
    return;
  }
  const std::string caption = "heap map of " + trace_name + " (" + std::to_string(t.ops.size()) + " calls)";
  // gnuplot writes each image to a temporary file next to its name, renamed over it once drawn whole: a gnuplot
  // that fails part way, or a full disk, leaves the maps of an earlier run as they were (bench/output_file.h).
  std::string err;
  std::optional<OutputFile> images[2];
  const std::string names[2] = {prefix + ".png", prefix + "_peak.png"};
  for (int k = 0; k < 2 && err.empty(); ++k) {
    std::expected<OutputFile, std::string> f = OutputFile::open(names[k]);
    if (f) {
      images[k].emplace(std::move(*f));
    } else {
      err = "cannot write " + names[k] + ": " + f.error();
    }
  }
  if (err.empty()) {
    err =
        draw_heap_maps(panels, span, t.ops.size(), dir, images[0]->writing_path(), images[1]->writing_path(), caption);
    if (!err.empty()) err += "; " + names[0] + " and " + names[1] + " are left as they were";
  }
  for (int k = 0; k < 2 && err.empty(); ++k) {
    if (const std::expected<void, std::string> done = images[k]->commit(); !done) {
      err = "cannot write " + names[k] + ": " + done.error();
    }
  }
  std::string rm = std::string("rm -rf '") + dir + "'";
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "replay: could not remove %s\n", dir);
  if (!err.empty()) {
    std::fprintf(stderr, "replay: heap map: %s\n", err.c_str());
    return;
  }
  std::printf(
      "\n### Heap maps\n\n- %s.png: address against time, one panel per composition (same scale: %s)\n"
      "- %s_peak.png: each arena at the peak of live bytes\n",
      prefix.c_str(), mib(span).c_str(), prefix.c_str());
}

int run(int argc, char** argv) {
  const auto start = Clock::now();
  const std::optional<Options> parsed = parse(argc, argv);
  if (!parsed) return 2;
  const Options& opt = *parsed;
  if (opt.glibc_footprint_child) return glibc_footprint_child(opt);

  std::string bad_word;
  const std::vector<const AllocatorEntry*> allocators =
      select_allocators(all_compositions(), opt.allocator_filters, &bad_word);
  if (allocators.empty()) {
    print_unselected("replay", bad_word);
    return 2;
  }
  const auto bytes = read_trace_file(opt.trace.c_str());
  if (!bytes) {
    std::fprintf(stderr, "replay: %s\n", bytes.error().c_str());
    return 1;
  }
  auto loaded = load_replay(*bytes);
  if (!loaded) {
    std::fprintf(stderr, "replay: %s: %s\n", opt.trace.c_str(), loaded.error().describe().c_str());
    return 1;
  }
  const ReplayTrace& t = *loaded;
  if (t.ops.empty()) {
    std::fprintf(stderr, "replay: %s: the trace has no events\n", opt.trace.c_str());
    return 1;
  }
  // The heap maps' files are checked before minutes of replay, as check_output checks other tools' outputs: gnuplot
  // that cannot open its output writes the image to standard output, into the report. A prefix given and not
  // writable stops the run; the default one (next to the trace, whose directory may be read-only) only drops the maps.
  std::string prefix = opt.heap_map ? *opt.heap_map : opt.trace + ".heap_map";
  // Without a heap composition among the rows there is no map to draw: with the default prefix that is said first,
  // rather than a failed write of a file nobody would draw (a trace from a pipe, /dev/fd/63, has no writable
  // neighbour). A --heap_map given is checked as given (not writable: exit 2).
  if (!opt.heap_map && !prefix.empty() &&
      std::none_of(allocators.begin(), allocators.end(), [](const AllocatorEntry* a) { return a->map != nullptr; })) {
    std::fprintf(stderr, "replay: no heap map: none of the selected rows is a heap composition (glibc has none)\n");
    prefix.clear();
  }
  for (const std::string& png : {prefix + ".png", prefix + "_peak.png"}) {
    if (prefix.empty()) break;
    if (opt.heap_map) {
      if (!check_output("replay", "--heap_map", png)) return 2;  // check_output said why
    } else if (const std::optional<std::string> problem = output_problem(png)) {
      std::fprintf(stderr, "replay: no heap map: cannot write %s: %s (--heap_map=PREFIX writes it elsewhere)\n",
                   png.c_str(), problem->c_str());
      prefix.clear();
    }
  }

  const std::size_t arena_bytes =
      opt.arena_bytes != 0 ? opt.arena_bytes : align_up(8 * t.info.peak_live_bytes + (16 << 20), 1 << 20);
  // The arena is mapped here, once, and written later (after glibc's start-up write, as far as the trace's calls can
  // reach): mapped before prepare_malloc, which could otherwise take the memory a strict overcommit limit leaves for
  // it. A size the system refuses (a trace whose peak of live bytes is near 4 GiB asks for 8 times that by default)
  // is said in one line here, before the report starts.
  std::expected<MappedRegion, int> mapped = MappedRegion::map(arena_bytes);
  if (!mapped) {
    std::fprintf(stderr, "replay: %s: cannot map a %s arena: %s (%s; --arena=BYTES sets it)\n", opt.trace.c_str(),
                 human_bytes(arena_bytes).c_str(), std::strerror(mapped.error()),
                 opt.arena_bytes != 0 ? "--arena" : "8 x the peak of live bytes + 16 MiB");
    return 1;
  }
  MappedRegion& region = *mapped;

  const std::size_t written_bytes = reachable_bytes(t.ops, arena_bytes);
  Machine m = measure_machine();
  print_machine(m, "replay", opt.quick ? "; QUICK MODE" : "");
  // A file's name without its directory; a pipe's path whole (its basename, "63" of /dev/fd/63, names nothing).
  const bool regular = is_regular_file(opt.trace);
  const std::string trace_name = regular ? opt.trace.substr(opt.trace.rfind('/') + 1) : opt.trace;
  std::printf("\n### Trace %s\n\n", trace_name.c_str());
  std::printf(
      "%llu calls: %llu allocate (%llu aligned above the default), %llu free, %llu reallocate; peak live "
      "%s in %u blocks (at call %llu); largest request %s; arena %s%s.\n\n",
      static_cast<unsigned long long>(t.info.calls), static_cast<unsigned long long>(t.info.allocations),
      static_cast<unsigned long long>(t.aligned), static_cast<unsigned long long>(t.info.frees),
      static_cast<unsigned long long>(t.reallocations), mib(t.info.peak_live_bytes).c_str(), t.info.peak_live_blocks,
      static_cast<unsigned long long>(t.info.drain_begin), mib(t.max_size).c_str(), human_bytes(arena_bytes).c_str(),
      written_bytes < arena_bytes ? (", of which the first " + human_bytes(written_bytes) +
                                     " (as far as the trace's calls can reach) is written before timing")
                                        .c_str()
                                  : "");
  std::fflush(stdout);

  prepare_malloc("replay");
  region.write_first(written_bytes);
  Progress progress(isatty(STDERR_FILENO) != 0, start);
  // The child runs for glibc's row alone: without it, a trace from a pipe is not copied (up to the whole trace).
  const bool glibc_row = std::ranges::any_of(
      allocators, [](const AllocatorEntry* a) { return std::string_view(a->name) == kGlibcBaseline; });
  const std::string child = shell_quoted(self_exe()) +
                            " --glibc_footprint_child --cap=" + fmt("%.17g", opt.cap_seconds) + " " +
                            shell_quoted(glibc_row ? trace_for_child(opt.trace, regular, *bytes) : opt.trace);
  const std::vector<Row> rows =
      run_comparison(allocators, region.first(arena_bytes), t.ops, t.slots, t.info.drain_begin, t.info.allocations,
                     t.info.frees + t.reallocations, opt, progress, "", [&] { return child_footprint(child); });
  print_rows(rows, opt.cap_seconds, m.ticks_per_ns);
  std::fflush(stdout);

  std::vector<SizingRow> sizing;
  if (opt.sizing) {
    sizing = run_sizing(allocators, rows, t, region, opt, progress);
    if (!sizing.empty())
      print_sizing(sizing, t, opt.cap_seconds, region.size());  // empty: no row is a heap composition
  }
  print_recommendation(rows, sizing, t, m.ticks_per_ns);
  std::fflush(stdout);

  if (!prefix.empty())
    draw_maps(allocators, rows, t, region, region.first(arena_bytes), prefix, trace_name, opt.cap_seconds, progress);

  m.load_end = read_line("/proc/loadavg");
  print_legend(
      opt, m, "at the peak of live bytes",
      ("Heaps: BasicHeap<Fit, Tags, Check, Cache, RegionSource> with NullLock, named fit/tags[/nochecks][+cache]: "
       "fit first, next, best or seg (SegregatedFit<>); " +
       std::string(kTagsNote) +
       "; \"/nochecks\" = NoChecks, otherwise BasicChecks<> (checks every pointer freed); +cache: QuickCache<>, "
       "+cache8k: QuickCache<8, 8192, 256> (seg/compact32+cache8k is the drop-in malloc's arena heap). "
       "A fresh heap per run over an arena written before any timing (as far as the trace's calls can reach). "
       "Reallocate calls count as allocate "
       "calls in the latency columns. " +
       std::string(kReferenceNote))
          .c_str(),
      /*has_json=*/false);
  std::printf(
      "- Sizing: for each composition, the smallest arena (to within 0.1%%) in which the whole trace runs with no "
      "failed allocation: the first probe is the memory the table's run touched, then doubling or bisection over "
      "replays that stop at their first failure (bench/sizing.h), each capped at the cap in CPU seconds; \"/nochecks\" "
      "variants place blocks as their checked twins and share their answer.\n");
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("\n- Load average (/proc/loadavg) at end: %s. Total time %.0f s.\n", m.load_end.c_str(), total);
  return 0;
}

}  // namespace
}  // namespace nostd::bench

int main(int argc, char** argv) { return nostd::bench::run(argc, argv); }
