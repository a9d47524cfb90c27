// bench/cli_args.h — strict parsing of the benchmark tools' numeric option values (fit_compare, replay,
// scaling_bench, and micro_bench's checks of Google Benchmark's flags): a value that is not wholly a number of the
// expected kind is refused, never read as its leading digits. `atoi` and friends had read `--arena=10MB` as 10 bytes,
// `--reps=abc` as 1 and `--cap=-5` as a negative cap, each run then going ahead on a value nobody asked for. Also
// where a file name given to a tool is taken from under `bazel run` (from_working_dir), for every tool alike.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nostd::bench {

/// `text` as a whole number of at most `max`: decimal digits only (no sign, no space, no suffix); nullopt otherwise.
inline std::optional<std::uint64_t> parse_whole(std::string_view text,
                                                std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (digit > max || value > (max - digit) / 10) return std::nullopt;  // value * 10 + digit would pass max
    value = value * 10 + digit;
  }
  return value;
}

/// The power of two a binary size suffix stands for: 10, 20 or 30 for K, M or G (KiB, MiB, GiB; either case), else 0.
inline int binary_suffix_shift(char suffix) {
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

/// `text` as a byte count of at most `max`: a whole number, optionally followed by K, M or G (binary_suffix_shift;
/// `16M` = 16 << 20); nullopt otherwise.
inline std::optional<std::uint64_t> parse_bytes(std::string_view text, std::uint64_t max) {
  const int shift = text.empty() ? 0 : binary_suffix_shift(text.back());
  if (shift != 0) text.remove_suffix(1);
  const std::optional<std::uint64_t> number = parse_whole(text, max >> shift);
  if (!number) return std::nullopt;
  return *number << shift;
}

/// `text` as a duration in seconds: a finite decimal number (digits, a point, an exponent such as 1e-3), at least 0
/// (every character of it read); nullopt otherwise.
inline std::optional<double> parse_seconds(std::string_view text) {
  // A digit or a point first: strtod would also take leading space, a sign, "inf" and "nan". Only the characters of
  // a decimal number after it: strtod would also read a hexadecimal one, `--cap=0x10` as 16 s.
  if (text.empty() || !((text.front() >= '0' && text.front() <= '9') || text.front() == '.')) return std::nullopt;
  if (text.find_first_not_of("0123456789.eE+-") != std::string_view::npos) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (errno != 0 || end != copy.c_str() + copy.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

/// What fit_compare's and replay's shared options take, for their messages (micro_bench's --benchmark_repetitions and
/// --benchmark_min_time take the same as --reps and --min_time).
inline constexpr const char* kRepsTakes = "a whole number from 1 to 1000";
inline constexpr const char* kCapTakes = "a number of seconds above 0";
inline constexpr const char* kMinTimeTakes = "a number of seconds, 0 or more";

/// --reps=N: the throughput repetitions, 1 to 1000.
inline std::optional<int> parse_reps(std::string_view text) {
  const std::optional<std::uint64_t> reps = parse_whole(text, 1000);
  if (!reps || *reps == 0) return std::nullopt;
  return static_cast<int>(*reps);
}

/// --cap=SECONDS: the time cap of a run, above 0.
inline std::optional<double> parse_cap(std::string_view text) {
  const std::optional<double> cap = parse_seconds(text);
  if (!cap || *cap == 0) return std::nullopt;
  return cap;
}

/// The one line a tool prints for an option whose value it refuses: "TOOL: OPTION: not TAKES (see --help)".
inline void print_bad_value(const char* tool, std::string_view option, const char* takes) {
  std::fprintf(stderr, "%s: %.*s: not %s (see --help)\n", tool, static_cast<int>(option.size()), option.data(), takes);
}

/// Whether `arg` is an option written `PREFIX` + value (`prefix` with its '=', as "--reps="); if so `*value` is what
/// follows the prefix (empty for `--reps=`).
inline bool option_value(std::string_view arg, std::string_view prefix, std::string_view* value) {
  if (!arg.starts_with(prefix)) return false;
  *value = arg.substr(prefix.size());
  return true;
}

/// The timing options fit_compare and replay share: --reps=N, --cap=SECONDS, --min_time=SECONDS and --quick, whose
/// shorter settings (1 repetition, a 2 s cap, 0.1 s) apply to each of the three not given. A tool's `Options` derives
/// from it with its own defaults, reads each argument with `read_timing_option` and calls `apply_quick` after the last.
struct TimingOptions {
  int reps = 5;              ///< throughput repetitions (the median is reported)
  double cap_seconds = 15;   ///< time cap per run
  double min_seconds = 1.0;  ///< repeat short runs until they total this
  bool quick = false;        ///< --quick: a first look (the tool may shorten its traces too)
  bool reps_given = false;   ///< --reps= was given: --quick keeps it
  bool cap_given = false;    ///< --cap= was given: --quick keeps it
  bool min_given = false;    ///< --min_time= was given: --quick keeps it
};

/// What `read_timing_option` made of an argument.
enum class OptionRead {
  kNotMine,  ///< not a timing option: the tool reads it
  kRead,     ///< read into the options
  kRefused,  ///< a timing option with a bad value: its one line is printed, the run must not start
};

/// Reads `arg` into `t` if it is one of the timing options; a bad value gets `print_bad_value`'s line for `tool`.
inline OptionRead read_timing_option(const char* tool, std::string_view arg, TimingOptions& t) {
  std::string_view v;
  auto refused = [&](const char* takes) {
    print_bad_value(tool, arg, takes);
    return OptionRead::kRefused;
  };
  if (arg == "--quick") {
    t.quick = true;
  } else if (option_value(arg, "--reps=", &v)) {
    const std::optional<int> reps = parse_reps(v);
    if (!reps) return refused(kRepsTakes);
    t.reps = *reps;
    t.reps_given = true;
  } else if (option_value(arg, "--cap=", &v)) {
    const std::optional<double> cap = parse_cap(v);
    if (!cap) return refused(kCapTakes);
    t.cap_seconds = *cap;
    t.cap_given = true;
  } else if (option_value(arg, "--min_time=", &v)) {
    const std::optional<double> min_time = parse_seconds(v);
    if (!min_time) return refused(kMinTimeTakes);
    t.min_seconds = *min_time;
    t.min_given = true;
  } else {
    return OptionRead::kNotMine;
  }
  return OptionRead::kRead;
}

/// After the last argument: with --quick, its settings for each timing option not given (a value given is kept:
/// `--quick --min_time=0` runs with 0).
inline void apply_quick(TimingOptions& t) {
  if (!t.quick) return;
  if (!t.reps_given) t.reps = 1;
  if (!t.cap_given) t.cap_seconds = 2;
  if (!t.min_given) t.min_seconds = 0.1;
}

/// Whether `arg` is the name of one of `value_options` (each written with its '=', as "--reps=") without the '=' and
/// the value, as `--reps 3` or a bare `--reps` gives it. If so, prints the one line "TOOL: --reps takes its value
/// after '=': --reps=VALUE (see --help)": "unknown option --reps" would send the user looking for an option that is
/// there.
inline bool refuse_value_apart(const char* tool, std::string_view arg,
                               std::initializer_list<std::string_view> value_options) {
  for (const std::string_view option : value_options) {
    if (arg.size() + 1 == option.size() && option.starts_with(arg)) {
      const int n = static_cast<int>(arg.size());
      std::fprintf(stderr, "%s: %.*s takes its value after '=': %.*s=VALUE (see --help)\n", tool, n, arg.data(), n,
                   arg.data());
      return true;
    }
  }
  return false;
}

/// The one line a tool that takes only options prints for an argument it does not know: "TOOL: unknown option ARG
/// (see --help)"; for an empty one (an unset shell variable), which that line would not show, "TOOL: an empty
/// argument: not an option (see --help)"; for the name of one of `value_options` without its value,
/// `refuse_value_apart`'s line.
inline void print_unknown_option(const char* tool, std::string_view arg,
                                 std::initializer_list<std::string_view> value_options = {}) {
  if (refuse_value_apart(tool, arg, value_options)) return;
  if (arg.empty()) {
    std::fprintf(stderr, "%s: an empty argument: not an option (see --help)\n", tool);
  } else {
    std::fprintf(stderr, "%s: unknown option %.*s (see --help)\n", tool, static_cast<int>(arg.size()), arg.data());
  }
}

/// The comma-separated words of a list option's value (`--allocators=first,glibc`), empty words kept: `--allocators=`
/// and `a,,b` then reach the caller's check of each word and are refused there, instead of reading as no filter.
inline std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  for (;;) {
    const std::size_t comma = text.find(',');
    words.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return words;
    text.remove_prefix(comma + 1);
  }
}

/// `path` as the user meant it under `bazel run`, which starts tools in their runfiles tree: a relative path is taken
/// from the directory `bazel run` was started in (BUILD_WORKING_DIRECTORY), as a shell would; unchanged elsewhere.
inline std::string from_working_dir(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  return wd != nullptr ? std::string(wd) + "/" + path : path;
}

}  // namespace nostd::bench
