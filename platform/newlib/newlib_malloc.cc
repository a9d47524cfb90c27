// platform/newlib/newlib_malloc.cc — newlib's malloc family over nostd::newlib::heap() (see newlib_malloc.h).
//
// newlib's own functions call the reentrant `_r` forms directly (stdio's buffers come from `_malloc_r`), so those
// are the real implementations; the plain forms pass `_REENT`. errno is set through the reentrancy structure the
// caller gave, as newlib's allocator does.
#include "platform/newlib/newlib_malloc.h"

#include <malloc.h>
#include <reent.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace nostd::newlib {
namespace {

constinit Heap g_heap;

/// The block, or NULL with errno set from the heap's error: EINVAL for a bad alignment, ENOMEM otherwise.
void* block_or_null(struct _reent* reent, const Result<void*>& block) noexcept {
  if (block) return *block;
  __errno_r(reent) = block.error() == AllocError::kInvalidLayout ? EINVAL : ENOMEM;
  return nullptr;
}

/// Appends `text` to `out` at `*at` (bounded by kLineBytes).
constexpr std::size_t kLineBytes = 160;
void append(char* out, std::size_t* at, const char* text) noexcept {
  while (*text != '\0' && *at + 1 < kLineBytes) out[(*at)++] = *text++;
}

void append_hex(char* out, std::size_t* at, std::uintptr_t value) noexcept {
  append(out, at, "0x");
  for (int shift = static_cast<int>(sizeof value * 8) - 4; shift >= 0; shift -= 4) {
    const char digit[2] = {"0123456789abcdef"[(value >> shift) & 0xfU], '\0'};
    append(out, at, digit);
  }
}

/// What malloc_usable_size found wrong with a pointer into the heap (try_usable_size's error), in its words.
const char* usable_size_misuse(AllocError error) noexcept {
  switch (error) {
    case AllocError::kDoubleFree:
      return "malloc_usable_size of a freed block";
    case AllocError::kCorrupted:
      return "malloc_usable_size of a block whose header was overwritten";
    default:
      return "malloc_usable_size of a pointer that is not a live block (interior or misaligned)";
  }
}

}  // namespace

Heap& heap() noexcept { return g_heap; }

void ReportAndAbort::on_fault(const HeapFault& fault) noexcept {
  char line[kLineBytes];
  std::size_t at = 0;
  append(line, &at, "nostd malloc: ");
  append(line, &at, fault.what != nullptr ? fault.what : to_string(fault.error).data());
  append(line, &at, " ");
  append_hex(line, &at, reinterpret_cast<std::uintptr_t>(fault.where));
  append(line, &at, "\n");
  static_cast<void>(::write(STDERR_FILENO, line, at));
  std::abort();
}

}  // namespace nostd::newlib

using nostd::newlib::heap;

extern "C" {

void* _malloc_r(struct _reent* reent, std::size_t size) {
  return nostd::newlib::block_or_null(reent, heap().allocate(size));
}

void _free_r(struct _reent* /*reent*/, void* ptr) { heap().deallocate(ptr); }

void* _calloc_r(struct _reent* reent, std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    __errno_r(reent) = ENOMEM;
    return nullptr;
  }
  void* block = nostd::newlib::block_or_null(reent, heap().allocate(bytes));
  // A recycled block holds old data; the heap does not zero (only calloc pays for it).
  if (block != nullptr) std::memset(block, 0, bytes);
  return block;
}

void* _realloc_r(struct _reent* reent, void* ptr, std::size_t size) {
  return nostd::newlib::block_or_null(reent, heap().reallocate(ptr, size));
}

void* _memalign_r(struct _reent* reent, std::size_t align, std::size_t size) {
  // 0 means "any" (as in newlib); otherwise a power of two, checked before small alignments are raised to the
  // default (which every block has), so that 3 is rejected rather than silently served.
  if (align != 0 && !nostd::is_power_of_two(align)) {
    __errno_r(reent) = EINVAL;
    return nullptr;
  }
  if (align < nostd::newlib::Heap::kDefaultAlignment) align = nostd::newlib::Heap::kDefaultAlignment;
  return nostd::newlib::block_or_null(reent, heap().allocate(size, align));
}

std::size_t _malloc_usable_size_r(struct _reent* /*reent*/, void* ptr) {
  // A pointer the heap does not own has no size here (newlib would read a header in front of it). One it owns is
  // checked as free checks it: an interior or freed pointer would read payload bytes as a size.
  if (ptr == nullptr || !heap().owns(ptr)) return 0;
  const nostd::Result<std::size_t> size = heap().try_usable_size(ptr);
  if (!size) {
    nostd::newlib::ReportAndAbort::on_fault(
        nostd::HeapFault{size.error(), ptr, nostd::newlib::usable_size_misuse(size.error())});
  }
  return *size;
}

struct mallinfo _mallinfo_r(struct _reent* /*reent*/) {
  const nostd::HeapStats stats = heap().stats();
  struct mallinfo info {};
  info.arena = stats.capacity;
  info.ordblks = stats.free_blocks;
  info.usmblks = stats.peak_bytes_in_use;
  info.uordblks = stats.bytes_in_use;
  info.fordblks = stats.bytes_free;
  info.keepcost = 0;  // nothing can be given back: the region is fixed
  return info;
}

void _malloc_stats_r(struct _reent* reent) {
  const nostd::HeapStats stats = heap().stats();
  // newlib's malloc_stats prints to stderr too; %lu because newlib's printf has no %zu.
  _fiprintf_r(reent, _stderr_r(reent),
              "nostd heap: capacity %lu, in use %lu (peak %lu), free %lu in %lu blocks (largest %lu), "
              "%lu live allocations\n",
              static_cast<unsigned long>(stats.capacity), static_cast<unsigned long>(stats.bytes_in_use),
              static_cast<unsigned long>(stats.peak_bytes_in_use), static_cast<unsigned long>(stats.bytes_free),
              static_cast<unsigned long>(stats.free_blocks), static_cast<unsigned long>(stats.largest_free_block),
              static_cast<unsigned long>(stats.live_allocations));
}

int _mallopt_r(struct _reent* /*reent*/, int /*parameter*/, int /*value*/) {
  return 0;  // mallopt's failure value: the heap has no tunable parameters at run time
}

int _malloc_trim_r(struct _reent* /*reent*/, std::size_t /*pad*/) {
  return 0;  // nothing released: the linker-script region is not returned to anyone
}

void* malloc(std::size_t size) { return _malloc_r(_REENT, size); }
void free(void* ptr) { _free_r(_REENT, ptr); }
void* calloc(std::size_t count, std::size_t size) { return _calloc_r(_REENT, count, size); }
void* realloc(void* ptr, std::size_t size) { return _realloc_r(_REENT, ptr, size); }
void* memalign(std::size_t align, std::size_t size) { return _memalign_r(_REENT, align, size); }
std::size_t malloc_usable_size(void* ptr) { return _malloc_usable_size_r(_REENT, ptr); }

void* aligned_alloc(std::size_t align, std::size_t size) {
  // C17 (DR 460): any power of two (1 and 2 too) with any size; NULL with errno otherwise. newlib's own went through
  // posix_memalign, which refuses alignments below sizeof(void*), and left errno alone.
  if (!nostd::is_power_of_two(align)) {
    __errno_r(_REENT) = EINVAL;
    return nullptr;
  }
  return _memalign_r(_REENT, align, size);
}

int posix_memalign(void** out, std::size_t align, std::size_t size) {
  // POSIX: a power of two multiple of sizeof(void*); errors are returned, not stored in errno; *out untouched.
  if (align < sizeof(void*) || !nostd::is_power_of_two(align)) return EINVAL;
  if (align < nostd::newlib::Heap::kDefaultAlignment) align = nostd::newlib::Heap::kDefaultAlignment;
  const nostd::Result<void*> block = heap().allocate(size, align);
  if (!block) return block.error() == nostd::AllocError::kInvalidLayout ? EINVAL : ENOMEM;
  *out = *block;
  return 0;
}

}  // extern "C"
