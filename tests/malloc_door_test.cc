// tests/malloc_door_test.cc — the drop-in malloc's C and C++ entry points, linked in statically
// (//platform/malloc): this test binary, GoogleTest included, allocates from our arenas. Every test ends its
// operations with a validate() of all arenas.
#include "platform/malloc/malloc_door.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "platform/malloc/malloc_hook.h"
#include "tests/preload/address_space.h"

namespace {

namespace door = nostd::malloc_door;

void expect_valid() {
  const nostd::ValidateResult result = door::validate();
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().what);
}

// `block`, after validating every arena: for calls made inside an expression, so that each is validated at once.
void* validated(void* block) {
  expect_valid();
  return block;
}

// Sizes the compiler cannot see, so that it neither warns about impossible requests nor folds them away.
std::size_t opaque_size(std::size_t size) {
  asm volatile("" : "+r"(size));
  return size;
}

// realloc through a pointer the compiler cannot see through: after a failed realloc the old block is still
// the caller's, which GCC's -Wuse-after-free cannot know.
void* (*volatile realloc_opaque)(void*, std::size_t) = std::realloc;
void* (*volatile reallocarray_opaque)(void*, std::size_t, std::size_t) = reallocarray;

bool aligned(const void* p, std::size_t align) { return reinterpret_cast<std::uintptr_t>(p) % align == 0; }

// Results the compiler must not drop (death tests call for their side effects).
void* volatile g_sink = nullptr;
volatile std::size_t g_sink_size = 0;

// The compiler may drop a malloc/free pair whose block is unused; opaque keeps the calls.
void* opaque(void* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// A size the door maps on its own (a huge block) when asked for before the next free of a huge block: the threshold
// rises only in such a free (door::huge_threshold), and the tests here allocate from one thread. A fixed size such as
// 2 MiB comes from an arena once an earlier test has freed a huge block larger than it. `extra` bytes more.
std::size_t huge_size(std::size_t extra = 0) { return opaque_size(door::huge_threshold() + extra); }

// The index in `run` of the first `count` blocks that lie next to each other in an arena, each starting
// `stride(previous)` bytes after the one before it (its block: usable bytes and tags), or run.size() when none do.
template <class Stride>
std::size_t first_in_a_row(const std::vector<unsigned char*>& run, std::size_t count, Stride stride) {
  for (std::size_t i = 0; i + count <= run.size(); ++i) {
    bool in_a_row = run[i] != nullptr;
    for (std::size_t k = i + 1; k < i + count && in_a_row; ++k) in_a_row = run[k] == run[k - 1] + stride(run[k - 1]);
    if (in_a_row) return i;
  }
  return run.size();
}

TEST(MallocDoor, MallocIsAlignedUsableAndDistinct) {
  std::vector<void*> blocks;
  for (std::size_t size = 0; size < 3000; size += 7) {
    void* p = std::malloc(size);
    ASSERT_NE(p, nullptr);
    expect_valid();
    EXPECT_TRUE(aligned(p, 16)) << size;
    EXPECT_GE(malloc_usable_size(p), size);
    std::memset(p, static_cast<int>(size & 0xff), size);
    blocks.push_back(p);
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::size_t size = i * 7;
    for (std::size_t j = 0; j < size; ++j) ASSERT_EQ(static_cast<unsigned char*>(blocks[i])[j], size & 0xff);
    std::free(blocks[i]);
    expect_valid();
  }
}

TEST(MallocDoor, ArenaGrowsPastOneChunk) {
  // 160 MiB in blocks below the huge threshold: more than two 64 MiB chunks, so the arena must map more. Only the
  // first and last bytes of each block are touched, so the test commits little memory.
  constexpr std::size_t kBlock = 512 * 1024, kCount = 320;
  std::vector<unsigned char*> blocks;
  for (std::size_t i = 0; i < kCount; ++i) {
    auto* p = static_cast<unsigned char*>(std::malloc(kBlock));
    ASSERT_NE(p, nullptr) << i;
    expect_valid();
    p[0] = static_cast<unsigned char>(i);
    p[kBlock - 1] = static_cast<unsigned char>(i);
    blocks.push_back(p);
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(blocks[i][0], static_cast<unsigned char>(i));
    ASSERT_EQ(blocks[i][kBlock - 1], static_cast<unsigned char>(i));
    std::free(blocks[i]);
    expect_valid();
  }
}

// Once started without NOSTD_ALLOC_TRACE the drop-in has no observer, so that malloc and free take their unobserved
// path (a tail call of the door). Until it starts every call is observed (malloc_hook.h: observer_not_started), so
// that the call starting the recorder is recorded (//tests:malloc_recorder_test); a start that left that observer in
// place would send every later call down the observed path.
TEST(MallocDoor, StartedWithoutATraceNothingIsObserved) {
  ASSERT_EQ(std::getenv("NOSTD_ALLOC_TRACE"), nullptr);
  void* const p = std::malloc(24);
  ASSERT_NE(p, nullptr);
  expect_valid();
  EXPECT_FALSE(door::observing());
  std::free(p);
  expect_valid();
  EXPECT_FALSE(door::observing());
}

TEST(MallocDoor, MallocOfImpossibleSizeFailsWithEnomem) {
  errno = 0;
  EXPECT_EQ(opaque(std::malloc(opaque_size(SIZE_MAX))), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(opaque(std::malloc(opaque_size(SIZE_MAX - 4096))), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  expect_valid();
}

TEST(MallocDoor, CallocZeroesReusedMemory) {
  void* dirty = std::malloc(4000);
  std::memset(dirty, 0xab, 4000);
  std::free(dirty);
  auto* p = static_cast<unsigned char*>(std::calloc(1000, 4));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 4000; ++i) ASSERT_EQ(p[i], 0) << i;
  std::free(p);
  expect_valid();
}

// calloc zeroes what it hands out whatever the size: a dirty block freed and asked for again, from a page (the arena
// blocks calloc must clear) up to the largest request below kHugeThreshold and a block of exactly kHugeThreshold (a
// fresh mapping, which calloc leaves as mmap gave it, or, once the threshold has risen, an arena block it clears).
TEST(MallocDoor, CallocZeroesReusedMemoryAtEverySize) {
  for (const std::size_t size :
       {std::size_t{4096}, std::size_t{64} << 10, (std::size_t{1} << 20) - 64, std::size_t{1} << 20}) {
    void* dirty = std::malloc(opaque_size(size));
    ASSERT_NE(dirty, nullptr) << size;
    expect_valid();
    std::memset(dirty, 0xab, size);
    std::free(dirty);
    expect_valid();
    auto* p = static_cast<unsigned char*>(std::calloc(1, opaque_size(size)));
    ASSERT_NE(p, nullptr) << size;
    expect_valid();
    for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(p[i], 0) << size << " at " << i;
    std::free(p);
    expect_valid();
  }
}

// The arenas' cache through malloc's own calls (README, "Per-arena cache"): a 1,020-byte request (a 1,024-byte block:
// 4 bytes of tags) freed between used neighbours waits in its bin, and a request of 1,004 bytes (a 1,008-byte block,
// 512 B or more) whose own bin is empty takes it whole, a 32nd larger at most (the slack), before a free block that
// would serve it. malloc_usable_size then says 1,020, all of it the caller's, and calloc of that size, handed the same
// block, clears the first words where the cache kept its link (to a second cached block) and sealed key. The blocks:
// seven in a row among a run of requests of one size; two of them merged into a free block of 2,048 bytes.
TEST(MallocDoor, ACachedBlockTakenThroughTheSlackIsUsableWholeAndCallocClearsIt) {
  constexpr std::size_t kSize = 1020;     // a block of 1,024 bytes
  constexpr std::size_t kSmaller = 1004;  // a block of 1,008 bytes: the bin below, one granule smaller
  std::vector<unsigned char*> run;
  for (int i = 0; i < 64; ++i) {
    run.push_back(static_cast<unsigned char*>(validated(std::malloc(opaque_size(kSize)))));
    ASSERT_NE(run.back(), nullptr);
    std::memset(run.back(), 0x11, kSize);
  }
  const std::size_t first = first_in_a_row(run, 7, [](unsigned char*) { return std::size_t{1024}; });
  ASSERT_LT(first, run.size()) << "no seven blocks in a row among 64 requests of one size";
  unsigned char** const row = &run[first];
  // row[4] and row[5] merge into a free block of 2,048 bytes at the flush of malloc_trim, which flushes every arena's
  // cache before it releases pages: after it no block of 1,008 bytes waits in a bin. Then row[1] and row[2] are
  // cached (row[0] and row[3] stay in use), row[2] on top, its link pointing at row[1].
  for (int k : {4, 5}) {
    std::free(row[k]);
    expect_valid();
  }
  malloc_trim(0);
  expect_valid();
  for (int k : {1, 2}) {
    std::memset(row[k], 0xab, kSize);
    std::free(row[k]);
    expect_valid();
  }
  unsigned char* const p = row[2];

  auto* const q = static_cast<unsigned char*>(validated(std::malloc(opaque_size(kSmaller))));
  ASSERT_EQ(q, p) << "the cached 1,024-byte block was not taken whole for a 1,008-byte request";
  EXPECT_EQ(malloc_usable_size(q), kSize);
  std::memset(q, 0xcd, kSize);
  expect_valid();
  std::free(q);
  expect_valid();

  auto* const z = static_cast<unsigned char*>(validated(std::calloc(1, opaque_size(kSmaller))));
  ASSERT_EQ(z, p) << "calloc was not handed the cached block";
  for (std::size_t i = 0; i < kSmaller; ++i) ASSERT_EQ(z[i], 0) << "byte " << i << " of a cleared block";
  EXPECT_EQ(malloc_usable_size(z), kSize);
  std::free(z);
  expect_valid();
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (i < first || i >= first + 7 || (i - first != 1 && i - first != 2 && i - first != 4 && i - first != 5)) {
      std::free(run[i]);
      expect_valid();
    }
  }
}

TEST(MallocDoor, CallocOverflowFailsWithEnomem) {
  errno = 0;
  EXPECT_EQ(opaque(std::calloc(opaque_size(SIZE_MAX / 2), 3)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(opaque(std::calloc(opaque_size(std::size_t{1} << 33), std::size_t{1} << 33)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  expect_valid();
}

TEST(MallocDoor, CallocOfHugeBlockIsZero) {
  const std::size_t size = huge_size(std::size_t{2} << 20);
  auto* p = static_cast<unsigned char*>(std::calloc(1, size));
  ASSERT_NE(p, nullptr);
  for (std::size_t i = 0; i < size; i += 4093) ASSERT_EQ(p[i], 0);
  std::free(p);
  expect_valid();
}

TEST(MallocDoor, ReallocKeepsContentsAcrossArenaAndMappings) {
  auto* p = static_cast<unsigned char*>(std::malloc(100));
  for (int i = 0; i < 100; ++i) p[i] = static_cast<unsigned char>(i);
  // Arena -> arena (grow), arena -> huge, huge -> huge (mremap), huge -> arena.
  for (std::size_t size : {std::size_t{5000}, huge_size(), huge_size(std::size_t{1} << 20), std::size_t{200}}) {
    p = static_cast<unsigned char*>(std::realloc(p, size));
    ASSERT_NE(p, nullptr) << size;
    EXPECT_TRUE(aligned(p, 16));
    EXPECT_GE(malloc_usable_size(p), size);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(p[i], i) << size;
    expect_valid();
  }
  std::free(p);
  expect_valid();
}

TEST(MallocDoor, ReallocNullAllocatesAndZeroFrees) {
  void* p = std::realloc(nullptr, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::realloc(p, 0), nullptr);  // glibc: frees, returns nullptr
  expect_valid();
}

TEST(MallocDoor, ReallocFailureKeepsTheOldBlock) {
  auto* p = static_cast<char*>(std::malloc(32));
  std::strcpy(p, "still here");
  errno = 0;
  EXPECT_EQ(realloc_opaque(p, opaque_size(SIZE_MAX - 100)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_STREQ(p, "still here");
  std::free(p);
  expect_valid();
}

TEST(MallocDoor, ReallocarrayChecksOverflowAndKeepsTheBlock) {
  auto* p = static_cast<int*>(reallocarray(nullptr, 10, sizeof(int)));
  ASSERT_NE(p, nullptr);
  p[9] = 42;
  errno = 0;
  EXPECT_EQ(reallocarray_opaque(p, SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(p[9], 42);
  // (2^60 + 1) * 16 wraps to 16: a product that overflows to a small size must fail too, not shrink the block.
  errno = 0;
  EXPECT_EQ(reallocarray_opaque(p, opaque_size((SIZE_MAX >> 4) + 2), 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(p[9], 42);
  expect_valid();
  p = static_cast<int*>(reallocarray(p, 1000, sizeof(int)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p[9], 42);
  std::free(p);
  expect_valid();
}

TEST(MallocDoor, PosixMemalignHonoursEveryPowerOfTwo) {
  for (std::size_t align = sizeof(void*); align <= (std::size_t{4} << 20); align *= 2) {
    void* p = nullptr;
    ASSERT_EQ(posix_memalign(&p, align, 100), 0) << align;
    EXPECT_TRUE(aligned(p, align)) << align;
    std::memset(p, 1, 100);
    expect_valid();
    std::free(p);
  }
  expect_valid();
}

// A huge block with an alignment above the default is moved by realloc (mremap could not keep the alignment): to a
// larger huge block and back into an arena, its contents kept each time. The move reads the old size from the
// header realloc checked.
TEST(MallocDoor, ReallocMovesAnOverAlignedHugeBlock) {
  void* p = nullptr;
  constexpr std::size_t kAlign = 2 * door::kMaxArenaAlignment;  // above the arenas' largest alignment: a huge block
  ASSERT_EQ(posix_memalign(&p, kAlign, 100), 0);
  ASSERT_TRUE(aligned(p, kAlign));
  auto* bytes = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < 100; ++i) bytes[i] = static_cast<unsigned char>(i * 7);
  const std::size_t size = huge_size();
  void* const grown = std::realloc(p, size);
  ASSERT_NE(grown, nullptr);
  bytes = static_cast<unsigned char*>(grown);
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(bytes[i], static_cast<unsigned char>(i * 7)) << i;
  bytes[size - 1] = 0x5a;
  expect_valid();
  void* const shrunk = std::realloc(grown, opaque_size(200));
  ASSERT_NE(shrunk, nullptr);
  bytes = static_cast<unsigned char*>(shrunk);
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(bytes[i], static_cast<unsigned char>(i * 7)) << i;
  EXPECT_GE(malloc_usable_size(shrunk), 200u);
  expect_valid();
  std::free(shrunk);
  expect_valid();
}

// Small blocks at alignments above a page and up to 64 KiB come from the arenas, not a mapping each: a
// program holding many of them had been one kernel mapping per block (vm.max_map_count reached at 140,000). Every
// alignment from 8 KiB to the arenas' largest, a few blocks each, with every other one freed: no huge block mapped,
// each block aligned, its bytes kept, and the heaps sound.
TEST(MallocDoor, OverAlignedSmallBlocksComeFromTheArenas) {
  const door::HugeBlocks::Counts before = door::huge_counts();
  std::vector<void*> blocks;
  for (std::size_t align = 8192; align <= std::size_t{64} << 10; align *= 2) {  // the documented bound, 64 KiB
    for (int i = 0; i < 8; ++i) {
      void* p = nullptr;
      ASSERT_EQ(posix_memalign(&p, align, 64 + 40 * i), 0) << align;
      ASSERT_TRUE(aligned(p, align)) << align;
      std::memset(p, i, 64);
      blocks.push_back(p);
    }
    expect_valid();
  }
  for (std::size_t i = 0; i < blocks.size(); i += 2) std::free(blocks[i]);
  expect_valid();
  for (std::size_t i = 1; i < blocks.size(); i += 2) {
    const auto* bytes = static_cast<const unsigned char*>(blocks[i]);
    for (int b = 0; b < 64; ++b) ASSERT_EQ(bytes[b], static_cast<unsigned char>(i % 8)) << i;
    std::free(blocks[i]);
  }
  expect_valid();
  const door::HugeBlocks::Counts after = door::huge_counts();
  EXPECT_EQ(after.maps, before.maps);
  EXPECT_EQ(after.unmaps, before.unmaps);
}

TEST(MallocDoor, PosixMemalignRejectsBadAlignmentWithoutTouchingOutput) {
  void* p = reinterpret_cast<void*>(0x1234);
  EXPECT_EQ(posix_memalign(&p, 0, 8), EINVAL);
  EXPECT_EQ(posix_memalign(&p, 24, 8), EINVAL);
  EXPECT_EQ(posix_memalign(&p, 4, 8), EINVAL);  // not a multiple of sizeof(void*)
  EXPECT_EQ(posix_memalign(&p, 64, opaque_size(SIZE_MAX - 10)), ENOMEM);
  EXPECT_EQ(p, reinterpret_cast<void*>(0x1234));
  expect_valid();
}

// POSIX: posix_memalign reports through its return value and leaves errno alone, also when a system call the door
// made on the way failed (a huge block's refused mmap). (free keeps errno around its munmap and madvise too; those
// do not fail on the door's own mappings, so no test here could see it.)
TEST(MallocDoor, PosixMemalignLeavesErrnoAlone) {
  void* p = reinterpret_cast<void*>(0x1234);
  errno = 12345;
  EXPECT_EQ(posix_memalign(&p, 16, opaque_size(std::size_t{1} << 50)), ENOMEM);  // mmap refuses this huge block
  EXPECT_EQ(errno, 12345);
  EXPECT_EQ(p, reinterpret_cast<void*>(0x1234));
  expect_valid();
}

TEST(MallocDoor, AlignedAllocMemalignVallocPvalloc) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  errno = 0;
  EXPECT_EQ(opaque(aligned_alloc(24, 48)), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void* a = aligned_alloc(64, 100);
  EXPECT_TRUE(aligned(a, 64));
  void* m = memalign(24, 10);  // rounded up to 32
  EXPECT_TRUE(aligned(m, 32));
  void* v = valloc(10);
  EXPECT_TRUE(aligned(v, page));
  void* pv = pvalloc(10);
  EXPECT_TRUE(aligned(pv, page));
  EXPECT_GE(malloc_usable_size(pv), page);
  expect_valid();
  for (void* p : {a, m, v, pv}) std::free(p);
  expect_valid();
}

// Zero sizes, as glibc: malloc(0), calloc with either factor 0, realloc(NULL, 0) and reallocarray(NULL, 0, n) each
// give a distinct block that can be freed; realloc(p, 0) and reallocarray(p, 0, n) free `p` and return NULL. None
// of them sets errno.
TEST(MallocDoor, ZeroSizesGiveDistinctBlocksAndLeaveErrnoAlone) {
  errno = 12345;
  void* const blocks[] = {validated(std::malloc(opaque_size(0))), validated(std::calloc(opaque_size(0), 8)),
                          validated(std::calloc(8, opaque_size(0))), validated(realloc_opaque(nullptr, opaque_size(0))),
                          validated(reallocarray_opaque(nullptr, opaque_size(0), 8))};
  EXPECT_EQ(errno, 12345);
  for (std::size_t i = 0; i < std::size(blocks); ++i) {
    ASSERT_NE(blocks[i], nullptr) << i;
    EXPECT_TRUE(aligned(blocks[i], 16)) << i;
    for (std::size_t j = 0; j < i; ++j) EXPECT_NE(blocks[i], blocks[j]) << i << " and " << j;
  }
  for (void* p : blocks) {
    std::free(p);
    expect_valid();
  }
  EXPECT_EQ(errno, 12345);
  void* p = validated(std::malloc(opaque_size(40)));
  EXPECT_EQ(realloc_opaque(p, opaque_size(0)), nullptr);
  EXPECT_EQ(errno, 12345);
  expect_valid();
  p = validated(std::malloc(opaque_size(40)));
  EXPECT_EQ(reallocarray_opaque(p, opaque_size(0), 8), nullptr);
  EXPECT_EQ(errno, 12345);
  expect_valid();
}

// The aligned family at its limits. aligned_alloc(0, n) is EINVAL (0 is no alignment; glibc 2.38 likewise);
// memalign(0, n) takes malloc's alignment, and memalign refuses with EINVAL only an alignment it cannot round up to a
// power of two (glibc's bound). A power of two of half the address space is valid but cannot be met: ENOMEM
// (posix_memalign: returned, errno and *out untouched). valloc and pvalloc of sizes whose page rounding overflows
// fail with ENOMEM, never as a wrapped small block; pvalloc(0) is one page.
TEST(MallocDoor, AlignedFamilyAtItsLimits) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t half = SIZE_MAX / 2 + 1;
  errno = 0;
  EXPECT_EQ(opaque(aligned_alloc(opaque_size(0), 16)), nullptr);
  EXPECT_EQ(errno, EINVAL);
  expect_valid();
  for (const std::size_t align : {half + 1, SIZE_MAX}) {
    errno = 0;
    EXPECT_EQ(opaque(memalign(opaque_size(align), 16)), nullptr) << align;
    EXPECT_EQ(errno, EINVAL) << align;
    expect_valid();
  }
  errno = 0;
  EXPECT_EQ(opaque(memalign(opaque_size(half), 16)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  expect_valid();
  errno = 0;
  EXPECT_EQ(opaque(aligned_alloc(opaque_size(half), 1)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  expect_valid();
  void* out = reinterpret_cast<void*>(0x1234);
  errno = 12345;
  EXPECT_EQ(posix_memalign(&out, opaque_size(half), 1), ENOMEM);
  EXPECT_EQ(errno, 12345);
  EXPECT_EQ(out, reinterpret_cast<void*>(0x1234));
  expect_valid();
  EXPECT_EQ(opaque(::operator new (16, std::align_val_t{opaque_size(half)}, std::nothrow)), nullptr);
  expect_valid();
  for (const std::size_t size : {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - page + 1, SIZE_MAX - page}) {
    errno = 0;
    EXPECT_EQ(opaque(valloc(opaque_size(size))), nullptr) << size;
    EXPECT_EQ(errno, ENOMEM) << size;
    expect_valid();
    errno = 0;
    EXPECT_EQ(opaque(pvalloc(opaque_size(size))), nullptr) << size;
    EXPECT_EQ(errno, ENOMEM) << size;
    expect_valid();
  }
  expect_valid();
  void* const m = memalign(opaque_size(0), 24);
  expect_valid();
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(aligned(m, 16));
  void* const pv = pvalloc(opaque_size(0));
  expect_valid();
  ASSERT_NE(pv, nullptr);
  EXPECT_TRUE(aligned(pv, page));
  EXPECT_GE(malloc_usable_size(pv), page);
  std::memset(pv, 0x5a, page);
  expect_valid();
  std::free(m);
  expect_valid();
  std::free(pv);
  expect_valid();
}

// pvalloc rounds the size up to whole pages: the block is page-aligned and holds every byte of the rounded size.
TEST(MallocDoor, PvallocRoundsUpToWholePages) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  for (const std::size_t size : {std::size_t{1}, page - 1, page, page + 1, 3 * page - 5}) {
    const std::size_t rounded = (size + page - 1) / page * page;
    void* const p = pvalloc(opaque_size(size));
    ASSERT_NE(p, nullptr) << size;
    expect_valid();
    EXPECT_TRUE(aligned(p, page)) << size;
    EXPECT_GE(malloc_usable_size(p), rounded) << size;
    std::memset(p, 0x5a, rounded);
    expect_valid();
    std::free(p);
    expect_valid();
  }
}

// A huge block whose mremap the system refuses: realloc returns NULL with ENOMEM and the block stays the caller's,
// contents and registration both (malloc_usable_size and free find it; a lost registration would stop them with
// "invalid pointer").
TEST(MallocDoor, RefusedHugeReallocKeepsTheBlock) {
  const std::size_t kSize = huge_size();
  auto* p = static_cast<unsigned char*>(std::malloc(kSize));
  ASSERT_NE(p, nullptr);
  expect_valid();
  for (std::size_t i = 0; i < kSize; i += 4093) p[i] = static_cast<unsigned char>(i);
  errno = 0;
  EXPECT_EQ(realloc_opaque(p, opaque_size(std::size_t{1} << 50)), nullptr);  // mremap refuses this size
  EXPECT_EQ(errno, ENOMEM);
  expect_valid();
  for (std::size_t i = 0; i < kSize; i += 4093) ASSERT_EQ(p[i], static_cast<unsigned char>(i)) << i;
  EXPECT_GE(malloc_usable_size(p), kSize);
  std::free(p);
  expect_valid();
}

// glibc's dynamic mmap threshold: once a huge block of size S is freed, the threshold lies above S (and at most at its
// cap), and later requests of S come from an arena: no more mappings or unmaps (the door's huge counters), the freed
// memory reused. calloc clears such a block although S is above kHugeThreshold (it is no fresh mapping).
TEST(MallocDoor, FreedHugeBlockRaisesTheThreshold) {
  const std::size_t size = huge_size(5 * 4096 + 100);
  ASSERT_LT(size + 2 * 4096, door::kMaxHugeThreshold) << "an earlier test raised the threshold near its cap";
  const door::HugeBlocks::Counts at_start = door::huge_counts();
  auto* p = static_cast<unsigned char*>(std::malloc(size));
  ASSERT_NE(p, nullptr);
  expect_valid();
  EXPECT_EQ(door::huge_counts().maps, at_start.maps + 1) << "a request at the threshold is mapped";
  std::memset(p, 0xab, size);
  std::free(p);
  expect_valid();
  EXPECT_EQ(door::huge_counts().unmaps, at_start.unmaps + 1);
  EXPECT_GT(door::huge_threshold(), size);
  EXPECT_LE(door::huge_threshold(), door::kMaxHugeThreshold);
  for (int round = 0; round < 3; ++round) {
    auto* q = static_cast<unsigned char*>(std::malloc(opaque_size(size)));
    ASSERT_NE(q, nullptr);
    expect_valid();
    std::memset(q, 0xcd, size);
    std::free(q);
    expect_valid();
    auto* z = static_cast<unsigned char*>(std::calloc(1, opaque_size(size)));
    ASSERT_NE(z, nullptr);
    expect_valid();
    for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(z[i], 0) << "round " << round << " at " << i;
    std::free(z);
    expect_valid();
  }
  const door::HugeBlocks::Counts at_end = door::huge_counts();
  EXPECT_EQ(at_end.maps, at_start.maps + 1) << "a request of the freed block's size was mapped again";
  EXPECT_EQ(at_end.unmaps, at_start.unmaps + 1);
}

// glibc raises its threshold in free only: its realloc unmaps a mapped chunk it moves (munmap_chunk) without it. So
// does the door: a huge block that realloc moves into an arena (to a small size), or, over-aligned, to a new mapping,
// is unmapped and the threshold stays, so that a request of the old block's size is still mapped; a free of such a
// block then raises it.
TEST(MallocDoor, ReallocThatMovesAHugeBlockLeavesTheThreshold) {
  constexpr std::size_t kAlign = 2 * door::kMaxArenaAlignment;  // above the arenas' largest alignment: a huge block
  const std::size_t size = huge_size(5 * 4096 + 100);
  ASSERT_LT(size + kAlign + 2 * 4096, door::kMaxHugeThreshold) << "an earlier test raised the threshold near its cap";
  const std::size_t threshold = door::huge_threshold();
  const door::HugeBlocks::Counts at_start = door::huge_counts();

  auto* p = static_cast<unsigned char*>(std::malloc(size));
  ASSERT_NE(p, nullptr);
  expect_valid();
  ASSERT_EQ(door::huge_counts().maps, at_start.maps + 1) << "a request at the threshold is mapped";
  for (int i = 0; i < 100; ++i) p[i] = static_cast<unsigned char>(i);
  auto* const small = static_cast<unsigned char*>(std::realloc(p, opaque_size(100)));
  ASSERT_NE(small, nullptr);
  expect_valid();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(small[i], i);
  EXPECT_EQ(door::huge_counts().unmaps, at_start.unmaps + 1) << "the huge block was not unmapped";
  EXPECT_EQ(door::huge_threshold(), threshold) << "a realloc into an arena raised the threshold";
  std::free(small);
  expect_valid();

  void* aligned_block = nullptr;
  ASSERT_EQ(posix_memalign(&aligned_block, kAlign, size), 0);
  expect_valid();
  void* const moved = std::realloc(aligned_block, opaque_size(size + 4096));
  ASSERT_NE(moved, nullptr);
  expect_valid();
  EXPECT_EQ(door::huge_counts().unmaps, at_start.unmaps + 2) << "the over-aligned block was not unmapped";
  EXPECT_EQ(door::huge_threshold(), threshold) << "a realloc to a new mapping raised the threshold";

  const std::size_t maps = door::huge_counts().maps;
  void* const again = opaque(std::malloc(opaque_size(size)));
  ASSERT_NE(again, nullptr);
  expect_valid();
  EXPECT_EQ(door::huge_counts().maps, maps + 1) << "the old blocks' size no longer mapped";
  std::free(again);
  expect_valid();
  EXPECT_GT(door::huge_threshold(), size) << "a free of a huge block did not raise the threshold";
  std::free(moved);
  expect_valid();
}

TEST(MallocDoor, UsableSizeOfNullIsZero) { EXPECT_EQ(malloc_usable_size(nullptr), 0u); }

// Three blocks of `size` bytes that lie next to each other in an arena (the first of up to 64 requests that give three
// in a row), the others of the 64 freed again and the caches flushed. Its neighbours in use, the middle one is cached
// when freed.
std::vector<unsigned char*> three_in_a_row(std::size_t size, std::size_t block) {
  std::vector<unsigned char*> run;
  for (int i = 0; i < 64; ++i) run.push_back(static_cast<unsigned char*>(validated(std::malloc(opaque_size(size)))));
  std::vector<unsigned char*> row;
  if (const std::size_t first = first_in_a_row(run, 3, [block](unsigned char*) { return block; }); first < run.size()) {
    row = {run[first], run[first + 1], run[first + 2]};
  }
  for (unsigned char* p : run) {
    if (std::find(row.begin(), row.end(), p) == row.end()) {
      std::free(p);
      expect_valid();
    }
  }
  malloc_trim(0);  // flushes every arena's cache: the bin of their size is empty again
  expect_valid();
  return row;
}

// glibc's older mallinfo, which its header marks deprecated (for mallinfo2): the drop-in exports both.
struct mallinfo old_mallinfo() {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return mallinfo();
#pragma GCC diagnostic pop
}

// mallinfo2 describes our arenas and huge blocks (under LD_PRELOAD glibc's own would read zeros): the bytes usable in
// live blocks, free and cached blocks with their bytes, huge blocks with their mappings' bytes.
TEST(MallocDoor, Mallinfo2FollowsArenaAndHugeBlocks) {
  constexpr std::size_t kSize = 1020;  // a block of 1,024 bytes, usable 1,020 (4 bytes of tags)
  const std::vector<unsigned char*> row = three_in_a_row(kSize, 1024);
  ASSERT_EQ(row.size(), 3u) << "no three blocks in a row among 64 requests of one size";
  const struct mallinfo2 with = mallinfo2();
  EXPECT_GE(with.arena, door::kChunkBytes / 2) << "at least one chunk";
  EXPECT_LE(with.uordblks + with.fordblks, with.arena) << "the tags are in neither";
  EXPECT_GE(with.uordblks, 3 * kSize);
  EXPECT_GE(with.ordblks, 1u) << "the chunk's free tail at least";
  EXPECT_LE(with.fsmblks, with.fordblks) << "the cached blocks' bytes are part of the free bytes";
  EXPECT_EQ(with.usmblks, 0u);
  EXPECT_EQ(with.keepcost, 0u);

  const std::size_t usable = malloc_usable_size(row[1]);
  ASSERT_EQ(usable, kSize);
  std::free(row[1]);
  expect_valid();
  const struct mallinfo2 freed = mallinfo2();
  EXPECT_EQ(freed.uordblks, with.uordblks - usable);
  EXPECT_EQ(freed.smblks, with.smblks + 1) << "a block between two in use is cached";
  EXPECT_EQ(freed.fsmblks, with.fsmblks + usable);
  EXPECT_EQ(freed.fordblks, with.fordblks + usable);
  EXPECT_EQ(freed.ordblks, with.ordblks) << "a cached block is not on the free index";
  EXPECT_EQ(freed.arena, with.arena);

  // A request at the threshold's cap is always mapped on its own.
  void* const huge = validated(std::malloc(opaque_size(door::kMaxHugeThreshold)));
  ASSERT_NE(huge, nullptr);
  const struct mallinfo2 mapped = mallinfo2();
  EXPECT_EQ(mapped.hblks, freed.hblks + 1);
  EXPECT_GE(mapped.hblkhd, freed.hblkhd + door::kMaxHugeThreshold);
  EXPECT_EQ(mapped.uordblks, freed.uordblks) << "a huge block is not in the arenas";
  std::free(huge);
  expect_valid();
  const struct mallinfo2 unmapped = mallinfo2();
  EXPECT_EQ(unmapped.hblks, freed.hblks);
  EXPECT_EQ(unmapped.hblkhd, freed.hblkhd);

  // The older mallinfo gives the same figures in ints.
  const struct mallinfo narrow = old_mallinfo();
  EXPECT_EQ(static_cast<std::size_t>(narrow.arena), unmapped.arena);
  EXPECT_EQ(static_cast<std::size_t>(narrow.uordblks), unmapped.uordblks);
  EXPECT_EQ(static_cast<std::size_t>(narrow.smblks), unmapped.smblks);
  EXPECT_EQ(static_cast<std::size_t>(narrow.fsmblks), unmapped.fsmblks);
  EXPECT_EQ(static_cast<std::size_t>(narrow.hblks), unmapped.hblks);
  std::free(row[0]);
  expect_valid();
  std::free(row[2]);
  expect_valid();
}

// mallinfo's int fields hold a figure above INT_MAX at INT_MAX (glibc's would keep the low bits: 3 GiB read as a
// negative count). The 3 GiB are address space: the mapping is never touched.
TEST(MallocDoor, MallinfoHoldsFiguresAboveIntMaxAtIntMax) {
  void* const huge = validated(std::malloc(opaque_size(std::size_t{3} << 30)));
  if (huge == nullptr) GTEST_SKIP() << "the system refused a 3 GiB mapping";
  EXPECT_GE(mallinfo2().hblkhd, std::size_t{3} << 30);
  EXPECT_EQ(old_mallinfo().hblkhd, INT_MAX);
  std::free(huge);
  expect_valid();
  EXPECT_LT(old_mallinfo().hblkhd, INT_MAX);
}

// malloc_stats writes, now and on stderr, the line NOSTD_MALLOC_STATS=1 writes at exit.
TEST(MallocDoor, MallocStatsWritesTheStatisticsLine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(::dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
  malloc_stats();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fds[1]);
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  EXPECT_EQ(text.rfind("nostd-malloc: check=basic arenas=", 0), 0u) << text;
  EXPECT_NE(text.find(" allocations="), std::string::npos) << text;
  EXPECT_NE(text.find(" huge_maps="), std::string::npos) << text;
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  expect_valid();
}

// One `<total>` or `<system>` element of malloc_info's XML: the figures of the first `<NAME type="TYPE" ...>` in
// xml[from, to), SIZE_MAX where it is missing.
struct XmlFigures {
  std::size_t count = SIZE_MAX;  ///< `count=` (`<total>` only)
  std::size_t size = SIZE_MAX;   ///< `size=`
};
XmlFigures xml_figures(const std::string& xml, std::size_t from, std::size_t to, const char* name, const char* type) {
  const std::string tag = std::string("<") + name + " type=\"" + type + "\" ";
  const std::size_t at = xml.find(tag, from);
  XmlFigures figures;
  if (at == std::string::npos || at >= to) return figures;
  const char* const rest = xml.c_str() + at + tag.size();
  unsigned long long count = 0, size = 0;
  if (std::sscanf(rest, "count=\"%llu\" size=\"%llu\"/>", &count, &size) == 2) {
    figures = {count, size};
  } else if (std::sscanf(rest, "size=\"%llu\"/>", &size) == 1) {
    figures.size = size;
  }
  return figures;
}

// One `<size>` element of malloc_info's XML: a size class of an arena's free and cached blocks.
struct XmlSize {
  std::size_t from = 0;
  std::size_t to = 0;
  std::size_t total = 0;
  std::size_t count = 0;
};

// The `<size>` elements of the `<sizes>` element in xml[from, to) (one `<heap>`), in order. Fails the test unless
// `<sizes>` is there, each element is one line `  <size from="F" to="T" total="B" count="N"/>` with glibc's attribute
// order, and the classes are non-empty, ascending and non-overlapping (each one's bytes between count x from and count
// x to).
std::vector<XmlSize> xml_sizes(const std::string& xml, std::size_t from, std::size_t to) {
  std::vector<XmlSize> sizes;
  const std::size_t open = xml.find("<sizes>\n", from);
  const std::size_t close = xml.find("</sizes>\n", from);
  EXPECT_TRUE(open < to && close < to && open < close) << xml.substr(from, to - from);
  if (!(open < to && close < to && open < close)) return sizes;
  for (std::size_t at = open + 8; at < close; at = xml.find('\n', at) + 1) {
    unsigned long long f = 0, t = 0, b = 0, n = 0;
    int length = 0;
    const int fields =
        std::sscanf(xml.c_str() + at, "  <size from=\"%llu\" to=\"%llu\" total=\"%llu\" count=\"%llu\"/>%n", &f, &t, &b,
                    &n, &length);
    EXPECT_EQ(fields, 4) << xml.substr(at, xml.find('\n', at) - at);
    EXPECT_EQ(at + static_cast<std::size_t>(length), xml.find('\n', at)) << "one element per line";
    if (fields != 4) return sizes;
    const XmlSize size{f, t, b, n};
    EXPECT_LE(size.from, size.to);
    EXPECT_GE(size.count, 1u) << "an empty class is listed";
    EXPECT_GE(size.total, size.count * size.from);
    EXPECT_LE(size.total, size.count * size.to);
    if (!sizes.empty()) {
      EXPECT_LT(sizes.back().to, size.from) << "classes not ascending or overlapping";
    }
    sizes.push_back(size);
  }
  return sizes;
}

// The count and bytes of the classes in `sizes` holding a block serving `usable` bytes (at most one).
XmlSize class_of(const std::vector<XmlSize>& sizes, std::size_t usable) {
  for (const XmlSize& size : sizes) {
    if (size.from <= usable && usable <= size.to) return size;
  }
  return {usable, usable, 0, 0};
}

// glibc's malloc_info, from the drop-in's figures (under LD_PRELOAD glibc's own would describe its unused heap): the
// XML document's sums are mallinfo2's, taken just before with nothing allocated in between (fast: smblks and fsmblks,
// rest: ordblks and fordblks less fsmblks, mmap: hblks and hblkhd, system: arena), and each `<heap>` (an arena that has
// mapped a chunk) adds up to them. options other than 0 return EINVAL, leave errno and write nothing, as glibc's
// (2.36: `ret=22 errno=0`; its manual says -1 and errno).
TEST(MallocDoor, MallocInfoWritesMallinfo2sFigures) {
  constexpr std::size_t kSize = 1020;
  const std::vector<unsigned char*> row = three_in_a_row(kSize, 1024);
  ASSERT_EQ(row.size(), 3u) << "no three blocks in a row among 64 requests of one size";
  std::free(row[1]);  // cached: a `fast` block
  expect_valid();
  void* const huge = validated(std::malloc(opaque_size(door::kMaxHugeThreshold)));  // always mapped on its own
  ASSERT_NE(huge, nullptr);
  std::FILE* const file = std::tmpfile();
  ASSERT_NE(file, nullptr);

  errno = 0;
  EXPECT_EQ(malloc_info(1, file), EINVAL);
  EXPECT_EQ(errno, 0);
  EXPECT_EQ(std::ftell(file), 0) << "options 1 wrote something";
  const struct mallinfo2 info = mallinfo2();
  const int written = malloc_info(0, file);
  expect_valid();
  ASSERT_EQ(written, 0);
  const long length = std::ftell(file);
  ASSERT_GT(length, 0);
  std::string xml(static_cast<std::size_t>(length), '\0');
  std::rewind(file);
  ASSERT_EQ(std::fread(xml.data(), 1, xml.size(), file), xml.size());
  std::fclose(file);

  EXPECT_EQ(xml.rfind("<malloc version=\"1\">\n", 0), 0u) << xml;
  ASSERT_GE(xml.size(), 10u);
  EXPECT_EQ(xml.substr(xml.size() - 10), "</malloc>\n") << xml;
  // The heaps, summed.
  XmlFigures fast{0, 0}, rest{0, 0}, system{0, 0};
  std::size_t heaps = 0, end = 0;
  for (std::size_t at = xml.find("<heap nr=\""); at != std::string::npos; at = xml.find("<heap nr=\"", end)) {
    end = xml.find("</heap>", at);
    ASSERT_NE(end, std::string::npos) << xml;
    const XmlFigures heap_fast = xml_figures(xml, at, end, "total", "fast");
    const XmlFigures heap_rest = xml_figures(xml, at, end, "total", "rest");
    const XmlFigures heap_system = xml_figures(xml, at, end, "system", "current");
    ASSERT_NE(heap_fast.count, SIZE_MAX) << xml;
    ASSERT_NE(heap_rest.count, SIZE_MAX) << xml;
    ASSERT_NE(heap_system.size, SIZE_MAX) << xml;
    EXPECT_GT(heap_system.size, 0u) << "a heap that never mapped a chunk is listed";
    EXPECT_EQ(xml_figures(xml, at, end, "system", "max").size, heap_system.size);
    // The size classes add up to the heap's cached and free blocks (both totals: a cached block counts in a class).
    XmlSize classes;
    for (const XmlSize& size : xml_sizes(xml, at, end)) {
      classes.count += size.count;
      classes.total += size.total;
    }
    EXPECT_EQ(classes.count, heap_fast.count + heap_rest.count) << xml;
    EXPECT_EQ(classes.total, heap_fast.size + heap_rest.size) << xml;
    fast = {fast.count + heap_fast.count, fast.size + heap_fast.size};
    rest = {rest.count + heap_rest.count, rest.size + heap_rest.size};
    system.size += heap_system.size;
    ++heaps;
  }
  EXPECT_GE(heaps, 1u) << xml;
  // The sums that follow the heaps.
  const XmlFigures total_fast = xml_figures(xml, end, xml.size(), "total", "fast");
  const XmlFigures total_rest = xml_figures(xml, end, xml.size(), "total", "rest");
  const XmlFigures total_mmap = xml_figures(xml, end, xml.size(), "total", "mmap");
  const XmlFigures total_system = xml_figures(xml, end, xml.size(), "system", "current");
  EXPECT_EQ(total_fast.count, info.smblks) << xml;
  EXPECT_EQ(total_fast.size, info.fsmblks) << xml;
  EXPECT_EQ(total_rest.count, info.ordblks) << xml;
  EXPECT_EQ(total_rest.size + total_fast.size, info.fordblks) << xml;
  EXPECT_EQ(total_mmap.count, info.hblks) << xml;
  EXPECT_EQ(total_mmap.size, info.hblkhd) << xml;
  EXPECT_EQ(total_system.size, info.arena) << xml;
  EXPECT_GE(info.smblks, 1u) << "the cached block";
  EXPECT_GE(info.hblks, 1u) << "the huge block";
  EXPECT_EQ(fast.count, total_fast.count);
  EXPECT_EQ(fast.size, total_fast.size);
  EXPECT_EQ(rest.count, total_rest.count);
  EXPECT_EQ(rest.size, total_rest.size);
  EXPECT_EQ(system.size, total_system.size);

  errno = 0;
  EXPECT_EQ(malloc_info(0, nullptr), EINVAL);
  EXPECT_EQ(errno, 0);
  std::free(huge);
  expect_valid();
  std::free(row[0]);
  expect_valid();
  std::free(row[2]);
  expect_valid();
}

// The `<size>` classes of every `<heap>` in `xml`, summed class by class over the heaps for the class holding a block
// of `usable` bytes.
XmlSize class_in_heaps(const std::string& xml, std::size_t usable) {
  XmlSize sum{usable, usable, 0, 0};
  std::size_t end = 0;
  for (std::size_t at = xml.find("<heap nr=\""); at != std::string::npos; at = xml.find("<heap nr=\"", end)) {
    end = xml.find("</heap>", at);
    if (end == std::string::npos) break;
    const XmlSize size = class_of(xml_sizes(xml, at, end), usable);
    if (size.count != 0) sum = {size.from, size.to, sum.total + size.total, sum.count + size.count};
  }
  return sum;
}

// malloc_info's `<sizes>` count freed blocks by size class: 12 blocks of each of three sizes freed between two
// documents, each between two live blocks (so none merges), add exactly 12 blocks of their usable size to the class
// holding it, whether the cache keeps them (8 a size) or the free lists do; the classes below 1 KiB hold one size
// each, the one of 2 KiB blocks a range (32 lists per power of two above 1 KiB). Both documents go to one stream,
// whose buffer the first allocated, and are read after the second: nothing else allocates or frees in between.
TEST(MallocDoor, MallocInfoSizesCountFreedBlocksByClass) {
  constexpr std::size_t kSizes[] = {92, 236, 2044};  // blocks of 96, 240 and 2,048 bytes (4 bytes of tags)
  constexpr std::size_t kFreed = 12;
  std::vector<unsigned char*> rows[std::size(kSizes)];
  for (std::size_t k = 0; k < std::size(kSizes); ++k) {
    std::vector<unsigned char*> run;
    for (int i = 0; i < 128; ++i) run.push_back(static_cast<unsigned char*>(validated(std::malloc(kSizes[k]))));
    const std::size_t block = kSizes[k] + 4;
    const std::size_t first = first_in_a_row(run, 2 * kFreed + 1, [block](unsigned char*) { return block; });
    ASSERT_LT(first, run.size()) << "no " << 2 * kFreed + 1 << " blocks in a row of " << block << " bytes";
    rows[k].assign(run.begin() + static_cast<std::ptrdiff_t>(first),
                   run.begin() + static_cast<std::ptrdiff_t>(first + 2 * kFreed + 1));
    for (unsigned char* p : run) {
      if (std::find(rows[k].begin(), rows[k].end(), p) == rows[k].end()) {
        std::free(p);
        expect_valid();
      }
    }
  }
  malloc_trim(0);  // flushes the caches: the blocks freed above merge now, not between the two documents
  expect_valid();
  std::size_t usable[std::size(kSizes)];
  for (std::size_t k = 0; k < std::size(kSizes); ++k) usable[k] = malloc_usable_size(rows[k][1]);
  std::FILE* const file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(malloc_info(0, file), 0);
  expect_valid();
  const long before_end = std::ftell(file);
  for (std::vector<unsigned char*>& row : rows) {
    for (std::size_t i = 1; i < row.size(); i += 2) {
      std::free(row[i]);
      expect_valid();
    }
  }
  ASSERT_EQ(malloc_info(0, file), 0);
  expect_valid();
  const long length = std::ftell(file);
  ASSERT_GT(before_end, 0);
  ASSERT_GT(length, before_end);
  std::string xml(static_cast<std::size_t>(length), '\0');
  std::rewind(file);
  ASSERT_EQ(std::fread(xml.data(), 1, xml.size(), file), xml.size());
  std::fclose(file);
  const std::string before = xml.substr(0, static_cast<std::size_t>(before_end));
  const std::string after = xml.substr(static_cast<std::size_t>(before_end));

  for (std::size_t k = 0; k < std::size(kSizes); ++k) {
    const XmlSize was = class_in_heaps(before, usable[k]);
    const XmlSize now = class_in_heaps(after, usable[k]);
    EXPECT_EQ(now.count, was.count + kFreed) << "usable " << usable[k] << "\n" << after;
    EXPECT_EQ(now.total, was.total + kFreed * usable[k]) << "usable " << usable[k] << "\n" << after;
    EXPECT_LE(now.from, usable[k]);
    EXPECT_GE(now.to, usable[k]);
    if (usable[k] + 4 < 1024) {
      EXPECT_EQ(now.from, usable[k]) << "a class below 1 KiB holds one size";
      EXPECT_EQ(now.to, usable[k]) << "a class below 1 KiB holds one size";
    } else {
      EXPECT_LT(now.from, now.to) << "a class above 1 KiB holds a range";
    }
  }
  for (std::vector<unsigned char*>& row : rows) {
    for (std::size_t i = 0; i < row.size(); i += 2) {
      std::free(row[i]);
      expect_valid();
    }
  }
}

TEST(MallocDoor, OperatorNewAndDeleteEveryForm) {
  struct alignas(256) Wide {
    char bytes[256];
  };
  auto* w = new Wide;
  EXPECT_TRUE(aligned(w, 256));
  delete w;
  auto* ws = new Wide[3];
  EXPECT_TRUE(aligned(ws, 256));
  delete[] ws;
  int* n = new (std::nothrow) int(7);
  EXPECT_EQ(*n, 7);
  delete n;
  EXPECT_EQ(opaque(::operator new(opaque_size(SIZE_MAX - 64), std::nothrow)), nullptr);
  void* sized = ::operator new(100);
  ::operator delete(sized, 100);
  void* al = ::operator new (100, std::align_val_t{4096}, std::nothrow);
  EXPECT_TRUE(aligned(al, 4096));
  ::operator delete (al, std::align_val_t{4096}, std::nothrow);
  expect_valid();
}

// An alignment that is not a power of two fails on every path: operator new's aligned forms reject it before the
// door, and the door's arenas and huge mappings refuse it rather than round for one they cannot meet.
// Before, align_val_t{4097} came back as a 4,064-byte block for a 4,079-byte request.
TEST(MallocDoor, AlignmentThatIsNotAPowerOfTwoFails) {
  EXPECT_EQ(opaque(::operator new (4079, std::align_val_t{4097}, std::nothrow)), nullptr);
  EXPECT_EQ(opaque(::operator new (64, std::align_val_t{24}, std::nothrow)), nullptr);
  EXPECT_EQ(opaque(::operator new[](64, std::align_val_t{5000}, std::nothrow)), nullptr);
  EXPECT_EQ(door::allocate(4079, 4097), nullptr);
  EXPECT_EQ(door::allocate(std::size_t{2} << 20, 3 * 4096), nullptr);
  expect_valid();
}

// Huge blocks through the registry: many live at once (the registry grows past its first table), freed in another
// order than allocated, with realloc moving some by mremap; each stays usable and none is lost.
TEST(MallocDoor, ManyHugeBlocksLiveAtOnce) {
  constexpr int kBlocks = 600;  // past the registry's first table of 512 slots at half load
  std::vector<unsigned char*> blocks;
  for (int i = 0; i < kBlocks; ++i) {
    auto* p = static_cast<unsigned char*>(std::malloc(huge_size(4096 * (i % 3))));
    ASSERT_NE(p, nullptr) << i;
    expect_valid();
    p[0] = static_cast<unsigned char>(i);
    blocks.push_back(p);
  }
  const std::size_t grown = huge_size(std::size_t{2} << 20);  // huge to huge: mremap, whatever the threshold
  for (int i = 0; i < kBlocks; i += 5) {
    auto* moved = static_cast<unsigned char*>(realloc_opaque(blocks[i], grown));
    ASSERT_NE(moved, nullptr) << i;
    expect_valid();
    blocks[i] = moved;
  }
  for (int i = 0; i < kBlocks; ++i) {
    ASSERT_EQ(blocks[i][0], static_cast<unsigned char>(i)) << i;
    ASSERT_GE(malloc_usable_size(blocks[i]), std::size_t{1} << 20) << i;
  }
  for (int i = kBlocks - 1; i >= 0; i -= 2) {
    std::free(blocks[i]);
    expect_valid();
  }
  for (int i = kBlocks - 2; i >= 0; i -= 2) {
    std::free(blocks[i]);
    expect_valid();
  }
}

TEST(MallocDoor, ThreadsFreeEachOthersBlocks) {
  constexpr int kThreads = 4, kBlocks = 20000;
  std::vector<std::vector<void*>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &made] {
      for (int i = 0; i < kBlocks; ++i) {
        void* p = std::malloc(static_cast<std::size_t>(16 + (i * 37 + t) % 2000));
        std::memset(p, t, 16);
        if (i % 3 == 0) {
          std::free(p);
        } else {
          made[t].push_back(p);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  expect_valid();
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {  // each thread frees the next one's blocks
    threads.emplace_back([t, &made] {
      for (void* p : made[(t + 1) % kThreads]) {
        EXPECT_EQ(*static_cast<unsigned char*>(p), (t + 1) % kThreads);
        std::free(p);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  expect_valid();
}

TEST(MallocDoor, ForkWhileOtherThreadsAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&stop] {
      while (!stop.load()) std::free(opaque(std::malloc(64 + std::rand() % 4000)));
    });
  }
  for (int round = 0; round < 20; ++round) {
    const pid_t child = fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
      // Without the fork handlers, an arena locked by a thread that does not exist here would hang this.
      for (int i = 0; i < 1000; ++i) std::free(opaque(std::malloc(static_cast<std::size_t>(i))));
      _exit(door::validate() ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  stop = true;
  for (std::thread& th : threads) th.join();
  expect_valid();
}

// mallinfo2 walks the arenas' free lists (HeapStats) with the links checked as malloc's searches check them: a free
// block whose links the program overwrote stops the process with the heap's report, as the next malloc that reached it
// would, rather than sending the walk through the overwritten words. Two blocks of one size, each between two blocks in
// use and above the cache's bins, go onto one list of the free index unmerged, where a walk must follow a link into or
// out of one of them. They are freed and overwritten in the death test's child only, after its own allocations (which
// would take them).
TEST(MallocDoorDeathTest, MallinfoOfAFreeListTheProgramOverwroteStopsWithAMessage) {
  constexpr std::size_t kSize = 20000;
  std::vector<unsigned char*> run;
  for (int i = 0; i < 32; ++i) run.push_back(static_cast<unsigned char*>(validated(std::malloc(opaque_size(kSize)))));
  // Five blocks in a row: each starts where the one before it ends (its usable bytes, then the 4-byte tag of basic, the
  // suite's level).
  const std::size_t first = first_in_a_row(run, 5, [](unsigned char* block) { return malloc_usable_size(block) + 4; });
  ASSERT_LT(first, run.size()) << "no five blocks in a row among 32 requests of one size";
  unsigned char* const freed[2] = {run[first + 1], run[first + 3]};
  EXPECT_DEATH(
      {
        void* stale[2];
        for (int i = 0; i < 2; ++i) stale[i] = opaque(freed[i]);
        for (unsigned char* p : freed) std::free(p);
        expect_valid();
        for (void* p : stale) std::memset(p, 0x41, 32);  // their list links: a write after free
        g_sink_size = mallinfo2().ordblks;
      },
      "nostd-malloc: heap corrupted at .*free block's list link");
  for (unsigned char* p : run) {
    std::free(p);
    expect_valid();
  }
}

TEST(MallocDoorDeathTest, FreeOfStackPointerStopsWithAMessage) {
  int local = 0;
  EXPECT_DEATH(std::free(opaque(&local)), "nostd-malloc: invalid pointer");
}

// Huge blocks (huge_size(), their own mappings) are found through the registry of live ones before their header
// is read: a second free, a realloc or a malloc_usable_size after the free would otherwise read an unmapped page.
TEST(MallocDoorDeathTest, HugeBlockFreedTwiceStopsWithAMessage) {
  EXPECT_DEATH(
      {
        void* p = std::malloc(huge_size());
        void* again = opaque(p);
        std::free(p);
        std::free(again);
      },
      "nostd-malloc: invalid pointer .*huge block freed already");
}

TEST(MallocDoorDeathTest, FreedHugeBlockIsNotReadByReallocOrUsableSize) {
  void* p = std::malloc(huge_size());
  void* stale = opaque(p);
  std::free(p);
  EXPECT_DEATH(g_sink = realloc_opaque(stale, 100), "nostd-malloc: invalid pointer .*freed already");
  EXPECT_DEATH(g_sink_size = malloc_usable_size(stale), "nostd-malloc: invalid pointer .*freed already");
  expect_valid();
}

// malloc_usable_size checks its pointer as free does, instead of answering with a size read from payload bytes.
TEST(MallocDoorDeathTest, UsableSizeOfAnInteriorOrFreedArenaPointerStopsWithAMessage) {
  auto* p = static_cast<unsigned char*>(std::malloc(opaque_size(200)));
  std::memset(p, 0x41, 200);
  EXPECT_DEATH(g_sink_size = malloc_usable_size(opaque(p + 32)), "nostd-malloc: invalid pointer .*never returned");
  EXPECT_DEATH(g_sink_size = malloc_usable_size(opaque(p + 8)), "nostd-malloc: invalid pointer .*never returned");
  EXPECT_GE(malloc_usable_size(p), 200u);
  std::free(p);
  // Freed and asked about inside the death test's child, with no allocation in between that could reuse the block:
  // a small one (kept aside by the arena's cache) and one that goes back to the free lists.
  for (const std::size_t size : {std::size_t{200}, std::size_t{3000}}) {
    EXPECT_DEATH(
        {
          void* q = std::malloc(opaque_size(size));
          void* stale = opaque(q);
          std::free(q);
          g_sink_size = malloc_usable_size(stale);
        },
        "nostd-malloc: invalid pointer .*malloc_usable_size of a freed block")
        << size;
  }
  expect_valid();
}

// The first bytes of an arena chunk: no block starts there, and the header in front lies before the chunk (the
// free path reads a block's size before the heap checks the pointer).
TEST(MallocDoorDeathTest, FreeOfAnArenaChunkStartStopsWithAMessage) {
  void* const block = std::malloc(opaque_size(100));
  constexpr std::uintptr_t kChunk = std::uintptr_t{1} << 26;  // platform/malloc/chunk_map.h, kChunkBytes
  void* const chunk_start = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(block) & ~(kChunk - 1));
  EXPECT_DEATH(std::free(opaque(chunk_start)), "nostd-malloc: invalid pointer .*the start of an arena chunk");
  EXPECT_DEATH(g_sink_size = malloc_usable_size(opaque(chunk_start)), "nostd-malloc: invalid pointer");
  std::free(block);
  expect_valid();
}

// realloc that moves a block to a huge size checks it first, in realloc's words: a freed arena block is a double
// free, as it is for a realloc that stays in the arena.
TEST(MallocDoorDeathTest, ReallocOfAFreedBlockToAHugeSizeIsADoubleFree) {
  EXPECT_DEATH(
      {
        void* q = std::malloc(opaque_size(3000));
        void* stale = opaque(q);
        std::free(q);
        g_sink = realloc_opaque(stale, huge_size());
      },
      "nostd-malloc: double free .*realloc of a freed block");
}

// A realloc that moves a block between an arena and a mapping frees the old block: afterwards it is no block to
// malloc_usable_size (asked inside the death test's child, with no allocation in between that could reuse it).
TEST(MallocDoorDeathTest, ReallocThatMovesFreesTheOldBlock) {
  EXPECT_DEATH(
      {
        void* const p = std::malloc(opaque_size(3000));
        void* const old = opaque(p);
        g_sink = realloc_opaque(p, huge_size());  // arena -> mapping
        g_sink_size = malloc_usable_size(old);
      },
      "nostd-malloc: invalid pointer .*malloc_usable_size of a freed block");
  EXPECT_DEATH(
      {
        void* const p = std::malloc(huge_size());
        void* const old = opaque(p);
        g_sink = realloc_opaque(p, opaque_size(200));  // mapping -> arena
        g_sink_size = malloc_usable_size(old);
      },
      "nostd-malloc: invalid pointer .*freed already");
}

// A huge realloc that mremap moves takes the block's registration with it: the new pointer is usable and freeable,
// the old one is no longer a block.
TEST(MallocDoorDeathTest, HugeReallocMovesTheRegistration) {
  auto* p = static_cast<unsigned char*>(std::malloc(huge_size()));
  ASSERT_NE(p, nullptr);
  p[0] = 42;
  // A page mapped right after p's mapping (which ends where its usable bytes do) keeps mremap from growing p in
  // place, so the realloc must move it; EEXIST means something is there already, which does the same.
  const std::size_t page = door::page_size();
  void* const end = p + malloc_usable_size(p);
  void* const guard = mmap(end, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  const bool blocked = guard == end || (guard == MAP_FAILED && errno == EEXIST);
  if (guard != MAP_FAILED && guard != end) munmap(guard, page);  // a kernel that took the flag for a hint
  void* const old = opaque(p);
  auto* q = static_cast<unsigned char*>(realloc_opaque(p, opaque_size(std::size_t{64} << 20)));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q[0], 42);
  EXPECT_GE(malloc_usable_size(q), std::size_t{64} << 20);
  if (blocked) {
    EXPECT_NE(static_cast<void*>(q), old) << "mremap grew the block in place past the guard page";
  }
  if (q != old) {
    EXPECT_DEATH(g_sink_size = malloc_usable_size(old), "nostd-malloc: invalid pointer .*freed already");
  }
  std::free(q);
  if (guard == end) munmap(guard, page);
  expect_valid();
}

// The threshold stops at kMaxHugeThreshold: a freed block whose extent (page-rounded) is the cap raises it to the cap,
// a larger one leaves it there, a request below the cap then comes from an arena and one at the cap is mapped. In a
// child process (EXPECT_EXIT), so that the other tests' huge blocks do not become 32 MiB large. The exit code's bits
// name the checks that failed (the child writes nothing: its output would not reach the parent's report).
TEST(MallocDoorDeathTest, ThresholdStopsAtItsCap) {
  constexpr std::size_t kCap = door::kMaxHugeThreshold;
  ASSERT_LT(door::huge_threshold(), kCap);
  EXPECT_EXIT(
      {
        int failed = 0;
        std::free(opaque(std::malloc(opaque_size(kCap - 64))));  // extent: exactly kCap
        if (door::huge_threshold() != kCap) failed |= 1;
        const std::size_t maps = door::huge_counts().maps;
        void* const below = opaque(std::malloc(opaque_size(kCap - 64)));
        if (below == nullptr || door::huge_counts().maps != maps) failed |= 2;  // from an arena
        std::free(below);
        std::free(opaque(std::malloc(opaque_size(kCap + 4096))));  // above the cap: the threshold stays
        if (door::huge_threshold() != kCap) failed |= 4;
        void* const at = opaque(std::malloc(opaque_size(kCap)));
        if (at == nullptr || door::huge_counts().maps != maps + 2) failed |= 8;  // mapped
        std::free(at);
        if (!door::validate()) failed |= 16;
        std::_Exit(failed);
      },
      testing::ExitedWithCode(0), "");
}

// mallopt(M_MMAP_THRESHOLD, x) as glibc's: returns 1, a request of x bytes is then mapped on its own and one of x - 1
// comes from an arena, and free no longer raises the threshold (a freed huge block above x leaves it, and its size is
// mapped again). A lower value later is honoured too, and the ends of the range, kHugeThreshold and kMaxHugeThreshold,
// are accepted. In a child process (EXPECT_EXIT): the fixed threshold would stay for the other tests. The exit code's
// bits name the checks that failed.
TEST(MallocDoorDeathTest, MalloptMmapThresholdFixesTheThreshold) {
  EXPECT_EXIT(
      {
        constexpr std::size_t kFixed = std::size_t{4} << 20;
        int failed = 0;
        if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kFixed)) != 1) failed |= 1;
        if (door::huge_threshold() != kFixed || !door::huge_threshold_fixed()) failed |= 1;
        const std::size_t maps = door::huge_counts().maps;
        void* const at = opaque(std::malloc(opaque_size(kFixed)));
        if (at == nullptr || door::huge_counts().maps != maps + 1) failed |= 2;  // mapped
        void* const below = opaque(std::malloc(opaque_size(kFixed - 1)));
        if (below == nullptr || door::huge_counts().maps != maps + 1) failed |= 4;  // from an arena
        std::free(below);
        std::free(at);
        // Freed, a huge block of 8 MiB would raise a dynamic threshold above 8 MiB.
        std::free(opaque(std::malloc(opaque_size(std::size_t{8} << 20))));
        if (door::huge_threshold() != kFixed) failed |= 8;
        void* const again = opaque(std::malloc(opaque_size(std::size_t{8} << 20)));
        if (again == nullptr || door::huge_counts().maps != maps + 3) failed |= 16;  // mapped again
        std::free(again);
        // Lower: 3 MiB requests are mapped from now on.
        if (mallopt(M_MMAP_THRESHOLD, 3 << 20) != 1) failed |= 32;
        void* const lowered = opaque(std::malloc(opaque_size(std::size_t{3} << 20)));
        if (lowered == nullptr || door::huge_counts().maps != maps + 4) failed |= 32;
        std::free(lowered);
        if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(door::kHugeThreshold)) != 1 ||
            door::huge_threshold() != door::kHugeThreshold) {
          failed |= 64;
        }
        if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(door::kMaxHugeThreshold)) != 1 ||
            door::huge_threshold() != door::kMaxHugeThreshold) {
          failed |= 64;
        }
        if (!door::validate()) failed |= 128;
        std::_Exit(failed);
      },
      testing::ExitedWithCode(0), "");
}

// mallopt returns 0, and changes nothing, for what the drop-in does not honour (glibc's returns 1 for all of these):
// a threshold below kHugeThreshold or above kMaxHugeThreshold or negative, and every other parameter. The threshold
// stays dynamic: a freed huge block still raises it.
TEST(MallocDoor, MalloptRefusesWhatItDoesNotHonour) {
  const std::size_t threshold = door::huge_threshold();
  for (const int value :
       {0, 64 << 10, static_cast<int>(door::kHugeThreshold) - 1, static_cast<int>(door::kMaxHugeThreshold) + 1, -1}) {
    EXPECT_EQ(mallopt(M_MMAP_THRESHOLD, value), 0) << "M_MMAP_THRESHOLD " << value;
  }
  const std::pair<int, const char*> others[] = {{M_ARENA_MAX, "M_ARENA_MAX"},
                                                {M_ARENA_TEST, "M_ARENA_TEST"},
                                                {M_PERTURB, "M_PERTURB"},
                                                {M_TRIM_THRESHOLD, "M_TRIM_THRESHOLD"},
                                                {M_TOP_PAD, "M_TOP_PAD"},
                                                {M_MMAP_MAX, "M_MMAP_MAX"},
                                                {M_MXFAST, "M_MXFAST"},
                                                {M_CHECK_ACTION, "M_CHECK_ACTION"},
                                                {12345, "12345"}};
  for (const auto& [param, name] : others) {
    EXPECT_EQ(mallopt(param, 1), 0) << name;
    EXPECT_EQ(mallopt(param, 2 << 20), 0) << name;
  }
  EXPECT_EQ(door::huge_threshold(), threshold);
  EXPECT_FALSE(door::huge_threshold_fixed());
  if (threshold + (std::size_t{1} << 20) < door::kMaxHugeThreshold) {
    std::free(opaque(std::malloc(opaque_size(threshold + 4096))));
    expect_valid();
    EXPECT_GT(door::huge_threshold(), threshold) << "the threshold no longer rises";
  }
  expect_valid();
}

// Below the raised threshold a request goes to an arena; when no arena can serve it (no arena has a free block that
// large and none can grow), malloc and realloc map it on their own after all, as they did before the threshold rose
// (allocate_large, reallocate). In a child: the threshold raised above both sizes, then the address space limited
// (RLIMIT_AS) to what the child has plus less than the smallest partial chunk (kMinChunkBytes), so that no arena can
// grow, but more than either request's own mapping; blocks of kSize are malloc'ed until one is a fresh mapping, and a
// small arena block is realloc'ed to kGrown. Without the limit no block is mapped and the fill stops at its bound
// (exit bit 2), so the test passes only through the fallbacks. The exit code's bits name the checks that failed (64:
// the setup).
TEST(MallocDoorDeathTest, RequestNoArenaCanServeBelowTheRaisedThresholdIsMapped) {
#if defined(__riscv)
  GTEST_SKIP() << "qemu-user does not apply RLIMIT_AS to the guest (it would limit qemu's own mappings)";
#endif
  constexpr std::size_t kSize = door::kHugeThreshold + (std::size_t{64} << 10);
  constexpr std::size_t kGrown = kSize + (std::size_t{256} << 10);
  constexpr std::size_t kHeadroom = door::kMinChunkBytes - (std::size_t{256} << 10);
  static_assert(kGrown + 2 * 4096 <= kHeadroom, "the headroom must hold either request's mapping");
  constexpr int kMaxBlocks = 4096;  // 4.3 GiB of kSize blocks: more than the arenas of this process hold
  static void* blocks[kMaxBlocks];
  EXPECT_EXIT(
      {
        int failed = 0;
        if (door::huge_threshold() <= kGrown) std::free(opaque(std::malloc(opaque_size(kGrown + (64 << 10)))));
        auto* const small = static_cast<unsigned char*>(opaque(std::malloc(opaque_size(100))));
        const std::size_t used = nostd::preload_test::address_space_bytes();
        rlimit limit{};
        if (door::huge_threshold() <= kGrown || small == nullptr || used == 0 || getrlimit(RLIMIT_AS, &limit) != 0) {
          std::_Exit(64);
        }
        for (int i = 0; i < 100; ++i) small[i] = static_cast<unsigned char>(i);
        limit.rlim_cur = used + kHeadroom;
        if (setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(64);
        if (!door::validate()) failed |= 8;

        void* mapped = nullptr;
        for (int i = 0; i < kMaxBlocks && mapped == nullptr && (failed & 1) == 0; ++i) {
          const std::size_t maps = door::huge_counts().maps;
          blocks[i] = std::malloc(opaque_size(kSize));
          if (!door::validate()) failed |= 8;
          if (blocks[i] == nullptr) failed |= 1;
          if (blocks[i] != nullptr && door::huge_counts().maps != maps) mapped = blocks[i];
        }
        if (mapped == nullptr && (failed & 1) == 0) failed |= 2;
        if (mapped != nullptr) {
          std::memset(mapped, 0x5a, kSize);
          if (malloc_usable_size(mapped) < kSize) failed |= 4;
        }
        std::free(mapped);  // its address space back, for the realloc's mapping
        if (!door::validate()) failed |= 8;

        const std::size_t maps = door::huge_counts().maps;
        auto* const grown = static_cast<unsigned char*>(realloc_opaque(small, opaque_size(kGrown)));
        if (!door::validate()) failed |= 8;
        if (grown == nullptr) failed |= 16;
        if (grown != nullptr && door::huge_counts().maps != maps + 1) failed |= 32;
        for (int i = 0; grown != nullptr && i < 100; ++i) {
          if (grown[i] != i) failed |= 32;
        }
        std::_Exit(failed);
      },
      testing::ExitedWithCode(0), "");
}

// True when /proc/self/maps shows [base, base + bytes) strictly inside one larger mapping (the kernel merged it with
// both neighbours). Reads with read(2) into static storage: no allocation.
bool inside_larger_mapping(const std::byte* base, std::size_t bytes) {
  static char text[1 << 20];
  const int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return false;
  std::size_t length = 0;
  for (ssize_t got = 1; got > 0 && length < sizeof(text) - 1; length += static_cast<std::size_t>(got)) {
    got = read(fd, text + length, sizeof(text) - 1 - length);
    if (got < 0) got = 0;
  }
  close(fd);
  text[length] = '\0';
  const auto at = reinterpret_cast<std::uintptr_t>(base);
  for (char* line = text; *line != '\0';) {
    char* rest = nullptr;
    const std::uintptr_t start = std::strtoul(line, &rest, 16);
    const std::uintptr_t end = std::strtoul(rest + 1, nullptr, 16);
    if (start <= at && at < end) return start < at && at + bytes < end;
    char* const next = std::strchr(line, '\n');
    if (next == nullptr) break;
    line = next + 1;
  }
  return false;
}

// A huge block whose munmap the system refuses is counted as such, not as unmapped, and its pages are given back. The
// refusal is made real: the block's mapping is merged with a page mapped on each side (one mapping to the kernel), and
// the process's mappings are filled to vm.max_map_count, so that unmapping the block, which splits that mapping in
// three, fails with ENOMEM (what happened to programs with many over-aligned blocks). In a child process, whose exit
// code's bits name the checks that failed (3: the kernel kept the neighbours apart, or refused no munmap).
TEST(MallocDoorDeathTest, RefusedMunmapIsCountedAndThePagesReleased) {
#if defined(__riscv)
  GTEST_SKIP() << "qemu-user places and lists the guest's mappings itself: the host kernel's merging of neighbours and "
                  "vm.max_map_count do not show through";
#endif
  // The child maps single pages up to the limit: bounded here, so that a machine with a raised limit skips the case
  // rather than spend minutes mapping (65,530 is the kernel's default).
  std::FILE* const limit_file = std::fopen("/proc/sys/vm/max_map_count", "r");
  unsigned long limit = 0;
  const bool read = limit_file != nullptr && std::fscanf(limit_file, "%lu", &limit) == 1;
  if (limit_file != nullptr) std::fclose(limit_file);
  if (!read || limit > 1'000'000) GTEST_SKIP() << "vm.max_map_count unreadable or above 1,000,000: " << limit;
  EXPECT_EXIT(
      {
        const std::size_t page = door::page_size();
        const std::size_t size = huge_size();
        const std::size_t bytes = (size + sizeof(door::HugeHeader) + page - 1) & ~(page - 1);  // the block's mapping
        const int rw = PROT_READ | PROT_WRITE;
        const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
        // A gap of the block's mapping and two pages, its top page mapped: mmap places a mapping at the top of the
        // highest gap that holds it, so the block's goes right below that page, and a page mapped below it closes
        // the sandwich. Fresh anonymous mappings of one protection side by side are merged by the kernel.
        auto* const gap =
            static_cast<std::byte*>(mmap(nullptr, bytes + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (gap == MAP_FAILED || munmap(gap, bytes + 2 * page) != 0) std::_Exit(65);
        mmap(gap + page + bytes, page, rw, flags, -1, 0);
        auto* const p = static_cast<unsigned char*>(opaque(std::malloc(size)));
        std::byte* const base = reinterpret_cast<std::byte*>(p) - sizeof(door::HugeHeader);  // default alignment
        mmap(base - page, page, rw, flags, -1, 0);
        if (!inside_larger_mapping(base, bytes)) std::_Exit(64);
        p[100] = 0xab;
        // Read again after the free (through opaque: GCC's -Wuse-after-free cannot know the pages stay mapped).
        auto* const probe = static_cast<volatile unsigned char*>(opaque(p + 100));
        // Single pages of alternating protection (no two merge) until the kernel refuses one more mapping.
        for (int i = 0; mmap(nullptr, page, (i & 1) != 0 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
                        MAP_FAILED;
             ++i) {
        }
        const door::HugeBlocks::Counts before = door::huge_counts();
        std::free(p);
        const door::HugeBlocks::Counts after = door::huge_counts();
        int failed = 0;
        if (after.unmap_failures != before.unmap_failures + 1) failed |= 3;
        if (after.unmaps != before.unmaps) failed |= 4;
        if (after.live_bytes != before.live_bytes) failed |= 8;  // still mapped
        if (*probe != 0) failed |= 16;                           // MADV_DONTNEED: a zero page again
        if (!door::validate()) failed |= 32;
        std::_Exit(failed);
      },
      testing::ExitedWithCode(0), "");
}

// A foreign pointer at the start of a page whose predecessor is unmapped: the 32 bytes in front of it, where a huge
// block's header would be, cannot be read.
TEST(MallocDoorDeathTest, ForeignPointerAfterAnUnmappedPageStopsWithAMessage) {
  const std::size_t page = door::page_size();
  void* const raw = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  ASSERT_EQ(munmap(raw, page), 0);
  void* const second = static_cast<char*>(raw) + page;
  EXPECT_DEATH(std::free(opaque(second)), "nostd-malloc: invalid pointer");
  EXPECT_DEATH(g_sink_size = malloc_usable_size(opaque(second)), "nostd-malloc: invalid pointer");
  munmap(second, page);
}

TEST(MallocDoorDeathTest, OverwrittenHugeHeaderStopsWithAMessage) {
  EXPECT_DEATH(
      {
        auto* p = static_cast<unsigned char*>(opaque(std::malloc(huge_size())));
        volatile unsigned char* seal = p - 8;  // the header's seal word (an underflow by the program)
        *seal = static_cast<unsigned char>(*seal ^ 0xff);
        std::free(opaque(p));
      },
      "nostd-malloc: heap corrupted .*huge block's header was overwritten");
  // realloc and malloc_usable_size check the header before they read the size, and say which call found it.
  for (const std::size_t new_size : {std::size_t{4} << 20, std::size_t{64}}) {
    EXPECT_DEATH(
        {
          auto* p = static_cast<unsigned char*>(opaque(std::malloc(huge_size())));
          volatile unsigned char* seal = p - 8;
          *seal = static_cast<unsigned char>(*seal ^ 0xff);
          g_sink = std::realloc(opaque(p), opaque_size(new_size));
        },
        "nostd-malloc: heap corrupted .*realloc of a block whose header was overwritten");
  }
  EXPECT_DEATH(
      {
        auto* p = static_cast<unsigned char*>(opaque(std::malloc(huge_size())));
        volatile unsigned char* seal = p - 8;
        *seal = static_cast<unsigned char>(*seal ^ 0xff);
        g_sink_size = malloc_usable_size(opaque(p));
      },
      "nostd-malloc: heap corrupted .*malloc_usable_size of a block whose header was overwritten");
}

TEST(MallocDoorDeathTest, DoubleFreeStopsWithAMessage) {
  EXPECT_DEATH(
      {
        void* p = std::malloc(48);
        void* again = opaque(p);
        std::free(p);
        std::free(again);
      },
      "nostd-malloc: double free");
}

}  // namespace
