#!/usr/bin/env bash
# examples/hardened_heap_test.sh PROGRAM: the example runs cleanly, each deliberate bug is logged by its handler
# with the fault's kind and reason before the program halts with status 70, and a misspelt mode is refused.
set -uo pipefail
program="$1"
failures=0
out="$("$program" 2>&1)"
if [[ $? -ne 0 || "$out" != *"validate: ok"* || "$out" == *"heap fault"* ]]; then
  echo "FAIL clean run: $out"
  failures=$((failures + 1))
fi
check() {
  local mode="$1" expected="$2" status
  out="$("$program" "$mode" 2>&1)"
  status=$?
  if [[ $status -ne 70 || "$out" != *"$expected"* ]]; then
    echo "FAIL $mode: status $status, output: $out"
    failures=$((failures + 1))
  else
    echo "ok   $mode: $(grep 'heap fault' <<<"$out")"
  fi
}
# A misspelt mode is refused (exit 2, one line naming it) instead of passing for the clean run.
out="$("$program" overflw 2>&1)"
status=$?
if [[ $status -ne 2 || "$out" != "hardened_heap: unknown mode overflw: give none, overflow or double-free" ]]; then
  echo "FAIL misspelt mode: status $status, output: $out"
  failures=$((failures + 1))
fi
check overflow "heap fault: heap corrupted"
check double-free "heap fault: double free"
exit $((failures > 0))
