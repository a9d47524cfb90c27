#!/usr/bin/env bash
# tests/preload/closed_stderr_test.sh LIB CLOSE_STDERR — the drop-in's exit lines (NOSTD_MALLOC_STATS=1,
# NOSTD_MALLOC_VALIDATE=1) reach the stderr the program started with, even when the program closed fd 2 before it
# exited: they are written from the library's destructor, after the program's own exit code ran. Checks that
#   - both lines appear when CLOSE_STDERR (tests/preload/close_stderr.cc) closes fd 2, and when `ls -d /` does
#     (coreutils, through gnulib's close_stdout: the case a new user met);
#   - so does the recorder's line that says where the trace went (NOSTD_ALLOC_TRACE), also written at exit;
#   - no line lands in a file that took the saved descriptor's number after the program replaced it;
#   - the drop-in keeps an extra descriptor only when a line is asked for, and that one is close-on-exec.
set -euo pipefail

lib="$(realpath "$1")"
helper="$2"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/closed_stderr.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# preloaded COMMAND...: COMMAND under the drop-in, both exit lines asked for.
preloaded() {
  LD_PRELOAD="$lib" NOSTD_MALLOC_STATS=1 NOSTD_MALLOC_VALIDATE=1 "$@"
}
# expect_exit_lines WHAT FILE: FILE holds the validate line and the statistics line.
expect_exit_lines() {
  if ! grep -q '^nostd-malloc: validate ok' "$2" || ! grep -q '^nostd-malloc: check=basic ' "$2"; then
    echo "FAIL: $1: the exit lines did not reach the original stderr; it held:" >&2
    cat "$2" >&2
    exit 1
  fi
}

preloaded "$helper" close 2>"$work/close.err" || fail "close_stderr close failed under the drop-in"
expect_exit_lines "a program that closed fd 2" "$work/close.err"

out="$(preloaded ls -d / 2>"$work/ls.err")" || fail "ls -d / failed under the drop-in: $(cat "$work/ls.err")"
[[ "$out" == / ]] || fail "ls -d / printed '$out'"
expect_exit_lines "ls -d /" "$work/ls.err"

# recorded WHAT COMMAND...: COMMAND recorded by the drop-in's recorder (no exit line of the drop-in's own asked for);
# its stderr must say where the trace went.
recorded() {
  local what="$1"
  shift
  rm -f "$work/rec.trace"
  LD_PRELOAD="$lib" NOSTD_ALLOC_TRACE="$work/rec.trace" "$@" >/dev/null 2>"$work/rec.err" ||
    fail "$what failed under the recording drop-in: $(cat "$work/rec.err")"
  if ! grep -q "^nostd-alloc: raw trace of [0-9]* calls written to $work/rec.trace\$" "$work/rec.err"; then
    echo "FAIL: $what: the recorder's exit line did not reach the original stderr; it held:" >&2
    cat "$work/rec.err" >&2
    exit 1
  fi
  [[ -s "$work/rec.trace" ]] || fail "$what: no trace at $work/rec.trace"
}
recorded "a recorded program that closed fd 2" "$helper" close
recorded "ls -d / recorded" ls -d /

preloaded "$helper" replace "$work/replaced" 2>"$work/replace.err" || fail "close_stderr replace failed"
if grep 'nostd-malloc' "$work/replaced" >&2; then
  fail "the exit lines above went into a file that took the saved stderr's descriptor number"
fi

"$helper" fds >"$work/glibc.fds" || fail "close_stderr fds failed with glibc's malloc"
LD_PRELOAD="$lib" "$helper" fds >"$work/quiet.fds" || fail "close_stderr fds failed under the drop-in"
if ! diff -u "$work/glibc.fds" "$work/quiet.fds" >&2; then
  fail "the drop-in opened a descriptor (diff above) though no exit line was asked for"
fi
preloaded "$helper" fds >"$work/kept.fds" 2>/dev/null || fail "close_stderr fds failed under the drop-in"
added="$(diff "$work/glibc.fds" "$work/kept.fds" | sed -n 's/^> //p' || true)"
if [[ "$(wc -l <<<"$added")" != 1 || ! "$added" =~ ^[0-9]+\ cloexec$ ]]; then
  fail "expected one close-on-exec descriptor more than glibc's run, got: '$added'"
fi
echo "PASS: exit lines (the recorder's too) after close(2) and under ls; saved stderr: descriptor $added"
