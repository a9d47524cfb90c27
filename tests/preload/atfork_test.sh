#!/usr/bin/env bash
# tests/preload/atfork_test.sh LIB PROGRAM STATIC_PROGRAM — fork handlers that the program registered before its first malloc may call
# malloc (PROGRAM is tests/preload/atfork_program.cc): the drop-in registers its own handlers when it is loaded, so
# that its prepare handler locks the arenas after the program's has run and its parent and child handlers release them
# before the program's run. Run under glibc, then under the drop-in at each check level, each under timeout 20: the
# same line, exit 0. Registered at the first malloc, the drop-in's prepare handler ran first, and the program's
# malloc in its own prepare handler waited for ever for an arena its thread held. STATIC_PROGRAM is the same program
# with the drop-in linked in (no LD_PRELOAD): there the drop-in's object follows the program's in the link, and only
# its constructor's priority makes its handlers register first.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
static_program="$3"
want="3 forks, handlers ran 3 prepare 3 parent 3 child"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

status=0
out="$(timeout 20 "$program")" || status=$?
((status == 0)) || fail "glibc: exit status $status"
[[ "$out" == "$want" ]] || fail "glibc: '$out', want '$want'"

for level in none basic hardened; do
  status=0
  out="$(LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK=$level NOSTD_MALLOC_VALIDATE=1 timeout 20 "$program" 2>/dev/null)" ||
    status=$?
  ((status != 124)) || fail "$level: the program did not finish within 20 s (a fork handler's malloc waits)"
  ((status == 0)) || fail "$level: exit status $status"
  [[ "$out" == "$want" ]] || fail "$level: '$out', want '$want'"
done
for level in none basic hardened; do
  status=0
  out="$(NOSTD_MALLOC_CHECK=$level NOSTD_MALLOC_VALIDATE=1 timeout 20 "$static_program" 2>/dev/null)" || status=$?
  ((status != 124)) || fail "linked in, $level: the program did not finish within 20 s (a fork handler's malloc waits)"
  ((status == 0)) || fail "linked in, $level: exit status $status"
  [[ "$out" == "$want" ]] || fail "linked in, $level: '$out', want '$want'"
done
echo "PASS: fork handlers registered before the first malloc may call malloc (glibc; the drop-in preloaded and linked" \
  "in, at none, basic, hardened)"
