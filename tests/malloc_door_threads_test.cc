// tests/malloc_door_threads_test.cc — the drop-in malloc's shared state under threads, built from its parts so that
// it runs under ThreadSanitizer (`./bazelw test --config=tsan //tests:malloc_door_threads_test`), which replaces malloc
// itself and so cannot run the drop-in whole (//platform/malloc is incompatible with the sanitizers):
//   - arenas (Arena over MallocHeap, ArenaLock) and the ChunkMap, driven as ArenaSet drives them in malloc_door.cc:
//     a thread allocates from the first arena it can lock, hands half of its blocks to another thread, which finds
//     the owner in the chunk map without a lock and frees into that arena; meanwhile an observer takes every arena
//     in index order (the fork handlers' lock_all), reads the statistics and validates (the exit report), and gives
//     pages back (malloc_trim);
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
#include "alloc/check/no_checks.h"
#include "bench/raw_trace_convert.h"
#include "platform/malloc/arena.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/huge_block.h"
#include "platform/malloc/malloc_heap.h"
#include "platform/malloc/report_and_abort.h"
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

// ---- arenas and the chunk map ----

template <class Check>
class ArenaThreads : public ::testing::Test {};

using CheckLevels = ::testing::Types<nostd::NoChecks, nostd::BasicChecks<door::ReportAndAbort>>;
TYPED_TEST_SUITE(ArenaThreads, CheckLevels);

// ArenaSet's state, per test: kThreads arenas (so that threads collide and move as in the drop-in) and a chunk map.
template <class Check>
struct ArenaSetModel {
  using Heap = door::MallocHeap<Check>;
  std::array<door::Arena<Heap>, kThreads> arenas;
  door::ChunkMap map;  // value-initialised: every chunk unowned

  // ArenaSet::lock_for_this_thread, with the thread's arena index in `mine`.
  door::Arena<Heap>& lock_for(unsigned& mine) {
    if (arenas[mine].try_lock()) return arenas[mine];
    for (unsigned step = 1; step < kThreads; ++step) {
      const unsigned other = (mine + step) % kThreads;
      if (arenas[other].try_lock()) {
        mine = other;
        return arenas[other];
      }
    }
    arenas[mine].lock();
    return arenas[mine];
  }

  // ArenaSet::deallocate: the owner from the chunk map (no lock), then that arena's lock. False when the heap fails
  // its validation afterwards.
  bool free_block(void* ptr) {
    const std::uint8_t owner = map.owner(ptr);
    if (owner == door::ChunkMap::kNoOwner || owner > kThreads) return false;
    door::Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    const std::size_t bytes = arena.heap().usable_size(ptr);
    arena.heap().deallocate(ptr);
    arena.note_freed(bytes, 4096);
    const bool ok = arena.heap().validate().has_value();
    arena.unlock();
    return ok;
  }
};

struct ArenaTally {
  std::size_t allocations = 0;
  bool ok = true;
};

template <class Check>
void arena_worker(ArenaSetModel<Check>& set, std::array<Mailbox, kThreads>& boxes, int id, ArenaTally& tally) {
  constexpr std::size_t kOps = 8'000;
  constexpr std::size_t kSlots = 64;
  std::array<Parcel, kSlots> slots{};
  SplitMix64 rng(77 + static_cast<std::uint64_t>(id));
  std::size_t next_tag = static_cast<std::size_t>(id) << 24;
  unsigned mine = static_cast<unsigned>(id);
  auto check = [&](bool condition) { tally.ok = tally.ok && condition; };
  auto receive = [&] {
    for (const Parcel& p : boxes[id].take_all()) {
      check(holds_pattern(p.ptr, p.size, p.tag));
      check(set.free_block(p.ptr));
    }
  };
  for (std::size_t op = 0; op < kOps && tally.ok; ++op) {
    Parcel& slot = slots[rng.range(0, kSlots - 1)];
    if (slot.ptr == nullptr) {
      // Up to 256 KiB, so that frees add up to page releases (a quarter of a chunk) now and then.
      const std::size_t size = rng.range(0, 15) == 0 ? rng.log_size(12, 18) : rng.log_size(3, 11);
      door::Arena<typename ArenaSetModel<Check>::Heap>& arena = set.lock_for(mine);
      const auto owner = static_cast<std::uint8_t>(&arena - set.arenas.data() + 1);
      void* const p = arena.allocate(size, 16, set.map, owner);
      check(arena.heap().validate().has_value());
      arena.unlock();
      check(p != nullptr);
      if (p == nullptr) continue;
      slot = Parcel{p, size, ++next_tag};
      fill(p, size, slot.tag);
      ++tally.allocations;
    } else if (rng.range(0, 1) == 0) {
      boxes[(id + 1) % kThreads].post(slot);  // freed by the next thread
      slot = Parcel{};
    } else {
      check(holds_pattern(slot.ptr, slot.size, slot.tag));
      check(set.free_block(slot.ptr));
      slot = Parcel{};
    }
    if (op % 16 == 0) receive();
  }
  for (Parcel& slot : slots) {
    if (slot.ptr == nullptr) continue;
    check(holds_pattern(slot.ptr, slot.size, slot.tag));
    check(set.free_block(slot.ptr));
  }
}

TYPED_TEST(ArenaThreads, BlocksFreedAcrossThreadsWhileEveryArenaIsLockedAndReported) {
  using Set = ArenaSetModel<TypeParam>;
  auto set = std::make_unique<Set>();
  std::array<Mailbox, kThreads> boxes;
  std::array<ArenaTally, kThreads> tallies{};
  std::atomic<int> running{kThreads};
  std::atomic<bool> observer_ok{true};
  // The fork handlers' lock_all / unlock_all, the exit report's statistics and validate_all, and malloc_trim's
  // release_all, in a loop while the workers run.
  std::thread observer([&] {
    while (running.load() != 0) {
      for (auto& arena : set->arenas) arena.lock();
      for (auto& arena : set->arenas) arena.unlock();
      for (auto& arena : set->arenas) {
        (void)arena.waits();  // read without the lock, as the report does
        arena.lock();
        if (arena.chunks() != 0) {
          (void)arena.heap().stats();
          if (!arena.heap().validate()) observer_ok = false;
          (void)arena.release_pages(4096);
          if (!arena.heap().validate()) observer_ok = false;
        }
        arena.unlock();
      }
      std::this_thread::yield();
    }
  });
  std::array<std::thread, kThreads> workers;
  for (int i = 0; i < kThreads; ++i) {
    workers[i] = std::thread([&, i] {
      arena_worker(*set, boxes, i, tallies[i]);
      running.fetch_sub(1);
    });
  }
  for (std::thread& t : workers) t.join();
  observer.join();
  EXPECT_TRUE(observer_ok.load()) << "validate() failed in the observer";
  // Parcels posted after their receiver's last look.
  for (Mailbox& box : boxes) {
    for (const Parcel& p : box.take_all()) {
      EXPECT_TRUE(holds_pattern(p.ptr, p.size, p.tag));
      EXPECT_TRUE(set->free_block(p.ptr));
    }
  }
  std::size_t allocations = 0, heap_allocations = 0, heap_frees = 0, chunks = 0;
  for (const ArenaTally& t : tallies) {
    EXPECT_TRUE(t.ok) << "a thread saw a damaged payload, a failed allocation or a failed validate()";
    allocations += t.allocations;
  }
  for (auto& arena : set->arenas) {
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
  EXPECT_EQ(heap_allocations, allocations);
  EXPECT_EQ(heap_frees, allocations);
  EXPECT_GE(chunks, 1u);
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
