// The trace fuzz corpus kept in the repository (tests/trace_fuzz_corpus: three seeds, a text, a binary and a raw
// trace, and the inputs grown from them, README "The fuzz corpora") run through the libFuzzer target's own per-input
// function, check_trace_input (tests/trace_fuzz.h), in the ordinary test suites: every promise the trace tools make
// about those bytes is checked without the fuzz toolchain.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>

#include "tests/corpus_files.h"
#include "tests/trace_fuzz.h"

namespace nostd::testing {
namespace {

TEST(TraceFuzzCorpus, EveryInputKeepsTheTraceToolsPromises) {
  const auto corpus = read_corpus("tests/trace_fuzz_corpus");
  ASSERT_TRUE(corpus.has_value()) << corpus.error();
  // Fails loudly on a corpus lost from the runfiles: at least the three seeds must be there.
  ASSERT_GE(corpus->size(), 3u) << "tests/trace_fuzz_corpus holds too few inputs";
  for (const char* seed : {"text", "binary", "raw"}) {
    EXPECT_TRUE(std::any_of(corpus->begin(), corpus->end(), [&](const CorpusFile& f) { return f.name == seed; }))
        << "the seed tests/trace_fuzz_corpus/" << seed << " is missing";
  }
  std::size_t failed = 0;
  for (const CorpusFile& file : *corpus) {
    if (const char* broken = check_trace_input(file.bytes.data(), file.bytes.size())) {
      ++failed;
      ADD_FAILURE() << "tests/trace_fuzz_corpus/" << file.name << " (" << file.bytes.size() << " bytes): " << broken;
    }
  }
  EXPECT_EQ(failed, 0u) << "of " << corpus->size() << " inputs";
}

}  // namespace
}  // namespace nostd::testing
