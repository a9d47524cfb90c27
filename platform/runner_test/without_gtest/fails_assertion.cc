// One failing check among passing ones: the runner must report failure. For platforms without GoogleTest.
#include "tests/check.h"

int main() {
  NOSTD_CHECK(1 + 1 == 2);
  NOSTD_CHECK(1 + 1 == 3 && "deliberate failure (runner self-test)");
  return nostd::testing::check_exit_status("runner_self_test");
}
