// Stores to an address with no memory behind it (a hard fault on Cortex-M, SIGSEGV on Linux): the runner must
// report failure. NOSTD_BAD_ADDRESS is chosen per platform in BUILD.bazel.
#include <gtest/gtest.h>

#include <cstdint>

TEST(RunnerSelfTest, Faults) {
  // The address passes through a volatile so that the optimizer cannot see it: GCC 12 at -O2 knows no object at a
  // small constant address and rejects the store at compile time (-Warray-bounds), which broke `-c opt` builds.
  const volatile std::uintptr_t address = NOSTD_BAD_ADDRESS;
  auto* p = reinterpret_cast<volatile std::uint32_t*>(address);
  *p = 0xdeadbeef;
  EXPECT_EQ(*p, 0xdeadbeefU);
}
