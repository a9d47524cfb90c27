// libFuzzer target over the trace readers (bench/trace_io.h): any bytes, in any of the three forms (binary, text, raw),
// and what the tools (`replay`, `trace_convert`) promise about them, listed and checked in tests/trace_fuzz.h
// (check_trace_input), which //tests:trace_fuzz_corpus_test also calls on every input of tests/trace_fuzz_corpus in
// the ordinary test suites, without this toolchain.
//
//   ./bazelw run --config=fuzz //tests:trace_fuzzer -- -max_total_time=60 -dict=$PWD/tests/trace_fuzz.dict \
//       $(mktemp -d) $PWD/tests/trace_fuzz_corpus
//
// (the first directory receives new inputs; tests/trace_fuzz_corpus is the corpus kept in the repository: three
// seeds, `text`, `binary` and `raw`, valid traces each with allocate, aligned allocate, reallocate and free events,
// and the inputs an 8 min run grew from them, merged; README "The fuzz corpora". tests/trace_fuzz.dict holds the
// forms' tokens).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tests/trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* broken = nostd::testing::check_trace_input(data, size)) {
    std::fprintf(stderr, "trace_fuzzer: %s\n", broken);
    std::abort();  // a broken promise: libFuzzer saves the input as a crash
  }
  return 0;
}
