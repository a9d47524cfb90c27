// Recurses without end (a stack overflow): the runner must report failure. For platforms without GoogleTest.
#include <cstdint>

#include "tests/check.h"

namespace {
// Not tail-recursive, and the volatile array keeps every frame on the stack.
std::uint32_t recurse(std::uint32_t depth) {
  volatile std::uint32_t frame[64];
  frame[depth % 64] = depth;
  return recurse(depth + 1) + frame[(depth + 1) % 64];
}
}  // namespace

int main() {
  NOSTD_CHECK(recurse(0) != 0U);
  return nostd::testing::check_exit_status("runner_self_test");
}
