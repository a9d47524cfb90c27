// tests/container_fixture.h — the heaps the container suites run on (tests/container_heaps.h), and their common
// fixture.
//
// Each suite is a typed test over a HeapConfig: a BasicHeap composition with static storage plus the optional
// abilities the containers' allocator handle exposes. The fixture gives every test a FaultyAlloc in front of the
// heap, checks after every test that the heap validates, that no block leaked and that every element constructed
// was destroyed exactly once, and runs an operation under fault injection (`run_until_success`).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "alloc/alloc.h"
#include "alloc/error.h"
#include "tests/container_heaps.h"
#include "tests/elements.h"
#include "tests/fault_allocator.h"

namespace nostd::test {

/// A heap composition (one static instance per config) and the abilities its allocator handle exposes.
template <class HeapT, unsigned kCapsV>
struct HeapConfig {
  /// The heap type.
  using Heap = HeapT;
  /// The abilities FaultyAlloc forwards (kReallocate, kUsableSize).
  static constexpr unsigned kCaps = kCapsV;
  /// The config's heap: static storage, constant-initialised, shared by the tests of one binary.
  static Heap& heap() {
    static constinit Heap instance;
    return instance;
  }
};

/// The fixture of the container suites.
template <class Config>
class ContainerTest : public ::testing::Test {
 public:
  /// The heap type.
  using Heap = typename Config::Heap;
  /// The allocator handle containers get.
  using Alloc = FaultyAlloc<Heap, Config::kCaps>;

 protected:
  void SetUp() override {
    census() = Census{};
    live_at_start_ = heap().stats().live_allocations;
    ASSERT_TRUE(heap_ok());
  }

  void TearDown() override {
    injector_.never_fail();
    EXPECT_TRUE(heap_ok());
    EXPECT_EQ(heap().stats().live_allocations, live_at_start_) << "blocks leaked";
    EXPECT_EQ(census().live(), 0) << "elements not destroyed";
    EXPECT_EQ(census().errors, 0) << "an element was used dead, destroyed twice or moved as bytes";
  }

  /// The heap under test.
  Heap& heap() { return Config::heap(); }
  /// A fresh handle to the heap through the fault injector.
  Alloc alloc() { return Alloc(injector_); }
  /// The fault injector.
  FaultInjector<Heap>& injector() { return injector_; }

  /// Success when the heap validates; otherwise the fault's reason.
  ::testing::AssertionResult heap_ok() {
    auto valid = heap().validate();
    if (valid) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "heap invalid: " << valid.error().what;
  }

  /// Runs `op(container)` with every allocation attempt failing after the first k, for k = 0, 1, 2, ... until it
  /// succeeds. After each run the heap must validate; after each failure `snap(container)` must be as before, no
  /// element may have been created or lost and no block leaked. Returns how many runs failed (-1: never succeeded).
  template <class Container, class Snap, class Op>
  int run_until_success(Container& container, Snap snap, Op op) {
    for (std::size_t k = 0; k < 64; ++k) {
      const auto before = snap(container);
      const long live_elements = census().live();
      const std::size_t live_blocks = heap().stats().live_allocations;
      injector_.fail_after(k);
      const auto result = op(container);
      injector_.never_fail();
      EXPECT_TRUE(heap_ok()) << "after " << k << " successful attempts";
      if (result) return static_cast<int>(k);
      EXPECT_EQ(result.error(), AllocError::kOutOfMemory);
      EXPECT_TRUE(snap(container) == before) << "container changed by a failed operation (k = " << k << ")";
      EXPECT_EQ(census().live(), live_elements) << "elements leaked or lost (k = " << k << ")";
      EXPECT_EQ(heap().stats().live_allocations, live_blocks) << "blocks leaked (k = " << k << ")";
    }
    ADD_FAILURE() << "operation never succeeded";
    return -1;
  }

  /// Returns `expect(what, result)` for calls that must be refused as too large before the heap is asked: `result`
  /// kSizeOverflow, the heap valid, `snap(container)` and the live blocks as when the checker was made, and no
  /// allocate or reallocate through the injector since then (its counts are reset here).
  template <class Container, class Snap>
  auto size_overflow_checker(Container& container, Snap snap) {
    return refusal_checker(container, snap, AllocError::kSizeOverflow);
  }

  /// Returns `expect(what, result)` for calls that ask for exactly max_size() elements: not too large, so the heap is
  /// asked (an allocate or reallocate through the injector since the checker was made or the last call) and refuses
  /// with kOutOfMemory; the heap valid, `snap(container)` and the live blocks as when the checker was made.
  template <class Container, class Snap>
  auto out_of_memory_checker(Container& container, Snap snap) {
    return refusal_checker(container, snap, AllocError::kOutOfMemory);
  }

 private:
  // The two checkers above: kSizeOverflow without asking the heap, or kOutOfMemory from the heap.
  template <class Container, class Snap>
  auto refusal_checker(Container& container, Snap snap, AllocError expected) {
    const auto before = snap(container);
    const std::size_t blocks = heap().stats().live_allocations;
    injector_.reset_counts();
    return [this, &container, snap, before, blocks, expected](const char* what, const Result<void>& result) {
      EXPECT_TRUE(heap_ok()) << what;
      ASSERT_FALSE(result) << what;
      EXPECT_EQ(result.error(), expected) << what;
      EXPECT_TRUE(snap(container) == before) << what;
      const std::size_t asked = injector_.allocate_calls + injector_.reallocate_calls;
      if (expected == AllocError::kSizeOverflow) {
        EXPECT_EQ(asked, 0u) << what << ": asked the heap";
      } else {
        EXPECT_GT(asked, 0u) << what << ": refused without asking the heap";
      }
      injector_.reset_counts();
      EXPECT_EQ(heap().stats().live_allocations, blocks) << what;
    };
  }

  FaultInjector<Heap> injector_{Config::heap()};
  std::size_t live_at_start_ = 0;
};

}  // namespace nostd::test
