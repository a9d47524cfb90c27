// Passes every check: the runner must report success (exit status 0). For platforms without GoogleTest.
#include "tests/check.h"

int main() {
  NOSTD_CHECK(1 + 1 == 2);
  return nostd::testing::check_exit_status("runner_self_test");
}
