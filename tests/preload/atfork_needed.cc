// tests/preload/atfork_needed.cc — a program that needs a shared library (atfork_early.cc) whose constructor registers
// fork handlers that call malloc, for //tests/preload:atfork_test. The dynamic loader starts that library before a
// preloaded drop-in, so its handlers register first and run while the drop-in holds every arena for the fork: only the
// forking thread may pass them. Other threads allocate and free throughout, racing each fork's lock_all (whether they
// wait meanwhile is //tests:arena_lock_test's to check). main forks FORKS times; each child allocates and exits 0 when
// its child handler's allocations succeeded.
//
//   atfork_needed [FORKS [THREADS]]   (default 3 forks, 1 thread) prints
//                                     "3 forks, library handlers ran 3 prepare 3 parent 3 child" and exits 0
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "tests/preload/atfork_early.h"

namespace {

void* volatile g_sink;  // main's and the children's; volatile: the compiler may not drop a malloc/free pair
std::atomic<bool> g_stop{false};

void* churn_until_stopped(void*) {
  while (!g_stop.load(std::memory_order_relaxed)) {
    void* volatile block = std::malloc(48);  // each thread its own: a shared sink would free another's block
    std::free(block);
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const int forks = argc > 1 ? std::atoi(argv[1]) : 3;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (forks < 1 || threads < 1 || threads > 8) return 2;
  pthread_t others[8];
  for (int t = 0; t < threads; ++t) {
    if (::pthread_create(&others[t], nullptr, churn_until_stopped, nullptr) != 0) return 2;
  }
  int children = 0;
  for (int i = 0; i < forks; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      g_sink = std::malloc(200);
      std::free(g_sink);
      ::_exit(atfork_early_children() == 1 ? 0 : 3);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 4;
    ++children;
  }
  g_stop.store(true, std::memory_order_relaxed);
  for (int t = 0; t < threads; ++t) ::pthread_join(others[t], nullptr);
  char line[100];
  const int n = std::snprintf(line, sizeof line, "%d forks, library handlers ran %d prepare %d parent %d child\n",
                              forks, atfork_early_prepares(), atfork_early_parents(), children);
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
  return 0;
}
