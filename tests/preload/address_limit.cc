// tests/preload/address_limit.cc — malloc under a limit on the address space (RLIMIT_AS, what `ulimit -v` sets), for
// //tests/preload:address_limit_test. The program limits itself to the address space it has plus 100 MiB: room for
// one 64 MiB arena chunk, not for the 128 MiB that map_chunk reserves for a moment to align one. Then every request
// must be served: 100 bytes, 40 MiB in 64 KiB blocks, one 2 MiB block (a huge block, its own mapping).
//
// C library calls only, linked --as-needed so that libstdc++ (whose start-up allocates) is not loaded: the first
// malloc below is the process's, made under the limit. Under the drop-in, run with NOSTD_MALLOC_STATS=1: the stderr it
// keeps for its exit line (descriptor 100) shows that this malloc started it (exit 2 if it had started before).
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/preload/address_space.h"

namespace {

using nostd::preload_test::address_space_bytes;
using nostd::preload_test::say;

constexpr std::size_t kHeadroom = std::size_t{100} << 20;
constexpr int kSavedStderrFd = 100;  // SavedStderr::kMinFd (platform/malloc/stderr_line.h)

void* volatile g_sink;  // volatile: the compiler may not drop the allocations

}  // namespace

int main() {
  const bool started_before = ::fcntl(kSavedStderrFd, F_GETFD) != -1;
  const std::size_t used = address_space_bytes();
  if (used == 0) {
    say("cannot read /proc/self/statm, errno ", errno);
    return 2;
  }
  const rlimit limit{used + kHeadroom, used + kHeadroom};
  if (::setrlimit(RLIMIT_AS, &limit) != 0) {
    say("setrlimit failed, errno ", errno);
    return 2;
  }
  void* const first = std::malloc(100);
  const bool drop_in = std::getenv("NOSTD_MALLOC_STATS") != nullptr;  // unset: glibc's run
  if (drop_in && (started_before || ::fcntl(kSavedStderrFd, F_GETFD) == -1)) {
    say("the drop-in did not start in the first malloc; saved stderr before: ", started_before);
    return 2;
  }
  if (first == nullptr) {
    say("malloc(100) failed under the limit, errno ", errno);
    return 1;
  }
  constexpr int kBlocks = 640;  // of 64 KiB: 40 MiB
  static void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) {
    blocks[i] = std::malloc(64 * 1024);
    if (blocks[i] == nullptr) {
      say("malloc(64 KiB) failed under the limit; blocks served before: ", i);
      return 1;
    }
    std::memset(blocks[i], i & 0xff, 64);
  }
  g_sink = std::malloc(std::size_t{2} << 20);
  if (g_sink == nullptr) {
    say("malloc(2 MiB) failed under the limit, errno ", errno);
    return 1;
  }
  std::free(g_sink);
  for (int i = 0; i < kBlocks; ++i) {
    if (static_cast<unsigned char*>(blocks[i])[63] != (i & 0xff)) {
      say("block overwritten: ", i);
      return 1;
    }
    std::free(blocks[i]);
  }
  std::free(first);
  return 0;
}
