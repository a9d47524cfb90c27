// examples/hardened_heap.cc — check levels with a user fault handler that logs the fault and halts.
//
//   ./bazelw run //examples:hardened_heap                  a debug heap and a hardened heap in normal use
//   ./bazelw run //examples:hardened_heap -- overflow      one byte written past a request: logged, then halt
//   ./bazelw run //examples:hardened_heap -- double-free   a block freed twice: logged, then halt
//
// On a board the handler would write to a UART or a crash log in no-init RAM, then reset; here it writes to
// stderr and ends the process with status 70.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "alloc/alloc.h"

namespace {

// A check policy handler: any type with a static [[noreturn]] on_fault(const HeapFault&). It must not return
// (the heap is corrupted or misused) and must not allocate from the heap that reported.
struct LogAndHalt {
  [[noreturn]] static void on_fault(const nostd::HeapFault& fault) noexcept {
    std::fprintf(stderr, "heap fault: %.*s at %p: %s\n", static_cast<int>(nostd::to_string(fault.error).size()),
                 nostd::to_string(fault.error).data(), fault.where, fault.what);
    std::fflush(stderr);
    std::_Exit(70);  // a board would reset here (NVIC_SystemReset) after saving the message
  }
};

// DebugChecks while developing: fill patterns, poisoned free blocks, a canary after every request.
constinit nostd::BasicHeap<nostd::FirstFit, nostd::DebugChecks<LogAndHalt>, nostd::StaticArraySource<16 * 1024>>
    g_debug_heap;
// HardenedChecks for production: a keyed check word in every block (give it a real secret source on a board with
// a random number generator; on Linux, GetrandomSecret from platform/getrandom_secret.h).
constinit nostd::BasicHeap<nostd::BestFit, nostd::HardenedChecks<LogAndHalt>, nostd::StaticArraySource<16 * 1024>>
    g_hardened_heap;

template <class Heap>
void report(const char* name, const Heap& heap) {
  const nostd::HeapStats s = heap.stats();
  // %lu with casts: newlib on the Cortex-M board has no C99 %zu (it printed "zu" and shifted the arguments).
  std::printf("%-9s in use %5lu  free %5lu  overhead %4lu  live %lu  validate: %s\n", name,
              static_cast<unsigned long>(s.bytes_in_use), static_cast<unsigned long>(s.bytes_free),
              static_cast<unsigned long>(s.overhead_bytes), static_cast<unsigned long>(s.live_allocations),
              heap.validate() ? "ok" : "FAILED");
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (argc > 2 || (*mode != '\0' && std::strcmp(mode, "overflow") != 0 && std::strcmp(mode, "double-free") != 0)) {
    // A misspelt mode must not pass for the clean run.
    std::fprintf(stderr, "hardened_heap: unknown mode %s: give none, overflow or double-free\n",
                 argv[argc > 2 ? 2 : 1]);
    return 2;
  }
  auto* name = static_cast<char*>(*g_debug_heap.allocate(6));
  std::memcpy(name, "sensor", 6);  // exactly the 6 bytes asked for
  std::printf("usable_size under DebugChecks is the request: %lu\n",
              static_cast<unsigned long>(g_debug_heap.usable_size(name)));
  void* packets[8];
  for (void*& p : packets) p = *g_hardened_heap.allocate(100);
  report("debug", g_debug_heap);
  report("hardened", g_hardened_heap);

  if (std::strcmp(mode, "overflow") == 0) {
    std::strcpy(name, "sensor");  // 7 bytes with the terminator: one past the request
    std::printf("freeing the overflowed block...\n");
    std::fflush(stdout);
  } else if (std::strcmp(mode, "double-free") == 0) {
    g_hardened_heap.deallocate(packets[3]);
    std::printf("freeing packets[3] again...\n");
    std::fflush(stdout);
    g_hardened_heap.deallocate(packets[3]);
  }
  g_debug_heap.deallocate(name);
  for (void* p : packets) g_hardened_heap.deallocate(p);
  report("debug", g_debug_heap);
  report("hardened", g_hardened_heap);
  return 0;
}
