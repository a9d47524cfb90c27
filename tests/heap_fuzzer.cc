// libFuzzer target over the fuzz driver: ./bazelw run --config=fuzz //tests:heap_fuzzer -- -max_total_time=60
#include <cstdint>
#include <cstdlib>

#include "tests/heap_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nostd::testing::run_fuzz_input;
  if (!run_fuzz_input<nostd::BasicHeap<nostd::FirstFit, nostd::CompactTags, nostd::RegionSource>>(data, size) ||
      !run_fuzz_input<nostd::BasicHeap<nostd::BestFit, nostd::FullTags, nostd::RegionSource>>(data, size) ||
      !run_fuzz_input<nostd::BasicHeap<nostd::NextFit, nostd::CompactTags, nostd::RegionSource>>(data, size)) {
    std::abort();  // a broken invariant: libFuzzer saves the input as a crash
  }
  return 0;
}
