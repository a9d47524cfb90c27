// tests/corruption_checks.cc — issue 10's cases 1 and 2 (tests/corruption_check.h) over every fit × tag layout,
// without GoogleTest, so that they run on bare-metal rv32 too: validate() reports junk in a free block's links
// instead of following it (NoChecks, BasicChecks, HardenedChecks), and safe unlinking refuses the unlink attack
// (BasicChecks, HardenedChecks), each with the recording handler (tests/fault_jump.h). DebugChecks and
// ParanoidChecks report the same writes earlier, as a write into a poisoned free block (tests/hardening_test.cc).
#include <cstdio>

#include "alloc/alloc.h"
#include "tests/check.h"
#include "tests/corruption_check.h"
#include "tests/fault_jump.h"
#include "tests/heap_compositions.h"

namespace nostd::testing {
namespace {

template <class Heap>
void check_case1() {
  const test::CorruptionReport r = test::check_validate_reports_dangling_links<Heap>();
  if (!NOSTD_CHECK(r.ok())) std::printf("  case 1: %s\n  in %s\n", r.failure, composition_name<Heap>());
}

template <class Heap>
void check_case2() {
  const test::CorruptionReport r = test::check_unlink_attack_is_refused<Heap>();
  if (!NOSTD_CHECK(r.ok())) std::printf("  case 2: %s\n  in %s\n", r.failure, composition_name<Heap>());
}

}  // namespace
}  // namespace nostd::testing

int main() {
  using namespace nostd::testing;
  using nostd::RegionSource;
  int visited = 0;
  auto case1 = [&]<class Heap>() {
    check_case1<Heap>();
    ++visited;
  };
  auto both = [&]<class Heap>() {
    check_case1<Heap>();
    check_case2<Heap>();
    visited += 2;
  };
  for_each_composition_at<nostd::NoChecks, RegionSource>(case1);
  for_each_composition_at<nostd::BasicChecks<RecordingHandler>, RegionSource>(both);
  for_each_composition_at<nostd::HardenedChecks<RecordingHandler>, RegionSource>(both);
  NOSTD_CHECK(visited == static_cast<int>(5 * kCompositionsPerCheckLevel));
  std::printf("corruption_checks: %d reproducer runs\n", visited);
  return check_exit_status("corruption_checks");
}
