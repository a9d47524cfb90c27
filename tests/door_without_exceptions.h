// tests/door_without_exceptions.h — the standard-library doors used from a translation unit built *without*
// exceptions (tests/door_without_exceptions.cc, the project's flags), linked into door_exceptions_test, which is
// built with them: each side must get its own default out-of-memory handler (alloc/adapt/out_of_memory.h).
#pragma once

#include <cstddef>

#include "alloc/alloc.h"

namespace nostd::testing {

/// The heap type both sides instantiate the doors over (the same StdAllocator and HeapResource types).
using DoorHeap = BasicHeap<FirstFit, CompactTags, RegionSource>;

/// `StdAllocator<int, DoorHeap>(heap).allocate(n)`, compiled without exceptions.
int* allocate_ints_without_exceptions(DoorHeap& heap, std::size_t n);

/// `HeapResource<DoorHeap>(heap).allocate(bytes, align)`, compiled without exceptions.
void* resource_allocate_without_exceptions(DoorHeap& heap, std::size_t bytes, std::size_t align);

}  // namespace nostd::testing
