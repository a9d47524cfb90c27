// tests/preload/partial_chunk.cc MODE — partial chunks: an arena under a limit on the address space (RLIMIT_AS) that
// cannot map a whole 64 MiB chunk maps a smaller one at the start of a 64 MiB slot and leaves the slot's tail unmapped
// (platform/malloc/chunk_map.h). For //tests/preload:address_limit_test. The program limits itself to the address
// space it has plus 100 MiB, room for one whole chunk and not a second, then:
//   fill       mallocs 1000-byte blocks until one is refused and prints "blocks: N"; more than one chunk's worth must
//              come (asserted by the caller). Before partial chunks the drop-in served 64 MiB and stopped.
//   huge       fills until a block lands outside the first chunk's slot (in a partial chunk), finds the partial chunk's
//              unmapped tail in /proc/self/maps, lifts the limit and mallocs huge blocks (their own mappings) until the
//              kernel places one in that tail; then writes, sizes (malloc_usable_size), grows (realloc) and frees it,
//              which must go to the huge blocks and not to the arena that owns the slot.
//   tail_free  as huge up to the tail, then maps a page of its own there with mmap and frees a pointer into it: a
//              program bug, which the drop-in must report (SIGABRT and a line on stderr), not crash on.
// Exit 0 when every step passed, 1 on a failed step, 3 when the layout needed could not be set up.
//
// C library calls only, linked --as-needed (as address_limit.cc), so that the first malloc is made under the limit.
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
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

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kHeadroom = 100 * kMiB;
constexpr std::uintptr_t kSlotBytes = 64 * kMiB;  // kChunkBytes in platform/malloc/chunk_map.h
constexpr std::size_t kBlock = 1000;
constexpr int kMaxBlocks = 200000;  // more than 100 MiB of 1000-byte blocks
constexpr int kMaxHugeTries = 32;

void* g_blocks[kMaxBlocks];
int g_count = 0;

std::uintptr_t slot_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) & ~(kSlotBytes - 1); }

// The mapping of /proc/self/maps that contains `at` as [*lo, *hi), and the start of the next mapping above it (or
// UINTPTR_MAX) as *next. False when no mapping contains `at`. Reads into a static buffer: no allocation.
bool mapping_around(std::uintptr_t at, std::uintptr_t* lo, std::uintptr_t* hi, std::uintptr_t* next) {
  static char text[1 << 20];
  const int fd = ::open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return false;
  std::size_t size = 0;
  for (ssize_t n; (n = ::read(fd, text + size, sizeof text - 1 - size)) > 0;) size += static_cast<std::size_t>(n);
  ::close(fd);
  text[size] = '\0';
  bool found = false;
  *next = UINTPTR_MAX;
  for (char* line = text; *line != '\0';) {
    char* end = nullptr;
    const std::uintptr_t start = std::strtoull(line, &end, 16);
    const std::uintptr_t stop = std::strtoull(end + 1, nullptr, 16);
    if (found && start >= *hi && start < *next) *next = start;
    if (start <= at && at < stop) {
      *lo = start;
      *hi = stop;
      found = true;
    }
    char* const newline = std::strchr(line, '\n');
    if (newline == nullptr) break;
    line = newline + 1;
  }
  return found;
}

bool limit_address_space() {
  const std::size_t used = address_space_bytes();
  rlimit limit{};
  if (used == 0 || ::getrlimit(RLIMIT_AS, &limit) != 0) return false;
  limit.rlim_cur = used + kHeadroom;  // the hard limit stays, so that lift_limit can raise it again
  return ::setrlimit(RLIMIT_AS, &limit) == 0;
}

bool lift_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) != 0) return false;
  limit.rlim_cur = limit.rlim_max;
  return ::setrlimit(RLIMIT_AS, &limit) == 0;
}

int fill() {
  for (; g_count < kMaxBlocks; ++g_count) {
    g_blocks[g_count] = std::malloc(kBlock);
    if (g_blocks[g_count] == nullptr) break;
    std::memset(g_blocks[g_count], g_count & 0xff, 16);
  }
  say("blocks: ", g_count);
  for (int i = 0; i < g_count; ++i) {
    if (static_cast<unsigned char*>(g_blocks[i])[15] != (i & 0xff)) {
      say("FAIL: block overwritten: ", i);
      return 1;
    }
    std::free(g_blocks[i]);
  }
  return 0;
}

// Fills until a block lands outside the first block's slot, and returns the tail of that block's slot as [*tail,
// *tail_end): the free address space after the partial chunk, up to the slot's end or the next mapping. 0 when the
// layout is not there (no second chunk, a whole one, or no tail).
int find_tail(std::uintptr_t* tail, std::uintptr_t* tail_end) {
  const std::uintptr_t first_slot = slot_of(g_blocks[0]);
  std::uintptr_t slot = first_slot;
  for (g_count = 1; g_count < kMaxBlocks && slot == first_slot; ++g_count) {
    g_blocks[g_count] = std::malloc(kBlock);
    if (g_blocks[g_count] == nullptr) {
      say("setup: malloc refused before a second chunk; blocks: ", g_count);
      return 3;
    }
    slot = slot_of(g_blocks[g_count]);
  }
  std::uintptr_t lo = 0, hi = 0, next = 0;
  if (!mapping_around(slot, &lo, &hi, &next)) {
    say("setup: the second chunk's slot start is not mapped; slot: ", static_cast<long>(slot));
    return 3;
  }
  if (hi >= slot + kSlotBytes) {
    say("setup: the second chunk is a whole one (no partial chunk); mapped bytes in its slot: ",
        static_cast<long>(hi - slot));
    return 3;
  }
  say("partial chunk bytes: ", static_cast<long>(hi - slot));
  *tail = hi;
  *tail_end = next < slot + kSlotBytes ? next : slot + kSlotBytes;
  if (*tail_end - *tail < 2 * kMiB) {
    say("setup: the tail is too small for a huge block; bytes: ", static_cast<long>(*tail_end - *tail));
    return 3;
  }
  return 0;
}

int huge_in_tail(std::uintptr_t tail, std::uintptr_t tail_end) {
  // The kernel places a mapping in the highest free gap that holds it (below the mapping base): one a little smaller
  // than the tail goes there once the gaps above it are taken, by earlier tries that are kept until the end.
  const std::size_t size = tail_end - tail - 2 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* tries[kMaxHugeTries];
  int placed = -1;
  int n = 0;
  for (; n < kMaxHugeTries && placed < 0; ++n) {
    tries[n] = std::malloc(size);
    if (tries[n] == nullptr) {
      say("setup: a huge block was refused; tries: ", n);
      return 3;
    }
    const auto at = reinterpret_cast<std::uintptr_t>(tries[n]);
    if (tail <= at && at < tail_end) placed = n;
  }
  if (placed < 0) {
    say("setup: no huge block landed in the partial chunk's tail; tries: ", n);
    return 3;
  }
  say("huge block in the partial chunk's tail after tries: ", n);
  auto* const block = static_cast<unsigned char*>(tries[placed]);
  std::memset(block, 0x7e, size);
  if (::malloc_usable_size(block) < size) {
    say("FAIL: malloc_usable_size of the huge block in the tail: ", static_cast<long>(::malloc_usable_size(block)));
    return 1;
  }
  auto* const grown = static_cast<unsigned char*>(std::realloc(block, size + kMiB));
  if (grown == nullptr || grown[0] != 0x7e || grown[size - 1] != 0x7e) {
    say("FAIL: realloc of the huge block in the tail, errno ", errno);
    return 1;
  }
  tries[placed] = grown;
  for (int i = 0; i < n; ++i) std::free(tries[i]);
  for (int i = 0; i < g_count; ++i) std::free(g_blocks[i]);
  say("ok: huge block in a partial chunk's tail sized, grown and freed; blocks: ", g_count);
  return 0;
}

int free_in_tail(std::uintptr_t tail) {
  void* const hint = reinterpret_cast<void*>(tail);
  void* const page =
      ::mmap(hint, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (page != hint) {
    say("setup: cannot map a page at the tail, errno ", errno);
    return 3;
  }
  say("freeing a pointer into the program's own page in a partial chunk's tail at offset ",
      static_cast<long>(tail & (kSlotBytes - 1)));
  // Through a volatile: the compiler (-Wfree-nonheap-object, an error with -Werror) sees that this is no heap pointer;
  // the mistake is the point here.
  void* volatile foreign = static_cast<char*>(page) + 16;
  std::free(foreign);  // must be reported: the drop-in aborts here
  say("FAIL: free of a pointer into the tail returned; offset ", static_cast<long>(tail & (kSlotBytes - 1)));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    say("usage: partial_chunk fill|huge|tail_free; arguments: ", argc);
    return 2;
  }
  const char* const mode = argv[1];
  if (!limit_address_space()) {
    say("cannot limit the address space, errno ", errno);
    return 2;
  }
  g_blocks[0] = std::malloc(kBlock);
  if (g_blocks[0] == nullptr) {
    say("FAIL: the first malloc under the limit, errno ", errno);
    return 1;
  }
  if (std::strcmp(mode, "fill") == 0) {
    g_count = 1;
    return fill();
  }
  std::uintptr_t tail = 0, tail_end = 0;
  if (const int status = find_tail(&tail, &tail_end); status != 0) return status;
  if (!lift_limit()) {
    say("cannot lift the limit, errno ", errno);
    return 2;
  }
  if (std::strcmp(mode, "huge") == 0) return huge_in_tail(tail, tail_end);
  if (std::strcmp(mode, "tail_free") == 0) return free_in_tail(tail);
  say("unknown mode; arguments: ", argc);
  return 2;
}
