// tests/malloc_release_test.cc — the drop-in malloc gives freed memory back to the system: resident memory (RSS,
// /proc/self/statm) goes down after large frees, by itself (an arena releases the pages of its large free blocks
// after a quarter of it has been freed), through malloc_trim, and for huge blocks (unmapped on free); and an arena's
// heap keeps freed small blocks in its cache (QuickCache) until a release flushes them. Linked in
// statically (//platform/malloc), so every allocation of this binary is ours; every test validates all arenas
// after its operations, and blocks carry fill patterns checked before they are freed.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <thread>
#include <utility>
#include <vector>

#include "alloc/check/basic_checks.h"
#include "alloc/check/hardened_checks.h"
#include "alloc/check/no_checks.h"
#include "platform/getrandom_secret.h"
#include "platform/malloc/arena.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/malloc_door.h"
#include "platform/malloc/malloc_heap.h"
#include "platform/malloc/page_release.h"
#include "platform/malloc/report_and_abort.h"
#include "tests/resident_pages.h"

namespace {

namespace door = nostd::malloc_door;

constexpr std::size_t kMiB = std::size_t{1} << 20;

void expect_valid() {
  const nostd::ValidateResult result = door::validate();
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().what);
}

// Resident bytes of this process.
std::size_t rss() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

// The compiler may drop a malloc/free pair whose block it can see through; opaque keeps the calls.
void* opaque(void* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// Allocates `total` bytes in blocks of `block` bytes, each filled with a pattern of its index.
std::vector<unsigned char*> fill(std::size_t total, std::size_t block) {
  std::vector<unsigned char*> blocks;
  blocks.reserve(total / block);
  for (std::size_t i = 0; i < total / block; ++i) {
    auto* p = static_cast<unsigned char*>(opaque(std::malloc(block)));
    EXPECT_NE(p, nullptr);
    expect_valid();
    if (p == nullptr) break;
    std::memset(p, static_cast<int>(i & 0xff), block);
    blocks.push_back(p);
  }
  return blocks;
}

// Checks each block's pattern, then frees it.
void check_and_free(std::vector<unsigned char*>& blocks, std::size_t block) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto want = static_cast<unsigned char>(i & 0xff);
    EXPECT_EQ(blocks[i][0], want);
    EXPECT_EQ(blocks[i][block - 1], want);
    std::free(blocks[i]);
    expect_valid();
  }
  blocks.clear();
}

TEST(MallocRelease, ReleasablePagesKeepTheBlockEdges) {
  constexpr std::size_t kPage = 4096;
  alignas(4096) static std::byte area[32 * 4096];
  const nostd::BlockInfo small{area + 16, 32 * 1024, false};
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  EXPECT_FALSE(door::releasable_pages(small, kPage, &begin, &end)) << "a hole under kReleaseMinBytes was released";
  const nostd::BlockInfo used{area + 16, sizeof area - 16, true};
  EXPECT_FALSE(door::releasable_pages(used, kPage, &begin, &end)) << "a used block was released";
  const nostd::BlockInfo cached{area + 16, sizeof area - 16, false, true};
  EXPECT_FALSE(door::releasable_pages(cached, kPage, &begin, &end)) << "a block the heap's cache keeps was released";
  const nostd::BlockInfo free_block{area + 16, sizeof area - 16, false};
  ASSERT_TRUE(door::releasable_pages(free_block, kPage, &begin, &end));
  const auto payload = reinterpret_cast<std::uintptr_t>(free_block.payload);
  EXPECT_EQ(begin % kPage, 0u);
  EXPECT_EQ(end % kPage, 0u);
  EXPECT_GE(begin, payload + door::kFreeBlockKeepBytes);                      // the links stay
  EXPECT_LE(end, payload + free_block.size - 2 * door::kFreeBlockKeepBytes);  // the footer stays
  EXPECT_EQ(end - begin, 30 * kPage);                                         // all but the first and the last page
  // A payload that starts a page and an end just past one: the edges must be kept by bytes, not by the page rounding
  // alone (its links sit in the payload's first page, its footer within 2 * kFreeBlockKeepBytes of the end).
  const nostd::BlockInfo edges{area + kPage, 23 * kPage + 100, false};
  ASSERT_TRUE(door::releasable_pages(edges, kPage, &begin, &end));
  const auto edges_payload = reinterpret_cast<std::uintptr_t>(edges.payload);
  EXPECT_GE(begin, edges_payload + door::kFreeBlockKeepBytes);
  EXPECT_LE(end, edges_payload + edges.size - 2 * door::kFreeBlockKeepBytes);
  EXPECT_EQ(begin, edges_payload + kPage);
  EXPECT_EQ(end - begin, 21 * kPage);
}

TEST(MallocRelease, FreeingMostOfAnArenaReturnsItsPages) {
  constexpr std::size_t kBlock = 64 * 1024;  // below the huge threshold: arena blocks
  const std::size_t before = rss();
  std::vector<unsigned char*> blocks = fill(48 * kMiB, kBlock);
  const std::size_t peak = rss();
  EXPECT_GE(peak, before + 40 * kMiB) << "the blocks were not made resident";
  check_and_free(blocks, kBlock);
  // The first release came when a quarter of the arena had been freed; the next is due by volume but waits for
  // kReleaseIntervalNs to pass (arena.h), and then comes with the next kReleaseRecheckBytes freed.
  std::this_thread::sleep_for(std::chrono::nanoseconds(door::kReleaseIntervalNs) + std::chrono::milliseconds(100));
  blocks = fill(2 * door::kReleaseRecheckBytes, kBlock);
  check_and_free(blocks, kBlock);
  const std::size_t after = rss();
  // 48 MiB freed: what is left resident is at most the pages of the blocks refilled above and the holes' edges.
  EXPECT_LE(after, peak - 32 * kMiB) << "peak " << peak / kMiB << " MiB, after the frees " << after / kMiB << " MiB";
}

TEST(MallocRelease, MallocTrimReturnsWhatIsFreeNow) {
  constexpr std::size_t kBlock = 128 * 1024;
  std::vector<unsigned char*> blocks = fill(8 * kMiB, kBlock);  // well under the arena's release interval
  const std::size_t peak = rss();
  check_and_free(blocks, kBlock);
  EXPECT_EQ(malloc_trim(0), 1);
  expect_valid();
  const std::size_t after = rss();
  EXPECT_LE(after, peak - 6 * kMiB) << "peak " << peak / kMiB << " MiB, after malloc_trim " << after / kMiB << " MiB";
}

TEST(MallocRelease, ReleasedMemoryIsReusedIntact) {
  // Release the space, then allocate in it again: the heap's links and footers survived, the pages come back.
  constexpr std::size_t kBlock = 200 * 1024;
  std::vector<unsigned char*> blocks = fill(20 * kMiB, kBlock);
  check_and_free(blocks, kBlock);
  EXPECT_EQ(malloc_trim(0), 1);
  expect_valid();
  for (int round = 0; round < 3; ++round) {
    blocks = fill(20 * kMiB, kBlock);
    check_and_free(blocks, kBlock);
    malloc_trim(0);
    expect_valid();
  }
  // calloc of a released page is zero, as of any other.
  auto* z = static_cast<unsigned char*>(std::calloc(1, 300 * 1024));
  ASSERT_NE(z, nullptr);
  for (std::size_t i = 0; i < 300 * 1024; i += 997) ASSERT_EQ(z[i], 0) << i;
  std::free(z);
  expect_valid();
}

TEST(MallocRelease, HugeBlocksAreUnmappedOnFree) {
  constexpr std::size_t kHuge = 64 * kMiB;  // above door::kHugeThreshold: its own mapping
  static_assert(kHuge >= door::kHugeThreshold);
  const std::size_t before = rss();
  auto* p = static_cast<unsigned char*>(opaque(std::malloc(kHuge)));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x5a, kHuge);
  const std::size_t peak = rss();
  EXPECT_GE(peak, before + 60 * kMiB);
  EXPECT_EQ(p[kHuge - 1], 0x5a);
  std::free(p);
  expect_valid();
  EXPECT_LE(rss(), peak - 60 * kMiB);
}

// An arena of its own over the door's heap at check level `Check`, one for each suite `Suite`: its own chunk map (the
// door's arenas are untouched) and its own release history, which the suites depend on.
template <class Check, class Suite>
struct OwnArena {
  using Heap = door::MallocHeap<Check>;
  static inline door::ChunkMap map;
  static inline door::Arena<Heap> arena;
};

// MallocHeapCache's, at the check levels where the cache is active: NOSTD_MALLOC_CHECK=none and basic.
template <class Check>
using CacheArena = OwnArena<Check, struct CacheSuite>;

template <class Check>
class MallocHeapCache : public ::testing::Test {
 protected:
  using Arena = door::Arena<typename CacheArena<Check>::Heap>;
  static Arena& arena() { return CacheArena<Check>::arena; }

  static unsigned char* allocate(std::size_t size, unsigned char fill) {
    auto* p = static_cast<unsigned char*>(arena().allocate(size, door::kMallocAlignment, CacheArena<Check>::map, 1));
    EXPECT_NE(p, nullptr);
    if (p != nullptr) std::memset(p, fill, size);
    validate();
    return p;
  }
  static void free(unsigned char* p, std::size_t size, unsigned char fill) {
    EXPECT_EQ(p[0], fill);
    EXPECT_EQ(p[size - 1], fill);
    arena().heap().deallocate(p);
    validate();
  }
  static void validate() {
    const nostd::ValidateResult result = arena().heap().validate();
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().what);
  }
};

using CachingChecks = ::testing::Types<nostd::NoChecks, nostd::BasicChecks<door::ReportAndAbort>>;
TYPED_TEST_SUITE(MallocHeapCache, CachingChecks);

// Small blocks between large ones, all freed: the small ones wait in the cache (still "used" to the tags, and not on
// the fit's index), so the large ones stay 60 KiB holes each, under kReleaseMinBytes, and a release without a flush
// frees none of their pages. Arena::release_pages (the path of the periodic release and of malloc_trim) flushes
// first: the holes merge into one block and its pages go back (they read as zero again).
TYPED_TEST(MallocHeapCache, CachedBlocksComeBackWholeAndReleaseFlushesThem) {
  using Heap = typename CacheArena<TypeParam>::Heap;
  if constexpr (!Heap::kCaching) {
    GTEST_SKIP() << "the cache is off in memory-tool builds";
  } else {
    constexpr std::size_t kPairs = 16;
    constexpr std::size_t kLarge = 60 * 1024;  // under kReleaseMinBytes alone, far above it merged
    static_assert(kLarge < door::kReleaseMinBytes);
    constexpr std::size_t kSmall[] = {100, 200, 300, 400, 500, 600, 700, 800};  // 3 per size at most: under Depth
    const auto small_size = [&](std::size_t i) { return kSmall[i % std::size(kSmall)]; };
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

    // [head guard][S0][L0][S1][L1]...[S15][L15][S16][tail guard][the rest of the chunk]
    unsigned char* const head = this->allocate(64, 0xa0);
    unsigned char* small[kPairs + 1];
    unsigned char* large[kPairs];
    for (std::size_t i = 0; i < kPairs; ++i) {
      small[i] = this->allocate(small_size(i), static_cast<unsigned char>(i));
      large[i] = this->allocate(kLarge, static_cast<unsigned char>(0x40 + i));
    }
    small[kPairs] = this->allocate(small_size(kPairs), static_cast<unsigned char>(kPairs));
    unsigned char* const tail = this->allocate(64, 0xa1);
    ASSERT_EQ(this->arena().heap().stats().cached_blocks, 0u);

    for (std::size_t i = 0; i <= kPairs; ++i) this->free(small[i], small_size(i), static_cast<unsigned char>(i));
    EXPECT_EQ(this->arena().heap().stats().cached_blocks, kPairs + 1) << "a small block with used neighbours merged";

    // The next request of a cached size gets the last block of that size freed, whole.
    const std::size_t last = kPairs;
    unsigned char* const again = this->allocate(small_size(last), 0x33);
    EXPECT_EQ(again, small[last]);
    EXPECT_EQ(this->arena().heap().stats().cached_blocks, kPairs);
    this->free(again, small_size(last), 0x33);
    EXPECT_EQ(this->arena().heap().stats().cached_blocks, kPairs + 1);

    for (std::size_t i = 0; i < kPairs; ++i) this->free(large[i], kLarge, static_cast<unsigned char>(0x40 + i));
    // Without a flush: every large hole is on its own (its neighbours are cached), none is released.
    door::release_free_pages(this->arena().heap(), page);
    for (std::size_t i = 0; i < kPairs; ++i) {
      EXPECT_EQ(large[i][kLarge / 2], static_cast<unsigned char>(0x40 + i)) << "a 60 KiB hole was released";
    }
    this->validate();

    // The arena's release flushes: one hole of 16 x ~60 KiB, its pages released.
    EXPECT_GE(this->arena().release_pages(page), kPairs * kLarge - 2 * page);
    this->validate();
    EXPECT_EQ(this->arena().heap().stats().cached_blocks, 0u);
    for (std::size_t i = 0; i < kPairs; ++i) EXPECT_EQ(large[i][kLarge / 2], 0) << "hole " << i << " kept its page";
    std::size_t largest_between_guards = 0;
    this->arena().heap().walk([&](const nostd::BlockInfo& block) {
      if (block.payload > head && block.payload < tail && !block.used) {
        largest_between_guards = std::max(largest_between_guards, block.size);
      }
    });
    EXPECT_GE(largest_between_guards, kPairs * kLarge);

    this->free(head, 64, 0xa0);
    this->free(tail, 64, 0xa1);
  }
}

// The drop-in caches blocks up to 8 KiB (MallocCache), not only QuickCache<>'s 1 KiB: a freed block of 1.5, 4 or
// 8 KiB between used neighbours waits in its bin and the next request of its size gets it back whole; one a granule
// past 8 KiB goes to the fit's index at once. Fails with MallocCache = QuickCache<>.
TYPED_TEST(MallocHeapCache, BlocksUpTo8KiBAreCachedAndComeBackWhole) {
  using Heap = typename CacheArena<TypeParam>::Heap;
  if constexpr (!Heap::kCaching) {
    GTEST_SKIP() << "the cache is off in memory-tool builds";
  } else {
    static_assert(Heap::Cache::kMaxBlock == 8192, "MallocCache's bins were chosen to reach 8 KiB");
    // Payloads whose blocks (4 bytes of header, 16-byte granule) are 1,504, 4,016 and 8,192 bytes, the largest bin.
    constexpr std::size_t kCached[] = {1500, 4000, 8188};
    constexpr std::size_t kOver = 8189;  // a block of 8,208 bytes: past the last bin
    this->arena().heap().flush_cache();
    const std::size_t cached_before = this->arena().heap().stats().cached_blocks;
    unsigned char* guards[std::size(kCached) + 2];
    unsigned char* blocks[std::size(kCached)];
    guards[0] = this->allocate(64, 0xb0);
    for (std::size_t i = 0; i < std::size(kCached); ++i) {
      blocks[i] = this->allocate(kCached[i], static_cast<unsigned char>(0x10 + i));
      guards[i + 1] = this->allocate(64, static_cast<unsigned char>(0xb1 + i));
    }
    unsigned char* const over = this->allocate(kOver, 0x20);
    guards[std::size(kCached) + 1] = this->allocate(64, static_cast<unsigned char>(0xb1 + std::size(kCached)));

    for (std::size_t i = 0; i < std::size(kCached); ++i) {
      this->free(blocks[i], kCached[i], static_cast<unsigned char>(0x10 + i));
      EXPECT_EQ(this->arena().heap().stats().cached_blocks, cached_before + i + 1)
          << "a block of " << kCached[i] << " bytes between used neighbours was merged, not cached";
    }
    this->free(over, kOver, 0x20);
    EXPECT_EQ(this->arena().heap().stats().cached_blocks, cached_before + std::size(kCached))
        << "a block past the last bin was cached";

    // Newest first: each request of a cached size takes its own block back, whole.
    for (std::size_t i = std::size(kCached); i-- > 0;) {
      unsigned char* const again = this->allocate(kCached[i], 0x30);
      EXPECT_EQ(again, blocks[i]) << kCached[i] << " bytes";
      this->free(again, kCached[i], 0x30);
    }
    for (std::size_t i = 0; i < std::size(guards); ++i) this->free(guards[i], 64, static_cast<unsigned char>(0xb0 + i));
    this->arena().heap().flush_cache();
    this->validate();
  }
}

// A cached block is still "used" to the heap's tags; freeing it again is still a double free (BasicChecks: the
// cache's key in the block, then a scan of its bin), reported as the door reports it.
TYPED_TEST(MallocHeapCache, DoubleFreeOfACachedBlockIsCaught) {
  using Heap = typename CacheArena<TypeParam>::Heap;
  if constexpr (!Heap::kCaching || TypeParam::kLevel < nostd::CheckLevel::kBasic) {
    GTEST_SKIP() << "no cache, or no checks at this level";
  } else {
    unsigned char* const before = this->allocate(64, 1);
    unsigned char* const p = this->allocate(48, 2);
    unsigned char* const after = this->allocate(64, 3);
    const std::size_t cached = this->arena().heap().stats().cached_blocks;
    this->free(p, 48, 2);
    ASSERT_EQ(this->arena().heap().stats().cached_blocks, cached + 1);
    EXPECT_DEATH(this->arena().heap().deallocate(opaque(p)), "nostd-malloc: double free");
    this->free(before, 64, 1);
    this->free(after, 64, 3);
  }
}

// The tail release's.
template <class Check>
using TailArena = OwnArena<Check, struct TailSuite>;

template <class Check>
class MallocTailRelease : public ::testing::Test {};
// The door's three levels (NOSTD_MALLOC_CHECK none, basic, hardened): the tail release is the arena's, whatever the
// heap checks, and hardened's keyed check word must come through the flush and the release intact.
using DoorChecks = ::testing::Types<nostd::NoChecks, nostd::BasicChecks<door::ReportAndAbort>,
                                    nostd::HardenedChecks<door::ReportAndAbort, nostd::GetrandomSecret>>;
TYPED_TEST_SUITE(MallocTailRelease, DoorChecks);

// Between two full releases (at most one per kReleaseIntervalNs), an arena whose bytes in use fall by a quarter gives
// back the pages of the rest of its chunk (the tail release, Arena::release_due), as glibc trims the top of its heap:
// without it, a program's resident memory is the sum of its arenas' high-water marks. The first phase's frees start
// the interval (the first release, by volume); the second, well inside the interval, fills 32 MiB with large blocks
// and a small one after each, then frees the small ones (those between two used blocks wait in the cache, still
// "used" to their neighbours) and the large ones from the top down, each followed by note_freed as the door does.
// Without the tail release all 32 MiB stay resident until the next full release; without its flush of the cache
// too, since the cached blocks keep every large block from merging into the rest of the chunk; with both, at most the
// blocks freed after the last tail release and its kept 256 KiB stay.
TYPED_TEST(MallocTailRelease, AnArenaThatEmptiesGivesItsTailBackWithinTheInterval) {
  using Tail = TailArena<TypeParam>;
  constexpr std::size_t kLarge = 64 * 1024 - 64;
  // Small blocks of 64 sizes (64 of the cache's bins, 8 blocks each: MallocCache), so that all but the last are cached.
  const auto small_size = [](std::size_t i) { return 100 + 32 * (i % 64); };
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::byte* chunk = nullptr;
  const auto validate = [] {
    const nostd::ValidateResult result = Tail::arena.heap().validate();
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().what);
  };
  const auto free_checked = [&](unsigned char* p, std::size_t size, unsigned char want) {
    EXPECT_EQ(p[0], want);
    EXPECT_EQ(p[size - 1], want);
    const std::size_t usable = Tail::arena.heap().usable_size(p);
    Tail::arena.heap().deallocate(p);
    Tail::arena.note_freed(usable, page);
    validate();
  };
  const auto fill_and_empty = [&](std::size_t total) {
    const std::size_t count = total / kLarge;
    std::vector<unsigned char*> large(count);
    std::vector<unsigned char*> small(count);
    for (std::size_t i = 0; i < count; ++i) {
      for (auto [p, size] : {std::pair{&large[i], kLarge}, std::pair{&small[i], small_size(i)}}) {
        *p = static_cast<unsigned char*>(Tail::arena.allocate(size, door::kMallocAlignment, Tail::map, 1));
        ASSERT_NE(*p, nullptr);
        std::memset(*p, static_cast<int>(i & 0xff), size);
        validate();
      }
    }
    chunk = reinterpret_cast<std::byte*>(reinterpret_cast<std::uintptr_t>(large[0]) & ~(door::kChunkBytes - 1));
    for (std::size_t i = count; i-- > 0;) free_checked(small[i], small_size(i), static_cast<unsigned char>(i & 0xff));
    for (std::size_t i = count; i-- > 0;) free_checked(large[i], kLarge, static_cast<unsigned char>(i & 0xff));
  };
  fill_and_empty(24 * kMiB);  // past a quarter of the chunk: the first release, which starts the interval
  ASSERT_EQ(Tail::arena.releases(), 1u);
  ASSERT_EQ(Tail::arena.chunks(), 1u);
  // A full release during the phase (its interval, counted from the last one, ran out: a slow or loaded machine)
  // restarts the volume, after which the tail is not looked at until a quarter of the chunk more is freed, and the
  // bound may fail through no fault of the tail release. Such a phase is run again, up to three times in all, and the
  // test is skipped, not failed, if every one met a full release. 32 MiB take a few tens of milliseconds on the host
  // and about 0.3 s under qemu-riscv64.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::size_t releases_before = Tail::arena.releases();
    const std::uint64_t full_release_before = Tail::arena.last_release_ns();
    fill_and_empty(32 * kMiB);
    if (::testing::Test::HasFatalFailure()) return;
    if (Tail::arena.last_release_ns() != full_release_before) continue;
    const std::size_t resident = nostd::testing::resident_bytes_inside(chunk, door::kChunkBytes);
    EXPECT_GT(Tail::arena.releases(), releases_before) << "no tail release";
    EXPECT_LE(resident, 8 * kMiB) << "resident in the arena's chunk after it emptied: " << resident / 1024 << " KiB";
    return;
  }
  GTEST_SKIP() << "a full release ran during each of three phases: too slow here to test between two";
}

// calloc's.
template <class Check>
using ZeroedArena = OwnArena<Check, struct ZeroedSuite>;

template <class Check>
class MallocCallocPages : public ::testing::Test {};
TYPED_TEST_SUITE(MallocCallocPages, DoorChecks);

// calloc's arena path (Arena::allocate<true>, BasicHeap::allocate_zeroed): a block carved from chunk memory no block
// has reached is not written, so its pages stay out of the resident set, as glibc's calloc leaves the fresh top of its
// heap; the same memory once written and freed is cleared. At hardened the heap keeps no cache, hence no high-water
// mark, and clears every block whole (its pages then resident): only the zeros are checked there.
TYPED_TEST(MallocCallocPages, FreshChunkMemoryIsNotTouchedAndWrittenMemoryIsCleared) {
  using Zeroed = ZeroedArena<TypeParam>;
  constexpr std::size_t kBlock = 900 * 1024;                  // below kHugeThreshold: an arena block
  const bool countable = nostd::testing::small_pages_only();  // else THP faults in 2 MiB at one write
  const auto validate = [] {
    const nostd::ValidateResult result = Zeroed::arena.heap().validate();
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().what);
  };
  const auto zero = [](const unsigned char* p, std::size_t n) {
    return std::all_of(p, p + n, [](unsigned char b) { return b == 0; });
  };
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  auto* small = static_cast<unsigned char*>(Zeroed::arena.allocate(100, door::kMallocAlignment, Zeroed::map, 1));
  ASSERT_NE(small, nullptr);
  validate();
  auto* p = static_cast<unsigned char*>(
      Zeroed::arena.template allocate<true>(kBlock, door::kMallocAlignment, Zeroed::map, 1));
  ASSERT_NE(p, nullptr);
  validate();
  if constexpr (TypeParam::kLevel <= nostd::CheckLevel::kBasic) {
    if (countable) {
      EXPECT_LE(nostd::testing::resident_bytes_inside(p, kBlock), 2 * page)
          << "calloc wrote memory no block had reached";
    }
  }
  EXPECT_TRUE(zero(p, kBlock));
  std::memset(p, 0x5A, kBlock);
  Zeroed::arena.heap().deallocate(p);
  validate();
  auto* q = static_cast<unsigned char*>(
      Zeroed::arena.template allocate<true>(kBlock, door::kMallocAlignment, Zeroed::map, 1));
  ASSERT_NE(q, nullptr);
  validate();
  EXPECT_EQ(q, p);
  EXPECT_TRUE(zero(q, kBlock)) << "the memory written and freed came back dirty";
  Zeroed::arena.heap().deallocate(q);
  validate();
  Zeroed::arena.heap().deallocate(small);
  validate();
}

// The arenas' blocks carry half-word tags (MallocTags): 4 bytes per used block on 64-bit targets, so a 28-byte
// request fills a 32-byte block exactly, where pointer-sized tags would take a 48-byte block. The same at both check
// levels the door caches at (neither adds bytes to a block).
// Each chunk the arena maps is a region of its heap, and the heap's source (ChunkRegionSource) names a block's chunk
// from the chunk map once the arena has grown: a lookup outside the newest chunk takes the source's answer instead of
// walking the regions. Blocks of 40 MiB fill three chunks (only their first and last bytes are touched); each is found
// in its own chunk and freed from the oldest on, with the heap validated after each step.
TYPED_TEST(MallocHeapCache, EachChunkIsARegionItsSourceLocates) {
  constexpr std::size_t kBlock = 40 * kMiB;
  unsigned char* blocks[3];
  for (unsigned char*& p : blocks) {
    p = static_cast<unsigned char*>(
        this->arena().allocate(kBlock, door::kMallocAlignment, CacheArena<TypeParam>::map, 1));
    ASSERT_NE(p, nullptr);
    p[0] = p[kBlock - 1] = 0x3c;
    this->validate();
  }
  const auto& source = this->arena().heap().source();
  std::uintptr_t chunks[3];
  for (std::size_t i = 0; i < 3; ++i) {
    chunks[i] = reinterpret_cast<std::uintptr_t>(blocks[i]) & ~(door::kChunkBytes - 1);
    EXPECT_EQ(source.region_start(blocks[i]), reinterpret_cast<const std::byte*>(chunks[i])) << i;
    EXPECT_EQ(source.region_start(blocks[i] + kBlock - 1), reinterpret_cast<const std::byte*>(chunks[i])) << i;
    for (std::size_t j = 0; j < i; ++j) EXPECT_NE(chunks[i], chunks[j]) << "40 MiB blocks share no chunk";
  }
  int on_stack = 0;
  EXPECT_EQ(source.region_start(&on_stack), nullptr) << "memory of no arena chunk is no region of the heap";
  for (unsigned char* p : blocks) {
    EXPECT_EQ(p[0], 0x3c);
    EXPECT_EQ(p[kBlock - 1], 0x3c);
    this->arena().heap().deallocate(p);
    this->validate();
  }
}

TYPED_TEST(MallocHeapCache, ArenaBlocksCarryFourBytesOfTags) {
  using Heap = typename CacheArena<TypeParam>::Heap;
  static_assert(Heap::kTagOverhead == 4, "the door's arenas use BasicCompactTags<std::uint32_t> (MallocTags)");
  unsigned char* const p = this->allocate(28, 4);
  if (p != nullptr) {
    EXPECT_EQ(this->arena().heap().usable_size(p), 28u);
    this->free(p, 28, 4);
  }
}

}  // namespace
