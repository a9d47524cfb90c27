#!/usr/bin/env bash
# tests/preload/mallinfo_test.sh LIB PROGRAM — under LD_PRELOAD, glibc's statistics and tuning calls mallinfo2,
# malloc_stats, malloc_info and mallopt reach the drop-in (PROGRAM is tests/preload/mallinfo_program.cc): mallinfo2
# describes its arenas (at least a 64 MiB chunk's worth of arena, the 100 blocks of 1,000 bytes in use) and its huge
# block (the 64 MiB one, mapped on its own), malloc_stats writes the drop-in's statistics line, malloc_info's XML sums
# are mallinfo2's figures, its `<sizes>` are glibc's lines, ascending, non-overlapping, adding up to each heap's fast
# and rest totals, with the 20 freed blocks of 200 bytes in the class of their usable size, and mallopt returns 0 for a threshold of 64 KiB and for M_ARENA_MAX and 1 for one of 4 MiB,
# which then holds: a request just below it is no huge block, one just above is, and so is that size again after a
# free. Run with glibc first, whose answers differ (an arena of a few hundred KiB, its table on stderr, mallopt's 1
# for everything), so that the checks are seen to tell the two apart.
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
# xml_total ELEMENT TYPE ATTRIBUTE FILE: ATTRIBUTE of malloc_info's last <ELEMENT type="TYPE" ...> in FILE (the sums
# follow the heaps).
xml_total() { sed -n "s/^<$1 type=\"$2\" .*$3=\"\([0-9]*\)\".*/\1/p" "$4" | tail -n 1; }

"$program" >"$work/glibc.out" 2>"$work/glibc.err" || fail "glibc: mallinfo_program failed"
(($(field arena "$work/glibc.out") < 32 << 20)) || fail "glibc's arena already reads like ours: $(cat "$work/glibc.out")"
grep -q '^nostd-malloc:' "$work/glibc.err" && fail "glibc's malloc_stats printed our line"
(($(xml_total system current size "$work/glibc.out") < 32 << 20)) ||
  fail "glibc's malloc_info already reads like ours: $(cat "$work/glibc.out")"
(($(field mallopt_64k "$work/glibc.out") == 1 && $(field mallopt_arena_max "$work/glibc.out") == 1)) ||
  fail "glibc's mallopt no longer returns 1 for what the drop-in refuses: $(cat "$work/glibc.out")"

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
grep -q '^nostd-malloc: check=basic arenas=1/8 .* allocations=141 ' "$work/nostd.err" ||
  fail "malloc_stats did not print the drop-in's line: $(cat "$work/nostd.err")"
(($(field malloc_info "$work/nostd.out") == 0)) || fail "malloc_info failed: $out"
grep -q '^<malloc version="1">$' "$work/nostd.out" || fail "no malloc_info document: $out"
grep -q '^<heap nr="0">$' "$work/nostd.out" || fail "malloc_info lists no arena 0: $out"
(($(xml_total system current size "$work/nostd.out") == $(field arena "$work/nostd.out"))) ||
  fail "malloc_info's system size is not mallinfo2's arena: $out"
(($(xml_total total rest count "$work/nostd.out") == $(field ordblks "$work/nostd.out"))) ||
  fail "malloc_info's free blocks are not mallinfo2's ordblks: $out"
(($(xml_total total rest size "$work/nostd.out") + $(xml_total total fast size "$work/nostd.out") == \
  $(field fordblks "$work/nostd.out"))) || fail "malloc_info's free bytes are not mallinfo2's fordblks: $out"
# Each heap's <sizes>: one `  <size from= to= total= count=/>` line per class (glibc's shape), classes ascending and
# non-overlapping, their counts and bytes the heap's fast and rest totals together; the class of the freed 200-byte
# blocks holds exactly those 20 (a fresh process frees no other block of that size). awk prints what is wrong.
usable="$(field usable_200 "$work/nostd.out")"
sizes_check="$(awk -v usable="$usable" '
  function attr(name,   v) { v = $0; sub(".*" name "=\"", "", v); sub("\".*", "", v); return v + 0 }
  /^<heap nr=/ { heap = 1; count = total = 0; last = -1; found = 0; next }
  /^<sizes>$/ || /^<\/sizes>$/ { next }
  heap && /^<size / { print "not indented as glibc indents: " $0 }
  heap && /^  <size / {
    if ($0 !~ /^  <size from="[0-9]+" to="[0-9]+" total="[0-9]+" count="[0-9]+"\/>$/) print "bad element: " $0
    from = attr("from"); to = attr("to"); n = attr("count"); bytes = attr("total")
    if (from <= last || to < from || n < 1) print "not ascending, overlapping or empty: " $0
    last = to; count += n; total += bytes; classes++
    if (from <= usable && usable <= to) {
      found = 1
      if (n != 20 || bytes != 20 * usable) print "the 200-byte class is not the 20 freed blocks: " $0
    }
    next
  }
  heap && /^<total type="fast"/ { fast_count = attr("count"); fast_size = attr("size"); next }
  heap && /^<total type="rest"/ {
    if (count != fast_count + attr("count")) print "class counts " count " are not fast + rest"
    if (total != fast_size + attr("size")) print "class bytes " total " are not fast + rest"
    if (!found) print "no class holds the 200-byte blocks (usable " usable ")"
    heap = 0; heaps++
  }
  END { if (heaps < 1 || classes < 1) print "no heap with size classes" }' "$work/nostd.out")"
[[ -z "$sizes_check" ]] || fail "malloc_info's <sizes>: $sizes_check: $out"
(($(xml_total total mmap count "$work/nostd.out") == 1)) || fail "malloc_info's mmap count is not the huge block: $out"
(($(xml_total total mmap size "$work/nostd.out") == $(field hblkhd "$work/nostd.out"))) ||
  fail "malloc_info's mmap size is not mallinfo2's hblkhd: $out"
(($(field mallopt_64k "$work/nostd.out") == 0)) || fail "mallopt took a threshold below 1 MiB: $out"
(($(field mallopt_arena_max "$work/nostd.out") == 0)) || fail "mallopt took M_ARENA_MAX: $out"
(($(field mallopt_4m "$work/nostd.out") == 1)) || fail "mallopt refused a threshold of 4 MiB: $out"
(($(field hblks_below "$work/nostd.out") == 1)) || fail "a request below the 4 MiB threshold was mapped: $out"
(($(field hblks_above "$work/nostd.out") == 2)) || fail "a request above the 4 MiB threshold was not mapped: $out"
(($(field hblks_again "$work/nostd.out") == 2)) || fail "a free raised the fixed threshold: $out"
echo "PASS: mallinfo2, malloc_stats, malloc_info and mallopt describe and tune the drop-in under LD_PRELOAD"
