// alloc/lock/spin_lock.h — SpinLock: a test-and-test-and-set lock on one std::atomic<bool>.
#pragma once

#include <atomic>
#include <type_traits>

#include "alloc/concepts/role.h"

namespace nostd {

namespace internal {
/// The spin lock's flag: `bool` where a byte-sized atomic exchange is lock-free, else a word. RISC-V has atomic
/// instructions for 32- and 64-bit words only, and GCC 12 compiles a `std::atomic<bool>` exchange there into a
/// libatomic call (not lock-free); a word flag uses the `amoswap.w` instruction. On targets without any
/// compare-and-swap (armv6-m) neither is lock-free and SpinLock's static_assert explains.
using SpinFlag = std::conditional_t<std::atomic<bool>::is_always_lock_free, bool, unsigned>;
}  // namespace internal

/// A spin lock for heaps shared between threads or cores. `lock()` tries an atomic exchange and, while that
/// fails, spins on plain loads (which stay in the local cache) before trying again: the exchange's cache-line
/// ownership traffic happens only when the lock looks free. No fairness, no sleeping: use it where critical
/// sections are short (they are: one heap operation) and the holder cannot be descheduled for long.
/// Needs a lock-free atomic exchange; on targets without compare-and-swap (Cortex-M0/M0+, rv32imc: RISC-V without
/// the A extension) use InterruptLock.
/// `Flag` is the atomic's value type. The class is a template only so that merely including this header on such
/// a target is fine and the error appears where a SpinLock is actually used.
template <class Flag = internal::SpinFlag>
class BasicSpinLock {
 public:
  using policy_role = role::Lock;

  constexpr BasicSpinLock() noexcept = default;
  BasicSpinLock(const BasicSpinLock&) = delete;
  BasicSpinLock& operator=(const BasicSpinLock&) = delete;

  /// Acquires the lock, spinning until it is free.
  void lock() noexcept {
    static_assert(
        kLockFree,
        "SpinLock: this target has no lock-free atomic exchange (no compare-and-swap, e.g. Cortex-M0+, rv32imc): "
        "use nostd::InterruptLock or nostd::NullLock");
    for (;;) {
      if (!locked_.exchange(Flag{1}, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) relax();
    }
  }
  /// Acquires the lock if it is free; never spins.
  bool try_lock() noexcept {
    static_assert(
        kLockFree,
        "SpinLock: this target has no lock-free atomic exchange (no compare-and-swap, e.g. Cortex-M0+, rv32imc): "
        "use nostd::InterruptLock or nostd::NullLock");
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(Flag{1}, std::memory_order_acquire);
  }
  /// Releases the lock.
  void unlock() noexcept { locked_.store(Flag{0}, std::memory_order_release); }

 private:
  // A pause hint makes the spin cheaper for the sibling hyper-thread and for power; it is not needed for
  // correctness, so other targets just spin.
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    asm volatile("yield");
#endif
  }

  // The check sits in lock() and try_lock(), not in the class: a failed static_assert in the class body makes
  // clang treat the whole class as invalid and add LockPolicy's "must be default constructible" to the report,
  // where one line is wanted. lock() is what a heap calls, so using SpinLock in a heap still fails at once.
  static constexpr bool kLockFree = std::atomic<Flag>::is_always_lock_free;

  std::atomic<Flag> locked_{Flag{0}};
};

/// The spin lock heaps use: one `std::atomic<bool>` (a word on targets without byte atomics, such as RISC-V).
using SpinLock = BasicSpinLock<>;

}  // namespace nostd
