// tests/preload/mallinfo_program.cc — glibc's statistics calls as a program sees them, for
// //tests/preload:mallinfo_test: allocates 100 blocks of 1,000 bytes and one of 64 MiB, then prints mallinfo2's
// fields on stdout, one `name=value` per line, and calls malloc_stats (which writes on stderr). C library calls only,
// linked --as-needed.
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

void* volatile g_sink;  // volatile: the compiler may not drop the allocations

// Writes one line to stdout with write(2): stdio would allocate between the figures and their printing.
void say(const char* name, std::size_t value) {
  char line[96];
  const int n = std::snprintf(line, sizeof line, "%s=%zu\n", name, value);
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
}

}  // namespace

int main() {
  void* blocks[100];
  for (void*& block : blocks) {
    block = std::malloc(1000);
    g_sink = block;
  }
  void* const large = std::malloc(std::size_t{64} << 20);
  g_sink = large;
  const struct mallinfo2 info = mallinfo2();
  say("arena", info.arena);
  say("ordblks", info.ordblks);
  say("hblks", info.hblks);
  say("hblkhd", info.hblkhd);
  say("uordblks", info.uordblks);
  say("fordblks", info.fordblks);
  malloc_stats();
  std::free(large);
  for (void* block : blocks) std::free(block);
  return blocks[0] != nullptr && large != nullptr ? 0 : 1;
}
