#!/usr/bin/env bash
# tests/preload/calloc_test.sh LIB PROGRAM — calloc under the drop-in hands out zeros whatever the block's history
# (PROGRAM is tests/preload/calloc_program.cc): fresh chunk memory a sparse table leaves unwritten, small blocks
# reused at once, and large blocks written whole, freed and calloc'd again. Each mode at every check level, and
# without the drop-in (glibc), which must pass too. The resident pages are checked by MallocCallocPages
# (//tests:malloc_release_test); the cost is measured by hand (README, "calloc").
set -euo pipefail

lib="$(realpath "$1")"
program="$2"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for mode in sparse small reuse; do
  "$program" "$mode" >/dev/null || fail "glibc: calloc_program $mode"
  for check in none basic hardened; do
    LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK="$check" "$program" "$mode" >/dev/null ||
      fail "NOSTD_MALLOC_CHECK=$check: calloc_program $mode (exit $?)"
  done
done
if "$program" bogus 2>/dev/null; then fail "an unknown mode was accepted"; fi
echo "PASS: calloc hands out zeros (sparse, small, reuse) at none, basic and hardened"
