// tests/mapped_memory_test.cc — bench/mapped_memory.h's MappedRegion::map, the one fallible mapping behind
// fit_compare's and replay's arenas: a size the system grants is one mapping, not written, that write_first writes and
// the destructor unmaps (also after a move, once); a size it refuses is the errno, never an abort: beyond the address
// space, and under an address-space limit (RLIMIT_AS) that still grants a small mapping.
#include "bench/mapped_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <expected>
#include <utility>

namespace nostd::bench {
namespace {

constexpr std::size_t kPage = 4096;

/// Whether the page at `p` is mapped (mincore fails with ENOMEM for an address no mapping covers).
bool mapped(const std::byte* p) {
  unsigned char v = 0;
  return ::mincore(const_cast<std::byte*>(p), kPage, &v) == 0;
}

/// Whether the page at `p` is resident (written: fresh anonymous pages are not, until touched).
bool resident(const std::byte* p) {
  unsigned char v = 0;
  return ::mincore(const_cast<std::byte*>(p), kPage, &v) == 0 && (v & 1) != 0;
}

/// The process's address space in bytes (VmSize in /proc/self/status), 0 when it cannot be read.
std::size_t address_space_bytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "VmSize: %llu kB", &kib) == 1) break;
  std::fclose(f);
  return static_cast<std::size_t>(kib) * 1024;
}

TEST(MappedRegion, MapGrantsOneMappingThatNothingWroteAndTheDestructorUnmaps) {
  constexpr std::size_t kBytes = 64 * kPage;
  const std::byte* start = nullptr;
  {
    std::expected<MappedRegion, int> region = MappedRegion::map(kBytes);
    ASSERT_TRUE(region.has_value()) << region.error();
    EXPECT_EQ(region->size(), kBytes);
    start = region->first(kBytes).data();
    EXPECT_TRUE(mapped(start));
    EXPECT_TRUE(mapped(start + kBytes - kPage));
    EXPECT_FALSE(resident(start)) << "map() writes nothing: the caller writes what its runs reach";
    // Page by page: where transparent huge pages are "always", a write could fault in a whole 2 MiB page.
    ::madvise(region->first(kBytes).data(), kBytes, MADV_NOHUGEPAGE);
    region->write_first(2 * kPage);
    EXPECT_TRUE(resident(start));
    EXPECT_TRUE(resident(start + kPage));
    EXPECT_FALSE(resident(start + 2 * kPage));
    EXPECT_EQ(region->first(kBytes)[kPage], std::byte{0});
  }
  EXPECT_FALSE(mapped(start));
}

TEST(MappedRegion, AMovedRegionKeepsItsMappingAndItIsUnmappedOnce) {
  constexpr std::size_t kBytes = 16 * kPage;
  std::expected<MappedRegion, int> region = MappedRegion::map(kBytes);
  ASSERT_TRUE(region.has_value()) << region.error();
  const std::byte* start = region->first(kBytes).data();
  {
    MappedRegion moved(std::move(*region));
    EXPECT_EQ(region->size(), 0u);
    region->write_first(kBytes);  // an empty region writes nothing
    EXPECT_EQ(moved.size(), kBytes);
    EXPECT_EQ(moved.first(kBytes).data(), start);
    moved.write_first(kBytes);
    EXPECT_TRUE(resident(start + kBytes - kPage));
  }
  EXPECT_FALSE(mapped(start));
  // The moved-from region's destructor unmaps nothing: a mapping made since at that address survives it.
  void* again = ::mmap(const_cast<std::byte*>(start), kBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_NE(again, MAP_FAILED);
  region = std::unexpected(0);  // destroys the moved-from region
  EXPECT_TRUE(mapped(start));
  ::munmap(again, kBytes);
}

TEST(MappedRegion, ASizeBeyondTheAddressSpaceIsTheErrnoNotAnAbort) {
  // 200000 GiB lies beyond a 47-bit user address space, whatever the overcommit setting.
  const std::expected<MappedRegion, int> region = MappedRegion::map(std::size_t{200000} << 30);
  ASSERT_FALSE(region.has_value());
  EXPECT_EQ(region.error(), ENOMEM);
}

TEST(MappedRegion, AnAddressSpaceLimitRefusesALargeMappingAndGrantsASmallOne) {
  const std::size_t used = address_space_bytes();
  ASSERT_GT(used, 0u);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &old), 0);
  // Room for 64 MiB more than the process has now: 1 GiB does not fit, 1 MiB does (with room for what the test's own
  // assertions allocate).
  const rlimit tight{used + (std::size_t{64} << 20), old.rlim_max};
  if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur <= tight.rlim_cur) GTEST_SKIP() << "already limited below that";
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &tight), 0);
  std::expected<MappedRegion, int> large = MappedRegion::map(std::size_t{1} << 30);
  const int large_error = large ? 0 : large.error();
  std::expected<MappedRegion, int> small = MappedRegion::map(std::size_t{1} << 20);
  const bool small_mapped = small.has_value();
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &old), 0);
  EXPECT_FALSE(large.has_value());
  EXPECT_EQ(large_error, ENOMEM);
  EXPECT_TRUE(small_mapped);
}

}  // namespace
}  // namespace nostd::bench
