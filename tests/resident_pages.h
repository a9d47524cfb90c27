// tests/resident_pages.h — counting a range's resident pages (mincore), for tests that check what memory a heap
// leaves untouched: resident_bytes_inside(), and small_pages_only() first, since with transparent huge pages at
// "always" one write into a 2 MiB-aligned range faults in the whole huge page.
#pragma once

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

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

/// Resident bytes of the whole pages inside [p, p + n) (mincore). When mincore fails, every page counts as resident,
/// so that a bound on the result fails rather than passes.
inline std::size_t resident_bytes_inside(const void* p, std::size_t n) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t lo = (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1);
  const std::uintptr_t hi = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(page - 1);
  if (hi <= lo) return 0;
  std::vector<unsigned char> pages((hi - lo) / page);
  if (::mincore(reinterpret_cast<void*>(lo), hi - lo, pages.data()) != 0) return hi - lo;
  std::size_t resident = 0;
  for (unsigned char v : pages) resident += (v & 1u) * page;
  return resident;
}

}  // namespace nostd::testing
