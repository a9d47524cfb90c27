// bench/micro_bench.cc — Google Benchmark micro-benchmarks of single operations, templated over the heap
// compositions (`./bazelw run //bench:micro_bench`).
//
//   BM_AllocFree/<size>:   one allocate and one free of a fixed size, on a "warm" heap that already holds 1000
//                          live blocks of 16..512 bytes with every second one freed (so the fit search has
//                          something to walk past, as in a real program).
//   BM_ReallocGrowth:      a block grown by doubling from 16 B to 64 KiB with reallocate, then freed.
//   BM_VecPushBack/<n>:    a fresh Vec<std::uint64_t> (containers/vec.h) on the heap receives n push_backs and is
//                          destroyed (growth goes through reallocate for this trivially relocatable type).
//   BM_StringPushBack/<n>: the same with a String (containers/string.h) and n push_backs of one byte.
// Counter `bytes_per_block`: what one block of the benchmarked size costs beyond the request (tags or malloc's
// header, plus rounding; for Vec, the final buffer beyond its capacity, with the unused capacity in `slack_bytes`).
// glibc malloc is the reference; each composition uses BasicHeap's default checks. After Google Benchmark's own
// output, a table gives every composition's time as a ratio to glibc's in the same run (RatioToGlibcReporter).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "alloc/alloc.h"
#include "alloc/heap_ref.h"
#include "bench/bench_allocator.h"
#include "bench/cli_args.h"
#include "bench/heap_adapter.h"
#include "bench/mapped_memory.h"
#include "bench/output_file.h"
#include "bench/trace.h"
#include "containers/string.h"
#include "containers/vec.h"

namespace nostd::bench {
namespace {

/// Keeps `value` alive for the optimiser, through Google Benchmark's read-only DoNotOptimize. Its read-write form for
/// an lvalue (asm "+m,r") was miscompiled by GCC 12 under -fsanitize=address: the pointer read back after it was a
/// stale stack slot (an ostringstream's vtable address), which BM_AllocFree then wrote through and faulted
/// (//bench:micro_bench_smoke_test under --config=asan). These loops only need the value kept, not changed.
template <class T>
inline void keep(const T& value) {
  benchmark::DoNotOptimize(value);
}

/// One arena for every benchmark, written once before any timing.
std::span<std::byte> arena() {
  static const MappedRegion region(std::size_t{64} << 20);
  return region.first(region.size());
}

/// reallocate for a heap composition.
template <class Fit, class Tags, class Check, class Cache>
void* grow(HeapAdapter<Fit, Tags, Check, Cache>& a, void* p, std::size_t size) {
  Result<void*> r = a.heap().reallocate(p, size);
  return r ? *r : nullptr;
}

/// realloc for glibc.
void* grow(MallocAdapter&, void* p, std::size_t size) { return std::realloc(p, size); }

/// A containers Allocator handle over glibc (malloc, realloc, malloc_usable_size): the Vec reference.
struct MallocRef {
  /// malloc; alignments above max_align_t are refused.
  Result<void*> allocate(Layout layout) const {
    if (layout.align() > alignof(std::max_align_t)) return fail(AllocError::kInvalidLayout);
    void* p = std::malloc(layout.size());
    if (p == nullptr) return fail(AllocError::kOutOfMemory);
    return p;
  }
  /// free.
  void deallocate(void* p, Layout) const { std::free(p); }
  /// realloc (keeps max_align_t alignment).
  Result<void*> reallocate(void* p, Layout, std::size_t new_size) const {
    void* q = std::realloc(p, new_size);
    if (q == nullptr) return fail(AllocError::kOutOfMemory);
    return q;
  }
  /// malloc_usable_size.
  std::size_t usable_size(const void* p) const { return malloc_usable_size(const_cast<void*>(p)); }
};

/// The containers allocator handle for a heap composition.
template <class Fit, class Tags, class Check, class Cache>
HeapRef<typename HeapAdapter<Fit, Tags, Check, Cache>::Heap> handle(HeapAdapter<Fit, Tags, Check, Cache>& a) {
  return HeapRef<typename HeapAdapter<Fit, Tags, Check, Cache>::Heap>(a.heap());
}

/// The containers allocator handle for glibc.
MallocRef handle(MallocAdapter&) { return MallocRef{}; }

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
    keep(p);
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
      keep(p);
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

template <class A>
void BM_VecPushBack(benchmark::State& state) {
  A a(arena());
  const auto n = static_cast<std::uint64_t>(state.range(0));
  double overhead = 0;
  double slack = 0;
  for (auto _ : state) {
    Vec<std::uint64_t, decltype(handle(a))> v(handle(a));
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!v.push_back(i)) {
        state.SkipWithError("push_back failed");
        return;
      }
    }
    benchmark::DoNotOptimize(v.data());
    overhead = static_cast<double>(a.block_overhead(v.data(), v.capacity() * sizeof(std::uint64_t)));
    slack = static_cast<double>((v.capacity() - v.size()) * sizeof(std::uint64_t));
  }
  state.counters["bytes_per_block"] = overhead;
  state.counters["slack_bytes"] = slack;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class A>
void BM_StringPushBack(benchmark::State& state) {
  A a(arena());
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    String<decltype(handle(a))> s(handle(a));
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!s.push_back(static_cast<char>('a' + i % 26))) {
        state.SkipWithError("push_back failed");
        return;
      }
    }
    benchmark::DoNotOptimize(s.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

using FirstCompact = HeapAdapter<FirstFit, CompactTags>;
using FirstFull = HeapAdapter<FirstFit, FullTags>;
using NextCompact = HeapAdapter<NextFit, CompactTags>;
using NextFull = HeapAdapter<NextFit, FullTags>;
using BestCompact = HeapAdapter<BestFit, CompactTags>;
using BestFull = HeapAdapter<BestFit, FullTags>;
using SegCompact = HeapAdapter<SegregatedFit<>, CompactTags>;
using SegFull = HeapAdapter<SegregatedFit<>, FullTags>;
/// SegregatedFit<> with QuickCache<> (README "QuickCache"), with the default BasicChecks and with NoChecks.
using SegCompactCache = HeapAdapter<SegregatedFit<>, CompactTags, BasicChecks<>, QuickCache<>>;
using SegCompactNoChecksCache = HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, QuickCache<>>;

#define NOSTD_SIZES Arg(16)->Arg(64)->Arg(256)->Arg(4096)
BENCHMARK_TEMPLATE(BM_AllocFree, FirstCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, FirstFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, NextCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, NextFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, BestCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, BestFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, SegCompact)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, SegFull)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, SegCompactCache)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, SegCompactNoChecksCache)->NOSTD_SIZES;
BENCHMARK_TEMPLATE(BM_AllocFree, MallocAdapter)->NOSTD_SIZES;

BENCHMARK_TEMPLATE(BM_ReallocGrowth, FirstCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, FirstFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, NextCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, NextFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, BestCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, BestFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, SegCompact);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, SegFull);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, SegCompactCache);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, SegCompactNoChecksCache);
BENCHMARK_TEMPLATE(BM_ReallocGrowth, MallocAdapter);

#define NOSTD_COUNTS Arg(1000)->Arg(100000)
BENCHMARK_TEMPLATE(BM_VecPushBack, FirstCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, FirstFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, NextCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, NextFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, BestCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, BestFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, SegCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, SegFull)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, SegCompactCache)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, SegCompactNoChecksCache)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_VecPushBack, MallocAdapter)->NOSTD_COUNTS;

BENCHMARK_TEMPLATE(BM_StringPushBack, FirstCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_StringPushBack, SegCompact)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_StringPushBack, SegCompactCache)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_StringPushBack, SegCompactNoChecksCache)->NOSTD_COUNTS;
BENCHMARK_TEMPLATE(BM_StringPushBack, MallocAdapter)->NOSTD_COUNTS;

/// The compositions in the order the ratio table lists them (the benchmarks run in a random order): the name in the
/// benchmark's (`BM_AllocFree<FirstCompact>`, what --benchmark_filter matches) and the column's, which is
/// fit_compare's row name for the same heap (README, "Performance"; BasicChecks unless "/nochecks").
struct Column {
  const char* benchmark;  ///< the type between the angle brackets
  const char* heading;    ///< fit_compare's name
};
constexpr Column kColumns[] = {
    {"FirstCompact", "first/compact"},
    {"FirstFull", "first/full"},
    {"NextCompact", "next/compact"},
    {"NextFull", "next/full"},
    {"BestCompact", "best/compact"},
    {"BestFull", "best/full"},
    {"SegCompact", "seg/compact"},
    {"SegFull", "seg/full"},
    {"SegCompactCache", "seg/compact+cache"},
    {"SegCompactNoChecksCache", "seg/compact/nochecks+cache"},
    {"MallocAdapter", "glibc"},
};

/// Google Benchmark's `Reporter` (its ConsoleReporter or CSVReporter, whose ReportContext prints the machine's
/// context on the error stream) with Debian's DEBUG-library warning replaced by what it means here. JSONReporter
/// prints no warning (its context says `"library_build_type": "debug"`), so it needs no wrapper.
template <class Reporter>
class DebugNoteReporter : public Reporter {
 public:
  using Reporter::Reporter;

  /// Prints the context (CPU, caches, load) as `Reporter` does, with the warning line replaced by a note.
  bool ReportContext(const benchmark::BenchmarkReporter::Context& context) override {
    std::ostringstream text;
    std::ostream& err = this->GetErrorStream();
    this->SetErrorStream(&text);
    const bool ok = Reporter::ReportContext(context);
    this->SetErrorStream(&err);
    std::istringstream lines(text.str());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("Library was built as DEBUG") != std::string::npos) {
        // Debian builds libbenchmark with -O2 but without -DNDEBUG, so the library keeps its internal checks and
        // prints this warning. Those checks run between timing batches; the timed loop (`for (auto _ : state)`,
        // inline in benchmark.h) and all the code measured are compiled into this binary at -O2 -DNDEBUG.
        err << "note: Debian's libbenchmark is built without -DNDEBUG (its own checks, outside the timed loops);"
               " the loops and the allocators measured are compiled at -O2 -DNDEBUG\n";
      } else {
        err << line << '\n';
      }
    }
    return ok;
  }
};

/// Google Benchmark's console output, then a table of every composition's CPU time per iteration as a ratio to
/// glibc's on the same benchmark and argument, measured in the same run: absolute times came out 2-3.5x apart on two
/// 2-core machines, the ratios are what carries over. CPU time rather than wall time, so that time the scheduler
/// gives to other processes on a shared machine is not counted. With repetitions, each ratio uses the medians.
class RatioToGlibcReporter : public DebugNoteReporter<benchmark::ConsoleReporter> {
 public:
  /// Counters in columns; colours when `color` (a terminal, or --benchmark_color=true).
  explicit RatioToGlibcReporter(bool color) : DebugNoteReporter(color ? OO_ColorTabular : OO_Tabular) {}

  /// Prints the runs and keeps each successful run's CPU time per iteration: every repetition, and the median
  /// when Google Benchmark reports aggregates.
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type != Run::RT_Iteration && !median)) continue;
      // function_name is "BM_AllocFree<FirstCompact>": the family, and the allocator between the angle brackets.
      const std::string& function = run.run_name.function_name;
      const std::size_t open = function.find('<');
      if (open == std::string::npos || function.back() != '>') continue;
      const Row row{function.substr(0, open), run.run_name.args};
      const std::string column = function.substr(open + 1, function.size() - open - 2);
      const double ns = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
      Times& times = times_[row][column];
      if (median) {
        times.median = ns;
      } else {
        times.runs.push_back(ns);
      }
      repetitions_ = std::max<std::size_t>(repetitions_, static_cast<std::size_t>(run.repetitions));
    }
  }

  /// Prints the ratio table: nothing when no benchmark ran (--benchmark_list_tests, a filter that matches none), a
  /// note when glibc did not run (a --benchmark_filter without MallocAdapter).
  void print_ratios(std::FILE* out) const {
    const std::string glibc = "MallocAdapter";
    if (times_.empty()) return;
    std::vector<std::string> columns;
    bool has_glibc = false;
    for (const auto& [row, by_column] : times_) {
      for (const auto& [column, times] : by_column) {
        if (column == glibc) {
          has_glibc = true;
        } else if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
          columns.push_back(column);
        }
      }
    }
    if (!has_glibc) {
      std::fprintf(out, "\nNo ratio table: glibc did not run (add MallocAdapter to --benchmark_filter).\n");
      return;
    }
    std::sort(columns.begin(), columns.end(),
              [](const std::string& a, const std::string& b) { return std::pair(rank(a), a) < std::pair(rank(b), b); });
    std::fprintf(out, "\nCPU time per iteration / glibc's in this run (below 1.00: faster than glibc)%s\n",
                 repetitions_ > 1 ? "; medians of the repetitions, run in random order" : "");
    std::fprintf(out,
                 "columns: fit_compare's names for the heaps (first/compact is BM_...<FirstCompact>, and so on)\n");
    // The name column is as wide as the longest row name ("BM_StringPushBack/100000"), so that every row lines up.
    int name_width = static_cast<int>(std::strlen("benchmark"));
    for (const auto& [row, by_column] : times_) name_width = std::max(name_width, static_cast<int>(row.name().size()));
    std::fprintf(out, "%-*s", name_width, "benchmark");
    for (const std::string& column : columns) std::fprintf(out, " %*s", width(column), heading(column));
    // The glibc time column is as wide as its longest time (under ASan on a loaded machine StringPushBack/100000 took
    // 17753381.0 ns, which overflowed a fixed width and pushed its row out of line), and at least 12.
    // A row's time in one column, 0 where that column did not run it.
    const auto time_in = [](const auto& by_column, const std::string& column) {
      const auto found = by_column.find(column);
      return found == by_column.end() ? 0.0 : found->second.value();
    };
    int time_width = 12;
    for (const auto& [row, by_column] : times_) {
      const double base = time_in(by_column, glibc);
      if (base > 0) time_width = std::max(time_width, std::snprintf(nullptr, 0, "%.1f ns", base));
    }
    std::fprintf(out, " %*s\n", time_width, "glibc time");
    for (const auto& [row, by_column] : times_) {
      const double base = time_in(by_column, glibc);
      std::fprintf(out, "%-*s", name_width, row.name().c_str());
      for (const std::string& column : columns) {
        const double time = time_in(by_column, column);
        if (base > 0 && time > 0) {
          std::fprintf(out, " %*.2f", width(column), time / base);
        } else {
          std::fprintf(out, " %*s", width(column), "-");
        }
      }
      if (base > 0) {
        std::fprintf(out, " %*.1f ns\n", time_width - 3, base);
      } else {
        std::fprintf(out, " %*s\n", time_width, "-");
      }
    }
  }

 private:
  /// One line of the table: a benchmark family and its argument, ordered by family then numeric argument.
  struct Row {
    std::string family;  ///< "BM_AllocFree"
    std::string args;    ///< "16", or empty
    /// The row's name in the table: "BM_AllocFree/16", or the family alone.
    std::string name() const { return family + (args.empty() ? "" : "/" + args); }
    bool operator<(const Row& other) const {
      if (family != other.family) return family < other.family;
      if (args.size() != other.args.size()) return args.size() < other.args.size();  // "16" before "4096"
      return args < other.args;
    }
  };
  /// One cell: the CPU ns per iteration of every repetition, and Google Benchmark's median if it reported one.
  struct Times {
    std::vector<double> runs;
    double median = 0;
    /// The median: Google Benchmark's, else computed from the runs.
    double value() const {
      if (median > 0 || runs.empty()) return median;
      std::vector<double> sorted = runs;
      std::sort(sorted.begin(), sorted.end());
      const std::size_t n = sorted.size();
      return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
  };

  static const Column* find_column(const std::string& column) {
    return std::find_if(std::begin(kColumns), std::end(kColumns),
                        [&](const Column& c) { return column == c.benchmark; });
  }
  static std::size_t rank(const std::string& column) {
    return static_cast<std::size_t>(find_column(column) - std::begin(kColumns));
  }
  // fit_compare's name for the heap, or the benchmark's when the table does not know it.
  static const char* heading(const std::string& column) {
    const Column* found = find_column(column);
    return found != std::end(kColumns) ? found->heading : column.c_str();
  }
  static int width(const std::string& column) {
    return static_cast<int>(std::max<std::size_t>(12, std::strlen(heading(column))));
  }

  std::map<Row, std::map<std::string, Times>> times_;
  std::size_t repetitions_ = 1;
};

/// The reporter of --benchmark_out's file: Google Benchmark's own for --benchmark_out_format (the one it would create
/// for the file: JSON, CSV, or the console's without colours or columns), writing into memory instead of the stream
/// Google Benchmark opened. Google Benchmark opens --benchmark_out's name itself before the run and writes it as the
/// run goes, in place, so a write that failed part way (a full disk) would leave a cut file where the old one was,
/// and nothing would say so; main hands it /dev/null instead and, after the run, writes text() under the name as the
/// other tools write their files (bench/output_file.h: whole or not at all, a failure one line). No temporary file
/// exists during the run, which a ^C, or Google Benchmark's std::exit, would leave behind.
class BufferedFileReporter : public benchmark::BenchmarkReporter {
 public:
  /// `format`: console, json or csv (parse_flags checked it).
  explicit BufferedFileReporter(std::string_view format) : inner_(make(format)) {
    // Both streams, as Google Benchmark sets its file reporter's: the console format writes its context to the
    // error stream.
    inner_->SetOutputStream(&text_);
    inner_->SetErrorStream(&text_);
  }

  bool ReportContext(const Context& context) override {
    reported_ = true;
    return inner_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override { inner_->ReportRuns(runs); }
  void Finalize() override { inner_->Finalize(); }

  /// Whether a run was reported: not for --benchmark_list_tests or a filter that matches nothing, which leave the
  /// file as it was (Google Benchmark had emptied it).
  bool reported() const { return reported_; }
  /// What the reporter wrote.
  std::string_view text() const { return text_.view(); }

 private:
  static std::unique_ptr<benchmark::BenchmarkReporter> make(std::string_view format) {
    if (format == "json") return std::make_unique<benchmark::JSONReporter>();
    if (format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // as for --benchmark_format=csv in main
      return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
    }
    return std::make_unique<benchmark::ConsoleReporter>(benchmark::ConsoleReporter::OO_None);
  }

  std::ostringstream text_;  // declared first: inner_ writes into it until destroyed
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  bool reported_ = false;
};

/// Writes the text `reporter` holds under `path` (check_output's name), as the other tools write their files: true,
/// or false after one line naming `option` (--benchmark_out or BENCHMARK_OUT, as check_output named it), the file
/// and the reason (a file there is left as it was).
bool write_out(std::string_view option, const std::string& path, const BufferedFileReporter& reporter) {
  std::optional<OutputFile> out = open_output("micro_bench", option, path);
  if (!out) return false;
  const std::string_view text = reporter.text();
  std::fwrite(text.data(), 1, text.size(), out->stream());  // a short write shows in close_output
  return close_output("micro_bench", option, path, *out);
}

/// Whether Google Benchmark 1.7 takes `value` of --benchmark_color (other than auto) as true: its IsTruthyFlagValue,
/// so that the ratio table is coloured when Google Benchmark's own rows are (`on`, `True`, `y` too; it had taken
/// only true, yes and 1). One character: a letter or digit but 0, f, F, n and N; longer: anything but false, no and
/// off in any case; empty: false.
bool color_value_true(std::string_view value) {
  if (value.size() == 1) {
    const char c = value[0];
    return std::isalnum(static_cast<unsigned char>(c)) != 0 &&
           std::string_view("0fFnN").find(c) == std::string_view::npos;
  }
  std::string lower;
  for (const char c : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !lower.empty() && lower != "false" && lower != "no" && lower != "off";
}

/// What --benchmark_format and --benchmark_out_format take (Google Benchmark's three reporters), for the message that
/// refuses another name.
constexpr const char* kFormatTakes = "console, json or csv";

/// What main reads from the command line before Google Benchmark sees it.
struct Flags {
  std::string_view format = "console";   ///< the last --benchmark_format: console, json or csv
  std::string_view out_format = "json";  ///< the last --benchmark_out_format, else json
  bool color = false;                    ///< colours in the console output (--benchmark_color, auto by default)
  std::string out;                       ///< the last --benchmark_out's file as checked (check_output), or empty
  std::string out_option;                ///< how messages name that file's option: --benchmark_out or BENCHMARK_OUT
};

/// One flag as micro_bench reads it: `text` is what Google Benchmark is given, `shown` how a message names it (the
/// flag itself, or the environment variable it came from).
struct Arg {
  std::string text;
  std::string shown;
};

/// The flags micro_bench gives a default or checks whose value Google Benchmark also takes from its environment
/// (BENCHMARK_ and the flag's name in capitals, when the flag is not given). Its defaults are flags, which would
/// override such a variable, and its checks read the command line: so each variable set here is read as its flag.
constexpr std::string_view kEnvFlags[] = {
    "repetitions", "enable_random_interleaving", "display_aggregates_only", "min_time", "format", "out_format", "out",
    "color"};

/// The flags main gives Google Benchmark, in order: micro_bench's defaults (every benchmark 3 times at 0.2 s, in one
/// random order, only the aggregates displayed), then one flag for each variable of kEnvFlags set and not empty
/// (an empty one is unset: Google Benchmark had read it as an empty value), then the command line, so that a flag
/// given there wins over a variable, and a variable over a default.
std::vector<Arg> flags_in_order(int argc, char** argv) {
  std::vector<Arg> args;
  // The last three are Google Benchmark's own defaults, given again because it reads its environment when the
  // program starts: an empty BENCHMARK_FORMAT had set an empty format, which Initialize refused with its usage.
  for (const char* d : {"--benchmark_repetitions=3", "--benchmark_enable_random_interleaving=true",
                        "--benchmark_display_aggregates_only=true", "--benchmark_min_time=0.2",
                        "--benchmark_format=console", "--benchmark_out_format=json", "--benchmark_color=auto"}) {
    args.push_back({d, d});
  }
  for (const std::string_view name : kEnvFlags) {
    std::string variable = "BENCHMARK_";
    for (const char c : name) variable += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr || *value == '\0') continue;
    args.push_back({"--benchmark_" + std::string(name) + "=" + value, variable + "=" + value});
  }
  for (int i = 1; i < argc; ++i) args.push_back({argv[i], argv[i]});
  return args;
}

/// Checks the flags that Google Benchmark would take badly, before its Initialize: --benchmark_repetitions (0 ran
/// nothing and exited 0, -1 aborted in vector::reserve) as fit_compare's --reps, --benchmark_min_time as its
/// --min_time, both with bench/cli_args.h; --benchmark_format and --benchmark_out_format, for whose unknown names
/// Initialize prints its whole usage and exits 0; --benchmark_out as the other tools' output files (check_output: an
/// empty name had been ignored and the run gone ahead, one that cannot be written was Google Benchmark's "invalid
/// file name" without the reason, exit 1). Every occurrence in `args` (flags_in_order) is checked, not only the last
/// (which is the one Google Benchmark uses). Returns the output format, colour and file, or nullopt after one line on
/// stderr naming the first bad value as `shown`. Other flags are left to Initialize.
std::optional<Flags> parse_flags(const std::vector<Arg>& args) {
  const bool terminal = isatty(fileno(stdout)) != 0;  // Google Benchmark's --benchmark_color=auto
  Flags flags{.color = terminal, .out = {}, .out_option = {}};
  auto refuse = [](std::string_view shown, const char* takes) -> std::optional<Flags> {
    print_bad_value("micro_bench", shown, takes);
    return std::nullopt;
  };
  for (const Arg& a : args) {
    const std::string_view arg = a.text;
    const std::size_t equals = arg.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = arg.substr(0, equals + 1);
    const std::string_view value = arg.substr(equals + 1);
    if (name == "--benchmark_repetitions=") {
      if (!parse_reps(value)) return refuse(a.shown, kRepsTakes);
    } else if (name == "--benchmark_min_time=") {
      if (!parse_seconds(value)) return refuse(a.shown, kMinTimeTakes);
    } else if (name == "--benchmark_format=" || name == "--benchmark_out_format=") {
      if (value != "console" && value != "json" && value != "csv") return refuse(a.shown, kFormatTakes);
      (name == "--benchmark_format=" ? flags.format : flags.out_format) = value;
    } else if (name == "--benchmark_out=") {
      // The option as a message names it: the flag, or the variable without its value.
      const std::string_view option = std::string_view(a.shown).substr(0, a.shown.find('='));
      const std::optional<std::string> out = check_output("micro_bench", option, std::string(value));
      if (!out) return std::nullopt;  // check_output said why
      flags.out = *out;
      flags.out_option = option;
    } else if (name == "--benchmark_color=") {
      flags.color = value == "auto" ? terminal : color_value_true(value);
    }
  }
  return flags;
}

}  // namespace
}  // namespace nostd::bench

/// Runs the benchmarks. Unless the command line says otherwise, every benchmark runs 3 times at 0.2 s each, in a
/// random order across all benchmarks (so that a load change on a shared machine falls on every allocator alike, as
/// fit_compare interleaves its runs), and only the aggregates are printed. With the console output (the default) it
/// ends with the ratio-to-glibc table; another --benchmark_format (json, csv) is Google Benchmark's own, without it.
/// --benchmark_out's file is written after the run, whole or not at all (BufferedFileReporter).
/// Exit status: 0 when benchmarks ran (or were listed, --benchmark_list_tests); 2 after one line on stderr when a
/// flag's value is refused (parse_flags), a flag is unknown, or --benchmark_filter matches no benchmark; 1 after one
/// line when --benchmark_out's file could not be written (the file there is left as it was).
int main(int argc, char** argv) {
  using nostd::bench::BufferedFileReporter;
  using nostd::bench::DebugNoteReporter;
  using nostd::bench::RatioToGlibcReporter;
  const std::vector<nostd::bench::Arg> given = nostd::bench::flags_in_order(argc, argv);
  const std::optional<nostd::bench::Flags> flags = nostd::bench::parse_flags(given);
  if (!flags) return 2;
  // Google Benchmark opens --benchmark_out's name itself and writes it in place: it gets /dev/null, and the file
  // reporter keeps the text for the name checked (from where `bazel run` was started), written after the run.
  // Google Benchmark still needs a --benchmark_out to use a file reporter, and still sends it every repetition when
  // only the aggregates are displayed. BENCHMARK_OUT is one of `given`'s flags, so it gets /dev/null too.
  static char discard[] = "--benchmark_out=/dev/null";
  std::vector<char*> args = {argv[0]};
  for (const nostd::bench::Arg& a : given) {
    args.push_back(a.text.starts_with("--benchmark_out=") ? discard : const_cast<char*>(a.text.c_str()));
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 2;
  std::optional<BufferedFileReporter> file;
  if (!flags->out.empty()) file.emplace(flags->out_format);
  benchmark::BenchmarkReporter* const file_reporter = file ? &*file : nullptr;
  // The number of benchmarks the filter matched (run, or listed): 0 when it matched none or did not compile, after
  // Google Benchmark's own line saying which.
  std::size_t matched = 0;
  if (flags->format == "console") {
    RatioToGlibcReporter reporter(flags->color);
    matched = benchmark::RunSpecifiedBenchmarks(&reporter, file_reporter);
    reporter.print_ratios(stdout);
  } else if (flags->format == "csv") {
    // Google Benchmark 1.7 marks CSVReporter deprecated ("will be removed in a future release") yet still serves
    // --benchmark_format=csv with it; this is that same reporter, so the warning is silenced for this use alone.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    DebugNoteReporter<benchmark::CSVReporter> reporter;
#pragma GCC diagnostic pop
    matched = benchmark::RunSpecifiedBenchmarks(&reporter, file_reporter);
  } else {
    // JSON: Google Benchmark's reporter (nullptr), which prints no DEBUG warning.
    matched = benchmark::RunSpecifiedBenchmarks(nullptr, file_reporter);
  }
  if (matched == 0) {
    std::fprintf(stderr, "micro_bench: no benchmark matches --benchmark_filter=%s\n",
                 benchmark::GetBenchmarkFilter().c_str());
  }
  std::fflush(stdout);  // the results come before a line saying the file could not be written
  const bool written = !file || !file->reported() || nostd::bench::write_out(flags->out_option, flags->out, *file);
  benchmark::Shutdown();
  if (matched == 0) return 2;
  return written ? 0 : 1;
}
