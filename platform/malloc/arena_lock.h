// platform/malloc/arena_lock.h — ArenaLock: the arenas' lock, a spin lock that yields the core when it waits long.
#pragma once

#include <sched.h>

#include <atomic>
#include <type_traits>

#include "alloc/lock/spin_lock.h"

namespace nostd::malloc_door {

/// A test-and-test-and-set lock on one flag (SpinLock's: a byte, or a word where byte atomics are not lock-free, as
/// on RISC-V, whose byte exchange GCC 12 leaves to libatomic, which the drop-in must not need): `lock()` is one atomic
/// compare-exchange when the arena is free and `unlock()` a load and a release store. A waiter spins (with a pause
/// hint) for a short while, then calls sched_yield() between attempts, so a holder that the scheduler preempted gets
/// the core back instead of a waiter burning its slice.
///
/// Trade-off against pthread_mutex_t, measured (bench/churn_bench, 1 thread, per thread-CPU second): the mutex's
/// trylock + unlock pair took about half of every malloc/free in perf, and an arena is held for one heap
/// operation (tens of nanoseconds), far shorter than any sleep/wake round trip would be.
///
/// Fork: the prepare handler takes every lock with `lock_for_fork()` and then calls `begin_fork()`; until
/// `unlock_after_fork()` (parent) or `reset()` (child), the forking thread passes its own locks (its `lock()` returns
/// at once and its `unlock()` leaves them held), and every other thread waits as before. The handlers that
/// pthread_atfork runs after our prepare handler (those registered before ours, such as a constructor's in a library
/// loaded before the drop-in) and before our parent and child handlers may thus call malloc, as glibc's malloc lets
/// them: glibc takes its own locks inside fork(), after every handler, which a malloc outside the C library cannot do.
class ArenaLock {
 public:
  constexpr ArenaLock() noexcept = default;
  ArenaLock(const ArenaLock&) = delete;
  ArenaLock& operator=(const ArenaLock&) = delete;

  /// Takes the lock if it is free; never waits. A compare-exchange, not an exchange: an exchange that read the lock
  /// free, then wrote 1 after lock_for_fork had taken it and marked it 2, erased the fork mark, so that the forking
  /// thread's next lock() waited for ever, or its unlock() freed the lock inside the window (found in review,
  /// //tests:arena_lock_test's TheForkMarkSurvivesOtherThreadsTakingTheLock). Nobody writes a held lock but its holder.
  bool try_lock() noexcept {
    Flag expected{0};
    return !held_.load(std::memory_order_relaxed) &&
           held_.compare_exchange_strong(expected, Flag{1}, std::memory_order_acquire, std::memory_order_relaxed);
  }
  /// Waits until the lock is taken: spins kSpins rounds, then yields the core between attempts. Returns at once,
  /// taking nothing, in the thread that holds it for a fork (see the class comment).
  void lock() noexcept {
    if (!try_lock()) [[unlikely]]
      wait();
  }
  /// Releases the lock, unless it is held for a fork: then it stays held (no branch: the flag keeps its fork bit).
  void unlock() noexcept {
    held_.store(static_cast<Flag>(held_.load(std::memory_order_relaxed) & kForkHeld), std::memory_order_release);
  }
  /// Frees the lock whoever holds it: for a fork child, where the holder does not exist.
  void reset() noexcept { held_.store(Flag{0}, std::memory_order_relaxed); }

  /// Fork prepare: takes the lock and marks it held for the fork, so that the forking thread's own unlock() leaves it
  /// held. Call begin_fork() once every lock is taken.
  void lock_for_fork() noexcept {
    lock();
    held_.store(kForkHeld, std::memory_order_relaxed);
  }
  /// Fork parent: releases a lock taken with lock_for_fork(). Call end_fork() first.
  void unlock_after_fork() noexcept { held_.store(Flag{0}, std::memory_order_release); }

  /// True in the forking thread while it holds this lock for the fork (lock() then passes it). Only the forking thread
  /// sets its flag, and only once it holds every lock, so a second thread that forks at the same time waits in
  /// lock_for_fork() like any other.
  bool held_for_this_fork() const noexcept { return held_.load(std::memory_order_relaxed) == kForkHeld && t_forking; }

  /// The calling thread holds every lock for a fork (lock_for_fork): from now on it passes them.
  static void begin_fork() noexcept { t_forking = true; }
  /// The fork is over (the parent and child handlers call it before they release or reset the locks).
  static void end_fork() noexcept { t_forking = false; }

 private:
  // SpinLock's flag (a byte where byte atomics are lock-free, else a word), as a byte rather than a bool: kForkHeld.
  using Flag =
      std::conditional_t<std::is_same_v<nostd::internal::SpinFlag, bool>, unsigned char, nostd::internal::SpinFlag>;
  static constexpr Flag kForkHeld = 2;  // held by the forking thread; 1 is held, 0 free

  // lock()'s waiting, out of line: inlined, its loop made the callers' inlining decisions in the drop-in's free path
  // (with the fork test in it, GCC stopped inlining ArenaSet::deallocate: +14 instructions per free).
  [[gnu::noinline]] void wait() noexcept {
    for (unsigned round = 0; !try_lock(); ++round) {
      if (held_for_this_fork()) return;
      if (round < kSpins) {
        relax();
      } else {
        ::sched_yield();
      }
    }
  }

  // About a microsecond of pause instructions: longer than a heap operation, shorter than a time slice.
  static constexpr unsigned kSpins = 64;

  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic<Flag> held_{Flag{0}};
  // initial-exec: the drop-in runs before the thread's dynamic TLS exists, and __tls_get_addr could allocate.
  [[gnu::tls_model("initial-exec")]] static constinit inline thread_local bool t_forking = false;
};

}  // namespace nostd::malloc_door
