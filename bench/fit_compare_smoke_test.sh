#!/usr/bin/env bash
# Smoke test of the README's benchmark command: fit_compare runs a quick pass of the embedded workload and its
# JSON names every allocator with a result for the whole trace. No timing is asserted (timings belong to the
# benchmark, not to tests); this only keeps `./bazelw run //bench:fit_compare` working.
set -euo pipefail
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$1" --quick --workloads=e --json >"$out"
failures=0
for allocator in first/compact first/full next/compact next/full best/compact best/full seg/compact seg/full \
  first/compact/nochecks next/compact/nochecks best/compact/nochecks seg/compact/nochecks first/compact/hardened \
  first/compact/debug seg/compact+cache seg/compact32/nochecks seg/compact32+cache glibc pmr/pool; do
  if ! grep -q "\"allocator\": \"$allocator\"" "$out"; then
    echo "FAIL: no result for $allocator"
    failures=$((failures + 1))
  fi
done
# Every run replays the whole trace (200,800 calls in quick mode) without failed allocations.
if grep -q '"failed": [1-9]' "$out"; then
  echo "FAIL: a run had failed allocations"
  failures=$((failures + 1))
fi
if ! grep -q '"calls": 200800' "$out"; then
  echo "FAIL: the quick embedded trace should have 200800 calls"
  failures=$((failures + 1))
fi
# --allocators: a word selects the names containing it, "=name" that name alone, and a word that selects nothing
# stops the run with the word in the message (a typo must not silently shrink the table).
"$1" --quick --workloads=e --reps=1 --min_time=0 --json --allocators==seg/compact/nochecks,glibc >"$out"
rows=$(grep -o '"allocator": "[^"]*"' "$out" | sort -u | tr '\n' ' ')
if [[ "$rows" != '"allocator": "glibc" "allocator": "seg/compact/nochecks" ' ]]; then
  echo "FAIL: --allocators==seg/compact/nochecks,glibc ran: $rows"
  failures=$((failures + 1))
fi
if "$1" --quick --workloads=e --allocators=seg/compct >"$out" 2>&1; then
  echo "FAIL: a word that selects nothing should stop the run"
  failures=$((failures + 1))
elif ! grep -q "word 'seg/compct' selects no allocator" "$out"; then
  echo "FAIL: the message should name the word: $(cat "$out")"
  failures=$((failures + 1))
fi
if "$1" --quick --workloads=e --allocators=glibc,,seg/compact >"$out" 2>&1; then
  echo "FAIL: an empty word (a doubled comma) should stop the run, not select everything"
  failures=$((failures + 1))
fi
# A numeric option's value is read whole or refused (atoi read --reps=abc as 1 and --cap=-5 as a negative cap).
for bad in --reps=abc --reps=0 --reps=5x --cap=-5 --cap=0 --cap=1s --min_time=fast --seed=12345x; do
  status=0
  "$1" --quick --workloads=e --allocators==glibc "$bad" >"$out" 2>&1 || status=$?
  if [[ "$status" != 2 ]] || ! grep -q "^fit_compare: $bad: not " "$out"; then
    echo "FAIL: $bad: exit $status, $(head -1 "$out")"
    failures=$((failures + 1))
  fi
done
echo "$failures failure(s)"
[[ "$failures" == 0 ]]
