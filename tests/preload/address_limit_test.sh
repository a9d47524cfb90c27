#!/usr/bin/env bash
# tests/preload/address_limit_test.sh LIB PROGRAM — malloc under a limit on the address space (RLIMIT_AS, `ulimit -v`)
# that leaves room for one 64 MiB arena chunk but not for twice that (PROGRAM is tests/preload/address_limit.cc,
# which sets the limit itself): every request is served, with glibc and under the drop-in, and the drop-in's heap
# validates at exit. Before map_chunk fell back to mapping one chunk exactly, the drop-in's first malloc failed there.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"

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
echo "PASS: served under RLIMIT_AS with 100 MiB of headroom; $(grep -o 'chunks=[0-9]*' "$err")"
