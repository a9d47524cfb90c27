// alloc/check/abort_on_fault.h — AbortOnFault: the default fault handler of the check policies.
#pragma once

#include <cstdlib>

#include "alloc/check/heap_fault.h"

namespace nostd {

/// Stops the program with `std::abort()` when a heap detects misuse: continuing on a corrupted heap would turn
/// one bug into many. Replace it by giving BasicChecks another handler type with the same static member (log the
/// fault, then reset the board, say).
struct AbortOnFault {
  /// Never returns.
  [[noreturn]] static void on_fault(const HeapFault& /*fault*/) noexcept { std::abort(); }
};

}  // namespace nostd
