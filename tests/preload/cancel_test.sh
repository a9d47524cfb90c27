#!/usr/bin/env bash
# tests/preload/cancel_test.sh LIB PROGRAM — a thread cancelled while it calls malloc and free (PROGRAM is
# tests/preload/cancel_program.cc) is not cancelled inside them: it finishes its calls as under glibc, and the process
# exits. Run under glibc, under the drop-in, and under the drop-in while recording (NOSTD_ALLOC_TRACE), where the
# recorder's write(2) of a full buffer is a cancellation point inside free: there the worker must finish too, the
# process must exit within 20 s (a worker cancelled with its buffer busy made the recorder's stop at exit
# wait for ever) and the trace must be written.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/cancel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
want="worker finished 200000 pairs"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

out="$(timeout 20 "$program")" || fail "glibc: exit status $?"
[[ "$out" == "$want" ]] || fail "glibc: '$out', want '$want'"

out="$(LD_PRELOAD="$lib" timeout 20 "$program")" || fail "drop-in: exit status $?"
[[ "$out" == "$want" ]] || fail "drop-in: '$out', want '$want'"

status=0
out="$(LD_PRELOAD="$lib" NOSTD_ALLOC_TRACE="$work/cancel.trace" timeout 20 "$program" 2>"$work/err")" || status=$?
((status != 124)) || fail "recording: the process did not exit within 20 s (stderr: $(cat "$work/err"))"
((status == 0)) || fail "recording: exit status $status (stderr: $(cat "$work/err"))"
[[ "$out" == "$want" ]] || fail "recording: '$out', want '$want'"
grep -q "raw trace of .* calls written to $work/cancel.trace" "$work/err" ||
  fail "recording: no trace written; stderr: $(cat "$work/err")"
echo "PASS: malloc and free are no cancellation points (glibc, drop-in, drop-in recording)"
