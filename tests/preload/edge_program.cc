// tests/preload/edge_program.cc — the malloc family's answers to bad and edge-case input, as a program sees them, for
// //tests/preload:edge_test, which runs it with glibc and under the drop-in and compares the two outputs line by line.
// Each line is one case, `call: result`, and the result holds only what a program can rely on, never an address or a
// size an allocator chooses:
//
//   null errno=ENOMEM                        the call failed; errno after it (`kept`: the value set before the call)
//   block errno=kept aligned=64 usable=yes   the call succeeded: the block is aligned to 64 (the alignment asked
//                                            for, or the one the call promises), malloc_usable_size is at least the
//                                            request, and its usable bytes (a sample of a large block) were written
//                                            and read back
//   ret=EINVAL errno=kept out=kept           posix_memalign's result, errno after it and whether it wrote *out
//
// plus, where the case is about contents, `zeroed=yes` (calloc of memory freed dirty) or `kept=yes` (realloc's old
// bytes, after a move, a shrink or a failure). The last line is `end`, so that a program stopped half-way is seen.
// C library calls only, linked --as-needed: the first malloc is the program's own. Sizes and alignments pass through
// opaque() so that the compiler neither folds a call whose result it thinks it knows nor warns about a size it sees.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace {

constexpr int kSentinel = 4321;  // errno before every call: `kept` when the call left it alone
constexpr std::size_t kPtrdiffMax = PTRDIFF_MAX;

volatile std::size_t g_opaque;  // opaque(): the compiler cannot know what a value read from here is
std::size_t opaque(std::size_t value) {
  g_opaque = value;
  return g_opaque;
}

// Writes one line to stdout with write(2): stdio would allocate between a call and its report.
[[gnu::format(printf, 1, 2)]] void say(const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(line, sizeof line - 1, format, args);
  va_end(args);
  if (n <= 0) return;
  const std::size_t length =
      static_cast<std::size_t>(n) < sizeof line - 1 ? static_cast<std::size_t>(n) : sizeof line - 2;
  line[length] = '\n';
  (void)!::write(STDOUT_FILENO, line, length + 1);
}

// errno's value as the lines print it: `kept` for kSentinel, a name for the two the family sets.
const char* errno_name(int value) {
  static char others[2][16];  // two, for the two errno values of one line
  static int next = 0;
  if (value == kSentinel) return "kept";
  if (value == ENOMEM) return "ENOMEM";
  if (value == EINVAL) return "EINVAL";
  char* const other = others[next++ % 2];
  std::snprintf(other, sizeof others[0], "%d", value);
  return other;
}

const char* yes_no(bool value) { return value ? "yes" : "no"; }

bool aligned(const void* p, std::size_t align) { return reinterpret_cast<std::uintptr_t>(p) % align == 0; }

// The bytes of a block the checks below write and read: all of the first 64 KiB, then one in 65,537 (2^16 + 1: a
// sample at a different offset in each page it touches). Every byte of the 40 MiB blocks took the program 15 s, most
// of it page faults. The samples do not depend on the block's size, so that a pattern written over a block can be
// read back over a prefix of it (realloc's shrinks).
std::size_t next_sampled(std::size_t i) {
  constexpr std::size_t kWhole = std::size_t{64} << 10;
  return i + 1 < kWhole ? i + 1 : i + kWhole + 1;
}

// Writes a pattern over the sampled bytes of `bytes` at `p` and its last 64 bytes, and reads them back.
bool writable(void* p, std::size_t bytes) {
  auto* const bytes_at = static_cast<volatile unsigned char*>(p);
  const auto value = [](std::size_t i) { return static_cast<unsigned char>(i * 7 + 1); };
  const std::size_t tail = bytes > 64 ? bytes - 64 : 0;
  for (std::size_t i = 0; i < bytes; i = next_sampled(i)) bytes_at[i] = value(i);
  for (std::size_t i = tail; i < bytes; ++i) bytes_at[i] = value(i);
  for (std::size_t i = 0; i < bytes; i = next_sampled(i)) {
    if (bytes_at[i] != value(i)) return false;
  }
  for (std::size_t i = tail; i < bytes; ++i) {
    if (bytes_at[i] != value(i)) return false;
  }
  return true;
}

// The result of a call that returns a block: `null errno=...`, or `block errno=... aligned=A usable=yes|no` (usable:
// malloc_usable_size at least `request`, and the usable bytes writable). The block is freed, unless `keep`.
void say_block(const char* call, void* p, int error, std::size_t request, std::size_t align, bool keep = false) {
  if (p == nullptr) {
    say("%s: null errno=%s", call, errno_name(error));
    return;
  }
  const std::size_t usable = malloc_usable_size(p);
  say("%s: block errno=%s aligned=%zu usable=%s", call, errno_name(error), aligned(p, align) ? align : std::size_t{0},
      yes_no(usable >= request && writable(p, usable)));
  if (!keep) std::free(p);
}

// A block of `size` bytes holding the pattern of `seed` (pattern_kept reads it).
void* patterned(std::size_t size, unsigned seed) {
  auto* const p = static_cast<unsigned char*>(std::malloc(size));
  if (p == nullptr) return nullptr;
  for (std::size_t i = 0; i < size; i = next_sampled(i)) p[i] = static_cast<unsigned char>(i * 13 + seed);
  return p;
}

bool pattern_kept(const void* p, std::size_t size, unsigned seed) {
  const auto* const bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < size; i = next_sampled(i)) {
    if (bytes[i] != static_cast<unsigned char>(i * 13 + seed)) return false;
  }
  return true;
}

bool all_zero(const void* p, std::size_t size) {
  const auto* const bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

constexpr std::size_t kMallocAlign = alignof(std::max_align_t);

// posix_memalign(&out, align, size): ret, errno after it, and whether *out was written (only on success, POSIX).
void say_posix_memalign(const char* call, std::size_t align, std::size_t size) {
  void* out = &out;  // a value no allocator returns
  errno = kSentinel;
  const int ret = posix_memalign(&out, opaque(align), opaque(size));
  const int error = errno;
  if (ret != 0) {
    say("%s: ret=%s errno=%s out=%s", call, errno_name(ret), errno_name(error), out == &out ? "kept" : "written");
    return;
  }
  const std::size_t usable = malloc_usable_size(out);
  say("%s: ret=0 errno=%s aligned=%zu usable=%s", call, errno_name(error), aligned(out, align) ? align : std::size_t{0},
      yes_no(usable >= size && writable(out, usable)));
  std::free(out);
}

// ---- zero sizes: a unique block each, that can be freed ----
void zero_sizes() {
  errno = kSentinel;
  void* p = std::malloc(opaque(0));
  say_block("malloc(0)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = std::calloc(opaque(0), 8);
  say_block("calloc(0, 8)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = std::calloc(8, opaque(0));
  say_block("calloc(8, 0)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = std::realloc(nullptr, opaque(0));
  say_block("realloc(NULL, 0)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = std::calloc(opaque(0), opaque(SIZE_MAX));
  say_block("calloc(0, SIZE_MAX)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = std::calloc(opaque(SIZE_MAX), opaque(0));
  say_block("calloc(SIZE_MAX, 0)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = reallocarray(nullptr, opaque(0), 8);
  say_block("reallocarray(NULL, 0, 8)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = reallocarray(nullptr, opaque(0), opaque(SIZE_MAX));
  say_block("reallocarray(NULL, 0, SIZE_MAX)", p, errno, 0, kMallocAlign);
  errno = kSentinel;
  p = std::aligned_alloc(opaque(std::size_t{2} << 20), opaque(0));
  say_block("aligned_alloc(2 MiB, 0)", p, errno, 0, std::size_t{2} << 20);
  errno = kSentinel;
  p = std::aligned_alloc(opaque(64), opaque(0));
  say_block("aligned_alloc(64, 0)", p, errno, 0, 64);
  errno = kSentinel;
  p = memalign(opaque(64), opaque(0));
  say_block("memalign(64, 0)", p, errno, 0, 64);
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  errno = kSentinel;
  p = valloc(opaque(0));
  say_block("valloc(0)", p, errno, 0, page);
  // pvalloc rounds the size up to whole pages: the block of pvalloc(0) holds one page in the drop-in and a minimum
  // block in glibc 2.36 (a documented difference: the line asks for a page).
  errno = kSentinel;
  p = pvalloc(opaque(0));
  say_block("pvalloc(0), a page usable", p, errno, page, page);
  errno = kSentinel;
  p = pvalloc(opaque(1));
  say_block("pvalloc(1)", p, errno, page, page);
  say_posix_memalign("posix_memalign(&p, 64, 0)", 64, 0);
}

// ---- requests no allocator can meet: NULL and ENOMEM ----
void too_large() {
  const struct {
    const char* call;
    std::size_t size;
  } sizes[] = {
      {"malloc(SIZE_MAX)", SIZE_MAX},
      {"malloc(SIZE_MAX - 4096)", SIZE_MAX - 4096},
      {"malloc(PTRDIFF_MAX + 1)", kPtrdiffMax + 1},
      {"malloc(PTRDIFF_MAX)", kPtrdiffMax},
  };
  for (const auto& [call, size] : sizes) {
    errno = kSentinel;
    void* const p = std::malloc(opaque(size));
    say_block(call, p, errno, size, kMallocAlign);
  }
  const struct {
    const char* call;
    std::size_t count, size;
  } arrays[] = {
      {"calloc(SIZE_MAX / 2 + 1, 2), overflows", SIZE_MAX / 2 + 1, 2},
      {"calloc(2^33, 2^33), overflows", std::size_t{1} << 33, std::size_t{1} << 33},
      {"calloc(SIZE_MAX, SIZE_MAX), overflows", SIZE_MAX, SIZE_MAX},
      {"calloc(SIZE_MAX / 2, 2)", SIZE_MAX / 2, 2},
      {"calloc(1, PTRDIFF_MAX + 1)", 1, kPtrdiffMax + 1},
  };
  for (const auto& [call, count, size] : arrays) {
    errno = kSentinel;
    void* const p = std::calloc(opaque(count), opaque(size));
    say_block(call, p, errno, 0, kMallocAlign);
  }
  errno = kSentinel;
  void* p = std::aligned_alloc(opaque(64), opaque(SIZE_MAX));
  say_block("aligned_alloc(64, SIZE_MAX)", p, errno, 0, 64);
  errno = kSentinel;
  p = memalign(opaque(64), opaque(SIZE_MAX));
  say_block("memalign(64, SIZE_MAX)", p, errno, 0, 64);
  errno = kSentinel;
  p = valloc(opaque(SIZE_MAX));
  say_block("valloc(SIZE_MAX)", p, errno, 0, 1);
  errno = kSentinel;
  p = pvalloc(opaque(SIZE_MAX));
  say_block("pvalloc(SIZE_MAX)", p, errno, 0, 1);
  errno = kSentinel;
  p = reallocarray(nullptr, opaque(SIZE_MAX / 2), 4);
  say_block("reallocarray(NULL, SIZE_MAX / 2, 4), overflows", p, errno, 0, kMallocAlign);
}

// ---- realloc and reallocarray that fail: NULL, ENOMEM, the old block untouched and still the caller's ----
void failed_resizes() {
  const std::size_t kSmall = 100;
  const std::size_t kHuge = std::size_t{40} << 20;  // above every threshold: its own mapping in glibc and the drop-in
  for (const std::size_t old_size : {kSmall, kHuge}) {
    const char* const what = old_size == kSmall ? "100-byte p" : "40 MiB p";
    const struct {
      const char* call;
      std::size_t count, size;  // count 0: realloc(p, size); else reallocarray(p, count, size)
    } requests[] = {
        {"realloc(%s, SIZE_MAX)", 0, SIZE_MAX},
        {"realloc(%s, SIZE_MAX - 4096)", 0, SIZE_MAX - 4096},
        {"realloc(%s, PTRDIFF_MAX + 1)", 0, kPtrdiffMax + 1},
        {"realloc(%s, PTRDIFF_MAX)", 0, kPtrdiffMax},
        {"reallocarray(%s, SIZE_MAX / 2, 4), overflows", SIZE_MAX / 2, 4},
        {"reallocarray(%s, 2^33, 2^33), overflows", std::size_t{1} << 33, std::size_t{1} << 33},
        {"reallocarray(%s, PTRDIFF_MAX / 8 + 1, 8)", kPtrdiffMax / 8 + 1, 8},
    };
    for (const auto& request : requests) {
      char call[96];
      std::snprintf(call, sizeof call, request.call, what);
      void* const p = patterned(old_size, 3);
      if (p == nullptr) {
        say("%s: the old block could not be allocated", call);
        continue;
      }
      errno = kSentinel;
      void* const q = request.count == 0 ? std::realloc(p, opaque(request.size))
                                         : reallocarray(p, opaque(request.count), opaque(request.size));
      const int error = errno;
      if (q != nullptr) {
        say_block(call, q, error, request.size, kMallocAlign);
        continue;
      }
      // Still the caller's: its bytes as they were, writable, and a realloc that can succeed moves them.
      const bool kept = pattern_kept(p, old_size, 3);
      void* const grown = std::realloc(p, old_size * 2);
      const bool moved = grown != nullptr && pattern_kept(grown, old_size, 3) && writable(grown, old_size * 2);
      say("%s: null errno=%s kept=%s then grows=%s", call, errno_name(error), yes_no(kept), yes_no(moved));
      std::free(grown != nullptr ? grown : p);
    }
  }
}

// ---- realloc that succeeds, and realloc(p, 0) ----
void resizes() {
  errno = kSentinel;
  void* p = std::realloc(nullptr, opaque(100));
  say_block("realloc(NULL, 100)", p, errno, 100, kMallocAlign);
  const struct {
    const char* call;
    std::size_t from, to;
  } moves[] = {
      {"realloc(100-byte p, 10), shrinks", 100, 10},
      {"realloc(100-byte p, 100000), grows", 100, 100000},
      {"realloc(100-byte p, 40 MiB), to a mapping", 100, std::size_t{40} << 20},
      {"realloc(40 MiB p, 100), from a mapping", std::size_t{40} << 20, 100},
      {"realloc(40 MiB p, 80 MiB), a mapping grows", std::size_t{40} << 20, std::size_t{80} << 20},
      {"realloc(40 MiB p, 20 MiB), a mapping shrinks", std::size_t{40} << 20, std::size_t{20} << 20},
  };
  for (const auto& [call, from, to] : moves) {
    p = patterned(from, 5);
    errno = kSentinel;
    void* const q = std::realloc(p, opaque(to));
    const int error = errno;
    const std::size_t common = from < to ? from : to;
    if (q == nullptr) {
      say("%s: null errno=%s", call, errno_name(error));
      std::free(p);
      continue;
    }
    const bool kept = pattern_kept(q, common, 5);
    say("%s: block errno=%s kept=%s usable=%s", call, errno_name(error), yes_no(kept),
        yes_no(malloc_usable_size(q) >= to && writable(q, to)));
    std::free(q);
  }
  // glibc frees the block and returns NULL, errno untouched (C23 leaves the call undefined).
  for (const std::size_t size : {std::size_t{100}, std::size_t{40} << 20}) {
    p = patterned(size, 7);
    errno = kSentinel;
    void* const q = std::realloc(p, opaque(0));
    say("realloc(%s p, 0): %s errno=%s", size == 100 ? "100-byte" : "40 MiB", q == nullptr ? "null" : "block",
        errno_name(errno));
    if (q != nullptr) std::free(q);
    p = patterned(size, 7);
    errno = kSentinel;
    void* const r = reallocarray(p, opaque(SIZE_MAX), opaque(0));
    say("reallocarray(%s p, SIZE_MAX, 0): %s errno=%s", size == 100 ? "100-byte" : "40 MiB",
        r == nullptr ? "null" : "block", errno_name(errno));
    if (r != nullptr) std::free(r);
  }
  p = patterned(40, 9);
  errno = kSentinel;
  void* const q = reallocarray(p, opaque(100), 8);
  if (q == nullptr) {
    say("reallocarray(40-byte p, 100, 8): null errno=%s", errno_name(errno));
    std::free(p);
  } else {
    const int error = errno;
    const bool kept = pattern_kept(q, 40, 9);  // before writable() writes over it
    say("reallocarray(40-byte p, 100, 8): block errno=%s kept=%s usable=%s", errno_name(error), yes_no(kept),
        yes_no(malloc_usable_size(q) >= 800 && writable(q, 800)));
    std::free(q);
  }
}

// ---- calloc zeroes memory freed dirty ----
void calloc_zeroes() {
  for (const std::size_t size : {std::size_t{24}, std::size_t{1000}, std::size_t{100000}, std::size_t{3} << 20}) {
    void* const dirty = std::malloc(size);
    if (dirty != nullptr) std::memset(dirty, 0xa5, size);
    std::free(dirty);
    errno = kSentinel;
    void* const p = std::calloc(opaque(1), opaque(size));
    const int error = errno;
    if (p == nullptr) {
      say("calloc(1, %zu) after a dirty free: null errno=%s", size, errno_name(error));
      continue;
    }
    say("calloc(1, %zu) after a dirty free: block errno=%s zeroed=%s usable=%s", size, errno_name(error),
        yes_no(all_zero(p, size)), yes_no(malloc_usable_size(p) >= size));
    std::free(p);
  }
}

// ---- alignments that are not valid, and valid ones that cannot be met ----
void bad_alignments() {
  const std::size_t half = SIZE_MAX / 2 + 1;
  say_posix_memalign("posix_memalign(&p, 0, 16)", 0, 16);
  say_posix_memalign("posix_memalign(&p, 3, 16)", 3, 16);
  say_posix_memalign("posix_memalign(&p, sizeof(void*) / 2, 16)", sizeof(void*) / 2, 16);
  say_posix_memalign("posix_memalign(&p, 1, 16)", 1, 16);
  say_posix_memalign("posix_memalign(&p, 3 * sizeof(void*), 16)", 3 * sizeof(void*), 16);
  say_posix_memalign("posix_memalign(&p, 96, 16)", 96, 16);
  say_posix_memalign("posix_memalign(&p, sizeof(void*), 16)", sizeof(void*), 16);
  say_posix_memalign("posix_memalign(&p, 1 << 40, 16)", std::size_t{1} << 40, 16);
  say_posix_memalign("posix_memalign(&p, SIZE_MAX / 2 + 1, 16)", half, 16);
  say_posix_memalign("posix_memalign(&p, SIZE_MAX, 16)", SIZE_MAX, 16);
  say_posix_memalign("posix_memalign(&p, 64, SIZE_MAX)", 64, SIZE_MAX);
  say_posix_memalign("posix_memalign(&p, 64, PTRDIFF_MAX + 1)", 64, kPtrdiffMax + 1);

  // aligned_alloc: a size that is no multiple of the alignment is accepted (C17, DR 460).
  const struct {
    const char* call;
    std::size_t align, size, promised;  // promised: the alignment the block must have when the call succeeds
  } aligned_allocs[] = {
      {"aligned_alloc(64, 100)", 64, 100, 64},
      {"aligned_alloc(4096, 1)", 4096, 1, 4096},
      {"aligned_alloc(1, 16)", 1, 16, 1},
      {"aligned_alloc(0, 16)", 0, 16, 1},
      {"aligned_alloc(3, 64)", 3, 64, 4},
      {"aligned_alloc(24, 48)", 24, 48, 32},
      {"aligned_alloc(1 << 40, 16)", std::size_t{1} << 40, 16, std::size_t{1} << 40},
      {"aligned_alloc(SIZE_MAX / 2 + 1, 16)", half, 16, half},
      {"aligned_alloc(SIZE_MAX, 16)", SIZE_MAX, 16, 1},
  };
  for (const auto& [call, align, size, promised] : aligned_allocs) {
    errno = kSentinel;
    void* const p = std::aligned_alloc(opaque(align), opaque(size));
    say_block(call, p, errno, size, promised);
  }
  // memalign rounds an alignment up to a power of two, and refuses (EINVAL) only one it cannot round.
  const struct {
    const char* call;
    std::size_t align, size, promised;
  } memaligns[] = {
      {"memalign(0, 24)", 0, 24, kMallocAlign},
      {"memalign(3, 10)", 3, 10, 4},
      {"memalign(24, 10)", 24, 10, 32},
      {"memalign(4000, 10)", 4000, 10, 4096},
      {"memalign(1 << 40, 16)", std::size_t{1} << 40, 16, std::size_t{1} << 40},
      {"memalign(SIZE_MAX / 2 + 1, 16)", half, 16, half},
      {"memalign(SIZE_MAX / 2 + 2, 16)", half + 1, 16, 1},
      {"memalign(SIZE_MAX, 16)", SIZE_MAX, 16, 1},
  };
  for (const auto& [call, align, size, promised] : memaligns) {
    errno = kSentinel;
    void* const p = memalign(opaque(align), opaque(size));
    say_block(call, p, errno, size, promised);
  }
}

// ---- large alignments, each call: aligned, and every usable byte writable ----
void large_alignments() {
  for (const std::size_t align : {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{2} << 20}) {
    for (const std::size_t size : {std::size_t{100}, align + 1}) {
      char call[80];
      std::snprintf(call, sizeof call, "posix_memalign(&p, %zu KiB, %zu)", align >> 10, size);
      say_posix_memalign(call, align, size);
      std::snprintf(call, sizeof call, "aligned_alloc(%zu KiB, %zu)", align >> 10, size);
      errno = kSentinel;
      void* p = std::aligned_alloc(opaque(align), opaque(size));
      say_block(call, p, errno, size, align);
      std::snprintf(call, sizeof call, "memalign(%zu KiB, %zu)", align >> 10, size);
      errno = kSentinel;
      p = memalign(opaque(align), opaque(size));
      say_block(call, p, errno, size, align);
    }
    // A realloc of an over-aligned block keeps its bytes (the new block need only be malloc-aligned).
    void* p = nullptr;
    char call[80];
    std::snprintf(call, sizeof call, "realloc(%zu KiB-aligned p, 3 MiB)", align >> 10);
    if (posix_memalign(&p, align, 1000) != 0) {
      say("%s: the old block could not be allocated", call);
      continue;
    }
    for (std::size_t i = 0; i < 1000; ++i) static_cast<unsigned char*>(p)[i] = static_cast<unsigned char>(i * 13 + 11);
    errno = kSentinel;
    void* const q = std::realloc(p, opaque(std::size_t{3} << 20));
    const int error = errno;
    if (q == nullptr) {
      say("%s: null errno=%s", call, errno_name(error));
      std::free(p);
      continue;
    }
    const bool kept = pattern_kept(q, 1000, 11);
    say("%s: block errno=%s kept=%s usable=%s", call, errno_name(error), yes_no(kept),
        yes_no(malloc_usable_size(q) >= (std::size_t{3} << 20) && writable(q, std::size_t{3} << 20)));
    std::free(q);
  }
}

// ---- calls with nothing to do, and errno across calls that succeed ----
void quiet_calls() {
  errno = kSentinel;
  const std::size_t usable = malloc_usable_size(nullptr);
  say("malloc_usable_size(NULL): %zu errno=%s", usable, errno_name(errno));
  errno = kSentinel;
  std::free(nullptr);
  say("free(NULL): errno=%s", errno_name(errno));
  // A malloc and a free that succeed leave errno as it was, from an arena and from a mapping of its own.
  for (const std::size_t size : {std::size_t{64}, std::size_t{200000}, std::size_t{64} << 20}) {
    errno = kSentinel;
    void* const p = std::malloc(opaque(size));
    const int after_malloc = errno;
    say_block("malloc then free, errno after malloc", p, after_malloc, size, kMallocAlign, /*keep=*/true);
    errno = kSentinel;
    std::free(p);
    say("free of a %zu-byte block: errno=%s", size, errno_name(errno));
  }
  // Each freed block's memory serves the next request of its size: a loop of frees and mallocs keeps errno too (the
  // drop-in may release pages, raise its huge threshold, grow an arena on the way).
  int changed = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::size_t size = opaque(std::size_t{1} << (4 + i % 22));  // 16 B to 32 MiB
    errno = kSentinel;
    void* const p = std::malloc(size);
    if (p == nullptr || errno != kSentinel) ++changed;
    errno = kSentinel;
    std::free(p);
    if (errno != kSentinel) ++changed;
  }
  say("2000 mallocs and frees of 16 B to 32 MiB: errno changed %d times", changed);
  // The statistics calls that succeed leave it too (their figures are each allocator's own: not printed).
  errno = kSentinel;
  (void)malloc_trim(0);
  say("malloc_trim(0): errno=%s", errno_name(errno));
  errno = kSentinel;
  const struct mallinfo2 info = mallinfo2();
  say("mallinfo2(): errno=%s", errno_name(errno));
  g_opaque = info.arena;
}

}  // namespace

int main() {
  zero_sizes();
  too_large();
  failed_resizes();
  resizes();
  calloc_zeroes();
  bad_alignments();
  large_alignments();
  quiet_calls();
  say("end");
  return 0;
}
