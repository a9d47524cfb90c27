// tests/check.h — checks for programs that cannot use GoogleTest (bare-metal rv32 has no C++ runtime to link it
// against): NOSTD_CHECK(expr) prints the failed expression with its file and line and counts it; the program ends
// with `return nostd::testing::check_exit_status("name");`, which prints the count and gives 0 only when every
// check passed. Needs only <cstdio> (printf over semihosting on the boards).
#pragma once

#include <cstdio>

namespace nostd::testing {

/// The number of failed checks so far in this program.
inline int& check_failures() noexcept {
  static constinit int failures = 0;
  return failures;
}

/// Records one check: prints `what` with its location and counts it when `ok` is false. Returns `ok`, so a caller
/// can stop early (`if (!NOSTD_CHECK(p)) return;`).
inline bool check(bool ok, const char* what, const char* file, int line) noexcept {
  if (!ok) {
    std::printf("%s:%d: check failed: %s\n", file, line, what);
    ++check_failures();
  }
  return ok;
}

/// Prints "NAME: N failure(s)" and returns the program's exit status: 0 when every check passed, else 1.
inline int check_exit_status(const char* name) noexcept {
  std::printf("%s: %d failure(s)\n", name, check_failures());
  return check_failures() == 0 ? 0 : 1;
}

}  // namespace nostd::testing

/// Checks `expr`; on failure prints it with file and line and counts it. Evaluates to `expr` as a bool.
#define NOSTD_CHECK(expr) ::nostd::testing::check(static_cast<bool>(expr), #expr, __FILE__, __LINE__)
