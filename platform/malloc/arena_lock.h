// platform/malloc/arena_lock.h — ArenaLock: the arenas' lock, a spin lock that yields the core when it waits long.
#pragma once

#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>
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
///
/// Fairness to the forking thread: the lock is otherwise unfair (whoever compare-exchanges first after a release wins),
/// and a thread that allocates in a loop re-takes its arena within nanoseconds of releasing it, so a fork waited for
/// 97–204 ms with 8 arenas and three such threads (README, *fork*). lock_for_fork() therefore raises a third bit,
/// kForkWanted, while it waits: a held lock keeps it through its holder's unlock(), and a lock that shows it is free
/// to the forking thread only (try_lock's compare-exchange from 0 fails), which takes it with a compare-exchange
/// from kForkWanted. The cost sits on the fork path only: try_lock and unlock execute the same instructions as before
/// (unlock's mask has one more bit).
///
///   flag bits   1  held by a thread (try_lock)         the holder alone writes them (unlock); 1 and 2 never
///               2  kForkHeld: held for a fork           both, since the lock has one holder
///               4  kForkWanted: a fork waits for it     set by lock_for_fork's fetch_or, kept by unlock, cleared by
///                                                       the forking thread's taking, unlock_after_fork and reset
///
/// Interleavings (every write of the flag is one of: try_lock's compare-exchange 0 -> 1, the holder's unlock,
/// lock_for_fork's fetch_or and compare-exchange {0, kForkWanted} -> kForkHeld, unlock_after_fork and reset):
/// - unlock is a load and a store, not an atomic read-modify-write, to stay as cheap as before. A fetch_or between
///   them is lost (the holder stores 0): the lock is then free for everyone and the forking thread, which re-raises
///   the bit whenever it sees it missing, may lose that one round, as the unfair lock always did. Nothing else is
///   lost: only the holder writes bits 1 and 2, and never while another thread holds the lock.
/// - A flag of kForkWanted alone (left by a holder whose unlock saw the bit, or by a fetch_or that landed just after a
///   release) only ever exists while a forking thread waits in lock_for_fork, which takes it; nobody else can
///   (try_lock needs 0). In a fork child the waiting thread does not exist, but there every lock is held for the fork
///   (2) and reset() stores 0.
/// - Two forks at once: the second waits in lock_for_fork and raises kForkWanted on the first's locks (kForkHeld |
///   kForkWanted), which is why held_for_this_fork() tests the kForkHeld bit, not the whole flag; the first's
///   unlock_after_fork stores 0, dropping the second's bit, and the second raises it again or takes the lock from 0.
///   Every fork takes the locks in the same order, so neither can hold one the other's holder waits for.
/// - A thread waiting in lock() while a fork is wanted waits for the whole fork, not just for the holder: it holds
///   no other lock then (the drop-in takes one arena at a time, and no arena while it holds the huge registry), so
///   the fork's wait for the other locks does not depend on it.
class ArenaLock {
 public:
  constexpr ArenaLock() noexcept = default;
  ArenaLock(const ArenaLock&) = delete;
  ArenaLock& operator=(const ArenaLock&) = delete;

  /// Takes the lock if it is free; never waits. A compare-exchange, not an exchange: an exchange that read the lock
  /// free, then wrote 1 after lock_for_fork had taken it and marked it 2, erased the fork mark, so that the forking
  /// thread's next lock() waited for ever, or its unlock() freed the lock inside the window (found in review,
  /// //tests:arena_lock_test's TheForkMarkSurvivesOtherThreadsTakingTheLock). Nobody writes the held bits (1, 2) of a
  /// held lock but its holder; a waiting fork's fetch_or only adds kForkWanted. Fails while kForkWanted is raised on a
  /// free lock: it is the waiting fork's.
  bool try_lock() noexcept {
    Flag expected{0};
    return !held_.load(std::memory_order_relaxed) &&
           held_.compare_exchange_strong(expected, Flag{1}, std::memory_order_acquire, std::memory_order_relaxed);
  }
  /// As lock(), for at most about `patience_ns` nanoseconds of yielding after the spins: true when the lock is taken
  /// (or passed, in the thread that holds it for a fork), false when it was still held at the end. The clock is read
  /// only once the spins are over.
  [[gnu::noinline]] bool lock_within(std::uint64_t patience_ns) noexcept {
    std::uint64_t since = 0;
    for (unsigned round = 0; !try_lock(); ++round) {
      if (held_for_this_fork()) return true;
      if (round < kSpins) {
        relax();
        continue;
      }
      const std::uint64_t now = monotonic_ns();
      if (since == 0) {
        since = now;
      } else if (now - since > patience_ns) {
        return false;
      }
      ::sched_yield();
    }
    return true;
  }
  /// Waits until the lock is taken: spins kSpins rounds, then yields the core between attempts. Returns at once,
  /// taking nothing, in the thread that holds it for a fork (see the class comment).
  void lock() noexcept {
    if (!try_lock()) [[unlikely]]
      wait();
  }
  /// Releases the lock, unless it is held for a fork: then it stays held (no branch: the flag keeps its fork bits).
  /// A fork's kForkWanted, seen by the load, stays too, so that the lock goes to that fork (see the class comment for
  /// a bit set between the load and the store).
  void unlock() noexcept {
    held_.store(static_cast<Flag>(held_.load(std::memory_order_relaxed) & (kForkHeld | kForkWanted)),
                std::memory_order_release);
  }
  /// Frees the lock whoever holds it: for a fork child, where the holder does not exist.
  void reset() noexcept { held_.store(Flag{0}, std::memory_order_relaxed); }

  /// Fork prepare: takes the lock and marks it held for the fork, so that the forking thread's own unlock() leaves it
  /// held. Call begin_fork() once every lock is taken. While it waits it keeps kForkWanted raised, so that the holder's
  /// unlock() leaves the lock to it rather than to a thread that allocates in a loop (see the class comment). Waits as
  /// lock() does (spins kSpins rounds, then yields); a second fork waits here until the first's unlock_after_fork().
  void lock_for_fork() noexcept {
    for (unsigned round = 0;; ++round) {
      Flag now = held_.load(std::memory_order_relaxed);
      if ((now & ~kForkWanted) == 0) {  // free: 0, or kept for a fork (ours, or another waiting one: first come)
        if (held_.compare_exchange_weak(now, kForkHeld, std::memory_order_acquire, std::memory_order_relaxed)) return;
        continue;  // someone's try_lock took it from 0, or another fork's bit arrived: look again
      }
      // Raised once per holder, not every round: a fetch_or takes the cache line from the holder each time. It is
      // raised again whenever it is missing (an unlock that loaded the flag before it stored 0, an unlock_after_fork).
      if ((now & kForkWanted) == 0) held_.fetch_or(kForkWanted, std::memory_order_relaxed);
      if (round < kSpins) {
        relax();
      } else {
        ::sched_yield();
      }
    }
  }
  /// Fork parent: releases a lock taken with lock_for_fork(). Call end_fork() first.
  void unlock_after_fork() noexcept { held_.store(Flag{0}, std::memory_order_release); }

  /// True in the forking thread while it holds this lock for the fork (lock() then passes it). Only the forking thread
  /// sets its flag, and only once it holds every lock, so a second thread that forks at the same time waits in
  /// lock_for_fork() like any other. Tests the kForkHeld bit alone: that second fork's kForkWanted may be raised too.
  bool held_for_this_fork() const noexcept {
    return (held_.load(std::memory_order_relaxed) & kForkHeld) != 0 && t_forking;
  }

  /// True while a fork waits for this lock with kForkWanted raised (lock_for_fork): other threads cannot take it until
  /// that fork has had it. An observation for tests; the bit can drop and be raised again at any time (class comment).
  bool fork_waiting() const noexcept { return (held_.load(std::memory_order_relaxed) & kForkWanted) != 0; }

  /// The calling thread holds every lock for a fork (lock_for_fork): from now on it passes them.
  static void begin_fork() noexcept { t_forking = true; }
  /// The fork is over (the parent and child handlers call it before they release or reset the locks).
  static void end_fork() noexcept { t_forking = false; }

 private:
  // SpinLock's flag (a byte where byte atomics are lock-free, else a word), as a byte rather than a bool: the fork
  // bits. Where it is a word (RISC-V), fetch_or is one amoor.w; a byte's would be a libatomic call there.
  using Flag =
      std::conditional_t<std::is_same_v<nostd::internal::SpinFlag, bool>, unsigned char, nostd::internal::SpinFlag>;
  static constexpr Flag kForkHeld = 2;    // held by the forking thread; 1 is held, 0 free
  static constexpr Flag kForkWanted = 4;  // a fork waits for the lock: nobody else takes it (see the class comment)

  // lock()'s waiting, out of line: inlined, its loop made the callers' inlining decisions in the drop-in's free path
  // (with the fork test in it, GCC stopped inlining ArenaSet::deallocate: +14 instructions per free). lock_within's
  // loop with no bound (a clock that passes it would run for centuries).
  [[gnu::noinline]] void wait() noexcept { lock_within(~std::uint64_t{0}); }

  // About a microsecond of pause instructions: longer than a heap operation, shorter than a time slice.
  static constexpr unsigned kSpins = 64;

  static std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
  }

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
