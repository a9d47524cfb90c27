// tests/malloc_recorder_fork_early.cc — a shared library whose constructor registers a fork child handler that calls
// malloc enough to fill a recording buffer (//tests:malloc_recorder_test, with malloc_recorder_fork_program). The
// dynamic loader starts a library the program needs before a preloaded one, so this handler registers before the
// recorder's and runs in the child before it, while recording is still on and the forking thread's buffer still
// holds the parent's unflushed calls. C library calls only.
#include "tests/malloc_recorder_fork_early.h"

#include <pthread.h>

#include <cstdlib>

namespace {

void* volatile g_sink;  // volatile: the compiler may not drop a malloc/free pair
int g_children = 0;

void child() {
  bool ok = true;
  for (int i = 0; i < kForkEarlyChildPairs; ++i) {
    g_sink = std::malloc(16 + static_cast<std::size_t>(i % 200));
    ok = ok && g_sink != nullptr;
    std::free(g_sink);
  }
  g_children += ok ? 1 : 0;
}

[[gnu::constructor]] void register_handlers() { ::pthread_atfork(nullptr, nullptr, child); }

}  // namespace

extern "C" int malloc_recorder_fork_early_children() { return g_children; }
