#!/usr/bin/env bash
# tests/preload/arena_fallback_test.sh LIB PROGRAM — a thread whose arena cannot map a chunk (RLIMIT_AS) is served
# from another arena's free memory: malloc, calloc, posix_memalign, aligned_alloc and realloc's move, with errno kept,
# and ENOMEM once no arena has room (PROGRAM is tests/preload/arena_fallback.cc, which sets the limit itself). Under
# the drop-in only: the program relies on its arenas and chunks. Four arenas, three used: the exit line must count two
# chunks (the main thread's and the realloc thread's; none was mapped under the limit), and the heap must validate.
# The program frees every block it allocated, so under 64 KiB are in use at exit (the C library's own few blocks): a
# realloc moved to another arena must free the block it left (one 960 KiB block left behind would show here).
# Run at each check level. Before the fallback, every one of those calls failed with ENOMEM.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

err="$(mktemp "${TEST_TMPDIR:-/tmp}/arena_fallback.XXXXXX")"
trap 'rm -f "$err"' EXIT
# Every check level: `hardened` has no per-arena cache and keys its heaps (an arena without a chunk is never asked).
for level in none basic hardened; do
  status=0
  out="$(LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK="$level" NOSTD_MALLOC_ARENAS=4 NOSTD_MALLOC_STATS=1 \
    NOSTD_MALLOC_VALIDATE=1 "$program" 2>"$err")" || status=$?
  echo "== NOSTD_MALLOC_CHECK=$level"
  echo "$out"
  [ "$status" -eq 0 ] || fail "$level: exit status $status (stderr: $(cat "$err"))"
  grep -q '^nostd-malloc: validate ok' "$err" || fail "$level: no 'validate ok' at exit; stderr: $(cat "$err")"
  grep -q ' arenas=2/4 chunks=2 ' "$err" ||
    fail "$level: expected 2 of 4 arenas with 2 chunks in all; stderr: $(cat "$err")"
  in_use="$(grep -o ' in_use_bytes=[0-9]*' "$err" | cut -d= -f2)"
  [ -n "$in_use" ] && [ "$in_use" -lt 65536 ] ||
    fail "$level: ${in_use:-no} bytes in use at exit, expected under 64 KiB (a block left behind?); stderr: $(cat "$err")"
done
echo "PASS: served from other arenas under RLIMIT_AS at every check level; $(grep -o 'arenas=[0-9/]* chunks=[0-9]*' "$err")"
