// The heap fuzz corpus kept in the repository (tests/fuzz_corpus: the hand-made seeds and the inputs grown from them,
// README "The fuzz corpora") run through the libFuzzer target's own per-input function, run_heap_fuzz_input
// (tests/heap_fuzz_compositions.h), in the ordinary test suites: a regression on a deep path that only a grown input
// reaches fails `./bazelw test //...` without the fuzz toolchain. Every input ends with validate() and stats() checked
// after each of its requests, and its heap drained, flushed and checked whole (tests/heap_fuzz.h).
#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>

#include "tests/corpus_files.h"
#include "tests/heap_fuzz_compositions.h"

namespace nostd::testing {
namespace {

// Three hand-made seeds per composition: cNN_0, cNN_1 and cNN_cycle.
constexpr std::size_t kSeedsPerComposition = 3;

std::string two_digits(std::size_t n) { return (n < 10 ? "0" : "") + std::to_string(n); }

TEST(HeapFuzzCorpus, EveryInputKeepsTheHeapSound) {
  const auto corpus = read_corpus("tests/fuzz_corpus");
  ASSERT_TRUE(corpus.has_value()) << corpus.error();
  // Fails loudly on a corpus lost from the runfiles (a glob that matched nothing, a directory moved): at least the
  // seeds must be there.
  ASSERT_GE(corpus->size(), kFuzzCompositions * kSeedsPerComposition) << "tests/fuzz_corpus holds too few inputs";

  std::set<std::string> names;
  std::size_t failed = 0;
  for (const CorpusFile& file : *corpus) {
    names.insert(file.name);
    // cNN_...: NN is the composition the input's first byte picks (the corpus' naming, README "The fuzz corpora").
    const std::size_t composition = fuzz_composition_of(file.bytes.data(), file.bytes.size());
    EXPECT_EQ(file.name.substr(0, 4), "c" + two_digits(composition) + "_")
        << file.name << ": its first byte picks composition " << composition;
    if (!run_heap_fuzz_input(file.bytes.data(), file.bytes.size())) {
      ++failed;
      ADD_FAILURE() << "tests/fuzz_corpus/" << file.name << " (" << file.bytes.size() << " bytes, composition "
                    << composition << "): run_heap_fuzz_input found a broken expectation";
    }
  }
  EXPECT_EQ(failed, 0u) << "of " << corpus->size() << " inputs";
  for (std::size_t composition = 0; composition < kFuzzCompositions; ++composition) {
    for (const char* seed : {"_0", "_1", "_cycle"}) {
      const std::string name = "c" + two_digits(composition) + seed;
      EXPECT_TRUE(names.contains(name)) << "the seed tests/fuzz_corpus/" << name << " is missing";
    }
  }
}

}  // namespace
}  // namespace nostd::testing
