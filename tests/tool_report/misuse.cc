// tests/tool_report/misuse.cc — one deliberate bug per mode, on a BasicHeap, for tests that prove AddressSanitizer
// and Valgrind memcheck see inside our heap (tool_report_test.sh):
//
//   misuse clean             correct use; the tool must stay silent
//   misuse use-after-free    writes into a block after freeing it
//   misuse read-after-free   reads a block after freeing it
//   misuse overflow          writes one byte past a block's usable size (into the next block's header)
//   misuse leak              drops the last pointer to a live block (memcheck only: LeakSanitizer knows only
//                            malloc's blocks)
//
// The heap uses the default BasicChecks and a static array, as firmware would: the tool, not our checks, must
// report each bug, at the moment of the bad access.
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "alloc/alloc.h"

namespace {

constinit nostd::BasicHeap<nostd::FirstFit, nostd::CompactTags, nostd::StaticArraySource<64 * 1024>> g_heap;

// Out of line and through a volatile pointer, so the compiler can neither drop the access nor prove it wrong.
[[gnu::noinline]] void write_byte(std::byte* p, std::size_t i) {
  std::byte* volatile target = p + i;
  *target = std::byte{1};
}
[[gnu::noinline]] int read_byte(const std::byte* p, std::size_t i) {
  const std::byte* volatile target = p + i;
  return std::to_integer<int>(*target);
}

// Allocates a block and forgets it; the pointer lives only in this frame, which is gone when the function returns.
[[gnu::noinline]] void leak_one() {
  void* volatile p = *g_heap.allocate(100);
  std::memset(p, 7, 100);
  p = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: misuse clean|use-after-free|read-after-free|overflow|leak\n");
    return 2;
  }
  const char* mode = argv[1];
  auto* keep = static_cast<std::byte*>(*g_heap.allocate(64));  // a live neighbour, freed at the end
  std::memset(keep, 3, 64);
  if (std::strcmp(mode, "clean") == 0) {
    auto* p = static_cast<std::byte*>(*g_heap.allocate(100));
    std::memset(p, 1, 100);
    auto* q = static_cast<std::byte*>(*g_heap.reallocate(p, 300));
    write_byte(q, 299);
    g_heap.deallocate(q);
  } else if (std::strcmp(mode, "use-after-free") == 0) {
    auto* p = static_cast<std::byte*>(*g_heap.allocate(100));
    g_heap.deallocate(p);
    write_byte(p, 48);  // past the free block's list links (the first 16 bytes stay addressable: README)
  } else if (std::strcmp(mode, "read-after-free") == 0) {
    auto* p = static_cast<std::byte*>(*g_heap.allocate(100));
    std::memset(p, 1, 100);
    g_heap.deallocate(p);
    if (read_byte(p, 64) == 42) std::puts("unexpected");
  } else if (std::strcmp(mode, "overflow") == 0) {
    // 24 bytes + an 8-byte header make a 32-byte block with no slack: byte 24 is the next block's header.
    auto* p = static_cast<std::byte*>(*g_heap.allocate(24));
    auto* guard = static_cast<std::byte*>(*g_heap.allocate(24));
    write_byte(p, 24);
    g_heap.deallocate(guard);
    g_heap.deallocate(p);
  } else if (std::strcmp(mode, "leak") == 0) {
    leak_one();
  } else {
    std::fprintf(stderr, "misuse: unknown mode %s\n", mode);
    return 2;
  }
  g_heap.deallocate(keep);
  std::puts("done");
  return 0;
}
