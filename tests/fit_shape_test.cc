// Shape tests: build an exact heap (free blocks of chosen sizes in a known list order, separated by used guard
// blocks) and assert which block each fit strategy picks; and the tags each layout writes on used and free blocks.
//
// The setup frees A(256) B(128) C(512) D(192) in that order. Free lists are LIFO, so the list reads
//   head -> D(192) -> C(512) -> B(128) -> A(256) -> rest of the heap
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "alloc/alloc.h"
#include "alloc/internal/tag_word.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {
namespace {

template <class Fit, class Tags>
class Shape {
 public:
  using Heap = BasicHeap<Fit, Tags, RegionSource>;

  Shape() : owner_(new TestHeap<Heap>()) {
    for (std::size_t i = 0; i < 4; ++i) {
      blocks_[i] = take(kSizes[i]);
      guards_[i] = take(64);
    }
    for (void* block : blocks_) {
      heap().deallocate(block);
      EXPECT_TRUE(valid(heap()));
    }
    EXPECT_EQ(heap().stats().free_blocks, 5u);
  }

  Heap& heap() { return owner_->heap(); }

  /// The payload to request so that the block is exactly `block_size` bytes (no split, no slack).
  static constexpr std::size_t payload_for(std::size_t block_size) { return block_size - Heap::kTagOverhead; }

  /// Allocates a payload for a block of `block_size` bytes and validates.
  void* take(std::size_t block_size) {
    Result<void*> p = heap().allocate(payload_for(block_size));
    EXPECT_TRUE(p.has_value());
    EXPECT_TRUE(valid(heap()));
    return p.value_or(nullptr);
  }

  static constexpr std::size_t kSizes[4] = {256, 128, 512, 192};
  static constexpr std::size_t kA = 0, kB = 1, kC = 2, kD = 3;
  void* blocks_[4] = {};
  void* guards_[4] = {};

 private:
  std::unique_ptr<TestHeap<Heap>> owner_;
};

template <class Tags>
class FitShapeTest : public ::testing::Test {};

using TagLayouts = ::testing::Types<CompactTags, FullTags>;
TYPED_TEST_SUITE(FitShapeTest, TagLayouts);

TYPED_TEST(FitShapeTest, FirstFitTakesFirstBlockOnTheListThatFits) {
  Shape<FirstFit, TypeParam> s;
  // 128 bytes: D (192) is first on the list and fits, although B (128) would fit exactly.
  EXPECT_EQ(s.take(128), s.blocks_[s.kD]);
  // 256 bytes: D is now a 64-byte remainder at the head, C (512) is next and fits.
  EXPECT_EQ(s.take(256), s.blocks_[s.kC]);
}

TYPED_TEST(FitShapeTest, BestFitTakesSmallestBlockThatFits) {
  Shape<BestFit, TypeParam> s;
  EXPECT_EQ(s.take(128), s.blocks_[s.kB]);  // exact fit
  EXPECT_EQ(s.take(208), s.blocks_[s.kA]);  // 256 is the smallest of {256, 512, rest} that holds 208
  EXPECT_EQ(s.take(160), s.blocks_[s.kD]);  // 192 beats 512 and the rest
  // Left free: A's 48-byte remainder, D's 32-byte remainder, C, the rest of the heap.
  EXPECT_EQ(s.heap().stats().free_blocks, 4u);
}

TYPED_TEST(FitShapeTest, NextFitResumesAfterTheLastBlockTaken) {
  Shape<NextFit, TypeParam> s;
  // The rover starts at the head, like first fit: D.
  EXPECT_EQ(s.take(128), s.blocks_[s.kD]);
  // D's 64-byte remainder went to the head, but the rover sits on C: next fit takes C where first fit would
  // take the remainder.
  EXPECT_EQ(s.take(64), s.blocks_[s.kC]);
  // And the search goes on from there: B next.
  EXPECT_EQ(s.take(64), s.blocks_[s.kB]);
}

TYPED_TEST(FitShapeTest, FirstFitTakesTheRemainderWhereNextFitMovesOn) {
  Shape<FirstFit, TypeParam> s;
  void* d = s.take(128);
  EXPECT_EQ(d, s.blocks_[s.kD]);
  // First fit starts from the head again, where D's 64-byte remainder now is.
  EXPECT_EQ(s.take(64), static_cast<std::byte*>(d) + 128);
}

TYPED_TEST(FitShapeTest, NextFitWrapsAroundToTheHead) {
  Shape<NextFit, TypeParam> s;
  EXPECT_EQ(s.take(128), s.blocks_[s.kD]);  // rover -> C
  EXPECT_EQ(s.take(512), s.blocks_[s.kC]);  // rover -> B
  EXPECT_EQ(s.take(128), s.blocks_[s.kB]);  // rover -> A
  EXPECT_EQ(s.take(256), s.blocks_[s.kA]);  // rover -> rest of the heap
  // The rover is on the rest of the heap, so a 64-byte request splits the rest, not D's 64-byte remainder at
  // the head (which first fit would take).
  void* from_rest = s.take(64);
  EXPECT_EQ(from_rest, static_cast<std::byte*>(s.guards_[3]) + 64);
  // The rest was the last block on the list: the rover wrapped to the head, where the rest's own remainder was
  // just pushed.
  EXPECT_EQ(s.take(64), static_cast<std::byte*>(from_rest) + 64);
}

TYPED_TEST(FitShapeTest, SegregatedFitTakesTheSmallestNonEmptyListThatFits) {
  Shape<SegregatedFit<>, TypeParam> s;
  // Below 2 L granules (L lists per class) every list holds one block size, so these picks are best fit's.
  EXPECT_EQ(s.take(128), s.blocks_[s.kB]);  // B's list
  EXPECT_EQ(s.take(208), s.blocks_[s.kA]);  // the 208 list is empty; the next non-empty one is A's (256)
  EXPECT_EQ(s.take(160), s.blocks_[s.kD]);  // D's list (192) comes before C's and the rest's
  EXPECT_EQ(s.heap().stats().free_blocks, 4u);
}

/// A fresh SegregatedFit heap (one free block) and `take` as in Shape: on it, blocks are carved in address order.
template <class Tags>
class FreshSegregated {
 public:
  using Heap = BasicHeap<SegregatedFit<>, Tags, RegionSource>;
  Heap& heap() { return owner_->heap(); }
  void* take(std::size_t block_size) {
    Result<void*> p = heap().allocate(block_size - Heap::kTagOverhead);
    EXPECT_TRUE(p.has_value());
    EXPECT_TRUE(valid(heap()));
    return p.value_or(nullptr);
  }
  void free(void* p) {
    heap().deallocate(p);
    EXPECT_TRUE(valid(heap()));
  }

 private:
  std::unique_ptr<TestHeap<Heap>> owner_{new TestHeap<Heap>()};
};

TYPED_TEST(FitShapeTest, SegregatedFitReusesTheMostRecentlyFreedBlockOfAList) {
  FreshSegregated<TypeParam> s;
  void* p = s.take(128);
  s.take(64);  // guards keep the freed blocks apart
  void* q = s.take(128);
  s.take(64);
  s.free(p);
  s.free(q);
  EXPECT_EQ(s.take(128), q);  // freed last, head of the 128 list
  EXPECT_EQ(s.take(128), p);
}

// Good fit: a request is rounded up to the next list boundary, so a block on the request's own list that would
// have fitted is passed over while a higher list has a block; once none has, the own list's head is probed.
TYPED_TEST(FitShapeTest, SegregatedFitPassesOverItsOwnListUntilNothingLargerIsFree) {
  FreshSegregated<TypeParam> s;
  using Heap = typename FreshSegregated<TypeParam>::Heap;
  const std::size_t g = Heap::kGranule;
  constexpr std::size_t kL = SegregatedFit<>::kLists;
  // A (2 L + 1) G block: on the list [2 L G, (2 L + 2) G) (lists step by 2 G between 2 L G and 4 L G).
  const std::size_t odd = (2 * kL + 1) * g;
  void* x = s.take(odd);
  void* guard = s.take(64);
  s.free(x);
  void* y = s.take(odd);
  EXPECT_EQ(y, static_cast<std::byte*>(guard) + 64) << "the request looks from the next list up: the rest";
  // Take the rest of the heap: x is the only free block left.
  ASSERT_NE(s.take(s.heap().stats().largest_free_block + Heap::kTagOverhead), nullptr);
  ASSERT_EQ(s.heap().stats().free_blocks, 1u);
  EXPECT_EQ(s.take(odd), x) << "nothing above: the head of the request's own list is probed";
}

TYPED_TEST(FitShapeTest, EveryFitFailsWhenNothingFits) {
  Shape<BestFit, TypeParam> s;
  const std::size_t too_big = s.heap().stats().largest_free_block + 1;
  EXPECT_EQ(s.heap().allocate(too_big).error(), AllocError::kOutOfMemory);
  EXPECT_TRUE(valid(s.heap()));
}

// README (Policies, Block format): the two tag layouts. CompactTags: a header word on every block, a footer only while
// the block is free, and a prev-used bit in the next header that says when that footer is there: a used block's
// payload runs up to the next block's header (1 tag word per used block). FullTags: a header and a footer on every
// block (2 words), equal, which validate() checks. Both: a free block's footer, the word before the next header, holds
// its size, and the next block reads its predecessor as free. Three adjacent 128-byte blocks a, b and c; b freed.
template <class Tags>
class TagShapeTest : public ::testing::Test {};

using AllTagLayouts =
    ::testing::Types<CompactTags, FullTags, BasicCompactTags<std::uint32_t>, BasicFullTags<std::uint32_t>>;
TYPED_TEST_SUITE(TagShapeTest, AllTagLayouts);

TYPED_TEST(TagShapeTest, UsedAndFreeBlocksCarryTheirLayoutsTags) {
  using Tags = TypeParam;
  using Heap = BasicHeap<FirstFit, Tags, RegionSource>;
  using Word = typename Tags::word_type;
  constexpr std::size_t kW = sizeof(Word);
  constexpr bool kFull = std::is_same_v<Tags, BasicFullTags<Word>>;
  constexpr std::size_t kBlock = 128;
  static_assert(Heap::kTagOverhead == (kFull ? 2 : 1) * kW, "README: 1 tag word per used block, 2 with FullTags");
  auto owner = std::make_unique<TestHeap<Heap>>();
  Heap& heap = owner->heap();
  std::byte* used[3] = {};
  for (std::byte*& p : used) {
    p = static_cast<std::byte*>(*heap.allocate(kBlock - Heap::kTagOverhead));
    ASSERT_TRUE(valid(heap));
  }
  std::byte* const a = used[0];
  std::byte* const b = used[1];
  std::byte* const c = used[2];
  ASSERT_EQ(b - a, static_cast<std::ptrdiff_t>(kBlock));
  ASSERT_EQ(c - b, static_cast<std::ptrdiff_t>(kBlock));
  // A used block's payload ends at the next header (CompactTags) or at its own footer, one word before (FullTags).
  const std::size_t usable = heap.usable_size(a);
  EXPECT_EQ(usable, kBlock - Heap::kTagOverhead);
  EXPECT_EQ(a + usable, b - kW - (kFull ? kW : 0));
  fill(a, usable, 1);  // every payload byte the owner's, to the last word: validate() reads none of them
  ASSERT_TRUE(valid(heap));
  std::byte* const a_header = a - kW;
  std::byte* const b_header = b - kW;
  std::byte* const c_header = c - kW;
  EXPECT_TRUE(Tags::used(a_header));
  EXPECT_EQ(Tags::size(a_header), kBlock);
  EXPECT_TRUE(Tags::prev_used(b_header));
  if constexpr (kFull) {
    // The footer repeats the header; one that differs is found.
    std::byte* const footer = b_header - kW;
    ASSERT_EQ(internal::load_word<Word>(footer), internal::load_word<Word>(a_header));
    const Word saved = internal::load_word<Word>(footer);
    internal::store_word<Word>(footer, static_cast<Word>(saved + 2 * Heap::kGranule));
    const ValidateResult r = heap.validate();
    ASSERT_FALSE(r.has_value()) << "a used block's footer that differs from its header passed validate()";
    EXPECT_EQ(r.error().error, AllocError::kCorrupted);
    internal::store_word<Word>(footer, saved);
    ASSERT_TRUE(valid(heap));
  }
  // b freed between used a and c: its footer, the word before c's header, holds its size, and c reads its predecessor
  // as free through it.
  heap.deallocate(b);
  ASSERT_TRUE(valid(heap));
  expose(b_header, kBlock);
  EXPECT_FALSE(Tags::used(b_header));
  EXPECT_EQ(Tags::size(b_header), kBlock);
  EXPECT_EQ(internal::load_word<Word>(c_header - kW) & ~Word{internal::kFlagBits}, kBlock);
  EXPECT_FALSE(Tags::prev_used(c_header));
  EXPECT_EQ(Tags::prev_free_size(c_header), kBlock);
  EXPECT_TRUE(holds_pattern(a, usable, 1));
  // Taken back, b's successor reads it as used again.
  EXPECT_EQ(heap.allocate(kBlock - Heap::kTagOverhead).value_or(nullptr), b);
  ASSERT_TRUE(valid(heap));
  EXPECT_TRUE(Tags::prev_used(c_header));
  for (std::byte* p : used) {
    heap.deallocate(p);
    ASSERT_TRUE(valid(heap));
  }
}

}  // namespace
}  // namespace nostd::testing
