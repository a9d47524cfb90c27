// Multithreaded stress (hosted targets only): 4 threads share one heap with SpinLock or MutexLock, each running seeded
// allocate/reallocate/free operations on its own slots with fill patterns. Each thread validates the heap every 64
// operations (validate() takes the heap's lock, so it sees a consistent heap), walks it every 1,024 (finding its own
// live blocks as used) and reads its statistics as often (which must add up: capacity = in use + free + overhead, and
// at least this thread's live blocks), and flushes its cache every 4,096 (a no-op without one). At the end every byte
// is accounted for: the counters equal the sum of what the threads did, and the heap is one free block again (after a
// flush, for the heaps with QuickCache).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "alloc/alloc.h"
#include "platform/hosted.h"
#include "platform/malloc/malloc_heap.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {
namespace {

constexpr int kThreads = 4;
// 1,000,000 operations per heap (4 threads x 250,000); clean under --config=tsan.
constexpr std::size_t kOpsPerThread = 250'000;
constexpr std::size_t kSlotsPerThread = 64;

template <class Heap>
class HeapThreads : public ::testing::Test {};

using LockedHeaps =
    ::testing::Types<BasicHeap<FirstFit, SpinLock, RegionSource>, BasicHeap<BestFit, FullTags, MutexLock, RegionSource>,
                     BasicHeap<NextFit, SpinLock, StaticArraySource<kTestHeapBytes>>,
                     BasicHeap<FirstFit, MutexLock, HardenedChecks<AbortOnFault, GetrandomSecret>, RegionSource>,
                     BasicHeap<SegregatedFit<>, SpinLock, RegionSource, QuickCache<>>,
                     // The drop-in malloc's arena heap at NOSTD_MALLOC_CHECK=none (its inline cached free differs from
                     // BasicChecks'), behind a MutexLock: the policies of platform/malloc/malloc_heap.h, so that it
                     // follows them.
                     BasicHeap<malloc_door::MallocFit, MutexLock, RegionSource, malloc_door::MallocCache,
                               malloc_door::MallocTags, NoChecks>>;
TYPED_TEST_SUITE(HeapThreads, LockedHeaps);

struct ThreadTally {
  std::size_t allocations = 0;
  std::size_t frees = 0;
  std::size_t moves = 0;
  std::size_t failures = 0;
  bool ok = true;
};

template <class Heap>
void run_thread(Heap& heap, int id, ThreadTally& tally) {
  struct Slot {
    void* ptr = nullptr;
    std::size_t size = 0;
    std::size_t tag = 0;
  };
  std::array<Slot, kSlotsPerThread> slots{};
  SplitMix64 rng(1000 + static_cast<std::uint64_t>(id));
  std::size_t next_tag = static_cast<std::size_t>(id) << 24;
  auto check = [&](bool condition) { tally.ok = tally.ok && condition; };
  for (std::size_t op = 0; op < kOpsPerThread && tally.ok; ++op) {
    Slot& slot = slots[rng.range(0, kSlotsPerThread - 1)];
    if (slot.ptr == nullptr) {
      const std::size_t size = rng.log_size(3, 10);
      Result<void*> p = heap.allocate(size);
      if (!p) {
        check(p.error() == AllocError::kOutOfMemory);
        ++tally.failures;
        continue;
      }
      slot = Slot{*p, size, ++next_tag};
      fill(slot.ptr, size, slot.tag);
      ++tally.allocations;
    } else if (rng.range(0, 4) == 0) {
      const std::size_t size = rng.log_size(3, 10);
      Result<void*> p = heap.reallocate(slot.ptr, size);
      if (!p) {
        ++tally.failures;
        check(holds_pattern(slot.ptr, slot.size, slot.tag));
        continue;
      }
      check(holds_pattern(*p, size < slot.size ? size : slot.size, slot.tag));
      if (*p != slot.ptr) ++tally.moves;
      slot.ptr = *p;
      slot.size = size;
      fill(slot.ptr, size, slot.tag);
    } else {
      check(holds_pattern(slot.ptr, slot.size, slot.tag));
      heap.deallocate(slot.ptr);
      ++tally.frees;
      slot = Slot{};
    }
    if (op % 64 == 0) check(heap.validate().has_value());
    if (op % 1024 == 512) {
      std::size_t live = 0;
      for (const Slot& s : slots) live += s.ptr != nullptr ? 1 : 0;
      const HeapStats s = heap.stats();
      // overhead_bytes is what the other two leave of capacity, so only their sum can show a torn read (or a
      // counter that wrapped): it must stay within the capacity.
      check(s.bytes_in_use <= s.capacity && s.bytes_free <= s.capacity - s.bytes_in_use && s.live_allocations >= live);
    }
    if (op % 4096 == 2048) {
      heap.flush_cache();
      check(heap.validate().has_value());
    }
    if (op % 1024 == 0) {
      // walk() sees this thread's live blocks as used, not cached, while the other threads write theirs.
      std::size_t live = 0, seen = 0;
      for (const Slot& s : slots) live += s.ptr != nullptr ? 1 : 0;
      heap.walk([&](const BlockInfo& b) {
        for (const Slot& s : slots) seen += s.ptr == b.payload && b.used && !b.cached ? 1 : 0;
      });
      check(seen == live);
    }
  }
  for (Slot& slot : slots) {
    if (slot.ptr == nullptr) continue;
    check(holds_pattern(slot.ptr, slot.size, slot.tag));
    heap.deallocate(slot.ptr);
    ++tally.frees;
  }
}

TYPED_TEST(HeapThreads, FourThreadsAccountForEveryByte) {
  auto owner = std::make_unique<TestHeap<TypeParam>>();
  TypeParam& heap = owner->heap();
  std::array<ThreadTally, kThreads> tallies{};
  std::array<std::thread, kThreads> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads[i] = std::thread([&heap, &tallies, i] { run_thread(heap, i, tallies[i]); });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(valid(heap));
  std::size_t allocations = 0, frees = 0, moves = 0, failures = 0;
  for (const ThreadTally& t : tallies) {
    EXPECT_TRUE(t.ok) << "a thread saw a damaged payload or a failed validate()";
    allocations += t.allocations;
    frees += t.frees;
    moves += t.moves;
    failures += t.failures;
  }
  heap.flush_cache();  // a cached heap's freed small blocks merge only when flushed (a no-op without a cache)
  ASSERT_TRUE(valid(heap));
  const HeapStats s = heap.stats();
  // A moving reallocate counts as one allocation and one free in the heap's counters.
  EXPECT_EQ(s.total_allocations, allocations + moves);
  EXPECT_EQ(s.total_frees, frees + moves);
  EXPECT_EQ(s.failed_allocations, failures);
  EXPECT_EQ(s.live_allocations, 0u);
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.free_blocks, 1u);
  EXPECT_EQ(s.largest_free_block, s.bytes_free);
  EXPECT_EQ(s.capacity, s.bytes_free + s.overhead_bytes);
  EXPECT_GT(allocations, kThreads * kOpsPerThread / 4);
}

TEST(SpinLockTest, ExcludesOtherThreads) {
  SpinLock lock;
  long counter = 0;  // not atomic: only the lock keeps the increments from racing
  std::array<std::thread, kThreads> threads;
  for (std::thread& t : threads) {
    t = std::thread([&] {
      for (int i = 0; i < 100'000; ++i) {
        lock.lock();
        ++counter;
        lock.unlock();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter, kThreads * 100'000L);
  EXPECT_TRUE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
}

}  // namespace
}  // namespace nostd::testing
