// libFuzzer target over the fuzz driver (tests/heap_fuzz.h), covering every fit × tag layout × check level × cache
// (none, QuickCache<>), and eight compositions after those with a 32-bit tag word or the medium-block cache
// QuickCache<8, 8192, 256> (issue 11's cache composition among them): the first byte of an input picks the
// composition, the rest is decoded into heap requests.
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
#include <tuple>
#include <utility>

#include "tests/heap_fuzz.h"

namespace {

using Fits = std::tuple<nostd::FirstFit, nostd::NextFit, nostd::BestFit, nostd::SegregatedFit<>>;
using TagLayouts = std::tuple<nostd::CompactTags, nostd::FullTags>;
using Checks = std::tuple<nostd::NoChecks, nostd::BasicChecks<>, nostd::HardenedChecks<>, nostd::DebugChecks<>,
                          nostd::ParanoidChecks<>>;
using Caches = std::tuple<nostd::NoCache, nostd::QuickCache<>>;
constexpr std::size_t kFits = std::tuple_size_v<Fits>;
constexpr std::size_t kTags = std::tuple_size_v<TagLayouts>;
constexpr std::size_t kChecks = std::tuple_size_v<Checks>;
constexpr std::size_t kCaches = std::tuple_size_v<Caches>;
constexpr std::size_t kProduct = kFits * kTags * kChecks * kCaches;

// Compositions outside the product, numbered from kProduct on (so that the seed corpus' first bytes keep naming the
// product's compositions): the 32-bit tag word of the drop-in malloc's arenas, and the medium-block cache.
using Tags32 = nostd::BasicCompactTags<std::uint32_t>;
using MediumCache = nostd::QuickCache<8, 8192, 256>;
using Extras =
    std::tuple<nostd::BasicHeap<nostd::SegregatedFit<>, Tags32, nostd::NoChecks, nostd::RegionSource>,
               nostd::BasicHeap<nostd::SegregatedFit<>, Tags32, nostd::RegionSource>,
               nostd::BasicHeap<nostd::SegregatedFit<>, Tags32, nostd::NoChecks, MediumCache, nostd::RegionSource>,
               nostd::BasicHeap<nostd::SegregatedFit<>, Tags32, MediumCache, nostd::RegionSource>,
               nostd::BasicHeap<nostd::SegregatedFit<>, nostd::FullTags, MediumCache, nostd::RegionSource>,
               nostd::BasicHeap<nostd::FirstFit, Tags32, nostd::QuickCache<>, nostd::RegionSource>,
               nostd::BasicHeap<nostd::BestFit, Tags32, nostd::HardenedChecks<>, nostd::RegionSource>,
               nostd::BasicHeap<nostd::NextFit, Tags32, nostd::DebugChecks<>, nostd::RegionSource>>;
constexpr std::size_t kCompositions = kProduct + std::tuple_size_v<Extras>;

// Composition `I` = fit, tags, check level and cache by mixed radix, then the extras.
template <std::size_t I>
struct CompositionOf {
  using type =
      nostd::BasicHeap<std::tuple_element_t<I % kFits, Fits>, std::tuple_element_t<(I / kFits) % kTags, TagLayouts>,
                       std::tuple_element_t<(I / (kFits * kTags)) % kChecks, Checks>,
                       std::tuple_element_t<I / (kFits * kTags * kChecks), Caches>, nostd::RegionSource>;
};
template <std::size_t I>
requires(I >= kProduct) struct CompositionOf<I> {
  using type = std::tuple_element_t<I - kProduct, Extras>;
};
template <std::size_t I>
using Composition = typename CompositionOf<I>::type;

template <std::size_t... I>
bool run_composition(std::size_t which, const std::uint8_t* data, std::size_t size, std::index_sequence<I...>) {
  bool ok = true;
  ((which == I ? (ok = nostd::testing::run_fuzz_input<Composition<I>>(data, size), 0) : 0), ...);
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (!run_composition(data[0] % kCompositions, data + 1, size - 1, std::make_index_sequence<kCompositions>{})) {
    std::abort();  // a broken invariant: libFuzzer saves the input as a crash
  }
  return 0;
}
