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
exit $((failures > 0))
