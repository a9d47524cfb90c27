// Tests for platform/hex_field.h: the field the boards' fault reports print (digits, padding, the name's limit).
#include "platform/hex_field.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace nostd::board {
namespace {

TEST(HexFieldTest, NameThenEightLowerCaseDigitsAndASpace) {
  char out[kHexFieldBytes];
  EXPECT_STREQ(hex_field(out, "pc=", 0x0800'1a2fU), "pc=0x08001a2f ");
  EXPECT_STREQ(hex_field(out, "CFSR=", 0), "CFSR=0x00000000 ");
  EXPECT_STREQ(hex_field(out, "sp=", 0xffff'ffffU), "sp=0xffffffff ");
}

TEST(HexFieldTest, ReturnsItsBuffer) {
  char out[kHexFieldBytes];
  EXPECT_EQ(hex_field(out, "x=", 1), out);
}

TEST(HexFieldTest, AnEmptyOrNullNameLeavesTheValue) {
  char out[kHexFieldBytes];
  EXPECT_STREQ(hex_field(out, "", 0xabcU), "0x00000abc ");
  EXPECT_STREQ(hex_field(out, nullptr, 0xabcU), "0x00000abc ");
}

TEST(HexFieldTest, ALongNameIsCutAndTheFieldFitsItsBuffer) {
  char out[kHexFieldBytes];
  EXPECT_STREQ(hex_field(out, "a_register_name_longer_than_twenty=", 0x12U), "a_register_name_long0x00000012 ");
  // The longest field fills the buffer exactly: the name, "0x", eight digits, the space and the NUL.
  EXPECT_EQ(std::char_traits<char>::length(out) + 1, kHexFieldBytes);
}

TEST(HexFieldTest, IsAConstantExpression) {
  constexpr bool kFormatsAtCompileTime = [] {
    char out[kHexFieldBytes] = {};
    hex_field(out, "v=", 0x9U);
    return out[2] == '0' && out[3] == 'x' && out[11] == '9' && out[12] == ' ' && out[13] == '\0';
  }();
  static_assert(kFormatsAtCompileTime, "hex_field formats in a constant expression");
}

}  // namespace
}  // namespace nostd::board
