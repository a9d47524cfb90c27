// tests/heap_checks.cc — the heap stress and fuzz replay drivers over every composition (tests/heap_compositions.h:
// every fit × tag layout × check level, over RegionSource), without GoogleTest. This is what exercises those
// drivers on bare-metal rv32, where GoogleTest cannot be linked; it runs on every platform, so the same program
// also proves the framework-free drivers on the hosts and boards that run the GoogleTest suites too.
//
// NOSTD_CHECKS_LEVEL (an index into AllCheckLevels) limits the program to the compositions of one check level:
// tests/BUILD.bazel builds one target per level (heap_checks_no_checks ... heap_checks_paranoid), so that each stays
// far from its timeout on QEMU and under the sanitizers; without it the program visits every composition.
//
// Per composition: a seeded stress run (tests/heap_stress.h; NOSTD_CHECKS_STRESS_OPS operations at 60% fill,
// validate() after each of the first 5,000) and a seeded fuzz replay (tests/heap_fuzz.h; NOSTD_CHECKS_FUZZ_ROUNDS
// random inputs, validate() after every request). The GoogleTest suites run the longer versions (1,000,000 stress
// operations, 3,000 fuzz inputs) on a few compositions; this program trades length for breadth.
#include <cstdint>
#include <cstdio>
#include <memory>

#include "alloc/alloc.h"
#include "tests/check.h"
#include "tests/heap_compositions.h"
#include "tests/heap_fuzz.h"
#include "tests/heap_stress.h"
#include "tests/test_heap.h"

#ifndef NOSTD_CHECKS_STRESS_OPS
#define NOSTD_CHECKS_STRESS_OPS 20000
#endif
#ifndef NOSTD_CHECKS_ALWAYS_VALIDATE
#define NOSTD_CHECKS_ALWAYS_VALIDATE 5000
#endif
#ifndef NOSTD_CHECKS_FUZZ_ROUNDS
#define NOSTD_CHECKS_FUZZ_ROUNDS 200
#endif

namespace nostd::testing {
namespace {

/// The arena of each stress heap: 32 KiB, within reach of 16-bit tag words (blocks up to 64 KiB).
constexpr std::size_t kStressArena = 32 * 1024;

template <class Heap>
void check_composition() {
  const char* name = composition_name<Heap>();
  StressOptions options;
  options.ops = NOSTD_CHECKS_STRESS_OPS;
  options.always_validate = NOSTD_CHECKS_ALWAYS_VALIDATE;
  options.validate_every = 100;
  options.max_size_log = 11;  // up to 2 KiB requests in a 32 KiB arena
  auto owner = std::make_unique<TestHeap<Heap, kStressArena>>();
  const StressReport stress = run_stress<128>(owner->heap(), options);
  if (!NOSTD_CHECK(stress.ok())) {
    std::printf("  stress: %s at operation %lu (validate: %s)\n  in %s\n", stress.failure,
                static_cast<unsigned long>(stress.op), stress.fault.what != nullptr ? stress.fault.what : "passed",
                name);
  }
  const FuzzReplayReport fuzz = replay_seeded_inputs<Heap>(20261125, NOSTD_CHECKS_FUZZ_ROUNDS);
  if (!NOSTD_CHECK(fuzz.ok())) std::printf("  fuzz replay: round %d failed\n  in %s\n", fuzz.failed_round, name);
}

}  // namespace
}  // namespace nostd::testing

int main() {
  using namespace nostd::testing;
  std::size_t visited = 0;
  auto visit = [&]<class Heap>() {
    check_composition<Heap>();
    ++visited;
  };
#ifdef NOSTD_CHECKS_LEVEL
  // One check level per test target (tests/BUILD.bazel: heap_checks_<level>).
  for_each_composition_at<CheckLevelAt<NOSTD_CHECKS_LEVEL>, nostd::RegionSource>(visit);
  const std::size_t expected = kCompositionsPerCheckLevel;
  const char* const levels = kCheckLevelNames[NOSTD_CHECKS_LEVEL];
#else
  for_each_composition<nostd::RegionSource>(visit);
  const std::size_t expected = kCompositionCount;
  const char* const levels = "every check level";
#endif
  NOSTD_CHECK(visited == expected);
  std::printf("heap_checks (%s): %lu compositions, %d stress operations and %d fuzz inputs each\n", levels,
              static_cast<unsigned long>(visited), NOSTD_CHECKS_STRESS_OPS, NOSTD_CHECKS_FUZZ_ROUNDS);
  return check_exit_status("heap_checks");
}
