// platform/malloc/arena_lock.h — ArenaLock: the arenas' lock, a spin lock that yields the core when it waits long.
#pragma once

#include <sched.h>

#include <atomic>

#include "alloc/lock/spin_lock.h"

namespace nostd::malloc_door {

/// A test-and-test-and-set lock on one flag (SpinLock's: a byte, or a word where byte atomics are not lock-free, as
/// on RISC-V, whose byte exchange GCC 12 leaves to libatomic, which the drop-in must not need): `lock()` is one atomic
/// exchange when the arena is free and `unlock()` a plain release store. A waiter spins (with a pause hint) for a short
/// while, then calls sched_yield() between attempts, so a holder that the scheduler preempted gets the core back
/// instead of a waiter burning its slice.
///
/// Trade-off against pthread_mutex_t, measured (bench/churn_bench, 1 thread, per thread-CPU second): the mutex's
/// trylock + unlock pair took about half of every malloc/free in perf, and an arena is held for one heap
/// operation (tens of nanoseconds), far shorter than any sleep/wake round trip would be.
class ArenaLock {
 public:
  constexpr ArenaLock() noexcept = default;
  ArenaLock(const ArenaLock&) = delete;
  ArenaLock& operator=(const ArenaLock&) = delete;

  /// Takes the lock if it is free; never waits.
  bool try_lock() noexcept {
    return !held_.load(std::memory_order_relaxed) && !held_.exchange(Flag{1}, std::memory_order_acquire);
  }
  /// Waits until the lock is taken: spins kSpins rounds, then yields the core between attempts.
  void lock() noexcept {
    for (unsigned round = 0; !try_lock(); ++round) {
      if (round < kSpins) {
        relax();
      } else {
        ::sched_yield();
      }
    }
  }
  /// Releases the lock.
  void unlock() noexcept { held_.store(Flag{0}, std::memory_order_release); }
  /// Frees the lock whoever holds it: for a fork child, where the holder does not exist.
  void reset() noexcept { held_.store(Flag{0}, std::memory_order_relaxed); }

 private:
  using Flag = nostd::internal::SpinFlag;

  // About a microsecond of pause instructions: longer than a heap operation, shorter than a time slice.
  static constexpr unsigned kSpins = 64;

  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic<Flag> held_{Flag{0}};
};

}  // namespace nostd::malloc_door
