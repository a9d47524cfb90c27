#!/usr/bin/env bash
# tests/preload/address_limit_test.sh LIB PROGRAM PARTIAL — malloc under a limit on the address space (RLIMIT_AS,
# `ulimit -v`) that leaves room for one 64 MiB arena chunk but not for twice that (PROGRAM is
# tests/preload/address_limit.cc, which sets the limit itself): every request is served, with glibc and under the
# drop-in, and the drop-in's heap validates at exit. Before map_chunk fell back to mapping one chunk exactly, the
# drop-in's first malloc failed there.
#
# Then partial chunks (PARTIAL is tests/preload/partial_chunk.cc, 100 MiB of headroom), at every check level:
#   fill       more than 1.35 chunks' worth of 1000-byte blocks (90000; one chunk holds 66576). Before an arena could
#              map a chunk smaller than 64 MiB, the drop-in stopped at one chunk's worth.
#   huge       a huge block that the kernel placed in a partial chunk's unmapped tail is sized, grown and freed as a
#              huge block (the slot's owner byte does not send it to the arena), and the heap validates at exit.
#   tail_free  free of a pointer into the program's own page in such a tail is reported (SIGABRT, a nostd-malloc line).
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
partial="$3"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

out="$("$program")" || fail "glibc: $out"
err="$(mktemp "${TEST_TMPDIR:-/tmp}/address_limit.XXXXXX")"
trap 'rm -f "$err"' EXIT
out="$(LD_PRELOAD="$lib" NOSTD_MALLOC_STATS=1 NOSTD_MALLOC_VALIDATE=1 "$program" 2>"$err")" ||
  fail "under the drop-in: $out (stderr: $(cat "$err"))"
grep -q '^nostd-malloc: validate ok' "$err" || fail "no 'validate ok' at exit; stderr: $(cat "$err")"
echo "PASS: served under RLIMIT_AS with 100 MiB of headroom;$(grep -o ' chunks=[0-9]*' "$err")"

readonly kMinBlocks=90000
out="$("$partial" fill)" || fail "glibc, partial_chunk fill: $out"
echo "glibc: $out"
for level in none basic hardened; do
  drop_in() { LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK="$level" NOSTD_MALLOC_STATS=1 NOSTD_MALLOC_VALIDATE=1 "$@"; }

  out="$(drop_in "$partial" fill 2>"$err")" || fail "$level fill: $out (stderr: $(cat "$err"))"
  blocks="$(sed -n 's/^blocks: //p' <<<"$out")"
  ((blocks >= kMinBlocks)) || fail "$level fill: $blocks blocks of 1000 bytes, expected at least $kMinBlocks; $(cat "$err")"
  grep -q '^nostd-malloc: validate ok' "$err" || fail "$level fill: no 'validate ok'; stderr: $(cat "$err")"
  echo "PASS $level fill: $blocks blocks; $(grep -o 'chunks=[0-9]* partial_chunks=[0-9]*' "$err")"

  out="$(drop_in "$partial" huge 2>"$err")" || fail "$level huge: $out (stderr: $(cat "$err"))"
  grep -q '^nostd-malloc: validate ok' "$err" || fail "$level huge: no 'validate ok'; stderr: $(cat "$err")"
  echo "PASS $level huge: $(tr '\n' ' ' <<<"$out")"

  status=0
  # In a braced group whose stderr is discarded: bash prints its "Aborted" notice there.
  { out="$(drop_in "$partial" tail_free 2>"$err")"; } 2>/dev/null || status=$?
  # 134 = 128 + SIGABRT: ReportAndAbort's exit, after its message.
  ((status == 134)) || fail "$level tail_free: exit status $status, expected 134; $out (stderr: $(cat "$err"))"
  grep -q '^nostd-malloc: invalid pointer .*free of a pointer malloc never returned' "$err" ||
    fail "$level tail_free: no report; stderr: $(cat "$err")"
  echo "PASS $level tail_free: $(head -1 "$err")"
done
