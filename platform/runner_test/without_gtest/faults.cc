// Stores to an address with no memory behind it (an access fault): the runner must report failure.
// NOSTD_BAD_ADDRESS is chosen per platform in ../BUILD.bazel. For platforms without GoogleTest.
#include <cstdint>

#include "tests/check.h"

int main() {
  auto* p = reinterpret_cast<volatile std::uint32_t*>(static_cast<std::uintptr_t>(NOSTD_BAD_ADDRESS));
  *p = 0xdeadbeef;
  NOSTD_CHECK(*p == 0xdeadbeefU);
  return nostd::testing::check_exit_status("runner_self_test");
}
