#!/usr/bin/env bash
# Test of the argument checks of the scripts that run programs under LD_PRELOAD (bench/record_cost.sh,
# bench/preload.sh, bench/fork_latency.sh), with stand-in input files so that nothing is timed: a REPS that is not a
# whole number from 1 to 9999 (empty, 0, 10x, abc, -5, too many digits), a missing input, and fork_latency's empty or
# out-of-range THREADS, FORKS and ROUNDS get one line on stderr naming it, exit 2 and nothing on stdout, before any
# program is measured or the table's heading is printed.
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
# fork_latency.sh (the real fork_bench, a stand-in library): THREADS goes to fork_bench, which refuses an empty one with
# its usage; FORKS and ROUNDS are its own to check. An empty argument had been read as the default, and a FORKS of 0
# refused only by the first timed run, after the heading.
fork_latency="$(realpath "$3")"
fork_bench="$(realpath "$4")"
expect_refused "usage: fork_bench" "$fork_latency" "${inputs[0]}" "$fork_bench" ""
for forks in "" 0 1000001 10x; do
  expect_refused "fork_latency: FORKS must be a whole number from 1 to 1000000, not '$forks'" \
    "$fork_latency" "${inputs[0]}" "$fork_bench" 1 "$forks"
done
expect_refused "fork_latency: ROUNDS must be a whole number from 1 to 999, not ''" \
  "$fork_latency" "${inputs[0]}" "$fork_bench" 1 10 ""
finish
