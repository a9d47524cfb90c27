// tests/small_pages.h — small_pages_only(): transparent huge pages off for the test process, for tests that count
// resident pages (mincore): with THP at "always", one write into a 2 MiB-aligned range faults in the whole huge page.
#pragma once

#include <sys/prctl.h>

#include <cstdio>
#include <cstring>

namespace nostd::testing {

/// Turns transparent huge pages off for this process (PR_SET_THP_DISABLE). True when that worked or THP is not at
/// "always" (qemu-user refuses the prctl; then the system's setting decides): resident pages can be counted one by one.
inline bool small_pages_only() {
  if (::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0) return true;
  std::FILE* const file = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (file == nullptr) return true;  // no THP in this kernel
  char setting[128] = {};
  const bool read = std::fgets(setting, sizeof setting, file) != nullptr;
  std::fclose(file);
  return !read || std::strstr(setting, "[always]") == nullptr;
}

}  // namespace nostd::testing
