// Check levels above NoChecks, one bad input per test, each expecting its specific outcome: misuse reaches the
// handler with the right kind and address (deallocate, reallocate) or comes back as an error value
// (try_deallocate); after every misuse that returns, validate() passes and no live block's contents changed.
// Typed over check level × tag layout; the levels' ordinary behaviour is covered by the conformance suite
// (tests/basic_heap_test.cc instantiates it for every level).
#include <gtest/gtest.h>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <span>
#include <type_traits>

#include "alloc/adapt/heap_resource.h"
#include "alloc/alloc.h"
#include "tests/heap_test_util.h"
#include "tests/recording_handler.h"

namespace nostd::testing {
namespace {

using H = RecordingHandler;

/// A heap of check policy `Check<H>` and tag layout `Tags` under test.
template <template <class> class Check, class Tags>
struct Level {
  using Heap = BasicHeap<FirstFit, Tags, Check<H>, RegionSource>;
};

template <class Handler>
using Basic = BasicChecks<Handler>;
template <class Handler>
using Hardened = HardenedChecks<Handler>;
template <class Handler>
using Debug = DebugChecks<Handler>;
template <class Handler>
using Paranoid = ParanoidChecks<Handler>;

/// Fixture: a fresh heap, and three live blocks a, b, c (in address order, each 96 bytes, filled) around which
/// the misuse happens; TearDown checks that they kept their contents and frees them.
template <class L>
class Misuse : public ::testing::Test {
 protected:
  using Heap = typename L::Heap;
  static constexpr std::size_t kSize = 96;

  void SetUp() override {
    H::calls = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      blocks_[i] = *heap().allocate(kSize);
      fill(blocks_[i], kSize, i + 1);
      ASSERT_TRUE(valid(heap()));
    }
  }
  void TearDown() override {
    ASSERT_TRUE(valid(heap()));
    for (std::size_t i = 0; i < 3; ++i) {
      if (blocks_[i] == nullptr) continue;
      EXPECT_TRUE(holds_pattern(blocks_[i], kSize, i + 1)) << "live block " << i << " changed";
      heap().deallocate(blocks_[i]);
      ASSERT_TRUE(valid(heap()));
    }
    EXPECT_EQ(heap().stats().live_allocations, 0u);
    EXPECT_EQ(heap().stats().free_blocks, 1u);
  }
  Heap& heap() { return owner_->heap(); }
  std::byte* block(std::size_t i) { return static_cast<std::byte*>(blocks_[i]); }
  /// Expects try_usable_size(p) and try_deallocate(p) to fail with `error` without changing the heap (validated
  /// unless the test has deliberately corrupted it).
  void expect_refused(void* p, AllocError error, bool heap_sound = true) {
    const std::size_t live = heap().stats().live_allocations;
    const std::size_t frees = heap().stats().total_frees;
    const Result<std::size_t> usable = heap().try_usable_size(p);
    ASSERT_FALSE(usable.has_value()) << "try_usable_size accepted a pointer try_deallocate must refuse";
    EXPECT_EQ(usable.error(), error);
    Result<void> r = heap().try_deallocate(p);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), error);
    if (heap_sound) {
      EXPECT_TRUE(valid(heap()));
    }
    EXPECT_EQ(heap().stats().live_allocations, live);
    EXPECT_EQ(heap().stats().total_frees, frees);
  }

  std::unique_ptr<TestHeap<Heap>> owner_ = std::make_unique<TestHeap<Heap>>();
  void* blocks_[3] = {};
};

template <class L>
class AnyLevel : public Misuse<L> {};
using AllLevels = ::testing::Types<Level<Basic, CompactTags>, Level<Basic, FullTags>, Level<Hardened, CompactTags>,
                                   Level<Hardened, FullTags>, Level<Debug, CompactTags>, Level<Debug, FullTags>,
                                   Level<Paranoid, CompactTags>, Level<Paranoid, FullTags>>;
TYPED_TEST_SUITE(AnyLevel, AllLevels);

template <class L>
class HardenedUp : public Misuse<L> {};
using HardenedLevels =
    ::testing::Types<Level<Hardened, CompactTags>, Level<Hardened, FullTags>, Level<Debug, CompactTags>,
                     Level<Debug, FullTags>, Level<Paranoid, CompactTags>, Level<Paranoid, FullTags>>;
TYPED_TEST_SUITE(HardenedUp, HardenedLevels);

template <class L>
class DebugUp : public Misuse<L> {};
using DebugLevels = ::testing::Types<Level<Debug, CompactTags>, Level<Debug, FullTags>, Level<Paranoid, CompactTags>,
                                     Level<Paranoid, FullTags>>;
TYPED_TEST_SUITE(DebugUp, DebugLevels);

TYPED_TEST(AnyLevel, ForeignPointerIsInvalidPointer) {
  alignas(64) static std::byte foreign[64];
  EXPECT_FAULT(this->heap().deallocate(foreign + 16), AllocError::kInvalidPointer, foreign + 16);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_FAULT((void)this->heap().reallocate(foreign + 16, 8), AllocError::kInvalidPointer, foreign + 16);
  this->expect_refused(foreign + 16, AllocError::kInvalidPointer);
}

// The standard-library doors hand a pointer the heap does not own to the heap's checks, as its own deallocate does:
// StdAllocator::deallocate and a pmr resource's deallocate report kInvalidPointer at every level.
TYPED_TEST(AnyLevel, DoorsPassAForeignPointerOnToTheChecks) {
  alignas(64) static std::byte foreign[64];
  std::byte* const p = foreign + 16;
  StdAllocator<std::uint64_t, typename TypeParam::Heap> words(this->heap());
  EXPECT_FAULT(words.deallocate(reinterpret_cast<std::uint64_t*>(p), 2), AllocError::kInvalidPointer, p);
  EXPECT_TRUE(valid(this->heap()));
  HeapResource<typename TypeParam::Heap> resource(this->heap());
  std::pmr::memory_resource& r = resource;
  EXPECT_FAULT(r.deallocate(p, 16, 16), AllocError::kInvalidPointer, p);
  EXPECT_TRUE(valid(this->heap()));
}

TYPED_TEST(AnyLevel, InteriorPointerIsInvalidPointer) {
  std::byte* interior = this->block(1) + 32;
  EXPECT_FAULT(this->heap().deallocate(interior), AllocError::kInvalidPointer, interior);
  EXPECT_TRUE(valid(this->heap()));
  this->expect_refused(interior, AllocError::kInvalidPointer);
}

TYPED_TEST(AnyLevel, MisalignedPointerIsInvalidPointer) {
  std::byte* misaligned = this->block(1) + 1;
  EXPECT_FAULT(this->heap().deallocate(misaligned), AllocError::kInvalidPointer, misaligned);
  EXPECT_TRUE(valid(this->heap()));
  this->expect_refused(misaligned, AllocError::kInvalidPointer);
}

TYPED_TEST(AnyLevel, FreedPointerIsDoubleFree) {
  void* b = this->block(1);
  this->heap().deallocate(b);
  this->blocks_[1] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_FAULT(this->heap().deallocate(b), AllocError::kDoubleFree, b);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_FAULT((void)this->heap().reallocate(b, 10), AllocError::kDoubleFree, b);
  this->expect_refused(b, AllocError::kDoubleFree);
  // a freed after it absorbs b's block: b's header is inside a free block now (poison under DebugChecks).
  void* a = this->block(0);
  this->heap().deallocate(a);
  this->blocks_[0] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_FAULT(this->heap().deallocate(b), AllocError::kDoubleFree, b);
  this->expect_refused(b, AllocError::kDoubleFree);
}

// b freed, then a shrunk in place by one granule: a tail smaller than a minimum block, next to free b. The shrink used
// to merge that tail into b, and the merged free block's list links (which start a tag word into the tail, and are
// two words long) then lay over b's header: freeing b again was kInvalidPointer (its "header" a list link), not the
// kDoubleFree a freed pointer gets after its block merged into a neighbour. The tail now stays in a as slack.
TYPED_TEST(AnyLevel, FreedPointerIsDoubleFreeAfterAShrinkBeforeIt) {
  void* a = this->block(0);
  void* b = this->block(1);
  this->heap().deallocate(b);
  this->blocks_[1] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  constexpr std::size_t kShrunk = TestFixture::kSize - 16;  // one granule less (16-byte granule) at every level
  Result<void*> shrunk = this->heap().reallocate(a, kShrunk);
  ASSERT_TRUE(shrunk.has_value());
  ASSERT_EQ(*shrunk, a);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_TRUE(holds_pattern(a, kShrunk, 1));
  EXPECT_FAULT(this->heap().deallocate(b), AllocError::kDoubleFree, b);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_FAULT((void)this->heap().reallocate(b, 10), AllocError::kDoubleFree, b);
  this->expect_refused(b, AllocError::kDoubleFree);
  this->heap().deallocate(a);
  this->blocks_[0] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
}

TYPED_TEST(AnyLevel, LiveBlockWhoseNextTagsSayItIsFreeIsInvalidPointer) {
  // The tags after b rewritten to say that b is free (CompactTags: c's prev-used bit; FullTags: b's footer, the word
  // before c's header): b's O(1) check cannot tell b from a pointer that is no live block, so at every level (not
  // kCorrupted from HardenedChecks on: b's own check word is intact) this is kInvalidPointer, as README's API table
  // says of try_deallocate.
  using Tags = typename TypeParam::Heap::Tags;
  using Word = typename Tags::word_type;
  std::byte* next = this->block(2) - Tags::kHeaderSize;
  std::byte* tags = next - Tags::kHeaderSize;
  expose(tags, 2 * Tags::kHeaderSize);
  std::byte saved[2 * sizeof(std::uintptr_t)];
  std::memcpy(saved, tags, 2 * Tags::kHeaderSize);
  if constexpr (std::is_same_v<Tags, FullTags>) {
    internal::store_word<Word>(tags, static_cast<Word>(internal::load_word<Word>(tags) & ~Word{internal::kUsedBit}));
  } else {
    Tags::set_prev_used(next, false);
  }
  ASSERT_FALSE(Tags::prev_used(next));
  EXPECT_FAULT(this->heap().deallocate(this->block(1)), AllocError::kInvalidPointer, this->block(1));
  // The reason names this case too, not only a pointer that is no block: an overflow from b is the likelier cause.
  const char* const what = testing::RecordingHandler::last.what;
  EXPECT_TRUE(what != nullptr && std::strstr(what, "tags overwritten") != nullptr) << (what != nullptr ? what : "");
  this->expect_refused(this->block(1), AllocError::kInvalidPointer, false);
  std::memcpy(tags, saved, 2 * Tags::kHeaderSize);
}

TYPED_TEST(DebugUp, InteriorPointerIntoPoisonedFreeBlockIsDoubleFree) {
  // The limit README's "Bad inputs" states: past a free block's links the word before the pointer is poison, as the
  // header of a block freed and then merged into its predecessor is (FreedPointerIsDoubleFree); the O(1) check cannot
  // tell the two apart and says kDoubleFree. An interior pointer into a live block stays kInvalidPointer.
  std::byte* b = this->block(1);
  this->heap().deallocate(b);
  this->blocks_[1] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  std::byte* interior = b + 2 * TypeParam::Heap::kGranule;  // past the free block's list links
  EXPECT_FAULT(this->heap().deallocate(interior), AllocError::kDoubleFree, interior);
  this->expect_refused(interior, AllocError::kDoubleFree);
}

TYPED_TEST(DebugUp, InteriorPointerIntoALiveBlockHoldingThePoisonIsInvalidPointer) {
  // The word before the pointer is DebugChecks' free pattern, as a freed and merged header is, but it lies in a live
  // block's payload (its owner wrote the pattern): the walk on that fault path finds the live block around it.
  std::byte* b = this->block(1);
  std::memset(b, static_cast<int>(DebugPatterns::kFreed), Misuse<TypeParam>::kSize);
  std::byte* interior = b + 2 * TypeParam::Heap::kGranule;
  EXPECT_FAULT(this->heap().deallocate(interior), AllocError::kInvalidPointer, interior);
  EXPECT_FAULT((void)this->heap().reallocate(interior, 8), AllocError::kInvalidPointer, interior);
  this->expect_refused(interior, AllocError::kInvalidPointer);
  // this->block(1) rather than b, which is not live across the setjmps above: GCC 12 at -O2 warned that b might be
  // clobbered by their longjmp (-Werror=clobbered broke `-c opt` builds of this test).
  fill(this->block(1), Misuse<TypeParam>::kSize, 2);  // as SetUp left it, for TearDown's check
}

TYPED_TEST(HardenedUp, SmashedHeaderIsCorrupted) {
  // b's header rewritten to swallow c (a consistent size, flags and, for FullTags, footer): BasicChecks cannot tell
  // this from a real block of twice the size; the keyed check word can.
  using Tags = typename TypeParam::Heap::Tags;
  std::byte* header = this->block(1) - Tags::kHeaderSize;
  expose(header, Tags::kHeaderSize);
  const std::size_t size = Tags::size(header);
  expose(header, 2 * size);
  std::byte saved_header[sizeof(std::uintptr_t)], saved_footer[sizeof(std::uintptr_t)];
  std::memcpy(saved_header, header, Tags::kHeaderSize);
  std::memcpy(saved_footer, header + 2 * size - Tags::kHeaderSize, Tags::kHeaderSize);
  Tags::make_used(header, 2 * size, true, false);
  EXPECT_FAULT(this->heap().deallocate(this->block(1)), AllocError::kCorrupted, this->block(1));
  this->expect_refused(this->block(1), AllocError::kCorrupted, false);
  ValidateResult r = this->heap().validate();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error, AllocError::kCorrupted);
  std::memcpy(header, saved_header, Tags::kHeaderSize);
  std::memcpy(header + 2 * size - Tags::kHeaderSize, saved_footer, Tags::kHeaderSize);
}

TYPED_TEST(HardenedUp, ForgedBlockInPayloadIsCorrupted) {
  // Payload bytes of b that look like a whole used block with a used successor, and a pointer to its "payload":
  // the O(1) checks of BasicChecks pass it (README, BasicChecks' limit); its check word cannot be forged.
  using Tags = typename TypeParam::Heap::Tags;
  constexpr std::size_t kW = Tags::kHeaderSize;
  constexpr std::size_t kG = TypeParam::Heap::kGranule;
  std::byte* forged = this->block(1) + 2 * kG - kW;  // the forged header, so that its payload is granule-aligned
  internal::store_word<typename Tags::word_type>(forged - kW, internal::kUsedBit);  // FullTags: "previous is used"
  Tags::make_used(forged, 2 * kG, true, false);
  Tags::make_used(forged + 2 * kG, 2 * kG, true, false);
  std::byte* p = forged + kW;
  EXPECT_FAULT(this->heap().deallocate(p), AllocError::kCorrupted, p);
  this->expect_refused(p, AllocError::kCorrupted, false);
  fill(this->block(1), Misuse<TypeParam>::kSize, 2);  // b's payload back as it was
}

// README ("Bad inputs", the limit from HardenedChecks on): an interior pointer into an array of tag words that all hold
// 35 (0x23) or 51 (0x33) reads as a whole used block (size 32 or 48, used, previous used) with a used successor and,
// with FullTags, a matching footer: a block forged in payload bytes as far as any check can see, so its failing check
// word makes it kCorrupted, not kInvalidPointer.
TYPED_TEST(HardenedUp, InteriorPointerIntoWordsOf35Or51IsCorrupted) {
  using Word = typename TypeParam::Heap::Tags::word_type;
  const auto expect_corrupted = [this](Word value) {
    for (std::size_t i = 0; i + sizeof(Word) <= Misuse<TypeParam>::kSize; i += sizeof(Word)) {
      internal::store_word<Word>(this->block(1) + i, value);
    }
    EXPECT_FAULT(this->heap().deallocate(this->block(1) + 2 * TypeParam::Heap::kGranule), AllocError::kCorrupted,
                 this->block(1) + 2 * TypeParam::Heap::kGranule);
    this->expect_refused(this->block(1) + 2 * TypeParam::Heap::kGranule, AllocError::kCorrupted);
  };
  expect_corrupted(Word{35});
  expect_corrupted(Word{51});
  fill(this->block(1), Misuse<TypeParam>::kSize, 2);  // as SetUp left it
}

TYPED_TEST(HardenedUp, OverflowIntoCheckWordIsCorrupted) {
  // A write past b's usable bytes reaches its check trailer: reported by deallocate, reallocate and validate().
  using TheHeap = typename TypeParam::Heap;
  std::byte* b = this->block(1);
  std::byte* header = b - TheHeap::Tags::kHeaderSize;
  expose(header, TheHeap::Tags::kHeaderSize);
  // The check word is the trailer's last 4 bytes, just before FullTags' footer.
  std::byte* past = header + TheHeap::Tags::size(header) - (TheHeap::kTagOverhead - TheHeap::Tags::kHeaderSize) - 4;
  expose(past, 4);
  std::byte saved[4];
  std::memcpy(saved, past, 4);
  past[0] ^= std::byte{0x5A};
  EXPECT_FAULT(this->heap().deallocate(b), AllocError::kCorrupted, b);
  EXPECT_FAULT((void)this->heap().reallocate(b, 8), AllocError::kCorrupted, b);
  this->expect_refused(b, AllocError::kCorrupted, false);
  EXPECT_FALSE(this->heap().validate().has_value());
  std::memcpy(past, saved, 4);
}

TYPED_TEST(HardenedUp, OverflowThroughCheckWordIntoFreeNeighbourIsCorrupted) {
  // A write past b's usable bytes runs through its check trailer (and FullTags' footer) into the header of c, which
  // is free: b's check word fails, and so do b's footer, c's "previous is used" bit (when the bytes clear it: zeros
  // do) and the neighbour a free would merge with (alone each of these is kInvalidPointer, as for forged tags).
  // Every entry point reports the check word, kCorrupted at b, whatever the bytes: deallocate, which in a speed build
  // checks the neighbours as it merges them, after the pointer check, as well as those that check them in the
  // pointer check. (A new-user pass found zeros and 'A' reported as kInvalidPointer when the test wrote 0x42 only.)
  using TheHeap = typename TypeParam::Heap;
  using Tags = typename TheHeap::Tags;
  this->heap().deallocate(this->block(2));
  this->blocks_[2] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  std::byte* b = this->block(1);
  std::byte* header = b - Tags::kHeaderSize;
  expose(header, Tags::kHeaderSize);
  std::byte* next = header + Tags::size(header);
  // The check word is the trailer's last 4 bytes, just before FullTags' footer.
  std::byte* past = next - (TheHeap::kTagOverhead - Tags::kHeaderSize) - 4;
  const std::size_t span = static_cast<std::size_t>(next + Tags::kHeaderSize - past);
  expose(past, span);
  std::byte saved[64];
  ASSERT_LE(span, sizeof(saved));
  std::memcpy(saved, past, span);
  for (const int fill_byte : {0x00, 0x41, 0x42, 0xFF}) {
    std::memset(past, fill_byte, span);
    EXPECT_EQ(Tags::used(next), (fill_byte & 1) != 0) << fill_byte;  // c's header: free, or a used one (0x41, 0xFF)
    EXPECT_FAULT(this->heap().deallocate(b), AllocError::kCorrupted, b);
    EXPECT_FAULT((void)this->heap().reallocate(b, 8), AllocError::kCorrupted, b);
    this->expect_refused(b, AllocError::kCorrupted, false);
    std::memcpy(past, saved, span);
    EXPECT_TRUE(valid(this->heap())) << fill_byte;
  }
}

TYPED_TEST(HardenedUp, InteriorPointerAfterAUsedLookingWordIsInvalidPointer) {
  // The word before an interior pointer reads as a used header of plausible size, followed by zeros (so neither the
  // successor's "previous is used" bit nor FullTags' footer agrees): its check word fails as an overrun block's
  // does, and the walk on that fault path tells the two apart: no block starts there, so kInvalidPointer. (A review
  // found kCorrupted here once the check word came first; a payload's small odd counts make such words.)
  using TheHeap = typename TypeParam::Heap;
  using Tags = typename TheHeap::Tags;
  std::byte* b = this->block(1);
  std::memset(b, 0, Misuse<TypeParam>::kSize);
  std::byte* interior = b + 2 * TheHeap::kGranule;
  std::byte* word = interior - Tags::kHeaderSize;
  Tags::make_used(word, TheHeap::kMinBlockSize, true, false);
  std::memset(interior, 0, static_cast<std::size_t>(b + Misuse<TypeParam>::kSize - interior));  // FullTags' footer too
  ASSERT_TRUE(Tags::used(word));
  EXPECT_FAULT(this->heap().deallocate(interior), AllocError::kInvalidPointer, interior);
  EXPECT_FAULT((void)this->heap().reallocate(interior, 8), AllocError::kInvalidPointer, interior);
  this->expect_refused(interior, AllocError::kInvalidPointer);
  fill(this->block(1), Misuse<TypeParam>::kSize, 2);  // as SetUp left it (b is not live across the setjmps above)
}

TYPED_TEST(DebugUp, OneByteOverflowIsReported) {
  // Requested 96 bytes: byte 96 is a canary whatever the rounding, and usable_size is exactly the request.
  std::byte* b = this->block(1);
  EXPECT_EQ(this->heap().usable_size(b), Misuse<TypeParam>::kSize);
  expose(b + Misuse<TypeParam>::kSize, 1);
  b[Misuse<TypeParam>::kSize] = std::byte{0};
  // Every report names the byte written past the request, where a debugger should look, and says it was an overflow.
  std::byte* const overwritten = b + Misuse<TypeParam>::kSize;
  EXPECT_FAULT(this->heap().deallocate(b), AllocError::kCorrupted, overwritten);
  EXPECT_NE(std::strstr(testing::RecordingHandler::last.what, "overflow"), nullptr)
      << testing::RecordingHandler::last.what;
  EXPECT_FAULT((void)this->heap().reallocate(b, 200), AllocError::kCorrupted, overwritten);
  this->expect_refused(b, AllocError::kCorrupted, false);
  ValidateResult r = this->heap().validate();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error, AllocError::kCorrupted);
  EXPECT_EQ(r.error().where, overwritten);
  EXPECT_NE(std::strstr(r.error().what, "overflow"), nullptr) << r.error().what;
  b[Misuse<TypeParam>::kSize] = DebugPatterns::kCanary;
}

TYPED_TEST(DebugUp, NewPayloadsAreFilledAndFreedOnesPoisoned) {
  void* p = *this->heap().allocate(40);
  const auto* bytes = static_cast<const std::byte*>(p);
  // Memcheck keeps a new payload "undefined" whatever the fill (so that it still reports reads of bytes the caller
  // never wrote); the test reads the fill on purpose.
  expose(p, 40);
  for (std::size_t i = 0; i < 40; ++i) ASSERT_EQ(bytes[i], DebugPatterns::kAllocated) << i;
  ASSERT_TRUE(valid(this->heap()));
  // Grown in place: the new bytes are filled too, the old ones kept.
  std::memset(p, 7, 40);
  Result<void*> q = this->heap().reallocate(p, 300);
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(*q, p);
  expose(p, 300);
  for (std::size_t i = 0; i < 40; ++i) ASSERT_EQ(bytes[i], std::byte{7}) << i;
  for (std::size_t i = 40; i < 300; ++i) ASSERT_EQ(bytes[i], DebugPatterns::kAllocated) << i;
  ASSERT_TRUE(valid(this->heap()));
  this->heap().deallocate(p);
  ASSERT_TRUE(valid(this->heap()));
  // b freed between used neighbours: every byte past its list links is poison.
  std::byte* b = this->block(1);
  this->heap().deallocate(b);
  this->blocks_[1] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  expose(b, Misuse<TypeParam>::kSize);
  for (std::size_t i = sizeof(internal::FreeNode); i < Misuse<TypeParam>::kSize; ++i) {
    ASSERT_EQ(b[i], DebugPatterns::kFreed) << i;
  }
}

TYPED_TEST(DebugUp, UseAfterFreeWriteIsReported) {
  // b freed between used neighbours, then written through a dangling pointer: validate() reports the byte, reusing
  // the block reports it to the handler, and so does freeing a neighbour that merges with it.
  std::byte* b = this->block(1);
  this->heap().deallocate(b);
  this->blocks_[1] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  std::byte* stale = b + 40;
  expose(stale, 1);
  *stale = std::byte{1};
  ValidateResult r = this->heap().validate();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error, AllocError::kCorrupted);
  EXPECT_EQ(r.error().where, stale);
  if constexpr (TypeParam::Heap::Check::kLevel == CheckLevel::kDebug) {
    EXPECT_FAULT((void)this->heap().allocate(Misuse<TypeParam>::kSize), AllocError::kCorrupted, stale);
    EXPECT_FAULT(this->heap().deallocate(this->block(0)), AllocError::kCorrupted, stale);
  } else {
    // ParanoidChecks validates before each operation: even an allocate that would be served from another block
    // (on the Cortex-M4 board allocate(8) is served from another free block than b) reports it, and hands nothing out.
    const std::size_t live = this->heap().stats().live_allocations;
    EXPECT_FAULT((void)this->heap().allocate(8), AllocError::kCorrupted, stale);
    EXPECT_EQ(this->heap().stats().live_allocations, live);
    EXPECT_FAULT(this->heap().deallocate(this->block(0)), AllocError::kCorrupted, stale);
  }
  *stale = DebugPatterns::kFreed;
  EXPECT_TRUE(valid(this->heap()));
}

/// Expects deallocate(p) to report `error` at `where` (its own function, so that no variable of the caller lives across
/// EXPECT_FAULT's setjmp: GCC 12 for Cortex-M, -Werror=clobbered).
template <class Heap>
void expect_free_faults(Heap& heap, void* p, AllocError error, const void* where) {
  EXPECT_FAULT(heap.deallocate(p), error, where);
}

// README ("How the levels work"): a free checks only the first kMergeCheckBytes (256) of poison of each free neighbour
// it merges with, so that a free stays proportional to the block freed; validate() checks every byte. A write after
// free 400 bytes into the poison of free block x is therefore not reported when y, freed next to it, merges with it
// under DebugChecks, and validate() finds it there; ParanoidChecks' validate() before the free reports it first.
TYPED_TEST(DebugUp, AFreeChecksOnlyTheFirstMergeCheckBytesOfANeighbour) {
  using TheHeap = typename TypeParam::Heap;
  static_assert(TheHeap::Check::kMergeCheckBytes == 256);
  constexpr std::size_t kPast = sizeof(internal::FreeNode) + TheHeap::Check::kMergeCheckBytes + 128;
  auto* x = static_cast<std::byte*>(*this->heap().allocate(600));
  ASSERT_TRUE(valid(this->heap()));
  void* y = *this->heap().allocate(64);
  ASSERT_TRUE(valid(this->heap()));
  void* guard = *this->heap().allocate(64);  // keeps y from the free tail, so that y merges with x alone
  ASSERT_TRUE(valid(this->heap()));
  this->heap().deallocate(x);
  ASSERT_TRUE(valid(this->heap()));
  std::byte* const stale = x + kPast;
  expose(stale, 1);
  *stale = std::byte{1};
  if constexpr (TheHeap::Check::kLevel == CheckLevel::kDebug) {
    this->heap().deallocate(y);  // an unexpected fault ends the test (RecordingHandler)
    ValidateResult r = this->heap().validate();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().error, AllocError::kCorrupted);
    EXPECT_EQ(r.error().where, stale);
    *stale = DebugPatterns::kFreed;
  } else {
    expect_free_faults(this->heap(), y, AllocError::kCorrupted, stale);
    *stale = DebugPatterns::kFreed;
    ASSERT_TRUE(valid(this->heap()));
    this->heap().deallocate(y);
  }
  EXPECT_TRUE(valid(this->heap()));
  this->heap().deallocate(guard);
  EXPECT_TRUE(valid(this->heap()));
}

/// Expects allocate(size) to report kCorrupted at `where` (a function of its own, as expect_free_faults).
template <class Heap>
void expect_allocate_faults(Heap& heap, std::size_t size, const void* where) {
  EXPECT_FAULT((void)heap.allocate(size), AllocError::kCorrupted, where);
}

/// Expects reallocate(p, size) to report kCorrupted at `where` (a function of its own, as expect_free_faults).
template <class Heap>
void expect_reallocate_faults(Heap& heap, void* p, std::size_t size, const void* where) {
  EXPECT_FAULT((void)heap.reallocate(p, size), AllocError::kCorrupted, where);
}

// README (Hardening, ParanoidChecks): validate() runs before and after every operation, so a corruption is reported at
// the next call, whatever that call touches, before it hands anything out. Here a write after free lands on the last
// byte of free block b, far past its links, and the next calls never touch b: an allocate too large for b (its search
// passes over b's header and link and takes the free tail), a reallocate that grows p into the tail, and the free of p
// (its neighbours are c and the tail). DebugChecks' own checks read only the blocks a call takes, merges or frees, so
// none of these calls reports the byte (validate() does). ParanoidChecks reports it at each of them, and each leaves
// the heap as it was: no block handed out, p neither grown nor freed.
TYPED_TEST(DebugUp, ACorruptionNoCallTouchesIsReportedByTheNextCallOnlyAtParanoidChecks) {
  using TheHeap = typename TypeParam::Heap;
  constexpr std::size_t kP = 200, kLarge = 400, kGrown = 300;
  static_assert(kLarge > Misuse<TypeParam>::kSize, "the allocate must pass over b");
  auto* const p = static_cast<std::byte*>(*this->heap().allocate(kP));  // after c, from the free tail
  ASSERT_TRUE(valid(this->heap()));
  fill(p, kP, 9);
  std::byte* const b = this->block(1);
  this->heap().deallocate(b);
  this->blocks_[1] = nullptr;
  ASSERT_TRUE(valid(this->heap()));
  std::byte* const stale = b + Misuse<TypeParam>::kSize - 1;
  expose(stale, 1);
  ASSERT_EQ(*stale, DebugPatterns::kFreed);
  *stale = std::byte{1};
  if constexpr (TheHeap::Check::kLevel == CheckLevel::kDebug) {
    // An unexpected fault ends the test (RecordingHandler).
    Result<void*> q = this->heap().allocate(kLarge);
    ASSERT_TRUE(q.has_value());
    EXPECT_TRUE(reports_corruption(this->heap(), stale));
    this->heap().deallocate(*q);
    EXPECT_TRUE(reports_corruption(this->heap(), stale));
    Result<void*> grown = this->heap().reallocate(p, kGrown);
    ASSERT_TRUE(grown.has_value());
    ASSERT_EQ(*grown, p) << "p did not grow in place into the free tail";
    EXPECT_TRUE(reports_corruption(this->heap(), stale));
    EXPECT_TRUE(holds_pattern(p, kP, 9));
    this->heap().deallocate(p);
    EXPECT_TRUE(reports_corruption(this->heap(), stale));
    *stale = DebugPatterns::kFreed;
    EXPECT_TRUE(valid(this->heap()));
  } else {
    const HeapStats before = this->heap().stats();
    expect_allocate_faults(this->heap(), kLarge, stale);
    expect_reallocate_faults(this->heap(), p, kGrown, stale);
    expect_free_faults(this->heap(), p, AllocError::kCorrupted, stale);
    EXPECT_TRUE(same_stats(this->heap().stats(), before)) << "a block was handed out, freed or resized";
    *stale = DebugPatterns::kFreed;
    ASSERT_TRUE(valid(this->heap()));
    EXPECT_EQ(this->heap().usable_size(p), kP);
    EXPECT_TRUE(holds_pattern(p, kP, 9));
    this->heap().deallocate(p);
    EXPECT_TRUE(valid(this->heap()));
  }
}

/// A heap of DebugChecks or ParanoidChecks in which live data forges a free block: a (64 bytes), b (64 bytes, freed,
/// between used a and x) and x (600 bytes of the program's data, live) allocated in that order, the rest of the heap
/// one free block (the tail). Inside x's payload lies a forged free block `fake` of kFakeBlock bytes: a free header, a
/// footer, the free pattern in between, a null `next` and a `prev` naming b; b's `next`, written after free, names
/// `fake`. Every check up to DebugChecks' sees the free block of b's list it reads as: its `prev` points back at b,
/// its tags agree on its size, its poison is whole.
template <class Heap>
struct ForgedFreeBlockInLiveData {
  static constexpr std::size_t kFakeBlock = 256;
  /// A request that b is too small for and the forged block serves.
  static constexpr std::size_t kRequest = 120;
  static_assert(kRequest > 64 && kRequest + Heap::kUsedOverhead + 1 <= kFakeBlock);

  explicit ForgedFreeBlockInLiveData(Heap& heap) {
    using Tags = typename Heap::Tags;
    a = static_cast<std::byte*>(*heap.allocate(64));
    EXPECT_TRUE(valid(heap));
    b = static_cast<std::byte*>(*heap.allocate(64));
    EXPECT_TRUE(valid(heap));
    x = static_cast<std::byte*>(*heap.allocate(600));
    EXPECT_TRUE(valid(heap));
    heap.deallocate(b);
    EXPECT_TRUE(valid(heap));
    fake = x + 2 * Heap::kGranule;  // a granule-aligned payload address inside x
    std::byte* const header = fake - Tags::kHeaderSize;
    std::memset(x, 0x5A, 600);
    std::memset(fake, static_cast<int>(DebugPatterns::kFreed), kFakeBlock - Tags::kHeaderSize);
    Tags::make_free(header, kFakeBlock);  // the header, and the footer at the forged block's end
    const void* const null = nullptr;
    std::memcpy(fake, &null, sizeof null);            // fake->next
    std::memcpy(fake + sizeof(void*), &b, sizeof b);  // fake->prev == b
    std::memcpy(x_data, x, sizeof x_data);            // x as its owner wrote it
    expose(b, sizeof(void*));
    std::memcpy(&b_next, b, sizeof b_next);
    std::memcpy(b, &fake, sizeof fake);  // the write after free: b->next = fake
  }
  /// Undoes the write after free (x's data stays as it is: the program's own).
  void repair() const {
    expose(b, sizeof(void*));
    std::memcpy(b, &b_next, sizeof b_next);
  }

  std::byte *a = nullptr, *b = nullptr, *x = nullptr, *fake = nullptr;
  const void* b_next = nullptr;
  std::byte x_data[600] = {};
};

// README (Policies, safe unlinking): a forged link whose target points back is followed, and the block it names is
// handed out when its tags also read as a free block of the list (the program's data forging a header, links and
// footer, and the poison too): no O(1) check of an unkeyed free block tells it from a real one, up to DebugChecks.
// ParanoidChecks' validate() before every operation reports it before anything is handed out: the allocate faults,
// and x's data, the counts and the index are as they were.
TYPED_TEST(DebugUp, LiveDataForgedAsAFreeBlockIsHandedOutBelowParanoidChecksOnly) {
  using TheHeap = typename TypeParam::Heap;
  using Forged = ForgedFreeBlockInLiveData<TheHeap>;
  auto owner = std::make_unique<TestHeap<TheHeap>>();
  TheHeap& heap = owner->heap();
  const Forged forged(heap);
  if (this->HasFailure()) return;
  const ValidateResult found = heap.validate();
  ASSERT_FALSE(found.has_value()) << "validate() passed the forged free block";
  EXPECT_EQ(found.error().error, AllocError::kCorrupted);
  if constexpr (TheHeap::Check::kLevel == CheckLevel::kDebug) {
    // An unexpected fault ends the test (RecordingHandler).
    Result<void*> p = heap.allocate(Forged::kRequest);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, forged.fake) << "the forged block was not the one handed out";
    // What DebugChecks let through, validate() still finds (the forged block now used inside live x).
    const ValidateResult after = heap.validate();
    EXPECT_FALSE(after.has_value()) << "validate() passed a heap that handed out a block inside live x";
    if (!after) {
      EXPECT_EQ(after.error().error, AllocError::kCorrupted);
    }
    // The block handed out lies inside live x; the heap goes with its buffer (memcheck is told its blocks go too).
    for (const void* live :
         {static_cast<const void*>(forged.a), static_cast<const void*>(forged.x), static_cast<const void*>(*p)}) {
      internal::valgrind_freelike(live);
    }
  } else {
    const HeapStats before = heap.stats();
    expect_allocate_faults(heap, Forged::kRequest, found.error().where);
    EXPECT_TRUE(same_stats(heap.stats(), before)) << "the heap changed";
    EXPECT_EQ(std::memcmp(forged.x, forged.x_data, sizeof forged.x_data), 0) << "live block x was written";
    forged.repair();
    ASSERT_TRUE(valid(heap));
    for (std::byte* p : {forged.a, forged.x}) {
      heap.deallocate(p);
      ASSERT_TRUE(valid(heap));
    }
    EXPECT_EQ(heap.stats().free_blocks, 1u);
  }
}

TYPED_TEST(DebugUp, SizedDeallocateWithWrongLayoutIsInvalidLayout) {
  // b came from allocate(kSize), so its layout is (kSize, kDefaultAlignment): 8 on Cortex-M4, where b need not be
  // 16-aligned. (The final deallocate once said 16 and was itself reported there; the handler's jump into the dead
  // frame of the EXPECT_FAULT before it re-ran the test's tail in a loop. RecordingHandler aborts on such a fault now.)
  constexpr std::size_t kAlign = TypeParam::Heap::kDefaultAlignment;
  std::byte* b = this->block(1);
  EXPECT_FAULT(this->heap().deallocate(b, *Layout::from(Misuse<TypeParam>::kSize + 1, kAlign)),
               AllocError::kInvalidLayout, b);
  EXPECT_FAULT(this->heap().deallocate(b, *Layout::from(8, 4096)), AllocError::kInvalidLayout, b);
  // Smaller than requested (a sized delete through the wrong type), an alignment above the granule for a block
  // allocated with none (whether or not b happens to have it), and the layout adapters pass for one that cannot be.
  EXPECT_FAULT(this->heap().deallocate(b, *Layout::from(Misuse<TypeParam>::kSize - 1, kAlign)),
               AllocError::kInvalidLayout, b);
  EXPECT_FAULT(this->heap().deallocate(b, *Layout::from(Misuse<TypeParam>::kSize, 2 * TypeParam::Heap::kGranule)),
               AllocError::kInvalidLayout, b);
  EXPECT_FAULT(this->heap().deallocate(b, Layout::unfit()), AllocError::kInvalidLayout, b);
  EXPECT_TRUE(valid(this->heap()));
  this->heap().deallocate(b, *Layout::from(Misuse<TypeParam>::kSize, kAlign));
  this->blocks_[1] = nullptr;
  EXPECT_TRUE(valid(this->heap()));
}

TYPED_TEST(DebugUp, SizedDeallocateOfAnOverAlignedBlockNeedsItsAlignment) {
  // An over-aligned block records its alignment: a layout with any other one does not fit, a smaller one (the
  // pointer has it) included.
  constexpr std::size_t kAlign = 4 * TypeParam::Heap::kGranule;
  void* p = *this->heap().allocate(40, kAlign);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_FAULT(this->heap().deallocate(p, *Layout::from(40, TypeParam::Heap::kDefaultAlignment)),
               AllocError::kInvalidLayout, p);
  EXPECT_FAULT(this->heap().deallocate(p, *Layout::from(40, kAlign / 2)), AllocError::kInvalidLayout, p);
  EXPECT_FAULT(this->heap().deallocate(p, *Layout::from(40, kAlign * 2)), AllocError::kInvalidLayout, p);
  EXPECT_TRUE(valid(this->heap()));
  this->heap().deallocate(p, *Layout::from(40, kAlign));
  EXPECT_TRUE(valid(this->heap()));
}

TYPED_TEST(DebugUp, AdaptersPassABrokenLayoutOnToTheChecks) {
  // A count or alignment that allocate would have refused forms no Layout: StdAllocator and HeapResource pass
  // Layout::unfit, which DebugChecks reports, instead of reading an error as a layout.
  std::byte* b = this->block(1);
  StdAllocator<std::uint64_t, typename TypeParam::Heap> words(this->heap());
  EXPECT_FAULT(words.deallocate(reinterpret_cast<std::uint64_t*>(b), SIZE_MAX / 2), AllocError::kInvalidLayout, b);
  HeapResource<typename TypeParam::Heap> resource(this->heap());
  std::pmr::memory_resource& r = resource;
  EXPECT_FAULT(r.deallocate(b, Misuse<TypeParam>::kSize, 3), AllocError::kInvalidLayout, b);
  EXPECT_TRUE(valid(this->heap()));
  r.deallocate(b, Misuse<TypeParam>::kSize, TypeParam::Heap::kDefaultAlignment);
  this->blocks_[1] = nullptr;
  EXPECT_TRUE(valid(this->heap()));
}

TYPED_TEST(DebugUp, DoorsPassAWrongLayoutOnToTheChecks) {
  // A valid layout that is not the block's (a count or byte size other than allocated, larger or smaller, or an
  // alignment the block was not allocated with) reaches DebugChecks' layout check through the doors as through the
  // heap's own sized deallocate: the doors pass their caller's layout on, they do not free by the pointer alone.
  constexpr std::size_t kWords = Misuse<TypeParam>::kSize / 8;
  constexpr std::size_t kAlign = TypeParam::Heap::kDefaultAlignment;
  std::byte* b = this->block(1);
  auto* as_words = reinterpret_cast<std::uint64_t*>(b);
  StdAllocator<std::uint64_t, typename TypeParam::Heap> words(this->heap());
  EXPECT_FAULT(words.deallocate(as_words, kWords + 1), AllocError::kInvalidLayout, b);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_FAULT(words.deallocate(as_words, kWords - 1), AllocError::kInvalidLayout, b);
  EXPECT_TRUE(valid(this->heap()));
  HeapResource<typename TypeParam::Heap> resource(this->heap());
  std::pmr::memory_resource& r = resource;
  EXPECT_FAULT(r.deallocate(b, Misuse<TypeParam>::kSize + 1, kAlign), AllocError::kInvalidLayout, b);
  EXPECT_TRUE(valid(this->heap()));
  EXPECT_FAULT(r.deallocate(b, Misuse<TypeParam>::kSize, 2 * TypeParam::Heap::kGranule), AllocError::kInvalidLayout, b);
  EXPECT_TRUE(valid(this->heap()));
  words.deallocate(as_words, kWords);
  this->blocks_[1] = nullptr;
  EXPECT_TRUE(valid(this->heap()));
}

// README (Policies, BasicChecks' limit): payload bytes that forge a whole consistent block with consistent neighbours
// pass the O(1) check, so BasicChecks frees the forged block, and validate() finds what it let through (a free block
// on the index that the walk of the blocks never meets). Taken back (the head of the list, an exact fit), the heap
// reads as consistent again. From HardenedChecks up the check word refuses it (ForgedBlockInPayloadIsCorrupted).
template <class Tags>
void expect_basic_checks_free_a_forged_block() {
  using Heap = BasicHeap<FirstFit, Tags, BasicChecks<H>, RegionSource>;
  constexpr std::size_t kW = Tags::kHeaderSize;
  constexpr std::size_t kG = Heap::kGranule;
  auto owner = std::make_unique<TestHeap<Heap>>();
  Heap& heap = owner->heap();
  void* live[3] = {};
  for (void*& p : live) {
    p = *heap.allocate(96);
    ASSERT_TRUE(valid(heap));
  }
  std::byte* const forged = static_cast<std::byte*>(live[1]) + 2 * kG - kW;         // its payload granule-aligned
  internal::store_word<typename Tags::word_type>(forged - kW, internal::kUsedBit);  // FullTags: "previous is used"
  Tags::make_used(forged, 2 * kG, true, false);
  Tags::make_used(forged + 2 * kG, 2 * kG, true, false);
  std::byte* const p = forged + kW;
  const Result<std::size_t> usable = heap.try_usable_size(p);
  ASSERT_TRUE(usable.has_value()) << "the O(1) check refused a consistent forged block";
  heap.deallocate(p);  // a fault ends the test (RecordingHandler)
  const ValidateResult r = heap.validate();
  ASSERT_FALSE(r.has_value()) << "validate() passed the forged free block";
  EXPECT_EQ(r.error().error, AllocError::kCorrupted);
  Result<void*> back = heap.allocate(*usable);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, p);
  ASSERT_TRUE(valid(heap));
  // The forged block stays live inside live[1]; the heap goes with its buffer.
}

TEST(BasicChecksTest, ABlockForgedInPayloadIsFreedAndValidateFindsIt) {
  if constexpr (internal::kValgrind) {
    GTEST_SKIP() << "memcheck would be told of a free of a block it never saw allocated";
  } else {
    expect_basic_checks_free_a_forged_block<CompactTags>();
    expect_basic_checks_free_a_forged_block<FullTags>();
  }
}

// The key comes from the policy's secret source, drawn once per heap on first use.
struct CountingSecret {
  static inline int draws = 0;
  static std::uint64_t draw() noexcept {
    ++draws;
    return 0x0123456789ABCDEFull * static_cast<std::uint64_t>(draws);
  }
};

// The bytes past used block `info`'s usable size, [tail, end) (to the block's end: alignment record, trailer, FullTags'
// footer), that the heap reads as the trailer's 32-bit words: each byte in turn is flipped and validate() run, and
// those whose change it reports at this block as its check word failing, or (DebugChecks) as its recorded requested
// size out of range, are set in the mask, bit i for byte `tail + i`. (A flip of the slack's low bytes fails the check
// word, which covers them; of its high ones, the range check.) Found by what the heap reads, not by the layout's
// arithmetic, so that an offset that arithmetic gets wrong shows; the reasons are matched by their words in
// validate()'s report, so a rewording makes this find nothing and the test say so.
template <class Heap>
std::uint64_t trailer_word_bytes(const Heap& heap, const BlockInfo& info, const std::byte* tail, const std::byte* end) {
  const auto* const block = static_cast<const std::byte*>(info.payload) - Heap::Tags::kHeaderSize;
  std::byte* const first = const_cast<std::byte*>(tail);
  const auto n = static_cast<std::size_t>(end - tail);
  EXPECT_LE(n, 64u) << "a tail longer than the mask";
  std::uint64_t found = 0;
  expose(first, n);
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    first[i] ^= std::byte{0xFF};
    const ValidateResult r = heap.validate();
    first[i] ^= std::byte{0xFF};
    if (!r && r.error().error == AllocError::kCorrupted && r.error().where == block &&
        (std::strstr(r.error().what, "check word") != nullptr ||
         std::strstr(r.error().what, "recorded requested size") != nullptr)) {
      found |= std::uint64_t{1} << i;
    }
  }
  return found;
}

// The trailer's 32-bit words (DebugChecks' slack, the check word) are read and written as aligned words: the heap's
// tag accessors promise the compiler the word's alignment (one load even where an unaligned access faults, as on
// Cortex-M0+). A block ends one tag word before a granule boundary, so with 16-bit CompactTags the trailer, which ended
// the block, started 2 bytes off a word boundary (clang's -fsanitize=alignment: "assumption of 4 byte alignment ...
// failed"). Every tag layout at both levels, over-aligned blocks and in-place reallocations included: in each used
// block the bytes validate() reads as trailer words (trailer_word_bytes) must be whole 4-byte-aligned words.
template <class Check, class Tags>
void expect_aligned_trailers() {
  using Heap = BasicHeap<FirstFit, Tags, Check, RegionSource>;
  auto owner = std::make_unique<TestHeap<Heap>>();
  Heap& heap = owner->heap();
  void* live[40] = {};
  for (std::size_t i = 0; i < 40; ++i) {
    live[i] = *heap.allocate(i * 3, i % 5 == 4 ? 64 : alignof(std::max_align_t));
    ASSERT_TRUE(valid(heap));
    fill(live[i], i * 3, i);
  }
  for (std::size_t i = 0; i < 40; i += 3) {
    Result<void*> grown = heap.reallocate(live[i], i * 3 + 5);
    ASSERT_TRUE(grown.has_value());
    live[i] = *grown;
    ASSERT_TRUE(valid(heap));
    ASSERT_TRUE(holds_pattern(live[i], i * 3, i)) << i;
    fill(live[i], i * 3 + 5, i);
  }
  // The used blocks first, then their bytes flipped: not while walk() reads the tags.
  BlockInfo used[40] = {};
  std::size_t n = 0;
  heap.walk([&used, &n](const BlockInfo& info) {
    if (info.used && n < 40) used[n++] = info;
  });
  ASSERT_EQ(n, 40u);
  for (const BlockInfo& info : used) {
    const auto* const payload = static_cast<const std::byte*>(info.payload);
    const std::byte* const tail = payload + heap.usable_size(info.payload);
    const std::byte* const end = payload - Tags::kHeaderSize + info.size;
    const std::uint64_t found = trailer_word_bytes(heap, info, tail, end);
    EXPECT_NE(found, 0u) << "no byte past the payload at " << info.payload << " is read as a trailer word";
    for (std::size_t i = 0; i < 64; ++i) {
      if ((found >> i & 1) == 0) continue;
      // The aligned word around the byte is read whole: every byte of it is found.
      const std::size_t off = reinterpret_cast<std::uintptr_t>(tail + i) % 4;
      const bool whole = i >= off && i - off + 4 <= 64 && (found >> (i - off) & 0xF) == 0xF;
      EXPECT_TRUE(whole) << "trailer word byte " << i << " past the usable size of the block at " << info.payload
                         << " (address % 4 == " << off << ") is not in a 4-byte-aligned word read whole";
    }
  }
  for (std::size_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(holds_pattern(live[i], i % 3 == 0 ? i * 3 + 5 : i * 3, i)) << i;
    heap.deallocate(live[i]);
    ASSERT_TRUE(valid(heap));
  }
}

TEST(TrailerTest, CheckWordsAreWordAlignedInEveryTagLayout) {
  expect_aligned_trailers<HardenedChecks<>, CompactTags>();
  expect_aligned_trailers<HardenedChecks<>, FullTags>();
  expect_aligned_trailers<HardenedChecks<>, BasicCompactTags<std::uint32_t>>();
  expect_aligned_trailers<HardenedChecks<>, BasicFullTags<std::uint32_t>>();
  expect_aligned_trailers<HardenedChecks<>, BasicCompactTags<std::uint16_t>>();
  expect_aligned_trailers<HardenedChecks<>, BasicFullTags<std::uint16_t>>();
  expect_aligned_trailers<DebugChecks<>, CompactTags>();
  expect_aligned_trailers<DebugChecks<>, BasicCompactTags<std::uint32_t>>();
  expect_aligned_trailers<DebugChecks<>, BasicCompactTags<std::uint16_t>>();
  expect_aligned_trailers<DebugChecks<>, BasicFullTags<std::uint16_t>>();
}

// README ("How the levels work"): the key is mixed with the heap's address, so that two heaps never share it, even
// with AddressSecret's constant: a used block's bytes copied from one heap into another over the same memory, at the
// same address and with the same header, fail the second heap's check word (kCorrupted).
template <class Tags>
void expect_a_block_copied_from_another_heap_refused() {
  using Heap = BasicHeap<FirstFit, Tags, HardenedChecks<H, AddressSecret>, RegionSource>;
  alignas(64) static std::byte memory[4096];
  auto one = std::make_unique<Heap>(std::span<std::byte>(memory));
  auto* p = static_cast<std::byte*>(*one->allocate(40));
  ASSERT_TRUE(valid(*one));
  std::memset(p, 7, 40);
  std::byte* const block = p - Tags::kHeaderSize;
  expose(block, Tags::kHeaderSize);
  const std::size_t size = Tags::size(block);
  std::byte theirs[256];
  ASSERT_LE(size, sizeof theirs);
  expose(block, size);
  std::memcpy(theirs, block, size);
  one->deallocate(p);
  ASSERT_TRUE(valid(*one));
  // A second heap over the same memory while the first still exists (so at another address): the same layout.
  auto two = std::make_unique<Heap>(std::span<std::byte>(memory));
  auto* q = static_cast<std::byte*>(*two->allocate(40));
  ASSERT_TRUE(valid(*two));
  ASSERT_EQ(q, p);
  std::memset(q, 7, 40);
  expose(block, size);
  ASSERT_EQ(Tags::size(block), size);
  std::byte ours[256];
  std::memcpy(ours, block, size);
  std::memcpy(block, theirs, size);
  EXPECT_NE(std::memcmp(ours, theirs, size), 0) << "both heaps wrote the same check word";
  expect_free_faults(*two, q, AllocError::kCorrupted, q);
  std::memcpy(block, ours, size);
  ASSERT_TRUE(valid(*two));
  two->deallocate(q);
  ASSERT_TRUE(valid(*two));
}

TEST(HardenedChecksTest, ABlockCopiedFromAnotherHeapFailsItsCheckWord) {
  expect_a_block_copied_from_another_heap_refused<CompactTags>();
  expect_a_block_copied_from_another_heap_refused<FullTags>();
}

TEST(HardenedChecksTest, SecretIsDrawnOncePerHeap) {
  using Heap = BasicHeap<HardenedChecks<AbortOnFault, CountingSecret>, RegionSource>;
  CountingSecret::draws = 0;
  auto one = std::make_unique<TestHeap<Heap>>();
  auto two = std::make_unique<TestHeap<Heap>>();
  EXPECT_EQ(CountingSecret::draws, 0);
  for (int i = 0; i < 10; ++i) {
    void* p = *one->heap().allocate(32);
    ASSERT_TRUE(valid(one->heap()));
    one->heap().deallocate(p);
    ASSERT_TRUE(valid(one->heap()));
  }
  EXPECT_EQ(CountingSecret::draws, 1);
  void* q = *two->heap().allocate(32);
  ASSERT_TRUE(valid(two->heap()));
  EXPECT_EQ(CountingSecret::draws, 2);
  two->heap().deallocate(q);
  ASSERT_TRUE(valid(two->heap()));
  EXPECT_EQ(CountingSecret::draws, 2) << "validate() drew the secret again";
}

}  // namespace
}  // namespace nostd::testing
