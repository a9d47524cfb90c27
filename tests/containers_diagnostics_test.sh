#!/usr/bin/env bash
# Compile-fail tests: a container given a type that is not an Allocator, or an element type it cannot hold, fails
# to compile with one readable line naming the problem, as its only error; growth calls cannot be silently ignored
# ([[nodiscard]]).
# Each case is a tiny program; the test passes when g++ rejects it with the expected message as its first error and no
# cascade after it.
prelude='#include "alloc/alloc.h"
#include "alloc/heap_ref.h"
#include "containers/string.h"
#include "containers/vec.h"
using Heap = nostd::BasicHeap<nostd::StaticArraySource<4096>>;
constinit Heap g_heap;
using Alloc = nostd::StaticHeapRef<g_heap>;'
extra_flags=(-Werror=unused-result)
# shellcheck source=tests/compile_fail.sh
source tests/compile_fail.sh

# The control case: the prelude and a correct use compile, so every rejection below is for its stated reason.
expect_compiles control 'int main() { nostd::Vec<int, Alloc> v; nostd::String<Alloc> s; return v.push_back(1) && s.append("x") ? 0 : 1; }'

expect_error not_copyable "Allocator: must be copy constructible" \
  'nostd::Vec<int, Heap> v;'
expect_error no_allocate "Allocator: missing \`Result<void*> allocate(Layout)\`" \
  'struct A { void deallocate(void*, nostd::Layout) {} };
   nostd::Vec<int, A> v;'
expect_error wrong_allocate "Allocator: missing \`Result<void*> allocate(Layout)\`" \
  'struct A { void* allocate(nostd::Layout) { return nullptr; } void deallocate(void*, nostd::Layout) {} };
   nostd::String<A> s;'
expect_error no_deallocate "Allocator: missing \`void deallocate(void*, Layout)\`" \
  'struct A { nostd::Result<void*> allocate(nostd::Layout) { return nullptr; } };
   nostd::Vec<int, A> v;'
expect_error immovable_element "Vec: T must be move constructible and destructible" \
  'struct Pinned { Pinned() = default; Pinned(Pinned&&) = delete; };
   nostd::Vec<Pinned, Alloc> v;'
expect_error const_element "Vec: T must be a non-const, non-volatile object type" \
  'nostd::Vec<const int, Alloc> v;'
expect_error ignored_push_back "declared with attribute 'nodiscard'" \
  'void f(nostd::Vec<int, Alloc>& v) { v.push_back(1); }'
expect_error ignored_append "declared with attribute 'nodiscard'" \
  'void f(nostd::String<Alloc>& s) { s.append("x"); }'
expect_error copy_of_vec "use of deleted function" \
  'void f(const nostd::Vec<int, Alloc>& v) { auto w = v; (void)w; }'

finish
