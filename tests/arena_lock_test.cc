// tests/arena_lock_test.cc — ArenaLock (platform/malloc/arena_lock.h): mutual exclusion, and the fork protocol that
// lets the forking thread's own mallocs pass the locks its prepare handler holds (lock_for_fork, begin_fork) while
// every other thread still waits, until the parent handler (unlock_after_fork) or the child handler (reset) releases
// them. Run under ThreadSanitizer in CI (--config=tsan).
#include "platform/malloc/arena_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace nostd::malloc_door {
namespace {

// True when another thread can take `lock` now (and it then releases it again).
bool free_for_others(ArenaLock& lock) {
  bool taken = false;
  std::thread other([&] {
    taken = lock.try_lock();
    if (taken) lock.unlock();
  });
  other.join();
  return taken;
}

// Starts a thread that calls lock() and holds `lock` until `release` is set; `got` is set once it has it.
std::thread locker(ArenaLock& lock, std::atomic<bool>& got, std::atomic<bool>& release) {
  return std::thread([&] {
    lock.lock();
    got.store(true);
    while (!release.load()) std::this_thread::yield();
    lock.unlock();
  });
}

TEST(ArenaLock, ExcludesOtherThreadsUntilUnlocked) {
  ArenaLock lock;
  lock.lock();
  EXPECT_FALSE(free_for_others(lock));
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
  EXPECT_TRUE(free_for_others(lock));
}

TEST(ArenaLock, TheForkingThreadPassesItsLocksAndOthersStillWait) {
  ArenaLock a, b;
  a.lock_for_fork();
  b.lock_for_fork();
  ArenaLock::begin_fork();
  // The forking thread's own calls, as a handler's malloc makes them: lock() returns, unlock() keeps the lock held.
  a.lock();
  a.unlock();
  b.lock();
  b.unlock();
  a.lock();
  a.unlock();
  EXPECT_FALSE(free_for_others(a));
  EXPECT_FALSE(free_for_others(b));
  // A thread that did not fork waits in lock() until the parent handler releases the lock.
  std::atomic<bool> got{false}, release{false};
  std::thread waiter = locker(a, got, release);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got.load()) << "another thread passed a lock held for a fork";
  ArenaLock::end_fork();
  a.unlock_after_fork();
  b.unlock_after_fork();
  while (!got.load()) std::this_thread::yield();
  EXPECT_FALSE(free_for_others(a));
  release.store(true);
  waiter.join();
  EXPECT_TRUE(free_for_others(a));
  EXPECT_TRUE(free_for_others(b));
}

TEST(ArenaLock, AfterTheForkTheThreadNoLongerPasses) {
  ArenaLock lock;
  lock.lock_for_fork();
  ArenaLock::begin_fork();
  ArenaLock::end_fork();
  lock.unlock_after_fork();
  lock.lock();  // taken for real now: another thread cannot
  EXPECT_FALSE(free_for_others(lock));
  lock.unlock();
  EXPECT_TRUE(free_for_others(lock));
}

TEST(ArenaLock, ResetFreesALockHeldForAFork) {
  ArenaLock lock;
  lock.lock_for_fork();
  ArenaLock::begin_fork();
  ArenaLock::end_fork();  // the child handler: end_fork, then reset
  lock.reset();
  EXPECT_TRUE(free_for_others(lock));
}

// Two threads forking at once: the second's prepare handler waits for the first's locks (only the thread that holds
// every lock passes them, and only once it does).
TEST(ArenaLock, ASecondForkWaitsForTheFirst) {
  ArenaLock lock;
  lock.lock_for_fork();
  ArenaLock::begin_fork();
  std::atomic<bool> second_holds{false};
  std::thread second([&] {
    lock.lock_for_fork();
    second_holds.store(true);
    ArenaLock::begin_fork();
    lock.lock();
    lock.unlock();
    ArenaLock::end_fork();
    lock.unlock_after_fork();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_holds.load()) << "a second fork's prepare took a lock held for the first";
  ArenaLock::end_fork();
  lock.unlock_after_fork();
  second.join();
  EXPECT_TRUE(second_holds.load());
  EXPECT_TRUE(free_for_others(lock));
}

// Starts a thread that forks as the prepare handler does: lock_for_fork(), `got` set once it holds the lock, then
// holds it until `release` is set and releases it as the parent handler does.
std::thread fork_locker(ArenaLock& lock, std::atomic<bool>& got, std::atomic<bool>& release) {
  return std::thread([&] {
    lock.lock_for_fork();
    got.store(true);
    while (!release.load()) std::this_thread::yield();
    lock.unlock_after_fork();
  });
}

// Waits until a fork has raised its wanted bit on `lock` (lock_for_fork does while a holder has the lock).
void wait_for_fork_waiting(ArenaLock& lock) {
  while (!lock.fork_waiting()) std::this_thread::yield();
}

// Fairness to the fork: once a fork waits for a held lock, the holder's unlock() leaves the lock to the fork, not to a
// thread whose try_lock comes first (the unfair lock let a thread in a malloc loop re-take its arena for tens of
// milliseconds while fork() waited). Deterministic: the wanted bit is seen raised before the holder unlocks, and only
// the fork can take a lock that shows it. Without the bit, the holder's try_lock right after its unlock wins nearly
// always (the fork's thread must first see the lock free).
TEST(ArenaLock, AWaitingForkGetsTheLockBeforeOtherThreads) {
  ArenaLock lock;
  lock.lock();  // the holder: a thread in the middle of a malloc
  std::atomic<bool> fork_got{false}, fork_release{false};
  std::thread forker = fork_locker(lock, fork_got, fork_release);
  wait_for_fork_waiting(lock);
  EXPECT_FALSE(fork_got.load());
  lock.unlock();
  // Free for the fork only: the holder's own next malloc cannot re-take it at once (as a thread in a malloc loop did,
  // before the fork's spinning thread saw it free), nor can another thread's (the fork may hold it by now, or not yet).
  const bool retaken = lock.try_lock();
  EXPECT_FALSE(retaken) << "the holder's unlock gave the lock to everyone, not to the waiting fork";
  if (retaken) lock.unlock();
  EXPECT_FALSE(free_for_others(lock));
  while (!fork_got.load()) std::this_thread::yield();
  EXPECT_FALSE(free_for_others(lock));
  fork_release.store(true);
  forker.join();
  EXPECT_FALSE(lock.fork_waiting());
  EXPECT_TRUE(free_for_others(lock));
}

// The same with a thread that waits in lock() when the holder unlocks: the fork takes the lock first, and the waiting
// thread gets it only after the parent handler releases it.
TEST(ArenaLock, AWaitingForkGoesBeforeAThreadWaitingInLock) {
  ArenaLock lock;
  lock.lock();
  std::atomic<bool> fork_got{false}, fork_release{false};
  std::thread forker = fork_locker(lock, fork_got, fork_release);
  wait_for_fork_waiting(lock);
  std::atomic<bool> other_got{false}, other_release{false};
  std::thread other = locker(lock, other_got, other_release);
  lock.unlock();
  // One of the two holds the lock next; it must be the fork.
  while (!fork_got.load() && !other_got.load()) std::this_thread::yield();
  EXPECT_TRUE(fork_got.load());
  EXPECT_FALSE(other_got.load()) << "a thread waiting in lock() took the lock before the fork that waited for it";
  // Both release as soon as they hold the lock, in whichever order they got it (a failure above must not hang).
  fork_release.store(true);
  other_release.store(true);
  forker.join();
  other.join();
  EXPECT_TRUE(other_got.load());
  EXPECT_TRUE(free_for_others(lock));
}

// A second fork raises its wanted bit on a lock held for the first: the first fork's thread still passes its lock (its
// held_for_this_fork() tests the fork-held bit, not the whole flag), its unlock() keeps both bits, and the second fork
// gets the lock after the first's parent handler, which drops the second's bit (the second raises it again or takes
// the free lock).
TEST(ArenaLock, TheForkingThreadPassesItsLockWhileASecondForkWaits) {
  ArenaLock lock;
  lock.lock_for_fork();
  ArenaLock::begin_fork();
  std::atomic<bool> second_got{false}, second_release{false};
  std::thread second = fork_locker(lock, second_got, second_release);
  wait_for_fork_waiting(lock);
  ASSERT_TRUE(lock.held_for_this_fork()) << "the second fork's wanted bit hid the first fork's hold";
  lock.lock();  // a fork handler's malloc in the first fork's thread
  lock.unlock();
  EXPECT_TRUE(lock.fork_waiting()) << "the forking thread's unlock() dropped the second fork's bit";
  EXPECT_FALSE(second_got.load()) << "a second fork's prepare took a lock held for the first";
  EXPECT_FALSE(free_for_others(lock));
  ArenaLock::end_fork();
  lock.unlock_after_fork();
  while (!second_got.load()) std::this_thread::yield();
  EXPECT_FALSE(free_for_others(lock));
  second_release.store(true);
  second.join();
  EXPECT_TRUE(free_for_others(lock));
}

// Other threads taking and releasing the lock while one forks over and over: the fork mark must survive their
// attempts (a try_lock that read the lock free, then exchanged 1 into it after lock_for_fork's 2, erased the mark: the
// forking thread's next lock() then waited for ever, or its unlock() freed the lock inside the window, where another
// thread took it). Inside each window no other thread may be in the critical section, before or after the forking
// thread's own lock() and unlock(). A watchdog ends the process if the forking thread stops making progress.
TEST(ArenaLock, TheForkMarkSurvivesOtherThreadsTakingTheLock) {
  constexpr int kRounds = 20'000;
  ArenaLock lock;
  std::atomic<int> inside{0};
  std::atomic<bool> stop{false};
  std::atomic<long> others_done{0};
  auto hammer = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      lock.lock();
      inside.fetch_add(1);
      inside.fetch_sub(1);
      lock.unlock();
      others_done.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread others[2] = {std::thread(hammer), std::thread(hammer)};
  std::atomic<int> rounds{0};
  std::atomic<int> shared_windows{0};
  std::thread forker([&] {
    for (int i = 0; i < kRounds; ++i) {
      lock.lock_for_fork();
      ArenaLock::begin_fork();
      if (inside.load() != 0) shared_windows.fetch_add(1);
      lock.lock();  // a fork handler's malloc
      lock.unlock();
      if (inside.load() != 0) shared_windows.fetch_add(1);
      std::this_thread::yield();  // give the others a chance to slip in, were the lock free
      if (inside.load() != 0) shared_windows.fetch_add(1);
      ArenaLock::end_fork();
      lock.unlock_after_fork();
      rounds.fetch_add(1);
    }
  });
  // The watchdog: the forking thread must keep finishing rounds (a lost mark makes its lock() spin for ever, and a
  // thread that spins cannot be joined).
  int last = -1;
  for (int idle_checks = 0; rounds.load() < kRounds;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int now = rounds.load();
    idle_checks = now == last ? idle_checks + 1 : 0;
    last = now;
    if (idle_checks == 50) {  // 10 s without a round
      std::fprintf(stderr, "FAIL: the forking thread's lock() waits for ever after %d rounds: the fork mark was lost\n",
                   now);
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
  forker.join();
  stop.store(true);
  for (std::thread& t : others) t.join();
  EXPECT_EQ(shared_windows.load(), 0) << "another thread held the lock inside a fork window";
  EXPECT_GT(others_done.load(), 0) << "the other threads never took the lock: the test raced nothing";
  EXPECT_TRUE(free_for_others(lock));
}

}  // namespace
}  // namespace nostd::malloc_door
