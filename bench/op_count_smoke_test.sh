#!/usr/bin/env bash
# Smoke test of //bench:instructions' replay driver: op_count replays workload e at 1/100 of its churn steps for
# every allocator it knows and reports every call of the trace (400 fills + 10,000 churn steps = 10,400 allocations
# and as many frees), and workload c (LIFO) at 1/100 of its calls. No timing and no instruction count is asserted
# (those belong to the benchmark; callgrind is too slow for a test); this keeps `./bazelw run //bench:instructions`
# working.
set -euo pipefail
failures=0
# Every allocator op_count lists in its usage, so that a new row is covered without editing this list.
# --help prints the usage on stdout and exits 0 (set -e stops the test otherwise).
read -r -a allocators <<<"$("$1" --help 2>/dev/null | sed -n 's/^allocators: //p')"
if [ "${#allocators[@]}" -lt 11 ]; then
  echo "FAIL: op_count --help lists ${#allocators[@]} allocators, expected at least 11"
  exit 1
fi
for allocator in "${allocators[@]}"; do
  line="$("$1" "$allocator" e 100 2)"
  if [[ "$line" != *"allocations=10400 frees=10400 "* ]]; then
    echo "FAIL: $allocator: $line"
    failures=$((failures + 1))
  fi
  # Workload c (LIFO) at 1/100: 20,000 stack calls, then the drain; the trace, fixed by its seed, makes 13,499
  # allocations, and the drain frees every block the stack still holds.
  line="$("$1" "$allocator" c 100)"
  if [[ "$line" != *"workload=c steps=20000 allocations=13499 frees=13499 "* ]]; then
    echo "FAIL: $allocator, workload c: $line"
    failures=$((failures + 1))
  fi
done
if "$1" no-such-allocator e 2>/dev/null; then
  echo "FAIL: an unknown allocator was accepted"
  failures=$((failures + 1))
fi
if "$1" 2>/dev/null; then
  echo "FAIL: no arguments were accepted (expected the usage and exit 2)"
  failures=$((failures + 1))
fi
# Each argument is read whole: a word that starts with a workload's letter is not that workload, a divisor or a
# repetition count with trailing characters, a fraction, zero or more than the workload's steps is refused (exit 2,
# one line naming the value), never read as its leading digits.
refused() {  # refused ARG... : op_count must exit 2 with one line on stderr
  local status=0 err
  err="$("$op_count" "$@" 2>&1 >/dev/null)" || status=$?
  if [[ $status -ne 2 || $(printf '%s\n' "$err" | wc -l) -ne 1 || "$err" != op_count:* ]]; then
    echo "FAIL: op_count $*: exit $status, stderr [$err] (expected exit 2 and one line)"
    failures=$((failures + 1))
  fi
}
op_count="$1"
refused glibc bogus 10
refused glibc bb 10
refused glibc "" 10
refused glibc a 10x
refused glibc a 1.5
refused glibc a 0
refused glibc a -1
refused glibc a 99999999999999999999
refused glibc a 1000001  # a's 1,000,000 churn steps + 1
refused glibc e 1 99999999999999999999x
refused glibc e 1 0
exit $((failures > 0))
