// Recurses without end (a stack overflow): the runner must report failure.
#include <gtest/gtest.h>

#include <cstdint>

namespace {
// Not tail-recursive, and the volatile array keeps every frame on the stack.
std::uint32_t recurse(std::uint32_t depth) {
  volatile std::uint32_t frame[64];
  frame[depth % 64] = depth;
  return recurse(depth + 1) + frame[(depth + 1) % 64];
}
}  // namespace

TEST(RunnerSelfTest, OverflowsTheStack) { EXPECT_NE(recurse(0), 0U); }
