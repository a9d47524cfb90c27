#!/usr/bin/env bash
# platform/riscv32_virt/new_invalid_alignment_test.sh RUNNER PROGRAM: an aligned operator new on the board whose
# alignment is not a power of two (24, plain, array and nothrow; 0) must end the program with abort()'s status and
# the board's one line naming the alignment, "*** operator new: invalid alignment 24 (not a power of two)", not with
# its out-of-memory line (what aligned_alloc's refusal used to be reported as) nor return.
set -uo pipefail
runner="$1"
program="$2"
log="${TEST_TMPDIR:-/tmp}/new_invalid_alignment_test.log"
errors=0
# check KIND ALIGNMENT: the program ends with 134 and the line for ALIGNMENT as its only line starting "*** ".
check() {
  local kind="$1" alignment="$2" status=0
  local line="*** operator new: invalid alignment ${alignment} (not a power of two)"
  "$runner" "$program" "$kind" >"$log" 2>&1 || status=$?
  if ((status == 134)) && [[ "$(grep '^\*\*\* ' "$log")" == "$line" ]]; then
    echo "ok   ${kind}: status ${status}, ${line}"
  else
    echo "FAIL ${kind}: status ${status}, want 134 and '${line}'; output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
}
check aligned 24
check aligned_array 24
check aligned_nothrow 24
check zero 0
echo "${errors} failure(s)"
((errors == 0))
