// platform/malloc/arena.h — Arena<Heap>: one lock, one heap, and the growth that maps a new chunk when it is full.
//
// Threads do not serialise on one lock: the drop-in malloc keeps several arenas, a thread allocates from its own (and
// when that is busy, waits for it, or takes a free one if another thread calls it its own too:
// ArenaSet::lock_for_this_thread), and a free goes to the arena that owns the block (ChunkMap).
// When an arena cannot grow (the system refuses a chunk), the request is served from another arena's memory if one
// has room (allocate_without_growth; ArenaSet::allocate_elsewhere in arena_set.h).
// Freed memory goes back to the system page by page (page_release.h) after enough has been freed, and the rest of a
// chunk past its highest used block also when the arena's bytes in use fall by a quarter (the tail release).
#pragma once

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "alloc/error.h"
#include "platform/malloc/arena_lock.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/page_release.h"

namespace nostd::malloc_door {

/// The shortest time between two releases that note_freed starts, and how many more bytes freed it waits before
/// looking at the clock again when a release is due by volume but not yet by time.
inline constexpr std::uint64_t kReleaseIntervalNs = 1'000'000'000;
inline constexpr std::size_t kReleaseRecheckBytes = kChunkBytes / 64;

/// The tail release (Arena::release_due): between two full releases, the pages of the free blocks of at least
/// kChunkBytes / 16 (4 MiB: the rest of a chunk past the arena's highest used block, and holes as large) go back,
/// past their first 256 KiB, once the arena's bytes in use have fallen by kTailDropShare of their high since the
/// last tail release and by kTailDropMinBytes at least. Each tail release waits for kTailBytesPerVisit bytes freed
/// per free block its last walk visited.
inline constexpr ReleaseBounds kTailBounds{kChunkBytes / 16, 256 * 1024};
inline constexpr std::size_t kTailDropShare = 4;  // a quarter
inline constexpr std::size_t kTailDropMinBytes = kReleaseRecheckBytes;
inline constexpr std::size_t kTailBytesPerVisit = 8;
static_assert(kTailBounds.keep_front >= kFreeBlockKeepBytes && kTailBounds.min_bytes >= kReleaseMinBytes,
              "kTailBounds: a tail release keeps at least what a full release keeps of a block");

/// A heap over chunks it maps on demand, behind an ArenaLock. `Heap` is a BasicHeap over RegionSource with a
/// NullLock: the arena's own lock covers the heap operation and the growth together, and the fork handlers can
/// take it from outside. Every member except the lock functions needs the lock held.
///
/// Aligned to 128 bytes (two cache lines, the unit the adjacent-line prefetcher pulls in): arenas sit side by
/// side in one array, and two threads writing their own arena's lock and counters must not share a line.
/// Before this alignment, two threads on two arenas ran slower together than one alone (0.47 vs 0.61 Mops/s).
template <class Heap>
class alignas(128) Arena {
  static_assert(Heap::Tags::kMaxBlockSize >= kChunkBytes,
                "Arena: the heap's tag word must record a block as large as a chunk (its regions are whole chunks)");

 public:
  constexpr Arena() noexcept = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  /// Blocks until this thread holds the arena, counting the times it had to wait (the statistics' lock_waits:
  /// how often threads really met on an arena).
  void lock() noexcept {
    if (lock_.try_lock()) [[likely]]
      return;
    if (!lock_.held_for_this_fork()) waits_.fetch_add(1, std::memory_order_relaxed);  // a fork handler's malloc passes
    lock_.lock();
  }
  /// Takes the arena if nobody holds it; never blocks.
  bool try_lock() noexcept { return lock_.try_lock(); }
  /// As lock(), giving up after about `patience_ns` of waiting (ArenaLock::lock_within): true when this thread holds
  /// the arena. A wait is counted as lock() counts it.
  bool lock_within(std::uint64_t patience_ns) noexcept {
    if (lock_.try_lock()) return true;
    if (!lock_.held_for_this_fork()) waits_.fetch_add(1, std::memory_order_relaxed);
    return lock_.lock_within(patience_ns);
  }
  /// Releases the arena.
  void unlock() noexcept { lock_.unlock(); }
  /// In a fork child, where the thread that held the lock in the parent no longer exists: released.
  void reset_lock() noexcept { lock_.reset(); }
  /// Fork prepare and parent: ArenaLock::lock_for_fork and unlock_after_fork (the forking thread passes the lock).
  void lock_for_fork() noexcept { lock_.lock_for_fork(); }
  /// Releases the arena after a fork, in the parent.
  void unlock_after_fork() noexcept { lock_.unlock_after_fork(); }

  /// Allocates from the heap, mapping one more chunk (owner byte `owner` in `map`) when the heap is full.
  /// nullptr when even a fresh chunk cannot hold the request or the system refuses memory. Callers send
  /// requests larger than a chunk elsewhere (HugeBlocks), so for them nullptr means the growth failed.
  /// kZeroed: calloc's, whose bytes read zero (BasicHeap::allocate_zeroed).
  template <bool kZeroed = false>
  void* allocate(std::size_t size, std::size_t align, ChunkMap& map, std::uint8_t owner) noexcept {
    Result<void*> block = allocate_here<kZeroed>(size, align);
    if (!block && block.error() == AllocError::kOutOfMemory && grow(map, owner)) {
      block = allocate_here<kZeroed>(size, align);
    }
    return block ? *block : nullptr;
  }

  /// Allocates from the chunks the arena has, never mapping one: for a thread whose own arena could not grow
  /// (ArenaSet::allocate_elsewhere in arena_set.h). nullptr when no free block fits. An arena without a chunk has
  /// nothing to serve; callers skip it (chunks() == 0) rather than touch its heap.
  template <bool kZeroed = false>
  void* allocate_without_growth(std::size_t size, std::size_t align) noexcept {
    Result<void*> block = allocate_here<kZeroed>(size, align);
    return block ? *block : nullptr;
  }

  /// Resizes a block of this arena as BasicHeap::reallocate does, growing the arena once if it is full.
  /// nullptr when it cannot (the block is then untouched); for a request below a chunk that means the growth failed.
  void* reallocate(void* ptr, std::size_t size, ChunkMap& map, std::uint8_t owner) noexcept {
    Result<void*> block = heap_.reallocate(ptr, size);
    if (!block && block.error() == AllocError::kOutOfMemory && grow(map, owner)) block = heap_.reallocate(ptr, size);
    return block ? *block : nullptr;
  }

  /// Counts `bytes` freed (the caller passes the block's usable size, read before the free, whether the heap then
  /// merges the block or keeps it in its cache: the count is a trigger, not a measure of releasable memory, and a
  /// cache holds few of a busy arena's freed bytes, and at most 16.03 MiB: MallocCache); once the bytes freed since the
  /// last release reach a quarter of the arena's chunks' bytes (16 MiB per whole chunk) and at least kReleaseIntervalNs
  /// have passed since the last release, gives the pages of its large free blocks back (release_pages). Why a volume: a
  /// release visits every free block (the fit's index, not every block), and a block is at least 32 bytes, so it costs
  /// at most one block visit per 8 bytes freed — amortised O(1) per free — while a program that frees a quarter of its
  /// heap sees it returned. Why also a time (the decay of jemalloc's dirty pages): a program that churns more than a
  /// quarter of its heap over and over would otherwise give pages back only to fault them in again at once (the
  /// threaded //tests/preload:mt_program ran 1.3x slower, twice the system time). Past the volume, the clock
  /// (CLOCK_MONOTONIC_COARSE, no system call) is read once per kReleaseRecheckBytes. The volume test is inlined into
  /// every free, the rest (release_due) is not: as one function, out of line, it was a call with a frame on every free
  /// (cachegrind, churn_bench: 23 instructions per free, 17 of them the frame).
  [[gnu::always_inline]] void note_freed(std::size_t bytes, std::size_t page_bytes) noexcept {
    freed_since_release_ += bytes;
    if (freed_since_release_ >= mapped_bytes_ / 4) [[unlikely]]
      release_due(page_bytes);
  }

  /// Merges the blocks the heap's cache keeps aside (BasicHeap::flush_cache, a no-op without a cache), then gives
  /// the whole pages inside free blocks of at least kReleaseMinBytes back to the system (page_release.h); returns
  /// the bytes advised. O(free blocks): it visits the fit's index (BasicHeap::walk_free), not the used blocks. Why
  /// flush first: a cached block is not on the index, and it keeps its free neighbours apart; merged, they may form a
  /// block large enough to release. The cache refills within a few frees, and this runs at most once a second
  /// (note_freed) or when the program asks (malloc_trim).
  std::size_t release_pages(std::size_t page_bytes) noexcept {
    freed_since_release_ = 0;
    return release(page_bytes, ReleaseBounds{}, nullptr);
  }

  /// The heap, for deallocate, usable_size, stats and validate.
  Heap& heap() noexcept { return heap_; }
  /// Times lock() found the arena held by another thread.
  std::size_t waits() const noexcept { return waits_.load(std::memory_order_relaxed); }
  /// Chunks mapped so far, partial ones included (an extension of a partial chunk in place is no new chunk).
  std::size_t chunks() const noexcept { return chunks_; }
  /// Of chunks(), those smaller than kChunkBytes (the system refused a whole one).
  std::size_t partial_chunks() const noexcept { return partial_chunks_; }
  /// Times release_pages or a tail release (release_due) ran, and the bytes they advised in all.
  std::size_t releases() const noexcept { return releases_; }
  /// When the last full release ran (coarse monotonic ns; 0 before the first): a tail release leaves it alone.
  std::uint64_t last_release_ns() const noexcept { return last_release_ns_; }
  std::size_t released_bytes() const noexcept { return released_bytes_; }

 private:
  // The heap's allocate for `size` bytes at `align`: allocate(size) at the default alignment (malloc's: every call
  // but the aligned ones), which checks no alignment and builds no Layout (cachegrind, churn_bench: 14.5 instructions
  // fewer per malloc at `basic`, 11.4 at `none`).
  template <bool kZeroed>
  Result<void*> allocate_here(std::size_t size, std::size_t align) noexcept {
    if (align == Heap::kDefaultAlignment) [[likely]] {
      if constexpr (kZeroed) return heap_.allocate_zeroed(size);
      return heap_.allocate(size);
    }
    Result<void*> block = heap_.allocate(size, align);
    if (kZeroed && block) std::memset(*block, 0, size);
    return block;
  }

  // note_freed past the volume: a release when the interval has passed since the last one (or there was none), else
  // the next look at the clock deferred by kReleaseRecheckBytes, and a tail release if the bytes in use fell enough.
  [[gnu::noinline]] void release_due(std::size_t page_bytes) noexcept {
    const std::uint64_t now = coarse_now_ns();
    if (releases_ == 0 || now - last_release_ns_ >= kReleaseIntervalNs) {
      last_release_ns_ = now;
      release_pages(page_bytes);
    } else {
      // Due again after this many more bytes freed. At most the threshold, which the count has reached: an arena of
      // one 2 MiB partial chunk has a threshold of 512 KiB, under kReleaseRecheckBytes, and the count wrapped.
      const std::size_t step = std::min(kReleaseRecheckBytes, mapped_bytes_ / 4);
      freed_since_release_ -= step;
      release_tail(page_bytes, step);
    }
  }

  // release_due's step when the interval has not passed, once per kReleaseRecheckBytes freed (`step`, the bytes freed
  // since its last look): a tail release when the
  // bytes in use fell far enough (kTailBounds), what glibc does when a free leaves more than 128 KiB free at the top
  // of its heap (it trims it). Why: the full release runs once a second at most, so between two the resident memory
  // of an arena is the high-water mark of its blocks, and a program's peak RSS the sum of its arenas' marks, whenever
  // each was reached: the threaded //tests/preload:mt_program read 20.8 MiB (median of 26 interleaved rounds) against
  // glibc's 16.6, and 17.9 with the tail release (README, "peak RSS"). Why gated by a fall in the bytes in use rather
  // than run at each recheck: a heap that churns at a steady size (churn_bench) gains nothing, and a flush and a walk
  // per MiB freed cost it 40 instructions more per malloc and free at `basic` (cachegrind); a fall of a quarter is
  // what a phase of a program that empties its heap produces. The cache is flushed first: a cached block beside the
  // rest of the chunk keeps the blocks freed below it from merging into it (a trial that released every MiB freed read
  // 17.5 MiB without the flush, 16.0 with it). The walk is paced, as the full release is by its volume, to
  // kTailBytesPerVisit bytes freed per free block visited, so that a heap of a million free blocks is not walked per
  // MiB freed. Limits, left as they are: the high is sampled only here, so a peak reached and left between two looks
  // is not seen; and a full release restarts the volume (kReleaseRecheckBytes looks begin again only after a quarter
  // of the arena's mapping more is freed), so a fall that straddles a full release waits for the next one, a second
  // at most. An arena whose mapping is smaller than kTailBounds.min_bytes (partial chunks) has no block to release and
  // does not look.
  void release_tail(std::size_t page_bytes, std::size_t step) noexcept {
    if (mapped_bytes_ < kTailBounds.min_bytes) return;
    tail_debt_ -= std::min(tail_debt_, step);
    const std::size_t in_use = heap_.bytes_in_use_now();
    if (in_use > tail_high_) tail_high_ = in_use;
    const std::size_t fall = tail_high_ - in_use;
    if (fall < kTailDropMinBytes || fall < tail_high_ / kTailDropShare || tail_debt_ != 0) return;
    tail_high_ = in_use;
    std::size_t visited = 0;
    release(page_bytes, kTailBounds, &visited);
    tail_debt_ = visited * kTailBytesPerVisit;
  }

  // A release of either kind (release_pages, release_tail): the cache flushed, then the pages of the free blocks
  // `bounds` chooses advised away, counted in releases_ and released_bytes_; `visited`, when given, receives the free
  // blocks the walk visited. Returns the bytes advised.
  std::size_t release(std::size_t page_bytes, const ReleaseBounds& bounds, std::size_t* visited) noexcept {
    heap_.flush_cache();
    const std::size_t bytes = release_free_pages(heap_, page_bytes, bounds, visited);
    released_bytes_ += bytes;
    ++releases_;
    return bytes;
  }

  // Monotonic time at the kernel tick's resolution (1–4 ms), read from the vDSO without a system call: enough for
  // a one-second interval, and it allocates nothing (it runs inside free).
  static std::uint64_t coarse_now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
  }

  // Maps a chunk, records its owner, and hands it to the heap as a new region. One chunk per growth step: requests
  // larger than a chunk never reach an arena, so one fresh chunk always satisfies the retry. A whole chunk first; when
  // the system refuses it (a limit on the address space, RLIMIT_AS), a partial one, halving down to kMinChunkBytes,
  // which still holds any request below kHugeThreshold (malloc_door.cc checks it at compile time; a larger one, sent
  // here once the huge threshold has risen, is mapped on its own when this fails), so that the arena fills the limit
  // to within about kMinChunkBytes instead of a whole chunk. At each size, the tail of the arena's latest partial
  // chunk is tried first (map_chunk_extension): under a limit the free address space left is often there, in a slot
  // that no other chunk may use. Costs: a growth that fails altogether makes up to ten more refused mmap calls than
  // before (one or two per halving, 32 MiB to 2 MiB), paid only once the address space is exhausted; each partial
  // chunk or extension is one more region, which the heap's region walk (on frees outside the newest region) visits.
  // Once the chunk map's table of partial chunks is full (ChunkMap::kMaxPartialChunks, per process), the arena grows by
  // whole chunks and extensions only. The region is added before the owner byte or length is written: until then no
  // block of it is handed out and no pointer into it exists, and a failure leaves no owned slot unmapped (see the
  // ChunkMap invariant in chunk_map.h).
  bool grow(ChunkMap& map, std::uint8_t owner) noexcept {
    heap_.source().locate_in(map, owner);  // before any owner byte of this arena is written below
    std::size_t bytes = kChunkBytes;
    std::byte* chunk = map_chunk();
    bool extension = false;
    while (chunk == nullptr && bytes > kMinChunkBytes) {
      bytes /= 2;
      if (partial_bytes_ + bytes <= kChunkBytes && partial_ != nullptr) {
        chunk = map_chunk_extension(partial_ + partial_bytes_, bytes);
        extension = chunk != nullptr;
      }
      if (chunk == nullptr && map.partial_room()) chunk = map_partial_chunk(bytes);
    }
    if (chunk == nullptr) return false;
    if (extension) {
      if (!heap_.add_region(std::span<std::byte>(chunk, bytes))) {
        ::munmap(chunk, bytes);
        return false;
      }
      partial_bytes_ += bytes;
      map.extend_partial(partial_owner_, partial_bytes_);
    } else {
      // recordable before claim_partial, whose table entry is never given back.
      const std::uint8_t slot_owner = !ChunkMap::recordable(chunk) ? ChunkMap::kNoOwner
                                      : bytes == kChunkBytes       ? owner
                                                                   : map.claim_partial(owner, bytes);
      if (slot_owner == ChunkMap::kNoOwner || !heap_.add_region(std::span<std::byte>(chunk, bytes))) {
        ::munmap(chunk, bytes);
        return false;
      }
      (void)map.set_owner(chunk, slot_owner);  // recordable: cannot fail
      ++chunks_;
      if (bytes != kChunkBytes) {
        ++partial_chunks_;
        partial_ = chunk;
        partial_bytes_ = bytes;
        partial_owner_ = slot_owner;
      }
    }
    mapped_bytes_ += bytes;
    return true;
  }

  ArenaLock lock_;
  Heap heap_{};
  std::size_t chunks_ = 0;
  std::size_t partial_chunks_ = 0;
  std::byte* partial_ = nullptr;    // the latest partial chunk (nullptr: none), which grow may extend in place,
  std::size_t partial_bytes_ = 0;   // its length so far,
  std::uint8_t partial_owner_ = 0;  // and its owner byte in the chunk map (ChunkMap::claim_partial)
  std::size_t mapped_bytes_ = 0;    // of all chunks and extensions: the release trigger's base (note_freed)
  std::size_t freed_since_release_ = 0;
  std::size_t releases_ = 0;
  std::size_t released_bytes_ = 0;
  std::uint64_t last_release_ns_ = 0;
  // Two words, which fit in the padding up to the 128-byte alignment: sizeof(Arena) at `basic` stays 11,136 bytes. A
  // third made it 11,264, and malloc and free 3 and 4 instructions longer in churn_bench (cachegrind), by the indexing
  // of the arena array.
  std::size_t tail_debt_ = 0;  // bytes still to be freed before the next tail release may walk (release_tail)
  std::size_t tail_high_ = 0;  // the highest bytes in use release_tail saw since the last tail release
  std::atomic<std::size_t> waits_{0};
};

}  // namespace nostd::malloc_door
