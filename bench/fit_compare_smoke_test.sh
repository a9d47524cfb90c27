#!/usr/bin/env bash
# Smoke test of the README's benchmark command: fit_compare runs a quick pass of the embedded workload and its
# JSON names every allocator with a result for the whole trace. No timing is asserted (timings belong to the
# benchmark, not to tests); this only keeps `./bazelw run //bench:fit_compare` working.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$1" --quick --workloads=e --json >"$out"
for allocator in first/compact first/full next/compact next/full best/compact best/full seg/compact seg/full \
  first/compact/nochecks next/compact/nochecks best/compact/nochecks seg/compact/nochecks first/compact/hardened \
  first/compact/debug seg/compact+cache seg/compact32/nochecks seg/compact32+cache glibc pmr/pool; do
  if ! grep -q "\"allocator\": \"$allocator\"" "$out"; then
    fail "no result for $allocator"
  fi
done
# Every run replays the whole trace (200,800 calls in quick mode) without failed allocations.
if grep -q '"failed": [1-9]' "$out"; then
  fail "a run had failed allocations"
fi
# Every row says how many allocations failed, beside figures that are numbers when none did (a row with failures has
# them null: tests:comparison_test), so that a reader of the JSON need not compare each run's "failed" itself.
if [[ "$(grep -c '"failed_allocations": 0, "peak_live_bytes": [0-9]' "$out")" != "$(grep -c '"allocator": ' "$out")" ]]; then
  fail "a row without \"failed_allocations\": 0: $(grep -c '"failed_allocations"' "$out") of $(grep -c '"allocator": ' "$out")"
fi
if ! grep -q '"calls": 200800' "$out"; then
  fail "the quick embedded trace should have 200800 calls"
fi
# --allocators: a word selects the names containing it, "=name" that name alone, and a word that selects nothing
# stops the run with the word in the message (a typo must not silently shrink the table).
"$1" --quick --workloads=e --reps=1 --min_time=0 --json --allocators==seg/compact/nochecks,glibc >"$out"
rows=$(grep -o '"allocator": "[^"]*"' "$out" | sort -u | tr '\n' ' ')
if [[ "$rows" != '"allocator": "glibc" "allocator": "seg/compact/nochecks" ' ]]; then
  fail "--allocators==seg/compact/nochecks,glibc ran: $rows"
fi
if "$1" --quick --workloads=e --allocators=seg/compct >"$out" 2>&1; then
  fail "a word that selects nothing should stop the run"
elif ! grep -q "word 'seg/compct' selects no allocator" "$out"; then
  fail "the message should name the word: $(cat "$out")"
fi
if "$1" --quick --workloads=e --allocators=glibc,,seg/compact >"$out" 2>&1; then
  fail "an empty word (a doubled comma) should stop the run, not select everything"
fi
# A numeric option's value is read whole or refused (atoi read --reps=abc as 1 and --cap=-5 as a negative cap, strtod
# --cap=0x10 as 16 s).
# So is a list or a file name that names nothing: --workloads= had mapped an arena of 0 bytes and aborted, --workloads=e,e
# ran e twice, --plot_data= and --write_trace= were ignored, --allocators= selected every row.
for bad in --reps=abc --reps=0 --reps=5x --cap=-5 --cap=0 --cap=1s --cap=0x10 --min_time=fast --seed=12345x \
  --workloads= --workloads=, --workloads=e,e --workloads=ab --plot_data= --write_trace= --arena= --arena=0 \
  --arena=10MB --arena=-1K --arena=64KiB; do
  status=0
  "$1" --quick --workloads=e --allocators==glibc "$bad" >"$out" 2>&1 || status=$?
  if [[ "$status" != 2 ]] || ! grep -q "^fit_compare: $bad: not " "$out"; then
    fail "$bad: exit $status, $(head -1 "$out")"
  fi
done
status=0
"$1" --quick --workloads=e --allocators= >"$out" 2>&1 || status=$?
if [[ "$status" != 2 ]] || ! grep -q "^fit_compare: --allocators: an empty word" "$out"; then
  fail "--allocators= with no word: exit $status, $(head -1 "$out")"
fi
# An output file that cannot be written is refused before the run, not after it.
status=0
"$1" --quick --workloads=e --allocators==glibc --plot_data=/nonexistent-dir/x.dat >"$out" 2>&1 || status=$?
if [[ "$status" != 2 ]] || ! grep -q "^fit_compare: --plot_data: cannot write /nonexistent-dir/x.dat: " "$out" ||
  grep -q '^|' "$out"; then
  fail "an unwritable --plot_data: exit $status, $(head -2 "$out")"
fi
# A relative output path is taken from the directory `bazel run` was started in (BUILD_WORKING_DIRECTORY), as
# replay and trace_convert take theirs: --write_trace and --plot_data had written into the tool's runfiles tree.
mkdir -p "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere"
fit_compare_path="$(realpath "$1")"
(cd "$TEST_TMPDIR/elsewhere" && BUILD_WORKING_DIRECTORY="$TEST_TMPDIR/wd" "$fit_compare_path" --quick --workloads=e \
  --write_trace=rel.trace) >"$out" 2>&1 || fail "a relative --write_trace: exit $?: $(head -1 "$out")"
[[ -s "$TEST_TMPDIR/wd/rel.trace" && ! -e "$TEST_TMPDIR/elsewhere/rel.trace" ]] ||
  fail "a relative --write_trace should land in BUILD_WORKING_DIRECTORY: $(ls "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere")"
(cd "$TEST_TMPDIR/elsewhere" && BUILD_WORKING_DIRECTORY="$TEST_TMPDIR/wd" "$fit_compare_path" --quick --workloads=e \
  --allocators==glibc --reps=1 --min_time=0 --plot_data=rel.dat) >"$out" 2>&1 ||
  fail "a relative --plot_data: exit $?: $(grep -v '^|' "$out" | head -1)"
[[ -s "$TEST_TMPDIR/wd/rel.dat" && ! -e "$TEST_TMPDIR/elsewhere/rel.dat" ]] ||
  fail "a relative --plot_data should land in BUILD_WORKING_DIRECTORY: $(ls "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere")"
# With no room to write (without_room: every write to a file fails, as on a full disk), an output that fails is one
# line and exit 1, and the file that was there stays as it was: --write_trace had been truncated before its first
# write and --plot_data emptied when its writing began, both then lost.
for option in --write_trace --plot_data; do
  echo "earlier run" >"$TEST_TMPDIR/kept.out"
  without_room "$fit_compare_path" --quick --workloads=e --allocators==glibc --reps=1 --min_time=0 \
    "$option=$TEST_TMPDIR/kept.out"
  [[ "$room_status" == 1 ]] || fail "$option with no room: exit $room_status, expected 1"
  [[ "$room_err" == "fit_compare: $option: cannot write $TEST_TMPDIR/kept.out: File too large (the file there is left as it was)" ]] ||
    fail "$option with no room: stderr is '$room_err'"
  [[ "$(cat "$TEST_TMPDIR/kept.out")" == "earlier run" ]] || fail "$option with no room: the earlier file was lost"
  [[ "$(ls "$TEST_TMPDIR" | grep -c '^kept\.out')" == 1 ]] || fail "$option with no room: left $(ls "$TEST_TMPDIR")"
done
# An empty argument (an unset shell variable) is named as such: the line had read "unknown option  (see --help)".
expect_refused "fit_compare: an empty argument: not an option (see --help)" "$1" --quick ""
# An option's value given apart (`--reps 3`) names the option's form: the line had read "unknown option --reps".
expect_refused "fit_compare: --reps takes its value after '=': --reps=VALUE (see --help)" "$1" --quick --reps 3
# --write_trace writes the trace and exits without measuring: a --plot_data beside it is refused, not left unwritten
# (the run had exited 0 with no plot data).
expect_refused "fit_compare: --plot_data: nothing to plot with --write_trace" "$1" --quick --workloads=e \
  --write_trace="$TEST_TMPDIR/w.trace" --plot_data="$TEST_TMPDIR/w.dat"
[[ ! -e "$TEST_TMPDIR/w.trace" && ! -e "$TEST_TMPDIR/w.dat" ]] ||
  fail "--write_trace with --plot_data: $(ls "$TEST_TMPDIR")"
status=0
"$1" --workloads=e --write_trace=/nonexistent-dir/e.trace >"$out" 2>&1 || status=$?
if [[ "$status" != 1 ]] || ! grep -q "^fit_compare: --write_trace: cannot write /nonexistent-dir/e.trace: No such file" "$out"; then
  fail "an unwritable --write_trace: exit $status, $(head -1 "$out")"
fi
# --arena gives every heap the same arena instead of the workload's own. In a large enough one every row replays the
# whole trace; in one too small for it the heaps' rows count their failed allocations and glibc's, which no arena
# bounds, has none; the JSON and the table's heading name the arena.
"$1" --quick --workloads=e --reps=1 --min_time=0 --json --arena=1M --allocators==seg/compact,=glibc >"$out" ||
  fail "--arena=1M: exit $?"
[[ "$(grep -c '"arena_bytes": 1048576' "$out")" == 2 ]] || fail "--arena=1M: $(grep -o '"arena_bytes": [0-9a-z]*' "$out")"
[[ "$(grep -c '"failed_allocations": 0,' "$out")" == 2 ]] || fail "--arena=1M: a row had failed allocations"
"$1" --quick --workloads=e --reps=1 --min_time=0 --json --allocators==seg/compact,=glibc >"$out" || fail "no --arena"
grep -q '"seed": 12345, "arena_bytes": null}' "$out" || fail "no --arena: $(grep '"options"' "$out")"
grep -q '"arena_bytes": 262144,' "$out" || fail "no --arena: e's own arena is 256 KiB"
"$1" --quick --workloads=e --reps=1 --min_time=0 --arena=16K --allocators==seg/compact,=glibc >"$out" ||
  fail "--arena=16K: exit $?"
grep -q '^churn, 400 slots, .*, arena 16 KiB (--arena; the workload.s own: 256 KiB)\.$' "$out" ||
  fail "--arena=16K: the heading says $(grep '^churn' "$out")"
grep -q '^| seg/compact | .* | — | — | — | [0-9]* failed allocations: the trace does not fit the arena |$' "$out" ||
  fail "--arena=16K: seg/compact's row is $(grep '^| seg/compact ' "$out")"
grep -q '^| glibc | .* |  |$' "$out" || fail "--arena=16K: glibc's row is $(grep '^| glibc ' "$out")"
# An arena the system will not map is one line and exit 1 before anything runs (MappedRegion had aborted). 200000 GiB
# lies beyond a 47-bit user address space, so it is refused whatever the host's overcommit setting (4 TiB is refused
# only by the heuristic overcommit's accounting).
status=0
"$1" --quick --workloads=e --arena=200000G >"$out" 2>"$TEST_TMPDIR/err" || status=$?
[[ "$status" == 1 && ! -s "$out" && "$(wc -l <"$TEST_TMPDIR/err")" == 1 ]] ||
  fail "--arena=200000G: exit $status, $(head -2 "$out" "$TEST_TMPDIR/err")"
grep -q '^fit_compare: cannot map a 204800000 MiB arena: .* (--arena sets it)$' "$TEST_TMPDIR/err" ||
  fail "--arena=200000G: $(cat "$TEST_TMPDIR/err")"
# So is one an address-space limit refuses (ulimit -v: 1 GiB for a 2 GiB arena, whatever the overcommit setting), from
# the one mapping the run would use. ASan's shadow memory does not start under such a limit.
if [[ "${2:-}" != asan ]]; then
  status=0
  (ulimit -v $((1 << 20)) && exec "$1" --quick --workloads=e --arena=2G) >"$out" 2>"$TEST_TMPDIR/err" || status=$?
  [[ "$status" == 1 && ! -s "$out" && "$(wc -l <"$TEST_TMPDIR/err")" == 1 ]] ||
    fail "--arena=2G under ulimit -v 1 GiB: exit $status, $(head -2 "$out" "$TEST_TMPDIR/err")"
  grep -qx 'fit_compare: cannot map a 2048 MiB arena: Cannot allocate memory (--arena sets it)' "$TEST_TMPDIR/err" ||
    fail "--arena=2G under ulimit -v 1 GiB: $(cat "$TEST_TMPDIR/err")"
  # An arena that fits under a limit that leaves glibc's 256 MiB start-up write no room (128 MiB): one note, glibc's
  # heap given back, and the run goes on. The tool's own mappings made after it had aborted ("bench: mmap ... failed").
  status=0
  (ulimit -v $((128 << 10)) && exec "$1" --quick --workloads=e --reps=1 --min_time=0 --allocators==glibc,=seg/compact) \
    >"$out" 2>"$TEST_TMPDIR/err" || status=$?
  [[ "$status" == 0 && "$(wc -l <"$TEST_TMPDIR/err")" == 1 ]] ||
    fail "ulimit -v 128 MiB: exit $status, $(head -3 "$TEST_TMPDIR/err")"
  grep -q "^fit_compare: note: the system refused [0-9]* of glibc's 4096 start-up blocks of 64 KiB" \
    "$TEST_TMPDIR/err" || fail "ulimit -v 128 MiB: $(cat "$TEST_TMPDIR/err")"
  grep -q '^| glibc ' "$out" || fail "ulimit -v 128 MiB: no glibc row: $(head -40 "$out")"
fi
# --arena beside --write_trace would be ignored (a trace does not depend on the arena): refused, nothing written.
expect_refused "fit_compare: --arena: a trace does not depend on the arena" "$1" --quick --workloads=e --arena=1M \
  --write_trace="$TEST_TMPDIR/arena.trace"
[[ ! -e "$TEST_TMPDIR/arena.trace" ]] || fail "--arena with --write_trace wrote the trace"
# A large --arena is written only as far as the trace's calls can reach (38 MiB of e's quick trace), and the heading
# says so: all of a 4 GiB arena had been written before the first run (which needs 4 GiB of memory to fail). ASan's
# shadow memory would blur the figure.
if [[ "${2:-}" != asan ]]; then
  /usr/bin/time -f '%M' -o "$TEST_TMPDIR/rss" "$1" --quick --workloads=e --reps=1 --min_time=0 --arena=4G \
    --allocators==seg/compact >"$out" 2>&1 || fail "--arena=4G: exit $?: $(head -1 "$out")"
  rss_kib="$(tail -1 "$TEST_TMPDIR/rss")"
  ((rss_kib < 800 * 1024)) || fail "--arena=4G: resident set $((rss_kib / 1024)) MiB"
  grep -q "^churn, .*, arena 4096 MiB (--arena; the workload's own: 256 KiB), of which the first [34][0-9] MiB (as far as \
the trace's calls can reach) is written before timing\.$" "$out" || fail "--arena=4G: the heading says $(grep '^churn' "$out")"
fi
finish
