// tests/preload/arena_fallback.cc — a thread whose arena cannot grow is served from another arena's free memory,
// for //tests/preload:arena_fallback_test (run under the drop-in only, with NOSTD_MALLOC_ARENAS=4: it relies on the
// drop-in's arena assignment and 64 MiB chunks, which glibc's malloc does not have).
//
// Three threads take three arenas in the order of their first malloc (round-robin): the main thread arena 0, the
// realloc thread arena 1, the fresh thread arena 2. The main thread fills 48 MiB of its chunk and frees it; the realloc
// thread maps its arena's chunk with one small block; then the process limits its address space (RLIMIT_AS) to what
// it has plus 1 MiB, so that no arena can map another chunk, not even a partial one (2 MiB at least), and
//   - the realloc thread fills its arena with 960 KiB blocks (below the 1 MiB of a huge block) until one is refused or
//     served outside its chunk, then grows its small block and a 960 KiB one by realloc: neither fits in its arena;
//   - the fresh thread, whose arena has no chunk, calls malloc, calloc, posix_memalign and aligned_alloc, then asks
//     for 32 MiB in 64 KiB blocks, more than the limit lets anything map;
// each must succeed and leave errno as it was. Last, the fresh thread asks for 960 KiB blocks until one is refused:
// that one sets ENOMEM, and more than one chunk's worth came first (both other arenas' free memory served it).
// Without the fallback to another arena, every one of those calls failed with ENOMEM.
//
// C library calls only, linked --as-needed so that libstdc++ is not loaded. Each check prints "ok: ..." or
// "FAIL: ..." with write(2) (stdio would allocate); the exit status is 1 if any failed.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/preload/address_space.h"

namespace {

using nostd::preload_test::address_space_bytes;
using nostd::preload_test::say;

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;
constexpr std::size_t kChunkBytes = 64 * kMiB;  // platform/malloc/chunk_map.h
constexpr std::size_t kHeadroom = 1 * kMiB;     // under a partial chunk (2 MiB): no arena can map even one
constexpr std::size_t kSmall = 64 * kKiB;
constexpr std::size_t kLarge = 960 * kKiB;    // an arena block: below kHugeThreshold (1 MiB)
constexpr std::size_t kLarger = 1000 * kKiB;  // still an arena block
constexpr int kMainBlocks = 768;              // of kSmall: 48 MiB
constexpr int kFreshBlocks = 512;             // of kSmall: 32 MiB, more than kHeadroom
constexpr int kMaxLarge = 256;                // of kLarge: more than the two chunks hold
constexpr int kErrnoMark = 4321;

int g_failures = 0;  // written by one thread at a time (the others wait on a semaphore or in join)
sem_t g_realloc_start, g_realloc_ready, g_realloc_limited, g_fresh_start;
std::uintptr_t g_main_chunk = 0;

// Writes one line to stdout with write(2).
void write_line(const char* line, int n) {
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
}

// Prints "ok: what" or "FAIL: what (value)", counting failures; `value` is errno or a count, whichever tells more.
void check(bool ok, const char* what, long value = 0) {
  char line[256];
  if (ok) {
    write_line(line, std::snprintf(line, sizeof line, "ok: %s\n", what));
  } else {
    write_line(line, std::snprintf(line, sizeof line, "FAIL: %s (%ld)\n", what, value));
    ++g_failures;
  }
}

// The 64 MiB chunk holding `p` (the drop-in's chunks are aligned to their size).
std::uintptr_t chunk_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) / kChunkBytes; }

bool all_bytes(const void* p, unsigned char value, std::size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] != value) return false;
  }
  return true;
}

// Arena 1: its first block maps its chunk before the limit; after it, realloc of blocks its full arena cannot move.
void* realloc_thread(void*) {
  ::sem_wait(&g_realloc_start);
  auto* small = static_cast<unsigned char*>(std::malloc(100));
  ::sem_post(&g_realloc_ready);
  ::sem_wait(&g_realloc_limited);
  if (small == nullptr) {
    check(false, "the realloc thread's first malloc, before the limit", errno);
    return nullptr;
  }
  std::memset(small, 0x5a, 100);
  const std::uintptr_t own = chunk_of(small);
  check(own != g_main_chunk, "the realloc thread allocates in a chunk other than the main thread's (another arena)");

  // Fills the arena: stops at a refusal (no fallback) or at a block served outside the arena's chunk (fallback).
  static void* fill[kMaxLarge];
  int filled = 0;
  for (; filled < kMaxLarge; ++filled) {
    void* const block = std::malloc(kLarge);
    if (block == nullptr) break;
    if (chunk_of(block) != own) {
      std::free(block);
      break;
    }
    fill[filled] = block;
  }
  say("realloc thread: 960 KiB blocks in its own arena: ", filled);
  check(filled > 0 && static_cast<std::size_t>(filled) <= kChunkBytes / kLarge, "the realloc thread's arena is full",
        filled);

  errno = kErrnoMark;
  auto* const grown = static_cast<unsigned char*>(std::realloc(small, kLarge));
  check(grown != nullptr, "realloc(100 B -> 960 KiB) of a block whose arena is full and cannot grow", errno);
  if (grown != nullptr) {
    check(errno == kErrnoMark, "  ... leaves errno as it was", errno);
    check(all_bytes(grown, 0x5a, 100), "  ... keeps the block's 100 bytes");
    check(chunk_of(grown) != own, "  ... moved the block out of its full arena");
    small = grown;
  }

  if (filled > 0) {
    std::memset(fill[0], 0x3c, kLarge);
    errno = kErrnoMark;
    void* const larger = std::realloc(fill[0], kLarger);
    check(larger != nullptr, "realloc(960 KiB -> 1000 KiB) of a block whose arena is full and cannot grow", errno);
    if (larger != nullptr) {
      check(errno == kErrnoMark, "  ... leaves errno as it was", errno);
      check(all_bytes(larger, 0x3c, kLarge), "  ... keeps the block's 960 KiB");
      fill[0] = larger;
    }
  }
  for (int i = 0; i < filled; ++i) std::free(fill[i]);
  std::free(small);
  return nullptr;
}

// Arena 2: no chunk, and none can be mapped under the limit; every request is served by the other two arenas.
void* fresh_thread(void*) {
  ::sem_wait(&g_fresh_start);
  errno = kErrnoMark;
  void* const first = std::malloc(1000);
  check(first != nullptr, "malloc(1000) in a thread whose arena cannot map its first chunk", errno);
  if (first != nullptr) check(errno == kErrnoMark, "  ... leaves errno as it was", errno);

  errno = kErrnoMark;
  void* const zeroed = std::calloc(1000, 100);
  check(zeroed != nullptr, "calloc(1000, 100) there", errno);
  if (zeroed != nullptr) {
    check(errno == kErrnoMark, "  ... leaves errno as it was", errno);
    check(all_bytes(zeroed, 0, 1000 * 100), "  ... zeroed (the memory the main thread had filled with 0xa5)");
  }

  errno = kErrnoMark;
  void* aligned = nullptr;
  const int status = ::posix_memalign(&aligned, 4096, 10000);
  check(status == 0 && reinterpret_cast<std::uintptr_t>(aligned) % 4096 == 0, "posix_memalign(4096, 10000) there",
        status);
  check(errno == kErrnoMark, "  ... leaves errno as it was (posix_memalign never sets it)", errno);

  errno = kErrnoMark;
  void* const aligned_c = std::aligned_alloc(256, 3000);
  check(aligned_c != nullptr && reinterpret_cast<std::uintptr_t>(aligned_c) % 256 == 0,
        "aligned_alloc(256, 3000) there", errno);
  if (aligned_c != nullptr) check(errno == kErrnoMark, "  ... leaves errno as it was", errno);

  static void* blocks[kFreshBlocks];
  int served = 0;
  errno = kErrnoMark;
  for (; served < kFreshBlocks; ++served) {
    blocks[served] = std::malloc(kSmall);
    if (blocks[served] == nullptr) break;
    std::memset(blocks[served], served & 0xff, 64);
  }
  check(served == kFreshBlocks, "32 MiB in 64 KiB blocks there (more than the limit lets anything map)", served);
  if (served == kFreshBlocks) check(errno == kErrnoMark, "  ... leaves errno as it was", errno);

  // Exhaustion: the refusal still says ENOMEM, after more than one chunk's worth from the two other arenas.
  static void* large[kMaxLarge];
  int got = 0;
  errno = 0;
  for (; got < kMaxLarge; ++got) {
    large[got] = std::malloc(kLarge);
    if (large[got] == nullptr) break;
  }
  say("fresh thread: 960 KiB blocks before a refusal: ", got);
  check(got < kMaxLarge && errno == ENOMEM, "a malloc no arena can serve fails with ENOMEM", errno);
  check(static_cast<std::size_t>(got) > kChunkBytes / kLarge,
        "  ... after more blocks than one chunk holds (both other arenas served)", got);

  for (int i = 0; i < got; ++i) std::free(large[i]);
  for (int i = 0; i < served; ++i) {
    if (!all_bytes(blocks[i], static_cast<unsigned char>(i & 0xff), 64)) {
      check(false, "a 64 KiB block kept its bytes", i);
      break;
    }
    std::free(blocks[i]);
  }
  std::free(aligned_c);
  std::free(aligned);
  std::free(zeroed);
  std::free(first);
  return nullptr;
}

bool start_thread(pthread_t* thread, void* (*body)(void*)) {
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) != 0) return false;
  ::pthread_attr_setstacksize(&attr, 256 * kKiB);
  const bool ok = ::pthread_create(thread, &attr, body, nullptr) == 0;
  ::pthread_attr_destroy(&attr);
  return ok;
}

}  // namespace

int main() {
  if (std::getenv("NOSTD_MALLOC_ARENAS") == nullptr) {
    say("run under the drop-in with NOSTD_MALLOC_ARENAS=4 (tests/preload/arena_fallback_test.sh); arenas set: ", 0);
    return 2;
  }
  sem_t* const semaphores[] = {&g_realloc_start, &g_realloc_ready, &g_realloc_limited, &g_fresh_start};
  for (sem_t* s : semaphores) ::sem_init(s, 0, 0);

  // Arena 0: 48 MiB filled with 0xa5 and freed, all but the last block.
  static void* blocks[kMainBlocks];
  for (int i = 0; i < kMainBlocks; ++i) {
    blocks[i] = std::malloc(kSmall);
    if (blocks[i] == nullptr) {
      say("the main thread's malloc failed before the limit; blocks: ", i);
      return 2;
    }
    std::memset(blocks[i], 0xa5, kSmall);
  }
  g_main_chunk = chunk_of(blocks[0]);
  for (int i = 0; i + 1 < kMainBlocks; ++i) std::free(blocks[i]);

  pthread_t realloc_id, fresh_id;
  if (!start_thread(&realloc_id, realloc_thread) || !start_thread(&fresh_id, fresh_thread)) {
    say("pthread_create failed, errno ", errno);
    return 2;
  }
  ::sem_post(&g_realloc_start);
  ::sem_wait(&g_realloc_ready);

  const std::size_t used = address_space_bytes();
  const rlimit limit{used + kHeadroom, used + kHeadroom};
  if (used == 0 || ::setrlimit(RLIMIT_AS, &limit) != 0) {
    say("cannot limit the address space, errno ", errno);
    return 2;
  }
  ::sem_post(&g_realloc_limited);
  ::pthread_join(realloc_id, nullptr);
  ::sem_post(&g_fresh_start);
  ::pthread_join(fresh_id, nullptr);
  std::free(blocks[kMainBlocks - 1]);
  say("failures: ", g_failures);
  return g_failures == 0 ? 0 : 1;
}
