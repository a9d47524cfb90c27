// tests/preload/close_stderr.cc — a program that does to its descriptors what real programs do before they exit,
// for //tests/preload:closed_stderr_test (the drop-in's exit lines under NOSTD_MALLOC_STATS / NOSTD_MALLOC_VALIDATE).
// Each mode first allocates, so that the drop-in has read its settings.
//
//   close_stderr close          closes fd 2, then exits (as ls, cat, sort do through gnulib's close_stdout)
//   close_stderr replace FILE   closes fd 2 and makes every other open descriptor from 3 up a duplicate of FILE
//                               (as a program that closes all its descriptors and opens files again may)
//   close_stderr fds            prints every open descriptor, one a line: "N cloexec" or "N inherited"
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kMaxFd = 1024;

void* volatile g_sink;  // volatile: the compiler may not drop the malloc/free pair

int usage() {
  std::fputs("usage: close_stderr close | replace FILE | fds\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  g_sink = std::malloc(64);
  std::free(g_sink);
  if (argc == 2 && std::strcmp(argv[1], "close") == 0) {
    return ::close(STDERR_FILENO) == 0 ? 0 : 1;
  }
  if (argc == 3 && std::strcmp(argv[1], "replace") == 0) {
    const int file = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (file < 0 || ::close(STDERR_FILENO) != 0) return 1;
    for (int fd = STDERR_FILENO + 1; fd < kMaxFd; ++fd) {
      if (fd != file && ::fcntl(fd, F_GETFD) != -1 && ::dup2(file, fd) != fd) return 1;
    }
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "fds") == 0) {
    for (int fd = 0; fd < kMaxFd; ++fd) {
      const int flags = ::fcntl(fd, F_GETFD);
      if (flags != -1) std::printf("%d %s\n", fd, (flags & FD_CLOEXEC) != 0 ? "cloexec" : "inherited");
    }
    return 0;
  }
  return usage();
}
