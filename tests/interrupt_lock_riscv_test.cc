// tests/interrupt_lock_riscv_test.cc — InterruptLock on a RISC-V hart in machine mode (bare-metal rv32imac on
// QEMU's virt board): mstatus.MIE while held and after, nesting, a pending machine-timer interrupt that waits for
// unlock() and takes the lock in its handler, mutual exclusion with a timer handler that updates the same counter,
// and one heap shared by the main program and a timer handler, as tests/interrupt_lock_test.cc does with SysTick on
// Cortex-M. Framework-free (tests/check.h): bare-metal rv32 has no GoogleTest.
//
// The machine timer is the CLINT's: `mtime` counts at 10 MHz on QEMU's virt board, and the timer interrupt is
// pending while mtime >= mtimecmp (hart 0). The board's trap vector (platform/riscv32_virt/startup.cc) calls
// MachineTimer_Handler, defined here.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "alloc/alloc.h"
#include "alloc/concepts/lock_policy.h"
#include "platform/interrupt_lock.h"
#include "tests/check.h"
#include "tests/shared_heap_check.h"

namespace {

static_assert(nostd::LockPolicy<nostd::InterruptLock>, "InterruptLock must satisfy LockPolicy");
static_assert(nostd::internal::diagnose_lock_policy<nostd::InterruptLock>());

// A heap's lock lives in a constant-initialised heap object.
constinit nostd::InterruptLock global_lock;

constexpr std::uint32_t kMstatusMie = 1U << 3;  // mstatus.MIE: machine interrupts enabled
constexpr std::uint32_t kMieMtie = 1U << 7;     // mie.MTIE: machine-timer interrupt enabled
constexpr std::uintptr_t kMtimecmp = 0x02004000, kMtime = 0x0200BFF8;

std::uint32_t mstatus_mie() {
  std::uint32_t value;
  __asm__ volatile("csrr %0, mstatus" : "=r"(value)::"memory");
  return value & kMstatusMie;
}
void enable_interrupts() { __asm__ volatile("csrs mstatus, %0" : : "r"(kMstatusMie) : "memory"); }
void disable_interrupts() { __asm__ volatile("csrc mstatus, %0" : : "r"(kMstatusMie) : "memory"); }
void enable_timer_interrupt() { __asm__ volatile("csrs mie, %0" : : "r"(kMieMtie) : "memory"); }
void disable_timer_interrupt() { __asm__ volatile("csrc mie, %0" : : "r"(kMieMtie) : "memory"); }

volatile std::uint32_t& reg(std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); }

/// mtime, read consistently from its two halves on rv32.
std::uint64_t mtime() {
  for (;;) {
    const std::uint32_t hi = reg(kMtime + 4), lo = reg(kMtime), hi2 = reg(kMtime + 4);
    if (hi == hi2) return (std::uint64_t{hi} << 32) | lo;
  }
}

/// Sets mtimecmp without a spurious interrupt in between (the high word first parks it in the far future).
void set_mtimecmp(std::uint64_t when) {
  reg(kMtimecmp + 4) = 0xFFFFFFFFU;
  reg(kMtimecmp) = static_cast<std::uint32_t>(when);
  reg(kMtimecmp + 4) = static_cast<std::uint32_t>(when >> 32);
}

/// Stops timer interrupts: mtimecmp in the far future, MTIE off.
void stop_timer() {
  disable_timer_interrupt();
  set_mtimecmp(~std::uint64_t{0});
}

// What the timer handler does, and what it saw.
enum class TimerMode { kTakeLockOnce, kCount, kHeap };
volatile TimerMode timer_mode = TimerMode::kTakeLockOnce;
volatile std::uint64_t timer_period = 0;
volatile std::uint32_t timer_runs = 0;
volatile std::uint32_t handler_mie_held = 0xff;
volatile std::uint32_t handler_mie_after = 0xff;
volatile std::uint32_t shared_counter = 0;

// A heap shared by the main program and the timer handler, as firmware shares one between main and interrupts.
constinit nostd::BasicHeap<nostd::FirstFit, nostd::InterruptLock, nostd::StaticArraySource<16 * 1024>> shared_heap;

// The handler's side of the shared heap (tests/shared_heap_check.h).
constinit nostd::testing::IsrHeapRing<decltype(shared_heap)> isr_ring(shared_heap);

}  // namespace

// The machine-timer interrupt (mcause 7), called by the board's trap vector with MIE cleared by the hardware.
extern "C" void MachineTimer_Handler() {
  switch (timer_mode) {
    case TimerMode::kTakeLockOnce:
      global_lock.lock();
      handler_mie_held = mstatus_mie();
      global_lock.unlock();
      handler_mie_after = mstatus_mie();
      set_mtimecmp(~std::uint64_t{0});  // one shot: clears the pending interrupt
      break;
    case TimerMode::kCount:
      global_lock.lock();
      shared_counter = shared_counter + 1;
      global_lock.unlock();
      set_mtimecmp(mtime() + timer_period);
      break;
    case TimerMode::kHeap:
      isr_ring.step();
      set_mtimecmp(mtime() + timer_period);
      break;
  }
  timer_runs = timer_runs + 1;
}

namespace {

void masks_interrupts_while_held_and_restores_after() {
  NOSTD_CHECK(mstatus_mie() == kMstatusMie);  // the program runs with interrupts enabled
  nostd::InterruptLock lock;
  lock.lock();
  NOSTD_CHECK(mstatus_mie() == 0);
  lock.unlock();
  NOSTD_CHECK(mstatus_mie() == kMstatusMie);
}

void nested_locks_restore_the_outer_state() {
  nostd::InterruptLock outer;
  nostd::InterruptLock inner;
  outer.lock();
  inner.lock();
  NOSTD_CHECK(mstatus_mie() == 0);
  inner.unlock();
  NOSTD_CHECK(mstatus_mie() == 0 && "inner unlock must not re-enable interrupts under the outer lock");
  outer.unlock();
  NOSTD_CHECK(mstatus_mie() == kMstatusMie);
}

void same_lock_nests() {
  nostd::InterruptLock lock;
  lock.lock();
  lock.lock();
  lock.unlock();
  NOSTD_CHECK(mstatus_mie() == 0 && "still held once");
  lock.unlock();
  NOSTD_CHECK(mstatus_mie() == kMstatusMie);
}

void leaves_an_outer_critical_section_masked() {
  disable_interrupts();
  nostd::InterruptLock lock;
  lock.lock();
  lock.unlock();
  NOSTD_CHECK(mstatus_mie() == 0 && "unlock must restore, not set, mstatus.MIE");
  enable_interrupts();
  NOSTD_CHECK(mstatus_mie() == kMstatusMie);
}

void pending_interrupt_waits_for_unlock_and_can_take_the_lock() {
  timer_mode = TimerMode::kTakeLockOnce;
  timer_runs = 0;
  global_lock.lock();
  set_mtimecmp(mtime());  // due now: the interrupt is pending from here on
  enable_timer_interrupt();
  for (int i = 0; i < 1000; ++i) __asm__ volatile("nop");
  NOSTD_CHECK(timer_runs == 0 && "the timer interrupt ran while the lock was held");
  global_lock.unlock();  // the handler runs here
  for (int i = 0; i < 100 && timer_runs == 0; ++i) __asm__ volatile("nop");
  stop_timer();
  NOSTD_CHECK(timer_runs == 1);
  NOSTD_CHECK(handler_mie_held == 0 && "the lock taken in a handler keeps interrupts masked");
  NOSTD_CHECK(handler_mie_after == 0 && "and restores the handler's (masked) state");
  NOSTD_CHECK(mstatus_mie() == kMstatusMie);
}

void excludes_an_interrupt_handler_updating_the_same_counter() {
  timer_mode = TimerMode::kCount;
  timer_period = 200;  // 20 us at 10 MHz
  timer_runs = 0;
  shared_counter = 0;
  set_mtimecmp(mtime() + timer_period);
  enable_timer_interrupt();
  // Run until the timer has fired kTicks times (QEMU's timer follows the host clock, so the number of iterations
  // that takes varies), with an upper bound in case it never fires.
  constexpr std::uint32_t kTicks = 200;
  constexpr std::uint32_t kMaxIncrements = 20'000'000;
  std::uint32_t increments = 0;
  while (timer_runs < kTicks && increments < kMaxIncrements) {
    global_lock.lock();
    // A read-modify-write with a window: without the lock, a tick in the window would lose an update.
    const std::uint32_t value = shared_counter;
    for (int j = 0; j < 20; ++j) __asm__ volatile("nop");
    shared_counter = value + 1;
    global_lock.unlock();
    ++increments;
  }
  stop_timer();
  const std::uint32_t ticks = timer_runs;
  NOSTD_CHECK(ticks >= kTicks && "the timer did not fire often enough to exercise the lock");
  NOSTD_CHECK(shared_counter == increments + ticks && "an update was lost");
}

void heap_shared_with_an_interrupt_handler() {
  timer_mode = TimerMode::kHeap;
  timer_period = 100;  // 10 us: often enough that the same loop over a NullLock heap fails validate() (tried)
  isr_ring.reset();
  set_mtimecmp(mtime() + timer_period);
  enable_timer_interrupt();
  // The main program allocates, fills, checks and frees batches while the handler allocates and frees in between.
  constexpr std::uint32_t kIsrOps = 2000;
  const nostd::testing::SharedHeapReport report = nostd::testing::run_main_side(
      shared_heap, [] { return isr_ring.ops() >= kIsrOps; }, 200'000);
  stop_timer();
  if (!NOSTD_CHECK(report.ok())) {
    std::printf("  %s (round %lu, block %lu)\n", report.failure, static_cast<unsigned long>(report.round),
                static_cast<unsigned long>(report.block));
  }
  NOSTD_CHECK(isr_ring.ops() >= kIsrOps && "the timer did not run often enough");
  NOSTD_CHECK(isr_ring.errors() == 0 && "the handler saw a failed allocation or a damaged block");
  NOSTD_CHECK(isr_ring.drain() && "a block of the handler was overwritten");
  NOSTD_CHECK(shared_heap.validate().has_value());
  NOSTD_CHECK(shared_heap.stats().live_allocations == 0);
}

}  // namespace

int main() {
  stop_timer();  // mtimecmp resets to 0, which would make the timer interrupt pending at once
  enable_interrupts();
  masks_interrupts_while_held_and_restores_after();
  nested_locks_restore_the_outer_state();
  same_lock_nests();
  leaves_an_outer_critical_section_masked();
  pending_interrupt_waits_for_unlock_and_can_take_the_lock();
  excludes_an_interrupt_handler_updating_the_same_counter();
  heap_shared_with_an_interrupt_handler();
  disable_interrupts();
  return nostd::testing::check_exit_status("interrupt_lock_riscv_test");
}
