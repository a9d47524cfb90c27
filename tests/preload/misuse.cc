// tests/preload/misuse.cc — one heap misuse per run, for misuse_test.sh: `misuse NAME` commits misuse NAME and,
// if the allocator lets it pass, prints "survived NAME" and exits 0. `misuse --list` prints every NAME.
//
// Pointers go through opaque() so that the compiler neither warns about (-Wfree-nonheap-object,
// -Wuse-after-free) nor removes the very mistakes this program exists to make.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

template <class T>
T* opaque(T* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// Frees a block of `size` bytes twice; a block allocated in between (another size) keeps it from being the
// most recently freed one, which simple allocators check first.
void double_free(std::size_t size) {
  void* p = std::malloc(size);
  std::memset(p, 1, size);
  void* other = std::malloc(size / 2 + 40);
  std::free(p);
  std::free(opaque(other));
  std::free(opaque(p));
}

alignas(16) char g_global[256];

struct Misuse {
  const char* name;
  void (*run)();
};

// Double frees of every size class (glibc's tcache, fastbin, small bin, large bin and mmap classes; our arena
// sizes and huge mappings), invalid and unaligned frees, overflows into the next block's header, frees of stack
// and global pointers, and realloc of a freed block.
const Misuse kMisuses[] = {
    {"double_free_16", [] { double_free(16); }},
    {"double_free_24", [] { double_free(24); }},
    {"double_free_100", [] { double_free(100); }},
    {"double_free_1000", [] { double_free(1000); }},
    {"double_free_2000", [] { double_free(2000); }},
    {"double_free_100000", [] { double_free(100000); }},
    {"double_free_4MiB", [] { double_free(std::size_t{4} << 20); }},
    {"free_interior_pointer",
     [] {
       auto* p = static_cast<char*>(std::calloc(1, 256));
       std::free(opaque(p + 64));
     }},
    {"free_unaligned_pointer",
     [] {
       auto* p = static_cast<char*>(std::malloc(64));
       std::free(opaque(p + 1));
     }},
    {"free_stack_pointer",
     [] {
       alignas(16) char local[64] = {};
       std::free(opaque(local + 16));
     }},
    {"free_global_pointer", [] { std::free(opaque(g_global + 32)); }},
    {"overflow_into_next_header_then_free_next",
     [] {
       auto* a = static_cast<char*>(std::malloc(24));
       auto* b = static_cast<char*>(std::malloc(24));
       std::memset(opaque(a), 'A', 24 + 16);  // past a's payload, over b's header
       std::free(b);
       std::free(a);
     }},
    {"overflow_into_next_header_then_free_self",
     [] {
       auto* a = static_cast<char*>(std::malloc(40));
       auto* b = static_cast<char*>(std::malloc(40));
       std::memset(opaque(a), 'A', 40 + 16);
       std::free(a);
       std::free(b);
     }},
    {"off_by_one_past_the_block",
     [] {
       // Two bytes just past what malloc_usable_size allows (for glibc and for the drop-in's basic level, the low
       // bytes of the next block's header; at the hardened level, the block's own check word).
       auto* a = static_cast<char*>(std::malloc(24));
       auto* b = static_cast<char*>(std::malloc(24));
       const std::size_t end = malloc_usable_size(a);
       opaque(a)[end] = 'A';
       opaque(a)[end + 1] = 'A';
       std::free(b);
       std::free(a);
     }},
    {"realloc_of_freed_block",
     [] {
       void* p = std::malloc(200);
       void* other = std::malloc(300);
       std::free(p);
       std::free(opaque(other));
       void* q = std::realloc(opaque(p), 400);
       std::printf("realloc gave %p\n", q);
     }},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: misuse NAME | --list\n");
    return 2;
  }
  const std::string_view wanted = argv[1];
  for (const Misuse& m : kMisuses) {
    if (wanted == "--list") {
      std::printf("%s\n", m.name);
    } else if (wanted == m.name) {
      m.run();
      std::printf("survived %s\n", m.name);
      return 0;
    }
  }
  if (wanted == "--list") return 0;
  std::fprintf(stderr, "misuse: unknown name %s (see --list)\n", argv[1]);
  return 2;
}
