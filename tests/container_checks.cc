// tests/container_checks.cc — the Vec model check (tests/vec_model_check.h: seeded random operations with injected
// allocation failures against a model, the strong guarantee after every failure) without GoogleTest, for bare-metal
// rv32, where GoogleTest cannot be linked; it runs on every platform.
//
// First the cases of the GoogleTest suite (tests/vec_test.cc, VecStressTest: counted, plain and over-aligned
// elements on the container suites' heaps, with and without reallocate / usable_size), 3,000 steps each; then a
// vector of counted elements on every heap composition (tests/heap_compositions.h), NOSTD_CHECKS_VEC_STEPS steps
// each, and the reproducer of issue 10's case 3 (tests/vec_failed_growth_check.h) on each composition
// (NOSTD_CHECKS_LEVEL: only the compositions of that check level, and the suite's cases only with level 0;
// tests/BUILD.bazel builds one target per level). After each run the heap validates, no block is live and every element
// constructed was destroyed once.
#include <cstddef>
#include <cstdio>
#include <span>

#include "alloc/alloc.h"
#include "tests/check.h"
#include "tests/container_heaps.h"
#include "tests/elements.h"
#include "tests/fault_allocator.h"
#include "tests/heap_compositions.h"
#include "tests/vec_failed_growth_check.h"
#include "tests/vec_model_check.h"

#ifndef NOSTD_CHECKS_VEC_STEPS
#define NOSTD_CHECKS_VEC_STEPS 500
#endif

namespace nostd::test {
namespace {

/// Runs the model check for elements `T` on `heap` through a FaultyAlloc exposing `kCaps`, then checks that the
/// heap is sound and empty and that the elements balance. `name` identifies the case in a report.
template <class T, unsigned kCaps, class Heap>
void check_case(Heap& heap, int steps, const char* name) {
  census() = Census{};
  FaultInjector<Heap> injector(heap);
  const VecModelReport report = run_vec_model<T, kCaps>(injector, 20261125, steps);
  if (!NOSTD_CHECK(report.ok())) {
    std::printf("  %s at step %d (%d failed operations)\n  in %s\n", report.failure, report.step,
                report.failed_operations, name);
  }
  if (!NOSTD_CHECK(heap.validate().has_value())) std::printf("  in %s\n", name);
  if (!NOSTD_CHECK(heap.stats().live_allocations == 0)) std::printf("  blocks leaked in %s\n", name);
  if (!NOSTD_CHECK(census().live() == 0 && census().errors == 0)) {
    std::printf("  elements: %ld live, %ld lifetime errors in %s\n", census().live(), census().errors, name);
  }
}

template <class T, unsigned kCaps, class Heap>
void check_suite_case(Heap& heap, const char* name) {
  check_case<T, kCaps>(heap, 3000, name);
}

// The container suites' heaps, constant-initialised as a firmware's would be.
[[maybe_unused]] constinit FirstFitCompactHeap first_fit_compact;  // unused with NOSTD_CHECKS_LEVEL > 0
[[maybe_unused]] constinit BestFitFullHeap best_fit_full;

/// The memory every composition's heap is built over, one after another.
alignas(64) std::byte arena[kTestHeapBytes];

}  // namespace
}  // namespace nostd::test

int main() {
  using namespace nostd::test;
  using nostd::testing::kCheckLevelNames;
  std::size_t suite_cases = 0;
#if !defined(NOSTD_CHECKS_LEVEL) || NOSTD_CHECKS_LEVEL == 0
  // The suite's cases (tests/vec_test.cc: StressCases), with the first check level's target.
  check_suite_case<Counted, kAllCapabilities>(first_fit_compact, "Counted, FirstFit + CompactTags");
  check_suite_case<Counted, kAllCapabilities>(best_fit_full, "Counted, BestFit + FullTags");
  check_suite_case<Counted, kNoCapabilities>(first_fit_compact, "Counted, FirstFit + CompactTags, plain");
  check_suite_case<int, kAllCapabilities>(first_fit_compact, "int, FirstFit + CompactTags");
  check_suite_case<Aligned64, kAllCapabilities>(best_fit_full, "Aligned64, BestFit + FullTags");
  suite_cases = 5;
#endif
  // Every composition (of one check level with NOSTD_CHECKS_LEVEL), over the same region one after another.
  std::size_t visited = 0;
  auto visit = [&]<class Heap>() {
    Heap heap{std::span<std::byte>(arena)};
    check_case<Counted, kAllCapabilities>(heap, NOSTD_CHECKS_VEC_STEPS, nostd::testing::composition_name<Heap>());
    // Issue 10, case 3: a failed emplace of an owning handle leaves it with the caller.
    const FailedGrowthReport growth = check_failed_emplace_keeps_argument<Heap>();
    if (!NOSTD_CHECK(growth.ok())) {
      std::printf("  failed growth: %s at call %d\n  in %s\n", growth.failure, growth.call,
                  nostd::testing::composition_name<Heap>());
    }
    ++visited;
  };
#ifdef NOSTD_CHECKS_LEVEL
  nostd::testing::for_each_composition_at<nostd::testing::CheckLevelAt<NOSTD_CHECKS_LEVEL>, nostd::RegionSource>(visit);
  const std::size_t expected = nostd::testing::kCompositionsPerCheckLevel;
  const char* const levels = kCheckLevelNames[NOSTD_CHECKS_LEVEL];
#else
  nostd::testing::for_each_composition<nostd::RegionSource>(visit);
  const std::size_t expected = nostd::testing::kCompositionCount;
  const char* const levels = "every check level";
#endif
  NOSTD_CHECK(visited == expected);
  std::printf("container_checks (%s): %lu suite cases of 3000 steps, %lu compositions of %d steps\n", levels,
              static_cast<unsigned long>(suite_cases), static_cast<unsigned long>(visited), NOSTD_CHECKS_VEC_STEPS);
  return nostd::testing::check_exit_status("container_checks");
}
