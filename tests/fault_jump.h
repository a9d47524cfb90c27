// tests/fault_jump.h — a check-policy handler for tests, framework-free: it records the fault and jumps back into
// the test, so that a test can expect a fault and go on inspecting the heap afterwards. GoogleTest suites use it
// through EXPECT_FAULT (tests/recording_handler.h); programs without GoogleTest (bare-metal rv32) through
// faults_with() below.
//
// Heaps under it use NullLock: a handler must not return, and leaving by longjmp skips the lock guard's release,
// which only a NullLock heap tolerates.
#pragma once

#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include "alloc/check/heap_fault.h"
#include "alloc/error.h"

namespace nostd::testing {

/// Records the last fault and the number of calls, then longjmps to `*resume` (set by EXPECT_FAULT or faults_with).
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

/// Runs `misuse()` and returns true when RecordingHandler was called exactly once, with `error` about `where`;
/// false when the misuse returned without a report or the report differs.
template <class Misuse>
bool faults_with(Misuse&& misuse, AllocError error, const void* where) {
  std::jmp_buf env;
  RecordingHandler::resume = &env;
  const int before = RecordingHandler::calls;
  volatile bool returned = false;  // read after a longjmp
  if (setjmp(env) == 0) {
    misuse();
    returned = true;
  }
  RecordingHandler::resume = nullptr;
  return !returned && RecordingHandler::calls == before + 1 && RecordingHandler::last.error == error &&
         RecordingHandler::last.where == where;
}

}  // namespace nostd::testing
