#!/usr/bin/env bash
# tests/preload/atfork_test.sh LIB PROGRAM STATIC_PROGRAM NEEDED_PROGRAM — fork handlers that the program registered before its first malloc may call
# malloc (PROGRAM is tests/preload/atfork_program.cc): the drop-in registers its own handlers when it is loaded, so
# that its prepare handler locks the arenas after the program's has run and its parent and child handlers release them
# before the program's run. Run under glibc, then under the drop-in at each check level, each under timeout 20: the
# same line, exit 0. Registered at the first malloc, the drop-in's prepare handler ran first, and the program's
# malloc in its own prepare handler waited for ever for an arena its thread held. STATIC_PROGRAM is the same program
# with the drop-in linked in (no LD_PRELOAD): there the drop-in's object follows the program's in the link, and only
# its constructor's priority makes its handlers register first. NEEDED_PROGRAM (tests/preload/atfork_needed.cc) needs a
# shared library whose constructor registers malloc-calling handlers; the loader starts it before the preloaded
# drop-in, so those handlers run while the drop-in holds every arena, which the forking thread must pass (a second
# thread allocating throughout must wait). Holding them without that, the library's prepare handler waited for ever.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
static_program="$3"
needed_program="$4"
want_needed="3 forks, library handlers ran 3 prepare 3 parent 3 child"
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
status=0
out="$(timeout 20 "$needed_program")" || status=$?
((status == 0)) || fail "needed library, glibc: exit status $status"
[[ "$out" == "$want_needed" ]] || fail "needed library, glibc: '$out', want '$want_needed'"
for level in none basic hardened; do
  status=0
  out="$(LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK=$level NOSTD_MALLOC_VALIDATE=1 timeout 20 "$needed_program" 2>/dev/null)" ||
    status=$?
  ((status != 124)) || fail "needed library, $level: did not finish within 20 s (its prepare handler's malloc waits)"
  ((status == 0)) || fail "needed library, $level: exit status $status"
  [[ "$out" == "$want_needed" ]] || fail "needed library, $level: '$out', want '$want_needed'"
done
echo "PASS: fork handlers registered before the first malloc may call malloc (glibc; the drop-in preloaded and linked" \
  "in, at none, basic, hardened), and so may those of a needed library, registered before the drop-in's"
