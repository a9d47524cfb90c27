#!/usr/bin/env bash
# Compile-fail tests of the global operator new / delete door: NOSTD_NEW_DELETE_USE_HEAP given a heap it cannot
# route `operator delete` to, and NOSTD_NEW_DELETE_USE_BACKEND given a type that is no Backend (static allocate(size,
# align) returning void* and deallocate(void*)), fail to compile with one readable line naming what is missing, as
# the only error. Each case is a tiny program; the test passes when g++ rejects it with the expected message as its
# first error and no cascade after it. (A new-user pass gave USE_HEAP a heap with only allocate(Layout) /
# deallocate(void*, Layout), as the README's "Doors" once said every door takes, and read two "no matching function"
# errors from inside the macro; USE_BACKEND printed its message and then 20 of them, one per operator.)
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

# NOSTD_NEW_DELETE_USE_BACKEND: its control case, then types that miss a member or have one of the wrong kind.
expect_compiles backend_control 'struct MallocBackend {
     static void* allocate(std::size_t size, std::size_t align) noexcept { return std::aligned_alloc(align, size); }
     static void deallocate(void* ptr) noexcept { std::free(ptr); }
   };
   NOSTD_NEW_DELETE_USE_BACKEND(MallocBackend);'
backend_message='NOSTD_NEW_DELETE_USE_BACKEND: the type needs static `void* allocate(std::size_t size, std::size_t align) noexcept` and `void deallocate(void*) noexcept`'
expect_error backend_without_members "$backend_message" \
  'struct Nothing {};
   NOSTD_NEW_DELETE_USE_BACKEND(Nothing);'
expect_error backend_without_deallocate "$backend_message" \
  'struct AllocateOnly {
     static void* allocate(std::size_t, std::size_t) noexcept { return nullptr; }
   };
   NOSTD_NEW_DELETE_USE_BACKEND(AllocateOnly);'
# A heap type where the backend goes (NOSTD_NEW_DELETE_USE_HEAP takes the heap object): members, not static ones.
expect_error backend_is_a_heap_type "$backend_message" \
  'using Heap = nostd::BasicHeap<nostd::StaticArraySource<4096>>;
   NOSTD_NEW_DELETE_USE_BACKEND(Heap);'
expect_error backend_allocate_returns_a_result "$backend_message" \
  'struct ResultBackend {
     static nostd::Result<void*> allocate(std::size_t, std::size_t) noexcept {
       return nostd::fail(nostd::AllocError::kOutOfMemory);
     }
     static void deallocate(void*) noexcept {}
   };
   NOSTD_NEW_DELETE_USE_BACKEND(ResultBackend);'

finish
