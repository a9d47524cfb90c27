// Never ends: the runner must stop it and report failure.
#include <gtest/gtest.h>

TEST(RunnerSelfTest, Hangs) {
  for (;;) {
    __asm__ volatile("" ::: "memory");
  }
}
