// A suite that passes: the runner must report success (exit status 0).
#include <gtest/gtest.h>

TEST(RunnerSelfTest, Passes) { EXPECT_EQ(1 + 1, 2); }
