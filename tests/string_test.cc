// Tests for containers/string.h: termination, one growth per appended piece, every growth path under fault
// injection (strong guarantee), pieces that view the string itself, the non-growing operations, comparison and
// hashing like std::string_view, heap exhaustion and recovery. Runs on BasicHeap compositions.
#include "containers/string.h"

#include <gtest/gtest.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "alloc/alloc.h"
#include "tests/container_fixture.h"
#include "tests/fault_allocator.h"

namespace nostd {
namespace {

using std::string_view;

/// The expected bytes of a string (fixed storage: the suites also run where no std::string is wanted).
class Text {
 public:
  void insert(std::size_t pos, string_view piece) {
    std::array<char, kMax> copy{};  // the piece may be a part of this text
    std::memcpy(copy.data(), piece.data(), piece.size());
    std::memmove(bytes_.data() + pos + piece.size(), bytes_.data() + pos, size_ - pos);
    std::memcpy(bytes_.data() + pos, copy.data(), piece.size());
    size_ += piece.size();
  }
  void append(string_view piece) { insert(size_, piece); }
  void resize(std::size_t size, char fill) {
    for (std::size_t i = size_; i < size; ++i) bytes_[i] = fill;
    size_ = size;
  }
  string_view view() const { return {bytes_.data(), size_}; }

 private:
  static constexpr std::size_t kMax = 4096;
  std::array<char, kMax> bytes_{};
  std::size_t size_ = 0;
};

template <class Config>
class StringTest : public test::ContainerTest<Config> {
 protected:
  using Str = String<typename test::ContainerTest<Config>::Alloc>;

  /// Size, capacity, buffer and bytes (terminator included): what a failed operation must leave as it was.
  struct Snapshot {
    std::size_t size = 0;
    std::size_t capacity = 0;
    const char* data = nullptr;
    std::array<char, 512> bytes{};
    bool operator==(const Snapshot&) const = default;
  };

  static Snapshot snapshot(const Str& s) {
    Snapshot snap{s.size(), s.capacity(), s.c_str(), {}};
    std::memcpy(snap.bytes.data(), s.c_str(), std::min(s.size() + 1, snap.bytes.size()));
    return snap;
  }

  Str make() { return Str(this->alloc()); }

  /// Appends letters until `s` has at least `at_least` bytes and no spare capacity (the next growth allocates).
  void fill_to_capacity(Str& s, Text& text, std::size_t at_least) {
    while (s.size() < at_least || s.size() != s.capacity()) {
      const char c = static_cast<char>('a' + s.size() % 26);
      ASSERT_TRUE(s.push_back(c));
      text.append({&c, 1});
    }
    ASSERT_TRUE(this->heap_ok());
  }

  static void expect_matches(const Str& s, const Text& text) {
    EXPECT_EQ(s.view(), text.view());
    EXPECT_EQ(s.c_str()[s.size()], '\0');
    EXPECT_EQ(std::strlen(s.c_str()), s.size());
  }
};

using FirstFitCompact = test::HeapConfig<test::FirstFitCompactHeap, test::kAllCapabilities>;
using BestFitFull = test::HeapConfig<test::BestFitFullHeap, test::kAllCapabilities>;
using FirstFitCompactPlain = test::HeapConfig<test::FirstFitCompactHeap, test::kNoCapabilities>;
using SegregatedCache = test::HeapConfig<test::SegregatedCacheHeap, test::kAllCapabilities>;
using FirstFitDebug = test::HeapConfig<test::FirstFitDebugHeap, test::kAllCapabilities>;
using Configs = ::testing::Types<FirstFitCompact, BestFitFull, FirstFitCompactPlain, SegregatedCache, FirstFitDebug>;
TYPED_TEST_SUITE(StringTest, Configs);

TYPED_TEST(StringTest, EmptyStringIsTerminatedWithoutAllocating) {
  auto s = this->make();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.capacity(), 0u);
  ASSERT_NE(s.c_str(), nullptr);
  EXPECT_EQ(s.c_str()[0], '\0');
  EXPECT_EQ(s.view(), "");
  const auto& read_only = s;
  EXPECT_EQ(read_only.begin(), s.c_str()) << "a const range over an empty string is the terminator, empty";
  EXPECT_EQ(read_only.end(), s.c_str());
  EXPECT_TRUE(s == "");
  EXPECT_EQ(s.find('a'), s.npos);
  EXPECT_EQ(s.at(0), nullptr);
  EXPECT_EQ(s.pop_back(), std::nullopt) << "popping an empty string is refused, not a write before its buffer";
  EXPECT_EQ(s.size(), 0u);
  s.clear();
  s.erase(0);
  EXPECT_TRUE(s.append(""));
  EXPECT_TRUE(s.shrink_to_fit());
  auto empty = TestFixture::Str::from("", this->alloc());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->capacity(), 0u);
  EXPECT_EQ(this->injector().allocate_calls, 0u);
}

TYPED_TEST(StringTest, FromCopiesAndTerminates) {
  const char text[] = "hello, heap";
  auto s = TestFixture::Str::from(text, this->alloc());
  ASSERT_TRUE(s);
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(s->size(), sizeof(text) - 1);
  EXPECT_GE(s->capacity(), s->size());
  EXPECT_STREQ(s->c_str(), text);
  EXPECT_NE(s->c_str(), text);
  EXPECT_EQ(this->injector().allocate_calls, 1u);
  const string_view view = *s;
  EXPECT_EQ(view, "hello, heap");
  const auto& read_only = *s;  // const begin() and end(): the characters, without the terminator
  EXPECT_EQ(read_only.begin(), s->c_str());
  EXPECT_EQ(read_only.end(), s->c_str() + s->size());
  EXPECT_EQ(string_view(read_only.begin(), read_only.end()), "hello, heap");
}

TYPED_TEST(StringTest, AppendGrowsOnceForTheWholePiece) {
  auto s = this->make();
  Text text;
  const string_view piece = "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.";
  ASSERT_TRUE(s.append(piece));
  text.append(piece);
  EXPECT_EQ(this->injector().allocate_calls + this->injector().reallocate_calls, 1u);
  this->expect_matches(s, text);

  this->fill_to_capacity(s, text, 0);
  this->injector().reset_counts();
  ASSERT_TRUE(s.append(piece));
  text.append(piece);
  EXPECT_EQ(this->injector().allocate_calls + this->injector().reallocate_calls, 1u);
  this->expect_matches(s, text);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST(StringTest, PushBackIsAmortised) {
  auto s = this->make();
  Text text;
  for (int i = 0; i < 1000; ++i) {
    const char c = static_cast<char>('0' + i % 10);
    ASSERT_TRUE(s.push_back(c));
    text.append({&c, 1});
  }
  ASSERT_TRUE(this->heap_ok());
  this->expect_matches(s, text);
  // 1.5x from 8 reaches 1000 in 13 steps; a byte-at-a-time growth would take 1000.
  EXPECT_LE(this->injector().allocate_calls + this->injector().reallocate_calls, 13u);
}

TYPED_TEST(StringTest, GrowthFailuresLeaveStringUnchanged) {
  using S = typename TestFixture::Str;
  auto s = this->make();
  Text text;
  auto snap = [](const S& x) { return TestFixture::snapshot(x); };

  this->fill_to_capacity(s, text, 10);
  EXPECT_GE(this->run_until_success(s, snap, [](S& x) { return x.push_back('!'); }), 1);
  text.append("!");
  this->expect_matches(s, text);

  this->fill_to_capacity(s, text, 0);
  EXPECT_GE(this->run_until_success(s, snap, [](S& x) { return x.append("-appended-"); }), 1);
  text.append("-appended-");
  this->expect_matches(s, text);

  this->fill_to_capacity(s, text, 0);
  EXPECT_GE(this->run_until_success(s, snap, [](S& x) { return x.insert(0, "<front>"); }), 1);
  text.insert(0, "<front>");
  this->expect_matches(s, text);

  this->fill_to_capacity(s, text, 0);
  const std::size_t mid = s.size() / 2;
  EXPECT_GE(this->run_until_success(s, snap, [mid](S& x) { return x.insert(mid, "<mid>"); }), 1);
  text.insert(mid, "<mid>");
  this->expect_matches(s, text);

  this->fill_to_capacity(s, text, 0);
  const std::size_t target = s.size() + 12;
  EXPECT_GE(this->run_until_success(s, snap, [target](S& x) { return x.resize(target, '#'); }), 1);
  text.resize(target, '#');
  this->expect_matches(s, text);

  const std::size_t wanted = s.capacity() + 40;
  EXPECT_GE(this->run_until_success(s, snap, [wanted](S& x) { return x.reserve(wanted); }), 1);
  EXPECT_GE(s.capacity(), wanted);
  this->expect_matches(s, text);

  EXPECT_GE(this->run_until_success(s, snap, [](S& x) { return x.shrink_to_fit(); }), 1);
  EXPECT_LT(s.capacity(), wanted);
  this->expect_matches(s, text);

  std::optional<S> clone;
  EXPECT_GE(this->run_until_success(s, snap,
                                    [&](S& x) {
                                      auto c = std::as_const(x).try_clone();
                                      if (c) clone.emplace(std::move(*c));
                                      return c.has_value() ? Result<void>{} : Result<void>(fail(c.error()));
                                    }),
            1);
  ASSERT_TRUE(clone);
  EXPECT_EQ(*clone, s);
  EXPECT_NE(clone->c_str(), s.c_str());
  clone.reset();

  // String::from on a source that must stay untouched.
  std::optional<S> copy;
  EXPECT_GE(this->run_until_success(s, snap,
                                    [&](S& x) {
                                      auto c = S::from(x.view(), this->alloc());
                                      if (c) copy.emplace(std::move(*c));
                                      return c.has_value() ? Result<void>{} : Result<void>(fail(c.error()));
                                    }),
            1);
  ASSERT_TRUE(copy);
  EXPECT_EQ(*copy, s.view());
}

// README (String): bytes always move through reallocate when the allocator has it, so once the string has a block
// no change of capacity (push_back, append, insert, resize, reserve, shrink_to_fit) asks for another; through a
// handle without reallocate each one takes a new block.
TYPED_TEST(StringTest, CapacityChangesGoThroughReallocateWhenTheAllocatorHasIt) {
  constexpr bool kReallocates = (TypeParam::kCaps & test::kReallocate) != 0;
  auto s = this->make();
  Text text;
  ASSERT_TRUE(s.push_back('x'));
  text.append("x");
  ASSERT_TRUE(this->heap_ok());
  this->injector().reset_counts();

  this->fill_to_capacity(s, text, 0);
  ASSERT_TRUE(s.push_back('!'));
  text.append("!");
  ASSERT_TRUE(this->heap_ok());
  this->fill_to_capacity(s, text, 0);
  ASSERT_TRUE(s.append("-appended-"));
  text.append("-appended-");
  ASSERT_TRUE(this->heap_ok());
  this->fill_to_capacity(s, text, 0);
  ASSERT_TRUE(s.insert(1, "<inserted>"));
  text.insert(1, "<inserted>");
  ASSERT_TRUE(this->heap_ok());
  this->fill_to_capacity(s, text, 0);
  const std::size_t target = s.size() + 10;
  ASSERT_TRUE(s.resize(target, '#'));
  text.resize(target, '#');
  ASSERT_TRUE(this->heap_ok());
  const std::size_t wanted = s.capacity() + 100;
  ASSERT_TRUE(s.reserve(wanted));
  ASSERT_TRUE(this->heap_ok());
  ASSERT_TRUE(s.shrink_to_fit());
  ASSERT_TRUE(this->heap_ok());
  EXPECT_LT(s.capacity(), wanted);
  this->expect_matches(s, text);

  if constexpr (kReallocates) {
    EXPECT_EQ(this->injector().allocate_calls, 0u) << "a change of capacity took a new block";
    EXPECT_EQ(this->injector().reallocate_calls, 6u);
  } else {
    EXPECT_EQ(this->injector().reallocate_calls, 0u);
    EXPECT_EQ(this->injector().allocate_calls, 6u);
  }
}

TYPED_TEST(StringTest, PiecesMayViewTheStringItself) {
  auto s = this->make();
  Text text;

  this->fill_to_capacity(s, text, 12);
  ASSERT_TRUE(s.append(s.view()));  // growth while the piece lives in the old buffer
  text.append(text.view());
  this->expect_matches(s, text);

  this->fill_to_capacity(s, text, 0);
  ASSERT_TRUE(s.insert(2, s.substr_view(1, 6)));  // straddles the insertion point, with growth
  text.insert(2, text.view().substr(1, 6));
  this->expect_matches(s, text);

  ASSERT_TRUE(s.reserve(s.size() + 20));
  ASSERT_TRUE(s.insert(5, s.substr_view(3, 7)));  // straddles, in place
  text.insert(5, text.view().substr(3, 7));
  this->expect_matches(s, text);

  ASSERT_TRUE(s.insert(1, s.substr_view(s.size() - 4)));  // entirely after the insertion point
  text.insert(1, text.view().substr(text.view().size() - 4));
  this->expect_matches(s, text);

  ASSERT_TRUE(s.insert(s.size() - 2, s.substr_view(0, 3)));  // entirely before it
  text.insert(text.view().size() - 2, text.view().substr(0, 3));
  this->expect_matches(s, text);
  ASSERT_TRUE(this->heap_ok());
}

// A truncation leaves the bytes past the new terminator in the buffer; a piece that views them (all or in part) is
// still a view of this string's buffer: found as such, read before the tail moves over it, kept through a growth.
TYPED_TEST(StringTest, PiecesMayViewBytesATruncationLeft) {
  using S = typename TestFixture::Str;
  auto s = this->make();
  auto reset = [&](string_view bytes) {
    s.clear();
    ASSERT_TRUE(s.append(bytes));
    ASSERT_TRUE(this->heap_ok());
  };

  reset("0123456789");
  ASSERT_TRUE(s.resize(3));
  ASSERT_TRUE(s.append(string_view(s.data() + 5, 4)));  // past the terminator, in place
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(s.view(), "0125678");
  EXPECT_EQ(s.c_str()[s.size()], '\0');

  reset("0123456789");
  ASSERT_TRUE(s.resize(4));
  ASSERT_TRUE(s.insert(1, string_view(s.data() + 6, 3)));  // past the terminator, before the tail
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(s.view(), "0678123");
  EXPECT_EQ(s.c_str()[s.size()], '\0');

  reset("0123456789");
  ASSERT_TRUE(s.resize(5));
  ASSERT_TRUE(s.insert(2, string_view(s.data() + 3, 5)));  // across the terminator
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(s.view(), string_view("0134\0"
                                  "67234",
                                  10));
  EXPECT_EQ(s.c_str()[s.size()], '\0');

  // With growth: the buffer is full, so every byte of it is known; truncated to 5 bytes, the piece runs from byte 2
  // across the terminator to the end of the old buffer, and needs more room than the buffer has.
  Text text;
  s.clear();
  this->fill_to_capacity(s, text, 12);
  const std::size_t full = s.size();
  std::array<char, 512> before{};
  ASSERT_LT(full, before.size());
  std::memcpy(before.data(), s.data(), full);
  ASSERT_TRUE(s.resize(5));
  before[5] = '\0';  // the terminator the truncation wrote
  Text expected;
  expected.append(string_view(before.data(), 5));
  expected.append(string_view(before.data() + 2, full - 2));
  auto snap = [](const S& x) { return TestFixture::snapshot(x); };
  EXPECT_GE(this->run_until_success(s, snap, [&](S& x) { return x.append(string_view(x.data() + 2, full - 2)); }), 1);
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(s.view(), expected.view());
  EXPECT_EQ(s.c_str()[s.size()], '\0');

  // The same through insert at the front, with growth.
  s.clear();
  Text refill;
  this->fill_to_capacity(s, refill, 12);
  const std::size_t full2 = s.size();
  ASSERT_LT(full2, before.size());
  std::memcpy(before.data(), s.data(), full2);
  ASSERT_TRUE(s.resize(4));
  before[4] = '\0';
  Text expected2;
  expected2.append(string_view(before.data() + 1, full2 - 1));
  expected2.append(string_view(before.data(), 4));
  EXPECT_GE(this->run_until_success(s, snap, [&](S& x) { return x.insert(0, string_view(x.data() + 1, full2 - 1)); }),
            1);
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(s.view(), expected2.view());
  EXPECT_EQ(s.c_str()[s.size()], '\0');
}

TYPED_TEST(StringTest, EraseFindAndAffixes) {
  auto made = TestFixture::Str::from("nostd-alloc containers", this->alloc());
  ASSERT_TRUE(made);
  auto& s = *made;
  EXPECT_TRUE(s.starts_with("nostd"));
  EXPECT_TRUE(s.starts_with('n'));
  EXPECT_TRUE(s.ends_with("containers"));
  EXPECT_TRUE(s.ends_with('s'));
  EXPECT_FALSE(s.starts_with("alloc"));
  EXPECT_EQ(s.find("alloc"), 6u);
  EXPECT_EQ(s.find('c'), 10u);
  EXPECT_EQ(s.find('c', 11), 12u);
  EXPECT_EQ(s.find("heap"), s.npos);
  EXPECT_EQ(s.substr_view(6, 5), "alloc");
  EXPECT_EQ(s.substr_view(12), "containers");
  EXPECT_EQ(s.substr_view(100, 3), "") << "positions past the end clamp";
  ASSERT_NE(s.at(0), nullptr);
  EXPECT_EQ(*s.at(0), 'n');
  EXPECT_EQ(s.at(s.size()), nullptr);
  EXPECT_EQ(std::as_const(s)[s.size()], '\0');

  s.erase(5, 6);  // "-alloc"
  EXPECT_EQ(s, "nostd containers");
  s.erase(5, 1000);
  EXPECT_EQ(s, "nostd");
  s.erase(99);
  EXPECT_EQ(s, "nostd");
  EXPECT_EQ(s.pop_back(), std::optional<char>('d'));
  EXPECT_EQ(s, "nost");
  EXPECT_EQ(s.c_str()[4], '\0');
  s[0] = 'N';
  s.front() = 'M';
  s.back() = 'T';
  EXPECT_EQ(s, "MosT");

  const std::size_t capacity = s.capacity();
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.capacity(), capacity);
  EXPECT_EQ(s.c_str()[0], '\0');

  ASSERT_TRUE(s.append("abc"));
  ASSERT_TRUE(s.insert(100, "def"));  // clamped to the end
  EXPECT_EQ(s, "abcdef");
  ASSERT_TRUE(s.resize(2));
  EXPECT_EQ(s, "ab");
  EXPECT_EQ(s.c_str()[2], '\0');
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST(StringTest, ComparesAndHashesLikeStringView) {
  auto a = TestFixture::Str::from("apple", this->alloc());
  auto b = TestFixture::Str::from("banana", this->alloc());
  auto a2 = TestFixture::Str::from("apple", this->alloc());
  ASSERT_TRUE(a && b && a2);
  EXPECT_TRUE(*a == *a2);
  EXPECT_FALSE(*a == *b);
  EXPECT_TRUE(*a == "apple");
  EXPECT_TRUE("apple" == *a);
  EXPECT_TRUE(*a != "apples");
  EXPECT_EQ(*a <=> *b, std::strong_ordering::less);
  EXPECT_EQ(*b <=> *a, std::strong_ordering::greater);
  EXPECT_EQ(*a <=> *a2, std::strong_ordering::equal);
  EXPECT_TRUE(*a < string_view("apples"));
  EXPECT_TRUE(string_view("apricot") > *a);

  using Hash = std::hash<typename TestFixture::Str>;
  EXPECT_EQ(Hash{}(*a), std::hash<string_view>{}("apple"));
  EXPECT_EQ(Hash{}(*a), Hash{}(*a2));
  EXPECT_EQ(Hash{}(this->make()), std::hash<string_view>{}(""));
}

TYPED_TEST(StringTest, MoveTransfersBuffer) {
  auto a = TestFixture::Str::from("moved along", this->alloc());
  ASSERT_TRUE(a);
  const char* buffer = a->c_str();
  typename TestFixture::Str b(std::move(*a));
  EXPECT_EQ(b.c_str(), buffer);
  EXPECT_TRUE(a->empty());
  EXPECT_EQ(a->c_str()[0], '\0');
  const std::size_t blocks = this->heap().stats().live_allocations;
  auto c = TestFixture::Str::from("old", this->alloc());
  ASSERT_TRUE(c);
  *c = std::move(b);  // frees "old"
  EXPECT_EQ(this->heap().stats().live_allocations, blocks);
  EXPECT_EQ(*c, "moved along");
  ASSERT_TRUE(this->heap_ok());
}

// Bad sizes: a capacity or size past max_size() (also SIZE_MAX, where size + 1 for the terminator would wrap) is
// kSizeOverflow before any allocation attempt, with the string as it was; exactly max_size() reaches the heap.
TYPED_TEST(StringTest, OverflowingSizesAreRefusedWithoutAllocating) {
  using S = typename TestFixture::Str;
  auto s = this->make();
  Text text;
  this->fill_to_capacity(s, text, 5);
  auto expect_overflow = this->size_overflow_checker(s, &TestFixture::snapshot);
  expect_overflow("reserve(max_size() + 1)", s.reserve(S::max_size() + 1));
  expect_overflow("reserve(SIZE_MAX)", s.reserve(SIZE_MAX));
  expect_overflow("resize(max_size() + 1)", s.resize(S::max_size() + 1));
  expect_overflow("resize(SIZE_MAX, 'x')", s.resize(SIZE_MAX, 'x'));
  this->expect_matches(s, text);
  // The edge of those checks: exactly max_size() bytes is no overflow. The heap is asked, refuses it as out of memory,
  // and the string is as it was.
  // The count through a volatile, as in vec_test: a constant max_size() draws GCC's -Warray-bounds at -O2.
  volatile std::size_t max_size_unseen = S::max_size();
  const std::size_t limit = max_size_unseen;
  auto expect_out_of_memory = this->out_of_memory_checker(s, &TestFixture::snapshot);
  expect_out_of_memory("reserve(max_size())", s.reserve(limit));
  expect_out_of_memory("resize(max_size())", s.resize(limit));
  expect_out_of_memory("resize(max_size(), 'x')", s.resize(limit, 'x'));
  this->expect_matches(s, text);
  // A piece longer than max_size() - size(): no real piece is, so views that claim more bytes than `piece` holds stand
  // in for one. Its length alone must be refused, before a byte of it is read or the heap is asked; one byte fewer
  // reaches the heap, which refuses it, and is not read either (nothing is copied before the growth).
  const char piece[] = "piece";
  const std::size_t room = limit - s.size();
  expect_overflow("append(view of max_size() - size() + 1)", s.append(std::string_view(piece, room + 1)));
  expect_overflow("insert(0, view of max_size() - size() + 1)", s.insert(0, std::string_view(piece, room + 1)));
  expect_overflow("insert(2, view of SIZE_MAX)", s.insert(2, std::string_view(piece, SIZE_MAX)));
  this->expect_matches(s, text);
  expect_out_of_memory("append(view of max_size() - size())", s.append(std::string_view(piece, room)));
  expect_out_of_memory("insert(1, view of max_size() - size())", s.insert(1, std::string_view(piece, room)));
  this->expect_matches(s, text);
}

// A moved-from string (by construction or by assignment) is empty, terminated, without a buffer, and grows again
// like a new one; a string moved into itself keeps its bytes and its buffer.
TYPED_TEST(StringTest, MovedFromStringIsEmptyAndReusable) {
  using S = typename TestFixture::Str;
  auto expect_empty = [](const S& x, const char* what) {
    EXPECT_EQ(x.size(), 0u) << what;
    EXPECT_EQ(x.capacity(), 0u) << what;
    EXPECT_EQ(x.view(), "") << what;
    EXPECT_EQ(x.c_str()[0], '\0') << what;
  };
  auto a = S::from("first string", this->alloc());
  ASSERT_TRUE(a);
  ASSERT_TRUE(this->heap_ok());
  S b(std::move(*a));
  ASSERT_TRUE(this->heap_ok());
  expect_empty(*a, "moved-from by construction");  // NOLINT(bugprone-use-after-move): its state is specified
  ASSERT_TRUE(a->append("again"));
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(*a, "again");

  auto c = S::from("to be replaced", this->alloc());
  ASSERT_TRUE(c);
  ASSERT_TRUE(this->heap_ok());
  *c = std::move(b);
  ASSERT_TRUE(this->heap_ok());
  expect_empty(b, "moved-from by assignment");  // NOLINT(bugprone-use-after-move)
  for (char ch = 'a'; ch <= 'z'; ++ch) {
    ASSERT_TRUE(b.push_back(ch));
    ASSERT_TRUE(this->heap_ok());
  }
  EXPECT_EQ(b, "abcdefghijklmnopqrstuvwxyz");

  const char* buffer = c->c_str();
  S& same = *c;
  *c = std::move(same);
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(c->c_str(), buffer);
  EXPECT_EQ(*c, "first string");
}

TYPED_TEST(StringTest, ExhaustsHeapAndRecoversAfterClear) {
  auto s = this->make();
  std::array<char, 1000> chunk{};
  chunk.fill('z');
  const string_view piece(chunk.data(), chunk.size());
  std::size_t full = 0;
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 1000) << "the heap never ran out";
    const auto before = TestFixture::snapshot(s);
    auto appended = s.append(piece);
    if (!appended) {
      EXPECT_EQ(appended.error(), AllocError::kOutOfMemory);
      EXPECT_TRUE(TestFixture::snapshot(s) == before);
      full = s.size();
      break;
    }
  }
  ASSERT_TRUE(this->heap_ok());
  ASSERT_GE(full, 4000u);
  EXPECT_EQ(s.view().find_first_not_of('z'), string_view::npos);

  // clear() keeps the buffer; shrink_to_fit() gives it back, and a new string can grow as large.
  s.clear();
  for (std::size_t i = 0; i < full / piece.size(); ++i) ASSERT_TRUE(s.append(piece));
  s.clear();
  ASSERT_TRUE(s.shrink_to_fit());
  EXPECT_EQ(s.capacity(), 0u);
  auto t = this->make();
  ASSERT_TRUE(t.reserve(full));
  ASSERT_TRUE(t.resize(full, 'y'));
  ASSERT_TRUE(this->heap_ok());
}

}  // namespace
}  // namespace nostd
