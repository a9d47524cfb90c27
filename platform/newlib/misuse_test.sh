#!/usr/bin/env bash
# platform/newlib/misuse_test.sh RUNNER MISUSE: each misuse of free()/realloc() on the board must end the program
# with a failing status and the door's one-line report ("nostd malloc: ..."), as glibc's "free(): invalid pointer"
# does on Linux.
set -uo pipefail
runner="$1"
misuse="$2"
log="${TEST_TMPDIR:-/tmp}/misuse_test.log"
errors=0
for kind in double foreign interior realloc_foreign; do
  status=0
  "$runner" "$misuse" "$kind" >"$log" 2>&1 || status=$?
  if ((status != 0)) && grep -qE '^nostd malloc: ' "$log"; then
    echo "ok   ${kind}: status ${status}, $(grep -E '^nostd malloc: ' "$log" | head -1)"
  else
    echo "FAIL ${kind}: status ${status}, want non-zero and a 'nostd malloc:' line; output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
done
echo "${errors} failure(s)"
((errors == 0))
