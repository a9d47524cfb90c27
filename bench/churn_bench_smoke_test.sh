#!/usr/bin/env bash
# Smoke test of //bench:churn_bench (the threaded churn //bench:preload runs): a short run with 1 and 2 threads, with
# the default slots and with a given number, prints its one result line (no throughput is asserted: timing belongs to
# the benchmark), --help prints the usage and exits 0, and bad arguments get the usage on stderr and exit 2.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
bench="$1"

# SLOTS_PER_THREAD: "" (no argument) is the default, 4096; 1 churns a single block; 50000 are more slots than the
# 20000 ops can visit, most of the filled blocks living untouched until the end.
for threads in 1 2; do
  for slots in "" 1 50000; do
    # shellcheck disable=SC2086  # an empty $slots is no argument
    out="$("$bench" "$threads" 20000 $slots)" || fail "$threads threads, slots '$slots': exit $?"
    [[ "$out" =~ ^threads=$threads\ ops=$((threads * 20000))\ slots=${slots:-4096}\ seconds=[0-9.]+\ mops=[0-9.]+\ cpu_mops=[0-9.]+\ checksum=[0-9]+$ ]] ||
      fail "$threads threads, slots '$slots': '$out'"
  done
done

out="$("$bench" --help 2>/dev/null)" || fail "--help: exit $?"
[[ "$out" == "usage: churn_bench"* ]] || fail "--help: '$out' is not the usage"

# 134217729 is one above the slot cap (2^27).
for args in "" "0" "65" "2x" "1 0" "1 -5" "1 10 0" "1 10 x" "1 10 134217729" "1 10 4096 extra"; do
  status=0
  # shellcheck disable=SC2086  # each case is a list of words
  "$bench" $args >/dev/null 2>"$TEST_TMPDIR/err" || status=$?
  [[ "$status" == 2 ]] || fail "'$args': exit $status, expected 2"
  grep -q '^usage: churn_bench' "$TEST_TMPDIR/err" || fail "'$args': no usage on stderr"
done
finish
