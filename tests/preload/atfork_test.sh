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
# drop-in, so those handlers run while the drop-in holds every arena, which the forking thread must pass. Holding them
# without that, the library's prepare handler waited for ever. Run again with 300 forks while 3 threads allocate on
# one arena (NOSTD_MALLOC_ARENAS=1), racing each fork's lock_all: with an exchange in ArenaLock::try_lock, another
# thread's attempt erased the fork mark, and the forking thread's malloc in a handler waited for ever (5 runs of 5).
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
static_program="$3"
needed_program="$4"
want_needed="3 forks, library handlers ran 3 prepare 3 parent 3 child"
want_racing="300 forks, library handlers ran 300 prepare 300 parent 300 child"
want="3 forks, handlers ran 3 prepare 3 parent 3 child"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT

# expect LABEL WANT COMMAND...: COMMAND finishes within 20 s, exits 0 and prints WANT (its stderr shown if not).
expect() {
  local label="$1" want_line="$2" status=0 out
  shift 2
  out="$(timeout 20 "$@" 2>"$errors")" || status=$?
  ((status == 0)) && [[ "$out" == "$want_line" ]] && return
  cat "$errors" >&2
  ((status != 124)) || fail "$label: did not finish within 20 s (a fork handler's malloc waits)"
  ((status == 0)) || fail "$label: exit status $status"
  fail "$label: '$out', want '$want_line'"
}

expect "glibc" "$want" "$program"
expect "needed library, glibc" "$want_needed" "$needed_program"
expect "needed library, 3 threads, glibc" "$want_racing" "$needed_program" 300 3
for level in none basic hardened; do
  checks=(NOSTD_MALLOC_CHECK=$level NOSTD_MALLOC_VALIDATE=1)
  expect "$level" "$want" env LD_PRELOAD="$lib" "${checks[@]}" "$program"
  expect "linked in, $level" "$want" env "${checks[@]}" "$static_program"
  expect "needed library, $level" "$want_needed" env LD_PRELOAD="$lib" "${checks[@]}" "$needed_program"
  expect "needed library, 3 threads on 1 arena, $level" "$want_racing" \
    env LD_PRELOAD="$lib" NOSTD_MALLOC_ARENAS=1 "${checks[@]}" "$needed_program" 300 3
done
echo "PASS: fork handlers registered before the first malloc may call malloc (glibc; the drop-in preloaded and linked" \
  "in, at none, basic, hardened), and so may those of a needed library, registered before the drop-in's"
