// alloc/lock/spin_lock.h — SpinLock: a test-and-test-and-set lock on one std::atomic<bool>.
#pragma once

#include <atomic>

#include "alloc/concepts/role.h"

namespace nostd {

/// A spin lock for heaps shared between threads or cores. `lock()` tries an atomic exchange and, while that
/// fails, spins on plain loads (which stay in the local cache) before trying again: the exchange's cache-line
/// ownership traffic happens only when the lock looks free. No fairness, no sleeping: use it where critical
/// sections are short (they are: one heap operation) and the holder cannot be descheduled for long.
/// Needs a lock-free atomic exchange; on targets without compare-and-swap (Cortex-M0/M0+) use InterruptLock.
/// `Flag` is the atomic's value type. The class is a template only so that merely including this header on such
/// a target is fine and the error appears where a SpinLock is actually used.
template <class Flag = bool>
class BasicSpinLock {
 public:
  using policy_role = role::Lock;

  static_assert(std::atomic<Flag>::is_always_lock_free,
                "SpinLock: this target has no lock-free atomic exchange (no compare-and-swap, e.g. Cortex-M0+): "
                "use nostd::InterruptLock or nostd::NullLock");

  constexpr BasicSpinLock() noexcept = default;
  BasicSpinLock(const BasicSpinLock&) = delete;
  BasicSpinLock& operator=(const BasicSpinLock&) = delete;

  /// Acquires the lock, spinning until it is free.
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(Flag{1}, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) relax();
    }
  }
  /// Acquires the lock if it is free; never spins.
  bool try_lock() noexcept {
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

  std::atomic<Flag> locked_{Flag{0}};
};

/// The spin lock heaps use: one `std::atomic<bool>`.
using SpinLock = BasicSpinLock<>;

}  // namespace nostd
