// tests/shared_heap_check.h — one heap shared by the main program and an interrupt handler, framework-free: the
// handler's side (a ring of blocks, the oldest freed when a new one is due) and the main program's side (batches
// allocated, filled, validated, checked and freed while the handler runs in between). Every block carries a fill
// pattern checked before it is freed, so a block handed out twice or overwritten is seen.
//
// Used by the InterruptLock tests of both boards: tests/interrupt_lock_test.cc (Cortex-M, SysTick, GoogleTest) and
// tests/interrupt_lock_riscv_test.cc (rv32, the machine timer, tests/check.h), which differ only in how the
// interrupt is raised.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/error.h"
#include "tests/test_heap.h"

namespace nostd::testing {

/// The interrupt handler's side: `step()` (called from the handler) frees the ring's oldest block, checking its
/// pattern, and allocates a new one. Counters are volatile: the main program reads them while the handler runs.
template <class Heap, std::size_t kBlocks = 8>
class IsrHeapRing {
 public:
  /// A ring over `heap`, which must outlive it; constant-initialisable (a global beside the heap).
  constexpr explicit IsrHeapRing(Heap& heap) noexcept : heap_(&heap) {}

  /// One heap step of the handler.
  void step() {
    const std::uint32_t n = ops_;
    Block& slot = blocks_[n % kBlocks];
    if (slot.p != nullptr) {
      if (!holds_pattern(slot.p, slot.size, slot.tag)) errors_ = errors_ + 1;
      heap_->deallocate(slot.p);
    }
    const std::size_t size = 8 + (n * 37U) % 200;
    Result<void*> p = heap_->allocate(size);
    if (!p) {
      errors_ = errors_ + 1;
      slot = {};
    } else {
      fill(*p, size, 1000 + n);
      slot = {*p, size, 1000 + n};
    }
    ops_ = n + 1;
  }

  /// Starts counting afresh (the handler must not be running).
  void reset() {
    ops_ = 0;
    errors_ = 0;
  }
  /// Steps taken since the last reset.
  std::uint32_t ops() const { return ops_; }
  /// Failed allocations and damaged blocks the handler saw.
  std::uint32_t errors() const { return errors_; }

  /// Frees the ring's blocks (the handler must not be running); false when one lost its pattern.
  bool drain() {
    bool intact = true;
    for (Block& block : blocks_) {
      if (block.p == nullptr) continue;
      intact = holds_pattern(block.p, block.size, block.tag) && intact;
      heap_->deallocate(block.p);
      block = {};
    }
    return intact;
  }

 private:
  struct Block {
    void* p;
    std::size_t size;
    std::uint32_t tag;
  };
  Heap* heap_;
  Block blocks_[kBlocks] = {};
  volatile std::uint32_t ops_ = 0;
  volatile std::uint32_t errors_ = 0;
};

/// What the main program's side saw: `failure` is null when every round held, else what broke in `round`.
struct SharedHeapReport {
  const char* failure = nullptr;
  std::uint32_t round = 0;
  std::uint32_t block = 0;
  /// True when every round held.
  bool ok() const noexcept { return failure == nullptr; }
};

/// The main program's side: rounds of six blocks allocated and filled, validate(), each checked and freed,
/// validate(), until `done()` holds or `max_rounds` have run. Stops at the first failure.
template <class Heap, class Done>
SharedHeapReport run_main_side(Heap& heap, Done done, std::uint32_t max_rounds) {
  SharedHeapReport report;
  void* mine[6] = {};
  for (std::uint32_t round = 0; round < max_rounds && !done(); ++round) {
    report.round = round;
    for (std::uint32_t i = 0; i < 6; ++i) {
      const std::size_t size = 16 + ((round + i) * 53U) % 500;
      Result<void*> p = heap.allocate(size);
      if (!p) {
        for (std::uint32_t j = 0; j < i; ++j) heap.deallocate(mine[j]);
        report.block = i;
        report.failure = "the main program's allocation failed";
        return report;
      }
      fill(*p, size, round * 8 + i);
      mine[i] = *p;
    }
    if (!heap.validate()) report.failure = "validate() failed with the main program's blocks live";
    for (std::uint32_t i = 0; i < 6; ++i) {
      const std::size_t size = 16 + ((round + i) * 53U) % 500;
      if (report.ok() && !holds_pattern(mine[i], size, round * 8 + i)) {
        report.block = i;
        report.failure = "a block of the main program was overwritten";
      }
      heap.deallocate(mine[i]);
    }
    if (report.ok() && !heap.validate()) report.failure = "validate() failed after the main program's frees";
    if (!report.ok()) return report;
  }
  return report;
}

}  // namespace nostd::testing
