// platform/malloc/malloc_config.h — MallocConfig: the drop-in malloc's settings, read from the environment.
//
//   NOSTD_MALLOC_STATS=1          print one line of statistics to stderr at exit
//   NOSTD_MALLOC_VALIDATE=1       run validate() on every arena at exit; a broken heap aborts with the reason
//   NOSTD_MALLOC_CHECK=LEVEL      none | basic (default) | hardened: the check policy of every arena
//   NOSTD_MALLOC_ARENAS=N         1..kMaxArenas arenas (default kDefaultArenas)
//
// A value that is not understood is reported (one line on stderr naming the variable and what it accepts) and the
// default is kept: a typo must not silently turn checking off, nor stop a program that ran before. A variable
// whose name starts with NOSTD_MALLOC_ but is none of the four (NOSTD_MALLOC_CHEK=hardened) is reported the same
// way (unknown_malloc_variable), since it would otherwise leave its setting at the default without a word.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace nostd::malloc_door {

/// Most arenas a process can have (the chunk map stores the owner in a byte, 0 meaning none).
inline constexpr unsigned kMaxArenas = 64;
/// What malloc guarantees: alignof(max_align_t), 16 on x86_64. Here, beside the other settings, so that the entry
/// points (malloc_door.h) and the arenas (arena_set.h: the alignment a block moved to another arena keeps) share it.
inline constexpr std::size_t kMallocAlignment = alignof(std::max_align_t);
/// Arenas when NOSTD_MALLOC_ARENAS is unset: enough that a few busy threads rarely meet on one lock; an unused
/// arena costs nothing (its first chunk is mapped on its first allocation).
inline constexpr unsigned kDefaultArenas = 8;

/// The check policy every arena of the process uses.
enum class CheckChoice : std::uint8_t {
  kNone,      ///< NoChecks: free trusts its argument.
  kBasic,     ///< BasicChecks: O(1) pointer, header and double-free checks on every free and realloc.
  kHardened,  ///< HardenedChecks: BasicChecks plus a keyed check word in every used block (key from getrandom).
};

/// The name NOSTD_MALLOC_CHECK uses for `choice`.
constexpr std::string_view to_string(CheckChoice choice) noexcept {
  switch (choice) {
    case CheckChoice::kNone:
      return "none";
    case CheckChoice::kBasic:
      return "basic";
    case CheckChoice::kHardened:
      return "hardened";
  }
  return "basic";
}

/// A variable whose value was not understood and had to be ignored (its default kept).
struct IgnoredVariable {
  const char* name = nullptr;      ///< e.g. "NOSTD_MALLOC_CHECK"
  const char* accepted = nullptr;  ///< What it accepts, for the message: "none, basic or hardened"
};

/// The settings, and every variable that had to be ignored.
struct MallocConfig {
  /// How many variables the drop-in reads: each can be ignored once.
  static constexpr unsigned kVariables = 4;

  bool print_stats = false;                 ///< NOSTD_MALLOC_STATS
  bool validate_at_exit = false;            ///< NOSTD_MALLOC_VALIDATE
  CheckChoice check = CheckChoice::kBasic;  ///< NOSTD_MALLOC_CHECK
  unsigned arenas = kDefaultArenas;         ///< NOSTD_MALLOC_ARENAS
  IgnoredVariable ignored[kVariables];      ///< The variables with a value not understood, in the order read.
  unsigned ignored_count = 0;               ///< How many of `ignored` are set.
};

/// The variables the drop-in reads (read_malloc_config), each named once here.
inline constexpr const char* kStatsVariable = "NOSTD_MALLOC_STATS";
inline constexpr const char* kValidateVariable = "NOSTD_MALLOC_VALIDATE";
inline constexpr const char* kCheckVariable = "NOSTD_MALLOC_CHECK";
inline constexpr const char* kArenasVariable = "NOSTD_MALLOC_ARENAS";
/// The names the drop-in reads, in the order read_malloc_config reads them.
inline constexpr std::string_view kVariableNames[] = {kStatsVariable, kValidateVariable, kCheckVariable,
                                                      kArenasVariable};
/// What unknown_malloc_variable's report lists as accepted. It names the trace variable too, whose prefix differs
/// (the recorder is shared with the glibc shim): NOSTD_MALLOC_TRACE=t.trace was reported without a hint of it.
inline constexpr const char* kKnownVariables =
    "the variables read are NOSTD_MALLOC_STATS, NOSTD_MALLOC_VALIDATE, NOSTD_MALLOC_CHECK and NOSTD_MALLOC_ARENAS, "
    "and NOSTD_ALLOC_TRACE to record a trace";
static_assert(
    [] {
      for (std::string_view name : kVariableNames) {
        if (std::string_view(kKnownVariables).find(name) == std::string_view::npos) return false;
      }
      return true;
    }(),
    "kKnownVariables names every variable read");

/// The name of the environment entry `entry` ("NAME=VALUE") if it starts with NOSTD_MALLOC_ but names none of the
/// variables the drop-in reads (a misspelt one), else an empty view. Never allocates.
constexpr std::string_view unknown_malloc_variable(std::string_view entry) noexcept {
  constexpr std::string_view kPrefix = "NOSTD_MALLOC_";
  if (entry.substr(0, kPrefix.size()) != kPrefix) return {};
  const std::string_view name = entry.substr(0, entry.find('='));
  for (std::string_view known : kVariableNames) {
    if (name == known) return {};
  }
  return name;
}
static_assert(std::size(kVariableNames) == MallocConfig::kVariables, "one name per variable read");

/// Reads the settings through `get` (getenv, or a table in tests): nullptr means unset. Never allocates.
template <class Get>
MallocConfig read_malloc_config(Get&& get) noexcept {
  MallocConfig config;
  auto reject = [&config](const char* name, const char* accepted) {
    config.ignored[config.ignored_count++] = IgnoredVariable{name, accepted};
  };
  auto flag = [&](const char* name, bool& out) {
    const char* value = get(name);
    if (value == nullptr) return;
    const std::string_view v(value);
    if (v == "1") {
      out = true;
    } else if (v != "0" && !v.empty()) {
      reject(name, "0 or 1");
    }
  };
  flag(kStatsVariable, config.print_stats);
  flag(kValidateVariable, config.validate_at_exit);
  if (const char* value = get(kCheckVariable)) {
    const std::string_view v(value);
    if (v == "none") {
      config.check = CheckChoice::kNone;
    } else if (v == "basic") {
      config.check = CheckChoice::kBasic;
    } else if (v == "hardened") {
      config.check = CheckChoice::kHardened;
    } else {
      reject(kCheckVariable, "none, basic or hardened");
    }
  }
  if (const char* value = get(kArenasVariable)) {
    const std::string_view v(value);
    unsigned n = 0;
    bool ok = !v.empty() && v.size() <= 3;
    for (char c : v) {
      if (c < '0' || c > '9') ok = false;
      n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (ok && n >= 1 && n <= kMaxArenas) {
      config.arenas = n;
    } else {
      reject(kArenasVariable, "a number from 1 to 64");
    }
  }
  return config;
}

}  // namespace nostd::malloc_door
