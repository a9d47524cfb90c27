// tests/preload/mallinfo_program.cc — glibc's statistics calls as a program sees them, for
// //tests/preload:mallinfo_test: allocates 100 blocks of 1,000 bytes, 41 of 200 bytes of which it frees every other one
// (20 blocks, each between two live ones), and one of 64 MiB, then prints mallinfo2's fields and the usable size of
// the 200-byte blocks on stdout, one `name=value` per line, calls malloc_stats (which writes on stderr) and malloc_info
// (its XML on stdout, after the fields). Then mallopt: what it returns for a threshold of 64 KiB and for M_ARENA_MAX,
// and for a threshold of 4 MiB, with mallinfo2's hblks after a request just below it, one just above, and that one's
// size again after its free (a dynamic threshold would have risen). C library calls only, linked --as-needed.
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
  // In a fresh heap the 41 blocks lie in a row: the 20 freed ones cannot merge, and malloc_info counts them in the
  // class of their usable size.
  void* small[41];
  for (void*& block : small) {
    block = std::malloc(200);
    g_sink = block;
  }
  for (int i = 1; i < 41; i += 2) std::free(small[i]);
  void* const large = std::malloc(std::size_t{64} << 20);
  g_sink = large;
  const struct mallinfo2 info = mallinfo2();
  say("arena", info.arena);
  say("ordblks", info.ordblks);
  say("hblks", info.hblks);
  say("hblkhd", info.hblkhd);
  say("uordblks", info.uordblks);
  say("fordblks", info.fordblks);
  say("usable_200", malloc_usable_size(small[0]));
  malloc_stats();
  // The same moment's figures: nothing allocated since mallinfo2 (stdout's buffer is, after malloc_info took them).
  const int info_result = malloc_info(0, stdout);
  std::fflush(stdout);
  say("malloc_info", static_cast<std::size_t>(info_result));

  constexpr std::size_t kThreshold = std::size_t{4} << 20;
  say("mallopt_64k", static_cast<std::size_t>(mallopt(M_MMAP_THRESHOLD, 64 << 10)));
  say("mallopt_arena_max", static_cast<std::size_t>(mallopt(M_ARENA_MAX, 1)));
  say("mallopt_4m", static_cast<std::size_t>(mallopt(M_MMAP_THRESHOLD, static_cast<int>(kThreshold))));
  void* const below = std::malloc(kThreshold - 4096);
  g_sink = below;
  say("hblks_below", mallinfo2().hblks);
  void* const above = std::malloc(kThreshold + 4096);
  g_sink = above;
  say("hblks_above", mallinfo2().hblks);
  std::free(above);
  void* const again = std::malloc(kThreshold + 4096);
  g_sink = again;
  say("hblks_again", mallinfo2().hblks);
  std::free(again);
  std::free(below);
  std::free(large);
  for (void* block : blocks) std::free(block);
  for (int i = 0; i < 41; i += 2) std::free(small[i]);
  return blocks[0] != nullptr && large != nullptr && below != nullptr && again != nullptr ? 0 : 1;
}
