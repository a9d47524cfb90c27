// tests/heap_fuzz_compositions.h — the heap compositions of the libFuzzer target (tests/heap_fuzzer.cc) and the
// dispatch of one input to them: every fit × tag layout × check level × cache (none, QuickCache<>), and eight
// compositions after those with a 32-bit tag word or the medium-block cache QuickCache<8, 8192, 256> (issue 11's cache
// composition among them). The first byte of an input picks the composition (modulo kFuzzCompositions), the rest is
// decoded by run_fuzz_input (tests/heap_fuzz.h). Shared by the fuzzer and //tests:heap_fuzz_corpus_test, which runs
// the corpus kept in the repository (tests/fuzz_corpus) through the same function, so that the two cannot drift.
//
// Numbering: composition I < kFuzzProduct is fit I % 4, tags (I / 4) % 2, check level (I / 8) % 5, cache I / 40 (so
// composition I + 40 is composition I with QuickCache<>); the extras follow from kFuzzProduct on. The corpus' file
// names (cNN_...) carry NN = the composition their first byte picks: a new composition goes at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include "alloc/alloc.h"
#include "tests/heap_fuzz.h"

namespace nostd::testing {
namespace internal {

using FuzzFits = std::tuple<FirstFit, NextFit, BestFit, SegregatedFit<>>;
using FuzzTagLayouts = std::tuple<CompactTags, FullTags>;
using FuzzChecks = std::tuple<NoChecks, BasicChecks<>, HardenedChecks<>, DebugChecks<>, ParanoidChecks<>>;
using FuzzCaches = std::tuple<NoCache, QuickCache<>>;
inline constexpr std::size_t kFuzzFits = std::tuple_size_v<FuzzFits>;
inline constexpr std::size_t kFuzzTags = std::tuple_size_v<FuzzTagLayouts>;
inline constexpr std::size_t kFuzzChecks = std::tuple_size_v<FuzzChecks>;

// Compositions outside the product, numbered from kFuzzProduct on (so that the seed corpus' first bytes keep naming
// the product's compositions): the 32-bit tag word of the drop-in malloc's arenas, and the medium-block cache
// (MediumQuickCache).
using FuzzTags32 = BasicCompactTags<std::uint32_t>;
using FuzzExtras = std::tuple<BasicHeap<SegregatedFit<>, FuzzTags32, NoChecks, RegionSource>,
                              BasicHeap<SegregatedFit<>, FuzzTags32, RegionSource>,
                              BasicHeap<SegregatedFit<>, FuzzTags32, NoChecks, MediumQuickCache, RegionSource>,
                              BasicHeap<SegregatedFit<>, FuzzTags32, MediumQuickCache, RegionSource>,
                              BasicHeap<SegregatedFit<>, FullTags, MediumQuickCache, RegionSource>,
                              BasicHeap<FirstFit, FuzzTags32, QuickCache<>, RegionSource>,
                              BasicHeap<BestFit, FuzzTags32, HardenedChecks<>, RegionSource>,
                              BasicHeap<NextFit, FuzzTags32, DebugChecks<>, RegionSource>>;

}  // namespace internal

/// The compositions of the product: fit × tag layout × check level × cache.
inline constexpr std::size_t kFuzzProduct =
    internal::kFuzzFits * internal::kFuzzTags * internal::kFuzzChecks * std::tuple_size_v<internal::FuzzCaches>;

/// Every composition an input can pick: the product, then the extras.
inline constexpr std::size_t kFuzzCompositions = kFuzzProduct + std::tuple_size_v<internal::FuzzExtras>;

namespace internal {

template <std::size_t I>
struct FuzzCompositionOf {
  using type = BasicHeap<std::tuple_element_t<I % kFuzzFits, FuzzFits>,
                         std::tuple_element_t<(I / kFuzzFits) % kFuzzTags, FuzzTagLayouts>,
                         std::tuple_element_t<(I / (kFuzzFits * kFuzzTags)) % kFuzzChecks, FuzzChecks>,
                         std::tuple_element_t<I / (kFuzzFits * kFuzzTags * kFuzzChecks), FuzzCaches>, RegionSource>;
};
template <std::size_t I>
requires(I >= kFuzzProduct) struct FuzzCompositionOf<I> {
  using type = std::tuple_element_t<I - kFuzzProduct, FuzzExtras>;
};

template <std::size_t... I>
bool run_fuzz_composition(std::size_t which, const std::uint8_t* data, std::size_t size, std::index_sequence<I...>) {
  bool ok = true;
  ((which == I ? (ok = run_fuzz_input<typename FuzzCompositionOf<I>::type>(data, size), 0) : 0), ...);
  return ok;
}

}  // namespace internal

/// The heap type of composition `I` (I < kFuzzCompositions), numbered as the file comment says.
template <std::size_t I>
requires(I < kFuzzCompositions) using FuzzComposition = typename internal::FuzzCompositionOf<I>::type;

/// The composition an input picks: its first byte modulo kFuzzCompositions (an empty input picks none: returns
/// kFuzzCompositions).
constexpr std::size_t fuzz_composition_of(const std::uint8_t* data, std::size_t size) noexcept {
  return size == 0 ? kFuzzCompositions : data[0] % kFuzzCompositions;
}

/// Runs one fuzz input as the libFuzzer target does: the first byte picks the composition (fuzz_composition_of), the
/// rest goes to run_fuzz_input on a fresh heap of it. Returns false at the first broken expectation, true when all
/// held (an empty input holds trivially). Compiles all kFuzzCompositions drivers.
inline bool run_heap_fuzz_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return true;
  return internal::run_fuzz_composition(fuzz_composition_of(data, size), data + 1, size - 1,
                                        std::make_index_sequence<kFuzzCompositions>{});
}

}  // namespace nostd::testing
