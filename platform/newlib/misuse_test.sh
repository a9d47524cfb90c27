#!/usr/bin/env bash
# platform/newlib/misuse_test.sh RUNNER MISUSE: each misuse of free()/realloc()/malloc_usable_size() on the board
# must end the program with a failing status and the door's one-line report ("nostd malloc: ..."), as glibc's
# "free(): invalid pointer" does on Linux; an operator new the heap cannot serve must end it with libstdc++'s line
# naming std::bad_alloc (the board's terminate handler, platform/mps2_an386/terminate_handler.h).
set -uo pipefail
runner="$1"
misuse="$2"
log="${TEST_TMPDIR:-/tmp}/misuse_test.log"
errors=0
# check KIND PATTERN: the misuse ends with a failing status and a line matching PATTERN (extended regex).
check() {
  local kind="$1" pattern="$2" status=0
  "$runner" "$misuse" "$kind" >"$log" 2>&1 || status=$?
  if ((status != 0)) && grep -qE "$pattern" "$log"; then
    echo "ok   ${kind}: status ${status}, $(grep -E "$pattern" "$log" | head -1)"
  else
    echo "FAIL ${kind}: status ${status}, want non-zero and a line matching /${pattern}/; output:"
    sed 's/^/     | /' "$log"
    errors=$((errors + 1))
  fi
}
for kind in double foreign interior realloc_foreign usable_size_interior usable_size_freed; do
  check "$kind" '^nostd malloc: '
done
# operator new beyond the heap: libstdc++ throws std::bad_alloc, nothing catches it, and the board's terminate
# handler names it (the toolchain's default terminate handler aborted without a word), also when the heap is full
# (libstdc++'s verbose handler needed malloc to demangle and printed 'St9bad_alloc' there), then what() says.
check new_exhausted "^terminate called after throwing an instance of 'std::bad_alloc'"
check new_heap_full "^terminate called after throwing an instance of 'std::bad_alloc'\$"
check new_heap_full "^  what\(\):  std::bad_alloc\$"
check terminate "^terminate called without an active exception\$"
echo "${errors} failure(s)"
((errors == 0))
