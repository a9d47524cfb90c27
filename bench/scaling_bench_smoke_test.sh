#!/usr/bin/env bash
# Smoke test of //bench:scaling_bench: two small cells run with --quick and print their tables (no latency is
# asserted: timing belongs to the benchmark), a cell the arena cannot hold reads "—", every kind of bad input
# gets one line on stderr and exit 2, and --help prints the usage and exits 0.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
bench="$1"

out="$("$bench" --quick --cells=64K:10,1M:100 2>/dev/null)" || fail "two small cells: exit $?"
grep -qF '#### allocate latency p99.9, ns: SegregatedFit / FirstFit' <<<"$out" || fail "no allocate table"
grep -qF '#### free latency p99.9, ns: SegregatedFit / FirstFit' <<<"$out" || fail "no free table"
# Each named cell holds "seg / first" figures; the cells not named read "not run".
grep -qE '^\| 64 KiB \| [0-9]+ / [0-9]+ \| not run \|$' <<<"$out" || fail "64 KiB row: $(grep -F '| 64 KiB |' <<<"$out" | head -1)"
grep -qE '^\| 1 MiB \| not run \| [0-9]+ / [0-9]+ \|$' <<<"$out" || fail "1 MiB row: $(grep -F '| 1 MiB |' <<<"$out" | head -1)"
grep -qE '^SegregatedFit allocate p99.9: [0-9]+ \.\. [0-9]+ ns' <<<"$out" || fail "no summary line"
# The count of allocates served from the arena's free tail: a whole number per cell and column, not a timing.
grep -qF "#### timed allocates served from the arena's free tail (no hole's block returned), per 10,000 rounds: SegregatedFit / FirstFit" <<<"$out" ||
  fail "no table of allocates served from the free tail"

# 64 KiB cannot hold 100,000 holes: the cell reads "—" and the run still succeeds.
out="$("$bench" --quick --cells=64K:100000 2>/dev/null)" || fail "an infeasible cell: exit $?"
grep -qE '^\| 64 KiB \| — \|$' <<<"$out" || fail "infeasible cell: $(grep -F '| 64 KiB |' <<<"$out" | head -1)"

# Bad input: exit 2 and a stderr line that names the problem (smoke_test_lib.sh's expect_refused).
refused() { expect_refused "$1" "$bench" "${@:2}"; }
refused "malformed cell '16M'" --cells=16M
refused "needs a K, M or G suffix" --cells=16:10
# A one-digit arena without a suffix is told the same (it had read "expected ARENA:COUNT", which it is).
refused "malformed cell '0:10': the arena needs a K, M or G suffix" --cells=0:10
refused "malformed cell 'M:10': expected ARENA:COUNT" --cells=M:10
refused "unknown arena in '32M:10'" --cells=32M:10
refused "free-block count 50 of '16M:50' is not in the table" --cells=16M:50
refused "an empty cell in '16M:10,'" --cells=16M:10,
refused "unknown option --cell=16M:10" --cell=16M:10
# One line, not the usage after it (README, "Tests": bad input gets one line and exit 2).
[[ "$(wc -l <"${TEST_TMPDIR:-/tmp}/refused.err")" == 1 ]] ||
  fail "unknown option: $(wc -l <"${TEST_TMPDIR:-/tmp}/refused.err") lines on stderr, expected 1"
# An empty argument (an unset shell variable) is named as such: the line had read "unknown option  (see --help)".
refused "scaling_bench: an empty argument: not an option (see --help)" --quick ""
# An option's value given apart: the line had read "unknown option --cells".
refused "scaling_bench: --cells takes its value after '=': --cells=VALUE (see --help)" --quick --cells 16M:10
# An output file is opened before the run: a path that cannot be written is refused at once, not after the cells.
refused "--plot_data: not a file name" --plot_data=
refused "--plot_data: cannot write /nonexistent-dir/x.dat" --plot_data=/nonexistent-dir/x.dat
# A run refused for another option leaves an existing --plot_data file as it was (it had been emptied first).
echo "earlier run" >"$TEST_TMPDIR/kept.dat"
refused "malformed cell 'bogus'" --plot_data="$TEST_TMPDIR/kept.dat" --cells=bogus
[[ "$(cat "$TEST_TMPDIR/kept.dat")" == "earlier run" ]] || fail "a refused run emptied the --plot_data file"
# A relative --plot_data is taken from the directory `bazel run` was started in, not the tool's runfiles tree.
mkdir -p "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere"
bench_path="$(realpath "$bench")"
(cd "$TEST_TMPDIR/elsewhere" && BUILD_WORKING_DIRECTORY="$TEST_TMPDIR/wd" "$bench_path" --quick --cells=64K:10 \
  --plot_data=rel.dat >/dev/null 2>&1) || fail "a relative --plot_data: exit $?"
[[ -s "$TEST_TMPDIR/wd/rel.dat" && ! -e "$TEST_TMPDIR/elsewhere/rel.dat" ]] ||
  fail "a relative --plot_data should land in BUILD_WORKING_DIRECTORY: $(ls "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere")"
# With no room to write (without_room: every write to a file fails, as on a full disk): one line, exit 1, and the
# --plot_data file that was there stays as it was (it had been emptied when the writing began, then lost).
without_room "$bench_path" --quick --cells=64K:10 --plot_data="$TEST_TMPDIR/kept.dat"
[[ "$room_status" == 1 ]] || fail "--plot_data with no room: exit $room_status, expected 1"
# (its progress dots come first on stderr)
[[ "$(tail -1 <<<"$room_err")" == "scaling_bench: --plot_data: cannot write $TEST_TMPDIR/kept.dat: File too large (the file there is left as it was)" ]] ||
  fail "--plot_data with no room: stderr is '$room_err'"
[[ "$(cat "$TEST_TMPDIR/kept.dat")" == "earlier run" ]] || fail "--plot_data with no room: the earlier file was lost"
[[ "$(ls "$TEST_TMPDIR" | grep -c '^kept\.dat')" == 1 ]] || fail "--plot_data with no room: left $(ls "$TEST_TMPDIR")"
# --help is not bad input: the usage on stdout, exit 0.
out="$("$bench" --help 2>/dev/null)" || fail "--help: exit $?"
grep -qF 'usage: scaling_bench' <<<"$out" || fail "--help: no usage on stdout"
finish
