// Corruption the heap must report rather than crash on or be steered by (issue 10, cases 1 and 2):
//
// - validate() checks every pointer before following it: dangling writes into a free block's list links, a
//   forged free block inside a live one linked into the index, an overwritten region header, and junk written over
//   every word of a heap are reported as kCorrupted, never a crash.
// - Safe unlinking: at every check level above NoChecks, a free block whose list links were forged by a write
//   after free is reported to the check handler before an unlink can write through the forged pointer (the unlink
//   attack), on the free, allocate and reallocate paths; the heap is left as it was.
// - Safe walks: from BasicChecks up, a `next` link that a search (FirstFit, NextFit, BestFit; SegregatedFit's walk of
//   an unbounded last list) or stats()'s walk of the free index would follow is checked before it is read through; a
//   forged one is reported to the check handler at the block holding it (it used to crash them), and next fit's rover
//   never takes an unchecked link. From HardenedChecks up, a cycle forged with two words (a `next` and its target's
//   `prev`, which pass that check) is reported when a walk would follow as many links as the index holds blocks: the
//   list fits' searches used to walk it without end (those tests run under a deadline, so that a hang fails), and
//   next fit's search, meeting one through its own start, had ended there with kOutOfMemory.
//
// Typed over fit × tags (× checks for validate()); validate() runs after every heap operation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <unistd.h>

#include <csignal>
#endif

#include "alloc/alloc.h"
#include "alloc/internal/tag_word.h"
#include "alloc/internal/valgrind_hooks.h"
#include "tests/corruption_check.h"
#include "tests/heap_test_util.h"
#include "tests/recording_handler.h"

namespace nostd::testing {
namespace {

using Recording = BasicChecks<RecordingHandler>;
using HardenedRecording = HardenedChecks<RecordingHandler>;
template <class Fit, class Tags, class Check>
using H = BasicHeap<Fit, Tags, Check, RegionSource>;

/// True for the SegregatedFit policies, whose searches look at list heads only.
template <class Fit>
inline constexpr bool is_segregated = false;
template <std::size_t L, std::size_t N, std::size_t S, std::size_t K>
inline constexpr bool is_segregated<SegregatedFit<L, N, S, K>> = true;

/// SegregatedFit<> whose index does not offer good_head_intact (HasGoodHeadIntact is false), so that the SafeUnlink
/// tests check the core's fallback for a good head: a null `prev`, then links_intact.
struct SegregatedFitWithoutHeadCheck : SegregatedFit<> {
  template <class Tags, std::size_t HeapBytes = 0>
  class SizedIndex : public SegregatedFit<>::SizedIndex<Tags, HeapBytes> {
   public:
    void good_head_intact() = delete;  // hides SegregatedFit's
  };
  template <class Tags>
  using Index = SizedIndex<Tags, 0>;
};
static_assert(HasGoodHeads<SegregatedFitWithoutHeadCheck::Index<CompactTags>> &&
              !HasGoodHeadIntact<SegregatedFitWithoutHeadCheck::Index<CompactTags>>);
static_assert(HasGoodHeadIntact<SegregatedFit<>::Index<CompactTags>>);
template <>
inline constexpr bool is_segregated<SegregatedFitWithoutHeadCheck> = true;

/// A heap over a 4 KiB buffer of its own; the region header sits at the buffer's first byte.
template <class Heap, std::size_t Bytes = 4096>
struct OwnedHeap {
  alignas(64) std::byte buf[Bytes] = {};
  Heap heap{std::span<std::byte>(buf)};
};

/// The pointer stored at `at` (a list link or a region header field).
const void* read_ptr(const void* at) {
  const void* p = nullptr;
  expose(at, sizeof p);  // heap memory the heap hides from ASan (tags, free blocks): the test's read is no report
  std::memcpy(&p, at, sizeof p);
  return p;
}
/// Stores pointer `value` at `at`, as a write through a dangling pointer would.
void write_ptr(void* at, const void* value) {
  expose(at, sizeof value);
  std::memcpy(at, &value, sizeof value);
}
/// The address `value`, as a pointer (for junk such as 0x10 or ~0).
const void* junk(std::uintptr_t value) { return reinterpret_cast<const void*>(value); }

/// While it lives, a call that does not return within kSeconds ends the test program with a failure: the cycle tests'
/// searches walked a forged cycle without end, and such a regression must fail the run, not stall it. On Linux
/// (hosted, and riscv64 under qemu-user) SIGALRM, whose handler names the hang and exits 1; on the boards, where there
/// is no alarm, the QEMU runner's limit (Bazel's timeout less 5 s, 55 s for this small test) stops the run. A fault
/// that EXPECT_FAULT catches jumps back into the frame that holds the deadline, which is then still armed until it
/// goes.
class Deadline {
 public:
  /// Long enough for a walk of a few blocks under Valgrind or QEMU; short beside Bazel's 60 s.
  static constexpr unsigned kSeconds = 10;
  Deadline() {
#if defined(__linux__)
    std::signal(SIGALRM, &on_alarm);
    alarm(kSeconds);
#endif
  }
  ~Deadline() {
#if defined(__linux__)
    alarm(0);
#endif
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

 private:
#if defined(__linux__)
  static void on_alarm(int) {
    static constexpr char kMessage[] = "heap_corruption_test: a call did not return in time (a walk without end?)\n";
    [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    _exit(1);
  }
#endif
};

/// Expects allocate(request) on `heap` to report kCorrupted at `where` within the Deadline. A function of its own, so
/// that no variable of the caller lives across EXPECT_FAULT's setjmp (GCC 12 for Cortex-M: -Werror=clobbered).
template <class Heap>
void expect_allocate_faults_in_time(Heap& heap, std::size_t request, const void* where) {
  const Deadline deadline;
  EXPECT_FAULT((void)heap.allocate(request), AllocError::kCorrupted, where);
}

struct Names {
  template <class Heap>
  static std::string GetName(int) {
    constexpr CheckLevel kLevel = Heap::Check::kLevel;
    static_assert(kLevel <= CheckLevel::kHardened, "Names: name the levels above HardenedChecks");
    const char* const checks = kLevel == CheckLevel::kOff     ? "_NoChecks"
                               : kLevel == CheckLevel::kBasic ? "_Checked"
                                                              : "_Hardened";
    std::string tags = policy_name<typename Heap::Tags>();
    return std::string(policy_name<typename Heap::Fit>()) + "_" + tags + checks;
  }
};

// ---- validate() never crashes --------------------------------------------------------------------------------

template <class Heap>
class ValidateCorruption : public ::testing::Test {
 public:
  void SetUp() override { RecordingHandler::calls = 0; }
  Heap& heap() { return owner_->heap; }
  std::byte* buf() { return owner_->buf; }
  void* alloc(std::size_t size, std::size_t align = alignof(std::max_align_t)) {
    Result<void*> p = heap().allocate(size, align);
    EXPECT_TRUE(p.has_value());
    EXPECT_TRUE(valid(heap()));
    return p ? *p : nullptr;
  }
  void free(void* p) {
    heap().deallocate(p);
    EXPECT_TRUE(valid(heap()));
  }
  std::unique_ptr<OwnedHeap<Heap>> owner_ = std::make_unique<OwnedHeap<Heap>>();
};

using ValidateHeaps =
    ::testing::Types<H<FirstFit, CompactTags, NoChecks>, H<FirstFit, CompactTags, Recording>,
                     H<FirstFit, FullTags, NoChecks>, H<FirstFit, FullTags, Recording>,
                     H<NextFit, CompactTags, NoChecks>, H<NextFit, CompactTags, Recording>,
                     H<NextFit, FullTags, NoChecks>, H<NextFit, FullTags, Recording>, H<BestFit, CompactTags, NoChecks>,
                     H<BestFit, CompactTags, Recording>, H<BestFit, FullTags, NoChecks>,
                     H<BestFit, FullTags, Recording>, H<FirstFit, BasicCompactTags<std::uint32_t>, Recording>,
                     H<BestFit, BasicFullTags<std::uint32_t>, NoChecks>, H<SegregatedFit<>, CompactTags, NoChecks>,
                     H<SegregatedFit<>, CompactTags, Recording>, H<SegregatedFit<>, FullTags, Recording>>;
TYPED_TEST_SUITE(ValidateCorruption, ValidateHeaps, Names);

// Issue 10, case 1: a write through a dangling pointer puts junk in a free block's `next` link; validate() used to
// follow it (SIGSEGV). Also its `prev` link, and junk that points inside the heap but at no free block.
TYPED_TEST(ValidateCorruption, DanglingWriteIntoFreeLinksIsReported) {
  void* a = this->alloc(64);
  void* b = this->alloc(64);
  void* c = this->alloc(64);
  // c's data: a junk link below points at c + 16, where validate() reads c's second word as that block's header.
  std::memset(c, 0, 64);
  this->free(b);
  std::byte* const next_link = static_cast<std::byte*>(b);
  std::byte* const prev_link = next_link + sizeof(void*);
  const void* const next = read_ptr(next_link);
  const void* const prev = read_ptr(prev_link);

  // The issue's reproducer: 8 bytes of 0x10 over the links.
  std::uint64_t junk8 = 0x10;
  expose(b, 8);
  std::memcpy(b, &junk8, 8);
  EXPECT_TRUE(reports_corruption(this->heap(), b));
  write_ptr(next_link, next);
  write_ptr(prev_link, prev);
  ASSERT_TRUE(valid(this->heap()));

  const void* const bad[] = {junk(0x10),
                             junk(~std::uintptr_t{0}),
                             junk(~std::uintptr_t{0} - 63),
                             a,                                // inside the heap, aligned: a live block
                             static_cast<std::byte*>(a) + 8,   // inside the heap, misaligned
                             static_cast<std::byte*>(c) + 16,  // inside a live block
                             this->buf(),                      // the region header
                             b};                               // itself
  for (std::byte* link : {next_link, prev_link}) {
    const void* const saved = read_ptr(link);
    for (const void* value : bad) {
      write_ptr(link, value);
      EXPECT_TRUE(reports_corruption(this->heap(), b)) << "link value " << value;
    }
    write_ptr(link, saved);
    ASSERT_TRUE(valid(this->heap()));
  }
  this->free(a);
  this->free(c);
}

// A fully forged free block inside a live block (header, footer, the next block agreeing), linked into the index
// in place of a real free block, with consistent links and an unchanged count: every pointer is sane, and only
// "every index node is the start of a free block" finds it. It used to pass validate().
TYPED_TEST(ValidateCorruption, IndexNodeInsideALiveBlockIsReported) {
  using Tags = typename TypeParam::Tags;
  constexpr std::size_t kG = TypeParam::kGranule;
  void* a = this->alloc(64);
  void* b = this->alloc(64);
  auto* c = static_cast<std::byte*>(this->alloc(200));
  void* d = this->alloc(64);
  std::memset(c, 0, 200);
  this->free(b);
  if constexpr (is_segregated<typename TypeParam::Fit>) {
    for (void* p : {a, static_cast<void*>(c), d}) this->free(p);  // memcheck reports blocks left live as leaks
    GTEST_SKIP() << "b is alone on its size list, so no real node follows it to be replaced";
  }
  ASSERT_EQ(read_ptr(static_cast<std::byte*>(b) + sizeof(void*)), nullptr) << "b should head the free list";
  const void* const tail = read_ptr(b);
  ASSERT_NE(tail, nullptr);

  std::byte* const fake = c + 2 * kG;  // a payload address inside c, granule-aligned
  Tags::make_free(fake - Tags::kHeaderSize, 64);
  write_ptr(fake, nullptr);            // fake->next
  write_ptr(fake + sizeof(void*), b);  // fake->prev
  write_ptr(b, fake);                  // b->next: the real tail is no longer indexed
  EXPECT_TRUE(reports_corruption(this->heap()));

  write_ptr(b, tail);
  ASSERT_TRUE(valid(this->heap()));
  this->free(a);
  this->free(c);
  this->free(d);
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
}

// An underflowing write onto a RegionHeader (next, first, end, seal) used to crash the region walk.
TYPED_TEST(ValidateCorruption, OverwrittenRegionHeaderIsReported) {
  alignas(64) static std::byte second[2048];
  ASSERT_TRUE(this->heap().add_region(std::span<std::byte>(second)).has_value());
  ASSERT_TRUE(valid(this->heap()));
  void* a = this->alloc(64);
  for (std::byte* header : {this->buf(), second}) {
    for (std::size_t word = 0; word < 4; ++word) {
      std::byte* const at = header + word * sizeof(void*);
      const void* const saved = read_ptr(at);
      for (const void* value :
           {junk(0x10), junk(~std::uintptr_t{0}), junk(reinterpret_cast<std::uintptr_t>(saved) ^ 0x40)}) {
        write_ptr(at, value);
        EXPECT_TRUE(reports_corruption(this->heap(), header)) << "header word " << word;
      }
      write_ptr(at, saved);
      ASSERT_TRUE(valid(this->heap()));
    }
  }
  this->free(a);
}

// A write that flips only the end sentinel's prev-used flag, its size (0) and used bit intact, which the checks for a
// broken sentinel pass: validate() compares the flag with the region's last block, as it compares every block's flag
// with its predecessor. Both ways: with the free tail last (the flag forged to "used") and with a used block last.
TYPED_TEST(ValidateCorruption, AFlippedPrevUsedFlagOnTheEndSentinelIsReported) {
  using Tags = typename TypeParam::Tags;
  if constexpr (Tags::kUsedOverhead != Tags::kHeaderSize) {
    GTEST_SKIP() << "full tags keep no prev-used flag: the last block's footer says it, and validate() checks footers";
  }
  void* const a = this->alloc(64);  // the heap takes its region on first use: the header is written now
  auto* const end = static_cast<std::byte*>(const_cast<void*>(read_ptr(this->buf() + 2 * sizeof(void*))));
  void* tail = nullptr;
  for (const bool last_used : {false, true}) {
    if (last_used) tail = this->alloc(this->heap().stats().largest_free_block);  // the free tail, whole
    expose(end, Tags::kHeaderSize);
    ASSERT_EQ(Tags::prev_used(end), last_used);
    Tags::set_prev_used(end, !last_used);
    EXPECT_TRUE(reports_corruption(this->heap(), end)) << "last block used: " << last_used;
    Tags::set_prev_used(end, last_used);
    ASSERT_TRUE(valid(this->heap()));
  }
  this->free(tail);
  this->free(a);
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
}

// Junk over every word of a heap with used, free and over-aligned blocks: validate() never crashes, reports only
// kCorrupted, and always reports junk in a region header, a block header or a free block's links.
TYPED_TEST(ValidateCorruption, JunkOverEveryWordNeverCrashesValidate) {
  using Tags = typename TypeParam::Tags;
  void* keep[6];
  for (std::size_t i = 0; i < 6; ++i) keep[i] = this->alloc(24 + 40 * i, i == 3 ? 256 : alignof(std::max_align_t));
  this->free(keep[1]);
  this->free(keep[4]);
  // The words validate() must find overwritten with ~0: each block header, each free block's links, the region
  // header.
  std::byte* const begin = this->buf();
  std::byte* const end = begin + sizeof(this->owner_->buf);
  auto must_detect = [&](const std::byte* at) {
    if (at < begin + 4 * sizeof(void*)) return true;
    bool hit = false;
    this->heap().walk([&](const BlockInfo& block) {
      const auto* payload = static_cast<const std::byte*>(block.payload);
      if (block.size != 0 && at == payload - Tags::kHeaderSize) hit = true;
      if (!block.used && at >= payload && at < payload + 2 * sizeof(void*)) hit = true;
    });
    return hit;
  };
  std::size_t detected = 0;
  for (std::byte* at = begin; at + sizeof(void*) <= end; at += sizeof(void*)) {
    const void* const saved = read_ptr(at);
    const bool required_here = must_detect(at);
    for (const void* value : {junk(0), junk(0x10), junk(~std::uintptr_t{0}), static_cast<const void*>(keep[0]),
                              static_cast<const void*>(begin + 8), static_cast<const void*>(keep[4])}) {
      if (value == saved) continue;
      write_ptr(at, value);
      ValidateResult r = this->heap().validate();  // must return, whatever the junk
      if (!r) {
        EXPECT_EQ(r.error().error, AllocError::kCorrupted);
        ++detected;
      } else if (required_here && value == junk(~std::uintptr_t{0})) {
        ADD_FAILURE() << "~0 at offset " << (at - begin) << " passed validate()";
      }
      write_ptr(at, saved);
    }
    ASSERT_TRUE(valid(this->heap())) << "offset " << (at - begin);
  }
  EXPECT_GT(detected, 0u);
  for (std::size_t i : {0, 2, 3, 5}) this->free(keep[i]);
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
}

// Issue 10, case 2 without checks: the steered unlink succeeds (NoChecks trusts its argument), and validate() now
// finds what it did: a node inside a live block took the place of the real free tail.
TYPED_TEST(ValidateCorruption, SteeredUnlinkIsFoundByValidate) {
  if constexpr (TypeParam::Check::kLevel != CheckLevel::kOff) {
    GTEST_SKIP() << "checked heaps refuse the unlink (SafeUnlink suite)";
  } else {
    using Tags = typename TypeParam::Tags;
    auto* a = static_cast<std::byte*>(this->alloc(64));
    auto* b = static_cast<std::byte*>(this->alloc(64));
    auto* c = static_cast<std::byte*>(this->alloc(200));
    auto* d = static_cast<std::byte*>(this->alloc(64));
    std::memset(c, 0, 200);
    std::byte* const fake = c + 64;
    internal::store_word<typename Tags::word_type>(fake - Tags::kHeaderSize, 512);  // live data in c
    this->free(b);
    write_ptr(b, fake);  // use after free: b's `next` link into c
    this->heap().deallocate(a);
    EXPECT_TRUE(reports_corruption(this->heap()));
    // The heap stays corrupted (its index holds fake and has lost the real free tail), so c and d are not freed
    // through it: memcheck is told that they go with the heap's buffer, or it would report them as leaks.
    internal::valgrind_freelike(c);
    internal::valgrind_freelike(d);
  }
}

// The issue's reproducer through the framework-free driver that bare-metal rv32 runs too (tests/corruption_checks.cc),
// on a heap of its own.
TYPED_TEST(ValidateCorruption, IssueReproducerOfCase1) {
  const test::CorruptionReport r = test::check_validate_reports_dangling_links<TypeParam>();
  EXPECT_TRUE(r.ok()) << r.failure;
}

// ---- Safe unlinking ------------------------------------------------------------------------------------------

template <class Heap>
class SafeUnlink : public ValidateCorruption<Heap> {};

using CheckedHeaps = ::testing::Types<
    H<FirstFit, CompactTags, Recording>, H<FirstFit, FullTags, Recording>, H<NextFit, CompactTags, Recording>,
    H<NextFit, FullTags, Recording>, H<BestFit, CompactTags, Recording>, H<BestFit, FullTags, Recording>,
    H<FirstFit, BasicCompactTags<std::uint32_t>, Recording>, H<NextFit, BasicFullTags<std::uint32_t>, Recording>,
    H<SegregatedFit<>, CompactTags, Recording>, H<SegregatedFit<>, FullTags, Recording>,
    // HardenedChecks, where SegregatedFit's exact path is off and good_head<true> takes the exact lists' heads; the
    // list fits, whose free blocks carry no check word either.
    H<SegregatedFit<>, CompactTags, HardenedRecording>, H<SegregatedFit<>, FullTags, HardenedRecording>,
    H<FirstFit, CompactTags, HardenedRecording>, H<BestFit, FullTags, HardenedRecording>,
    H<NextFit, BasicCompactTags<std::uint32_t>, HardenedRecording>,
    // The core's check of a good head for an index without good_head_intact.
    H<SegregatedFitWithoutHeadCheck, CompactTags, Recording>,
    H<SegregatedFitWithoutHeadCheck, CompactTags, HardenedRecording>>;
TYPED_TEST_SUITE(SafeUnlink, CheckedHeaps, Names);

/// The issue's layout: a, b, c (200 bytes of live data, zeroed), d; b freed; a forged free header of 512 bytes at
/// c + 64 (where a forged `next` will point).
template <class Fixture>
struct Attack {
  std::byte *a, *b, *c, *d, *fake;
  const void* b_next;
  explicit Attack(Fixture& f) {
    using Tags = typename std::remove_reference_t<decltype(f.heap())>::Tags;
    a = static_cast<std::byte*>(f.alloc(64));
    b = static_cast<std::byte*>(f.alloc(64));
    c = static_cast<std::byte*>(f.alloc(200));
    d = static_cast<std::byte*>(f.alloc(64));
    std::memset(c, 0, 200);
    fake = c + 64;
    internal::store_word<typename Tags::word_type>(fake - Tags::kHeaderSize, 512);
    f.free(b);
    b_next = read_ptr(b);
  }
};

// Issue 10, case 2: a use-after-free write makes b's `next` point into live block c; freeing a (legitimate)
// merges with b and unlinked it, writing through the forged pointer, and the next allocation landed inside c.
TYPED_TEST(SafeUnlink, UseAfterFreeCannotSteerTheUnlinkOfAFree) {
  Attack at(*this);
  write_ptr(at.b, at.fake);
  EXPECT_FAULT(this->heap().deallocate(at.a), AllocError::kCorrupted, at.b);
  // Nothing changed: the forged link is still there for validate() to report, and once it is repaired a is still
  // live (stats() checks the link too: read it after the repair).
  EXPECT_TRUE(reports_corruption(this->heap(), at.b));
  write_ptr(at.b, at.b_next);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().live_allocations, 3u);
  EXPECT_EQ(this->heap().stats().free_blocks, 2u);
  this->free(at.a);
  Result<void*> p = this->heap().allocate(300);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_TRUE(static_cast<std::byte*>(*p) + 300 <= at.c || static_cast<std::byte*>(*p) >= at.c + 200);
  this->free(*p);
  this->free(at.c);
  this->free(at.d);
}

// A use-after-free write that nulls the `prev` of a free block x which does not head its list (another free block of
// its size, freed beside it, does): a null `prev` claims that x heads the list, and unlinking x as it stands writes x's
// `next` into the list's head slot, dropping the true head (and any block before x) from the index. Freeing x's used
// predecessor, which merges with x, must fault at x before anything changes: safe unlinking compares a node without a
// `prev` with its list's head.
TYPED_TEST(SafeUnlink, UseAfterFreeCannotMakeAFreeBlockClaimItsListsHead) {
  std::byte* const a = static_cast<std::byte*>(this->alloc(64));
  std::byte* const b = static_cast<std::byte*>(this->alloc(64));
  std::byte* const c = static_cast<std::byte*>(this->alloc(64));
  std::byte* const d = static_cast<std::byte*>(this->alloc(64));
  std::byte* const e = static_cast<std::byte*>(this->alloc(64));
  this->free(b);
  this->free(d);
  // The one of b and d that does not head the list has a `prev` (b on a LIFO list, d on an address-ordered one).
  const bool b_heads = read_ptr(b + sizeof(void*)) == nullptr;
  std::byte* const x = b_heads ? d : b;
  std::byte* const left = b_heads ? c : a;  // x's used predecessor
  const void* const x_prev = read_ptr(x + sizeof(void*));
  ASSERT_NE(x_prev, nullptr);
  write_ptr(x + sizeof(void*), nullptr);
  EXPECT_FAULT(this->heap().deallocate(left), AllocError::kCorrupted, x);
  write_ptr(x + sizeof(void*), x_prev);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().live_allocations, 3u);
  EXPECT_EQ(this->heap().stats().free_blocks, 3u);  // b, d and the heap's tail
  for (std::byte* p : {a, c, e}) this->free(p);
}

// A write after free over the footer of free block x that raises the size it gives, so that it names free block f two
// blocks back (live block a between them): freeing y, x's used successor, would merge y with a "predecessor" running
// from f to y, over live a and free x. f is a free block whose links are intact, so only the test that the block a
// footer names has the footer's size (free_prev_sane) stops the merge: the free faults as for any forged neighbour
// (kInvalidPointer, at y) before anything changes.
TYPED_TEST(SafeUnlink, AForgedFooterCannotMergeAFreeOverALiveBlock) {
  using Heap = std::remove_reference_t<decltype(this->heap())>;
  using Word = typename Heap::Tags::word_type;
  std::byte* const f = static_cast<std::byte*>(this->alloc(64));
  std::byte* const a = static_cast<std::byte*>(this->alloc(64));
  std::byte* const x = static_cast<std::byte*>(this->alloc(96));
  std::byte* const y = static_cast<std::byte*>(this->alloc(64));
  std::byte* const guard = static_cast<std::byte*>(this->alloc(64));
  this->free(f);
  this->free(x);
  std::byte* const footer = y - Heap::Tags::kHeaderSize - sizeof(Word);  // x's footer, the word before y's header
  expose(footer, sizeof(Word));
  const Word word = internal::load_word<Word>(footer);
  internal::store_word<Word>(footer, static_cast<Word>(word + static_cast<std::size_t>(x - f)));  // f's and a's blocks
  EXPECT_FAULT(this->heap().deallocate(y), AllocError::kInvalidPointer, y);
  internal::store_word<Word>(footer, word);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().live_allocations, 3u);
  EXPECT_EQ(this->heap().stats().free_blocks, 3u);  // f, x and the heap's tail
  for (std::byte* p : {a, y, guard}) this->free(p);
}

// The issue's reproducer through the framework-free driver that bare-metal rv32 runs too (tests/corruption_checks.cc).
TYPED_TEST(SafeUnlink, IssueReproducerOfCase2) {
  const test::CorruptionReport r = test::check_unlink_attack_is_refused<TypeParam>();
  EXPECT_TRUE(r.ok()) << r.failure;
}

// The same forged link reached by the search instead of a merge: allocation's search, past b (too small), must not
// follow b's `next` to the forged block in c, whose `prev` (null) does not point back at b. It is reported at b before
// anything in c is read (before searches checked the links they follow, the search read the forged block and safe
// unlinking refused to carve it, at fake; SafeWalk has a link to unmapped memory, which crashed the search).
TYPED_TEST(SafeUnlink, UseAfterFreeCannotSteerAnAllocation) {
  if constexpr (is_segregated<typename TypeParam::Fit>) {
    GTEST_SKIP() << "a segregated index takes list heads only here, so a search never reaches a forged next "
                    "(UseAfterFreeCannotSteerTheAllocationOfAListHead covers the unlink it does; SafeUnlinkWalk the "
                    "walk of an unbounded last list, the one place it follows next links)";
  }
  Attack at(*this);
  write_ptr(at.b, at.fake);
  EXPECT_FAULT((void)this->heap().allocate(300), AllocError::kCorrupted, at.b);
  write_ptr(at.b, at.b_next);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().live_allocations, 3u);
  for (std::byte* p : {at.a, at.c, at.d}) this->free(p);
}

// The block an allocation takes has a forged `next`: its unlink must not write through it. Every fit takes b here
// (first on its list, an exact fit; next fit's rover is on the head). Next fit's rover must not take the forged link
// either: it used to, as the search found b, so that the allocation after the repair started from the fake block in c
// (SafeWalk has a link to unmapped memory there, which crashed it).
TYPED_TEST(SafeUnlink, UseAfterFreeCannotSteerTheAllocationOfAListHead) {
  Attack at(*this);
  write_ptr(at.b, at.fake);
  EXPECT_FAULT((void)this->heap().allocate(64), AllocError::kCorrupted, at.b);
  write_ptr(at.b, at.b_next);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().live_allocations, 3u);
  EXPECT_EQ(this->heap().allocate(64).value_or(nullptr), at.b);
  ASSERT_TRUE(valid(this->heap()));
  for (std::byte* p : {at.a, at.b, at.c, at.d}) this->free(p);
}

// A list head taken by SegregatedFit's fast paths is checked as a head: its `prev` must be null. Block b of `block`
// bytes is alone on its list; a use-after-free write points its `prev` at a fake node in c whose `next` points back
// at b, which the check of any block's links accepts (prev->next == b), and a request for b's size must fault before
// the unlink. Afterwards the links are repaired and b is handed out as usual.
template <class Fixture>
void expect_forged_back_link_of_a_head_caught(Fixture& t, std::size_t block) {
  using Heap = std::remove_reference_t<decltype(t.heap())>;
  std::byte* const a = static_cast<std::byte*>(t.alloc(64));
  std::byte* const b = static_cast<std::byte*>(t.alloc(block - Heap::kUsedOverhead));
  std::byte* const c = static_cast<std::byte*>(t.alloc(200));
  std::memset(c, 0, 200);
  t.free(b);
  std::byte* const fake = c + 64;
  write_ptr(fake, b);                  // fake->next = b
  write_ptr(b + sizeof(void*), fake);  // b->prev = fake
  EXPECT_FAULT((void)t.heap().allocate(block - Heap::kUsedOverhead), AllocError::kCorrupted, b);
  EXPECT_EQ(t.heap().stats().live_allocations, 2u);
  write_ptr(b + sizeof(void*), nullptr);
  write_ptr(fake, nullptr);
  ASSERT_TRUE(valid(t.heap()));
  EXPECT_EQ(t.heap().allocate(block - Heap::kUsedOverhead).value_or(nullptr), b);
  ASSERT_TRUE(valid(t.heap()));
  t.free(b);
  t.free(a);
  t.free(c);
}

// Which list head a SafeUnlink test forges: one above the exact lists (1,536 bytes: a list floor on every target),
// taken by good_head(), or one of an exact list (96 bytes), taken by a request below the exact lists' limit.
enum class HeadKind { kGood, kExact };

// Runs `test(block)` with the block size of `kind` when the fixture's heap is a SegregatedFit one (the only fit that
// takes a list's head without a search), and skips otherwise.
template <class Fixture, class Test>
void on_segregated_head(Fixture& t, HeadKind kind, Test test) {
  using Heap = std::remove_reference_t<decltype(t.heap())>;
  if constexpr (!is_segregated<typename Heap::Fit>) {
    GTEST_SKIP() << "only SegregatedFit takes a list's head without a search";
  } else {
    constexpr std::size_t kGoodBlock = 1536, kExactBlock = 96;
    static_assert(kGoodBlock >= 2 * Heap::Fit::kSmallLimit, "the good head's list must be above the exact lists");
    static_assert(Heap::Fit::kSmallStep == Heap::kGranule && kExactBlock < 2 * Heap::Fit::kSmallLimit &&
                      kExactBlock % Heap::kGranule == 0,
                  "the exact head's list must be an exact list");
    test(kind == HeadKind::kGood ? kGoodBlock : kExactBlock);
  }
}

// The forgery on a block above the exact lists, taken by good_head().
TYPED_TEST(SafeUnlink, UseAfterFreeCannotForgeTheBackLinkOfAGoodHead) {
  on_segregated_head(*this, HeadKind::kGood,
                     [this](std::size_t block) { expect_forged_back_link_of_a_head_caught(*this, block); });
}

// The same forgery on a block of an exact list, taken by a request below the exact lists' limit: by exact() up to
// BasicChecks, and where that path is off (HardenedChecks and up; every level under ASan or Valgrind) by
// good_head<true>, both checked as a head. Before good_head<true> such a request went to find there, and the check of
// any block's links accepted the forged `prev` (fake->next == b) and unlinked b with a write through it.
TYPED_TEST(SafeUnlink, UseAfterFreeCannotForgeTheBackLinkOfAnExactHead) {
  on_segregated_head(*this, HeadKind::kExact,
                     [this](std::size_t block) { expect_forged_back_link_of_a_head_caught(*this, block); });
}

// A use-after-free write that enlarges the size in a free list head's header: a request for the head's true size
// takes the head through SegregatedFit's fast paths, and one that splits by the header's size (carve, for good_head's
// block) would carve into live block c. The good-head check compares that size's list with the list the head was
// taken from, and the request faults before anything changes. The exact path (up to BasicChecks, outside ASan and
// Valgrind) hands out exactly the request's size, and checks that the header says so (expect_exact_header): it faults
// too (before that check it rewrote the header, without a fault).
// `with_footer`: the forger also writes the footer the forged size asks for (inside c), so that the free block's tags
// agree (expect_free_tags_intact passes) and only the head checks' comparison of the size with the head's list, or the
// exact path's of the size with the request's, stands between the request and c.
template <class Fixture>
void expect_forged_size_of_a_head_caught(Fixture& t, std::size_t block, bool with_footer = false) {
  using Heap = std::remove_reference_t<decltype(t.heap())>;
  using Word = typename Heap::Tags::word_type;
  constexpr std::size_t kGrowth = 256;  // past the head's list: a list step is at most 64 bytes at these sizes
  std::byte* const a = static_cast<std::byte*>(t.alloc(64));
  std::byte* const b = static_cast<std::byte*>(t.alloc(block - Heap::kUsedOverhead));
  std::byte* const c = static_cast<std::byte*>(t.alloc(kGrowth + 200));
  std::memset(c, 0x5A, kGrowth + 200);
  t.free(b);
  std::byte* const header = b - Heap::Tags::kHeaderSize;
  expose(header, Heap::Tags::kHeaderSize);  // b's header, which the heap hides from ASan and Valgrind
  const Word word = internal::load_word<Word>(header);
  if (with_footer) {
    Heap::Tags::make_free(header, block + kGrowth);  // the header, and its footer inside c
  } else {
    internal::store_word<Word>(header, static_cast<Word>(word + kGrowth));
  }
  std::vector<std::byte> forged(c, c + kGrowth + 200);  // c as the forger left it
  EXPECT_FAULT((void)t.heap().allocate(block - Heap::kUsedOverhead), AllocError::kCorrupted, b);
  EXPECT_EQ(t.heap().stats().live_allocations, 2u);
  EXPECT_TRUE(std::equal(forged.begin(), forged.end(), c)) << "live block c was written by the heap";
  internal::store_word<Word>(header, word);
  std::memset(c, 0x5A, kGrowth + 200);  // c's owner repairs the forged footer
  ASSERT_TRUE(valid(t.heap()));
  EXPECT_EQ(t.heap().allocate(block - Heap::kUsedOverhead).value_or(nullptr), b);
  ASSERT_TRUE(valid(t.heap()));
  for (std::size_t i = 0; i < kGrowth + 200; ++i) ASSERT_EQ(c[i], std::byte{0x5A}) << "live block c was written";
  t.free(b);
  t.free(a);
  t.free(c);
}

// The forged size on a head above the exact lists, which good_head's path splits by its header at every level.
TYPED_TEST(SafeUnlink, UseAfterFreeCannotForgeTheSizeOfAGoodHead) {
  on_segregated_head(*this, HeadKind::kGood,
                     [this](std::size_t block) { expect_forged_size_of_a_head_caught(*this, block); });
}

// The forged size on an exact list's head: taken whole by the exact path up to BasicChecks, whose header check reports
// it (before that check the path rewrote the header: no fault), through good_head<true> and carve where that path is
// off (found by a review: under HardenedChecks allocate(84) took a 96-byte head forged to 320 bytes, and the next
// allocation returned a live block's address).
TYPED_TEST(SafeUnlink, UseAfterFreeCannotForgeTheSizeOfAnExactHead) {
  on_segregated_head(*this, HeadKind::kExact,
                     [this](std::size_t block) { expect_forged_size_of_a_head_caught(*this, block); });
}

// The forged size with its matching footer: the free block's tags agree, and what catches it is the size's list
// differing from the one the head was taken from (good_head_intact), or the size differing from the request's on the
// exact path (expect_exact_header). Without the list comparison carve split b by the forged size, into live block c.
// (A size forged within the head's list passes by design: AForgedSizeWithAMatchingFooterPassesAndValidateFindsIt.)
TYPED_TEST(SafeUnlink, UseAfterFreeCannotForgeTheSizeAndFooterOfAGoodHead) {
  on_segregated_head(*this, HeadKind::kGood,
                     [this](std::size_t block) { expect_forged_size_of_a_head_caught(*this, block, true); });
}

TYPED_TEST(SafeUnlink, UseAfterFreeCannotForgeTheSizeAndFooterOfAnExactHead) {
  on_segregated_head(*this, HeadKind::kExact,
                     [this](std::size_t block) { expect_forged_size_of_a_head_caught(*this, block, true); });
}

// The setup of the two tests below: a (64 bytes), b (a block of `block` bytes) and c (200 bytes of 0x5A) allocated in
// that order, then the rest of the heap taken in 64-byte and minimum blocks (`filled`), and b freed, so that b is the
// heap's only free block, between used a and c. validate() after each operation (fatal: the caller returns on
// HasFatalFailure()).
struct OnlyFreeB {
  std::byte* a = nullptr;
  std::byte* b = nullptr;
  std::byte* c = nullptr;
  std::vector<void*> filled;
};

template <class Test>
void free_b_alone(Test& test, std::size_t block, OnlyFreeB& out) {
  using Heap = std::remove_reference_t<decltype(test.heap())>;
  out.a = static_cast<std::byte*>(test.alloc(64));
  out.b = static_cast<std::byte*>(test.alloc(block - Heap::kUsedOverhead));
  out.c = static_cast<std::byte*>(test.alloc(200));
  std::memset(out.c, 0x5A, 200);
  for (std::size_t size : {std::size_t{64}, std::size_t{0}}) {
    for (Result<void*> p = test.heap().allocate(size); p.has_value(); p = test.heap().allocate(size)) {
      ASSERT_TRUE(valid(test.heap()));
      out.filled.push_back(*p);
    }
  }
  ASSERT_GT(out.filled.size(), 0u);
  ASSERT_EQ(test.heap().stats().free_blocks, 0u);
  test.free(out.b);
}

// An overflow of live block a into the header of free block b, enlarging b's size by 16 bytes (into live block c),
// when b is the only free block: every fit finds b (SegregatedFit by its last-resort probe of the request's own list,
// which b's forged size still names: a size forged within its list's step passes good_head_intact and links_intact
// alike), and a request for the forged size must fault before carve splits by it. Before carve checked a free block's
// tags (expect_free_tags_intact), b was handed out over c's header at BasicChecks and HardenedChecks (free blocks carry
// no check word), on every fit and tag layout; DebugChecks found c's header among b's poison.
TYPED_TEST(SafeUnlink, AnOverflowIntoAFreeHeaderCannotSteerAnAllocation) {
  using Heap = std::remove_reference_t<decltype(this->heap())>;
  using Word = typename Heap::Tags::word_type;
  constexpr std::size_t kBlock = 1056, kGrowth = 16;  // 1056 and 1072 share a list on 32- and 64-bit targets
  OnlyFreeB blocks;
  free_b_alone(*this, kBlock, blocks);
  if (this->HasFatalFailure()) return;
  const auto& [a, b, c, filled] = blocks;
  std::byte* const header = b - Heap::Tags::kHeaderSize;
  expose(header, Heap::Tags::kHeaderSize);  // b's header, which the heap hides from ASan and Valgrind
  const Word word = internal::load_word<Word>(header);
  ASSERT_EQ(Heap::Tags::size(header), kBlock);
  internal::store_word<Word>(header, static_cast<Word>(word + kGrowth));
  EXPECT_FAULT((void)this->heap().allocate(kBlock + kGrowth - Heap::kUsedOverhead), AllocError::kCorrupted, b);
  EXPECT_EQ(this->heap().stats().live_allocations, 3u + filled.size() - 1);
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
  for (std::size_t i = 0; i < 200; ++i) ASSERT_EQ(c[i], std::byte{0x5A}) << "live block c was written";
  internal::store_word<Word>(header, word);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().allocate(kBlock - Heap::kUsedOverhead).value_or(nullptr), b);
  ASSERT_TRUE(valid(this->heap()));
  this->free(a);
  for (void* p : filled) this->free(p);
  this->free(b);
  this->free(c);
}

// README (Policies, safe unlinking): the limit of that tag check. A forger who enlarges the free header of b over live
// block c and also writes the matching footer inside c passes it (the tags agree), so allocation hands out b with the
// forged size, over c's header; validate() finds that (its walk from b lands inside c). The heap stays corrupted:
// its live blocks go with its buffer.
TYPED_TEST(SafeUnlink, AForgedSizeWithAMatchingFooterPassesAndValidateFindsIt) {
  using Heap = std::remove_reference_t<decltype(this->heap())>;
  constexpr std::size_t kBlock = 1056, kGrowth = 16;  // as above: one list on 32- and 64-bit targets
  OnlyFreeB blocks;
  free_b_alone(*this, kBlock, blocks);
  if (this->HasFatalFailure()) return;
  const auto& [a, b, c, filled] = blocks;
  std::byte* const header = b - Heap::Tags::kHeaderSize;
  expose(header, Heap::Tags::kHeaderSize);
  ASSERT_EQ(Heap::Tags::size(header), kBlock);
  Heap::Tags::make_free(header, kBlock + kGrowth);  // the header, and its footer inside c
  Result<void*> p = this->heap().allocate(kBlock + kGrowth - Heap::kUsedOverhead);  // a fault ends the test
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, b);
  EXPECT_TRUE(reports_corruption(this->heap()));
  internal::valgrind_freelike(a);
  internal::valgrind_freelike(b);
  internal::valgrind_freelike(c);
  for (void* f : filled) internal::valgrind_freelike(f);
}

// A live doubly linked list node Y of the exact list's size whose `prev` field (the word where a free block keeps its
// `prev` link) points at node b, freed, and one write after free through b of its `next` (its owner "repairing" the
// list): safe unlinking accepts Y as b's successor (Y->prev == b), so taking b made live Y the exact list's head, and
// the exact path, which read no tag of the block it took whole, handed Y out again (and then every node Y's `next`
// named). It must fault at Y, the head whose header reads used; where the exact path is off (HardenedChecks) carve's
// tag check does.
TYPED_TEST(SafeUnlink, UseAfterFreeCannotMakeALiveBlockAnExactHead) {
  on_segregated_head(*this, HeadKind::kExact, [this](std::size_t block) {
    using Heap = std::remove_reference_t<decltype(this->heap())>;
    const std::size_t request = block - Heap::kUsedOverhead;
    std::byte* const b = static_cast<std::byte*>(this->alloc(request));
    void* const guard = this->alloc(64);
    std::byte* const y = static_cast<std::byte*>(this->alloc(request));
    void* const guard2 = this->alloc(64);
    write_ptr(y, nullptr);            // Y's own data: next = nullptr,
    write_ptr(y + sizeof(void*), b);  // prev = b
    this->free(b);
    write_ptr(b, y);  // the write after free: b->next = Y
    ASSERT_EQ(this->heap().allocate(request).value_or(nullptr), b);
    EXPECT_FAULT((void)this->heap().allocate(request), AllocError::kCorrupted, y);
    EXPECT_EQ(this->heap().stats().live_allocations, 4u);  // b again, Y, the guards: Y was not handed out twice
    // Undo the write after free: b, freed again, heads its list with live Y after it; its `next` as it was before the
    // write (the list held b alone) leaves Y out of the index. Then every block is freed (memcheck reports blocks left
    // live as leaks).
    this->heap().deallocate(b);
    write_ptr(b, nullptr);
    ASSERT_TRUE(valid(this->heap()));
    for (void* p : {guard, static_cast<void*>(y), guard2}) this->free(p);
  });
}

/// A heap of 16 KiB for the stale-links tests, whose blocks of 1,536 bytes (a good head) need more than 4 KiB.
template <class Heap>
using BigHeap = OwnedHeap<Heap, 16384>;

/// Allocates `size` bytes from `heap`, validating.
template <class Heap>
std::byte* take(Heap& heap, std::size_t size) {
  Result<void*> p = heap.allocate(size);
  EXPECT_TRUE(p.has_value());
  EXPECT_TRUE(valid(heap));
  return p ? static_cast<std::byte*>(*p) : nullptr;
}
/// Frees `p` to `heap`, validating.
template <class Heap>
void give(Heap& heap, void* p) {
  heap.deallocate(p);
  EXPECT_TRUE(valid(heap));
}

/// The stale-links tests' set-up, as Attack is the unlink tests': a BigHeap of their own and on it block b of `block`
/// bytes (`request` asked for it), which the test frees to head its list, then a live guard of 64 bytes, so that b
/// never merges with the blocks the test takes after it.
template <class Heap>
struct StaleLinks {
  std::unique_ptr<BigHeap<Heap>> owner = std::make_unique<BigHeap<Heap>>();
  Heap& heap = owner->heap;
  const std::size_t block, request;
  std::byte* const b;
  void* const guard;
  explicit StaleLinks(std::size_t block_size)
      : block(block_size), request(block_size - Heap::kUsedOverhead), b(take(heap, request)), guard(take(heap, 64)) {}
};

/// The end of the stale-links tests: b, on the list of blocks of `block` bytes, has its `next` pointed by a write after
/// free at `stale`, a block the heap removed from its index without rewriting its links (or a header a free left
/// behind). Safe unlinking must refuse b itself (`stale->prev` no longer names b); before, it accepted b, made `stale`
/// its list's head, and the next request for `block` bytes took `stale`: a block inside a free block or a live one.
/// The link is then repaired and the heap serves b and its other blocks as usual.
template <class Heap>
void expect_stale_links_refused(StaleLinks<Heap>& s, std::byte* stale) {
  const void* const b_next = read_ptr(s.b);
  write_ptr(s.b, stale);
  EXPECT_FAULT((void)s.heap.allocate(s.request), AllocError::kCorrupted, s.b);
  write_ptr(s.b, b_next);
  ASSERT_TRUE(valid(s.heap));
  EXPECT_EQ(take(s.heap, s.request), s.b);
  ASSERT_TRUE(valid(s.heap));
  std::byte* const next = take(s.heap, s.request);
  ASSERT_NE(next, nullptr);
  EXPECT_NE(next, stale) << "the stale block was handed out";
  ASSERT_TRUE(valid(s.heap));
  give(s.heap, next);
  give(s.heap, s.b);
}

// A free leaves a header reading free behind when its block merges into a free predecessor (so that a second free is
// kDoubleFree), and, when the block also merges into a free successor, a footer that agrees with it: the freed
// payload's first words, its owner's data, sat where such a free block keeps its links. Y, a doubly linked list node
// whose `prev` named node b, freed after b, was linked back into the index by one write after free of b's `next`, and
// allocation took Y inside the merged free block at every fit's checks and at HardenedChecks too. Y's links are cleared
// as it merges now.
TYPED_TEST(SafeUnlink, AFreeLeavesNoLinksBehindAMergedHeader) {
  if constexpr (internal::kAsan) {
    // Not under Valgrind: the heap quiets memcheck over its regions for each operation, and the test passes there.
    GTEST_SKIP() << "under ASan Y's links are poisoned free bytes: ASan reports safe unlinking's read of them";
  }
  for (HeadKind kind : {HeadKind::kExact, HeadKind::kGood}) {
    on_segregated_head(*this, kind, [](std::size_t block) {
      StaleLinks<TypeParam> s(block);
      std::byte* const a = take(s.heap, s.request);
      std::byte* const y = take(s.heap, s.request);
      std::byte* const c = take(s.heap, s.request);
      void* const guard2 = take(s.heap, 64);
      write_ptr(y, nullptr);              // Y's own data: next = nullptr,
      write_ptr(y + sizeof(void*), s.b);  // prev = b
      give(s.heap, a);
      give(s.heap, c);
      give(s.heap, s.b);
      give(s.heap, y);  // merges with a and c
      expect_stale_links_refused(s, y);
      give(s.heap, s.guard);
      give(s.heap, guard2);
    });
  }
}

// Reallocate grows block r in place over its free successor y whole: y's header, its links (its `prev` naming b, its
// list predecessor) and, with CompactTags, its footer stayed inside live r, so one write after free of b's `next`
// linked y back and allocation handed out y inside r (SegregatedFit's exact and good-head paths; the check word's
// overwrite of the footer stopped the good head at HardenedChecks). y's links are cleared as it leaves the index now.
TYPED_TEST(SafeUnlink, AReallocateLeavesNoLinksInTheBlockItGrowsOver) {
  for (HeadKind kind : {HeadKind::kExact, HeadKind::kGood}) {
    on_segregated_head(*this, kind, [](std::size_t block) {
      StaleLinks<TypeParam> s(block);
      std::byte* const r = take(s.heap, 200);
      std::byte* const y = take(s.heap, s.request);
      void* const guard2 = take(s.heap, 64);
      give(s.heap, y);
      give(s.heap, s.b);  // b's list: b, then y
      // r's header, which the heap hides from ASan and Valgrind: the test's read is no report.
      expose(r - TypeParam::Tags::kHeaderSize, TypeParam::Tags::kHeaderSize);
      const std::size_t r_block = TypeParam::Tags::size(r - TypeParam::Tags::kHeaderSize);
      ASSERT_EQ(s.heap.reallocate(r, r_block + s.request).value_or(nullptr), r);
      ASSERT_TRUE(valid(s.heap));
      // y's `prev` link, now inside r, which Valgrind marks undefined as r grows: safe unlinking reads it below (it is
      // the nullptr the heap wrote as y left the index), and memcheck would report the read.
      expose(y + sizeof(void*), sizeof(void*));
      expect_stale_links_refused(s, y);
      give(s.heap, s.guard);
      give(s.heap, r);
      give(s.heap, guard2);
    });
  }
}

// A free merges free block y, its successor, into the block it frees: y's header and links (its `prev` naming b) stayed
// inside the merged free block, and one write after free of b's `next` linked y back; the exact path, reading no tag,
// handed y out inside the free block. y's links are cleared as it leaves the index now.
TYPED_TEST(SafeUnlink, AMergeLeavesNoLinksInTheBlockItAbsorbs) {
  if constexpr (internal::kAsan) {
    // Not under Valgrind: the heap quiets memcheck over its regions for each operation, and the test passes there.
    GTEST_SKIP() << "under ASan y's links are poisoned free bytes: ASan reports safe unlinking's read of them";
  }
  for (HeadKind kind : {HeadKind::kExact, HeadKind::kGood}) {
    on_segregated_head(*this, kind, [](std::size_t block) {
      StaleLinks<TypeParam> s(block);
      std::byte* const w = take(s.heap, 200);
      std::byte* const y = take(s.heap, s.request);
      void* const guard2 = take(s.heap, 64);
      give(s.heap, y);
      give(s.heap, s.b);  // b's list: b, then y
      give(s.heap, w);    // merges y
      expect_stale_links_refused(s, y);
      give(s.heap, s.guard);
      give(s.heap, guard2);
    });
  }
}

// Merging backwards (freeing the block after a free one) and growing in place (reallocate into a free successor)
// unlink too.
TYPED_TEST(SafeUnlink, UseAfterFreeCannotSteerABackwardMergeOrAReallocate) {
  Attack at(*this);
  write_ptr(at.b, at.fake);
  EXPECT_FAULT((void)this->heap().reallocate(at.a, 100), AllocError::kCorrupted, at.b);
  EXPECT_FAULT(this->heap().deallocate(at.c), AllocError::kCorrupted, at.b);
  write_ptr(at.b, at.b_next);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().live_allocations, 3u);
  // The `prev` link forged instead.
  write_ptr(at.b + sizeof(void*), at.fake);
  EXPECT_FAULT(this->heap().deallocate(at.a), AllocError::kCorrupted, at.b);
  write_ptr(at.b + sizeof(void*), nullptr);
  ASSERT_TRUE(valid(this->heap()));
  Result<void*> grown = this->heap().reallocate(at.a, 100);
  ASSERT_TRUE(grown.has_value());
  ASSERT_TRUE(valid(this->heap()));
  this->free(*grown);
  this->free(at.c);
  this->free(at.d);
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
}

// SegregatedFit walks its last list when that list is unbounded (kLastListUnbounded: here a LargestBlock of 2 x
// SmallLimit over a 1 MiB region) and no list head serves a request, following `next` links past the head. A link that
// a write after free forged is reported as kCorrupted at the block holding it before anything is read through it: a
// pointer out of the heap (the walk had read its header and crashed) and one into the heap that does not point back.
// The heap is left as it was, and serves the request once the link is repaired.
// One forged `next` of x: allocate(4096) reaches it in the walk and faults at x; the link is then repaired. A function
// of its own, not a loop body: setjmp (EXPECT_FAULT) in a range-for made GCC warn that its iterator may be clobbered.
template <class Heap>
void expect_forged_next_refused(Heap& heap, std::byte* x, const void* forged, const void* x_next) {
  write_ptr(x, forged);
  EXPECT_FAULT((void)heap.allocate(4096), AllocError::kCorrupted, x);
  write_ptr(x, x_next);  // (stats() walks the lists too: read it once the link is repaired)
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().live_allocations, 1u);
}

/// A heap whose unbounded last list (SegregatedFit<2 x SmallLimit> over a 1 MiB region) is headed by a free block x
/// of 1,200 bytes (above the largest size the index tells apart), which a used guard keeps apart from the free tail:
/// a request no list head serves, allocate(4096), walks from x to the tail. The forged-link and cycle cases share it.
template <class Check>
struct LastListHeap {
  using Fit = SegregatedFit<2 * SegregatedFit<>::kSmallLimit>;
  using Heap = BasicHeap<Fit, RegionSource, Check>;
  static_assert(Fit::SizedIndex<typename Heap::Tags, 0>::kLastListUnbounded);

  std::vector<std::byte> memory = std::vector<std::byte>(std::size_t{1} << 20);
  std::unique_ptr<Heap> heap = std::make_unique<Heap>(std::span<std::byte>(memory));
  std::byte* x = nullptr;
  std::byte* guard = nullptr;
  const void* x_next_was = nullptr;  ///< x's links before forge_self_cycle
  const void* x_prev_was = nullptr;

  /// Allocates x and the guard and frees x, validate() after each (fatal on failure: the caller returns on
  /// HasFatalFailure()).
  void set_up() {
    x = static_cast<std::byte*>(heap->allocate(1200).value_or(nullptr));  // above the largest: last list
    ASSERT_NE(x, nullptr);
    ASSERT_TRUE(valid(*heap));
    guard = static_cast<std::byte*>(heap->allocate(64).value_or(nullptr));  // keeps x apart from the tail
    ASSERT_NE(guard, nullptr);
    ASSERT_TRUE(valid(*heap));
    heap->deallocate(x);  // x heads the last list, the free tail behind it
    ASSERT_TRUE(valid(*heap));
    ASSERT_EQ(heap->stats().free_blocks, 2u);
  }

  /// Forges a cycle on the last list with two words that pass the walk's link check: x's `next` and `prev` both x.
  void forge_self_cycle() {
    x_next_was = read_ptr(x);
    x_prev_was = read_ptr(x + offsetof(internal::FreeNode, prev));
    write_ptr(x, x);
    write_ptr(x + offsetof(internal::FreeNode, prev), x);
  }

  /// Puts back the two words forge_self_cycle wrote.
  void repair() {
    write_ptr(x, x_next_was);
    write_ptr(x + offsetof(internal::FreeNode, prev), x_prev_was);
  }

  /// Once the links are as they were: the walk passes x and serves allocate(4096) from the tail, and with it and the
  /// guard freed the heap is one free block again.
  void expect_the_walk_serves_the_request() {
    Result<void*> p = heap->allocate(4096);
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(valid(*heap));
    heap->deallocate(*p);
    ASSERT_TRUE(valid(*heap));
    heap->deallocate(guard);
    ASSERT_TRUE(valid(*heap));
    EXPECT_EQ(heap->stats().free_blocks, 1u);
  }
};

template <class Check>
void expect_forged_link_on_the_last_list_caught() {
  LastListHeap<Check> h;
  h.set_up();
  if (::testing::Test::HasFatalFailure()) return;
  std::memset(h.guard, 0, 64);  // the guard's words point nowhere back, so a link into it is refused
  const void* const x_next = read_ptr(h.x);
  expect_forged_next_refused(*h.heap, h.x, reinterpret_cast<const void*>(std::uintptr_t{0xdead0000}), x_next);
  expect_forged_next_refused(*h.heap, h.x, h.guard, x_next);
  h.expect_the_walk_serves_the_request();
}

TEST(SafeUnlinkWalk, AForgedLinkOnAnUnboundedLastListIsReportedBeforeItIsFollowed) {
  expect_forged_link_on_the_last_list_caught<Recording>();
  expect_forged_link_on_the_last_list_caught<HardenedRecording>();
}

// A cycle on that last list, forged with two words that pass the walk's check: x's `next` and `prev` both x. The walk,
// which stops after count() blocks, had ended there with nullptr, and allocate(4096) failed with kOutOfMemory while the
// tail behind x would serve it; from HardenedChecks up the walker's budget refuses the count()-th link (count() is 2:
// x and the tail), x's second, as kCorrupted at x. The heap is left as it was, and serves the request once repaired.
TEST(SafeUnlinkWalk, ACycleOnAnUnboundedLastListIsReported) {
  LastListHeap<HardenedRecording> h;
  h.set_up();
  if (HasFatalFailure()) return;
  auto& heap = *h.heap;
  h.forge_self_cycle();
  expect_allocate_faults_in_time(heap, 4096, h.x);
  EXPECT_TRUE(reports_corruption(heap));
  h.repair();
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().failed_allocations, 0u);
  h.expect_the_walk_serves_the_request();
}

// ---- Safe walks: a link is checked before a walk reads through it ----------------------------------------------

// From BasicChecks up, the list fits' searches and stats()'s walk of the free index check each `next` link before they
// read the block it names (may_follow): a link out of the heap, or into it at a word that does not point back, is
// kCorrupted at the block holding it, and nothing changes. Before, one write after free of a junk pointer into a free
// block's `next` made allocate (FirstFit, NextFit, BestFit) and stats() (every fit) die of SIGSEGV, where validate()
// reported it; a link into the heap steered them instead.
template <class Heap>
class SafeWalk : public ::testing::Test {};
TYPED_TEST_SUITE(SafeWalk, CheckedHeaps, Names);

/// Where a forged link points: out of the heap (unmapped: a read through it crashes), or into it, at a forged free
/// header in a live block whose `prev` word (null) does not point back.
enum class Forged { kOutOfTheHeap, kIntoTheHeap };

/// The walk tests' heap, 4 KiB of its own (fresh for each forged link): free blocks h, the head of its list, and x
/// behind it, 64 bytes each, kept apart by a live guard; live block g, 200 zeroed bytes with a forged free header of
/// 512 bytes at g + 64 (`fake`, a block a search would take); then the heap's free tail. A list fit's list is h, x,
/// the tail (next fit's rover on the head); SegregatedFit's exact list of 64-byte blocks is h, x.
template <class Heap>
struct Walk {
  std::unique_ptr<OwnedHeap<Heap>> owner = std::make_unique<OwnedHeap<Heap>>();
  Heap& heap = owner->heap;
  std::byte* const x = take(heap, 64);
  std::byte* const guard = take(heap, 64);
  std::byte* const h = take(heap, 64);
  std::byte* const g = take(heap, 200);
  std::byte* const fake = g + 64;
  const void* x_next = nullptr;
  const void* h_next = nullptr;
  HeapStats before;
  Walk() {
    std::memset(g, 0, 200);
    internal::store_word<typename Heap::Tags::word_type>(fake - Heap::Tags::kHeaderSize, 512);
    give(heap, x);
    give(heap, h);
    x_next = read_ptr(x);
    h_next = read_ptr(h);
    before = heap.stats();
  }
  /// The value a forged link holds.
  const void* forged(Forged where) const { return where == Forged::kOutOfTheHeap ? junk(0xdead0000) : fake; }
  /// Once the forged links are repaired: the heap validates, its stats are `before`'s, and allocate(300), which h and x
  /// are too small for, takes the tail (x's real successor) as in an untouched heap; then finish().
  void expect_as_before_and_serving() {
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(same_stats(heap.stats(), before));
    std::byte* const p = take(heap, 300);
    EXPECT_EQ(p, x_next);
    give(heap, p);
    finish();
  }
  /// Frees the live blocks (memcheck reports blocks left live as leaks).
  void finish() {
    give(heap, guard);
    give(heap, g);
    EXPECT_EQ(heap.stats().free_blocks, 1u);
  }
};

// A forged `next` of x, behind the list's head: allocate(300), which h and x are too small for, faults at x before it
// reads the forged target, and, once the link is repaired, the heap is as it was and serves the request from the tail
// (x's real successor), as an untouched heap does. (One call per forged link: EXPECT_FAULT in a loop makes GCC 12 for
// Cortex-M warn that the loop's variables may be clobbered.)
template <class Heap>
void expect_search_refuses_forged_link(Forged where) {
  Walk<Heap> w;
  write_ptr(w.x, w.forged(where));
  EXPECT_FAULT((void)w.heap.allocate(300), AllocError::kCorrupted, w.x);
  EXPECT_TRUE(reports_corruption(w.heap, w.x));
  write_ptr(w.x, w.x_next);
  w.expect_as_before_and_serving();
}

TYPED_TEST(SafeWalk, AForgedLinkIsReportedBeforeASearchFollowsIt) {
  if constexpr (is_segregated<typename TypeParam::Fit>) {
    GTEST_SKIP() << "a segregated index takes list heads here (SafeUnlinkWalk: its walk of an unbounded last list)";
  }
  expect_search_refuses_forged_link<TypeParam>(Forged::kOutOfTheHeap);
  expect_search_refuses_forged_link<TypeParam>(Forged::kIntoTheHeap);
}

// The same forged `next` of x, reached by stats()'s walk of the free index (every fit): a snapshot has no error to
// return, so the handler hears it, at x, before the forged target is read; once repaired, the heap is as it was.
template <class Heap>
void expect_stats_refuses_forged_link(Forged where) {
  Walk<Heap> w;
  write_ptr(w.x, w.forged(where));
  EXPECT_FAULT((void)w.heap.stats(), AllocError::kCorrupted, w.x);
  EXPECT_TRUE(reports_corruption(w.heap, w.x));
  write_ptr(w.x, w.x_next);
  ASSERT_TRUE(valid(w.heap));
  EXPECT_TRUE(same_stats(w.heap.stats(), w.before));
  w.finish();
}

TYPED_TEST(SafeWalk, AForgedLinkIsReportedBeforeStatsFollowsIt) {
  expect_stats_refuses_forged_link<TypeParam>(Forged::kOutOfTheHeap);
  expect_stats_refuses_forged_link<TypeParam>(Forged::kIntoTheHeap);
}

// Next fit's rover, the link its next search starts from without a check: the block allocate(64) finds, h, has a
// forged `next`. Safe unlinking refuses h, and the rover must not have taken the forged link as the search found h:
// once the link is repaired, the heap hands out h, as an untouched heap does. The rover used to take it, so that the
// next search started from the forged target (out of the heap: SIGSEGV).
template <class Heap>
void expect_rover_refuses_forged_link(Forged where) {
  Walk<Heap> w;
  write_ptr(w.h, w.forged(where));
  EXPECT_FAULT((void)w.heap.allocate(64), AllocError::kCorrupted, w.h);
  write_ptr(w.h, w.h_next);
  ASSERT_TRUE(valid(w.heap));
  EXPECT_TRUE(same_stats(w.heap.stats(), w.before));
  std::byte* const p = take(w.heap, 64);
  EXPECT_EQ(p, w.h);
  give(w.heap, p);
  w.finish();
}

TEST(SafeWalkOfNextFit, TheRoverNeverTakesAForgedLink) {
  using Checked = H<NextFit, CompactTags, Recording>;
  using Hardened = H<NextFit, FullTags, HardenedRecording>;
  expect_rover_refuses_forged_link<Checked>(Forged::kOutOfTheHeap);
  expect_rover_refuses_forged_link<Checked>(Forged::kIntoTheHeap);
  expect_rover_refuses_forged_link<Hardened>(Forged::kOutOfTheHeap);
  expect_rover_refuses_forged_link<Hardened>(Forged::kIntoTheHeap);
}

// ---- Cycles: from HardenedChecks up, a walk follows fewer links than the index holds blocks -----------------------

/// A cycle forged with two words, a `next` and its target's `prev` pointing back, so that every link passes
/// may_follow's test. It closes at the list's head h, since a walk checks the `prev` of every block it enters but its
/// start (a cycle elsewhere breaks the link into it): on h itself (h's `next` and `prev` both h), or back from x (x's
/// `next` h, h's `prev` x).
enum class Cycle { kOnTheHead, kBackToTheHead };

/// A Walk whose list (h, x, the tail; count() 3) carries a forged cycle, and its repair. Before forging it, the Walk
/// takes h and gives it back: the list is as it was, and next fit's rover is on x, so that its search enters a cycle
/// on h at the wrap to the head, and starts on a cycle back from x (x, h, x: one through its own start).
template <class Heap>
struct CycleWalk : Walk<Heap> {
  const Cycle cycle;
  std::byte* const from = cycle == Cycle::kOnTheHead ? this->h : this->x;  // the block whose `next` closes the cycle
  std::byte* const h_prev = this->h + offsetof(internal::FreeNode, prev);
  const void* from_next = nullptr;
  const void* h_prev_was = nullptr;
  explicit CycleWalk(Cycle where) : cycle(where) {
    std::byte* const p = take(this->heap, 64);
    EXPECT_EQ(p, this->h);
    give(this->heap, p);
    this->before = this->heap.stats();
    from_next = read_ptr(from);
    h_prev_was = read_ptr(h_prev);
    write_ptr(from, this->h);
    write_ptr(h_prev, from);
  }
  /// The block holding the count()-th link of a walk, the one its budget refuses. On h itself every link from the
  /// wrap on is h's (next fit's first, before its wrap, is x's). On a cycle back from x, a walk that enters it at h
  /// (the list fits' searches from the head, stats()) follows h's link first, so h's are the odd ones; next fit's
  /// search from x follows x's first, so x's are.
  const void* fault_at(bool from_x = false) const {
    if (cycle == Cycle::kOnTheHead) return this->h;
    return (this->before.free_blocks % 2 == 1) != from_x ? this->h : this->x;
  }
  void repair() const {
    write_ptr(from, from_next);
    write_ptr(h_prev, h_prev_was);
  }
};

// The list fits' searches, which keep no count: a request no free block serves walks the whole list, and the cycle; it
// had walked it without end (here: the deadline fails the run). The walker's budget reports the count()-th link as
// kCorrupted at the block holding it, before anything changes; once repaired, the heap is as it was and serves a
// request from the tail, as an untouched heap does.
template <class Heap>
void expect_search_reports_cycle(Cycle cycle) {
  CycleWalk<Heap> w(cycle);
  const std::size_t too_large = w.before.largest_free_block + 1;  // a byte more than the tail's payload
  expect_allocate_faults_in_time(w.heap, too_large, w.fault_at(std::is_same_v<typename Heap::Fit, NextFit>));
  EXPECT_TRUE(reports_corruption(w.heap));
  w.repair();
  w.expect_as_before_and_serving();
}

TYPED_TEST(SafeWalk, ACycleIsReportedBeforeASearchWalksItWithoutEnd) {
  if constexpr (TypeParam::Check::kLevel < CheckLevel::kHardened) {
    GTEST_SKIP() << "below HardenedChecks a walk keeps no budget (README, BasicChecks' limits)";
  } else if constexpr (is_segregated<typename TypeParam::Fit>) {
    GTEST_SKIP() << "a segregated index takes list heads here (SafeUnlinkWalk: its walk of an unbounded last list)";
  } else {
    expect_search_reports_cycle<TypeParam>(Cycle::kOnTheHead);
    // For next fit, whose search starts at x, a cycle through its own start (x, h, x): the search had ended its lap
    // there, back at x by a link before any wrap, and answered kOutOfMemory with the tail behind the cycle unsearched.
    expect_search_reports_cycle<TypeParam>(Cycle::kBackToTheHead);
  }
}

// stats()'s walk of the free index stops after count() blocks, so a cycle did not hang it, but its snapshot left the
// blocks behind the cycle out: from HardenedChecks up the walker's budget reports the cycle (every fit) as a search's
// does, and a repaired heap reads as it was.
template <class Heap>
void expect_stats_reports_cycle(Cycle cycle) {
  CycleWalk<Heap> w(cycle);
  EXPECT_FAULT((void)w.heap.stats(), AllocError::kCorrupted, w.fault_at());
  w.repair();
  ASSERT_TRUE(valid(w.heap));
  EXPECT_TRUE(same_stats(w.heap.stats(), w.before));
  w.finish();
}

TYPED_TEST(SafeWalk, ACycleIsReportedBeforeStatsLeavesBlocksOut) {
  if constexpr (TypeParam::Check::kLevel < CheckLevel::kHardened) {
    GTEST_SKIP() << "below HardenedChecks a walk keeps no budget (README, BasicChecks' limits)";
  } else {
    expect_stats_reports_cycle<TypeParam>(Cycle::kOnTheHead);
    expect_stats_reports_cycle<TypeParam>(Cycle::kBackToTheHead);
  }
}

// README (Policies, safe walks): a null written over a free block's `next` passes every check (a list's end looks the
// same), so taking that block drops the blocks behind it on its list off the index unseen; validate() then finds the
// index shorter than its count, a free that merges with a dropped block finds that block's `prev` no longer pointing
// back (kCorrupted at the dropped block), and no block is handed out twice. Here h, the head of its list, has x behind
// it (and, on a list fit's single list, the tail). The heap stays corrupted: its live blocks go with its buffer.
template <class Heap>
void expect_null_link_drops_the_blocks_behind_it() {
  Walk<Heap> w;
  write_ptr(w.h, nullptr);
  Result<void*> taken = w.heap.allocate(64);  // an unexpected fault ends the test (RecordingHandler)
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(*taken, w.h);
  std::memset(w.h, 0, 64);  // its owner's data (memcheck: defined bytes where the merge below reads h's old link)
  EXPECT_TRUE(reports_corruption(w.heap));
  EXPECT_FAULT(w.heap.deallocate(w.guard), AllocError::kCorrupted, w.x);
  EXPECT_TRUE(reports_corruption(w.heap));
  Result<void*> again = w.heap.allocate(64);
  if (again.has_value()) {
    const auto* const p = static_cast<const std::byte*>(*again);
    EXPECT_TRUE(p < w.x || p >= w.g + 200) << "handed out from the blocks in use or dropped";
    internal::valgrind_freelike(*again);
  }
  internal::valgrind_freelike(w.h);
  internal::valgrind_freelike(w.guard);
  internal::valgrind_freelike(w.g);
}

TYPED_TEST(SafeWalk, ANullLinkDropsTheBlocksBehindItUntilValidateOrAMergeFindsThem) {
  expect_null_link_drops_the_blocks_behind_it<TypeParam>();
}

// README (Policies, safe walks): at BasicChecks a walk keeps no budget, but validate(), stats() and SegregatedFit's
// last-list walk stop at the index's count, so a cycle forged with two matching words hangs none of them: validate()
// reports it, stats() returns a snapshot without the blocks behind the cycle (a list fit's tail), and the last-list
// walk answers kOutOfMemory. From HardenedChecks up the cycle tests above expect kCorrupted instead.
template <class Heap>
void expect_counted_walks_end_on_a_cycle(Cycle cycle) {
  CycleWalk<Heap> w(cycle);
  const Deadline deadline;
  EXPECT_TRUE(reports_corruption(w.heap));
  const HeapStats snapshot = w.heap.stats();  // an unexpected fault ends the test (RecordingHandler)
  EXPECT_EQ(snapshot.free_blocks, w.before.free_blocks);
  if constexpr (!is_segregated<typename Heap::Fit>) {
    EXPECT_LT(snapshot.largest_free_block, w.before.largest_free_block) << "the tail behind the cycle";
  }
  w.repair();
  ASSERT_TRUE(valid(w.heap));
  EXPECT_TRUE(same_stats(w.heap.stats(), w.before));
  w.finish();
}

TYPED_TEST(SafeWalk, AtBasicChecksACycleEndsValidateAndStatsAtTheIndexCount) {
  if constexpr (TypeParam::Check::kLevel >= CheckLevel::kHardened) {
    GTEST_SKIP() << "from HardenedChecks up the walk's budget reports the cycle (ACycleIsReported...)";
  } else {
    expect_counted_walks_end_on_a_cycle<TypeParam>(Cycle::kOnTheHead);
    expect_counted_walks_end_on_a_cycle<TypeParam>(Cycle::kBackToTheHead);
  }
}

TEST(SafeUnlinkWalk, AtBasicChecksACycleOnAnUnboundedLastListEndsTheWalkAtTheIndexCount) {
  LastListHeap<Recording> h;
  h.set_up();
  if (HasFatalFailure()) return;
  auto& heap = *h.heap;
  h.forge_self_cycle();
  {
    const Deadline deadline;
    Result<void*> p = heap.allocate(4096);  // an unexpected fault ends the test (RecordingHandler)
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error(), AllocError::kOutOfMemory);
  }
  EXPECT_TRUE(reports_corruption(heap));
  h.repair();
  ASSERT_TRUE(valid(heap));
  h.expect_the_walk_serves_the_request();
}

}  // namespace
}  // namespace nostd::testing
