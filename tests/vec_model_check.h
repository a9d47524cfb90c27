// tests/vec_model_check.h — the Vec model check, framework-free: seeded random operations (push_back, insert,
// self-aliasing range insert, erase, pop_back, resize, reserve, shrink_to_fit, clear) on a Vec, one in four with
// injected allocation failures, compared after every step against a plain array model. After every step the heap
// validates and the vector equals the model; after a failed operation the vector (size, capacity, data pointer,
// elements) and the number of live elements are exactly as before: the strong guarantee.
//
// Called by the GoogleTest suite (tests/vec_test.cc, VecStressTest) and by the bare-metal check program
// (tests/container_checks.cc), which cannot link GoogleTest.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/error.h"
#include "containers/vec.h"
#include "tests/elements.h"
#include "tests/fault_allocator.h"

namespace nostd::test {

/// The expected contents of a vector, as the values of its elements (at most 4096).
class Model {
 public:
  /// Appends `value`.
  void push_back(int value) { insert(size_, {&value, 1}); }
  /// Inserts `values` (which may be a part of this model) at `pos`.
  void insert(std::size_t pos, std::span<const int> values) {
    std::array<int, kMax> copy{};  // values may be a part of this model
    for (std::size_t i = 0; i < values.size(); ++i) copy[i] = values[i];
    for (std::size_t i = size_; i-- > pos;) values_[i + values.size()] = values_[i];
    for (std::size_t i = 0; i < values.size(); ++i) values_[pos + i] = copy[i];
    size_ += values.size();
  }
  /// Removes [first, last).
  void erase(std::size_t first, std::size_t last) {
    for (std::size_t i = last; i < size_; ++i) values_[i - (last - first)] = values_[i];
    size_ -= last - first;
  }
  /// Grows with copies of `value`, or shrinks, to `size` elements.
  void resize(std::size_t size, int value) {
    for (std::size_t i = size_; i < size; ++i) values_[i] = value;
    size_ = size;
  }
  /// The value at `i`.
  int operator[](std::size_t i) const { return values_[i]; }
  /// The number of values.
  std::size_t size() const { return size_; }
  /// All values.
  std::span<const int> span() const { return {values_.data(), size_}; }

 private:
  static constexpr std::size_t kMax = 4096;
  std::array<int, kMax> values_{};
  std::size_t size_ = 0;
};

/// Size, capacity, buffer and the first values of a vector: what a failed operation must leave as it was.
struct VecSnapshot {
  std::size_t size = 0;
  std::size_t capacity = 0;
  const void* data = nullptr;
  std::array<int, 256> values{};
  bool operator==(const VecSnapshot&) const = default;

  /// The snapshot of `v`, whose elements are read with Elem<T>::value.
  template <class V>
  static VecSnapshot of(const V& v) {
    using T = typename V::value_type;
    VecSnapshot s{v.size(), v.capacity(), v.data(), {}};
    for (std::size_t i = 0; i < v.size() && i < s.values.size(); ++i) s.values[i] = Elem<T>::value(v[i]);
    return s;
  }
};

/// True when `v` holds exactly the model's values.
template <class V>
bool matches(const V& v, const Model& model) {
  using T = typename V::value_type;
  if (v.size() != model.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (Elem<T>::value(v[i]) != model[i]) return false;
  }
  return true;
}

/// A small deterministic generator (64-bit LCG, high bits), so a failure replays exactly.
class Lcg {
 public:
  /// A generator seeded with `seed`.
  explicit Lcg(std::uint64_t seed) : state_(seed) {}
  /// A number in [0, bound).
  std::size_t below(std::size_t bound) {
    state_ = state_ * 6364136223846793005u + 1442695040888963407u;
    return static_cast<std::size_t>(state_ >> 33) % bound;
  }

 private:
  std::uint64_t state_;
};

/// What a model check saw: `failure` is null when every step held, else what broke at `step`.
struct VecModelReport {
  const char* failure = nullptr;
  int step = 0;
  int failed_operations = 0;  ///< operations that failed (by injection), each checked for the strong guarantee
  /// True when every step held.
  bool ok() const noexcept { return failure == nullptr; }
};

/// Runs `steps` seeded random operations on a Vec<T, FaultyAlloc<Heap, kCaps>> over `injector`'s heap against a
/// Model. The vector is destroyed before returning (so its blocks are freed and its elements destroyed).
template <class T, unsigned kCaps, class Heap>
VecModelReport run_vec_model(FaultInjector<Heap>& injector, std::uint64_t seed = 20261125, int steps = 3000) {
  using E = Elem<T>;
  Vec<T, FaultyAlloc<Heap, kCaps>> v{FaultyAlloc<Heap, kCaps>(injector)};
  Model model;
  Lcg random(seed);
  VecModelReport report;
  int next = 0;
  for (int step = 0; step < steps; ++step) {
    const VecSnapshot before = VecSnapshot::of(v);
    const long live_before = census().live();
    // One operation in four runs with injected failures: either every attempt from the first or second on fails,
    // or only one of the next three does (which the exact-size retry may absorb).
    if (random.below(4) == 0) {
      if (random.below(2) == 0) {
        injector.fail_after(random.below(2));
      } else {
        injector.fail_nth(1 + random.below(3));
      }
    }
    // The outcome as a flag and an error, not a copied Result<void>: GCC 12 at -O1 (the cross toolchains) misreads
    // a reassigned local std::expected<void, E> as maybe-uninitialized (README, "Platforms").
    bool ok = true;
    AllocError error = AllocError::kOutOfMemory;
    auto note = [&ok, &error](const auto& r) {
      ok = r.has_value();
      if (!ok) error = r.error();
    };
    std::size_t pos = v.empty() ? 0 : random.below(v.size() + 1);
    const std::size_t op = random.below(10);
    const bool room = model.size() < 2000;  // the model's fixed storage (and the heap) bound the size
    Model expected = model;
    if ((op <= 2 || op == 3) && room) {
      const int value = next++;
      if (op <= 2) {
        pos = model.size();
        note(v.push_back(E::make(value)));
      } else {
        auto inserted = v.insert(v.begin() + pos, E::make(value));
        note(inserted);
      }
      if (ok) expected.insert(pos, {&value, 1});
    } else if (op == 4 && room && !v.empty()) {
      const std::size_t first = random.below(v.size());
      const std::size_t count = 1 + random.below(std::min<std::size_t>(8, v.size() - first));
      auto r = v.insert(v.begin() + pos, std::span<const T>(v.data() + first, count));
      if (r) expected.insert(pos, model.span().subspan(first, count));
      note(r);
    } else if (op == 5 && !v.empty()) {
      const std::size_t first = random.below(v.size());
      const std::size_t last = first + random.below(v.size() - first + 1);
      v.erase(v.begin() + first, v.begin() + last);
      expected.erase(first, last);
    } else if (op == 6 && !v.empty()) {
      auto popped = v.pop_back();
      if (!popped || E::value(*popped) != model[model.size() - 1]) {
        report.failure = "pop_back did not return the last element";
        report.step = step;
        return report;
      }
      expected.erase(model.size() - 1, model.size());
    } else if (op == 7 && room) {
      const std::size_t size = random.below(model.size() + 20);
      note(v.resize(size, E::make(-2)));
      if (ok) {
        if (size < model.size()) {
          expected.erase(size, model.size());
        } else {
          expected.resize(size, -2);
        }
      }
    } else if (op == 8) {
      note(random.below(2) == 0 ? v.reserve(v.size() + random.below(50)) : v.shrink_to_fit());
    } else if (op == 9 && random.below(8) == 0) {
      v.clear();
      expected.erase(0, model.size());
    }
    injector.never_fail();
    const char* failure = nullptr;
    if (!injector.heap().validate()) {
      failure = "the heap does not validate";
    } else if (!ok) {
      ++report.failed_operations;
      if (error != AllocError::kOutOfMemory) {
        failure = "an operation failed with an error other than out of memory";
      } else if (!(VecSnapshot::of(v) == before)) {
        failure = "a failed operation changed the vector";
      } else if (census().live() != live_before) {
        failure = "a failed operation created or lost elements";
      }
    } else {
      model = expected;
    }
    if (failure == nullptr && !matches(v, model)) failure = "the vector differs from the model";
    if (failure != nullptr) {
      report.failure = failure;
      report.step = step;
      return report;
    }
  }
  // Injected failures only bite when an operation allocates; 3,000 steps see well over 20 of them, a short run at
  // least one.
  if (report.failed_operations <= (steps >= 3000 ? 20 : 0)) report.failure = "too few injected failures hit a growth";
  report.step = steps;
  return report;
}

}  // namespace nostd::test
