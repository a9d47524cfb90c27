#!/usr/bin/env bash
# Smoke test of //bench:micro_bench's own output around Google Benchmark's (no time is asserted: timing belongs to
# the benchmark): with glibc in the run, the ratio table has fit_compare's names for the heaps as its columns and a
# ratio in every cell; without glibc, one note says why there is no table; --benchmark_list_tests lists the
# benchmarks and prints no table.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
bench="$1"
quick=(--benchmark_min_time=0.001 --benchmark_repetitions=1)

out="$("$bench" '--benchmark_filter=BM_AllocFree<(FirstCompact|SegCompactNoChecksCache|MallocAdapter)>/16$' "${quick[@]}" 2>/dev/null)" ||
  fail "run with glibc: exit $?"
header="$(grep -A2 '^CPU time per iteration / glibc' <<<"$out" | grep '^benchmark' || true)"
[[ "$header" =~ ^benchmark\ +first/compact\ +seg/compact/nochecks\+cache\ +glibc\ time$ ]] ||
  fail "table header: '$header'"
line="$(grep '^BM_AllocFree/16 ' <<<"$out" || true)"
[[ "$line" =~ ^BM_AllocFree/16\ +[0-9]+\.[0-9]{2}\ +[0-9]+\.[0-9]{2}\ +[0-9.]+\ ns$ ]] || fail "table row: '$line'"

out="$("$bench" '--benchmark_filter=BM_AllocFree<FirstCompact>/16$' "${quick[@]}" 2>/dev/null)" ||
  fail "run without glibc: exit $?"
grep -q '^No ratio table: glibc did not run' <<<"$out" || fail "no note without glibc"
grep -q '^CPU time per iteration' <<<"$out" && fail "a table without glibc"

out="$("$bench" --benchmark_list_tests 2>/dev/null)" || fail "--benchmark_list_tests: exit $?"
grep -q '^BM_AllocFree<SegCompact>/16$' <<<"$out" || fail "--benchmark_list_tests: no BM_AllocFree<SegCompact>/16"
grep -qE '^(CPU time|No ratio table)' <<<"$out" && fail "--benchmark_list_tests printed a table or note"
finish
