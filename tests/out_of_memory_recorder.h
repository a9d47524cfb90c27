// tests/out_of_memory_recorder.h — an out-of-memory handler for the door tests that records the failure and jumps
// back into the test, so a test can check what reached the handler and that the heap lost nothing. Works on every
// platform (no fork, unlike a death test). Use it only around direct allocator calls, where no container is left
// half-updated by the jump.
#pragma once

#include <gtest/gtest.h>

#include <csetjmp>

#include "alloc/adapt/out_of_memory.h"

namespace nostd::testing {

/// Records each failure in `last` and `calls`, then longjmps to `*resume`.
struct RecordingOom {
  static inline std::jmp_buf* resume = nullptr;
  static inline OutOfMemory last{};
  static inline int calls = 0;
  /// Records and jumps back; never returns.
  [[noreturn]] static void on_out_of_memory(const OutOfMemory& failure) {
    last = failure;
    ++calls;
    std::longjmp(*resume, 1);
  }
};

/// Runs `statement` and succeeds when it reached RecordingOom exactly once instead of returning. The setjmp lives
/// here, not in the test, so no variable of the test can be clobbered by the jump back.
template <class Statement>
::testing::AssertionResult reaches_out_of_memory(Statement&& statement) {
  std::jmp_buf env;
  RecordingOom::resume = &env;
  const volatile int calls_before = RecordingOom::calls;
  if (setjmp(env) == 0) {
    statement();
    return ::testing::AssertionFailure() << "returned without calling the out-of-memory handler";
  }
  if (RecordingOom::calls != calls_before + 1) {
    return ::testing::AssertionFailure() << "the handler ran " << RecordingOom::calls - calls_before << " times";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nostd::testing

/// Runs `statement`, expecting it to reach RecordingOom (once) instead of returning.
#define EXPECT_OUT_OF_MEMORY(statement) \
  EXPECT_TRUE(::nostd::testing::reaches_out_of_memory([&] { statement; })) << #statement
