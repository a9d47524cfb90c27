// tests/preload/atfork_program.cc — fork handlers that call malloc, registered before the program's first malloc, for
// //tests/preload:atfork_test. A constructor registers prepare, parent and child handlers that each allocate and free
// a block (glibc's malloc allows it in all three); main then allocates and forks three times, the child allocating
// before it exits. pthread_atfork runs prepare handlers in the reverse order of registration: the drop-in's, which
// lock every arena, must run after these, and its parent and child handlers, which release them, before these. C
// library calls only, linked --as-needed like the programs next to it, so that nothing allocates before the
// constructor.
//
//   atfork_program     prints "3 forks, handlers ran 3 prepare 3 parent 3 child" and exits 0 (so does
//                      atfork_program_static, the drop-in linked in)
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

void* volatile g_sink;  // volatile: the compiler may not drop a malloc/free pair
int g_prepare = 0;
int g_parent = 0;
volatile int g_child = 0;  // counted in each child, reported through its exit status

void churn() {
  g_sink = std::malloc(100);
  std::free(g_sink);
}

void prepare() {
  churn();
  ++g_prepare;
}
void parent() {
  churn();
  ++g_parent;
}
void child() {
  churn();
  g_child = 1;
}

[[gnu::constructor]] void register_handlers() { ::pthread_atfork(prepare, parent, child); }

}  // namespace

int main() {
  churn();
  constexpr int kForks = 3;
  int children = 0;
  for (int i = 0; i < kForks; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      churn();
      ::_exit(g_child == 1 ? 0 : 3);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 4;
    ++children;
  }
  char line[100];
  const int n = std::snprintf(line, sizeof line, "%d forks, handlers ran %d prepare %d parent %d child\n", kForks,
                              g_prepare, g_parent, children);
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
  return 0;
}
