// Tests for alloc/error.h: every error has a distinct, non-empty name, and Result carries values and errors.
#include "alloc/error.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

namespace nostd {
namespace {

constexpr std::array kAllErrors = {AllocError::kOutOfMemory,    AllocError::kInvalidLayout, AllocError::kSizeOverflow,
                                   AllocError::kInvalidPointer, AllocError::kDoubleFree,    AllocError::kCorrupted,
                                   AllocError::kInUse};

TEST(AllocErrorTest, NamesAreDistinctAndNonEmpty) {
  for (std::size_t i = 0; i < kAllErrors.size(); ++i) {
    EXPECT_FALSE(to_string(kAllErrors[i]).empty());
    EXPECT_NE(to_string(kAllErrors[i]), "unknown error");
    for (std::size_t j = i + 1; j < kAllErrors.size(); ++j) {
      EXPECT_NE(to_string(kAllErrors[i]), to_string(kAllErrors[j]));
    }
  }
}

TEST(AllocErrorTest, NamesReadWell) {
  EXPECT_EQ(to_string(AllocError::kOutOfMemory), "out of memory");
  EXPECT_EQ(to_string(AllocError::kDoubleFree), "double free");
  EXPECT_EQ(to_string(AllocError::kInUse), "in use");
  static_assert(to_string(AllocError::kSizeOverflow) == "size overflow", "to_string is usable at compile time");
}

TEST(AllocErrorTest, OutOfRangeValueHasFallbackName) {
  EXPECT_EQ(to_string(static_cast<AllocError>(200)), "unknown error");
}

Result<int> half(int value) {
  if (value % 2 != 0) return fail(AllocError::kInvalidLayout);
  return value / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  Result<int> ok = half(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 4);
  Result<int> bad = half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), AllocError::kInvalidLayout);
}

TEST(ResultTest, VoidResult) {
  Result<void> ok{};
  EXPECT_TRUE(ok.has_value());
  Result<void> bad = fail(AllocError::kDoubleFree);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), AllocError::kDoubleFree);
}

}  // namespace
}  // namespace nostd
