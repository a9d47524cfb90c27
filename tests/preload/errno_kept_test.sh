#!/usr/bin/env bash
# tests/preload/errno_kept_test.sh LIB PROGRAM — a malloc or free that succeeds leaves errno as it was, also when the
# drop-in made system calls on the way that failed (PROGRAM is tests/preload/errno_program.cc). Checks
#   - the process's first malloc, which starts the drop-in, with a misspelt NOSTD_MALLOC_ variable and stderr open
#     read-only: the "ignoring" line's write fails (EBADF);
#   - the same with NOSTD_ALLOC_TRACE naming a file that does not exist yet: the recorder's stat fails (ENOENT);
#   - recording, 100,000 malloc/free pairs after the trace's directory was removed: the first flush cannot create
#     the part file (ENOENT), inside whichever call fills the buffer.
# Each also runs without the drop-in (glibc), which must pass too.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/errno_kept.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$program" first || fail "glibc: errno_program first"

out="$(LD_PRELOAD="$lib" NOSTD_MALLOC_STATS=1 NOSTD_MALLOC_CHEK=x "$program" first 2</dev/null)" ||
  fail "first malloc with a misspelt variable and an unwritable stderr: $out"

mkdir "$work/trace"
out="$(LD_PRELOAD="$lib" NOSTD_MALLOC_STATS=1 NOSTD_ALLOC_TRACE="$work/trace/first.trace" "$program" first \
  2>"$work/first.err")" || fail "first malloc while recording: $out (stderr: $(cat "$work/first.err"))"

mkdir "$work/gone"
out="$(LD_PRELOAD="$lib" NOSTD_ALLOC_TRACE="$work/gone/churn.trace" "$program" churn "$work/gone" \
  2>"$work/churn.err")" || fail "recording without a directory: $out (stderr: $(cat "$work/churn.err"))"
grep -q 'nostd-alloc: cannot create' "$work/churn.err" ||
  fail "the recorder never tried to create its file, so the case was not run; stderr: $(cat "$work/churn.err")"
echo "PASS: errno kept by the first malloc (misspelt variable, stderr unwritable; recording) and while recording"
