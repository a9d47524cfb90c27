#!/usr/bin/env bash
# platform/runner_test/runner_test.sh RUNNER PASSES FAILS_ASSERTION ABORTS FAULTS OVERFLOWS_STACK HANGS EXITS_3 \
#     FAULT_PATTERN OVERFLOW_PATTERN KIND
# Checks that a platform's QEMU runner turns every way a test binary can go wrong into a failure: a failing
# assertion, an abort, a hard fault (bad store), a stack overflow and a hang each give a non-zero status, while a
# passing suite gives 0 and an exit status comes back exactly. KIND says what the passing and failing programs are:
# `gtest` (GoogleTest suites: the test filter and sharding are checked too) or `checks` (tests/check.h programs, on
# platforms without GoogleTest).
set -uo pipefail
runner="$1"
passes="$2"
fails_assertion="$3"
aborts="$4"
faults="$5"
overflows_stack="$6"
hangs="$7"
exits_3="$8"
fault_pattern="$9"      # what the platform prints for a bad store (extended regex)
overflow_pattern="${10}"  # ... and for a stack overflow
kind="${11}"

errors=0
log="${TEST_TMPDIR:-/tmp}/runner_test.log"

# expect NAME WANT BINARY: WANT is "0", "nonzero" or an exact status.
expect() {
  local name="$1" want="$2" binary="$3" status=0
  local started=$SECONDS
  "$runner" "$binary" >"$log" 2>&1 || status=$?
  local ok=0
  case "$want" in
    nonzero) ((status != 0)) && ok=1 ;;
    *) ((status == want)) && ok=1 ;;
  esac
  if ((ok)); then
    echo "ok   ${name}: status ${status} (want ${want}) in $((SECONDS - started)) s"
  else
    echo "FAIL ${name}: status ${status}, want ${want}; output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
}

# expect_output NAME PATTERN: the last run's output matches PATTERN (extended regex).
expect_output() {
  if grep -qE "$2" "$log"; then
    echo "ok   ${1}: output matches /${2}/"
  else
    echo "FAIL ${1}: output does not match /${2}/; output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
}

# The test's own filter and sharding must not reach the binaries below.
unset TESTBRIDGE_TEST_ONLY GTEST_TOTAL_SHARDS GTEST_SHARD_INDEX GTEST_SHARD_STATUS_FILE TEST_TOTAL_SHARDS TEST_SHARD_INDEX

expect "passing suite" 0 "$passes"
if [[ "$kind" == gtest ]]; then
  expect_output "passing suite" '\[  PASSED  \] 1 test'
else
  expect_output "passing checks" 'runner_self_test: 0 failure\(s\)'
fi
expect "exit status passes through" 3 "$exits_3"
expect "failing assertion" nonzero "$fails_assertion"
expect_output "failing assertion" 'deliberate failure'
expect "abort" nonzero "$aborts"
expect "hard fault" nonzero "$faults"
expect_output "hard fault" "$fault_pattern"
expect "stack overflow" nonzero "$overflows_stack"
expect_output "stack overflow" "$overflow_pattern"
NOSTD_QEMU_TIMEOUT=3 expect "hang" nonzero "$hangs"
expect_output "hang" 'did not finish within 3 s'

if [[ "$kind" == gtest ]]; then
  # Bazel's --test_filter arrives as TESTBRIDGE_TEST_ONLY: with it, only the passing test of the failing suite runs.
  TESTBRIDGE_TEST_ONLY='RunnerSelfTest.Passes' expect "test filter" 0 "$fails_assertion"
  # Sharding (shard_count) arrives as GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX: GoogleTest runs test i on shard
  # i % total, so shard 0 of the failing suite holds only the passing test and shard 1 the failing one.
  GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=0 expect "shard 0 of 2" 0 "$fails_assertion"
  GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=1 expect "shard 1 of 2" nonzero "$fails_assertion"
fi

if ((errors)); then
  echo "${errors} runner check(s) failed"
  exit 1
fi
echo "all runner checks passed"
