// tests/door_without_exceptions.cc — see tests/door_without_exceptions.h. Built with the project's flags
// (-fno-exceptions).
#include "tests/door_without_exceptions.h"

#include <cstddef>

#include "alloc/adapt/heap_resource.h"
#include "alloc/adapt/std_allocator.h"

#if defined(__cpp_exceptions)
#error "door_without_exceptions must be compiled without exceptions"
#endif

namespace nostd::testing {

int* allocate_ints_without_exceptions(DoorHeap& heap, std::size_t n) {
  return StdAllocator<int, DoorHeap>(heap).allocate(n);
}

void* resource_allocate_without_exceptions(DoorHeap& heap, std::size_t bytes, std::size_t align) {
  HeapResource<DoorHeap> resource(heap);
  return resource.allocate(bytes, align);
}

}  // namespace nostd::testing
