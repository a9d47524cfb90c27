#!/usr/bin/env bash
# tests/preload/mallinfo_test.sh LIB PROGRAM — under LD_PRELOAD, glibc's statistics calls mallinfo2 and malloc_stats
# reach the drop-in (PROGRAM is tests/preload/mallinfo_program.cc): mallinfo2 describes its arenas (at least a 64 MiB
# chunk's worth of arena, the 100 blocks of 1,000 bytes in use) and its huge block (the 64 MiB one, mapped on its
# own), and malloc_stats writes the drop-in's statistics line. Run with glibc first, whose answers differ (an arena
# of a few hundred KiB, its table on stderr), so that the checks are seen to tell the two apart.
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/mallinfo.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# field NAME FILE: the value of NAME=value in FILE.
field() { sed -n "s/^$1=//p" "$2"; }

"$program" >"$work/glibc.out" 2>"$work/glibc.err" || fail "glibc: mallinfo_program failed"
(($(field arena "$work/glibc.out") < 32 << 20)) || fail "glibc's arena already reads like ours: $(cat "$work/glibc.out")"
grep -q '^nostd-malloc:' "$work/glibc.err" && fail "glibc's malloc_stats printed our line"

LD_PRELOAD="$lib" "$program" >"$work/nostd.out" 2>"$work/nostd.err" ||
  fail "under the drop-in: mallinfo_program failed (stderr: $(cat "$work/nostd.err"))"
out="$(cat "$work/nostd.out")"
(($(field arena "$work/nostd.out") >= 32 << 20)) || fail "arena is not the drop-in's chunk: $out"
(($(field uordblks "$work/nostd.out") >= 100 * 1000)) || fail "the 100 blocks of 1,000 bytes are not in use: $out"
(($(field uordblks "$work/nostd.out") + $(field fordblks "$work/nostd.out") <= $(field arena "$work/nostd.out"))) ||
  fail "in use and free exceed the arena: $out"
(($(field ordblks "$work/nostd.out") >= 1)) || fail "no free block (the chunk's tail): $out"
(($(field hblks "$work/nostd.out") == 1)) || fail "the 64 MiB block is not the one huge block: $out"
(($(field hblkhd "$work/nostd.out") >= 64 << 20)) || fail "the huge block's mapping is not counted: $out"
grep -q '^nostd-malloc: check=basic arenas=1/8 .* allocations=100 ' "$work/nostd.err" ||
  fail "malloc_stats did not print the drop-in's line: $(cat "$work/nostd.err")"
echo "PASS: mallinfo2 and malloc_stats describe the drop-in under LD_PRELOAD"
