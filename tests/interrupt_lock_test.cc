// tests/interrupt_lock_test.cc — InterruptLock on a Cortex-M under QEMU (mps2-an386): PRIMASK while held and
// after, nesting, masking of a pended exception, use from an exception handler, mutual exclusion with a SysTick
// interrupt that updates the same counter, and one heap shared by a thread and a SysTick handler.
#include "platform/interrupt_lock.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "alloc/alloc.h"
#include "alloc/concepts/lock_policy.h"
#include "tests/shared_heap_check.h"

namespace {

static_assert(nostd::LockPolicy<nostd::InterruptLock>, "InterruptLock must satisfy LockPolicy");
static_assert(nostd::internal::diagnose_lock_policy<nostd::InterruptLock>());

// A heap's lock lives in a constant-initialised heap object.
constinit nostd::InterruptLock global_lock;

volatile std::uint32_t& reg(std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); }

constexpr std::uintptr_t kIcsr = 0xE000ED04;  // SCB->ICSR
constexpr std::uint32_t kPendSvSet = 1U << 28;
constexpr std::uintptr_t kSysTickCtrl = 0xE000E010, kSysTickLoad = 0xE000E014, kSysTickVal = 0xE000E018;

std::uint32_t primask() {
  std::uint32_t value;
  __asm__ volatile("mrs %0, primask" : "=r"(value)::"memory");
  return value;
}

void barrier() { __asm__ volatile("dsb\n isb" ::: "memory"); }

// Set by the exception handlers below.
volatile std::uint32_t pendsv_runs = 0;
volatile std::uint32_t pendsv_primask_held = 0xff;
volatile std::uint32_t pendsv_primask_after = 0xff;
volatile std::uint32_t shared_counter = 0;
volatile std::uint32_t systick_runs = 0;

}  // namespace

// PendSV: takes the global lock inside an exception handler and records PRIMASK while held and after.
extern "C" void PendSV_Handler() noexcept {
  global_lock.lock();
  pendsv_primask_held = primask();
  pendsv_runs = pendsv_runs + 1;
  global_lock.unlock();
  pendsv_primask_after = primask();
}

namespace {

// A heap shared by the test thread and the SysTick handler, as firmware shares one between main and interrupts.
constinit nostd::BasicHeap<nostd::FirstFit, nostd::InterruptLock, nostd::StaticArraySource<16 * 1024>> shared_heap;

// The handler's side of the shared heap (tests/shared_heap_check.h).
constinit nostd::testing::IsrHeapRing<decltype(shared_heap)> isr_ring(shared_heap);
volatile bool systick_uses_heap = false;

}  // namespace

// SysTick: increments the shared counter under the global lock, or works on the shared heap.
extern "C" void SysTick_Handler() noexcept {
  if (systick_uses_heap) {
    isr_ring.step();
    return;
  }
  global_lock.lock();
  shared_counter = shared_counter + 1;
  systick_runs = systick_runs + 1;
  global_lock.unlock();
}

namespace {

TEST(InterruptLockTest, MasksInterruptsWhileHeldAndRestoresAfter) {
  ASSERT_EQ(primask(), 0U) << "tests start with interrupts enabled";
  nostd::InterruptLock lock;
  lock.lock();
  EXPECT_EQ(primask(), 1U);
  lock.unlock();
  EXPECT_EQ(primask(), 0U);
}

TEST(InterruptLockTest, NestedLocksRestoreTheOuterState) {
  nostd::InterruptLock outer;
  nostd::InterruptLock inner;
  outer.lock();
  inner.lock();
  EXPECT_EQ(primask(), 1U);
  inner.unlock();
  EXPECT_EQ(primask(), 1U) << "inner unlock must not re-enable interrupts under the outer lock";
  outer.unlock();
  EXPECT_EQ(primask(), 0U);
}

TEST(InterruptLockTest, SameLockNests) {
  nostd::InterruptLock lock;
  lock.lock();
  lock.lock();
  lock.unlock();
  EXPECT_EQ(primask(), 1U) << "still held once";
  lock.unlock();
  EXPECT_EQ(primask(), 0U);
}

TEST(InterruptLockTest, LeavesAnOuterCriticalSectionMasked) {
  __asm__ volatile("cpsid i" ::: "memory");
  nostd::InterruptLock lock;
  lock.lock();
  lock.unlock();
  EXPECT_EQ(primask(), 1U) << "unlock must restore, not clear, PRIMASK";
  __asm__ volatile("cpsie i" ::: "memory");
  EXPECT_EQ(primask(), 0U);
}

TEST(InterruptLockTest, PendedExceptionWaitsForUnlockAndCanTakeTheLock) {
  pendsv_runs = 0;
  global_lock.lock();
  reg(kIcsr) = kPendSvSet;
  barrier();
  for (int i = 0; i < 1000; ++i) __asm__ volatile("nop");
  EXPECT_EQ(pendsv_runs, 0U) << "PendSV ran while the lock was held";
  global_lock.unlock();  // PendSV runs here
  barrier();
  EXPECT_EQ(pendsv_runs, 1U);
  EXPECT_EQ(pendsv_primask_held, 1U) << "the lock taken in a handler masks interrupts";
  EXPECT_EQ(pendsv_primask_after, 0U) << "and restores the handler's PRIMASK";
  EXPECT_EQ(primask(), 0U);
}

TEST(InterruptLockTest, ExcludesAnInterruptHandlerUpdatingTheSameCounter) {
  shared_counter = 0;
  systick_runs = 0;
  // SysTick every 2000 processor cycles.
  reg(kSysTickLoad) = 2000 - 1;
  reg(kSysTickVal) = 0;
  reg(kSysTickCtrl) = 0b111;  // CLKSOURCE = processor, TICKINT, ENABLE
  // Run until SysTick has fired kTicks times (QEMU's timer follows the host clock, so the number of iterations
  // that takes varies), with an upper bound in case it never fires.
  constexpr std::uint32_t kTicks = 50;
  constexpr std::uint32_t kMaxIncrements = 20'000'000;
  std::uint32_t increments = 0;
  while (systick_runs < kTicks && increments < kMaxIncrements) {
    global_lock.lock();
    // A read-modify-write with a window: without the lock, a tick in the window would lose an update.
    const std::uint32_t value = shared_counter;
    for (int j = 0; j < 20; ++j) __asm__ volatile("nop");
    shared_counter = value + 1;
    global_lock.unlock();
    ++increments;
  }
  reg(kSysTickCtrl) = 0;
  barrier();
  const std::uint32_t ticks = systick_runs;
  EXPECT_GE(ticks, kTicks) << "SysTick did not fire often enough to exercise the lock";
  EXPECT_EQ(shared_counter, increments + ticks) << "an update was lost";
}

TEST(InterruptLockTest, HeapSharedWithAnInterruptHandler) {
  systick_uses_heap = true;
  isr_ring.reset();
  reg(kSysTickLoad) = 3000 - 1;
  reg(kSysTickVal) = 0;
  reg(kSysTickCtrl) = 0b111;
  // The thread allocates, fills, checks and frees batches while SysTick allocates and frees in between.
  constexpr std::uint32_t kIsrOps = 200;
  const nostd::testing::SharedHeapReport report = nostd::testing::run_main_side(
      shared_heap, [] { return isr_ring.ops() >= kIsrOps; }, 200'000);
  reg(kSysTickCtrl) = 0;
  barrier();
  systick_uses_heap = false;
  EXPECT_TRUE(report.ok()) << report.failure << " (round " << report.round << ", block " << report.block << ")";
  EXPECT_GE(isr_ring.ops(), kIsrOps) << "SysTick did not run often enough";
  EXPECT_EQ(isr_ring.errors(), 0U) << "the handler saw a failed allocation or a damaged block";
  EXPECT_TRUE(isr_ring.drain()) << "a block of the handler was overwritten";
  ASSERT_TRUE(shared_heap.validate());
  EXPECT_EQ(shared_heap.stats().live_allocations, 0U);
}

}  // namespace
