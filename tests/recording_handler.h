// tests/recording_handler.h — a check-policy handler for tests: it records the fault and jumps back into the test,
// so that a test can expect a fault (EXPECT_FAULT) and go on inspecting the heap afterwards.
//
// Heaps under it use NullLock: a handler must not return, and leaving by longjmp skips the lock guard's release,
// which only a NullLock heap tolerates.
#pragma once

#include <gtest/gtest.h>

#include <csetjmp>

#include "alloc/check/heap_fault.h"

namespace nostd::testing {

/// Records the last fault and the number of calls, then longjmps to `*resume` (set by EXPECT_FAULT).
struct RecordingHandler {
  static inline std::jmp_buf* resume = nullptr;
  static inline HeapFault last{};
  static inline int calls = 0;
  /// Never returns: jumps back into EXPECT_FAULT.
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept {
    last = fault;
    ++calls;
    std::longjmp(*resume, 1);
  }
};

}  // namespace nostd::testing

/// Runs `misuse` expecting RecordingHandler to be called once with `expected_error` about `expected_where`.
#define EXPECT_FAULT(misuse, expected_error, expected_where)                                  \
  do {                                                                                        \
    std::jmp_buf env;                                                                         \
    ::nostd::testing::RecordingHandler::resume = &env;                                        \
    const int before = ::nostd::testing::RecordingHandler::calls;                             \
    if (setjmp(env) == 0) {                                                                   \
      misuse;                                                                                 \
      ADD_FAILURE() << "no fault reported for: " #misuse;                                     \
    }                                                                                         \
    EXPECT_EQ(::nostd::testing::RecordingHandler::calls, before + 1);                         \
    EXPECT_EQ(::nostd::testing::RecordingHandler::last.error, expected_error);                \
    EXPECT_EQ(::nostd::testing::RecordingHandler::last.where, (const void*)(expected_where)); \
    EXPECT_NE(::nostd::testing::RecordingHandler::last.what, nullptr);                        \
  } while (0)
