// tests/preload/calloc_program.cc — calloc under the drop-in (or glibc): every block reads zero, and how much it
// costs. Prints the process's CPU seconds; exits 1 at the first non-zero byte a calloc handed out.
//   calloc_program sparse   400 callocs of 200 KiB kept live, one byte written per 64 KiB (a table used sparsely:
//                           memory never handed out need not be cleared, nor its pages made resident), all freed
//   calloc_program small    2,000,000 calloc(64) + free pairs over 1,000 live slots, each block written after
//   calloc_program reuse    the sparse blocks written whole and freed, then calloc'd again: old data must be cleared
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// True when the `size` bytes at `p` are zero; reads one byte per `stride` and the last one. Through a volatile
// pointer: a compiler that knows calloc's contract may otherwise fold the test to true (clang -O2 did).
bool zero(const volatile unsigned char* p, std::size_t size, std::size_t stride) {
  for (std::size_t i = 0; i < size; i += stride) {
    if (p[i] != 0) return false;
  }
  return size == 0 || p[size - 1] == 0;
}

constexpr int kBlocks = 400;
constexpr std::size_t kBlockBytes = 200 * 1024;
constexpr std::size_t kSparseStride = 64 * 1024;

// Sparse use: one byte written per kSparseStride, after the zeros are checked every `stride` bytes (1: all of them).
bool sparse(unsigned char** blocks, std::size_t stride) {
  for (int i = 0; i < kBlocks; ++i) {
    blocks[i] = static_cast<unsigned char*>(std::calloc(1, kBlockBytes));
    if (blocks[i] == nullptr || !zero(blocks[i], kBlockBytes, stride)) return false;
    for (std::size_t j = 0; j < kBlockBytes; j += kSparseStride) blocks[i][j] = 1;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "sparse";
  const double start = cpu_seconds();
  static unsigned char* blocks[kBlocks];
  if (std::strcmp(mode, "small") == 0) {
    static unsigned char* slot[1000];
    for (long i = 0; i < 2'000'000; ++i) {
      const long k = (i * 7919) % 1000;
      std::free(slot[k]);
      slot[k] = static_cast<unsigned char*>(std::calloc(1, 64));
      if (slot[k] == nullptr || !zero(slot[k], 64, 1)) return 1;
      std::memset(slot[k], 0xA5, 64);
    }
    for (unsigned char* p : slot) std::free(p);
  } else if (std::strcmp(mode, "sparse") == 0) {
    if (!sparse(blocks, kSparseStride)) return 1;
    for (unsigned char* p : blocks) std::free(p);
  } else if (std::strcmp(mode, "reuse") == 0) {
    if (!sparse(blocks, kSparseStride)) return 1;
    for (unsigned char* p : blocks) {
      std::memset(p, 0xA5, kBlockBytes);
      std::free(p);
    }
    if (!sparse(blocks, 1)) return 1;
    for (unsigned char* p : blocks) std::free(p);
  } else {
    std::fprintf(stderr, "calloc_program: unknown mode '%s' (sparse, small or reuse)\n", mode);
    return 2;
  }
  std::printf("%s: %.3f s CPU\n", mode, cpu_seconds() - start);
  return 0;
}
