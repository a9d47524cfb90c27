// Stores to an address with no memory behind it (a hard fault on Cortex-M, SIGSEGV on Linux): the runner must
// report failure. NOSTD_BAD_ADDRESS is chosen per platform in BUILD.bazel.
#include <gtest/gtest.h>

#include <cstdint>

TEST(RunnerSelfTest, Faults) {
  auto* p = reinterpret_cast<volatile std::uint32_t*>(static_cast<std::uintptr_t>(NOSTD_BAD_ADDRESS));
  *p = 0xdeadbeef;
  EXPECT_EQ(*p, 0xdeadbeefU);
}
