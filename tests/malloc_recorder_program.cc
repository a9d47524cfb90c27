// tests/malloc_recorder_program.cc — a program with a known allocation pattern for malloc_recorder_test.sh:
// in each of 2 threads, 1000 malloc/free pairs, then 10 blocks grown by realloc, one 64-byte-aligned block
// (posix_memalign) and one calloc; every block is freed. Prints "done". With the argument "few": one malloc/free
// pair only (a small trace recorded under the same name as a larger one). With "chdir DIR N": N malloc/free pairs,
// then a change of directory to DIR, then 1000 more pairs (a relative trace name must not follow the program there).
// With "pages": what pvalloc of sizes whose rounding to pages overflows and valloc return, in one line.
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

// Every block pointer is volatile: at -O2 GCC drops a malloc/free pair (and a calloc's) whose block is never read,
// and the `-c opt` test had recorded 27 of the 2,024 allocations.
void work(unsigned seed) {
  for (unsigned i = 0; i < 1000; ++i) {
    void* volatile p = std::malloc(16 + (i * seed) % 500);
    std::memset(p, 1, 16);
    std::free(p);
  }
  void* volatile blocks[10];
  for (void* volatile& b : blocks) b = std::malloc(32);
  for (void* volatile& b : blocks) b = std::realloc(b, 4000);
  for (void* b : blocks) std::free(b);
  void* aligned = nullptr;
  if (posix_memalign(&aligned, 64, 100) != 0) std::abort();
  std::free(aligned);
  void* volatile zeroed = std::calloc(10, 10);
  std::free(zeroed);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 3 && std::strcmp(argv[1], "chdir") == 0) {
    const long before = std::strtol(argv[3], nullptr, 10);
    for (long i = 0; i < before + 1000; ++i) {
      if (i == before && chdir(argv[2]) != 0) return 1;
      void* volatile p = std::malloc(32);  // volatile: the compiler would drop a pair whose block is never used
      std::free(p);
    }
    std::puts("done");
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "pages") == 0) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    // volatile: g++ refuses a constant size this large (-Walloc-size-larger-than). Each size's rounding up to a
    // page overflows.
    volatile std::size_t huge = SIZE_MAX;
    for (const std::size_t below : {std::size_t{0}, std::size_t{1}, std::size_t{4094}}) {
      errno = 0;
      void* p = pvalloc(huge - below);
      std::printf("pvalloc(SIZE_MAX - %zu): %s, errno %s; ", below, p == nullptr ? "NULL" : "a block",
                  errno == ENOMEM ? "ENOMEM" : "unchanged");
      std::free(p);
    }
    void* v = valloc(1);
    std::printf("valloc(1): %s\n",
                reinterpret_cast<std::uintptr_t>(v) % page == 0 ? "page-aligned" : "not page-aligned");
    std::free(v);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "few") == 0) {
    void* volatile p = std::malloc(100);
    std::free(p);
    std::puts("done");
    return 0;
  }
  std::thread a(work, 7);
  std::thread b(work, 13);
  a.join();
  b.join();
  std::puts("done");
  return 0;
}
