// tests/elements.h — element types for container tests, and a census that checks their lifetimes.
//
//   Counted      copyable; counts constructions, copies, moves and destructions; detects use after destruction,
//                double destruction and being moved as bytes (it records its own address).
//   MoveOnly     Counted without copies.
//   TrMoveOnly   move-only, not trivially copyable, but opted in to IsTriviallyRelocatable: containers must move
//                it with memcpy (its move constructor counts, so a test can see it was not called).
//   Aligned64    trivially copyable, `alignas(64)`.
// Elem<T>::make(int) builds an element holding a value; Elem<T>::value(e) reads it back.
#pragma once

#include <compare>
#include <cstddef>
#include <type_traits>

#include "containers/relocate.h"

namespace nostd::test {

/// Lifetime counters for the element types of this file. Reset at the start of each test.
struct Census {
  long constructed = 0;  ///< Value and default constructions.
  long copied = 0;       ///< Copy constructions.
  long moved = 0;        ///< Move constructions.
  long destroyed = 0;    ///< Destructions.
  long errors = 0;       ///< Uses of a dead object, double destructions, objects found at a foreign address.
  /// Objects alive now.
  long live() const noexcept { return constructed + copied + moved - destroyed; }
};

/// The one census.
inline Census& census() noexcept {
  static Census instance;
  return instance;
}

/// A copyable, counted element that checks it is alive and at the address it was built at.
class Counted {
 public:
  /// An element holding `value` (0 by default).
  explicit Counted(int value = 0) noexcept : self_(this), value_(value) { ++census().constructed; }
  /// A copy.
  Counted(const Counted& other) noexcept : self_(this), value_(other.value()) { ++census().copied; }
  /// A move; the source keeps `kMovedFrom`.
  Counted(Counted&& other) noexcept : self_(this), value_(other.value()) {
    other.value_ = kMovedFrom;
    ++census().moved;
  }
  /// Copy assignment.
  Counted& operator=(const Counted& other) noexcept {
    check();
    value_ = other.value();
    return *this;
  }
  /// Move assignment.
  Counted& operator=(Counted&& other) noexcept {
    check();
    value_ = other.value();
    other.value_ = kMovedFrom;
    return *this;
  }
  ~Counted() {
    check();
    alive_ = kDead;
    ++census().destroyed;
  }

  /// The value; counts an error when this object is dead or was moved as bytes.
  int value() const noexcept {
    check();
    return value_;
  }

  /// Value equality.
  friend bool operator==(const Counted& a, const Counted& b) noexcept { return a.value() == b.value(); }
  /// Value order.
  friend std::strong_ordering operator<=>(const Counted& a, const Counted& b) noexcept {
    return a.value() <=> b.value();
  }

  /// The value a moved-from element holds.
  static constexpr int kMovedFrom = -1;

 private:
  static constexpr unsigned kAlive = 0xA11CEu;
  static constexpr unsigned kDead = 0xDEADu;
  void check() const noexcept {
    if (self_ != this || alive_ != kAlive) ++census().errors;
  }

  const Counted* self_;
  int value_;
  unsigned alive_ = kAlive;
};

/// A counted element without copies.
class MoveOnly : public Counted {
 public:
  /// An element holding `value`.
  explicit MoveOnly(int value = 0) noexcept : Counted(value) {}
  MoveOnly(MoveOnly&&) noexcept = default;
  MoveOnly& operator=(MoveOnly&&) noexcept = default;
  MoveOnly(const MoveOnly&) = delete;
  MoveOnly& operator=(const MoveOnly&) = delete;
  ~MoveOnly() = default;
};

/// A move-only element that opted in to trivial relocation (see IsTriviallyRelocatable below).
class TrMoveOnly {
 public:
  /// An element holding `value`.
  explicit TrMoveOnly(int value = 0) noexcept : value_(value) { ++census().constructed; }
  /// A move (counted: containers should relocate this type as bytes instead).
  TrMoveOnly(TrMoveOnly&& other) noexcept : value_(other.value_) {
    other.value_ = Counted::kMovedFrom;
    ++census().moved;
  }
  TrMoveOnly& operator=(TrMoveOnly&& other) noexcept {
    value_ = other.value_;
    other.value_ = Counted::kMovedFrom;
    return *this;
  }
  TrMoveOnly(const TrMoveOnly&) = delete;
  TrMoveOnly& operator=(const TrMoveOnly&) = delete;
  ~TrMoveOnly() { ++census().destroyed; }
  /// The value.
  int value() const noexcept { return value_; }

 private:
  int value_;
};

/// A trivially copyable, over-aligned element.
struct alignas(64) Aligned64 {
  int value = 0;  ///< The value.
  /// Memberwise comparison.
  friend auto operator<=>(const Aligned64&, const Aligned64&) = default;
};

/// How tests build and read elements of each type.
template <class T>
struct Elem {
  /// An element holding `value`.
  static T make(int value) { return T(value); }
  /// The value an element holds.
  static int value(const T& element) { return element.value(); }
};
/// `int` elements hold themselves.
template <>
struct Elem<int> {
  /// `value`.
  static int make(int value) { return value; }
  /// `element`.
  static int value(int element) { return element; }
};
/// `Aligned64` holds its value in a member.
template <>
struct Elem<Aligned64> {
  /// `{value}`.
  static Aligned64 make(int value) { return Aligned64{value}; }
  /// `element.value`.
  static int value(const Aligned64& element) { return element.value; }
};

}  // namespace nostd::test

/// TrMoveOnly holds no pointer into itself: it may move as bytes.
template <>
struct nostd::IsTriviallyRelocatable<nostd::test::TrMoveOnly> : std::true_type {};
