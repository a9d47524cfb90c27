// tests/vec_fixture.h — the typed fixture of the Vec suites (tests/vec_test.cc, tests/vec_exceptions_test.cc): an
// element type on a heap config, the vector's observable state to compare before and after an operation, and
// helpers that fill a vector to its capacity and compare it with a Model.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>

#include "containers/vec.h"
#include "tests/container_fixture.h"
#include "tests/elements.h"
#include "tests/vec_model_check.h"

namespace nostd::test {

/// One typed-test case: an element type on a heap config.
template <class ElemT, class ConfigT>
struct VecCase {
  /// The element type.
  using T = ElemT;
  /// The heap config (HeapConfig).
  using Config = ConfigT;
};

/// The fixture of a Vec suite over VecCase `C`: ContainerTest's heap and checks, plus the vector's helpers.
template <class C>
class VecFixture : public ContainerTest<typename C::Config> {
 protected:
  /// The element type.
  using Element = typename C::T;
  /// How to make an element of a value and read it back.
  using Values = Elem<Element>;
  /// The vector under test, on the fixture's allocator handle.
  using Vector = Vec<Element, typename ContainerTest<typename C::Config>::Alloc>;

  /// Size, capacity, buffer and the first values: what a failed operation must leave as it was.
  struct Snapshot {
    std::size_t size = 0;
    std::size_t capacity = 0;
    const void* data = nullptr;
    std::array<int, 256> values{};
    bool operator==(const Snapshot&) const = default;
  };

  /// `v`'s snapshot.
  static Snapshot snapshot(const Vector& v) {
    Snapshot s{v.size(), v.capacity(), v.data(), {}};
    for (std::size_t i = 0; i < v.size() && i < s.values.size(); ++i) s.values[i] = Values::value(v[i]);
    return s;
  }

  /// An empty vector on the fixture's allocator.
  Vector make_vec() { return Vector(this->alloc()); }

  /// Appends values (next_, next_ + 1, ...) until `v` has at least `at_least` elements and no spare capacity, so
  /// that the next growth must allocate.
  void fill_to_capacity(Vector& v, Model& model, std::size_t at_least) {
    while (v.size() < at_least || v.size() != v.capacity()) {
      ASSERT_TRUE(v.push_back(Values::make(next_)));
      model.push_back(next_++);
    }
    ASSERT_TRUE(this->heap_ok());
  }

  /// Expects `v` to hold `model`'s values, in order.
  static void expect_matches(const Vector& v, const Model& model) {
    ASSERT_EQ(v.size(), model.size());
    for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(Values::value(v[i]), model[i]) << "at " << i;
  }

  /// The next value fill_to_capacity appends.
  int next_ = 0;
};

}  // namespace nostd::test
