// libFuzzer target over the fuzz driver (tests/heap_fuzz.h), covering every fit × tag layout × check level × cache
// (none, QuickCache<>), and eight compositions after those with a 32-bit tag word or the medium-block cache
// QuickCache<8, 8192, 256> (issue 11's cache composition among them): the first byte of an input picks the
// composition, the rest is decoded into heap requests. The compositions and that dispatch live in
// tests/heap_fuzz_compositions.h (run_heap_fuzz_input), which //tests:heap_fuzz_corpus_test also calls on every input
// of tests/fuzz_corpus in the ordinary test suites, without this toolchain.
//
//   ./bazelw run --config=fuzz //tests:heap_fuzzer -- -max_total_time=60 $(mktemp -d) $PWD/tests/fuzz_corpus
//   ./bazelw run --config=fuzz_fast //tests:heap_fuzzer -- ...   (UBSan without ASan: see below)
//
// Under ASan the heap leaves out its speed paths (SegregatedFit's exact path and split slack, QuickCache's cache: they
// step aside for the memory tools, whose poisoning they would bypass), so --config=fuzz never reaches them;
// --config=fuzz_fast builds the same target with UBSan alone, where they run as in a release build. The cache also
// stands aside from DebugChecks up, so the cached compositions above BasicChecks run as the uncached ones do (kept
// for a uniform numbering of the seeds: composition I + 40 is composition I with the cache).
//
// (the first directory receives new inputs; tests/fuzz_corpus is the corpus kept in the repository: three hand-made
// seeds per composition, cNN_0, cNN_1 and cNN_cycle, and cNN_<sha1 prefix> inputs grown from them, NN being the
// composition their first byte picks; README "The fuzz corpora").
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tests/heap_fuzz_compositions.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!nostd::testing::run_heap_fuzz_input(data, size)) {
    std::abort();  // a broken invariant: libFuzzer saves the input as a crash
  }
  return 0;
}
