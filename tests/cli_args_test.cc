// tests/cli_args_test.cc — the benchmark tools' strict option values (bench/cli_args.h): a value is read whole or
// refused, never as its leading digits; and the timing options fit_compare and replay share.
#include "bench/cli_args.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nostd::bench {
namespace {

TEST(CliArgs, WholeNumbersAreDigitsOnlyAndBounded) {
  EXPECT_EQ(parse_whole("0"), 0u);
  EXPECT_EQ(parse_whole("12345"), 12345u);
  EXPECT_EQ(parse_whole("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parse_whole("18446744073709551616"), std::nullopt);  // one past: no wrap
  EXPECT_EQ(parse_whole("1000", 1000), 1000u);
  EXPECT_EQ(parse_whole("1001", 1000), std::nullopt);
  EXPECT_EQ(parse_whole("5", 3), std::nullopt);  // a single digit above max (max - digit must not wrap)
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "10MB", "abc", "1.5", "0x10"}) {
    EXPECT_EQ(parse_whole(bad), std::nullopt) << bad;
  }
}

TEST(CliArgs, ByteCountsTakeABinarySuffix) {
  EXPECT_EQ(parse_bytes("4096", 1 << 30), 4096u);
  EXPECT_EQ(parse_bytes("16K", 1 << 30), 16u << 10);
  EXPECT_EQ(parse_bytes("4m", 1 << 30), 4u << 20);
  EXPECT_EQ(parse_bytes("1G", std::uint64_t{1} << 30), std::uint64_t{1} << 30);
  EXPECT_EQ(parse_bytes("2G", std::uint64_t{1} << 30), std::nullopt);  // above max, checked before the shift
  EXPECT_EQ(parse_bytes("17179869184G", std::numeric_limits<std::uint64_t>::max()), std::nullopt);  // 2^64
  for (const char* bad : {"", "K", "10MB", "10KiB", "-1M", "1.5M", "M10"}) {
    EXPECT_EQ(parse_bytes(bad, 1 << 30), std::nullopt) << bad;
  }
}

TEST(CliArgs, SecondsAreFiniteAndNotNegative) {
  EXPECT_EQ(parse_seconds("0"), 0.0);
  EXPECT_EQ(parse_seconds("2.5"), 2.5);
  EXPECT_EQ(parse_seconds("1e-3"), 1e-3);
  EXPECT_EQ(parse_seconds("1.5E+2"), 150.0);
  for (const char* bad : {"", "-5", "+5", " 5", "\t5", "5 ", "5s", "abc", "inf", "nan", "1e999", ".", "0x10", "0X1p4",
                          "0x1P-2", "0x.8"}) {  // strtod reads hexadecimal: 0x10 had been 16 s
    EXPECT_EQ(parse_seconds(bad), std::nullopt) << bad;
  }
}

TEST(CliArgs, SecondsAreReadWhole) {
  EXPECT_EQ(parse_seconds(".5"), 0.5);  // a point may come first
  EXPECT_EQ(parse_seconds("5."), 5.0);
  // Characters of a decimal number, but not one number: strtod would stop at the first one that does not fit.
  for (const char* bad : {"5e", "1-2", "1.2.3", "2e+", "1e5e5"}) {
    EXPECT_EQ(parse_seconds(bad), std::nullopt) << bad;
  }
}

TEST(CliArgs, RepsAndCapRefuseZero) {
  EXPECT_EQ(parse_reps("1"), 1);
  EXPECT_EQ(parse_reps("1000"), 1000);
  EXPECT_EQ(parse_reps("0"), std::nullopt);
  EXPECT_EQ(parse_reps("1001"), std::nullopt);
  EXPECT_EQ(parse_cap("0.5"), 0.5);
  EXPECT_EQ(parse_cap("0"), std::nullopt);
  EXPECT_EQ(parse_cap("-1"), std::nullopt);
}

TEST(CliArgs, ListWordsKeepEmptyOnes) {
  using Words = std::vector<std::string>;
  EXPECT_EQ(split_words("first,glibc"), (Words{"first", "glibc"}));
  EXPECT_EQ(split_words("seg"), (Words{"seg"}));
  // An empty value or an empty word reaches the caller's check (which refuses it) instead of vanishing, so that
  // `--allocators=` is not read as "every row".
  EXPECT_EQ(split_words(""), (Words{""}));
  EXPECT_EQ(split_words("a,,b"), (Words{"a", "", "b"}));
  EXPECT_EQ(split_words(","), (Words{"", ""}));
}

// The timing options fit_compare and replay share: --quick shortens only what was not given, whatever the order,
// and a bad value is refused, not read as the default.
TEST(CliArgs, QuickShortensOnlyTheTimingOptionsNotGiven) {
  TimingOptions alone{.reps = 3, .cap_seconds = 10, .min_seconds = 0.5};
  EXPECT_EQ(read_timing_option("t", "--quick", alone), OptionRead::kRead);
  apply_quick(alone);
  EXPECT_EQ(alone.reps, 1);
  EXPECT_EQ(alone.cap_seconds, 2.0);
  EXPECT_EQ(alone.min_seconds, 0.1);

  TimingOptions given{.reps = 3, .cap_seconds = 10, .min_seconds = 0.5};
  for (const char* arg : {"--min_time=0", "--quick", "--reps=7", "--cap=4.5"}) {
    EXPECT_EQ(read_timing_option("t", arg, given), OptionRead::kRead) << arg;
  }
  apply_quick(given);
  EXPECT_EQ(given.reps, 7);
  EXPECT_EQ(given.cap_seconds, 4.5);
  EXPECT_EQ(given.min_seconds, 0.0);  // replay had replaced a given --min_time with 0.1 s

  TimingOptions without_quick{.reps = 3, .cap_seconds = 10, .min_seconds = 0.5};
  apply_quick(without_quick);
  EXPECT_EQ(without_quick.reps, 3);
  EXPECT_EQ(without_quick.cap_seconds, 10.0);
  EXPECT_EQ(without_quick.min_seconds, 0.5);
}

TEST(CliArgs, TimingOptionsRefuseBadValuesAndLeaveOtherArguments) {
  TimingOptions t{.reps = 3, .cap_seconds = 10, .min_seconds = 0.5};
  for (const char* bad : {"--reps=0", "--reps=abc", "--cap=0", "--cap=0x10", "--min_time=-1", "--min_time="}) {
    EXPECT_EQ(read_timing_option("t", bad, t), OptionRead::kRefused) << bad;
  }
  EXPECT_EQ(t.reps, 3);  // nothing read from a refused value
  EXPECT_EQ(t.cap_seconds, 10.0);
  EXPECT_EQ(t.min_seconds, 0.5);
  for (const char* other : {"--reps", "--repsx=1", "--quick=1", "--arena=16M", "", "trace"}) {
    EXPECT_EQ(read_timing_option("t", other, t), OptionRead::kNotMine) << other;
  }
  EXPECT_FALSE(t.quick);
}

// `--reps 3` or a bare `--reps`: the option is named and the '=' asked for, not reported as unknown.
TEST(CliArgs, AValueOptionWithoutItsValueIsNamed) {
  EXPECT_TRUE(refuse_value_apart("t", "--reps", {"--cap=", "--reps="}));
  EXPECT_TRUE(refuse_value_apart("t", "--cap", {"--cap=", "--reps="}));
  for (const char* other : {"--rep", "--re", "--repx", "--reps=", "--reps=3", "--cap=", "", "--capx", "--quick"}) {
    EXPECT_FALSE(refuse_value_apart("t", other, {"--cap=", "--reps="})) << other;
  }
  EXPECT_FALSE(refuse_value_apart("t", "--reps", {}));
}

TEST(CliArgs, AnUnknownArgumentGetsOneLine) {
  testing::internal::CaptureStderr();
  print_unknown_option("t", "--reps", {"--reps="});
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "t: --reps takes its value after '=': --reps=VALUE (see --help)\n");
  testing::internal::CaptureStderr();
  print_unknown_option("t", "--repz", {"--reps="});
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "t: unknown option --repz (see --help)\n");
  testing::internal::CaptureStderr();
  print_unknown_option("t", "");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "t: an empty argument: not an option (see --help)\n");
}

// Under `bazel run` a relative name is the user's, from where they started it; an absolute one is kept as it is.
TEST(CliArgs, RelativeNamesAreTakenFromTheWorkingDirectoryOfBazelRun) {
  const char* old = std::getenv("BUILD_WORKING_DIRECTORY");
  const std::optional<std::string> saved = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
  ASSERT_EQ(::setenv("BUILD_WORKING_DIRECTORY", "/home/u/work", 1), 0);
  EXPECT_EQ(from_working_dir("out.dat"), "/home/u/work/out.dat");
  EXPECT_EQ(from_working_dir("sub/out.dat"), "/home/u/work/sub/out.dat");
  EXPECT_EQ(from_working_dir("/tmp/out.dat"), "/tmp/out.dat");
  EXPECT_EQ(from_working_dir(""), "");
  ASSERT_EQ(::unsetenv("BUILD_WORKING_DIRECTORY"), 0);
  EXPECT_EQ(from_working_dir("out.dat"), "out.dat");
  if (saved) ::setenv("BUILD_WORKING_DIRECTORY", saved->c_str(), 1);
}

}  // namespace
}  // namespace nostd::bench
