// tests/new_delete_heap.h — the heap that the operator new door's test binaries (new_delete_test, and
// new_delete_exceptions_test, the same door built with exceptions) route every C++ allocation to, GoogleTest's
// included. Include it in exactly one file of a binary: it defines the door's global operator new and delete.
#pragma once

#include "alloc/alloc.h"
#include "platform/new_delete/new_delete.h"

namespace nostd::testing {

/// 2 MiB: GoogleTest's own allocations live here too (it fits the Cortex-M board's RAM).
using NewDeleteHeap = BasicHeap<FirstFit, SpinLock, StaticArraySource<2 * 1024 * 1024>>;

/// The heap behind the binary's operator new and delete.
inline constinit NewDeleteHeap g_heap;

}  // namespace nostd::testing

NOSTD_NEW_DELETE_USE_HEAP(nostd::testing::g_heap);
