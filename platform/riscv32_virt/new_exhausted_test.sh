#!/usr/bin/env bash
# platform/riscv32_virt/new_exhausted_test.sh RUNNER PROGRAM: an operator new of nearly SIZE_MAX bytes on the board
# (plain, and aligned to 64, whose size cxx_runtime.cc rounds up for aligned_alloc) must end the program with abort()'s
# status and the board's line "*** operator new: out of memory", never return a block.
set -uo pipefail
runner="$1"
program="$2"
log="${TEST_TMPDIR:-/tmp}/new_exhausted_test.log"
errors=0
for kind in plain aligned aligned_array; do
  status=0
  "$runner" "$program" "$kind" >"$log" 2>&1 || status=$?
  if ((status == 134)) && grep -q '^\*\*\* operator new: out of memory' "$log"; then
    echo "ok   ${kind}: status ${status}, $(grep '^\*\*\* operator new' "$log" | head -1)"
  else
    echo "FAIL ${kind}: status ${status}, want 134 and '*** operator new: out of memory'; output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
done
echo "${errors} failure(s)"
((errors == 0))
