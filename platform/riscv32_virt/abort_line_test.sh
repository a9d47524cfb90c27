#!/usr/bin/env bash
# platform/riscv32_virt/abort_line_test.sh RUNNER PROGRAM MATCH KIND=LINE...: a board program that must stop
# (operator new's failures in cxx_runtime.cc) ends with abort()'s status, 134, and the board's "*** " line. PROGRAM
# runs under RUNNER once per KIND (its only argument); MATCH says how its output is held against LINE:
#   only    LINE is the output's only line starting with "*** ", whole (the failure is named, and nothing else is
#           reported beside it)
#   prefix  some line of the output starts with LINE (what follows, e.g. the size asked for, may vary)
# The targets (BUILD.bazel): new_exhausted_test (prefix "*** operator new: out of memory", for plain, aligned and
# aligned_array) and new_invalid_alignment_test (only "*** operator new: invalid alignment N (not a power of two)").
set -uo pipefail
if (($# < 4)) || [[ "$3" != only && "$3" != prefix ]]; then
  echo "usage: $0 RUNNER PROGRAM only|prefix KIND=LINE..." >&2
  exit 2
fi
runner="$1"
program="$2"
match="$3"
shift 3
log="${TEST_TMPDIR:-/tmp}/${program##*/}_abort_line_test.log"
errors=0
for check in "$@"; do
  if [[ "$check" != ?*=?* ]]; then
    echo "$0: '${check}' is not KIND=LINE" >&2
    exit 2
  fi
  kind="${check%%=*}"
  line="${check#*=}"
  status=0
  "$runner" "$program" "$kind" >"$log" 2>&1 || status=$?
  # found: the line that answers LINE, empty if none does. only: the "*** " lines, which must be LINE alone; prefix:
  # the first line that starts with LINE (compared as text, not as a pattern).
  if [[ "$match" == only ]]; then
    found="$(grep '^\*\*\* ' "$log")"
    [[ "$found" == "$line" ]] || found=""
  else
    found="$(LINE="$line" awk 'index($0, ENVIRON["LINE"]) == 1 { print; exit }' "$log")"
  fi
  if ((status == 134)) && [[ -n "$found" ]]; then
    echo "ok   ${kind}: status ${status}, ${found}"
  else
    echo "FAIL ${kind}: status ${status}, want 134 and '${line}' (${match}); output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
done
echo "${errors} failure(s)"
((errors == 0))
