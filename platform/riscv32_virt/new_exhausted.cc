// platform/riscv32_virt/new_exhausted.cc — a program that asks the board's operator new (cxx_runtime.cc) for more
// than the arena holds, in the way its argument names ("plain", "aligned": an alignment of 64, "aligned_array"):
// without exceptions the board must stop it with one line on stderr and abort()'s status
// (//platform/riscv32_virt:new_exhausted_test). Exits 0 only if operator new returned.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

namespace {

/// Sizes and pointers pass through here so that the compiler cannot see (or remove) the request.
volatile std::size_t g_size = SIZE_MAX - 8;
void* volatile g_pointer = nullptr;

}  // namespace

int main(int argc, char** argv) {
  const char* kind = argc > 1 ? argv[1] : "";
  if (std::strcmp(kind, "plain") == 0) {
    g_pointer = ::operator new(g_size);
  } else if (std::strcmp(kind, "aligned") == 0) {
    g_pointer = ::operator new (g_size, std::align_val_t{64});
  } else if (std::strcmp(kind, "aligned_array") == 0) {
    g_pointer = ::operator new[](g_size, std::align_val_t{64});
  } else {
    std::fprintf(stderr, "usage: new_exhausted plain|aligned|aligned_array\n");
    return 2;
  }
  std::fprintf(stderr, "operator new '%s' of %lu bytes returned %p\n", kind, static_cast<unsigned long>(g_size),
               g_pointer);
  return 0;
}
