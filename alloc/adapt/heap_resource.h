// alloc/adapt/heap_resource.h — HeapResource<Heap>: a nostd heap as a `std::pmr::memory_resource`, so every
// `std::pmr` container (and anything taking a `memory_resource*`) can allocate from it.
//
//   nostd::HeapResource<Heap> resource(g_heap);
//   std::pmr::vector<int> v(&resource);                 // v and everything it allocates live on g_heap
//
// pmr containers never propagate their resource: a container stays on the heap it was built with, and copies
// made by `std::pmr` containers use the default resource unless told otherwise (std::pmr's rules).
//
// Equality: `do_is_equal` is true only for the same resource object. Two HeapResource objects over one heap could
// free each other's memory, but recognising that needs a downcast of the other `memory_resource`, which needs RTTI
// (`dynamic_cast`), which this project builds without. Share one HeapResource per heap and containers compare
// equal, so moves and swaps between them stay O(1).
//
// Availability: needs `<memory_resource>` and the `std::pmr` parts of the C++ runtime library (the
// `memory_resource` vtable and `get_default_resource`). g++ 12's libstdc++ has them on x86_64 and riscv64 Linux
// and in Debian's `libstdc++-arm-none-eabi-newlib` for Cortex-M; the tests run on all three.
#pragma once

#include <cstddef>
#include <memory_resource>

#include "alloc/adapt/out_of_memory.h"
#include "alloc/error.h"
#include "alloc/heap_ref.h"
#include "alloc/layout.h"

namespace nostd {

/// A `std::pmr::memory_resource` that allocates from the nostd heap `Heap` (any heap with
/// `allocate(Layout) -> Result<void*>` and `deallocate(void*, Layout)`, e.g. any BasicHeap). Refers to the heap,
/// which must outlive the resource and everything allocated through it; thread safety is the heap's lock policy.
/// `OnOutOfMemory` is called, and must not return, when the heap cannot serve a request.
template <RawHeap Heap, OutOfMemoryHandler OnOutOfMemory = DefaultOutOfMemory>
class HeapResource final : public std::pmr::memory_resource {
 public:
  /// A resource over `heap`.
  explicit HeapResource(Heap& heap) noexcept : heap_(&heap) {}

  HeapResource(const HeapResource&) = delete;
  HeapResource& operator=(const HeapResource&) = delete;

  /// The heap this resource allocates from.
  Heap& heap() const noexcept { return *heap_; }

 private:
  /// `bytes` aligned to `align` from the heap (0 bytes gets a unique block). An alignment that is not a power of
  /// two or is above the heap's maximum goes to `OnOutOfMemory` with kInvalidLayout, exhaustion with kOutOfMemory.
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    Result<void*> block = allocate_from_heap(bytes, align);
    if (!block) internal::report_out_of_memory<OnOutOfMemory>(OutOfMemory{block.error(), bytes, align});
    return *block;
  }

  // The heap's own (size, alignment) entry when it has one (BasicHeap's): it knows its maximum alignment, checks it
  // before the size (Layout::from alone says kSizeOverflow for a huge size at a huge alignment) and counts the
  // failure in its stats. Any other RawHeap gets the layout built here.
  Result<void*> allocate_from_heap(std::size_t bytes, std::size_t align) {
    if constexpr (requires { heap_->allocate(bytes, align); }) {
      return heap_->allocate(bytes, align);
    } else {
      const Result<Layout> layout = Layout::from(bytes, align);
      if (!layout) return fail(layout.error());
      return heap_->allocate(*layout);
    }
  }

  /// Frees a block `do_allocate(bytes, align)` returned. Misuse goes to the heap's check policy.
  void do_deallocate(void* ptr, std::size_t bytes, std::size_t align) override {
    // Valid when the caller passes what do_allocate took; otherwise Layout::unfit, which DebugChecks reports.
    const Result<Layout> layout = Layout::from(bytes, align);
    heap_->deallocate(ptr, layout ? *layout : Layout::unfit());
  }

  /// True only for this very resource (see the file comment: no RTTI to recognise another one over the heap).
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  Heap* heap_;
};

}  // namespace nostd
