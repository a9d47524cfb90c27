#!/usr/bin/env bash
# Smoke test of //bench:fork_bench (what //bench:fork_latency runs): a short run with 0 and 2 allocating threads prints
# its one result line (no latency is asserted: timing belongs to the benchmark), --help prints the usage and exits 0,
# and bad arguments get the usage on stderr and exit 2.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
bench="$1"

for threads in 0 2; do
  out="$("$bench" "$threads" 5)" || fail "$threads threads: exit $?"
  [[ "$out" =~ ^threads=$threads\ forks=5\ median_ms=[0-9.]+\ p90_ms=[0-9.]+\ max_ms=[0-9.]+$ ]] ||
    fail "$threads threads: '$out'"
done

out="$("$bench" --help 2>/dev/null)" || fail "--help: exit $?"
[[ "$out" == "usage: fork_bench"* ]] || fail "--help: '$out' is not the usage"

for args in "" "-1" "65" "2x" "1 0" "1 -5" "1 10 extra"; do
  status=0
  # shellcheck disable=SC2086  # each case is a list of words
  "$bench" $args >/dev/null 2>"$TEST_TMPDIR/err" || status=$?
  [[ "$status" == 2 ]] || fail "'$args': exit $status, expected 2"
  grep -q '^usage: fork_bench' "$TEST_TMPDIR/err" || fail "'$args': no usage on stderr"
done
finish
