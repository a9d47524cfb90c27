// examples/custom_heap.cc — composing heap types in a few lines, including a policy written by the user.
//
//   ./bazelw run //examples:custom_heap
#include <cstdio>

#include "alloc/alloc.h"

namespace {

// A user-written fit policy: worst fit (always split the largest free block, so that the remainders stay
// large). It satisfies nostd::FitPolicy with a role tag and an Index<Tags>.
struct WorstFit {
  using policy_role = nostd::role::Fit;

  // ListIndex keeps the LIFO free list (insert, remove, count, for_each); a fit adds only its search.
  template <class Tags>
  class Index : public nostd::internal::ListIndex {
   public:
    template <class Fits>
    nostd::internal::FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      nostd::internal::FreeNode* worst = nullptr;
      std::size_t worst_size = 0;
      for (nostd::internal::FreeNode* node = list_.head(); node != nullptr; node = node->next) {
        const std::size_t size = nostd::internal::node_block_size<Tags>(node);
        if (size >= need && size > worst_size && fits(node, size)) {
          worst = node;
          worst_size = size;
        }
      }
      return worst;
    }
  };
};
static_assert(nostd::FitPolicy<WorstFit>);

// A user-written lock policy that counts how often the heap takes it.
struct CountingLock {
  using policy_role = nostd::role::Lock;
  constexpr CountingLock() noexcept = default;
  void lock() noexcept { ++acquisitions; }
  void unlock() noexcept {}
  static inline unsigned long acquisitions = 0;
};

// Three heap types, each one line. Policies go in any order; roles left out take their defaults.
using SmallHeap = nostd::BasicHeap<nostd::StaticArraySource<16 * 1024>>;  // FirstFit, CompactTags, NullLock
using TunedHeap = nostd::BasicHeap<nostd::BestFit, nostd::FullTags, nostd::StaticArraySource<16 * 1024>>;
using UserHeap = nostd::BasicHeap<WorstFit, CountingLock, nostd::StaticArraySource<16 * 1024>>;

// alignas(64): exercise() makes one 64-byte-aligned request, whose padding (and so the figures printed) would
// otherwise depend on where the linker places each heap.
alignas(64) constinit SmallHeap small_heap;
alignas(64) constinit TunedHeap tuned_heap;
alignas(64) constinit UserHeap user_heap;

template <class Heap>
int exercise(const char* name, Heap& heap) {
  // Allocate a few blocks, free every other one (holes), then ask for more.
  void* blocks[8] = {};
  for (std::size_t i = 0; i < 8; ++i) {
    nostd::Result<void*> p = heap.allocate(100 + 60 * i);
    if (!p) {
      std::printf("%s: allocation failed: %.*s\n", name, static_cast<int>(nostd::to_string(p.error()).size()),
                  nostd::to_string(p.error()).data());
      return 1;
    }
    blocks[i] = *p;
  }
  for (std::size_t i = 0; i < 8; i += 2) heap.deallocate(blocks[i]);
  nostd::Result<void*> big = heap.allocate(*nostd::Layout::from(200, 64));
  nostd::Result<void*> too_big = heap.allocate(1 << 20);
  if (nostd::ValidateResult v = heap.validate(); !v) {
    std::printf("%s: heap corrupted: %s\n", name, v.error().what);
    return 1;
  }
  const nostd::HeapStats s = heap.stats();
  // %lu with casts: newlib on the Cortex-M board has no C99 %zu.
  auto ul = [](std::size_t v) { return static_cast<unsigned long>(v); };
  std::printf(
      "%-10s capacity %6lu  in use %5lu  free %6lu  largest free %6lu  free blocks %lu  overhead %4lu  "
      "fragmentation %.2f  1 MiB request: %.*s\n",
      name, ul(s.capacity), ul(s.bytes_in_use), ul(s.bytes_free), ul(s.largest_free_block), ul(s.free_blocks),
      ul(s.overhead_bytes), s.fragmentation(), static_cast<int>(nostd::to_string(too_big.error()).size()),
      nostd::to_string(too_big.error()).data());
  if (big) heap.deallocate(*big);
  for (std::size_t i = 1; i < 8; i += 2) heap.deallocate(blocks[i]);
  return heap.validate() && heap.stats().free_blocks == 1 ? 0 : 1;
}

}  // namespace

int main() {
  int failures = 0;
  failures += exercise("first-fit", small_heap);
  failures += exercise("best-fit", tuned_heap);
  failures += exercise("worst-fit", user_heap);
  std::printf("the user heap took its CountingLock %lu times\n", CountingLock::acquisitions);
  return failures;
}
