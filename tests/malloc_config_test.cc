// tests/malloc_config_test.cc — the drop-in malloc's environment settings: defaults, every accepted value, and
// every kind of bad value (reported, default kept).
#include "platform/malloc/malloc_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace {

using nostd::malloc_door::CheckChoice;
using nostd::malloc_door::kDefaultArenas;
using nostd::malloc_door::MallocConfig;
using nostd::malloc_door::read_malloc_config;

MallocConfig read(const std::map<std::string, std::string>& env) {
  return read_malloc_config([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(MallocConfig, DefaultsWhenNothingIsSet) {
  const MallocConfig c = read({});
  EXPECT_FALSE(c.print_stats);
  EXPECT_FALSE(c.validate_at_exit);
  EXPECT_EQ(c.check, CheckChoice::kBasic);
  EXPECT_EQ(c.arenas, kDefaultArenas);
  EXPECT_EQ(c.ignored_count, 0u);
}

TEST(MallocConfig, ReadsEverySetting) {
  const MallocConfig c = read({{"NOSTD_MALLOC_STATS", "1"},
                               {"NOSTD_MALLOC_VALIDATE", "1"},
                               {"NOSTD_MALLOC_CHECK", "none"},
                               {"NOSTD_MALLOC_ARENAS", "3"}});
  EXPECT_TRUE(c.print_stats);
  EXPECT_TRUE(c.validate_at_exit);
  EXPECT_EQ(c.check, CheckChoice::kNone);
  EXPECT_EQ(c.arenas, 3u);
  EXPECT_EQ(c.ignored_count, 0u);
  EXPECT_EQ(read({{"NOSTD_MALLOC_CHECK", "basic"}}).check, CheckChoice::kBasic);
  EXPECT_EQ(read({{"NOSTD_MALLOC_CHECK", "hardened"}}).check, CheckChoice::kHardened);
  EXPECT_EQ(read({{"NOSTD_MALLOC_ARENAS", "64"}}).arenas, 64u);
  EXPECT_EQ(read({{"NOSTD_MALLOC_ARENAS", "1"}}).arenas, 1u);
}

TEST(MallocConfig, ZeroAndEmptyFlagsAreOff) {
  const MallocConfig zero = read({{"NOSTD_MALLOC_STATS", "0"}});
  EXPECT_FALSE(zero.print_stats);
  EXPECT_EQ(zero.ignored_count, 0u) << "0 is an accepted value, not one to report";
  const MallocConfig c = read({{"NOSTD_MALLOC_STATS", ""}});
  EXPECT_FALSE(c.print_stats);
  EXPECT_EQ(c.ignored_count, 0u);
}

TEST(MallocConfig, BadFlagIsReportedAndIgnored) {
  const MallocConfig c = read({{"NOSTD_MALLOC_VALIDATE", "yes"}});
  EXPECT_FALSE(c.validate_at_exit);
  ASSERT_EQ(c.ignored_count, 1u);
  EXPECT_STREQ(c.ignored[0].name, "NOSTD_MALLOC_VALIDATE");
  EXPECT_STREQ(c.ignored[0].accepted, "0 or 1");
}

TEST(MallocConfig, UnknownCheckLevelKeepsBasic) {
  const MallocConfig c = read({{"NOSTD_MALLOC_CHECK", "paranoid-ish"}});
  EXPECT_EQ(c.check, CheckChoice::kBasic);
  ASSERT_EQ(c.ignored_count, 1u);
  EXPECT_STREQ(c.ignored[0].name, "NOSTD_MALLOC_CHECK");
}

TEST(MallocConfig, ArenaCountOutOfRangeOrNotANumberKeepsTheDefault) {
  for (const char* bad : {"0", "65", "999", "1000", "-1", "4x", "", " 4"}) {
    const MallocConfig c = read({{"NOSTD_MALLOC_ARENAS", bad}});
    EXPECT_EQ(c.arenas, kDefaultArenas) << bad;
    ASSERT_EQ(c.ignored_count, 1u) << bad;
    EXPECT_STREQ(c.ignored[0].name, "NOSTD_MALLOC_ARENAS") << bad;
  }
}

// Values whose digits, read without the checks, would land inside 1..64: a stray character after a digit (':' and 'A'
// sit just above '9' and count as 10 and 17), and a number of ten digits that wraps an unsigned to 2 (2^32 + 2). Each
// must be refused, not taken as 20, 17 or 2 arenas.
TEST(MallocConfig, ArenaCountThatWouldMisreadAsInRangeKeepsTheDefault) {
  for (const char* bad : {"1:", "0A", "4294967298"}) {
    const MallocConfig c = read({{"NOSTD_MALLOC_ARENAS", bad}});
    EXPECT_EQ(c.arenas, kDefaultArenas) << bad;
    ASSERT_EQ(c.ignored_count, 1u) << bad;
    EXPECT_STREQ(c.ignored[0].name, "NOSTD_MALLOC_ARENAS") << bad;
  }
}

TEST(MallocConfig, EveryBadVariableIsReportedInTheOrderRead) {
  const MallocConfig c = read({{"NOSTD_MALLOC_ARENAS", "0"},
                               {"NOSTD_MALLOC_STATS", "2"},
                               {"NOSTD_MALLOC_CHECK", "x"},
                               {"NOSTD_MALLOC_VALIDATE", "yes"}});
  ASSERT_EQ(c.ignored_count, 4u);
  EXPECT_STREQ(c.ignored[0].name, "NOSTD_MALLOC_STATS");
  EXPECT_STREQ(c.ignored[1].name, "NOSTD_MALLOC_VALIDATE");
  EXPECT_STREQ(c.ignored[2].name, "NOSTD_MALLOC_CHECK");
  EXPECT_STREQ(c.ignored[2].accepted, "none, basic or hardened");
  EXPECT_STREQ(c.ignored[3].name, "NOSTD_MALLOC_ARENAS");
  EXPECT_EQ(c.arenas, kDefaultArenas);
  EXPECT_EQ(c.check, CheckChoice::kBasic);
  EXPECT_FALSE(c.print_stats);
  EXPECT_FALSE(c.validate_at_exit);
}

TEST(MallocConfig, MisspeltVariableNamesAreReported) {
  using nostd::malloc_door::unknown_malloc_variable;
  EXPECT_EQ(unknown_malloc_variable("NOSTD_MALLOC_CHEK=hardened"), "NOSTD_MALLOC_CHEK");
  EXPECT_EQ(unknown_malloc_variable("NOSTD_MALLOC_CHECKS=none"), "NOSTD_MALLOC_CHECKS");
  EXPECT_EQ(unknown_malloc_variable("NOSTD_MALLOC_STAT=1"), "NOSTD_MALLOC_STAT");
  EXPECT_EQ(unknown_malloc_variable("NOSTD_MALLOC_="), "NOSTD_MALLOC_");
  EXPECT_EQ(unknown_malloc_variable("NOSTD_MALLOC_ARENA"), "NOSTD_MALLOC_ARENA");  // no '=': the whole entry
  for (const char* fine : {"NOSTD_MALLOC_STATS=1", "NOSTD_MALLOC_VALIDATE=", "NOSTD_MALLOC_CHECK=x",
                           "NOSTD_MALLOC_ARENAS=4", "NOSTD_ALLOC_TRACE=t.bin", "PATH=/bin", "NOSTD_MALLOC", ""}) {
    EXPECT_EQ(unknown_malloc_variable(fine), "") << fine;
  }
}

}  // namespace
