#!/usr/bin/env bash
# Test of the argument checks of the scripts that run programs under LD_PRELOAD (bench/record_cost.sh,
# bench/preload.sh), with stand-in input files so that nothing is run or timed: a REPS that is not a whole number
# from 1 to 9999 (empty, 0, 10x, abc, -5, too many digits) and a missing input get one line on stderr naming it, exit
# 2 and nothing on stdout, before any program runs or the table's heading is printed.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
record_cost="$(realpath "$1")"
preload="$(realpath "$2")"
# The scripts source bench/preloadable.sh from where they run (the runfiles tree): run them from here.
cd "${BASH_SOURCE[0]%/*}/.." || exit 1
inputs=()
for name in lib1.so lib2.so work.py work.sql work.sh program; do
  echo "stand-in" >"$TEST_TMPDIR/$name"
  inputs+=("$TEST_TMPDIR/$name")
done
for reps in "" 0 10x abc -5 12345; do
  expect_refused "record_cost: REPS must be a whole number from 1 to 9999, not '$reps'" \
    "$record_cost" "${inputs[@]:0:4}" "$reps"
  expect_refused "preload: REPS must be a whole number from 1 to 9999, not '$reps'" "$preload" "${inputs[@]}" "$reps"
done
expect_refused "record_cost: $TEST_TMPDIR/missing.sql: no such file" "$record_cost" "${inputs[@]:0:3}" \
  "$TEST_TMPDIR/missing.sql"
expect_refused "record_cost: expected the two libraries and the workloads" "$record_cost" "${inputs[@]:0:2}"
finish
