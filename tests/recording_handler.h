// tests/recording_handler.h — a check-policy handler for tests: it records the fault and jumps back into the test,
// so that a test can expect a fault (EXPECT_FAULT) and go on inspecting the heap afterwards.
//
// Heaps under it use NullLock: a handler must not return, and leaving by longjmp skips the lock guard's release,
// which only a NullLock heap tolerates.
#pragma once

#include <gtest/gtest.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include "alloc/check/heap_fault.h"

namespace nostd::testing {

/// Records the last fault and the number of calls, then longjmps to `*resume` (set by EXPECT_FAULT).
struct RecordingHandler {
  static inline std::jmp_buf* resume = nullptr;
  static inline HeapFault last{};
  static inline int calls = 0;
  /// Never returns: jumps back into the EXPECT_FAULT that armed it. The target is used once: a fault outside any
  /// EXPECT_FAULT (or a second one inside it) aborts with the fault's reason, since jumping into the dead frame of an
  /// earlier EXPECT_FAULT would re-run the code after it (on Cortex-M4 that looped over 30,000 times).
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept {
    last = fault;
    ++calls;
    std::jmp_buf* const target = resume;
    resume = nullptr;
    if (target == nullptr) {
      std::fprintf(stderr, "unexpected heap fault (no EXPECT_FAULT armed): error %d at %p: %s\n",
                   static_cast<int>(fault.error), fault.where, fault.what);
      std::abort();
    }
    std::longjmp(*target, 1);
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
    ::nostd::testing::RecordingHandler::resume = nullptr;                                     \
  } while (0)
