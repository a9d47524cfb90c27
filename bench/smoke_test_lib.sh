# bench/smoke_test_lib.sh — sourced by the benchmark tools' smoke tests (their sh_test rules list it in `data`):
# strict mode, `fail MESSAGE` to count a failure and go on, and `finish` to print the count and exit with it.
set -euo pipefail
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

finish() {
  echo "$failures failure(s)"
  exit $((failures > 0))
}
