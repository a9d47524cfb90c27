// examples/consumer/app_test.cc — a program in a workspace of its own that uses nostd-alloc through
// `@nostd_alloc//...` labels: a heap over a static array, one over mmap, and a Vec on it. Exit status 0 when every
// result is as expected.
#include <cstdio>

#include "alloc/alloc.h"
#include "alloc/heap_ref.h"
#include "containers/vec.h"
#include "platform/hosted.h"

namespace {

/// The embedded composition: constant-initialised, so the heap and its 64 KiB lie in .bss.
constinit nostd::BasicHeap<nostd::SegregatedFit<>, nostd::StaticArraySource<64 * 1024>> g_static_heap;

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("app_test: check failed: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  nostd::Result<void*> p = g_static_heap.allocate(100);
  check(p.has_value(), "allocate(100) on the static heap");
  check(g_static_heap.validate().has_value(), "validate() after allocate");
  if (p) g_static_heap.deallocate(*p);
  check(g_static_heap.validate().has_value(), "validate() after deallocate");
  check(g_static_heap.stats().live_allocations == 0, "no live allocation left");

  nostd::BasicHeap<nostd::SegregatedFit<>, nostd::MutexLock, nostd::MmapSource<1 << 20>> mapped;
  nostd::Vec<int, nostd::HeapRef<decltype(mapped)>> numbers{nostd::HeapRef(mapped)};
  for (int i = 0; i < 1000; ++i) check(numbers.push_back(i).has_value(), "push_back");
  check(mapped.validate().has_value(), "validate() with the Vec's block live");
  check(numbers.size() == 1000 && numbers[999] == 999, "the Vec holds what was pushed");
  check(g_static_heap.allocate(1 << 20).error() == nostd::AllocError::kOutOfMemory, "1 MiB is refused");
  std::printf("app_test: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
