// alloc/check/heap_fault.h — `HeapFault`: what `validate()` and the check policies report about a broken heap.
#pragma once

#include "alloc/error.h"

namespace nostd {

/// A detected misuse or broken invariant: which error, where (the block or pointer concerned), and why.
struct HeapFault {
  AllocError error;   ///< kInvalidPointer, kDoubleFree, kCorrupted, or kInvalidLayout (a sized deallocate whose
                      ///< layout does not fit the block, from DebugChecks on).
  const void* where;  ///< The address of the block, tag or pointer at fault.
  const char* what;   ///< A static, human-readable reason ("free blocks are adjacent", ...).
};

/// The result of `validate()`: nothing, or the first broken invariant found.
using ValidateResult = std::expected<void, HeapFault>;

namespace internal {

/// Calls `Handler::on_fault(fault)` and, should it return, stops the program with a trap instruction: a heap that
/// went on after a detected fault would act on the corruption it found (a double free would link a block twice).
/// The concepts cannot check `[[noreturn]]`, so every fault the heap and the check policies report comes through
/// here. When `Handler::on_fault` is `[[noreturn]]` the trap is unreachable and the compiler emits nothing for it.
template <class Handler>
[[noreturn]] inline void on_fault_or_trap(const HeapFault& fault) noexcept {
  Handler::on_fault(fault);
  __builtin_trap();  // GCC and Clang: one instruction (ud2, udf, ebreak); no header needed in freestanding code
}

}  // namespace internal

}  // namespace nostd
