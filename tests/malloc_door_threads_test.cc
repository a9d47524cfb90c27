// tests/malloc_door_threads_test.cc — the drop-in malloc's shared state under threads, built from its parts so that
// it runs under ThreadSanitizer (`./bazelw test --config=tsan //tests:malloc_door_threads_test`), which replaces malloc
// itself and so cannot run the drop-in whole (//platform/malloc is incompatible with the sanitizers):
//   - the drop-in's own ArenaSet (platform/malloc/arena_set.h), over an environment of the test's (four arenas, a
//     chunk map, a thread's arena index): threads allocate (from their own arena, or a free one when theirs is busy
//     and shared), reallocate, ask another arena through allocate_elsewhere as when theirs cannot grow, make requests
//     no arena can serve (the fallback that then tries every other arena), and hand some of their blocks to another
//     thread, which finds the owner in the chunk map without a lock and frees into that arena; meanwhile an observer
//     runs lock_all/unlock_all (the fork handlers) with a malloc and free between them that pass the locks held for
//     the fork, report and validate_all (the exit report) and release_all (malloc_trim); at the end, reset_all (the
//     fork child) after a lock_all; and a thread alone in its arena waits for it, one that shares it moves;
//   - HugeBlocks and its HugeRegistry: threads map, look up, resize and free huge blocks, some freed by another
//     thread, while the registry's table doubles;
//   - the recorder (record/malloc_recorder.cc): threads record calls, new threads register their buffers, and
//     malloc_recorder_stop runs while they do; the trace it leaves must hold every call it counts.
// Every block carries a fill pattern checked before it is freed; every arena heap is validated under its lock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "alloc/check/basic_checks.h"
#include "alloc/check/heap_fault.h"
#include "alloc/check/no_checks.h"
#include "alloc/error.h"
#include "alloc/heap_stats.h"
#include "bench/raw_trace_convert.h"
#include "platform/malloc/arena_lock.h"
#include "platform/malloc/arena_set.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/huge_block.h"
#include "platform/malloc/report_and_abort.h"
#include "platform/malloc/stderr_line.h"
#include "platform/malloc/thread_exit_watch.h"
#include "record/malloc_recorder.h"
#include "tests/test_heap.h"

namespace {

namespace door = nostd::malloc_door;
using nostd::testing::fill;
using nostd::testing::holds_pattern;
using nostd::testing::SplitMix64;

constexpr int kThreads = 4;

// A block handed between threads: its payload, requested size and fill tag.
struct Parcel {
  void* ptr;
  std::size_t size;
  std::size_t tag;
};

// One queue per thread; thread i posts to (i + 1) % kThreads. The queue's mutex is the program's own
// synchronisation, through which a pointer reaches the thread that frees it (what the chunk map's lock-free lookup
// relies on).
struct Mailbox {
  std::mutex mutex;
  std::deque<Parcel> parcels;

  void post(Parcel p) {
    const std::lock_guard<std::mutex> lock(mutex);
    parcels.push_back(p);
  }
  std::deque<Parcel> take_all() {
    const std::lock_guard<std::mutex> lock(mutex);
    return std::exchange(parcels, {});
  }
};

// ---- arenas and the chunk map, through the drop-in's own ArenaSet ----

template <class Check>
class ArenaThreads : public ::testing::Test {};

using CheckLevels = ::testing::Types<nostd::NoChecks, nostd::BasicChecks<door::ReportAndAbort>>;
TYPED_TEST_SUITE(ArenaThreads, CheckLevels);

// What ArenaSet reads of the drop-in (arena_set.h, ArenaSetEnvironment), per check level: kThreads arenas (the
// observer, a fifth thread that allocates, shares one, so that threads collide and move as in the drop-in), a chunk
// map and the thread's arena index of this test's own, a thread's end watched as the
// drop-in's (ThreadExitWatch, its own key per environment), and faults reported as the drop-in reports them. `Arenas`:
// a test that decides which arena each of its threads is given takes an environment of its own, with fresh arenas,
// counts and chunk map (MoveEnvironment). `AllocatingWatch`: the watch also allocates a block through the set (kept in
// watch_block), as glibc's pthread_setspecific callocs for a key above its first 32.
template <class Check, unsigned Arenas = kThreads, bool AllocatingWatch = false>
struct TestEnvironment {
  static void ended() noexcept { door::ArenaSet<Check, TestEnvironment>::leave(); }
  using Watch = door::ThreadExitWatch<&ended>;

  static inline door::ChunkMap map;  // static storage: zero, every chunk unowned
  static inline thread_local std::uint8_t arena = door::kNoArena;
  static inline std::atomic<void*> watch_block{nullptr};

  static unsigned arena_count() noexcept { return Arenas; }
  static door::ChunkMap& chunk_map() noexcept { return map; }
  static std::size_t page_bytes() noexcept { return 4096; }
  static std::uint8_t& thread_arena() noexcept { return arena; }
  static void watch_thread_exit() noexcept {
    Watch::create();
    Watch::watch();
    if constexpr (AllocatingWatch) watch_block.store(door::ArenaSet<Check, TestEnvironment>::allocate(48, 16));
  }
  [[noreturn]] static void fault(nostd::AllocError error, const void* where, const char* what) noexcept {
    door::ReportAndAbort::on_fault(nostd::HeapFault{error, where, what});
  }
};

// The move test's environment: three arenas no other test touches.
template <class Check>
using MoveEnvironment = TestEnvironment<Check, 3>;

// The ArenaSet under test: the drop-in's code, over this test's environment.
template <class Check>
using TestArenas = door::ArenaSet<Check, TestEnvironment<Check>>;

// How usable_size words a misuse (none is expected here).
constexpr door::CallWords kTestWords{nostd::AllocError::kInvalidPointer, "usable_size of a freed block",
                                     "usable_size of a foreign pointer", "usable_size of an unregistered pointer",
                                     "usable_size of an overwritten block"};

// The arena that owns `ptr` by the chunk map, validated under its lock. False when no arena of the set owns it or the
// heap fails its validation.
template <class Check>
bool validate_owner(const void* ptr) {
  using Set = TestArenas<Check>;
  const std::uint8_t owner = TestEnvironment<Check>::map.owner(ptr);
  if (owner == door::ChunkMap::kNoOwner || owner > kThreads) return false;
  auto& arena = Set::arenas[owner - 1];
  arena.lock();
  const bool ok = arena.heap().validate().has_value();
  arena.unlock();
  return ok;
}

// ArenaSet::deallocate, with the owner found as the drop-in's free finds it (the chunk map, no lock), then the owning
// arena validated. False when no arena owns the block or the heap fails its validation afterwards.
template <class Check>
bool free_block(void* ptr) {
  const std::uint8_t owner = TestEnvironment<Check>::map.owner(ptr);
  if (owner == door::ChunkMap::kNoOwner || owner > kThreads) return false;
  TestArenas<Check>::deallocate(owner, ptr);
  return validate_owner<Check>(ptr);  // the chunk stays the arena's: the owner is still found
}

struct ArenaTally {
  std::size_t allocations = 0;    // blocks the set returned (allocate, allocate_elsewhere)
  std::size_t reallocations = 0;  // successful reallocate calls (each at most one more heap allocation, if it moved)
  std::size_t elsewhere = 0;      // blocks allocate_elsewhere served from another arena
  bool ok = true;
};

template <class Check>
void arena_worker(std::array<Mailbox, kThreads>& boxes, int id, ArenaTally& tally) {
  using Set = TestArenas<Check>;
  using Env = TestEnvironment<Check>;
  constexpr std::size_t kOps = 8'000;
  constexpr std::size_t kSlots = 64;
  std::array<Parcel, kSlots> slots{};
  SplitMix64 rng(77 + static_cast<std::uint64_t>(id));
  std::size_t next_tag = static_cast<std::size_t>(id) << 24;
  bool oversize_reallocated = false;
  auto check = [&](bool condition) { tally.ok = tally.ok && condition; };
  // Up to 256 KiB, so that frees add up to page releases (a quarter of a chunk) now and then.
  auto draw_size = [&] { return rng.range(0, 15) == 0 ? rng.log_size(12, 18) : rng.log_size(3, 11); };
  auto receive = [&] {
    for (const Parcel& p : boxes[id].take_all()) {
      check(holds_pattern(p.ptr, p.size, p.tag));
      check(free_block<Check>(p.ptr));
    }
  };
  for (std::size_t op = 0; op < kOps && tally.ok; ++op) {
    if (op == kOps / 2) {
      // A request no chunk can hold: the arena grows, still fails, and Set::allocate falls back to allocate_elsewhere,
      // which takes every other arena in turn while their threads use them, and finds no room. (The drop-in sends such
      // sizes to HugeBlocks; here the path stands for a growth the system refused.)
      check(Set::allocate(door::kChunkBytes, 16) == nullptr);
    }
    Parcel& slot = slots[rng.range(0, kSlots - 1)];
    const std::size_t action = rng.range(0, 63);
    if (slot.ptr == nullptr) {
      const std::size_t size = draw_size();
      void* p = nullptr;
      if (action == 0 && Env::arena < kThreads) {
        // As Set::allocate does once this thread's arena could not grow: the first other arena with room serves it.
        const unsigned full = Env::arena;
        const typename Set::Served served = Set::allocate_elsewhere(full, size, 16);
        if (served.block != nullptr) {
          check(served.arena != full && Env::map.owner(served.block) == served.arena + 1);
          ++tally.elsewhere;
        }
        p = served.block;
      }
      if (p == nullptr) p = Set::allocate(size, 16);
      check(p != nullptr);
      if (p == nullptr) continue;
      check(validate_owner<Check>(p));
      slot = Parcel{p, size, ++next_tag};
      fill(p, size, slot.tag);
      ++tally.allocations;
    } else if (action < 16) {
      // realloc: in place or moved within the block's own arena, the kept prefix intact.
      check(holds_pattern(slot.ptr, slot.size, slot.tag));
      const std::uint8_t owner = Env::map.owner(slot.ptr);
      check(owner != door::ChunkMap::kNoOwner && owner <= kThreads);
      if (owner == door::ChunkMap::kNoOwner || owner > kThreads) continue;
      check(Set::usable_size(owner, slot.ptr, kTestWords) >= slot.size);
      if (action == 1 && op > kOps / 2 && !oversize_reallocated) {
        // Once per thread (each such call maps a chunk for nothing): too large for any arena, so nullptr, the block
        // untouched where it was (Set::reallocate's fallback to allocate_elsewhere, as above).
        oversize_reallocated = true;
        check(Set::reallocate(owner, slot.ptr, door::kChunkBytes) == nullptr);
        check(holds_pattern(slot.ptr, slot.size, slot.tag));
        check(validate_owner<Check>(slot.ptr));
        continue;
      }
      const std::size_t size = draw_size();
      void* const moved = Set::reallocate(owner, slot.ptr, size);
      check(moved != nullptr);
      if (moved == nullptr) continue;
      check(holds_pattern(moved, std::min(size, slot.size), slot.tag));
      check(validate_owner<Check>(moved));
      slot = Parcel{moved, size, ++next_tag};
      fill(moved, size, slot.tag);
      ++tally.reallocations;
    } else if (action < 40) {
      boxes[(id + 1) % kThreads].post(slot);  // freed by the next thread
      slot = Parcel{};
    } else {
      check(holds_pattern(slot.ptr, slot.size, slot.tag));
      check(free_block<Check>(slot.ptr));
      slot = Parcel{};
    }
    if (op % 16 == 0) receive();
  }
  for (Parcel& slot : slots) {
    if (slot.ptr == nullptr) continue;
    check(holds_pattern(slot.ptr, slot.size, slot.tag));
    check(free_block<Check>(slot.ptr));
  }
}

TYPED_TEST(ArenaThreads, BlocksFreedAcrossThreadsWhileEveryArenaIsLockedAndReported) {
  using Set = TestArenas<TypeParam>;
  // The heaps' counts before this run (non-zero only when the test repeats: the arenas are static, as the drop-in's).
  std::size_t allocations_before = 0;
  for (unsigned i = 0; i < kThreads; ++i) {
    Set::arenas[i].lock();
    allocations_before += Set::arenas[i].heap().stats().total_allocations;
    Set::arenas[i].unlock();
  }
  std::array<Mailbox, kThreads> boxes;
  std::array<ArenaTally, kThreads> tallies{};
  std::atomic<int> running{kThreads};
  std::atomic<bool> observer_ok{true};
  // The fork handlers' lock_all / unlock_all, with a fork handler's malloc and free in the window, which pass the
  // locks lock_all holds for the fork (ArenaLock::begin_fork) while the workers wait; the exit report (statistics)
  // and validate_all, and malloc_trim's release_all, in a loop while the workers run.
  std::atomic<std::size_t> window_allocations{0};
  std::thread observer([&] {
    while (running.load() != 0) {
      Set::lock_all();
      door::ArenaLock::begin_fork();
      void* const p = Set::allocate(48, 16);
      if (p == nullptr || !validate_owner<TypeParam>(p)) observer_ok = false;
      if (p != nullptr) {
        fill(p, 48, 0x5a);
        if (!holds_pattern(p, 48, 0x5a) || !free_block<TypeParam>(p)) observer_ok = false;
        window_allocations.fetch_add(1);
      }
      door::ArenaLock::end_fork();
      Set::unlock_all();
      door::StderrLine line;  // never written
      Set::report(line);
      if (!Set::validate_all()) observer_ok = false;
      (void)Set::release_all();
      if (!Set::validate_all()) observer_ok = false;
      std::this_thread::yield();
    }
  });
  std::array<std::thread, kThreads> workers;
  for (int i = 0; i < kThreads; ++i) {
    workers[i] = std::thread([&, i] {
      arena_worker<TypeParam>(boxes, i, tallies[i]);
      running.fetch_sub(1);
    });
  }
  for (std::thread& t : workers) t.join();
  observer.join();
  EXPECT_TRUE(observer_ok.load()) << "validate_all() failed in the observer";
  // Parcels posted after their receiver's last look.
  for (Mailbox& box : boxes) {
    for (const Parcel& p : box.take_all()) {
      EXPECT_TRUE(holds_pattern(p.ptr, p.size, p.tag));
      EXPECT_TRUE(free_block<TypeParam>(p.ptr));
    }
  }
  std::size_t allocations = 0, reallocations = 0, elsewhere = 0;
  for (const ArenaTally& t : tallies) {
    EXPECT_TRUE(t.ok) << "a thread saw a damaged payload, a failed allocation or a failed validate()";
    allocations += t.allocations;
    reallocations += t.reallocations;
    elsewhere += t.elsewhere;
  }
  EXPECT_GT(elsewhere, 0u) << "allocate_elsewhere never served a block";
  EXPECT_GT(window_allocations.load(), 0u) << "the observer never allocated inside a fork window";
  allocations += window_allocations.load();
  std::size_t heap_allocations = 0, heap_frees = 0, chunks = 0;
  for (unsigned i = 0; i < kThreads; ++i) {
    auto& arena = Set::arenas[i];
    arena.lock();
    arena.heap().flush_cache();
    EXPECT_TRUE(arena.heap().validate().has_value());
    const nostd::HeapStats s = arena.heap().stats();
    EXPECT_EQ(s.live_allocations, 0u);
    heap_allocations += s.total_allocations;
    heap_frees += s.total_frees;
    chunks += arena.chunks();
    arena.unlock();
  }
  heap_allocations -= allocations_before;
  heap_frees -= allocations_before;  // every block of an earlier run was freed (live 0)
  // Every block the set returned is one heap allocation, and a reallocate that moved a block one more.
  EXPECT_GE(heap_allocations, allocations);
  EXPECT_LE(heap_allocations, allocations + reallocations);
  EXPECT_EQ(heap_frees, heap_allocations);
  EXPECT_GE(chunks, 1u);
  // The fork child's reset_all, after a lock_all as the parent's prepare handler leaves them: every arena is free.
  Set::lock_all();
  Set::reset_all();
  for (unsigned i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(Set::arenas[i].try_lock()) << "arena " << i;
    Set::arenas[i].unlock();
  }
  void* const p = Set::allocate(64, 16);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(free_block<TypeParam>(p));
}

// A thread alone in its arena waits while another thread holds it (a free of one of its blocks, a statistics call),
// and keeps it; once a second thread has been given that arena, the first moves to a free one at its next collision;
// alone again in its new arena, it moves on once that arena stays held past kPatienceNs (a malloc in a signal handler
// whose own thread holds the arena; ArenaSet::lock_for_this_thread). Fails with the move on every collision (the
// thread took arena 1 at once and the holder never saw it wait), and waits for ever without the patience.
TYPED_TEST(ArenaThreads, AThreadAloneInItsArenaWaitsForItAndOneThatSharesItMoves) {
  using Env = MoveEnvironment<TypeParam>;
  using Set = door::ArenaSet<TypeParam, Env>;
  for (std::atomic<unsigned>& count : Set::residents) count.store(0);  // a repeated run's ended threads
  // One block of thread A's per step: the arena it calls its own afterwards and the chunk map's owner of the block.
  struct Step {
    std::atomic<unsigned> arena{99};
    std::atomic<unsigned> owner{0};
    std::atomic<void*> block{nullptr};
  };
  std::array<Step, 4> steps;
  std::atomic<int> phase{0};  // A runs step k once phase is 2k, and sets it to 2k + 1 when done
  auto wait_for = [&phase](int value) {
    while (phase.load() < value) std::this_thread::yield();
  };
  std::thread a([&] {
    for (int k = 0; k < 4; ++k) {
      wait_for(2 * k);
      void* const p = Set::allocate(64, 16);
      steps[k].block.store(p);
      steps[k].owner.store(Env::map.owner(p));
      steps[k].arena.store(Env::arena);
      phase.store(2 * k + 1);
    }
    wait_for(8);  // A ends only when told, so that its counts are read while it lives
  });

  // Step 0: A is given arena 0 (owner byte 1).
  wait_for(1);
  EXPECT_EQ(steps[0].arena.load(), 0u);
  EXPECT_EQ(steps[0].owner.load(), 1u);
  EXPECT_TRUE(Set::validate_all().has_value());

  // Step 1: arena 0 held here. A, alone in it, waits (the arena counts the wait) and keeps it.
  Set::arenas[0].lock();
  const std::size_t waits = Set::arenas[0].waits();
  phase.store(2);
  while (Set::arenas[0].waits() == waits && phase.load() < 3) std::this_thread::yield();
  Set::arenas[0].unlock();
  wait_for(3);
  EXPECT_EQ(steps[1].arena.load(), 0u);
  EXPECT_EQ(steps[1].owner.load(), 1u);
  EXPECT_TRUE(Set::validate_all().has_value());

  // Thread B is given arena 0 too: with arenas 1 and 2 counted once each (two threads that stand in for others of the
  // program), the fewest count is 1 in every arena, and adopt takes the lowest. Two threads then call arena 0 their
  // own. The stand-ins leave once B has its arena; B lives on until A has moved (an ended thread leaves the count).
  Set::residents[1].store(1);
  Set::residents[2].store(1);
  std::atomic<unsigned> b_arena{99};
  std::atomic<bool> b_may_end{false};
  std::thread b([&] {
    void* const p = Set::allocate(64, 16);
    Set::deallocate(Env::map.owner(p), p);
    b_arena.store(Env::arena);
    while (!b_may_end.load()) std::this_thread::yield();
  });
  while (b_arena.load() == 99) std::this_thread::yield();
  Set::residents[1].store(0);
  Set::residents[2].store(0);
  EXPECT_EQ(b_arena.load(), 0u);
  EXPECT_EQ(Set::residents[0].load(), 2u);
  EXPECT_TRUE(Set::validate_all().has_value());

  // Step 2: arena 0 held again. A, no longer alone there, moves to the first free arena, 1 (owner byte 2).
  Set::arenas[0].lock();
  phase.store(4);
  wait_for(5);
  Set::arenas[0].unlock();
  EXPECT_EQ(steps[2].arena.load(), 1u);
  EXPECT_EQ(steps[2].owner.load(), 2u);
  EXPECT_EQ(Set::residents[0].load(), 1u);
  EXPECT_EQ(Set::residents[1].load(), 1u);
  b_may_end.store(true);
  b.join();
  EXPECT_EQ(Set::residents[0].load(), 0u);  // B, ended
  EXPECT_TRUE(Set::validate_all().has_value());

  // Step 3: arena 1, where A is alone, held here until A has its block. After kPatienceNs A moves to arena 2.
  Set::arenas[1].lock();
  const auto start = std::chrono::steady_clock::now();
  phase.store(6);
  wait_for(7);
  const auto waited = std::chrono::steady_clock::now() - start;
  Set::arenas[1].unlock();
  EXPECT_EQ(steps[3].arena.load(), 2u);
  EXPECT_EQ(steps[3].owner.load(), 3u);
  EXPECT_GE(waited, std::chrono::nanoseconds(Set::kPatienceNs));
  EXPECT_EQ(Set::residents[1].load(), 0u);
  EXPECT_EQ(Set::residents[2].load(), 1u);
  phase.store(8);
  a.join();
  EXPECT_EQ(Set::residents[2].load(), 0u);  // A, ended
  EXPECT_TRUE(Set::validate_all().has_value());

  for (Step& step : steps) {
    void* const p = step.block.load();
    if (p != nullptr) Set::deallocate(Env::map.owner(p), p);
    EXPECT_TRUE(Set::validate_all().has_value());
  }
}

// The fork child's reset_all frees every lock and counts in `residents` only the thread that forked, in its own arena:
// the parent's other threads do not exist there, and counted they would leave every arena shared (the child's threads
// would move on every collision). Fails with the counts inherited.
TYPED_TEST(ArenaThreads, TheForkChildsResetCountsOnlyTheForkingThread) {
  using Env = TestEnvironment<TypeParam, 2>;
  using Set = door::ArenaSet<TypeParam, Env>;
  for (std::atomic<unsigned>& count : Set::residents) count.store(0);  // a repeated run's ended threads
  Env::arena = door::kNoArena;                                         // this thread's arena from a repeated run
  // Another thread of the parent, alive at the fork, given arena 0: counted as adopt counts it. (A thread of this
  // test's would take itself out of the count when it ended after the reset, as no thread of the parent does in the
  // child.)
  Set::residents[0].fetch_add(1);
  void* const mine = Set::allocate(64, 16);  // this thread: arena 1
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(Env::map.owner(mine), 2u);
  EXPECT_EQ(Set::residents[0].load(), 1u);
  EXPECT_EQ(Set::residents[1].load(), 1u);

  Set::lock_all();  // the prepare handler, then the child's
  Set::reset_all();
  EXPECT_EQ(Set::residents[0].load(), 0u);
  EXPECT_EQ(Set::residents[1].load(), 1u);
  for (unsigned i = 0; i < Env::arena_count(); ++i) {
    EXPECT_TRUE(Set::arenas[i].try_lock()) << "arena " << i;
    EXPECT_TRUE(Set::arenas[i].heap().validate().has_value());
    Set::arenas[i].unlock();
  }
  Set::deallocate(Env::map.owner(mine), mine);
  Set::arenas[1].lock();
  EXPECT_TRUE(Set::arenas[1].heap().validate().has_value());
  Set::arenas[1].unlock();
}

// A thread that ends no longer counts in its arena (ArenaSet::leave, through ThreadExitWatch), and a new thread
// takes the arena the fewest threads call theirs (ArenaSet::adopt): threads that run one after another reuse the
// arena an ended one left, and threads alive together spread over the arenas. A thread that allocates again after
// leaving (in a later key destructor of its own) is counted and taken out again. Fails with ended threads left in the
// counts (the second thread is given arena 1, and arena 0 still counts the first), and with the round-robin
// assignment this replaced (the second thread is given arena 1).
TYPED_TEST(ArenaThreads, AThreadThatEndsLeavesItsArenaToTheNext) {
  using Env = TestEnvironment<TypeParam, 2>;
  using Set = door::ArenaSet<TypeParam, Env>;
  for (std::atomic<unsigned>& count : Set::residents) count.store(0);  // a repeated run's counts
  std::vector<void*> blocks;                                           // each outlives its thread, freed at the end
  // A thread that allocates a block and records its arena and that arena's count, then waits for `may_end`.
  struct Run {
    std::atomic<unsigned> arena{99};
    std::atomic<unsigned> counted{99};
    std::atomic<void*> block{nullptr};
    std::atomic<bool> may_end{false};
  };
  auto start = [](Run& run) {
    return std::thread([&run] {
      run.block.store(Set::allocate(64, 16));
      run.counted.store(Set::residents[Env::arena].load());
      run.arena.store(Env::arena);
      while (!run.may_end.load()) std::this_thread::yield();
    });
  };
  auto wait_for = [](Run& run) {
    while (run.arena.load() == 99) std::this_thread::yield();
  };

  // Two threads one after the other: the second is given the arena the first left.
  for (unsigned k = 0; k < 2; ++k) {
    Run run;
    std::thread t = start(run);
    wait_for(run);
    EXPECT_EQ(run.arena.load(), 0u) << "thread " << k;
    EXPECT_EQ(run.counted.load(), 1u) << "thread " << k;
    run.may_end.store(true);
    t.join();
    blocks.push_back(run.block.load());
    ASSERT_NE(blocks.back(), nullptr);
    EXPECT_EQ(Env::map.owner(blocks.back()), 1u);
    EXPECT_EQ(Set::residents[0].load(), 0u) << "thread " << k << " ended";
    EXPECT_TRUE(Set::validate_all().has_value());
  }

  // Two threads alive together: one arena each.
  {
    std::array<Run, 2> runs;
    std::thread first = start(runs[0]);
    wait_for(runs[0]);
    std::thread second = start(runs[1]);
    wait_for(runs[1]);
    EXPECT_EQ(runs[0].arena.load(), 0u);
    EXPECT_EQ(runs[1].arena.load(), 1u);
    EXPECT_EQ(Set::residents[0].load(), 1u);
    EXPECT_EQ(Set::residents[1].load(), 1u);
    for (Run& run : runs) run.may_end.store(true);
    first.join();
    second.join();
    for (Run& run : runs) blocks.push_back(run.block.load());
    EXPECT_EQ(Set::residents[0].load(), 0u);
    EXPECT_EQ(Set::residents[1].load(), 0u);
    EXPECT_TRUE(Set::validate_all().has_value());
  }

  // A thread whose own key destructor allocates, after the watch's (glibc runs destructors in key order, and the
  // watch's key is older): the thread has no arena then, adopts one again and is counted there, is watched again, and
  // leaves in a second round of destructors. Fails if leave kept the index (the late malloc then ran uncounted in
  // arena 0, and a move there would have subtracted it twice).
  static std::atomic<void*> late{nullptr};
  static std::atomic<unsigned> arena_before{0};
  static std::atomic<unsigned> counted_after{0};
  late.store(nullptr);
  pthread_key_t key;
  ASSERT_EQ(::pthread_key_create(&key,
                                 [](void*) {
                                   arena_before.store(Env::arena);
                                   late.store(Set::allocate(48, 16));
                                   counted_after.store(Set::residents[Env::arena].load());
                                 }),
            0);
  std::thread t([&] {
    ::pthread_setspecific(key, &key);
    blocks.push_back(Set::allocate(64, 16));
  });
  t.join();
  ::pthread_key_delete(key);
  ASSERT_NE(late.load(), nullptr);
  blocks.push_back(late.load());
  EXPECT_EQ(arena_before.load(), door::kNoArena);
  EXPECT_EQ(counted_after.load(), 1u);
  EXPECT_EQ(Set::residents[0].load(), 0u);
  EXPECT_EQ(Set::residents[1].load(), 0u);
  EXPECT_TRUE(Set::validate_all().has_value());

  for (void* p : blocks) {
    ASSERT_NE(p, nullptr);
    Set::deallocate(Env::map.owner(p), p);
    EXPECT_TRUE(Set::validate_all().has_value());
  }
}

// The watch's own malloc (glibc's pthread_setspecific callocs for a key above its first 32) comes back into the set
// in the middle of adopt, and may move the thread: here the arena adopt picked is held and shared, so that malloc
// moves the thread to arena 1, and adopt must give the caller arena 1, not the arena it picked. Fails with the picked
// arena returned (the outer call then waited on arena 0, moved from it a second time, and arena 0 read 0 where a
// thread stands in).
TYPED_TEST(ArenaThreads, AMallocInsideTheWatchThatMovesTheThreadIsFollowed) {
  using Env = TestEnvironment<TypeParam, 2, true>;
  using Set = door::ArenaSet<TypeParam, Env>;
  // A stand-in thread in each arena: the new thread's pick is arena 0 (the lowest among equals), shared.
  Set::residents[0].store(1);
  Set::residents[1].store(1);
  Env::watch_block.store(nullptr);
  Set::arenas[0].lock();
  std::atomic<void*> block{nullptr};
  std::atomic<unsigned> arena{99};
  std::atomic<bool> may_end{false};
  std::thread t([&] {
    block.store(Set::allocate(64, 16));
    arena.store(Env::arena);
    while (!may_end.load()) std::this_thread::yield();
  });
  while (arena.load() == 99) std::this_thread::yield();
  Set::arenas[0].unlock();
  EXPECT_EQ(arena.load(), 1u);
  ASSERT_NE(block.load(), nullptr);
  ASSERT_NE(Env::watch_block.load(), nullptr);
  EXPECT_EQ(Env::map.owner(block.load()), 2u);
  EXPECT_EQ(Env::map.owner(Env::watch_block.load()), 2u);
  EXPECT_EQ(Set::residents[0].load(), 1u);
  EXPECT_EQ(Set::residents[1].load(), 2u);
  may_end.store(true);
  t.join();
  EXPECT_EQ(Set::residents[0].load(), 1u);
  EXPECT_EQ(Set::residents[1].load(), 1u);
  EXPECT_TRUE(Set::validate_all().has_value());
  for (void* p : {block.load(), Env::watch_block.load()}) {
    Set::deallocate(Env::map.owner(p), p);
    EXPECT_TRUE(Set::validate_all().has_value());
  }
  Set::residents[0].store(0);
  Set::residents[1].store(0);
}

// ---- huge blocks ----

TEST(HugeBlockThreads, MapResizeAndFreeAcrossThreadsWhileTheRegistryGrows) {
  auto huge = std::make_unique<door::HugeBlocks>();
  std::array<Mailbox, kThreads> boxes;
  std::array<bool, kThreads> ok{};
  std::array<std::size_t, kThreads> maps{};
  std::array<std::thread, kThreads> threads;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (int id = 0; id < kThreads; ++id) {
    threads[id] = std::thread([&, id] {
      // 160 live blocks per thread, 640 in all: the table (512 slots, at most half used) doubles twice.
      constexpr std::size_t kSlots = 160;
      constexpr std::size_t kOps = 4'000;
      std::array<Parcel, kSlots> slots{};
      SplitMix64 rng(500 + static_cast<std::uint64_t>(id));
      std::size_t tag = static_cast<std::size_t>(id) << 24;
      bool good = true;
      auto release = [&](const Parcel& p) {
        good = good && holds_pattern(p.ptr, p.size, p.tag);
        door::HugeHeader* const header = huge->claim(p.ptr);
        good = good && header != nullptr && door::HugeBlocks::intact(header, p.ptr);
        if (header != nullptr) huge->free(header);
      };
      for (std::size_t op = 0; op < kOps && good; ++op) {
        Parcel& slot = slots[rng.range(0, kSlots - 1)];
        if (slot.ptr == nullptr) {
          const std::size_t size = rng.range(1, 3 * page);
          const std::size_t align = rng.range(0, 7) == 0 ? page : 16;
          void* const p = huge->allocate(size, align);
          good = good && p != nullptr;
          if (p == nullptr) continue;
          slot = Parcel{p, size, ++tag};
          fill(p, size, slot.tag);
          ++maps[id];
        } else {
          door::HugeHeader* const header = huge->header_of(slot.ptr);
          good = good && header != nullptr && door::HugeBlocks::intact(header, slot.ptr) && header->usable >= slot.size;
          const std::size_t action = rng.range(0, 3);
          if (action == 0 && header != nullptr && door::HugeBlocks::default_aligned(header)) {
            const std::size_t size = rng.range(1, 4 * page);
            void* const moved = huge->resize(slot.ptr, header, size);
            good = good && moved != nullptr;
            if (moved == nullptr) continue;
            const std::size_t kept = std::min(size, slot.size);
            good = good && holds_pattern(moved, kept, slot.tag);
            slot = Parcel{moved, size, slot.tag};
            fill(moved, size, slot.tag);
          } else if (action == 1) {
            boxes[(id + 1) % kThreads].post(slot);
            slot = Parcel{};
          } else if (action == 2) {
            release(slot);
            slot = Parcel{};
          }
        }
        if (op % 8 == 0) {
          for (const Parcel& p : boxes[id].take_all()) release(p);
        }
      }
      for (const Parcel& p : slots) {
        if (p.ptr != nullptr) release(p);
      }
      ok[id] = good;
    });
  }
  for (std::thread& t : threads) t.join();
  for (Mailbox& box : boxes) {
    for (const Parcel& p : box.take_all()) {
      EXPECT_TRUE(holds_pattern(p.ptr, p.size, p.tag));
      door::HugeHeader* const header = huge->claim(p.ptr);
      ASSERT_NE(header, nullptr);
      huge->free(header);
    }
  }
  for (int id = 0; id < kThreads; ++id) EXPECT_TRUE(ok[id]) << "thread " << id;
  EXPECT_EQ(huge->registry().size(), 0u);
  const door::HugeBlocks::Counts counts = huge->counts();
  EXPECT_EQ(counts.maps, counts.unmaps);
  EXPECT_EQ(counts.live_bytes, 0u);
  std::size_t mapped = 0;
  for (const std::size_t m : maps) mapped += m;
  EXPECT_GE(counts.maps, mapped);
}

// ---- the recorder ----

// Threads record calls without end, and a spawner starts short-lived threads (each registers a buffer of its own);
// malloc_recorder_stop runs in the middle of it. The trace must hold every call number below the count its end
// record gives (the converter refuses a gap), so no thread's events were lost or half written.
TEST(RecorderThreads, StopWhileThreadsRecordAndRegister) {
  const char* const dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/recorder_threads.trace";
  std::remove(path.c_str());
  ASSERT_TRUE(nostd::record::malloc_recorder_start(path.c_str()));
  std::atomic<bool> done{false};
  auto record_some = [](std::uintptr_t base, int calls) {
    for (int i = 0; i < calls; ++i) {
      void* const p = reinterpret_cast<void*>(base + 16 * static_cast<std::uintptr_t>(i % 64));
      nostd::record::malloc_recorder_allocated(p, 16, 0);
      nostd::record::malloc_recorder_freeing(p);
    }
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) {
    threads.emplace_back([&, id] {
      const std::uintptr_t base = 0x100000u * static_cast<std::uintptr_t>(id + 1);
      while (!done.load()) record_some(base, 100);
    });
  }
  // At most 1,000 short-lived threads: the recorder has buffers for 4,096 threads in all (more would go unrecorded,
  // and registration would no longer be what is tested while stop runs).
  threads.emplace_back([&] {
    for (std::uintptr_t n = 0; n < 1000 && !done.load(); ++n) {
      std::thread([&record_some, n] { record_some(0x10000000u + 0x10000u * (n % 256), 10); }).join();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  nostd::record::malloc_recorder_stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // calls after stop: not recorded
  done = true;
  for (std::thread& t : threads) t.join();

  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t events = 0;
  const auto stats =
      nostd::bench::convert_raw_trace(std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()),
                                      [&events](const nostd::record::TraceEvent&) { ++events; });
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_GT(stats->events, 1000u);
  EXPECT_GE(events, stats->events);
}

}  // namespace
