// platform/interrupt_lock.h — InterruptLock: the LockPolicy for single-core microcontrollers, which masks interrupts
// instead of spinning. Two implementations of one idea, chosen by the target:
//
// - Cortex-M (armv6-m, armv7-m, armv7e-m, armv8-m): PRIMASK is the register whose bit 0, when set, masks every
//   exception with configurable priority (all interrupts, SysTick, PendSV, SVC); only NMI and HardFault still run.
//   `cpsid i` sets it, `msr primask, r` writes it. Not for NMI or HardFault handlers, which PRIMASK cannot mask.
// - RISC-V in machine mode (bare metal, e.g. rv32imac: ESP32-C3, GD32VF103, CH32V, SiFive E cores): mstatus.MIE
//   (bit 3) is the global machine-interrupt enable. `csrrci` clears it and returns the old mstatus in one
//   instruction; `csrs` sets it back. Machine mode is needed (mstatus is a machine CSR): under an operating system
//   (riscv64 Linux) this header is an error. Exceptions (faults, ecall) are not interrupts and are not masked.
//
// lock() saves the mask state and masks; the matching unlock() restores the saved state rather than unmasking, so
// a heap call nests inside any other critical section (an outer InterruptLock, a `cpsid i` or `csrci mstatus, 8`
// region, an interrupt handler, which runs with interrupts masked on RISC-V) and leaves the mask as it found it.
// The same lock object may also be locked again while held (a depth count keeps the outermost saved state).
//
// Usable from interrupt handlers: a handler only runs while no thread holds the lock (the lock masks it), so it
// finds the lock free, takes it and gives it back before returning. Single core only: masking interrupts does
// not exclude another core or hart.
#pragma once

#include <cstdint>

#include "alloc/concepts/role.h"

#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define NOSTD_INTERRUPT_LOCK_CORTEX_M 1
#elif defined(__riscv) && !defined(__linux__)
#define NOSTD_INTERRUPT_LOCK_RISCV_MACHINE 1
#else
#error "platform/interrupt_lock.h: InterruptLock needs a Cortex-M (PRIMASK) or bare-metal RISC-V machine mode (mstatus)"
#endif

namespace nostd {

/// A LockPolicy that masks interrupts on a single-core Cortex-M or RISC-V hart in machine mode. `lock()` saves the
/// interrupt mask (PRIMASK; mstatus.MIE) and disables interrupts; `unlock()` restores the saved state. Nestable
/// (across objects and on the same object), usable from interrupt handlers (on Cortex-M not NMI/HardFault). Each
/// operation is a few instructions; it never waits.
class InterruptLock {
 public:
  using policy_role = role::Lock;

  /// An unlocked lock; constant-initialisable, so a heap holding one can be `constinit`.
  constexpr InterruptLock() noexcept = default;

  /// Saves the interrupt mask and masks interrupts. Precondition (Cortex-M): not called from NMI or HardFault.
  void lock() noexcept {
    std::uint32_t state;
    // The "memory" clobbers keep the compiler from moving heap accesses out of the critical section.
#if NOSTD_INTERRUPT_LOCK_CORTEX_M
    __asm__ volatile(
        "mrs %0, primask\n"
        "cpsid i"
        : "=r"(state)
        :
        : "memory");
#else
    // Reads mstatus and clears MIE in one instruction: no interrupt can slip in between.
    __asm__ volatile("csrrci %0, mstatus, %1" : "=r"(state) : "i"(kMstatusMie) : "memory");
    state &= kMstatusMie;
#endif
    if (depth_++ == 0) saved_state_ = state;
  }

  /// Restores the interrupt mask as the matching outermost lock() found it. Precondition: this object is locked.
  void unlock() noexcept {
    if (--depth_ != 0) return;
#if NOSTD_INTERRUPT_LOCK_CORTEX_M
    __asm__ volatile("msr primask, %0" : : "r"(saved_state_) : "memory");
#else
    // Sets MIE only if it was set: `csrs` with 0 changes nothing, so a lock taken with interrupts masked (in a
    // handler, in an outer critical section) leaves them masked.
    __asm__ volatile("csrs mstatus, %0" : : "r"(saved_state_) : "memory");
#endif
  }

 private:
#if NOSTD_INTERRUPT_LOCK_RISCV_MACHINE
  static constexpr std::uint32_t kMstatusMie = 1U << 3;  // mstatus.MIE: machine interrupts enabled
#endif
  std::uint32_t saved_state_ = 0;  // PRIMASK (Cortex-M) or mstatus & MIE (RISC-V) before the outermost lock()
  std::uint32_t depth_ = 0;        // lock() calls not yet matched by unlock()
};

}  // namespace nostd
