// Calls std::abort() in the middle of a test: the runner must report failure.
#include <gtest/gtest.h>

#include <cstdlib>

TEST(RunnerSelfTest, Aborts) { std::abort(); }
