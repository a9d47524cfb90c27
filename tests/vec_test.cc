// Tests for containers/vec.h: every growth path under fault injection (strong guarantee), element lifetimes,
// self-aliasing arguments, move-only / over-aligned / trivially relocatable elements, heap exhaustion and
// recovery, the growth policy and the use of reallocate / usable_size. Runs on BasicHeap compositions.
#include "containers/vec.h"

#include <gtest/gtest.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>

#include "alloc/alloc.h"
#include "containers/string.h"
#include "tests/container_fixture.h"
#include "tests/elements.h"
#include "tests/fault_allocator.h"
#include "tests/vec_failed_growth_check.h"
#include "tests/vec_fixture.h"
#include "tests/vec_model_check.h"

namespace nostd {
namespace {

using test::Aligned64;
using test::census;
using test::Counted;
using test::Elem;
using test::Model;
using test::MoveOnly;
using test::TrMoveOnly;

template <class ElemT, class ConfigT>
using Case = test::VecCase<ElemT, ConfigT>;

template <class C>
class VecTest : public test::VecFixture<C> {};

TYPED_TEST_SUITE_P(VecTest);

TYPED_TEST_P(VecTest, StartsEmptyWithoutAllocating) {
  auto v = this->make_vec();
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.size(), 0u);
  EXPECT_EQ(v.capacity(), 0u);
  EXPECT_EQ(v.data(), nullptr);
  EXPECT_EQ(v.begin(), v.end());
  EXPECT_EQ(this->injector().allocate_calls, 0u);
  EXPECT_FALSE(v.pop_back().has_value());
  EXPECT_EQ(v.at(0), nullptr);
  EXPECT_TRUE(v.shrink_to_fit());
  EXPECT_TRUE(v.reserve(0));
  EXPECT_EQ(this->injector().allocate_calls, 0u);
}

TYPED_TEST_P(VecTest, PushBackKeepsOrderAndAlignment) {
  using T = typename TestFixture::Element;
  auto v = this->make_vec();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(v.push_back(TestFixture::Values::make(i)));
    ASSERT_TRUE(this->heap_ok());
    ASSERT_TRUE(is_aligned(v.data(), alignof(T)));
    ASSERT_GE(v.capacity(), v.size());
  }
  ASSERT_EQ(v.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(TestFixture::Values::value(v[static_cast<std::size_t>(i)]), i);
}

TYPED_TEST_P(VecTest, GrowthFailuresLeaveVectorUnchanged) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  auto v = this->make_vec();
  Model model;
  auto snap = [](const V& x) { return TestFixture::snapshot(x); };

  this->fill_to_capacity(v, model, 5);
  EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.push_back(E::make(1000)); }), 1);
  model.push_back(1000);
  this->expect_matches(v, model);

  // A failed push_back of an rvalue leaves the argument as it was: nothing is moved before the allocation.
  this->fill_to_capacity(v, model, 0);
  auto item = E::make(999);
  EXPECT_GE(this->run_until_success(v, snap,
                                    [&item](V& x) {
                                      auto pushed = x.push_back(std::move(item));
                                      if (!pushed) {
                                        EXPECT_EQ(E::value(item), 999) << "argument moved by a failure";
                                      }
                                      return pushed;
                                    }),
            1);
  model.push_back(999);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.emplace_back(1001); }), 1);
  model.push_back(1001);
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.insert(x.begin(), E::make(1002)); }), 1);
  const int front = 1002;
  model.insert(0, {&front, 1});
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  const std::size_t mid = v.size() / 2;
  EXPECT_GE(this->run_until_success(v, snap, [mid](V& x) { return x.emplace(x.begin() + mid, 1003); }), 1);
  const int middle = 1003;
  model.insert(mid, {&middle, 1});
  this->expect_matches(v, model);

  this->fill_to_capacity(v, model, 0);
  EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.append(std::views::iota(2000, 2007)); }), 1);
  for (int i = 2000; i < 2007; ++i) model.push_back(i);
  this->expect_matches(v, model);

  if constexpr (std::default_initializable<typename TestFixture::Element>) {
    this->fill_to_capacity(v, model, 0);
    const std::size_t target = v.size() + 9;
    EXPECT_GE(this->run_until_success(v, snap, [target](V& x) { return x.resize(target); }), 1);
    model.resize(target, 0);
    this->expect_matches(v, model);
  }

  const std::size_t wanted = v.capacity() + 50;
  EXPECT_GE(this->run_until_success(v, snap, [wanted](V& x) { return x.reserve(wanted); }), 1);
  EXPECT_GE(v.capacity(), wanted);
  this->expect_matches(v, model);

  EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.shrink_to_fit(); }), 1);
  EXPECT_LT(v.capacity(), wanted);
  this->expect_matches(v, model);
}

TYPED_TEST_P(VecTest, CopyingGrowthFailuresLeaveVectorUnchanged) {
  using T = typename TestFixture::Element;
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  if constexpr (!std::copy_constructible<T>) {
    GTEST_SKIP() << "element type cannot be copied";
  } else {
    auto v = this->make_vec();
    Model model;
    auto snap = [](const V& x) { return TestFixture::snapshot(x); };
    const T outside = E::make(500);

    this->fill_to_capacity(v, model, 6);
    EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.push_back(outside); }), 1);
    model.push_back(500);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.insert(x.begin() + 2, outside); }), 1);
    const int five_hundred = 500;
    model.insert(2, {&five_hundred, 1});
    this->expect_matches(v, model);

    const std::array<T, 3> three = {E::make(600), E::make(601), E::make(602)};
    const std::array<int, 3> three_values = {600, 601, 602};
    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.append(std::span<const T>(three)); }), 1);
    model.insert(model.size(), three_values);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.insert(x.begin() + 1, std::span(three)); }), 1);
    model.insert(1, three_values);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    const std::size_t target = v.size() + 4;
    EXPECT_GE(this->run_until_success(v, snap, [&](V& x) { return x.resize(target, outside); }), 1);
    model.resize(target, 500);
    this->expect_matches(v, model);

    std::optional<V> clone;
    EXPECT_GE(this->run_until_success(v, snap,
                                      [&](V& x) {
                                        auto c = std::as_const(x).try_clone();
                                        if (c) clone.emplace(std::move(*c));
                                        return c.has_value() ? Result<void>{} : Result<void>(fail(c.error()));
                                      }),
              1);
    ASSERT_TRUE(clone.has_value());
    this->expect_matches(*clone, model);
    EXPECT_NE(clone->data(), v.data());
    EXPECT_TRUE(*clone == v);
    clone.reset();
  }
}

TYPED_TEST_P(VecTest, ArgumentsMayAliasElements) {
  using T = typename TestFixture::Element;
  using V = typename TestFixture::Vector;
  if constexpr (!std::copy_constructible<T>) {
    GTEST_SKIP() << "element type cannot be copied";
  } else {
    auto v = this->make_vec();
    Model model;

    // Growth while the argument lives in the old buffer.
    this->fill_to_capacity(v, model, 5);
    ASSERT_TRUE(v.push_back(v[0]));
    model.push_back(model[0]);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    ASSERT_TRUE(v.emplace_back(v.back()));
    model.push_back(model[model.size() - 1]);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    ASSERT_TRUE(v.insert(v.begin() + 1, v.back()));
    int value = model[model.size() - 1];
    model.insert(1, {&value, 1});
    this->expect_matches(v, model);

    // No growth: the argument is an element that the insertion moves.
    ASSERT_TRUE(v.reserve(v.size() + 10));
    ASSERT_TRUE(v.insert(v.begin(), v[2]));
    value = model[2];
    model.insert(0, {&value, 1});
    this->expect_matches(v, model);

    // A span of the vector itself: appended whole, and inserted straddling the insertion point.
    this->fill_to_capacity(v, model, 0);
    ASSERT_TRUE(v.append(std::span<const T>(v.data(), v.size())));
    model.insert(model.size(), model.span());
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    ASSERT_TRUE(v.insert(v.begin() + 2, std::span<const T>(v.data() + 1, 4)));
    model.insert(2, model.span().subspan(1, 4));
    this->expect_matches(v, model);

    ASSERT_TRUE(v.reserve(v.size() + 10));
    ASSERT_TRUE(v.insert(v.begin() + 3, std::span<const T>(v.data() + 1, 5)));
    model.insert(3, model.span().subspan(1, 5));
    this->expect_matches(v, model);

    // A non-contiguous view of the vector itself.
    this->fill_to_capacity(v, model, 0);
    ASSERT_TRUE(v.append(std::views::reverse(v) | std::views::take(3)));
    const std::array<int, 3> reversed = {model[model.size() - 1], model[model.size() - 2], model[model.size() - 3]};
    model.insert(model.size(), reversed);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    ASSERT_TRUE(v.resize(v.size() + 3, v[1]));
    model.resize(model.size() + 3, model[1]);
    this->expect_matches(v, model);
    ASSERT_TRUE(this->heap_ok());
    static_cast<void>(sizeof(V));
  }
}

// The aliasing cases above, each with its growth failing first (every attempt, then all but the first, ...): a failed
// growth leaves the vector and the aliased element as they were, and the growth that succeeds still copies the
// element or range from where the growth moved it.
TYPED_TEST_P(VecTest, AliasingArgumentsSurviveFailedGrowth) {
  using T = typename TestFixture::Element;
  using V = typename TestFixture::Vector;
  if constexpr (!std::copy_constructible<T>) {
    GTEST_SKIP() << "element type cannot be copied";
  } else {
    auto v = this->make_vec();
    Model model;
    auto snap = [](const V& x) { return TestFixture::snapshot(x); };

    this->fill_to_capacity(v, model, 5);
    EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.push_back(x[0]); }), 1);
    model.push_back(model[0]);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.insert(x.begin() + 1, x.back()); }), 1);
    int value = model[model.size() - 1];
    model.insert(1, {&value, 1});
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(this->run_until_success(v, snap, [](V& x) { return x.append(std::span<const T>(x.data(), x.size())); }),
              1);
    model.insert(model.size(), model.span());
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(this->run_until_success(
                  v, snap, [](V& x) { return x.insert(x.begin() + 2, std::span<const T>(x.data() + 1, 4)); }),
              1);
    model.insert(2, model.span().subspan(1, 4));
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    EXPECT_GE(
        this->run_until_success(v, snap, [](V& x) { return x.append(std::views::reverse(x) | std::views::take(3)); }),
        1);
    const std::array<int, 3> reversed = {model[model.size() - 1], model[model.size() - 2], model[model.size() - 3]};
    model.insert(model.size(), reversed);
    this->expect_matches(v, model);

    this->fill_to_capacity(v, model, 0);
    const std::size_t target = v.size() + 3;
    EXPECT_GE(this->run_until_success(v, snap, [target](V& x) { return x.resize(target, x[1]); }), 1);
    model.resize(target, model[1]);
    this->expect_matches(v, model);
    ASSERT_TRUE(this->heap_ok());
  }
}

TYPED_TEST_P(VecTest, GrowthPastANeighbourMovesElements) {
  using E = typename TestFixture::Values;
  ASSERT_EQ(this->heap().stats().live_allocations, 0u) << "needs an empty heap: one free block, carved in order";
  auto v = this->make_vec();
  Model model;
  ASSERT_TRUE(v.reserve(8));
  // The only free block large enough for the blocker follows the vector's block (an alignment gap in front of
  // the vector is smaller), so the blocker stops in-place growth and the elements must move: by reallocate's
  // byte copy only when that is a valid move of the type, which Counted's address check would catch otherwise.
  Result<void*> blocker = this->heap().allocate(*Layout::from(256, 8));
  ASSERT_TRUE(blocker);
  this->fill_to_capacity(v, model, 8);
  const void* before = v.data();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(v.push_back(E::make(100 + i)));
    model.push_back(100 + i);
    ASSERT_TRUE(this->heap_ok());
  }
  EXPECT_NE(v.data(), before);
  this->expect_matches(v, model);
  this->heap().deallocate(*blocker);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecTest, EraseAndPopBack) {
  using E = typename TestFixture::Values;
  auto v = this->make_vec();
  Model model;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(v.push_back(E::make(i)));
    model.push_back(i);
  }
  const std::size_t capacity = v.capacity();

  auto* next = v.erase(v.begin() + 2);
  model.erase(2, 3);
  EXPECT_EQ(E::value(*next), 3);
  this->expect_matches(v, model);

  next = v.erase(v.begin() + 1, v.begin() + 4);
  model.erase(1, 4);
  EXPECT_EQ(E::value(*next), model[1]);
  this->expect_matches(v, model);

  auto* same = v.erase(v.begin() + 2, v.begin() + 2);
  EXPECT_EQ(same, v.begin() + 2);
  auto* after_last = v.erase(v.end() - 1);
  EXPECT_EQ(after_last, v.end());
  model.erase(model.size() - 1, model.size());
  this->expect_matches(v, model);

  auto last = v.pop_back();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(E::value(*last), model[model.size() - 1]);
  model.erase(model.size() - 1, model.size());
  this->expect_matches(v, model);

  v.clear();
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.capacity(), capacity);
  EXPECT_FALSE(v.pop_back().has_value());
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecTest, AccessAndSpans) {
  using T = typename TestFixture::Element;
  using E = typename TestFixture::Values;
  auto v = this->make_vec();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(v.push_back(E::make(i * 10)));
  EXPECT_EQ(E::value(v.front()), 0);
  EXPECT_EQ(E::value(v.back()), 40);
  ASSERT_NE(v.at(4), nullptr);
  EXPECT_EQ(E::value(*v.at(4)), 40);
  EXPECT_EQ(v.at(5), nullptr);
  EXPECT_EQ(std::as_const(v).at(5), nullptr);
  EXPECT_EQ(v.data(), &v[0]);

  std::span<T> mutable_view = v;
  std::span<const T> const_view = std::as_const(v);
  EXPECT_EQ(mutable_view.size(), 5u);
  EXPECT_EQ(const_view.data(), v.data());
  int sum = 0;
  for (const T& element : std::as_const(v)) sum += E::value(element);
  EXPECT_EQ(sum, 100);
  static_assert(std::ranges::contiguous_range<decltype(v)>);
  static_assert(!std::is_convertible_v<const decltype(v)&, std::span<T>>, "const Vec must not give mutable span");

  if constexpr (std::copy_constructible<T> && std::three_way_comparable<T>) {
    auto w = std::as_const(v).try_clone();
    ASSERT_TRUE(w);
    EXPECT_TRUE(v == *w);
    EXPECT_TRUE(v == const_view);
    EXPECT_EQ(v <=> *w, std::strong_ordering::equal);
    ASSERT_TRUE(w->push_back(E::make(-5)));
    EXPECT_FALSE(v == *w);
    EXPECT_TRUE(v < *w);
    (*w)[0] = E::make(-1);
    EXPECT_TRUE(*w < v);
  }
}

TYPED_TEST_P(VecTest, MoveTransfersBuffer) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  auto a = this->make_vec();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(a.push_back(E::make(i)));
  const void* buffer = a.data();
  const std::size_t blocks = this->heap().stats().live_allocations;

  V b(std::move(a));
  EXPECT_EQ(b.data(), buffer);
  EXPECT_EQ(b.size(), 7u);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.capacity(), 0u);
  EXPECT_EQ(this->heap().stats().live_allocations, blocks);

  auto c = this->make_vec();
  ASSERT_TRUE(c.push_back(E::make(99)));
  EXPECT_EQ(this->heap().stats().live_allocations, blocks + 1);
  c = std::move(b);  // frees c's old buffer
  EXPECT_EQ(this->heap().stats().live_allocations, blocks);
  EXPECT_EQ(c.data(), buffer);
  EXPECT_EQ(E::value(c[6]), 6);

  ASSERT_TRUE(a.push_back(E::make(42)));
  a.swap(c);
  EXPECT_EQ(a.size(), 7u);
  EXPECT_EQ(E::value(c[0]), 42);
  ASSERT_TRUE(this->heap_ok());
}

TYPED_TEST_P(VecTest, ExhaustsHeapAndRecoversAfterClear) {
  using E = typename TestFixture::Values;
  auto v = this->make_vec();
  std::size_t full = 0;
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 1 << 20) << "the heap never ran out";
    const auto before = TestFixture::snapshot(v);
    auto pushed = v.push_back(E::make(i));
    if (!pushed) {
      EXPECT_EQ(pushed.error(), AllocError::kOutOfMemory);
      EXPECT_TRUE(TestFixture::snapshot(v) == before);
      full = v.size();
      break;
    }
  }
  ASSERT_TRUE(this->heap_ok());
  ASSERT_GT(full, 8u);
  for (std::size_t i = 0; i < full; ++i) ASSERT_EQ(E::value(v[i]), static_cast<int>(i));

  // Nothing larger than the vector's next growth fits while it holds its block.
  auto other = this->make_vec();
  EXPECT_FALSE(other.reserve(v.capacity() + 1));
  EXPECT_EQ(other.capacity(), 0u);

  // clear() keeps the buffer: refilling allocates nothing.
  const std::size_t capacity = v.capacity();
  v.clear();
  EXPECT_EQ(v.capacity(), capacity);
  const std::size_t calls = this->injector().allocate_calls + this->injector().reallocate_calls;
  for (std::size_t i = 0; i < full; ++i) ASSERT_TRUE(v.push_back(E::make(static_cast<int>(i))));
  EXPECT_EQ(this->injector().allocate_calls + this->injector().reallocate_calls, calls);

  // Giving the buffer back lets another vector grow as large.
  v.clear();
  ASSERT_TRUE(v.shrink_to_fit());
  EXPECT_EQ(v.capacity(), 0u);
  ASSERT_TRUE(other.reserve(full));
  for (std::size_t i = 0; i < full; ++i) ASSERT_TRUE(other.push_back(E::make(static_cast<int>(i))));
  ASSERT_TRUE(this->heap_ok());
}

// Bad sizes: a capacity or size past max_size() (also SIZE_MAX, which size() + 1 style arithmetic would wrap) and a
// range one element longer than the vector can still grow by are kSizeOverflow before any allocation attempt, with
// the vector as it was; a value that aliases an element changes nothing either.
TYPED_TEST_P(VecTest, OverflowingSizesAreRefusedWithoutAllocating) {
  using T = typename TestFixture::Element;
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  auto v = this->make_vec();
  Model model;
  this->fill_to_capacity(v, model, 3);
  auto expect_overflow = this->size_overflow_checker(v, &TestFixture::snapshot);
  expect_overflow("reserve(max_size() + 1)", v.reserve(V::max_size() + 1));
  expect_overflow("reserve(SIZE_MAX)", v.reserve(SIZE_MAX));
  if constexpr (std::default_initializable<T>) {
    expect_overflow("resize(max_size() + 1)", v.resize(V::max_size() + 1));
    expect_overflow("resize(SIZE_MAX)", v.resize(SIZE_MAX));
  }
  if constexpr (std::copy_constructible<T>) {
    const T outside = E::make(7);
    expect_overflow("resize(SIZE_MAX, value)", v.resize(SIZE_MAX, outside));
    expect_overflow("resize(max_size() + 1, v[0])", v.resize(V::max_size() + 1, v[0]));
  }
  // One element more than max_size() - size(): its length fits std::size_t, the sum does not fit the vector.
  std::size_t built = 0;
  const std::uint64_t room = V::max_size() - v.size();
  auto one_too_many = std::views::iota(std::uint64_t{0}, room + 1) | std::views::transform([&built](std::uint64_t) {
                        ++built;
                        return E::make(1);
                      });
  expect_overflow("append(range of max_size() - size() + 1)", v.append(one_too_many));
  EXPECT_EQ(built, 0u) << "elements built for a range the vector cannot hold";
  auto made = V::with_capacity(SIZE_MAX, this->alloc());
  ASSERT_TRUE(this->heap_ok());
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error(), AllocError::kSizeOverflow);
  EXPECT_EQ(this->injector().allocate_calls + this->injector().reallocate_calls, 0u);
  this->expect_matches(v, model);

  // The edge of those checks: exactly max_size() elements is no overflow. The heap is asked, refuses it as out of
  // memory, and the vector is as it was. The count is read through a volatile: at -O2 GCC follows a constant
  // max_size() past the growth the heap refuses into the element loop and warns of a subscript out of bounds
  // (-Warray-bounds), as vec.h's resize notes.
  volatile std::size_t max_size_unseen = V::max_size();
  const std::size_t limit = max_size_unseen;
  auto expect_out_of_memory = this->out_of_memory_checker(v, &TestFixture::snapshot);
  expect_out_of_memory("reserve(max_size())", v.reserve(limit));
  if constexpr (std::default_initializable<T>) {
    expect_out_of_memory("resize(max_size())", v.resize(limit));
  }
  if constexpr (std::copy_constructible<T>) {
    const T outside = E::make(7);
    expect_out_of_memory("resize(max_size(), value)", v.resize(limit, outside));
  }
  // A counted range over an endless iota of int (counted_iterator and default_sentinel: std::views::counted would
  // compute the end as begin + room, past int): its length is a long on 64-bit targets, which takes distance_above's
  // integral branch, and a long long on 32-bit ones, which takes the wider branch (as one_too_many's 64-bit iota does
  // on 64-bit targets).
  const std::counted_iterator first(std::ranges::begin(std::views::iota(0)),
                                    static_cast<std::ptrdiff_t>(limit - v.size()));
  auto just_enough = std::ranges::subrange(first, std::default_sentinel) | std::views::transform([&built](int) {
                       ++built;
                       return E::make(1);
                     });
  expect_out_of_memory("append(range of max_size() - size())", v.append(just_enough));
  EXPECT_EQ(built, 0u) << "elements built before the block was had";
  this->expect_matches(v, model);
}

// A moved-from vector (by construction or by assignment) is empty with no buffer and grows again like a new one;
// a vector moved into itself keeps its elements and its buffer.
TYPED_TEST_P(VecTest, MovedFromVectorIsEmptyAndReusable) {
  using V = typename TestFixture::Vector;
  using E = typename TestFixture::Values;
  auto expect_empty = [](const V& x, const char* what) {
    EXPECT_EQ(x.size(), 0u) << what;
    EXPECT_EQ(x.capacity(), 0u) << what;
    EXPECT_EQ(x.data(), nullptr) << what;
  };
  auto a = this->make_vec();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a.push_back(E::make(i)));
    ASSERT_TRUE(this->heap_ok());
  }
  V b(std::move(a));
  ASSERT_TRUE(this->heap_ok());
  expect_empty(a, "moved-from by construction");  // NOLINT(bugprone-use-after-move): its state is specified
  ASSERT_TRUE(a.push_back(E::make(50)));
  ASSERT_TRUE(this->heap_ok());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(E::value(a[0]), 50);

  auto c = this->make_vec();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.push_back(E::make(100 + i)));
    ASSERT_TRUE(this->heap_ok());
  }
  c = std::move(b);
  ASSERT_TRUE(this->heap_ok());
  expect_empty(b, "moved-from by assignment");  // NOLINT(bugprone-use-after-move)
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(b.push_back(E::make(200 + i)));
    ASSERT_TRUE(this->heap_ok());
  }
  ASSERT_EQ(b.size(), 9u);
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(E::value(b[i]), 200 + static_cast<int>(i));

  const void* buffer = c.data();
  V& same = c;
  c = std::move(same);
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(c.data(), buffer);
  ASSERT_EQ(c.size(), 5u);
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(E::value(c[i]), static_cast<int>(i));
}

REGISTER_TYPED_TEST_SUITE_P(VecTest, StartsEmptyWithoutAllocating, PushBackKeepsOrderAndAlignment,
                            GrowthFailuresLeaveVectorUnchanged, CopyingGrowthFailuresLeaveVectorUnchanged,
                            ArgumentsMayAliasElements, GrowthPastANeighbourMovesElements, EraseAndPopBack,
                            AccessAndSpans, MoveTransfersBuffer, ExhaustsHeapAndRecoversAfterClear,
                            OverflowingSizesAreRefusedWithoutAllocating, MovedFromVectorIsEmptyAndReusable,
                            AliasingArgumentsSurviveFailedGrowth);

using FirstFitCompact = test::HeapConfig<test::FirstFitCompactHeap, test::kAllCapabilities>;
using BestFitFull = test::HeapConfig<test::BestFitFullHeap, test::kAllCapabilities>;
using FirstFitCompactPlain = test::HeapConfig<test::FirstFitCompactHeap, test::kNoCapabilities>;
using SegregatedCache = test::HeapConfig<test::SegregatedCacheHeap, test::kAllCapabilities>;

using FirstFitCompactCases =
    ::testing::Types<Case<int, FirstFitCompact>, Case<Counted, FirstFitCompact>, Case<MoveOnly, FirstFitCompact>,
                     Case<TrMoveOnly, FirstFitCompact>, Case<Aligned64, FirstFitCompact>>;
using BestFitFullCases = ::testing::Types<Case<int, BestFitFull>, Case<Counted, BestFitFull>,
                                          Case<MoveOnly, BestFitFull>, Case<Aligned64, BestFitFull>>;
using NoReallocateNoUsableSizeCases =
    ::testing::Types<Case<int, FirstFitCompactPlain>, Case<Counted, FirstFitCompactPlain>,
                     Case<TrMoveOnly, FirstFitCompactPlain>, Case<Aligned64, FirstFitCompactPlain>>;
INSTANTIATE_TYPED_TEST_SUITE_P(FirstFitCompact, VecTest, FirstFitCompactCases);
INSTANTIATE_TYPED_TEST_SUITE_P(BestFitFull, VecTest, BestFitFullCases);
using SegregatedCacheCases = ::testing::Types<Case<int, SegregatedCache>, Case<Counted, SegregatedCache>,
                                              Case<MoveOnly, SegregatedCache>, Case<Aligned64, SegregatedCache>>;
INSTANTIATE_TYPED_TEST_SUITE_P(NoReallocateNoUsableSize, VecTest, NoReallocateNoUsableSizeCases);
INSTANTIATE_TYPED_TEST_SUITE_P(SegregatedCache, VecTest, SegregatedCacheCases);
// DebugChecks (tests/container_heaps.h): every free and reallocate's layout, also an over-aligned element's, is
// checked.
using FirstFitDebug = test::HeapConfig<test::FirstFitDebugHeap, test::kAllCapabilities>;
using FirstFitDebugCases = ::testing::Types<Case<int, FirstFitDebug>, Case<Counted, FirstFitDebug>,
                                            Case<TrMoveOnly, FirstFitDebug>, Case<Aligned64, FirstFitDebug>>;
INSTANTIATE_TYPED_TEST_SUITE_P(FirstFitDebug, VecTest, FirstFitDebugCases);

// ---- Seeded random operations against a model, with random injected failures ----------------------------------

template <class C>
class VecStressTest : public VecTest<C> {};
TYPED_TEST_SUITE_P(VecStressTest);

TYPED_TEST_P(VecStressTest, RandomOperationsMatchTheModel) {
  // The framework-free driver (tests/vec_model_check.h), shared with the bare-metal check program.
  const test::VecModelReport report =
      test::run_vec_model<typename TestFixture::Element, TypeParam::Config::kCaps>(this->injector());
  ASSERT_TRUE(report.ok()) << report.failure << " at step " << report.step;
  this->RecordProperty("failed_operations", report.failed_operations);
}

REGISTER_TYPED_TEST_SUITE_P(VecStressTest, RandomOperationsMatchTheModel);
using StressCases =
    ::testing::Types<Case<Counted, FirstFitCompact>, Case<Counted, BestFitFull>, Case<Counted, FirstFitCompactPlain>,
                     Case<int, FirstFitCompact>, Case<Aligned64, BestFitFull>, Case<Counted, SegregatedCache>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Seeded, VecStressTest, StressCases);

// ---- Element types the heap cannot align ------------------------------------------------------------------------

template <class Config>
class VecOnHeapTest : public test::ContainerTest<Config> {};
using HeapConfigs = ::testing::Types<FirstFitCompact, BestFitFull, FirstFitCompactPlain, SegregatedCache>;
TYPED_TEST_SUITE(VecOnHeapTest, HeapConfigs);

/// An element aligned to `kAlign` bytes. No object of it is ever made: the vector's growth must fail first.
template <std::size_t kAlign>
struct alignas(kAlign) AlignedTo {
  unsigned char byte;
};

// An element type aligned beyond the heap's kMaxAlignment: every growth fails with the heap's kInvalidLayout (not
// reported as out of memory), the vector stays without a buffer, and the refusal is the heap's, counted there.
TYPED_TEST(VecOnHeapTest, ElementAlignedBeyondTheHeapIsRefused) {
  using T = AlignedTo<TestFixture::Heap::kMaxAlignment * 2>;
  using V = Vec<T, typename TestFixture::Alloc>;
  V v(this->alloc());
  const std::size_t blocks = this->heap().stats().live_allocations;
  const std::size_t refused = this->heap().stats().failed_allocations;
  auto expect_refused = [&](const char* what, const Result<void>& result) {
    EXPECT_TRUE(this->heap_ok()) << what;
    ASSERT_FALSE(result) << what;
    EXPECT_EQ(result.error(), AllocError::kInvalidLayout) << what;
    EXPECT_EQ(v.size(), 0u) << what;
    EXPECT_EQ(v.capacity(), 0u) << what;
    EXPECT_EQ(v.data(), nullptr) << what;
    EXPECT_EQ(this->heap().stats().live_allocations, blocks) << what;
  };
  expect_refused("reserve(1)", v.reserve(1));
  expect_refused("resize(3)", v.resize(3));
  auto made = V::with_capacity(2, this->alloc());
  ASSERT_TRUE(this->heap_ok());
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error(), AllocError::kInvalidLayout);
  EXPECT_GE(this->heap().stats().failed_allocations, refused + 3) << "the heap refused each request";
}

// ---- Growth policy and allocator abilities (one heap, specific element types) -----------------------------------

template <unsigned kCaps>
class VecPolicyTest : public test::ContainerTest<test::HeapConfig<test::FirstFitCompactHeap, kCaps>> {};

using PlainTest = VecPolicyTest<test::kNoCapabilities>;
using FullTest = VecPolicyTest<test::kAllCapabilities>;
using UsableOnlyTest = VecPolicyTest<test::kUsableSize>;

TEST_F(PlainTest, GrowthFactorIsOneAndAHalfFromFour) {
  Vec<int, Alloc> v(alloc());
  std::array<std::size_t, 8> seen{};
  std::size_t n = 0;
  for (int i = 0; i < 100 && n < seen.size(); ++i) {
    const std::size_t before = v.capacity();
    ASSERT_TRUE(v.push_back(i));
    if (v.capacity() != before) seen[n++] = v.capacity();
  }
  EXPECT_EQ(seen, (std::array<std::size_t, 8>{4, 6, 9, 13, 19, 28, 42, 63}));
  EXPECT_EQ((Vec<char, Alloc>::kMinCapacity), 8u);
  EXPECT_EQ((Vec<Aligned64, Alloc>::kMinCapacity), 4u);
  EXPECT_EQ((Vec<std::array<char, 256>, Alloc>::kMinCapacity), 4u) << "4 up to 256 bytes";
  EXPECT_EQ((Vec<std::array<char, 257>, Alloc>::kMinCapacity), 1u) << "else 1";
}

TEST_F(PlainTest, FailedAmortisedGrowthIsRetriedAtExactSize) {
  Vec<int, Alloc> v(alloc());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(v.push_back(i));
  ASSERT_EQ(v.capacity(), 4u);
  injector().fail_nth(1);  // the 1.5x request fails; the exact one succeeds
  ASSERT_TRUE(v.push_back(4));
  injector().never_fail();
  EXPECT_EQ(v.capacity(), 5u);
  EXPECT_EQ(injector().allocate_calls, 3u);
  ASSERT_TRUE(heap_ok());
}

TEST_F(PlainTest, ReserveIsExactAndOverflowIsRejected) {
  Vec<int, Alloc> v(alloc());
  ASSERT_TRUE(v.reserve(37));
  EXPECT_EQ(v.capacity(), 37u);
  auto too_big = v.reserve(Vec<int, Alloc>::max_size() + 1);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error(), AllocError::kSizeOverflow);
  EXPECT_FALSE(v.resize(Vec<int, Alloc>::max_size()));
  EXPECT_EQ(v.capacity(), 37u);
  EXPECT_TRUE(v.empty());
}

// A range's difference type may be wider than std::size_t (libstdc++'s integer-class type for an iota_view over a
// 64-bit integer on a 32-bit target, over __int128 on a 64-bit one). A length of 2^N + 3 for an N-bit std::size_t is
// beyond max_size(): append refuses it, rather than truncate it to 3 and then build every element of the range in a
// block with room for 3.
TEST_F(PlainTest, AppendOfARangeLongerThanSizeTCanCountIsRejected) {
#if SIZE_MAX == UINT32_MAX
  using Wide = std::uint64_t;
#else
  using Wide = __int128;
#endif
  constexpr Wide kLength = (Wide{1} << std::numeric_limits<std::size_t>::digits) + 3;
  std::size_t built = 0;
  auto elements = std::views::iota(Wide{0}, kLength) | std::views::transform([&built](Wide) {
                    // Past the block's room: stop here rather than write over the heap.
                    if (++built > 8) {
                      std::fputs("append is building past its block: the range's length was truncated\n", stderr);
                      std::abort();
                    }
                    return 1;
                  });
  using Distance = std::ranges::range_difference_t<decltype(elements)>;
  static_assert(!std::is_integral_v<Distance> || sizeof(Distance) > sizeof(std::size_t),
                "the test needs a range whose length std::size_t cannot hold");

  Vec<int, Alloc> v(alloc());
  for (const std::size_t room : {std::size_t{0}, std::size_t{8}}) {  // growth, then room for the truncated 3
    ASSERT_TRUE(v.reserve(room));
    ASSERT_TRUE(heap_ok());
    const int* data = v.data();
    auto appended = v.append(elements);
    ASSERT_TRUE(heap_ok());
    ASSERT_FALSE(appended) << room;
    EXPECT_EQ(appended.error(), AllocError::kSizeOverflow);
    EXPECT_EQ(built, 0u);
    EXPECT_TRUE(v.empty());
    EXPECT_EQ(v.capacity(), room);
    EXPECT_EQ(v.data(), data);
  }
}

// README (Containers, growth factor): capacity() is what the block holds, through HeapRef's usable_size. The sizes
// asked for are 4 ints, 8 chars, 8 + 1 bytes for a String and exactly 9 ints for reserve(9); on x86-64 a FirstFit
// heap rounds them up to 6, 24, 23 and 10 elements. Under DebugChecks usable_size is the request: exactly 4 and 9.
template <class Heap>
void expect_first_capacities(Heap& heap, std::size_t ints, std::size_t reserved_ints, std::size_t chars,
                             std::size_t bytes) {
  ASSERT_TRUE(heap.validate());
  Vec<int, HeapRef<Heap>> v{HeapRef<Heap>(heap)};
  ASSERT_TRUE(v.push_back(1));
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(v.capacity(), heap.usable_size(v.data()) / sizeof(int));
  EXPECT_EQ(v.capacity(), ints);
  Vec<int, HeapRef<Heap>> r{HeapRef<Heap>(heap)};
  ASSERT_TRUE(r.reserve(9));
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(r.capacity(), reserved_ints);
  Vec<char, HeapRef<Heap>> c{HeapRef<Heap>(heap)};
  ASSERT_TRUE(c.push_back('a'));
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(c.capacity(), chars);
  String<HeapRef<Heap>> s{HeapRef<Heap>(heap)};
  ASSERT_TRUE(s.push_back('a'));
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(s.capacity(), bytes);
}

TEST(VecCapacityTest, FirstCapacitiesAreWhatTheBlockHolds) {
  using Heap = BasicHeap<FirstFit, StaticArraySource<4096>>;
  using DebugHeap = BasicHeap<FirstFit, StaticArraySource<4096>, DebugChecks<>>;
  static constinit Heap heap;
  static constinit DebugHeap debug_heap;
  expect_first_capacities(debug_heap, 4, 9, 8, 8);
  ASSERT_TRUE(debug_heap.validate());
  EXPECT_EQ(debug_heap.stats().live_allocations, 0u);
  if constexpr (sizeof(void*) == 8 && Heap::kGranule == 16) {
    // The README's x86-64 figures: 8-byte tags and a 16-byte granule, so riscv64 Linux rounds alike.
    expect_first_capacities(heap, 6, 10, 24, 23);
  } else {
    // 32-bit targets round to their own tag and granule sizes; the capacity is still the block's usable size.
    Vec<int, HeapRef<Heap>> v{HeapRef<Heap>(heap)};
    ASSERT_TRUE(v.push_back(1));
    ASSERT_TRUE(heap.validate());
    EXPECT_EQ(v.capacity(), heap.usable_size(v.data()) / sizeof(int));
    EXPECT_GE(v.capacity(), 4u);
  }
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}

TEST_F(UsableOnlyTest, SlackOfTheBlockCountsAsCapacity) {
  Vec<std::uint8_t, Alloc> v(alloc());
  ASSERT_TRUE(v.reserve(1));
  EXPECT_EQ(v.capacity(), heap().usable_size(v.data()));
  EXPECT_GT(v.capacity(), 1u);
  const std::size_t calls = injector().allocate_calls;
  for (std::size_t i = 0; i < v.capacity(); ++i) ASSERT_TRUE(v.push_back(static_cast<std::uint8_t>(i)));
  EXPECT_EQ(injector().allocate_calls, calls);
}

// Through a handle with usable_size but no reallocate, shrink_to_fit moves the elements to a new block only when that
// block would be smaller: once the block is tight, a second call on a full heap keeps it without asking for a block
// (it used to ask every time, and fail with kOutOfMemory here). String shares the rule (containers/raw_buffer.h).
TEST_F(UsableOnlyTest, SecondShrinkToFitOnAFullHeapAllocatesNothing) {
  Vec<std::uint8_t, Alloc> v(alloc());
  ASSERT_TRUE(v.reserve(200));
  for (std::uint8_t i = 0; i < 7; ++i) ASSERT_TRUE(v.push_back(i));
  ASSERT_TRUE(v.shrink_to_fit());  // from a 200-byte block to one for 7 bytes (plus the heap's rounding)
  ASSERT_TRUE(heap_ok());
  ASSERT_LT(v.capacity(), 200u);
  String<Alloc> s(alloc());
  ASSERT_TRUE(s.reserve(200));
  ASSERT_TRUE(s.append("0123456"));
  ASSERT_TRUE(s.shrink_to_fit());
  ASSERT_TRUE(heap_ok());
  ASSERT_LT(s.capacity(), 200u);

  // Fill the heap: blocks of halving sizes until not even one byte can be had.
  std::array<void*, 128> held{};
  std::size_t count = 0;
  for (std::size_t size = test::kTestHeapBytes; size > 0 && count < held.size();) {
    auto p = heap().allocate(size);
    ASSERT_TRUE(heap_ok());
    if (p) {
      held[count++] = *p;
    } else {
      size /= 2;
    }
  }
  ASSERT_FALSE(heap().allocate(1)) << "the heap should be full";
  ASSERT_TRUE(heap_ok());

  const std::uint8_t* data = v.data();
  const std::size_t capacity = v.capacity();
  const char* bytes = s.c_str();
  const std::size_t string_capacity = s.capacity();
  injector().reset_counts();
  EXPECT_TRUE(v.shrink_to_fit());
  ASSERT_TRUE(heap_ok());
  EXPECT_TRUE(s.shrink_to_fit());
  ASSERT_TRUE(heap_ok());
  EXPECT_EQ(injector().allocate_calls, 0u);
  EXPECT_EQ(v.data(), data);
  EXPECT_EQ(v.capacity(), capacity);
  EXPECT_EQ(s.c_str(), bytes);
  EXPECT_EQ(s.capacity(), string_capacity);
  for (std::uint8_t i = 0; i < 7; ++i) EXPECT_EQ(v[i], i);
  EXPECT_EQ(s.view(), "0123456");

  for (std::size_t i = 0; i < count; ++i) {
    heap().deallocate(held[i]);
    ASSERT_TRUE(heap_ok());
  }
}

TEST_F(FullTest, TrivialElementsGrowInPlaceThroughReallocate) {
  ASSERT_EQ(heap().stats().live_allocations, 0u) << "needs an empty heap, so the block is followed by free space";
  Vec<int, Alloc> v(alloc());
  ASSERT_TRUE(v.reserve(8));
  const int* first = v.data();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(v.push_back(i));
  EXPECT_EQ(v.data(), first) << "the heap had free space after the block, so growth should be in place";
  EXPECT_EQ(injector().allocate_calls, 1u);
  EXPECT_GT(injector().reallocate_calls, 0u);
  ASSERT_TRUE(v.shrink_to_fit());
  EXPECT_EQ(v.data(), first);
  EXPECT_LT(v.capacity(), 210u);
  ASSERT_TRUE(heap_ok());
}

TEST_F(FullTest, IndirectArgumentsSurviveAMovingGrowth) {
  // The vector is full and its block is pinned by a neighbour, so growth must move it. The argument refers to an
  // element only indirectly (a reference_wrapper on the stack): no address check can see that, so the element
  // must be built before the old block is freed.
  Vec<int, Alloc> v(alloc());
  ASSERT_TRUE(v.reserve(8));
  while (v.size() < v.capacity()) ASSERT_TRUE(v.push_back(100 + static_cast<int>(v.size())));
  Result<void*> pin = heap().allocate(16);  // directly after the vector's block
  ASSERT_TRUE(pin.has_value());
  const int* before = v.data();
  ASSERT_TRUE(v.emplace_back(std::cref(v[0])));
  ASSERT_TRUE(heap_ok());
  EXPECT_NE(v.data(), before);
  EXPECT_EQ(v.back(), 100);
  for (std::size_t i = 0; i + 1 < v.size(); ++i) EXPECT_EQ(v[i], 100 + static_cast<int>(i));
  heap().deallocate(*pin);
  ASSERT_TRUE(heap_ok());
}

TEST_F(FullTest, NonTriviallyRelocatableElementsNeverGoThroughReallocate) {
  Vec<Counted, Alloc> v(alloc());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(v.emplace_back(i));
  EXPECT_EQ(injector().reallocate_calls, 0u);
  EXPECT_GT(census().moved, 0);
  EXPECT_EQ(census().copied, 0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)].value(), i);
}

TEST_F(FullTest, TriviallyRelocatableMoveOnlyElementsMoveAsBytes) {
  Vec<TrMoveOnly, Alloc> v(alloc());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(v.emplace_back(i));
  ASSERT_TRUE(v.reserve(v.capacity() + 50));  // emplace from an int builds in a new block; reserve reallocates
  ASSERT_TRUE(v.emplace(v.begin(), -7));
  v.erase(v.begin() + 3);
  EXPECT_EQ(census().moved, 0);
  EXPECT_GT(injector().reallocate_calls, 0u);
  EXPECT_EQ(v[0].value(), -7);
  EXPECT_EQ(v[3].value(), 3);
  ASSERT_TRUE(heap_ok());
}

TEST_F(FullTest, CountedElementsBalanceOverEveryOperation) {
  {
    Vec<Counted, Alloc> v(alloc());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(v.emplace_back(i));
    ASSERT_TRUE(v.insert(v.begin() + 5, Counted(100)));
    ASSERT_TRUE(v.resize(30));
    ASSERT_TRUE(v.resize(10));
    v.erase(v.begin(), v.begin() + 3);
    auto popped = v.pop_back();
    ASSERT_TRUE(popped);
    ASSERT_TRUE(v.shrink_to_fit());
    auto clone = std::as_const(v).try_clone();
    ASSERT_TRUE(clone);
    EXPECT_EQ(census().live(), static_cast<long>(v.size() + clone->size()) + 1);
    ASSERT_TRUE(heap_ok());
  }
  EXPECT_EQ(census().live(), 0);
  EXPECT_EQ(census().constructed + census().copied + census().moved, census().destroyed);
}

TEST_F(FullTest, NestedVectorsCloneAllOrNothing) {
  using Inner = Vec<int, Alloc>;
  using Outer = Vec<Inner, Alloc>;
  static_assert(kIsTriviallyRelocatable<Inner>, "a Vec with a trivially copyable handle relocates as bytes");
  Outer outer(alloc());
  for (int i = 0; i < 5; ++i) {
    Inner inner(alloc());
    for (int j = 0; j <= i; ++j) ASSERT_TRUE(inner.push_back(i * 10 + j));
    ASSERT_TRUE(outer.push_back(std::move(inner)));
  }
  auto snap = [](const Outer& o) {
    std::array<int, 16> firsts{};
    for (std::size_t i = 0; i < o.size(); ++i) firsts[i] = o[i].back();
    return std::pair{o.size(), firsts};
  };
  std::optional<Outer> clone;
  const int failures = run_until_success(outer, snap, [&](Outer& o) {
    auto c = std::as_const(o).try_clone();
    if (c) clone.emplace(std::move(*c));
    return c.has_value() ? Result<void>{} : Result<void>(fail(c.error()));
  });
  EXPECT_EQ(failures, 6) << "one outer buffer and five inner ones";
  ASSERT_TRUE(clone);
  ASSERT_EQ(clone->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE((*clone)[i] == outer[i]);
    EXPECT_NE((*clone)[i].data(), outer[i].data());
  }
}

TEST_F(FullTest, VectorOfStrings) {
  using Str = String<Alloc>;
  Vec<Str, Alloc> names(alloc());
  for (const char* name : {"ada", "grace", "barbara", "frances"}) {
    auto s = Str::from(name, alloc());
    ASSERT_TRUE(s);
    ASSERT_TRUE(names.push_back(std::move(*s)));
  }
  auto first = Str::from("edsger", alloc());
  ASSERT_TRUE(first);
  ASSERT_TRUE(names.insert(names.begin(), std::move(*first)));
  names.erase(names.begin() + 2);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "edsger");
  EXPECT_EQ(names[1], "ada");
  EXPECT_EQ(names[2], "barbara");
  EXPECT_EQ(names[3], "frances");
  ASSERT_TRUE(heap_ok());
}

TEST_F(FullTest, PositionsOutsideTheVectorAreRefused) {
  Vec<int, Alloc> v(alloc());
  Vec<int, Alloc> other(alloc());
  ASSERT_TRUE(v.reserve(16));
  ASSERT_TRUE(other.push_back(7));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(v.push_back(i));
  ASSERT_TRUE(heap_ok());
  const int* data = v.data();
  const int* past_end = v.data() + v.size() + 1;  // inside the block (capacity 16), but not a position
  const int* misaligned = reinterpret_cast<const int*>(reinterpret_cast<const char*>(v.data()) + 1);
  const std::array<int, 2> pair = {8, 9};
  for (const int* pos : {past_end, misaligned, static_cast<const int*>(other.data())}) {
    auto emplaced = v.emplace(pos, 1);
    ASSERT_FALSE(emplaced);
    EXPECT_EQ(emplaced.error(), AllocError::kInvalidPointer);
    auto copied = v.insert(pos, pair[0]);
    ASSERT_FALSE(copied);
    EXPECT_EQ(copied.error(), AllocError::kInvalidPointer);
    auto moved = v.insert(pos, 5);
    ASSERT_FALSE(moved);
    EXPECT_EQ(moved.error(), AllocError::kInvalidPointer);
    auto spanned = v.insert(pos, std::span<const int>(pair));
    ASSERT_FALSE(spanned);
    EXPECT_EQ(spanned.error(), AllocError::kInvalidPointer);
    ASSERT_TRUE(heap_ok());
  }
  // Erasing: reversed, past the end, end() itself, another vector's range.
  EXPECT_EQ(v.erase(v.begin() + 3, v.begin() + 1), nullptr);
  EXPECT_EQ(v.erase(v.begin() + 2, past_end), nullptr);
  EXPECT_EQ(v.erase(v.end()), nullptr);
  EXPECT_EQ(v.erase(other.begin(), other.end()), nullptr);
  EXPECT_EQ(v.erase(misaligned), nullptr);
  ASSERT_TRUE(heap_ok());
  EXPECT_EQ(v.data(), data);
  ASSERT_EQ(v.size(), 5u);
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], static_cast<int>(i));
  EXPECT_EQ(other.size(), 1u);
  // Every form takes both ends of the valid range, end() included (within the capacity of 16: nothing grows).
  ASSERT_TRUE(v.emplace(v.end(), 7));
  ASSERT_TRUE(heap_ok());
  ASSERT_TRUE(v.insert(v.end(), pair[0]));
  ASSERT_TRUE(heap_ok());
  ASSERT_TRUE(v.insert(v.end(), std::span<const int>(pair)));
  ASSERT_TRUE(heap_ok());
  ASSERT_TRUE(v.emplace(v.begin(), 6));
  ASSERT_TRUE(heap_ok());
  ASSERT_TRUE(v.insert(v.begin(), pair[1]));
  ASSERT_TRUE(heap_ok());
  ASSERT_TRUE(v.insert(v.begin(), std::span<const int>(pair)));
  ASSERT_TRUE(heap_ok());
  EXPECT_TRUE(v == std::span<const int>(std::array<int, 13>{8, 9, 9, 6, 0, 1, 2, 3, 4, 7, 8, 8, 9}));
  EXPECT_EQ(v.data(), data);
  ASSERT_NE(v.erase(v.begin(), v.begin() + 4), nullptr);
  ASSERT_NE(v.erase(v.end() - 4, v.end()), nullptr);
  ASSERT_TRUE(heap_ok());
  // The ends of the valid ranges still work.
  ASSERT_TRUE(v.insert(v.end(), 5));
  ASSERT_TRUE(v.insert(v.begin(), -1));
  EXPECT_EQ(v.erase(v.begin(), v.begin()), v.begin());
  EXPECT_EQ(v.erase(v.end(), v.end()), v.end());
  EXPECT_EQ(v.erase(v.begin()), v.begin());
  const int* after_last = v.erase(v.end() - 1);
  EXPECT_EQ(after_last, v.end());
  ASSERT_TRUE(heap_ok());
  EXPECT_TRUE(v == std::span<const int>(std::array<int, 5>{0, 1, 2, 3, 4}));
}

/// A tree node that owns its children: moving a subtree into its parent's place assigns a vector from one that an
/// element of the target owns.
struct TreeNode {
  Counted value;
  Vec<std::unique_ptr<TreeNode>, FullTest::Alloc> kids;
};

TEST_F(FullTest, MoveAssignmentFromAVectorAnElementOwns) {
  const std::size_t blocks = heap().stats().live_allocations;
  TreeNode root{Counted(0), Vec<std::unique_ptr<TreeNode>, Alloc>(alloc())};
  auto child = std::make_unique<TreeNode>(TreeNode{Counted(1), Vec<std::unique_ptr<TreeNode>, Alloc>(alloc())});
  for (int i = 0; i < 3; ++i) {
    auto grandchild =
        std::make_unique<TreeNode>(TreeNode{Counted(10 + i), Vec<std::unique_ptr<TreeNode>, Alloc>(alloc())});
    ASSERT_TRUE(child->kids.push_back(std::move(grandchild)));
    ASSERT_TRUE(heap_ok());
  }
  const void* grandchildren = child->kids.data();
  ASSERT_TRUE(root.kids.push_back(std::move(child)));
  ASSERT_TRUE(heap_ok());

  // The child, which owns the source, is destroyed by the assignment: its kids must be taken first.
  root.kids = std::move(root.kids[0]->kids);
  ASSERT_TRUE(heap_ok());
  ASSERT_EQ(root.kids.size(), 3u);
  EXPECT_EQ(root.kids.data(), grandchildren);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(root.kids[i]->value.value(), 10 + static_cast<int>(i));
  EXPECT_EQ(heap().stats().live_allocations, blocks + 1) << "root's old buffer is freed; the grandchildren's is root's";
  EXPECT_EQ(census().live(), 4) << "root and its three grandchildren";
}

// ---- Failed growth constructs nothing and leaves the arguments untouched (issue 10, case 3) ----------------------

/// A copyable, trivially relocatable element whose copies and destructions are counted.
struct Tally {
  static inline int copies = 0;
  static inline int destructions = 0;
  int value;
  explicit Tally(int v) noexcept : value(v) {}
  Tally(const Tally& o) noexcept : value(o.value) { ++copies; }
  Tally& operator=(const Tally&) = delete;
  ~Tally() { ++destructions; }
};

}  // namespace

template <>
struct IsTriviallyRelocatable<Tally> : std::true_type {};

namespace {

/// A heap over 256 bytes (a few elements fill it), reached through HeapRef, which has reallocate and usable_size.
template <class Heap>
class VecFailedGrowthTest : public ::testing::Test {
 protected:
  struct Owned {
    alignas(64) std::byte buf[256] = {};
    Heap heap{std::span<std::byte>(buf)};
  };
  Heap& heap() { return owned_->heap; }
  ::testing::AssertionResult heap_ok() {
    ValidateResult r = heap().validate();
    if (!r) return ::testing::AssertionFailure() << "validate(): " << r.error().what;
    return ::testing::AssertionSuccess();
  }
  std::unique_ptr<Owned> owned_ = std::make_unique<Owned>();
};
using SmallHeaps =
    ::testing::Types<BasicHeap<FirstFit, CompactTags, RegionSource>, BasicHeap<BestFit, FullTags, RegionSource>,
                     BasicHeap<NextFit, BasicCompactTags<std::uint32_t>, RegionSource>>;
TYPED_TEST_SUITE(VecFailedGrowthTest, SmallHeaps);

// The reproducer (tests/vec_failed_growth_check.h, which bare-metal rv32 runs too): emplace_back(new
// int(42)) until it fails; the failing call used to build an Owner from the pointer before growing through
// reallocate and destroy it on failure, deleting the caller's int.
TYPED_TEST(VecFailedGrowthTest, EmplaceOfAnOwningHandleLeavesItWithTheCaller) {
  const test::FailedGrowthReport report = test::check_failed_emplace_keeps_argument<TypeParam>();
  EXPECT_TRUE(report.ok()) << report.failure << " at call " << report.call;
  EXPECT_EQ(report.failures, 2);
}

// push_back(const T&) and insert(pos, const T&) on failed growth construct no copy (none built and destroyed).
TYPED_TEST(VecFailedGrowthTest, CopyingInsertsConstructNothingOnFailure) {
  Vec<Tally, HeapRef<TypeParam>> v{HeapRef<TypeParam>(this->heap())};
  const Tally outside(7);
  int failures = 0;
  for (int i = 0; i < 128 && failures < 2; ++i) {
    const int copies = Tally::copies, destructions = Tally::destructions;
    const std::size_t size = v.size();
    const bool ok = (i % 2 == 0) ? v.push_back(outside).has_value() : v.insert(v.begin(), outside).has_value();
    ASSERT_TRUE(this->heap_ok());
    if (!ok) {
      ++failures;
      EXPECT_EQ(Tally::copies, copies) << "a failed growth copied the argument";
      EXPECT_EQ(Tally::destructions, destructions);
      EXPECT_EQ(v.size(), size);
    } else {
      EXPECT_EQ(Tally::copies, copies + 1);
    }
  }
  EXPECT_EQ(failures, 2);
  // A copy of an element of the vector itself, growing in place or moved: still the right value.
  ASSERT_TRUE(v.pop_back().has_value());
  ASSERT_TRUE(v.shrink_to_fit());
  ASSERT_TRUE(this->heap_ok());
  ASSERT_TRUE(v.push_back(v[0]));
  ASSERT_TRUE(this->heap_ok());
  EXPECT_EQ(v.back().value, 7);
}

}  // namespace
}  // namespace nostd
