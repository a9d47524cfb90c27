// Vec with element constructors that throw, in code built with exceptions (this target adds -fexceptions): every
// operation that copies or default-constructs elements (try_clone, push_back and insert of a copy, insert and append
// of a span or a range, resize) gives the strong guarantee when the k-th construction throws, for k = 0, 1, 2, ...
// until the operation succeeds: the exception reaches the caller, the vector's size, capacity, data pointer and
// elements are as before, no element is left alive or destroyed twice, the heap's live blocks and bytes are as before,
// and validate() passes. The same operations also run under allocation failures (the paths they take only with
// exceptions). Elements move without throwing (relocation is noexcept by design).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>

#include "alloc/alloc.h"
#include "containers/relocate.h"
#include "containers/vec.h"
#include "tests/container_fixture.h"
#include "tests/elements.h"
#include "tests/fault_allocator.h"
#include "tests/vec_fixture.h"
#include "tests/vec_model_check.h"

#if !defined(__cpp_exceptions)
#error "vec_exceptions_test must be compiled with -fexceptions"
#endif

namespace nostd {
namespace {

using test::census;
using test::Elem;
using test::Model;

/// What a throwing construction throws.
struct ConstructionThrew {};

/// Constructions that may throw left before the next one throws; negative: none throws.
long g_constructions_before_throw = -1;

/// Counts one construction that may throw, and throws when its turn has come.
void construction_point() {
  if (g_constructions_before_throw == 0) throw ConstructionThrew{};
  if (g_constructions_before_throw > 0) --g_constructions_before_throw;
}

/// A counted element (tests/elements.h) whose copy and default constructions may throw; moves cannot.
class ThrowingCopy : public test::Counted {
 public:
  /// An element holding 0; may throw.
  ThrowingCopy() : Counted(checked(0)) {}
  /// An element holding `value`; never throws.
  explicit ThrowingCopy(int value) noexcept : Counted(value) {}
  /// A copy; may throw (before anything is built).
  ThrowingCopy(const ThrowingCopy& other) : Counted(checked(other)) {}
  /// A move; never throws.
  ThrowingCopy(ThrowingCopy&&) noexcept = default;
  ThrowingCopy& operator=(const ThrowingCopy&) = default;
  ThrowingCopy& operator=(ThrowingCopy&&) noexcept = default;
  ~ThrowingCopy() = default;

 private:
  template <class U>
  static const U& checked(const U& source) {
    construction_point();
    return source;
  }
  static int checked(int value) {
    construction_point();
    return value;
  }
};

/// As ThrowingCopy, but opted in to trivial relocation, so that Vec may grow it through `reallocate`.
class TrThrowingCopy {
 public:
  /// An element holding 0; may throw.
  TrThrowingCopy() : value_((construction_point(), 0)) { ++census().constructed; }
  /// An element holding `value`; never throws.
  explicit TrThrowingCopy(int value) noexcept : value_(value) { ++census().constructed; }
  /// A copy; may throw.
  TrThrowingCopy(const TrThrowingCopy& other) : value_((construction_point(), other.value_)) { ++census().copied; }
  /// A move (containers relocate this type as bytes instead).
  TrThrowingCopy(TrThrowingCopy&& other) noexcept : value_(other.value_) { ++census().moved; }
  TrThrowingCopy& operator=(const TrThrowingCopy&) = default;
  TrThrowingCopy& operator=(TrThrowingCopy&&) noexcept = default;
  ~TrThrowingCopy() { ++census().destroyed; }
  /// The value.
  int value() const noexcept { return value_; }

 private:
  int value_;
};

}  // namespace

/// TrThrowingCopy holds no pointer into itself.
template <>
struct IsTriviallyRelocatable<TrThrowingCopy> : std::true_type {};

namespace {

static_assert(!std::is_nothrow_copy_constructible_v<ThrowingCopy> &&
              std::is_nothrow_move_constructible_v<ThrowingCopy>);
static_assert(!std::is_nothrow_copy_constructible_v<TrThrowingCopy> && kIsTriviallyRelocatable<TrThrowingCopy>);

template <class ElemT, class ConfigT>
using Case = test::VecCase<ElemT, ConfigT>;

template <class C>
class VecExceptionsTest : public test::VecFixture<C> {
 protected:
  using Base = test::VecFixture<C>;
  using Base::snapshot;
  using typename Base::Snapshot;
  using typename Base::Vector;

  void TearDown() override {
    g_constructions_before_throw = -1;
    Base::TearDown();
  }

  /// Makes room for at least `room` more elements without growing.
  void leave_room(Vector& v, std::size_t room) {
    ASSERT_TRUE(v.reserve(v.size() + room));
    ASSERT_TRUE(this->heap_ok());
  }

  /// Runs `op(v)` with the k-th construction that may throw throwing, for k = 0, 1, 2, ... until it returns without
  /// a throw (it must then succeed). After each throw the vector, the live elements and the heap's live blocks and
  /// bytes are as before, and the heap validates. Returns how many runs threw (-1: never succeeded).
  template <class Op>
  int run_until_no_throw(Vector& v, Op op) {
    for (long k = 0; k < 64; ++k) {
      const Snapshot before = snapshot(v);
      const long live_elements = census().live();
      const std::size_t live_blocks = this->heap().stats().live_allocations;
      const std::size_t live_bytes = this->heap().stats().bytes_in_use;
      g_constructions_before_throw = k;
      bool threw = false;
      try {
        const auto result = op(v);
        g_constructions_before_throw = -1;
        EXPECT_TRUE(result.has_value()) << "the operation failed without a throw (k = " << k << ")";
      } catch (const ConstructionThrew&) {
        threw = true;
      }
      g_constructions_before_throw = -1;
      EXPECT_TRUE(this->heap_ok()) << "after " << k << " constructions";
      if (!threw) return static_cast<int>(k);
      EXPECT_TRUE(snapshot(v) == before) << "vector changed by a throw (k = " << k << ")";
      EXPECT_EQ(census().live(), live_elements) << "elements leaked or lost (k = " << k << ")";
      EXPECT_EQ(census().errors, 0) << "an element was used dead or destroyed twice (k = " << k << ")";
      EXPECT_EQ(this->heap().stats().live_allocations, live_blocks) << "blocks leaked (k = " << k << ")";
      EXPECT_EQ(this->heap().stats().bytes_in_use, live_bytes) << "bytes leaked (k = " << k << ")";
    }
    ADD_FAILURE() << "operation never succeeded";
    return -1;
  }
};

TYPED_TEST_SUITE_P(VecExceptionsTest);

TYPED_TEST_P(VecExceptionsTest, TryCloneThrowsAndLeavesNothing) {
  using V = typename TestFixture::Vector;
  auto v = this->make_vec();
  Model model;
  this->fill_to_capacity(v, model, 5);
  std::optional<V> clone;
  EXPECT_EQ(this->run_until_no_throw(v,
                                     [&](V& x) {
                                       auto c = std::as_const(x).try_clone();
                                       if (c) clone.emplace(std::move(*c));
                                       return c.has_value() ? Result<void>{} : Result<void>(fail(c.error()));
                                     }),
            static_cast<int>(v.size()));
  ASSERT_TRUE(clone.has_value());
  this->expect_matches(*clone, model);
  clone.reset();
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecExceptionsTest, PushBackAndInsertOfACopy) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  using T = typename TestFixture::Element;
  auto v = this->make_vec();
  Model model;
  const T outside = E::make(500);
  const int five_hundred = 500;

  this->fill_to_capacity(v, model, 6);  // growth
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.push_back(outside); }), 1);
  model.push_back(500);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);  // growth, the argument an element of the vector
  const int first = model[0];
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.push_back(x[0]); }), 1);
  model.push_back(first);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);  // growth, in the middle
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.insert(x.begin() + 2, outside); }), 1);
  model.insert(2, {&five_hundred, 1});
  this->expect_matches(v, model);

  this->leave_room(v, 1);  // room, in the middle
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.insert(x.begin() + 1, std::as_const(x)[3]); }), 1);
  const int fourth = model[3];
  model.insert(1, {&fourth, 1});
  this->expect_matches(v, model);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecExceptionsTest, InsertAndAppendOfASpan) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  using T = typename TestFixture::Element;
  auto v = this->make_vec();
  Model model;
  const std::array<T, 3> three = {E::make(600), E::make(601), E::make(602)};
  const std::array<int, 3> three_values = {600, 601, 602};

  this->fill_to_capacity(v, model, 6);  // growth, at the end
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.append(std::span<const T>(three)); }), 3);
  model.insert(model.size(), three_values);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);  // growth, in the middle
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.insert(x.begin() + 1, std::span<const T>(three)); }), 3);
  model.insert(1, three_values);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);  // growth, the vector appended to itself
  std::array<int, 256> self{};
  const std::size_t n = model.size();
  ASSERT_LE(n, self.size());
  for (std::size_t i = 0; i < n; ++i) self[i] = model[i];
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.append(std::span<const T>(x.data(), x.size())); }),
            static_cast<int>(n));
  model.insert(model.size(), std::span<const int>(self.data(), n));
  this->expect_matches(v, model);

  this->leave_room(v, 8);  // room, in the middle
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.insert(x.begin() + 2, std::span<const T>(three)); }), 3);
  model.insert(2, three_values);
  this->expect_matches(v, model);

  this->leave_room(v, 8);  // room, a part of the vector straddling the insertion point
  const std::array<int, 4> straddle = {model[1], model[2], model[3], model[4]};
  EXPECT_EQ(
      this->run_until_no_throw(v, [&](V& x) { return x.insert(x.begin() + 3, std::span<const T>(x.data() + 1, 4)); }),
      4);
  model.insert(3, straddle);
  this->expect_matches(v, model);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecExceptionsTest, AppendOfARange) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  using T = typename TestFixture::Element;
  auto v = this->make_vec();
  Model model;
  const std::array<T, 3> three = {E::make(700), E::make(701), E::make(702)};
  const std::array<int, 3> reversed = {702, 701, 700};

  this->fill_to_capacity(v, model, 6);  // growth
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.append(std::views::reverse(three)); }), 3);
  model.insert(model.size(), reversed);
  this->expect_matches(v, model);

  this->leave_room(v, 3);  // room
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.append(std::views::reverse(three)); }), 3);
  model.insert(model.size(), reversed);
  this->expect_matches(v, model);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecExceptionsTest, AppendOfARangeWhoseIterationThrows) {
  // The elements are built from prvalues (a noexcept move): here the view's function throws, not T's constructor.
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  auto v = this->make_vec();
  Model model;
  const auto throwing_view = std::views::iota(0, 3) | std::views::transform([](int i) {
                               construction_point();
                               return E::make(900 + i);
                             });
  const std::array<int, 3> values = {900, 901, 902};

  this->fill_to_capacity(v, model, 6);  // growth
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.append(throwing_view); }), 3);
  model.insert(model.size(), values);
  this->expect_matches(v, model);

  this->leave_room(v, 3);  // room
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.append(throwing_view); }), 3);
  model.insert(model.size(), values);
  this->expect_matches(v, model);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecExceptionsTest, ResizeWithAValueAndWithDefaults) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  using T = typename TestFixture::Element;
  auto v = this->make_vec();
  Model model;
  const T outside = E::make(800);

  this->fill_to_capacity(v, model, 6);  // growth
  std::size_t target = v.size() + 4;
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.resize(target, outside); }), 4);
  model.resize(target, 800);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);  // growth, the value an element of the vector
  const int first = model[0];
  target = v.size() + 3;
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.resize(target, x[0]); }), 3);
  model.resize(target, first);
  this->expect_matches(v, model);

  // Room: up to exactly the capacity (the block's slack included), in place, without a new block.
  this->leave_room(v, 5);
  const T* const data = v.data();
  target = v.capacity();
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.resize(target, x[1]); }),
            static_cast<int>(target - model.size()));
  EXPECT_EQ(v.data(), data) << "a resize to the capacity moved the elements";
  model.resize(target, model[1]);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);  // growth, default-constructed elements
  target = v.size() + 3;
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.resize(target); }), 3);
  model.resize(target, 0);
  this->expect_matches(v, model);

  this->leave_room(v, 2);  // room up to exactly the capacity, default-constructed elements
  const T* const data_before_defaults = v.data();
  target = v.capacity();
  EXPECT_EQ(this->run_until_no_throw(v, [&](V& x) { return x.resize(target); }),
            static_cast<int>(target - model.size()));
  EXPECT_EQ(v.data(), data_before_defaults) << "a resize to the capacity moved the elements";
  model.resize(target, 0);
  this->expect_matches(v, model);
  ASSERT_TRUE(this->heap_ok());
}

// The paths above are taken only with exceptions; allocation failures must leave the vector as it was there too.
TYPED_TEST_P(VecExceptionsTest, AllocationFailuresOnTheThrowingPaths) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  using T = typename TestFixture::Element;
  auto v = this->make_vec();
  Model model;
  auto snap = [](const V& x) { return TestFixture::snapshot(x); };
  const T outside = E::make(900);
  const std::array<T, 3> three = {E::make(901), E::make(902), E::make(903)};
  const std::array<int, 3> three_values = {901, 902, 903};
  const std::array<int, 3> reversed = {903, 902, 901};

  this->fill_to_capacity(v, model, 6);
  EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.insert(x.begin() + 1, outside); }), 1);
  const int nine_hundred = 900;
  model.insert(1, {&nine_hundred, 1});
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.insert(x.begin() + 2, std::span(three)); }), 1);
  model.insert(2, three_values);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.append(std::views::reverse(three)); }), 1);
  model.insert(model.size(), reversed);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  const std::size_t target = v.size() + 4;
  EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.resize(target, x[0]); }), 1);
  model.resize(target, model[0]);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.resize(x.size() + 2); }), 1);
  model.resize(model.size() + 2, 0);
  this->expect_matches(v, model);
  ASSERT_TRUE(this->heap_ok());

  // Exactly max_size() is no overflow on these paths either: the heap is asked, refuses it as out of memory, and
  // nothing is constructed (every construction here throws). The count through a volatile, as in vec_test: a
  // constant max_size() draws GCC's -Warray-bounds at -O2.
  volatile std::size_t max_size_unseen = V::max_size();
  const std::size_t limit = max_size_unseen;
  auto expect_out_of_memory = this->out_of_memory_checker(v, &TestFixture::snapshot);
  g_constructions_before_throw = 0;
  expect_out_of_memory("resize(max_size())", v.resize(limit));
  expect_out_of_memory("resize(max_size(), value)", v.resize(limit, outside));
  g_constructions_before_throw = -1;
  this->expect_matches(v, model);
}

REGISTER_TYPED_TEST_SUITE_P(VecExceptionsTest, TryCloneThrowsAndLeavesNothing, PushBackAndInsertOfACopy,
                            InsertAndAppendOfASpan, AppendOfARange, AppendOfARangeWhoseIterationThrows,
                            ResizeWithAValueAndWithDefaults, AllocationFailuresOnTheThrowingPaths);

using FirstFitCompact = test::HeapConfig<test::FirstFitCompactHeap, test::kAllCapabilities>;
using BestFitFull = test::HeapConfig<test::BestFitFullHeap, test::kAllCapabilities>;
using FirstFitCompactPlain = test::HeapConfig<test::FirstFitCompactHeap, test::kNoCapabilities>;
using FirstFitCompactUsableOnly = test::HeapConfig<test::FirstFitCompactHeap, test::kUsableSize>;
using SegregatedCache = test::HeapConfig<test::SegregatedCacheHeap, test::kAllCapabilities>;
using FirstFitDebug = test::HeapConfig<test::FirstFitDebugHeap, test::kAllCapabilities>;

using Cases = ::testing::Types<Case<ThrowingCopy, FirstFitCompact>, Case<TrThrowingCopy, FirstFitCompact>,
                               Case<ThrowingCopy, BestFitFull>, Case<TrThrowingCopy, BestFitFull>,
                               Case<ThrowingCopy, FirstFitCompactPlain>, Case<TrThrowingCopy, FirstFitCompactPlain>,
                               Case<ThrowingCopy, FirstFitCompactUsableOnly>, Case<ThrowingCopy, SegregatedCache>,
                               Case<TrThrowingCopy, SegregatedCache>, Case<ThrowingCopy, FirstFitDebug>,
                               Case<TrThrowingCopy, FirstFitDebug>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Heaps, VecExceptionsTest, Cases);

}  // namespace
}  // namespace nostd
