// platform/malloc/arena_set.h — ArenaSet<Check, Env>: the drop-in malloc's arenas of one check level, and how a
// thread picks one, falls back to another when its own cannot grow, and frees into the arena that owns a block.
//
// Terms: the *environment* (Env) is the process-wide state ArenaSet reads but does not own: the number of arenas,
// the chunk map, the page size, the calling thread's arena index, the watch on its end, and the fault report. The
// drop-in passes its globals (malloc_door.cc); a test passes its own, and so drives this very code
// (//tests:malloc_door_threads_test, under ThreadSanitizer). Every member of Env is a static function that the
// compiler inlines: the drop-in's calls compile to the same loads of its globals as before the move.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "alloc/check/heap_fault.h"
#include "alloc/error.h"
#include "alloc/heap_stats.h"
#include "alloc/internal/optimize.h"
#include "platform/malloc/arena.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/malloc_config.h"
#include "platform/malloc/malloc_heap.h"
#include "platform/malloc/size_classes.h"
#include "platform/malloc/stderr_line.h"

namespace nostd::malloc_door {

/// The value of a thread's arena index before its first allocation: any value of at least the arena count sends
/// lock_for_this_thread to ArenaSet::adopt; this one is what the thread-local index starts at.
inline constexpr std::uint8_t kNoArena = 0xff;

static_assert(kMaxArenas < kNoArena, "arena indices must leave kNoArena free");
static_assert(
    kMaxArenas < ChunkMap::kPartialSlot,
    "an arena owner byte must stay below ChunkMap::kPartialSlot, where the bytes naming partial chunks begin");

/// What ArenaSet reads of its surroundings, as static functions (see the file comment): `arena_count()`, the arenas
/// in use (1..kMaxArenas, fixed before the first allocation); `chunk_map()`, the owner of every chunk; `page_bytes()`;
/// `thread_arena()`, the calling thread's arena index (a thread-local starting at kNoArena); `watch_thread_exit()`,
/// which has ArenaSet::leave() called in the calling thread when it ends (ThreadExitWatch; it may call malloc, and is
/// called holding no lock); `fault(error, where, what)`, which reports a misuse and never returns.
template <class Env>
concept ArenaSetEnvironment = requires(AllocError error, const void* where, const char* what) {
  { Env::arena_count() } -> std::same_as<unsigned>;
  { Env::chunk_map() } -> std::same_as<ChunkMap&>;
  { Env::page_bytes() } -> std::same_as<std::size_t>;
  { Env::thread_arena() } -> std::same_as<std::uint8_t&>;
  Env::watch_thread_exit();
  Env::fault(error, where, what);
};

/// How a call that checks a block names its misuses (ArenaSet::usable_size): a freed block, a pointer never returned,
/// a block whose header was overwritten.
struct CallWords {
  AllocError freed_error;    ///< what a freed block is reported as: a double free for realloc, else an invalid pointer
  const char* freed;         ///< an arena block freed already
  const char* foreign;       ///< in an arena chunk, but no block starts there
  const char* unregistered;  ///< outside every chunk and not a live huge block: never one, or freed already
  const char* corrupted;     ///< a header the program overwrote
};

/// The arenas' figures summed (ArenaSet::totals): the exit report's and mallinfo2's.
struct ArenaTotals {
  HeapStats heap;                  ///< The arenas' HeapStats, summed (see ArenaSet::totals for the two that are not).
  std::size_t used_arenas = 0;     ///< Arenas that ever mapped a chunk.
  std::size_t chunks = 0;          ///< Chunks mapped, whole and partial.
  std::size_t partial_chunks = 0;  ///< Of those, partial chunks (Arena::grow under an address-space limit).
  std::size_t lock_waits = 0;      ///< Times a thread found its arena's lock taken.
  std::size_t releases = 0;        ///< Page releases (page_release.h): full ones and tail ones (Arena::release_tail).
};

namespace internal {

/// Reports through Env::fault what try_usable_size found wrong with `ptr`, in `call`'s words. A function of Env alone,
/// not a member of ArenaSet, so that the three check levels share one copy.
template <class Env>
[[noreturn]] void report_bad_block(AllocError error, const void* ptr, const CallWords& call) noexcept {
  switch (error) {
    case AllocError::kDoubleFree:
      Env::fault(call.freed_error, ptr, call.freed);
    case AllocError::kCorrupted:
      Env::fault(AllocError::kCorrupted, ptr, call.corrupted);
    default:
      Env::fault(AllocError::kInvalidPointer, ptr, call.foreign);
  }
}

}  // namespace internal

/// One set of kMaxArenas arenas of heap check level `Check`, of which Env::arena_count() are used, in static storage
/// (constinit: nothing runs before the first call). Every member is static; each takes the arenas' locks itself,
/// one arena at a time except lock_all. Arena indices are 0-based; an `owner` is a chunk map owner byte (index + 1).
template <class Check, class Env>
struct ArenaSet {
  static_assert(ArenaSetEnvironment<Env>,
                "ArenaSet: Env must give static arena_count(), chunk_map(), page_bytes(), thread_arena(), "
                "watch_thread_exit() and fault(error, where, what) of the types ArenaSetEnvironment names");

  /// Each arena's heap.
  using Heap = MallocHeap<Check>;
  /// The arenas; the first Env::arena_count() are used.
  static constinit inline Arena<Heap> arenas[kMaxArenas];

  /// How many threads have made each arena theirs: a thread counts in the arena it was given (adopt) or moved to
  /// (settle), and leaves it by moving or by ending (leave). A count may overstate an arena's threads (the main thread,
  /// unless it calls pthread_exit; a thread whose exit the system could not watch), never understate them.
  static constinit inline std::atomic<unsigned> residents[kMaxArenas] = {};

  /// Moves this thread from arena `from` to arena `to`, in residents too.
  static void settle(unsigned from, unsigned to) noexcept {
    residents[from].fetch_sub(1, std::memory_order_relaxed);
    residents[to].fetch_add(1, std::memory_order_relaxed);
    Env::thread_arena() = static_cast<std::uint8_t>(to);
  }

  /// A thread's first arena, at its first allocation: the one that the fewest threads call theirs, the lowest index
  /// among equals, counted in residents; the thread's end is then watched, so that leave takes it out of the count
  /// again. Called holding no arena: the watch may allocate (glibc's pthread_setspecific callocs for a key above its
  /// first 32), and that malloc finds this thread's arena already set, and may move the thread off it (the arena busy
  /// and shared): the arena returned is the thread's after the watch. Trade-offs: an arena whose threads have ended is
  /// given again before a fresh one, as glibc's free list of arenas does, so a program that runs its work in successive
  /// threads (a worker per request, waves of a pool) reuses the memory the ended threads freed instead of growing a new
  /// arena for each; the round-robin counter this replaced (until 2026-12-07) gave each wave of 4 threads of
  /// //bench:preload's `mt_program waves` the next 4 arenas, and its peak RSS was 2.4x glibc's in the same rounds
  /// (1.4x now). The lowest index, since arenas fill from index 0: the one that already holds memory. Threads that
  /// start together each see the same counts; the compare-exchange makes a thread that lost the race look again, so
  /// they spread over the arenas, and after `count` lost races it takes the arena it saw (two threads that share one
  /// part at their first collision, lock_for_this_thread). O(arenas), once per thread.
  static unsigned adopt() noexcept {
    const unsigned count = Env::arena_count();
    unsigned best = 0;
    for (unsigned attempt = 0; attempt < count; ++attempt) {
      best = 0;
      unsigned fewest = residents[0].load(std::memory_order_relaxed);
      for (unsigned i = 1; i < count && fewest != 0; ++i) {
        const unsigned here = residents[i].load(std::memory_order_relaxed);
        if (here < fewest) {
          best = i;
          fewest = here;
        }
      }
      if (residents[best].compare_exchange_strong(fewest, fewest + 1, std::memory_order_relaxed)) break;
      if (attempt + 1 == count) residents[best].fetch_add(1, std::memory_order_relaxed);
    }
    Env::thread_arena() = static_cast<std::uint8_t>(best);
    Env::watch_thread_exit();
    return Env::thread_arena();
  }

  /// Thread exit (Env::watch_thread_exit's call): the ending thread no longer counts in its arena, and has none. Until
  /// 2026-12-07 an ended thread stayed counted, so that a program which starts threads one after another (a server's
  /// worker per request, a pool that is resized) soon saw every arena shared, and its live threads moved on every
  /// collision, spreading their blocks over the arenas as lock_for_this_thread says. Its blocks stay where they are.
  /// The thread is left with no arena, so that a malloc it makes afterwards (in a later key destructor) adopts an
  /// arena again as a new thread, counted and watched; keeping the index, a move in that malloc would subtract it
  /// twice.
  /// The index is cleared before the count: a signal handler's malloc between the two then adopts an arena as a new
  /// thread (an overstatement) instead of moving from `mine` and subtracting it a second time.
  static void leave() noexcept {
    const unsigned mine = Env::thread_arena();
    Env::thread_arena() = kNoArena;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (mine < Env::arena_count()) residents[mine].fetch_sub(1, std::memory_order_relaxed);
  }

  /// How long a thread alone in its busy arena waits for it before it looks for a free one (lock_for_this_thread):
  /// far longer than any holder's operation or a time slice, and short enough that a malloc in a signal handler whose
  /// own thread holds the arena (a SIGABRT handler's backtrace() after the heap stopped the process under the lock)
  /// goes on in another arena instead of waiting for ever.
  static constexpr std::uint64_t kPatienceNs = 100'000'000;

  /// The index of the arena for an allocation by this thread, locked: its own arena (adopt, at its first
  /// allocation); when that is busy and another thread calls it its own too (residents), the first free one, which
  /// becomes its arena; else it waits for its own (for up to kPatienceNs, then it too takes the first free one, and
  /// else waits on). Two threads that were given one arena thus part at their first collision, and a thread that
  /// migrates keeps its arena. A thread alone in its arena waits: what holds it then is brief (another thread
  /// freeing a block of this arena, a statistics call, a holder the scheduler preempted), and a move would leave the
  /// thread's blocks, and the memory they free, behind. Moving on every collision (until
  /// 2026-12-07) spread the 5 threads of tests/preload/mt_program over 5-8 arenas, each grown to a working set, and
  /// its peak RSS grew with them (21.8 MiB on 5 arenas, 24.2 on 6, 29.3 on 8; glibc 16.5-17.5; one arena each: 12.2
  /// MiB, as glibc). Where the count overstates (see residents), the thread moves as before. The index, not the
  /// arena: allocate needs both, and the index taken back from the arena's address was a division by the arena's size
  /// on every malloc. Always inlined: when allocate became a template (calloc's kZeroed), GCC kept this out of line
  /// and inlined allocate into the door instead, 7 instructions more per malloc + free (cachegrind, churn_bench).
  [[gnu::always_inline]] static unsigned lock_for_this_thread() noexcept {
    const unsigned count = Env::arena_count();
    unsigned mine = Env::thread_arena();
    if (mine >= count) [[unlikely]]
      mine = adopt();
    if (arenas[mine].try_lock()) [[likely]]
      return mine;
    if (residents[mine].load(std::memory_order_relaxed) <= 1 && arenas[mine].lock_within(kPatienceNs)) return mine;
    for (unsigned step = 1; step < count; ++step) {
      const unsigned other = (mine + step) % count;
      if (arenas[other].try_lock()) {
        settle(mine, other);
        return other;
      }
    }
    arenas[mine].lock();
    return mine;
  }

  /// A block from allocate_elsewhere and the index of the arena that served it.
  struct Served {
    void* block;     ///< nullptr when no arena could
    unsigned arena;  ///< meaningful only with a block
  };

  /// The fallback once arena `full` has failed a request because it could not grow (Arena::allocate or reallocate
  /// gave nullptr: a whole fresh chunk holds any request an arena is given, below kMaxHugeThreshold, so the system
  /// refused the chunk, e.g. under RLIMIT_AS, or gave a partial one too small for a request above kHugeThreshold): the
  /// first other arena that can serve it from the chunks it already has, tried in index order after `full`, as glibc's
  /// arena_get_retry retries in another arena. The caller holds no arena and each is locked alone, so allocation still
  /// takes one arena at a time (the fork handlers' lock-all order cannot meet it). Trade-offs: no arena maps a chunk
  /// here. The system has just refused one, a chunk mapped for another arena would serve no more than one for `full`,
  /// and asking again in every arena would cost 2-3 refused mmap calls per arena on each call that fails. Arenas
  /// without a chunk are skipped without a call into their heap (nothing to serve, and at `hardened` a heap's first use
  /// draws its key with getrandom). O(arenas) lock round trips, paid only when an arena could not grow.
  template <bool kZeroed = false>
  static Served allocate_elsewhere(unsigned full, std::size_t size, std::size_t align) noexcept {
    const unsigned count = Env::arena_count();
    for (unsigned step = 1; step < count; ++step) {
      const unsigned other = (full + step) % count;
      Arena<Heap>& arena = arenas[other];
      arena.lock();
      void* const block = arena.chunks() != 0 ? arena.template allocate_without_growth<kZeroed>(size, align) : nullptr;
      arena.unlock();
      if (block != nullptr) return {block, other};
    }
    return {nullptr, full};
  }

  /// malloc below the huge threshold (malloc_door.h): from this thread's arena (lock_for_this_thread), growing it if
  /// needed; when it cannot grow, from another arena's chunks (allocate_elsewhere). nullptr when no arena can.
  /// kZeroed: calloc's, whose bytes read zero.
  template <bool kZeroed = false>
  static void* allocate(std::size_t size, std::size_t align) noexcept {
    const unsigned mine = lock_for_this_thread();
    Arena<Heap>& arena = arenas[mine];
    void* const block =
        arena.template allocate<kZeroed>(size, align, Env::chunk_map(), static_cast<std::uint8_t>(mine + 1));
    arena.unlock();
    if (block != nullptr) [[likely]]
      return block;
    const Served served = allocate_elsewhere<kZeroed>(mine, size, align);
    // The thread moves to the arena that served it, as lock_for_this_thread moves it off a busy shared one: staying, it
    // would repeat the refused growth (2-3 mmap calls) on every request its own heap cannot serve. Where that arena
    // grows again later, it grows as the thread's own.
    if (served.block != nullptr) settle(mine, served.arena);
    return served.block;
  }

  /// free of `ptr`, a block of the arena whose chunk map owner byte is `owner` (1..arena_count()). A pointer that is
  /// no block of that arena is reported (Env::fault, or the heap's check policy).
  NOSTD_HOT static void deallocate(std::uint8_t owner, void* ptr) noexcept {
    // The size read below comes before the heap's pointer check, and reads the header in front of `ptr`: for a
    // pointer in a chunk's first bytes that is the page before the chunk, which may be unmapped. No block starts
    // there (the region header comes first), so such a pointer is refused before anything is read. A pointer in the
    // unmapped tail of a partial chunk's slot never comes here: its owner byte is ChunkMap::kPartialSlot or more, and
    // the caller's owner_in_partial_slot sends it to the huge blocks instead (chunk_map.h). Inside a partial chunk, the
    // header read lies inside the chunk as for a whole one.
    if ((reinterpret_cast<std::uintptr_t>(ptr) & (kChunkBytes - 1)) < Heap::Tags::kHeaderSize) [[unlikely]] {
      Env::fault(AllocError::kInvalidPointer, ptr,
                 "free of a pointer malloc never returned (the start of an arena chunk)");
    }
    Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    // The block's size, for the release interval: a header read the free is about to make anyway. (A bad pointer
    // yields a meaningless size here, at worst an early release; the free below then reports it.)
    const std::size_t bytes = arena.heap().usable_size(ptr);
    arena.heap().deallocate(ptr);
    arena.note_freed(bytes, Env::page_bytes());
    arena.unlock();
  }

  /// malloc_trim: every arena gives back the pages of its large free blocks now.
  static std::size_t release_all() noexcept {
    std::size_t bytes = 0;
    for (unsigned i = 0; i < Env::arena_count(); ++i) {
      arenas[i].lock();
      if (arenas[i].chunks() != 0) bytes += arenas[i].release_pages(Env::page_bytes());
      arenas[i].unlock();
    }
    return bytes;
  }

  /// realloc of a block of arena `owner` to an arena size: in its own arena (in place or moved there, growing it if
  /// needed); when that arena cannot grow, moved to another arena that has room (allocate_elsewhere), then freed. The
  /// move keeps malloc's alignment only, as glibc's realloc and the moves between arena and mapping do; a block from
  /// memalign keeps its alignment only within its own arena. nullptr when no arena can: the block is then untouched.
  static void* reallocate(std::uint8_t owner, void* ptr, std::size_t size) noexcept {
    Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    void* const block = arena.reallocate(ptr, size, Env::chunk_map(), owner);
    // A failed reallocate has checked `ptr` (at `basic` and `hardened`) and left it as it was: its size is read now,
    // under the same lock, for the copy below.
    const std::size_t old_usable = block == nullptr ? arena.heap().usable_size(ptr) : 0;
    arena.unlock();
    if (block != nullptr) [[likely]]
      return block;
    const Served moved = allocate_elsewhere(owner - 1u, size, kMallocAlignment);
    if (moved.block == nullptr) return nullptr;
    std::memcpy(moved.block, ptr, std::min(old_usable, size));
    deallocate(owner, ptr);
    return moved.block;
  }

  /// malloc_usable_size, and realloc's moves: the pointer is checked first (try_usable_size, at every level), since a
  /// program may pass any pointer: an interior or freed one is reported, not answered with a size read from payload
  /// bytes. `call` words the report.
  static std::size_t usable_size(std::uint8_t owner, void* ptr, const CallWords& call) noexcept {
    Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    const Result<std::size_t> bytes = arena.heap().try_usable_size(ptr);
    arena.unlock();
    if (!bytes) internal::report_bad_block<Env>(bytes.error(), ptr, call);
    return *bytes;
  }

  /// Fork: the child must not inherit an arena locked by a thread that does not exist there. Locks in index order
  /// (allocation takes one arena at a time, so no order can deadlock against it), each held for the fork
  /// (ArenaLock::lock_for_fork: the forking thread's own mallocs pass them until the parent or child handler).
  static void lock_all() noexcept {
    for (unsigned i = 0; i < Env::arena_count(); ++i) arenas[i].lock_for_fork();
  }
  /// Fork parent: releases what lock_all took.
  static void unlock_all() noexcept {
    for (unsigned i = 0; i < Env::arena_count(); ++i) arenas[i].unlock_after_fork();
  }
  /// Fork child: frees every lock (their holders do not exist there) and counts the one thread that does in its arena
  /// (residents): the parent's other threads would otherwise leave every arena shared in the count, and the child's
  /// threads would move on every collision.
  static void reset_all() noexcept {
    for (unsigned i = 0; i < Env::arena_count(); ++i) {
      arenas[i].reset_lock();
      residents[i].store(0, std::memory_order_relaxed);
    }
    if (const unsigned mine = Env::thread_arena(); mine < Env::arena_count()) {
      residents[mine].store(1, std::memory_order_relaxed);
    }
  }

  /// The statistics of every arena that ever mapped a chunk, summed (`heap.largest_free_block`: the largest of
  /// theirs; `heap.peak_bytes_in_use`: the sum of their peaks, not the process's peak), each arena locked in turn.
  /// For the exit report and mallinfo2. O(free blocks), as HeapStats is.
  static ArenaTotals totals() noexcept {
    ArenaTotals sum;
    for (unsigned i = 0; i < Env::arena_count(); ++i) {
      sum.lock_waits += arenas[i].waits();  // before our own lock() below, which may add one
      arenas[i].lock();
      if (arenas[i].chunks() != 0) {
        const HeapStats s = arenas[i].heap().stats();
        ++sum.used_arenas;
        sum.chunks += arenas[i].chunks();
        sum.partial_chunks += arenas[i].partial_chunks();
        sum.releases += arenas[i].releases();
        sum.heap.capacity += s.capacity;
        sum.heap.bytes_in_use += s.bytes_in_use;
        sum.heap.bytes_free += s.bytes_free;
        sum.heap.overhead_bytes += s.overhead_bytes;
        sum.heap.largest_free_block = std::max(sum.heap.largest_free_block, s.largest_free_block);
        sum.heap.peak_bytes_in_use += s.peak_bytes_in_use;
        sum.heap.live_allocations += s.live_allocations;
        sum.heap.free_blocks += s.free_blocks;
        sum.heap.cached_blocks += s.cached_blocks;
        sum.heap.cached_bytes += s.cached_bytes;
        sum.heap.total_allocations += s.total_allocations;
        sum.heap.total_frees += s.total_frees;
        sum.heap.failed_allocations += s.failed_allocations;
      }
      arenas[i].unlock();
    }
    return sum;
  }

  /// Arena `index`'s statistics and size classes (0 <= index < Env::arena_count()), taken in one hold of its lock so
  /// that the classes add up to the statistics' free and cached blocks; all zero for an arena that never mapped a chunk
  /// (as totals() skips it). For malloc_info, which lists the arenas one by one. O(free blocks); allocates nothing.
  static void usage_of(unsigned index, HeapStats& stats, SizeClasses& sizes) noexcept {
    arenas[index].lock();
    if (arenas[index].chunks() != 0) {
      stats = arenas[index].heap().stats();
      count_size_classes<MallocFit>(arenas[index].heap(), sizes);
    } else {
      stats = HeapStats{};
      sizes.used = 0;
    }
    arenas[index].unlock();
  }

  /// The exit report's arena figures (totals()).
  static void report(StderrLine& line) noexcept {
    const ArenaTotals sum = totals();
    line << " arenas=" << sum.used_arenas << "/" << std::size_t{Env::arena_count()} << " chunks=" << sum.chunks
         << " partial_chunks=" << sum.partial_chunks << " allocations=" << sum.heap.total_allocations
         << " frees=" << sum.heap.total_frees << " live=" << sum.heap.live_allocations
         << " in_use_bytes=" << sum.heap.bytes_in_use << " peak_bytes_sum=" << sum.heap.peak_bytes_in_use
         << " free_blocks=" << sum.heap.free_blocks << " cached_blocks=" << sum.heap.cached_blocks
         << " lock_waits=" << sum.lock_waits << " page_releases=" << sum.releases;
  }

  /// validate() on every arena; the first fault found.
  static ValidateResult validate_all() noexcept {
    for (unsigned i = 0; i < Env::arena_count(); ++i) {
      arenas[i].lock();
      const ValidateResult result = arenas[i].heap().validate();
      arenas[i].unlock();
      if (!result) return result;
    }
    return {};
  }
};

}  // namespace nostd::malloc_door
