// platform/riscv32_virt/new_invalid_alignment.cc — a program that calls the board's aligned operator new
// (cxx_runtime.cc) with an alignment that is not a power of two, in the form its argument names ("aligned",
// "aligned_array", "aligned_nothrow": an alignment of 24; "zero": an alignment of 0): the board must stop it with
// one line on stderr naming the alignment and abort()'s status (//platform/riscv32_virt:new_invalid_alignment_test),
// not report a lack of memory or return. Exits 0 only if operator new returned.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>

namespace {

/// The alignment and the pointer pass through here so that the compiler cannot see (or remove) the request.
volatile std::size_t g_alignment = 24;
void* volatile g_pointer = nullptr;

}  // namespace

int main(int argc, char** argv) {
  const char* kind = argc > 1 ? argv[1] : "";
  if (std::strcmp(kind, "aligned") == 0) {
    g_pointer = ::operator new (48, std::align_val_t{g_alignment});
  } else if (std::strcmp(kind, "aligned_array") == 0) {
    g_pointer = ::operator new[](48, std::align_val_t{g_alignment});
  } else if (std::strcmp(kind, "aligned_nothrow") == 0) {
    g_pointer = ::operator new (48, std::align_val_t{g_alignment}, std::nothrow);
  } else if (std::strcmp(kind, "zero") == 0) {
    g_alignment = 0;
    g_pointer = ::operator new (48, std::align_val_t{g_alignment});
  } else {
    std::fprintf(stderr, "usage: new_invalid_alignment aligned|aligned_array|aligned_nothrow|zero\n");
    return 2;
  }
  std::fprintf(stderr, "operator new '%s' with alignment %lu returned %p\n", kind,
               static_cast<unsigned long>(g_alignment), g_pointer);
  return 0;
}
