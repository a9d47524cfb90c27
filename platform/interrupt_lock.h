// platform/interrupt_lock.h — InterruptLock: the LockPolicy for single-core Cortex-M (armv6-m, armv7-m, armv7e-m,
// armv8-m): it masks interrupts instead of spinning.
//
// Glossary: PRIMASK is the Cortex-M register whose bit 0, when set, masks every exception with configurable
// priority (all interrupts, SysTick, PendSV, SVC); only NMI and HardFault still run. `cpsid i` sets it,
// `msr primask, r` writes it.
//
// lock() saves PRIMASK and sets it; the matching unlock() restores the saved value rather than clearing it, so a
// heap call nests inside any other critical section (an outer InterruptLock, a `cpsid i` region, an interrupt
// handler that masked interrupts) and leaves the mask as it found it. The same lock object may also be locked
// again while held (a depth count keeps the outermost saved value).
//
// Usable from interrupt handlers: a handler only runs while no thread holds the lock (the lock masks it), so it
// finds the lock free, takes it and gives it back before returning. Not for NMI or HardFault handlers, which
// PRIMASK cannot mask: they could interrupt a heap operation in progress. Single core only: masking interrupts
// does not exclude another core.
#pragma once

#include <cstdint>

#include "alloc/concepts/role.h"

#if !defined(__arm__) || !defined(__ARM_ARCH_PROFILE) || __ARM_ARCH_PROFILE != 'M'
#error "platform/interrupt_lock.h: InterruptLock needs a Cortex-M target (PRIMASK, cpsid)"
#endif

namespace nostd {

/// A LockPolicy that masks interrupts on a single-core Cortex-M. `lock()` saves PRIMASK and disables interrupts;
/// `unlock()` restores the saved PRIMASK. Nestable (across objects and on the same object), usable from interrupt
/// handlers (not NMI/HardFault). Each operation is a few instructions; it never waits.
class InterruptLock {
 public:
  using policy_role = role::Lock;

  /// An unlocked lock; constant-initialisable, so a heap holding one can be `constinit`.
  constexpr InterruptLock() noexcept = default;

  /// Saves PRIMASK and masks interrupts. Precondition: not called from NMI or HardFault.
  void lock() noexcept {
    std::uint32_t primask;
    // The "memory" clobber keeps the compiler from moving heap accesses out of the critical section.
    __asm__ volatile(
        "mrs %0, primask\n"
        "cpsid i"
        : "=r"(primask)
        :
        : "memory");
    if (depth_++ == 0) saved_primask_ = primask;
  }

  /// Restores PRIMASK as the matching outermost lock() found it. Precondition: this object is locked.
  void unlock() noexcept {
    if (--depth_ == 0) __asm__ volatile("msr primask, %0" : : "r"(saved_primask_) : "memory");
  }

 private:
  std::uint32_t saved_primask_ = 0;  // PRIMASK before the outermost lock()
  std::uint32_t depth_ = 0;          // lock() calls not yet matched by unlock()
};

}  // namespace nostd
