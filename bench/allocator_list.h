// bench/allocator_list.h — the allocators the fit comparison and the trace replay run, in table order.
//
// Each entry pairs a name with the replay passes instantiated for its adapter, so the tools loop over allocators
// at run time while every replay loop is compiled for one concrete allocator. fit_compare runs
// `all_allocators()`; `//bench:replay` runs `all_compositions()`, which adds the check levels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alloc/alloc.h"
#include "bench/bench_allocator.h"
#include "bench/heap_adapter.h"
#include "bench/heap_map.h"
#include "bench/replay_passes.h"

// The opt-in external allocators: //bench:o1heap_adapter and //bench:tlsf_adapter define these switches for the
// targets that depend on them (//bench:fit_compare_ext).
#ifdef NOSTD_BENCH_O1HEAP
#include "bench/o1heap_adapter.h"
#endif
#ifdef NOSTD_BENCH_TLSF
#include "bench/tlsf_adapter.h"
#endif

namespace nostd::bench {

/// One allocator of the comparison.
struct AllocatorEntry {
  /// Name in tables and `--allocators=` ("first/compact", "glibc", ...).
  const char* name;
  /// The throughput pass for this allocator.
  ThroughputRun (*throughput)(std::span<std::byte> arena, const Trace& trace, SlotTable& slots, double cap_seconds,
                              Progress& progress);
  /// The latency and fragmentation pass for this allocator.
  DetailRun (*detail)(std::span<std::byte> arena, const Trace& trace, std::uint64_t drain_begin, SlotTable& slots,
                      double cap_seconds, Progress& progress, LatencyBuffers& buffers);
  /// The sizing probe: does the trace fit in `arena`? nullptr for allocators that grow from the OS.
  Probe (*fits)(std::span<std::byte> arena, const Trace& trace, SlotTable& slots, double cap_seconds);
  /// The heap map pass; nullptr for allocators whose blocks cannot be walked, and for check-level variants (the
  /// check level does not move blocks, so their map is their unchecked twin's).
  HeapMap (*map)(std::span<std::byte> arena, const Trace& trace, std::uint64_t peak_index, SlotTable& slots,
                 const HeapMapShape& shape);
};

/// The entry for adapter `A`; `with_map`: draw its heap map.
template <BenchAllocator A>
constexpr AllocatorEntry make_entry(const char* name, bool with_map = true) {
  AllocatorEntry e{name, &replay_throughput<A>, &replay_detail<A>, nullptr, nullptr};
  if constexpr (HasFreeSpace<A>) e.fits = &replay_fits<A>;
  if constexpr (HasWalk<A>) {
    if (with_map) e.map = &replay_map<A>;
  }
  return e;
}

/// BasicChecks<> without safe unlinking: the rows "…/unsafe-unlink" price safe unlinking as their ratio to the
/// BasicChecks row of the same fit and tags, measured in the same interleaved run. Not a configuration to ship: one
/// use-after-free write to a free block's links then steers the next unlink (issue 10, case 2).
struct BasicChecksWithoutSafeUnlink {
  using policy_role = role::Check;
  static constexpr CheckLevel kLevel = CheckLevel::kBasic;
  static constexpr bool kSafeUnlink = false;
  /// Forwards to AbortOnFault.
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { AbortOnFault::on_fault(fault); }
};

/// True when `--allocators=` word `word` selects the allocator named `name`: a word selects every name that contains
/// it ("seg" selects every SegregatedFit row), and a word written `=name` selects that one name only
/// ("=seg/compact/nochecks", not its "+cache" variants).
inline bool word_selects(std::string_view word, std::string_view name) {
  if (word.empty()) return false;  // "a,,b" or a trailing comma: an empty word is a typo, not "everything"
  if (word.front() == '=') return name == word.substr(1);
  return name.find(word) != std::string_view::npos;
}

/// The entries of `entries` that `words` (the `--allocators=` list) select, in table order; every entry when `words`
/// is empty. A word that selects nothing (an empty word included) is an error, so that a typo does not silently
/// change the table: `bad_word` (not null) is set to it and the result is empty.
inline std::vector<const AllocatorEntry*> select_allocators(std::span<const AllocatorEntry> entries,
                                                            std::span<const std::string> words, std::string* bad_word) {
  std::vector<const AllocatorEntry*> selected;
  for (const AllocatorEntry& e : entries) {
    if (words.empty() ||
        std::any_of(words.begin(), words.end(), [&](const std::string& w) { return word_selects(w, e.name); })) {
      selected.push_back(&e);
    }
  }
  for (const std::string& w : words) {
    if (std::none_of(entries.begin(), entries.end(),
                     [&](const AllocatorEntry& e) { return word_selects(w, e.name); })) {
      *bad_word = w;
      return {};
    }
  }
  return selected;
}

/// The line a tool prints when select_allocators refuses `bad_word` (the caller then exits 2).
inline void print_unselected(const char* tool, const std::string& bad_word) {
  if (bad_word.empty()) {
    std::fprintf(stderr, "%s: --allocators: an empty word (no value, or a doubled or trailing comma) selects nothing\n",
                 tool);
  } else {
    std::fprintf(stderr, "%s: --allocators word '%s' selects no allocator (--help lists the names)\n", tool,
                 bad_word.c_str());
  }
}

/// The first-fit composition every throughput is also divided by ("÷ first").
inline constexpr const char* kFirstFitBaseline = "first/compact";
/// The system allocator every throughput is also divided by ("÷ glibc").
inline constexpr const char* kGlibcBaseline = "glibc";

/// Every allocator of the fit comparison, in table order (heaps with the default BasicChecks<>).
inline std::span<const AllocatorEntry> all_allocators() {
  static const AllocatorEntry kAll[] = {
      make_entry<HeapAdapter<FirstFit, CompactTags>>("first/compact"),
      make_entry<HeapAdapter<FirstFit, FullTags>>("first/full"),
      make_entry<HeapAdapter<NextFit, CompactTags>>("next/compact"),
      make_entry<HeapAdapter<NextFit, FullTags>>("next/full"),
      make_entry<HeapAdapter<BestFit, CompactTags>>("best/compact"),
      make_entry<HeapAdapter<BestFit, FullTags>>("best/full"),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags>>("seg/compact"),
      make_entry<HeapAdapter<SegregatedFit<>, FullTags>>("seg/full"),
      // QuickCache (deferred coalescing of blocks up to 1 KiB, 8 per size) on SegregatedFit and FirstFit.
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, BasicChecks<>, QuickCache<>>>("seg/compact+cache"),
      make_entry<HeapAdapter<FirstFit, CompactTags, BasicChecks<>, QuickCache<>>>("first/compact+cache", false),
      // The unchecked heaps: the price of BasicChecks (pointer check and safe unlinking) is the ratio to the
      // checked row of the same fit and tags, from the same run.
      make_entry<HeapAdapter<FirstFit, CompactTags, NoChecks>>("first/compact/nochecks", false),
      make_entry<HeapAdapter<NextFit, CompactTags, NoChecks>>("next/compact/nochecks", false),
      make_entry<HeapAdapter<BestFit, CompactTags, NoChecks>>("best/compact/nochecks", false),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks>>("seg/compact/nochecks", false),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, QuickCache<>>>("seg/compact/nochecks+cache",
                                                                                    false),
      // The lists per class fixed at 16 (the default on 32-bit targets) and 32 (on 64-bit ones), to compare the two
      // defaults on either kind of target (README, "Lists per class on a 32-bit target").
      make_entry<HeapAdapter<SegregatedFit<0, 16>, CompactTags, NoChecks>>("seg-l16/compact/nochecks", false),
      make_entry<HeapAdapter<SegregatedFit<0, 32>, CompactTags, NoChecks>>("seg-l32/compact/nochecks", false),
      // A shallower cache: less memory held unmerged, fewer hits (README "QuickCache" has the depth trade-off).
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, QuickCache<6>>>("seg/compact/nochecks+cache6",
                                                                                     false),
      // A cache for workload b's medium blocks too (up to 8 KiB) that gives way at 1/256 of the touched memory
      // instead of 1/16, so that holding them back costs b no more than a point of fragmentation
      // (docs/segregated_fit_log.md, issue 11's throughput target).
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, MediumQuickCache>>("seg/compact/nochecks+cache8k",
                                                                                        false),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, BasicChecks<>, MediumQuickCache>>("seg/compact+cache8k",
                                                                                             false),
      // Half-word tags (BasicCompactTags<std::uint32_t>: 4 bytes per used block on 64-bit, blocks under 4 GiB), as
      // the drop-in malloc's arenas use them: the tags' share of the touched memory and of the time
      // (docs/segregated_fit_log.md, "Half-word tags").
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, NoChecks>>("seg/compact32/nochecks",
                                                                                          false),
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, NoChecks, QuickCache<>>>(
          "seg/compact32/nochecks+cache", false),
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, BasicChecks<>, QuickCache<>>>(
          "seg/compact32+cache"),
      // Both together: the composition that meets issue 11's throughput and fragmentation targets together (with
      // BasicChecks, read as 10 % below the NoChecks targets; README, issue 11's targets), and the drop-in malloc's
      // arena heap (platform/malloc/malloc_heap.h) at its two cached levels.
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, NoChecks, MediumQuickCache>>(
          "seg/compact32/nochecks+cache8k", false),
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, BasicChecks<>, MediumQuickCache>>(
          "seg/compact32+cache8k", false),
      // BasicChecks without safe unlinking: its price is the checked row's ratio to these (issue 10).
      make_entry<HeapAdapter<FirstFit, CompactTags, BasicChecksWithoutSafeUnlink>>("first/compact/unsafe-unlink",
                                                                                   false),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, BasicChecksWithoutSafeUnlink>>("seg/compact/unsafe-unlink",
                                                                                          false),
      // The levels above BasicChecks on first/compact: README "Hardening" compares them with NoChecks.
      make_entry<HeapAdapter<FirstFit, CompactTags, HardenedChecks<>>>("first/compact/hardened", false),
      make_entry<HeapAdapter<FirstFit, CompactTags, DebugChecks<>>>("first/compact/debug", false),
      make_entry<MallocAdapter>("glibc"),
      make_entry<PmrPoolAdapter>("pmr/pool"),
  // External allocators over the same arena, opt-in (//bench:fit_compare_ext).
#ifdef NOSTD_BENCH_O1HEAP
      make_entry<O1heapAdapter>("ext/o1heap"),
#endif
#ifdef NOSTD_BENCH_TLSF
      make_entry<TlsfAdapter>("ext/tlsf"),
#endif
  };
  return kAll;
}

/// Every composition a recorded trace is replayed against: each fit × tag layout at the two check levels that
/// change the cost of a call (BasicChecks<>, the default, which checks every pointer freed; NoChecks, which
/// trusts it), then glibc and the pmr pool. Names: "fit/tags" for BasicChecks, "fit/tags/nochecks".
inline std::span<const AllocatorEntry> all_compositions() {
  static const AllocatorEntry kAll[] = {
      make_entry<HeapAdapter<FirstFit, CompactTags>>("first/compact"),
      make_entry<HeapAdapter<FirstFit, CompactTags, NoChecks>>("first/compact/nochecks", false),
      make_entry<HeapAdapter<FirstFit, FullTags>>("first/full"),
      make_entry<HeapAdapter<FirstFit, FullTags, NoChecks>>("first/full/nochecks", false),
      make_entry<HeapAdapter<NextFit, CompactTags>>("next/compact"),
      make_entry<HeapAdapter<NextFit, CompactTags, NoChecks>>("next/compact/nochecks", false),
      make_entry<HeapAdapter<NextFit, FullTags>>("next/full"),
      make_entry<HeapAdapter<NextFit, FullTags, NoChecks>>("next/full/nochecks", false),
      make_entry<HeapAdapter<BestFit, CompactTags>>("best/compact"),
      make_entry<HeapAdapter<BestFit, CompactTags, NoChecks>>("best/compact/nochecks", false),
      make_entry<HeapAdapter<BestFit, FullTags>>("best/full"),
      make_entry<HeapAdapter<BestFit, FullTags, NoChecks>>("best/full/nochecks", false),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags>>("seg/compact"),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks>>("seg/compact/nochecks", false),
      make_entry<HeapAdapter<SegregatedFit<>, FullTags>>("seg/full"),
      make_entry<HeapAdapter<SegregatedFit<>, FullTags, NoChecks>>("seg/full/nochecks", false),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, BasicChecks<>, QuickCache<>>>("seg/compact+cache"),
      make_entry<HeapAdapter<SegregatedFit<>, CompactTags, NoChecks, QuickCache<>>>("seg/compact/nochecks+cache",
                                                                                    false),
      // Half-word tags with QuickCache<>: the drop-in malloc's arena heap until 2026-12-06 (its heap map gave way to
      // the drop-in's own, below).
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, BasicChecks<>, QuickCache<>>>(
          "seg/compact32+cache", false),
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, NoChecks, QuickCache<>>>(
          "seg/compact32/nochecks+cache", false),
      // The drop-in malloc's arena heap (platform/malloc/malloc_heap.h: half-word tags, bins to 8 KiB), at its two
      // cached levels.
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, BasicChecks<>, MediumQuickCache>>(
          "seg/compact32+cache8k"),
      make_entry<HeapAdapter<SegregatedFit<>, BasicCompactTags<std::uint32_t>, NoChecks, MediumQuickCache>>(
          "seg/compact32/nochecks+cache8k", false),
      make_entry<MallocAdapter>("glibc"),
      make_entry<PmrPoolAdapter>("pmr/pool"),
  };
  return kAll;
}

}  // namespace nostd::bench
