// platform/newlib/misuse.cc — a program that misuses free() in the way its argument names ("double", "foreign",
// "interior", "realloc_foreign", and malloc_usable_size of an interior or a freed pointer: "usable_size_interior",
// "usable_size_freed"): the newlib door must stop it with one line on stderr and a failing exit status
// (//platform/newlib:misuse_test). "new_exhausted" asks operator new for more than the heap holds, "new_heap_full"
// for 16 bytes once malloc has none left: the board must say why it stops (an uncaught std::bad_alloc, by its
// readable name). "terminate" calls std::terminate() with no exception. Exits 0 only if the misuse went unnoticed.
#include <malloc.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace {

/// Pointers pass through here so that the compiler cannot see (or warn about) the misuse.
void* volatile g_pointer = nullptr;
volatile std::size_t g_size = 0;
char g_global[64];

}  // namespace

int main(int argc, char** argv) {
  const char* kind = argc > 1 ? argv[1] : "";
  if (std::strcmp(kind, "double") == 0) {
    g_pointer = std::malloc(32);
    std::free(g_pointer);
    std::free(g_pointer);
  } else if (std::strcmp(kind, "foreign") == 0) {
    g_pointer = g_global + 16;
    std::free(g_pointer);
  } else if (std::strcmp(kind, "interior") == 0) {
    g_pointer = static_cast<char*>(std::malloc(256)) + 64;
    std::free(g_pointer);
  } else if (std::strcmp(kind, "realloc_foreign") == 0) {
    g_pointer = g_global;
    g_pointer = std::realloc(g_pointer, 128);
  } else if (std::strcmp(kind, "usable_size_interior") == 0) {
    auto* block = static_cast<char*>(std::malloc(256));
    std::memset(block, 0xff, 256);
    g_pointer = block + 64;
    g_size = malloc_usable_size(g_pointer);
  } else if (std::strcmp(kind, "usable_size_freed") == 0) {
    g_pointer = std::malloc(100);
    void* next = std::malloc(100);  // keeps the freed block from merging with the free space after it
    std::free(g_pointer);
    g_size = malloc_usable_size(g_pointer);
    std::free(next);
  } else if (std::strcmp(kind, "new_exhausted") == 0) {
    g_size = std::size_t{32} << 20;  // the board's malloc heap is 15 MiB
    g_pointer = new char[g_size];
  } else if (std::strcmp(kind, "new_heap_full") == 0) {
    // Every block malloc still has, down to 1 byte: afterwards nothing in the program can allocate, neither the
    // operator new below nor whatever reports its uncaught std::bad_alloc.
    for (std::size_t size = std::size_t{1} << 20; size > 0; size /= 2) {
      while (std::malloc(size) != nullptr) {
      }
    }
    g_size = 16;
    g_pointer = new char[g_size];
  } else if (std::strcmp(kind, "terminate") == 0) {
    std::terminate();  // no exception in flight
  } else {
    std::fprintf(stderr,
                 "usage: misuse double|foreign|interior|realloc_foreign|usable_size_interior|usable_size_freed|"
                 "new_exhausted|new_heap_full|terminate\n");
    return 2;
  }
  std::fprintf(stderr, "misuse '%s' was not detected\n", kind);
  return 0;
}
