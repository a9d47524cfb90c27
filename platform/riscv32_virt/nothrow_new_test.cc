// platform/riscv32_virt/nothrow_new_test.cc — the board's nothrow operator new forms (cxx_runtime.cc), through
// new-expressions with std::nothrow and called directly: they serve ordinary requests (plain, array, over-aligned)
// and return nullptr, without stopping the program, when the arena cannot serve one (a request larger than the
// arena, one whose size rounding up to the alignment would wrap, and the arena filled by 1 MiB blocks). The
// program links only if the board defines std::nothrow (libc++'s headers declare it; no library here defines it).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "tests/check.h"

namespace {

/// Sizes and pointers pass through here so that the compiler cannot see (or remove) the requests.
volatile std::size_t g_huge = SIZE_MAX - 8;
volatile std::size_t g_block = std::size_t{1} << 20;
void* volatile g_pointer = nullptr;

struct alignas(64) Wide {
  unsigned char bytes[64];
};

bool aligned(const void* p, std::size_t alignment) { return reinterpret_cast<std::uintptr_t>(p) % alignment == 0; }

void serves_ordinary_requests() {
  int* one = new (std::nothrow) int(42);
  g_pointer = one;
  NOSTD_CHECK(one != nullptr && *one == 42);
  delete one;

  int* many = new (std::nothrow) int[100];
  g_pointer = many;
  if (NOSTD_CHECK(many != nullptr)) {
    for (int i = 0; i < 100; ++i) many[i] = i;
    NOSTD_CHECK(many[99] == 99);
  }
  delete[] many;

  Wide* wide = new (std::nothrow) Wide{};
  g_pointer = wide;
  NOSTD_CHECK(wide != nullptr && aligned(wide, 64) && wide->bytes[63] == 0);
  delete wide;

  Wide* wides = new (std::nothrow) Wide[3];
  g_pointer = wides;
  NOSTD_CHECK(wides != nullptr && aligned(wides, 64));
  delete[] wides;

  void* raw = ::operator new(0, std::nothrow);  // a unique block, as the throwing form gives
  NOSTD_CHECK(raw != nullptr);
  ::operator delete(raw, std::nothrow);
  for (std::size_t alignment = 1; alignment <= 4096; alignment *= 2) {  // every power of two, 1 and 2 too
    raw = ::operator new[](24, std::align_val_t{alignment}, std::nothrow);
    NOSTD_CHECK(raw != nullptr && aligned(raw, alignment));
    ::operator delete[](raw, std::align_val_t{alignment}, std::nothrow);
  }
}

void returns_nullptr_beyond_the_arena() {
  NOSTD_CHECK(::operator new(g_huge, std::nothrow) == nullptr);
  NOSTD_CHECK(::operator new[](g_huge, std::nothrow) == nullptr);
  // SIZE_MAX - 8 rounded up to 64 would wrap: no block of 64 bytes instead.
  NOSTD_CHECK(::operator new (g_huge, std::align_val_t{64}, std::nothrow) == nullptr);
  NOSTD_CHECK(::operator new[](g_huge, std::align_val_t{64}, std::nothrow) == nullptr);
  char* chars = new (std::nothrow) char[g_huge];
  g_pointer = chars;  // else the compiler may drop the allocation and take its result as non-null
  NOSTD_CHECK(chars == nullptr);
  delete[] chars;
}

void returns_nullptr_when_the_arena_is_full() {
  constexpr int kMaxBlocks = 64;  // the arena is under 28 MiB
  void* blocks[kMaxBlocks] = {};
  int count = 0;
  while (count < kMaxBlocks) {
    void* p = ::operator new(g_block, std::nothrow);
    if (p == nullptr) break;
    std::memset(p, 0x5a, g_block);
    blocks[count++] = p;
  }
  NOSTD_CHECK(count > 0 && count < kMaxBlocks);  // the arena ran out, and not before the first block
  NOSTD_CHECK(::operator new(g_block, std::nothrow) == nullptr);
  NOSTD_CHECK(::operator new[](g_block, std::nothrow) == nullptr);
  NOSTD_CHECK(::operator new (g_block, std::align_val_t{64}, std::nothrow) == nullptr);
  NOSTD_CHECK(::operator new[](g_block, std::align_val_t{64}, std::nothrow) == nullptr);
  for (int i = 0; i < count; ++i) ::operator delete(blocks[i]);
  // Everything came back: the same request succeeds again.
  void* again = ::operator new(g_block, std::nothrow);
  NOSTD_CHECK(again != nullptr);
  ::operator delete(again);
}

}  // namespace

int main() {
  serves_ordinary_requests();
  returns_nullptr_beyond_the_arena();
  returns_nullptr_when_the_arena_is_full();
  return nostd::testing::check_exit_status("nothrow_new_test");
}
