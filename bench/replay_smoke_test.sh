#!/usr/bin/env bash
# Smoke test of //bench:replay (no timing is asserted): a quick replay of a trace fit_compare writes (workload e) prints
# its table with the rows asked for and exits 0, and keeps a --min_time given; an option value that is not what the
# option takes (an arena of "10MB", a cap of -5, reps of "abc") stops it with one line and exit 2 before anything runs;
# a missing trace is refused with the reason; a trace that reallocates blocks to 0 bytes replays on every row; an
# unwritable --heap_map is refused before the replay, and maps that gnuplot does not draw whole leave an earlier run's
# as they were; a trace of 0-byte blocks is sized without a ratio to its peak; a trace name with a quote reaches glibc's
# footprint child intact, and so does a trace read from a pipe; with glibc alone there is nothing to recommend; a 1 MiB
# block leaves glibc's footprint the size of its heap; an arena that cannot be mapped is refused with the reason; a
# short trace with a huge request writes only what its calls can reach of its arena; a corrupt, truncated, empty or
# wrong-version trace, one with a request of 4 GiB or more, and one without events are refused with one line and exit 1;
# --help lists the options, and a bad command line stops it with exit 2; when no heap composition replays the whole
# trace, the recommendation says to raise --cap or --arena; in an arena too small for the trace, the rows whose
# allocations failed show "—" for their fragmentation figures, and sizing and the heap map panels say it did not fit.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
fit_compare="$1"
replay="$2"
sanitizer="${3:-}" # "asan" under --config=asan: the glibc row is then ASan's allocator
trace="$TEST_TMPDIR/e.trace"
"$fit_compare" --quick --workloads=e --write_trace="$trace" >/dev/null

out="$("$replay" "$trace" --quick --no_sizing --heap_map= --allocators==first/compact,=glibc --arena=4M 2>/dev/null)" ||
  fail "replay: exit $?"
grep -q '^| first/compact | ' <<<"$out" || fail "no first/compact row"
grep -q '^| glibc | ' <<<"$out" || fail "no glibc row"
grep -q 'failed allocations' <<<"$out" && fail "a 4 MiB arena should hold workload e: $(grep 'failed' <<<"$out")"

# A --heap_map prefix that ends in a slash names a directory: it had written the hidden files DIR/.png and
# DIR/_peak.png.
for bad in --arena=10MB --arena=0 --arena=-1 --cap=-5 --cap=abc --reps=abc --reps=0 --min_time=1s \
  --heap_map="$TEST_TMPDIR/"; do
  status=0
  "$replay" "$trace" --quick --no_sizing --heap_map= --allocators==glibc "$bad" >"$TEST_TMPDIR/out" 2>&1 ||
    status=$?
  [[ "$status" == 2 ]] || fail "$bad: exit $status, expected 2"
  grep -q "^replay: $bad: not " "$TEST_TMPDIR/out" || fail "$bad: $(head -1 "$TEST_TMPDIR/out")"
  grep -q '^| glibc' "$TEST_TMPDIR/out" && fail "$bad: the replay ran anyway"
done

# --quick sets the defaults of --reps, --cap and --min_time, not what the command line gives: --min_time=0 had been
# replaced by quick's 0.1 s (the legend says what the runs totalled at least).
"$replay" "$trace" --quick --min_time=0 --no_sizing --heap_map= --allocators==glibc >"$TEST_TMPDIR/out" 2>&1 ||
  fail "--quick --min_time=0: exit $?"
grep -qF '(more, up to 100, until they total 0.0 s; runs column)' "$TEST_TMPDIR/out" ||
  fail "--quick --min_time=0: $(grep -o 'until they total [^;]*' "$TEST_TMPDIR/out")"

# A block reallocated to 0 bytes stays live (BasicHeap::reallocate(p, 0), recorded by RecordingHeap as "r ID 0"):
# every row replays it, glibc's too (whose realloc(p, 0) frees p).
printf 'nostd-trace 1\na 1 100\nr 1 0\na 2 0\nr 2 0\nf 1\nf 2\nend 6\n' >"$TEST_TMPDIR/r0.txt"
"$replay" "$TEST_TMPDIR/r0.txt" --quick --no_sizing --heap_map= --allocators==seg/compact,=glibc >"$TEST_TMPDIR/out" \
  2>&1 || fail "a reallocate to 0 bytes: exit $?: $(grep -v '^|' "$TEST_TMPDIR/out" | tail -3)"
grep -q '^| glibc | ' "$TEST_TMPDIR/out" || fail "a reallocate to 0 bytes: no glibc row"

# A trace whose blocks are all of 0 bytes (peak of live bytes 0): sizing and the recommendation give no ratio to the
# peak rather than "inf".
printf 'nostd-trace 1\na 1 0\na 2 0\nf 1\nf 2\nend 4\n' >"$TEST_TMPDIR/zero.txt"
"$replay" "$TEST_TMPDIR/zero.txt" --quick --heap_map= --allocators==seg/compact,=glibc >"$TEST_TMPDIR/out" 2>&1 ||
  fail "a trace of 0-byte blocks: exit $?: $(tail -2 "$TEST_TMPDIR/out")"
grep -q '^| seg/compact | [0-9]* ([0-9]* B) | — |' "$TEST_TMPDIR/out" ||
  fail "a trace of 0-byte blocks: sizing: $(grep '^| seg/compact | [0-9]* (' "$TEST_TMPDIR/out")"
nonfinite='(^|[^a-z])(inf|nan)([^a-z]|$)'
LC_ALL=C grep -Eqi "$nonfinite" "$TEST_TMPDIR/out" &&
  fail "a trace of 0-byte blocks: $(LC_ALL=C grep -Ei "$nonfinite" "$TEST_TMPDIR/out")"

# A trace whose name holds a quote and a command substitution: glibc's footprint, measured by a child replay started
# through the shell, is still measured (a number in touched ÷ peak live), and nothing in the name runs (the quote
# had ended the child command's quoting: the substitution ran and the child looked for another file).
odd="$TEST_TMPDIR/it'\$(touch ran)'s.trace"
cp "$TEST_TMPDIR/r0.txt" "$odd"
replay_path="$(realpath "$replay")"
(cd "$TEST_TMPDIR" && "$replay_path" "$odd" --quick --no_sizing --heap_map= --allocators==glibc) >"$TEST_TMPDIR/out" 2>&1 ||
  fail "a trace name with a quote: exit $?: $(tail -2 "$TEST_TMPDIR/out")"
grep -qE '^\| glibc \|([^|]*\|){7} [0-9.]+ \|' "$TEST_TMPDIR/out" ||
  fail "a trace name with a quote: no glibc footprint: $(grep '^| glibc' "$TEST_TMPDIR/out")"
[[ ! -e "$TEST_TMPDIR/ran" ]] || fail "a trace name with a quote: a command in it ran"

# A trace read from a pipe (here process substitution; also /dev/stdin or a FIFO): glibc's footprint child cannot read
# the pipe again, so it is given a copy of what was read, and its figure is measured (it had read "—").
"$replay" <(cat "$TEST_TMPDIR/r0.txt") --quick --no_sizing --heap_map= --allocators==glibc >"$TEST_TMPDIR/out" 2>&1 ||
  fail "a trace from a pipe: exit $?: $(tail -2 "$TEST_TMPDIR/out")"
grep -qE '^\| glibc \|([^|]*\|){7} [0-9.]+ \|' "$TEST_TMPDIR/out" ||
  fail "a trace from a pipe: no glibc footprint: $(grep '^| glibc' "$TEST_TMPDIR/out")"
grep -qE '^### Trace /(dev|proc)/' "$TEST_TMPDIR/out" ||
  fail "a trace from a pipe: the report is headed $(grep '^### Trace' "$TEST_TMPDIR/out") (a pipe's basename, 63, names nothing)"
# Only reference rows (glibc): the recommendation says there is no heap composition to recommend, not that one failed
# and --cap or --arena should be raised.
grep -qx 'No heap composition among the rows (--allocators selected only glibc or pmr/pool): nothing to recommend.' \
  "$TEST_TMPDIR/out" || fail "glibc alone: the recommendation says $(grep -A2 '### Recommendation' "$TEST_TMPDIR/out" | tail -1)"
# With sizing and the default heap map on, from a pipe: no sizing table without a row to size (its heading had been
# printed over no rows), and the heap map is declined because no row is a heap composition, not because /dev/fd/63's
# neighbour cannot be written.
"$replay" <(cat "$TEST_TMPDIR/r0.txt") --quick --allocators==glibc >"$TEST_TMPDIR/out" 2>&1 ||
  fail "glibc alone with sizing: exit $?: $(tail -2 "$TEST_TMPDIR/out")"
grep -q '^### Sizing' "$TEST_TMPDIR/out" && fail "glibc alone with sizing: an empty sizing table: $(grep -A3 '^### Sizing' "$TEST_TMPDIR/out")"
grep -qx 'replay: no heap map: none of the selected rows is a heap composition (glibc has none)' "$TEST_TMPDIR/out" ||
  fail "glibc alone from a pipe: the heap map's line is $(grep 'no heap map' "$TEST_TMPDIR/out")"

# A trace with a block above glibc's mmap threshold (1 MiB among two small ones): glibc's touched ÷ peak live is the
# span of its one heap, about 1, not the distance from its brk heap up to the mapping (it read 44,390,328).
printf 'nostd-trace 1\na 1 100\na 2 1048576\na 3 200\nf 1\nf 2\nf 3\nend 6\n' >"$TEST_TMPDIR/big.txt"
"$replay" "$TEST_TMPDIR/big.txt" --quick --no_sizing --heap_map= --allocators==glibc >"$TEST_TMPDIR/out" 2>&1 ||
  fail "a 1 MiB block: exit $?: $(tail -2 "$TEST_TMPDIR/out")"
# Under ASan the "glibc" row is ASan's allocator, which puts a large block in a region of its own whatever
# M_MMAP_MAX says: its span is no heap's size there.
if [[ "$sanitizer" != asan ]]; then
  grep -qE '^\| glibc \|([^|]*\|){7} 1\.[0-9]+ \|' "$TEST_TMPDIR/out" ||
    fail "a 1 MiB block: glibc's touched ÷ peak live should be about 1: $(grep '^| glibc' "$TEST_TMPDIR/out")"
fi

# A heap map prefix that cannot be written is refused with the reason before the replay runs, exit 2; nothing of an
# image reaches the report.
status=0
"$replay" "$trace" --quick --no_sizing --heap_map="$TEST_TMPDIR/no/such/dir/m" --allocators==glibc \
  >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || status=$?
[[ "$status" == 2 ]] || fail "an unwritable --heap_map: exit $status, expected 2"
grep -q "^replay: --heap_map: cannot write .*no/such/dir/m.png: No such file or directory" "$TEST_TMPDIR/err" ||
  fail "an unwritable --heap_map: $(head -2 "$TEST_TMPDIR/err")"
grep -q '^| glibc' "$TEST_TMPDIR/out" && fail "an unwritable --heap_map: the replay ran anyway"

# The default heap map (next to the trace) when no row can draw one: a line saying why, and no empty image left.
"$replay" "$trace" --quick --no_sizing --allocators==glibc >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" ||
  fail "glibc alone: exit $?"
grep -q "^replay: no heap map: none of the selected rows is a heap composition" "$TEST_TMPDIR/err" ||
  fail "glibc alone: $(grep heap "$TEST_TMPDIR/err")"
[[ ! -e "$trace.heap_map.png" && ! -e "$trace.heap_map_peak.png" ]] || fail "glibc alone: an empty heap map was left"

# Heap maps are drawn to temporary files and renamed over the names once gnuplot has drawn them whole: a stand-in
# gnuplot that writes the start of a PNG and exits 0, as gnuplot does when the disk fills, leaves the maps of an
# earlier run as they were, with a line saying why (gnuplot had written over them); the real one replaces them with
# whole images, and no temporary is left either way.
mkdir -p "$TEST_TMPDIR/maps" "$TEST_TMPDIR/fake_gnuplot"
cat >"$TEST_TMPDIR/fake_gnuplot/gnuplot" <<'EOF_GNUPLOT'
#!/usr/bin/env bash
sed -n "s/^set output '\(.*\)'$/\1/p" | while read -r png; do printf '\x89PNG\r\n\x1a\n' >"$png"; done
EOF_GNUPLOT
chmod +x "$TEST_TMPDIR/fake_gnuplot/gnuplot"
echo "earlier map" >"$TEST_TMPDIR/maps/m.png"
echo "earlier peak" >"$TEST_TMPDIR/maps/m_peak.png"
PATH="$TEST_TMPDIR/fake_gnuplot:$PATH" "$replay" "$trace" --quick --no_sizing --heap_map="$TEST_TMPDIR/maps/m" \
  --allocators==first/compact >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "a failing gnuplot: exit $?"
grep -qxF "replay: heap map: gnuplot did not write whole images (a full disk?); $TEST_TMPDIR/maps/m.png and \
$TEST_TMPDIR/maps/m_peak.png are left as they were" "$TEST_TMPDIR/err" ||
  fail "a failing gnuplot: $(grep 'heap map' "$TEST_TMPDIR/err")"
[[ "$(cat "$TEST_TMPDIR/maps/m.png")" == "earlier map" && "$(cat "$TEST_TMPDIR/maps/m_peak.png")" == "earlier peak" ]] ||
  fail "a failing gnuplot: the earlier maps were lost"
[[ "$(ls "$TEST_TMPDIR/maps")" == "$(printf 'm.png\nm_peak.png')" ]] || fail "a failing gnuplot: left $(ls "$TEST_TMPDIR/maps")"
"$replay" "$trace" --quick --no_sizing --heap_map="$TEST_TMPDIR/maps/m" --allocators==first/compact \
  >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "a heap map: exit $?"
for png in m.png m_peak.png; do
  [[ "$(head -c 4 "$TEST_TMPDIR/maps/$png" | tail -c 3)" == PNG ]] || fail "a heap map: $png is no image: $(cat "$TEST_TMPDIR/err")"
done
[[ "$(ls "$TEST_TMPDIR/maps")" == "$(printf 'm.png\nm_peak.png')" ]] || fail "a heap map: left $(ls "$TEST_TMPDIR/maps")"

# An arena the system cannot map (an --arena beyond the address space here; by default, a trace whose peak of live
# bytes is near 4 GiB asks for 8 times that): one line naming the trace, the size and the reason, exit 1, no abort.
status=0
"$replay" "$TEST_TMPDIR/r0.txt" --quick --no_sizing --heap_map= --arena=300000G >"$TEST_TMPDIR/out" \
  2>"$TEST_TMPDIR/err" || status=$?
[[ "$status" == 1 ]] || fail "an arena that cannot be mapped: exit $status, expected 1: $(tail -2 "$TEST_TMPDIR/err")"
grep -q "^replay: .*r0.txt: cannot map a 307200000 MiB arena: " "$TEST_TMPDIR/err" ||
  fail "an arena that cannot be mapped: $(head -2 "$TEST_TMPDIR/err")"
[[ "$(wc -l <"$TEST_TMPDIR/err")" == 1 ]] || fail "an arena that cannot be mapped: $(cat "$TEST_TMPDIR/err")"
grep -q '^| glibc' "$TEST_TMPDIR/out" && fail "an arena that cannot be mapped: the replay ran anyway"
# The same under an address-space limit (ulimit -v: 1 GiB for a 2 GiB arena), from the one mapping the replay would
# use. ASan's shadow memory does not start under such a limit.
if [[ "$sanitizer" != asan ]]; then
  status=0
  (ulimit -v $((1 << 20)) && exec "$replay" "$TEST_TMPDIR/r0.txt" --quick --no_sizing --heap_map= --arena=2G) \
    >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || status=$?
  [[ "$status" == 1 && ! -s "$TEST_TMPDIR/out" && "$(wc -l <"$TEST_TMPDIR/err")" == 1 ]] ||
    fail "--arena=2G under ulimit -v 1 GiB: exit $status, $(head -2 "$TEST_TMPDIR/out" "$TEST_TMPDIR/err")"
  grep -q "^replay: .*r0.txt: cannot map a 2048 MiB arena: Cannot allocate memory (--arena; --arena=BYTES sets it)$" \
    "$TEST_TMPDIR/err" || fail "--arena=2G under ulimit -v 1 GiB: $(cat "$TEST_TMPDIR/err")"
fi

# A short trace with a huge request: the default arena is 8 x its peak (1041 MiB here for one 128 MiB block), but only
# as much as its calls can reach is written before timing, and the header says how much (the whole arena had been
# written: a resident set of 1.3 GiB, against 0.4 GiB, 256 MiB of which is glibc's heap written at start-up). ASan's
# shadow memory would blur the figure, so the check is left to the other builds.
if [[ "$sanitizer" != asan ]]; then
  printf 'nostd-trace 1\na 1 134217728\na 2 100\nf 2\nf 1\nend 4\n' >"$TEST_TMPDIR/huge.txt"
  /usr/bin/time -f '%M' -o "$TEST_TMPDIR/rss" "$replay" "$TEST_TMPDIR/huge.txt" --quick --no_sizing --heap_map= \
    --allocators==first/compact >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "a huge request: exit $?"
  reach="$(sed -n "s/.*; arena 1041 MiB, of which the first \([0-9]*\) MiB (as far as the trace's calls can reach) is \
written before timing\.$/\1/p" "$TEST_TMPDIR/out")"
  [[ -n "$reach" ]] && ((reach >= 128 && reach < 256)) ||
    fail "a huge request: $(grep 'arena' "$TEST_TMPDIR/out" | head -1)"
  rss_kib="$(tail -1 "$TEST_TMPDIR/rss")"
  ((rss_kib < 800 * 1024)) || fail "a huge request: resident set $((rss_kib / 1024)) MiB for a ${reach:-?} MiB reach"
fi

# refused_trace WANT BYTES: a trace file holding BYTES (printf's escapes) is refused before anything runs: exit 1,
# nothing on stdout, one line on stderr naming the file and saying WANT (README, "The trace format": reading stops at
# the first problem with its byte offset).
refused_trace() {
  local want="$1" status=0 lines
  printf '%b' "$2" >"$TEST_TMPDIR/bad.trace"
  "$replay" "$TEST_TMPDIR/bad.trace" --quick --no_sizing --heap_map= --allocators==first/compact \
    >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || status=$?
  [[ "$status" == 1 ]] || fail "refused trace '$2': exit $status, expected 1"
  [[ ! -s "$TEST_TMPDIR/out" ]] || fail "refused trace '$2': the replay ran: $(head -3 "$TEST_TMPDIR/out")"
  lines="$(wc -l <"$TEST_TMPDIR/err")"
  [[ "$lines" == 1 ]] || fail "refused trace '$2': $lines lines on stderr, expected 1: $(head -3 "$TEST_TMPDIR/err")"
  grep -qF -- "replay: $TEST_TMPDIR/bad.trace: $want" "$TEST_TMPDIR/err" ||
    fail "refused trace '$2': stderr does not say '$want': $(head -2 "$TEST_TMPDIR/err")"
}
refused_trace 'byte 0: not a trace' ''                                              # an empty file
refused_trace 'byte 0: not a trace' '\x7fELF\x02\x01\x01\x00garbage'                # binary garbage
refused_trace 'byte 0: not a trace' 'NSTRACE2E\x00'                                # a binary trace of version 2
refused_trace 'byte 0: not a trace' 'NSTRRAW2'                                      # a raw trace of version 2
refused_trace 'byte 0 (line 1): not a trace' 'nostd-trace 2\nend 0\n'              # a text trace of version 2
refused_trace 'byte 12: the trace ends without an end record' 'NSTRACE1A\x01\x08\x00' # truncated at an event
refused_trace 'byte 10: truncated event' 'NSTRACE1A\x01'                            # truncated inside one
refused_trace 'byte 8: unknown event tag 0x58' 'NSTRACE1X\x01E\x01'
refused_trace 'byte 14 (line 2): expected "a ID SIZE [ALIGN]"' 'nostd-trace 1\na 1\nend 1\n' # a line cut short
refused_trace 'byte 20 (line 3): free of id 2, which is not live' 'nostd-trace 1\na 1 8\nf 2\nend 2\n'
refused_trace 'byte 24 (line 4): free of id 1, which is not live' 'nostd-trace 1\na 1 8\nf 1\nf 1\nend 3\n'
refused_trace 'byte 14 (line 2): the end record counts 18446744073709551615 events, the trace has 0' \
  'nostd-trace 1\nend 18446744073709551615\n'
# A request the replay cannot hold (it keeps sizes in 32 bits), by allocate or by reallocate.
refused_trace 'byte 14 (line 2): request of 4294967296 bytes: the replay handles < 4 GiB' \
  'nostd-trace 1\na 1 4294967296\nf 1\nend 2\n'
refused_trace 'byte 20 (line 3): request of 18446744073709551615 bytes: the replay handles < 4 GiB' \
  'nostd-trace 1\na 1 8\nr 1 18446744073709551615\nf 1\nend 3\n'
# A valid trace with no events: nothing to replay.
refused_trace 'the trace has no events' 'nostd-trace 1\nend 0\n'

# The command line: --help prints the usage and every option on stdout, exit 0; no trace, two traces, or
# --allocators= that selects nothing: one line, exit 2, before anything runs.
out="$("$replay" --help 2>/dev/null)" || fail "--help: exit $?"
for option in 'usage: replay' --allocators= --reps= --cap= --min_time= --quick --arena= --no_sizing --heap_map=; do
  grep -qF -- "$option" <<<"$out" || fail "--help does not list $option"
done
expect_refused "replay: no trace given (see --help)" "$replay" --quick
expect_refused "replay: unexpected argument $TEST_TMPDIR/r0.txt: one TRACE a run (see --help)" "$replay" "$trace" \
  "$TEST_TMPDIR/r0.txt"
# An option that does not exist is named as fit_compare and trace_convert name it: the line had read "unexpected
# argument --fast", as if the option existed but stood in the wrong place.
expect_refused "replay: unknown option --fast (see --help)" "$replay" "$trace" --fast
expect_refused "replay: unknown option --nosizing (see --help)" "$replay" --nosizing "$trace"
# An option's value given apart: the line had read "unexpected argument --arena", as for an option that is not there.
expect_refused "replay: --arena takes its value after '=': --arena=VALUE (see --help)" "$replay" --arena 16M "$trace"
# An empty argument (an unset shell variable) is refused, not skipped: `replay "" TRACE` had replayed TRACE.
expect_refused "replay: an empty argument: not a trace file name (see --help)" "$replay" "" "$trace" --quick \
  --no_sizing --heap_map= --allocators==glibc
expect_refused "--allocators word 'nosuch' selects no allocator" "$replay" "$trace" --allocators=nosuch

# A trace in an arena too small for it (workload e, peak live 57 KiB, in 64 KiB): the rows whose allocations failed show
# "—" for touched ÷ peak live, largest ÷ free and B/block, and the note says the trace does not fit. The figures over
# the blocks the arena could hold had been shown as the trace's (first/compact's touched ÷ peak live read 1.23 beside
# "8148 failed allocations", where in an arena that holds the trace it reads 1.65). Sizing names the arena it could
# not exceed, and each heap map panel (its gnuplot script, recorded by a stand-in) says the trace did not fit rather
# than "touched 1.23× peak". glibc grows from the OS: its row is whole.
mkdir -p "$TEST_TMPDIR/script_gnuplot"
cat >"$TEST_TMPDIR/script_gnuplot/gnuplot" <<EOF_GNUPLOT
#!/usr/bin/env bash
cat >"$TEST_TMPDIR/gnuplot_script"
EOF_GNUPLOT
chmod +x "$TEST_TMPDIR/script_gnuplot/gnuplot"
PATH="$TEST_TMPDIR/script_gnuplot:$PATH" "$replay" "$trace" --quick --heap_map="$TEST_TMPDIR/small" --arena=64K \
  --allocators==first/compact,=seg/compact,=glibc >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" ||
  fail "a trace that does not fit: exit $?: $(tail -2 "$TEST_TMPDIR/err")"
for row in first/compact seg/compact; do
  grep -qE "^\| $row \|([^|]*\|){7} — \| — \| — \| [0-9]+ failed allocations: the trace does not fit the arena \|\$" \
    "$TEST_TMPDIR/out" || fail "a trace that does not fit: $(grep "^| $row |" "$TEST_TMPDIR/out")"
  grep -qE "^\| $row \| does not fit in the table's arena of 64 KiB \(--arena sets it\) \| — \| [0-9]+ \|\$" \
    "$TEST_TMPDIR/out" ||
    fail "a trace that does not fit: sizing: $(grep "^| $row | [^0-9]" "$TEST_TMPDIR/out")"
  grep -qE "^set title '$row'\.\"\\\\n\"\.'did not fit: [0-9]+ failed'\$" "$TEST_TMPDIR/gnuplot_script" ||
    fail "a trace that does not fit: heap map title: $(grep -F "set title '$row'" "$TEST_TMPDIR/gnuplot_script")"
done
grep -qE '^\| glibc \|([^|]*\|){7} [0-9.]+ \| n/a \| [0-9.]+ \|  \|$' "$TEST_TMPDIR/out" ||
  fail "a trace that does not fit: glibc's row: $(grep '^| glibc' "$TEST_TMPDIR/out")"
grep -qF -- '— when allocations failed (note column): the trace does not fit the arena' "$TEST_TMPDIR/out" ||
  fail "a trace that does not fit: the legend does not say what — means"

# No heap composition replays the whole trace (a 100 MB block in a 1 MiB arena): the recommendation says to raise
# --cap or --arena rather than name a composition that failed.
printf 'nostd-trace 1\na 1 100000000\nf 1\nend 2\n' >"$TEST_TMPDIR/large.txt"
"$replay" "$TEST_TMPDIR/large.txt" --quick --no_sizing --heap_map= --arena=1M --allocators==first/compact,=seg/compact \
  >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "nothing fits: exit $?: $(tail -2 "$TEST_TMPDIR/err")"
grep -qx 'No heap composition replayed the whole trace without a cap or a failed allocation: raise --cap or --arena.' \
  "$TEST_TMPDIR/out" || fail "nothing fits: the recommendation says $(grep -A2 '### Recommendation' "$TEST_TMPDIR/out" | tail -1)"
grep -q '^- \*\*Throughput' "$TEST_TMPDIR/out" && fail "nothing fits: a composition that failed is recommended"

status=0
"$replay" "$TEST_TMPDIR/missing.trace" --quick >"$TEST_TMPDIR/out" 2>&1 || status=$?
[[ "$status" != 0 ]] || fail "a missing trace: exit 0"
grep -q "missing.trace.*No such file or directory" "$TEST_TMPDIR/out" || fail "a missing trace: $(cat "$TEST_TMPDIR/out")"
finish
