// tests/preload/errno_program.cc — errno across successful calls of the drop-in malloc, for
// //tests/preload:errno_kept_test. C library calls only, and linked --as-needed so that libstdc++ is not loaded: its
// start-up allocates, and the malloc that starts the drop-in (init: settings, the "ignoring" lines, the recorder)
// must be this program's own first call.
//
//   errno_program first        errno set before the process's first malloc is unchanged after it. Under the
//                              drop-in, run with NOSTD_MALLOC_STATS=1: the stderr it keeps for its exit line
//                              (descriptor 100) shows that the call started it (exit 2 if it had started before)
//   errno_program churn DIR    one malloc (which starts the recorder under NOSTD_ALLOC_TRACE=DIR/...), then DIR is
//                              removed and 100,000 malloc/free pairs follow, errno checked after each: the
//                              recorder's first flush then fails to create its file
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kSentinel = 4321;
constexpr int kSavedStderrFd = 100;  // SavedStderr::kMinFd (platform/malloc/stderr_line.h)

void* volatile g_sink;  // volatile: the compiler may not drop a malloc/free pair

// Writes one line to stdout with write(2): stdio would allocate.
void say(const char* text, int value) {
  char line[160];
  const int n = std::snprintf(line, sizeof line, "%s%d\n", text, value);
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
}

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int first() {
  const bool started_before = fd_open(kSavedStderrFd);
  errno = kSentinel;
  g_sink = std::malloc(64);
  const int after = errno;
  const bool started_now = fd_open(kSavedStderrFd);
  const bool drop_in = std::getenv("NOSTD_MALLOC_STATS") != nullptr;  // unset: glibc's run, nothing to see
  if (drop_in && (started_before || !started_now)) {
    say("the drop-in did not start in this call (NOSTD_MALLOC_STATS unset, or something allocated before main); "
        "saved stderr before and after: ",
        started_before * 10 + started_now);
    return 2;
  }
  if (g_sink == nullptr) return 3;
  std::free(g_sink);
  if (after != kSentinel) {
    say("errno after the first malloc, which succeeded: ", after);
    return 1;
  }
  return 0;
}

int churn(const char* dir) {
  g_sink = std::malloc(64);
  std::free(g_sink);
  if (::rmdir(dir) != 0) {
    say("cannot remove the trace's directory, errno ", errno);
    return 2;
  }
  for (int i = 0; i < 100000; ++i) {
    errno = kSentinel;
    g_sink = std::malloc(32);
    if (errno != kSentinel) {
      say("errno after a malloc that succeeded: ", errno);
      say("  call number ", i);
      return 1;
    }
    std::free(g_sink);
    if (errno != kSentinel) {
      say("errno after free: ", errno);
      say("  call number ", i);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "first") == 0) return first();
  if (argc == 3 && std::strcmp(argv[1], "churn") == 0) return churn(argv[2]);
  say("usage: errno_program first | churn DIR; argc ", argc);
  return 2;
}
