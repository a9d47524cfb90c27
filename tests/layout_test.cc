// Tests for alloc/layout.h: Layout construction, every bad input, and the alignment helpers.
#include "alloc/layout.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace nostd {
namespace {

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

struct alignas(64) CacheLine {
  std::byte bytes[64];
};

TEST(LayoutTest, OfMatchesSizeofAndAlignof) {
  constexpr Layout l = Layout::of<std::uint32_t>();
  static_assert(l.size() == sizeof(std::uint32_t) && l.align() == alignof(std::uint32_t));
  EXPECT_EQ(Layout::of<CacheLine>().size(), 64u);
  EXPECT_EQ(Layout::of<CacheLine>().align(), 64u);
  EXPECT_EQ(Layout::of<char>().align(), 1u);
}

TEST(LayoutTest, FromAcceptsPowersOfTwo) {
  for (std::size_t align = 1; align != 0 && align <= (std::size_t{1} << 20); align <<= 1) {
    Result<Layout> l = Layout::from(100, align);
    ASSERT_TRUE(l.has_value()) << align;
    EXPECT_EQ(l->size(), 100u);
    EXPECT_EQ(l->align(), align);
    EXPECT_EQ(l->padded_size() % align, 0u);
    EXPECT_GE(l->padded_size(), 100u);
  }
}

TEST(LayoutTest, FromAcceptsZeroSize) {
  Result<Layout> l = Layout::from(0, 8);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->size(), 0u);
  EXPECT_EQ(l->padded_size(), 0u);
}

TEST(LayoutTest, FromRejectsZeroAlignment) { EXPECT_EQ(Layout::from(16, 0).error(), AllocError::kInvalidLayout); }

TEST(LayoutTest, FromRejectsNonPowerOfTwoAlignment) {
  for (std::size_t align : {3u, 6u, 12u, 24u, 48u, 100u, 4095u}) {
    EXPECT_EQ(Layout::from(16, align).error(), AllocError::kInvalidLayout) << align;
  }
  EXPECT_EQ(Layout::from(16, kMax).error(), AllocError::kInvalidLayout);
}

TEST(LayoutTest, FromRejectsSizeWhoseRoundingOverflows) {
  EXPECT_EQ(Layout::from(kMax, 2).error(), AllocError::kSizeOverflow);
  EXPECT_EQ(Layout::from(kMax - 8, 16).error(), AllocError::kSizeOverflow);
  EXPECT_EQ(Layout::from(kMax - 14, 16).error(), AllocError::kSizeOverflow);
  // The largest size that rounds to a multiple of 16 without wrapping is accepted, and rounds correctly.
  Result<Layout> edge = Layout::from(kMax - 15, 16);
  ASSERT_TRUE(edge.has_value());
  EXPECT_EQ(edge->padded_size(), kMax - 15);
  // Alignment 1 never rounds, so even SIZE_MAX is a valid layout (a heap will still refuse it).
  EXPECT_TRUE(Layout::from(kMax, 1).has_value());
}

TEST(LayoutTest, ArrayComputesSize) {
  Result<Layout> l = Layout::array<std::uint64_t>(10);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->size(), 80u);
  EXPECT_EQ(l->align(), alignof(std::uint64_t));
  EXPECT_EQ(Layout::array<CacheLine>(3)->size(), 192u);
  EXPECT_EQ(Layout::array<int>(0)->size(), 0u);
}

TEST(LayoutTest, ArrayRejectsMultiplicationOverflow) {
  EXPECT_EQ(Layout::array<std::uint64_t>(kMax).error(), AllocError::kSizeOverflow);
  EXPECT_EQ(Layout::array<std::uint64_t>(kMax / 8 + 1).error(), AllocError::kSizeOverflow);
  EXPECT_EQ(Layout::array<CacheLine>(kMax / 64 + 1).error(), AllocError::kSizeOverflow);
  // n * sizeof(T) fits but rounding to alignof(T) would not: kMax / 64 * 64 is 64-aligned, so this one fits.
  EXPECT_TRUE(Layout::array<CacheLine>(kMax / 64).has_value());
  EXPECT_TRUE(Layout::array<char>(kMax).has_value());
}

TEST(LayoutTest, AlignToRaisesButNeverLowers) {
  Layout l = Layout::of<std::uint16_t>();
  EXPECT_EQ(l.align_to(16)->align(), 16u);
  EXPECT_EQ(Layout::of<CacheLine>().align_to(16)->align(), 64u);
  EXPECT_EQ(Layout::from(kMax - 4, 1)->align_to(16).error(), AllocError::kSizeOverflow);
}

// A bad argument is kInvalidLayout whatever the current alignment: 3 used to pass on an 8-aligned layout (it would
// not raise it) and fail on a 1-aligned one.
TEST(LayoutTest, AlignToRejectsAnAlignmentThatIsNotAPowerOfTwo) {
  for (const std::size_t bad : {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{24}, kMax}) {
    EXPECT_EQ(Layout::of<char>().align_to(bad).error(), AllocError::kInvalidLayout) << bad;
    EXPECT_EQ(Layout::of<double>().align_to(bad).error(), AllocError::kInvalidLayout) << bad;
    EXPECT_EQ(Layout::of<CacheLine>().align_to(bad).error(), AllocError::kInvalidLayout) << bad;
  }
  EXPECT_EQ(Layout::of<double>().align_to(1)->align(), alignof(double));
}

TEST(LayoutTest, Equality) {
  EXPECT_EQ(*Layout::from(8, 8), Layout::of<std::uint64_t>());
  EXPECT_NE(*Layout::from(8, 4), Layout::of<std::uint64_t>());
}

TEST(AlignHelpersTest, PowerOfTwo) {
  EXPECT_FALSE(is_power_of_two(0));
  EXPECT_TRUE(is_power_of_two(1));
  EXPECT_TRUE(is_power_of_two(4096));
  EXPECT_FALSE(is_power_of_two(4097));
  EXPECT_TRUE(is_power_of_two(std::size_t{1} << (sizeof(std::size_t) * 8 - 1)));
  EXPECT_FALSE(is_power_of_two(kMax));
}

TEST(AlignHelpersTest, RoundUpAndDown) {
  static_assert(align_up(0, 16) == 0 && align_up(1, 16) == 16 && align_up(16, 16) == 16 && align_up(17, 16) == 32);
  static_assert(align_down(31, 16) == 16 && align_down(32, 16) == 32 && align_down(15, 16) == 0);
  EXPECT_TRUE(is_aligned(std::size_t{64}, 32));
  EXPECT_FALSE(is_aligned(std::size_t{48}, 32));
}

TEST(AlignHelpersTest, CheckedRoundUpReportsOverflow) {
  EXPECT_EQ(*align_up_checked(17, 8), 24u);
  EXPECT_EQ(*align_up_checked(kMax - 7, 8), kMax - 7);
  EXPECT_EQ(align_up_checked(kMax - 6, 8).error(), AllocError::kSizeOverflow);
  EXPECT_EQ(align_up_checked(kMax, 2).error(), AllocError::kSizeOverflow);
  EXPECT_EQ(*align_up_checked(kMax, 1), kMax);
}

TEST(AlignHelpersTest, PointerAlignment) {
  alignas(64) std::byte buffer[256] = {};
  EXPECT_TRUE(is_aligned(buffer, 64));
  EXPECT_FALSE(is_aligned(buffer + 1, 2));
  std::byte* p = align_pointer_up(buffer + 1, 32);
  EXPECT_EQ(p, buffer + 32);
  EXPECT_EQ(align_pointer_up(buffer + 64, 64), buffer + 64);
}

}  // namespace
}  // namespace nostd
