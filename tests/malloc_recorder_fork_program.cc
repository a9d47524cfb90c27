// tests/malloc_recorder_fork_program.cc — a recorded program that forks, for //tests:malloc_recorder_test. It needs
// a shared library (malloc_recorder_fork_early.cc) whose fork child handler, which runs in the child before the
// recorder's, calls malloc enough to fill the forking thread's recording buffer. main makes 100,000 malloc/free pairs
// (several buffers written: the part file is open), 1,000 more (left in the buffer when it forks), then forks 3
// times, each child exiting 0 when its handler's allocations succeeded, and makes 10 pairs more. The parent's trace
// must hold its own 202,020 calls (plus what the C library's start-up allocates), each once: a child that wrote its
// full buffer to the parent's part file wrote the parent's unflushed calls there a second time. C library calls
// only, linked --as-needed, so that the library's handler registers before the drop-in's first malloc starts the
// recorder (libstdc++'s start-up allocates).
//
//   malloc_recorder_fork_program     prints "3 forks, 3 children filled a buffer" and exits 0
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "tests/malloc_recorder_fork_early.h"

namespace {

void* volatile g_sink;  // volatile: the compiler may not drop a malloc/free pair

void pairs(int n) {
  for (int i = 0; i < n; ++i) {
    g_sink = std::malloc(16 + static_cast<std::size_t>(i % 500));
    std::free(g_sink);
  }
}

}  // namespace

int main() {
  pairs(100'000);
  pairs(1'000);
  constexpr int kForks = 3;
  int children = 0;
  for (int i = 0; i < kForks; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) return 2;
    if (pid == 0) ::_exit(malloc_recorder_fork_early_children() == 1 ? 0 : 3);
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 4;
    ++children;
  }
  pairs(10);
  std::printf("%d forks, %d children filled a buffer\n", kForks, children);
  return 0;
}
