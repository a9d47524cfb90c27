#!/usr/bin/env bash
# Smoke test of //bench:instructions' replay driver: op_count replays workload e at 1/100 of its churn steps for
# every allocator it knows and reports every call of the trace (400 fills + 10,000 churn steps = 10,400 allocations
# and as many frees). No timing and no instruction count is asserted (those belong to the benchmark; callgrind is
# too slow for a test); this keeps `./bazelw run //bench:instructions` working.
set -euo pipefail
failures=0
for allocator in seg/compact/nochecks seg/compact seg/full/nochecks seg/full first/compact/nochecks first/compact \
  glibc; do
  line="$("$1" "$allocator" e 100 2)"
  if [[ "$line" != *"allocations=10400 frees=10400 "* ]]; then
    echo "FAIL: $allocator: $line"
    failures=$((failures + 1))
  fi
done
if "$1" no-such-allocator e 2>/dev/null; then
  echo "FAIL: an unknown allocator was accepted"
  failures=$((failures + 1))
fi
exit $((failures > 0))
