#!/usr/bin/env bash
# Compile-fail tests of the global operator new / delete door: NOSTD_NEW_DELETE_USE_HEAP given a heap it cannot
# route `operator delete` to fails to compile with one readable line naming what the heap misses, as its only error.
# Each case is a tiny program; the test passes when g++ rejects it with the expected message as its first error and no
# cascade after it. (A new-user pass gave it a heap with only allocate(Layout) / deallocate(void*, Layout), as the
# README's "Doors" once said every door takes, and read two "no matching function" errors from inside the macro.)
prelude='#include "alloc/alloc.h"
#include "platform/new_delete/new_delete.h"'
# shellcheck source=tests/compile_fail.sh
source tests/compile_fail.sh

# The control case: a BasicHeap is accepted, so every rejection below is for its stated reason.
expect_compiles control 'constinit nostd::BasicHeap<nostd::StaticArraySource<4096>> g_heap;
  NOSTD_NEW_DELETE_USE_HEAP(g_heap);'
message='NOSTD_NEW_DELETE_USE_HEAP: the heap needs `Result<void*> allocate(std::size_t size, std::size_t align)` and `void deallocate(void*)`'
# An Allocator-shaped heap (what StdAllocator, HeapResource and the containers take): no unsized free.
expect_error layout_only_heap "$message" \
  'struct LayoutHeap {
     nostd::Result<void*> allocate(nostd::Layout) { return nostd::fail(nostd::AllocError::kOutOfMemory); }
     void deallocate(void*, nostd::Layout) {}
   };
   LayoutHeap g_heap;
   NOSTD_NEW_DELETE_USE_HEAP(g_heap);'
expect_error no_deallocate "$message" \
  'struct HalfHeap {
     nostd::Result<void*> allocate(std::size_t, std::size_t) { return nostd::fail(nostd::AllocError::kOutOfMemory); }
   };
   HalfHeap g_heap;
   NOSTD_NEW_DELETE_USE_HEAP(g_heap);'

finish
