// alloc/check/heap_fault.h — `HeapFault`: what `validate()` and the check policies report about a broken heap.
#pragma once

#include "alloc/error.h"

namespace nostd {

/// A detected misuse or broken invariant: which error, where (the block or pointer concerned), and why.
struct HeapFault {
  AllocError error;   ///< kInvalidPointer, kDoubleFree or kCorrupted.
  const void* where;  ///< The address of the block, tag or pointer at fault.
  const char* what;   ///< A static, human-readable reason ("free blocks are adjacent", ...).
};

/// The result of `validate()`: nothing, or the first broken invariant found.
using ValidateResult = std::expected<void, HeapFault>;

}  // namespace nostd
