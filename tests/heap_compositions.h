// tests/heap_compositions.h — every heap composition the project ships, as lists of policies per role, and a way
// to visit each BasicHeap<Fit, Tags, Check, Source> combination. Framework-free: the bare-metal check program
// (tests/heap_checks.cc) runs its drivers over all of them. A new fit policy, tag layout or check level is one line
// in its list below, and every program that visits the compositions covers it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/alloc.h"

namespace nostd::testing {

/// A list of types (policies of one role).
template <class... Ts>
struct TypeList {
  /// How many types the list holds.
  static constexpr std::size_t kSize = sizeof...(Ts);
};

/// A fit policy composed with a cache policy: one entry of AllFits that yields BasicHeap<Fit, ..., Cache>.
template <class Fit, class Cache>
struct WithCache {};

/// Every fit policy, and SegregatedFit and FirstFit with QuickCache (deferred coalescing changes which blocks merge
/// when, so every driver runs over a cached heap too).
using AllFits = TypeList<FirstFit, NextFit, BestFit, SegregatedFit<>, WithCache<SegregatedFit<>, QuickCache<>>,
                         WithCache<FirstFit, QuickCache<>>>;

/// Every tag layout: both formats with pointer-sized tag words (CompactTags, FullTags) and with 16-bit ones, the
/// narrowest a tag word may be (blocks up to 64 KiB).
using AllTagLayouts = TypeList<CompactTags, FullTags, BasicCompactTags<std::uint16_t>, BasicFullTags<std::uint16_t>>;

/// Every check level. HardenedChecks and above draw their key from AddressSecret by default, which needs nothing
/// from the platform (bare-metal rv32 included).
using AllCheckLevels = TypeList<NoChecks, BasicChecks<>, HardenedChecks<>, DebugChecks<>, ParanoidChecks<>>;

/// The names of AllCheckLevels' entries, in order (for the per-level check targets' reports).
inline constexpr const char* kCheckLevelNames[] = {"NoChecks", "BasicChecks", "HardenedChecks", "DebugChecks",
                                                   "ParanoidChecks"};
static_assert(sizeof(kCheckLevelNames) / sizeof(kCheckLevelNames[0]) == AllCheckLevels::kSize,
              "heap_compositions: one name per check level");

/// How many compositions one check level has (every fit × tag layout).
inline constexpr std::size_t kCompositionsPerCheckLevel = AllFits::kSize * AllTagLayouts::kSize;

/// How many compositions for_each_composition visits.
inline constexpr std::size_t kCompositionCount = kCompositionsPerCheckLevel * AllCheckLevels::kSize;

namespace internal_compositions {

// BasicHeap for one AllFits entry: a fit policy, or WithCache<Fit, Cache>.
template <class FitEntry, class Tags, class Check, class Source>
struct HeapFor {
  using type = BasicHeap<FitEntry, Tags, Check, Source>;
};
template <class Fit, class Cache, class Tags, class Check, class Source>
struct HeapFor<WithCache<Fit, Cache>, Tags, Check, Source> {
  using type = BasicHeap<Fit, Tags, Check, Source, Cache>;
};

template <class Fit, class Tags, class Source, class Visitor, class... Checks>
void visit_checks(Visitor& visitor, TypeList<Checks...>) {
  (visitor.template operator()<typename HeapFor<Fit, Tags, Checks, Source>::type>(), ...);
}

template <class Fit, class Source, class CheckList, class Visitor, class... Tags>
void visit_tags(Visitor& visitor, TypeList<Tags...>) {
  (visit_checks<Fit, Tags, Source>(visitor, CheckList{}), ...);
}

template <class Source, class CheckList, class Visitor, class... Fits>
void visit_fits(Visitor& visitor, TypeList<Fits...>) {
  (visit_tags<Fits, Source, CheckList>(visitor, AllTagLayouts{}), ...);
}

template <std::size_t I, class T, class... Ts>
struct TypeAt : TypeAt<I - 1, Ts...> {};
template <class T, class... Ts>
struct TypeAt<0, T, Ts...> {
  using type = T;
};
template <std::size_t I, class List>
struct ListAt;
template <std::size_t I, class... Ts>
struct ListAt<I, TypeList<Ts...>> : TypeAt<I, Ts...> {};

}  // namespace internal_compositions

/// Calls `visitor.template operator()<Heap>()` for every Heap = BasicHeap<Fit, Tags, Check, Source> with Fit,
/// Tags and Check from the lists above (fit-major order), e.g. with a lambda `[&]<class Heap>() { ... }`.
template <class Source, class Visitor>
void for_each_composition(Visitor&& visitor) {
  internal_compositions::visit_fits<Source, AllCheckLevels>(visitor, AllFits{});
}

/// The check level at index `I` of AllCheckLevels.
template <std::size_t I>
requires(I <
         AllCheckLevels::kSize) using CheckLevelAt = typename internal_compositions::ListAt<I, AllCheckLevels>::type;

/// As for_each_composition, for the compositions of one check level only: every fit × tag layout with `Check`.
/// The check programs run one level per test target, so that none nears its timeout under QEMU or a sanitizer.
template <class Check, class Source, class Visitor>
void for_each_composition_at(Visitor&& visitor) {
  internal_compositions::visit_fits<Source, TypeList<Check>>(visitor, AllFits{});
}

/// The heap type's full name as the compiler spells it, for reports ("nostd::BasicHeap<nostd::FirstFit, ...>").
template <class Heap>
const char* composition_name() {
  return __PRETTY_FUNCTION__;
}

}  // namespace nostd::testing
