// tests/shadow_test.cc — the public headers compile cleanly under the project's -Wshadow -Werror (tools/defs.bzl) in a
// user's file whose globals have common names. GCC reports a class template's constructor parameter, and a lambda
// parameter in a template, that has the name of a global of the file instantiating it ("declaration of 'region'
// shadows a global declaration", at basic_heap.h's constructor when a user wrote the README's RegionSource example
// with a global `region`), so such parameters avoid common names. The globals below are declared after the includes,
// as a user's are, and each instantiation below reaches one of those constructors or lambdas (named in its comment).
// The target adds -Wsign-conversion, which the project's own code turns off but a user's flags may not: the headers,
// validate() included, stay clean under it with g++ and clang. Framework-free (tests/check.h): it compiles, and
// runs, on every platform.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "alloc/alloc.h"
#include "containers/string.h"
#include "containers/vec.h"
#include "tests/check.h"

// The names the headers' parameters had (region, regions, lock, node, n, block_size, what, where, alloc, other) and
// other words a program might use for a global.
alignas(16) static std::byte region[4096];
alignas(16) static std::byte regions[4096];
[[maybe_unused]] static int lock, node, n, block_size, what, where, alloc, other;
[[maybe_unused]] static int buffer, arena, memory, size, capacity, count, value, data, block, layout, p, ptr, first,
    last, pos, text, result, bytes, align, need, source, fault, allocator;

// BasicHeap(std::span<std::byte>) with the global `region`, exactly as the report's program did.
static nostd::BasicHeap<nostd::RegionSource> heap{std::span<std::byte>(region)};

int main() {
  // Guard's constructor (every operation), find_free's alignment lambda (an over-aligned allocate), stats()'s
  // lambda, validate()'s fault and index lambdas.
  nostd::Result<void*> aligned = heap.allocate(40, 64);
  NOSTD_CHECK(aligned.has_value());
  NOSTD_CHECK(heap.stats().live_allocations == 1);
  NOSTD_CHECK(heap.validate().has_value());
  if (aligned) heap.deallocate(*aligned);

  // validate()'s cache lambda: a heap with a cache policy holding a block.
  nostd::BasicHeap<nostd::SegregatedFit<>, nostd::QuickCache<>, nostd::RegionSource> cached{
      std::span<std::byte>(regions)};
  nostd::Result<void*> small = cached.allocate(24);
  if (NOSTD_CHECK(small.has_value())) cached.deallocate(*small);
  NOSTD_CHECK(cached.validate().has_value());

  // Vec's and String's constructors from a handle, RawBuffer's move constructor, StdAllocator's rebind conversion.
  using Ref = nostd::HeapRef<decltype(heap)>;
  nostd::Vec<int, Ref> numbers{Ref(heap)};
  NOSTD_CHECK(numbers.push_back(7).has_value());
  nostd::Vec<int, Ref> moved = std::move(numbers);
  NOSTD_CHECK(moved.size() == 1 && moved[0] == 7);
  nostd::String<Ref> name{Ref(heap)};
  NOSTD_CHECK(name.append("shadow").has_value());
  nostd::StdAllocator<int, decltype(heap)> ints(heap);
  nostd::StdAllocator<char, decltype(heap)> chars(ints);
  char* c = chars.allocate(3);
  chars.deallocate(c, 3);

  NOSTD_CHECK(heap.validate().has_value());
  return nostd::testing::check_exit_status("shadow_test");
}
