// A suite with one failing assertion among passing ones: the runner must report failure.
#include <gtest/gtest.h>

TEST(RunnerSelfTest, Passes) { EXPECT_EQ(1 + 1, 2); }
TEST(RunnerSelfTest, FailsAnAssertion) { EXPECT_EQ(1 + 1, 3) << "deliberate failure (runner self-test)"; }
