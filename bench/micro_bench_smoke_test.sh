#!/usr/bin/env bash
# Smoke test of //bench:micro_bench's own output around Google Benchmark's (no time is asserted: timing belongs to
# the benchmark): with glibc in the run, the ratio table has fit_compare's names for the heaps as its columns, a
# ratio in every cell and its columns aligned under the header whatever the longest benchmark name; without glibc,
# one note says why there is no table; --benchmark_list_tests lists the benchmarks and prints no table. A filter
# that matches nothing, and a bad value of a flag micro_bench sets or checks (--benchmark_repetitions,
# --benchmark_min_time, --benchmark_format, --benchmark_out_format, --benchmark_out), get one line on stderr and exit
# 2, as an unknown flag does; a relative --benchmark_out is written where `bazel run` was started, and its file is
# written whole or not at all (kept as it was with no room to write, one line and exit 1; a link kept a link), in the
# format BENCHMARK_OUT_FORMAT names when --benchmark_out_format does not; the environment's BENCHMARK_ variables for the
# flags micro_bench sets or checks are read and checked as those flags, under the command line's. Neither the console
# nor the CSV output prints Google Benchmark's DEBUG-library warning.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
bench="$1"
quick=(--benchmark_min_time=0.001 --benchmark_repetitions=1)

# BM_StringPushBack/100000 is the longest row name: the rows must line up with the header all the same.
heaps='(FirstCompact|SegCompactNoChecksCache|MallocAdapter)'
"$bench" "--benchmark_filter=^BM_(AllocFree<$heaps>/16|StringPushBack<$heaps>/100000)\$" "${quick[@]}" \
  >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "run with glibc: exit $?"
out="$(cat "$TEST_TMPDIR/out")"
header="$(grep -A2 '^CPU time per iteration / glibc' <<<"$out" | grep '^benchmark' || true)"
[[ "$header" =~ ^benchmark\ +first/compact\ +seg/compact/nochecks\+cache\ +glibc\ time$ ]] ||
  fail "table header: '$header'"
line="$(grep '^BM_AllocFree/16 ' <<<"$out" || true)"
[[ "$line" =~ ^BM_AllocFree/16\ +[0-9]+\.[0-9]{2}\ +[0-9]+\.[0-9]{2}\ +[0-9.]+\ ns$ ]] || fail "table row: '$line'"
line="$(grep '^BM_StringPushBack/100000 ' <<<"$out" || true)"
[[ "$line" =~ ^BM_StringPushBack/100000\ +[0-9]+\.[0-9]{2}\ +[0-9]+\.[0-9]{2}\ +[0-9.]+\ ns$ ]] ||
  fail "table row: '$line'"
# Every column is right-aligned at a fixed width, so an aligned table has lines of one length.
widths="$(awk '/^benchmark / { on = 1 } on { print length($0) }' <<<"$out" | sort -u | tr '\n' ' ')"
[[ "$widths" =~ ^[0-9]+\ $ ]] || fail "table lines of different lengths ($widths): misaligned"$'\n'"$out"
grep -q 'WARNING.*Library was built as DEBUG' "$TEST_TMPDIR/err" && fail "console: Google Benchmark's DEBUG warning"

out="$("$bench" '--benchmark_filter=BM_AllocFree<FirstCompact>/16$' "${quick[@]}" 2>/dev/null)" ||
  fail "run without glibc: exit $?"
grep -q '^No ratio table: glibc did not run' <<<"$out" || fail "no note without glibc"
grep -q '^CPU time per iteration' <<<"$out" && fail "a table without glibc"

out="$("$bench" --benchmark_list_tests 2>/dev/null)" || fail "--benchmark_list_tests: exit $?"
grep -q '^BM_AllocFree<SegCompact>/16$' <<<"$out" || fail "--benchmark_list_tests: no BM_AllocFree<SegCompact>/16"
grep -qE '^(CPU time|No ratio table)' <<<"$out" && fail "--benchmark_list_tests printed a table or note"

# CSV: Google Benchmark's own output on stdout; its DEBUG-library warning replaced as on the console.
"$bench" '--benchmark_filter=BM_AllocFree<FirstCompact>/16$' "${quick[@]}" --benchmark_format=csv \
  >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "csv: exit $?"
grep -q '^name,iterations,' "$TEST_TMPDIR/out" || fail "csv: no header line on stdout"
grep -q '^"BM_AllocFree<FirstCompact>/16",' "$TEST_TMPDIR/out" || fail "csv: no BM_AllocFree<FirstCompact>/16 line"
grep -q 'WARNING.*Library was built as DEBUG' "$TEST_TMPDIR/err" && fail "csv: Google Benchmark's DEBUG warning"

# refused WANT ARG...: exit 2, nothing on stdout, and a line on stderr with "micro_bench: WANT" (Google Benchmark's
# own line about the filter may come before it).
refused() { expect_refused "micro_bench: $1" "$bench" "${@:2}"; }  # smoke_test_lib.sh
refused 'no benchmark matches --benchmark_filter=NoSuch' --benchmark_filter=NoSuch
refused 'no benchmark matches --benchmark_filter=(' '--benchmark_filter=('
refused 'no benchmark matches --benchmark_filter=NoSuch' --benchmark_list_tests --benchmark_filter=NoSuch
for reps in 0 -1 abc 1001 ' 3'; do
  refused "--benchmark_repetitions=$reps: not a whole number from 1 to 1000 (see --help)" \
    "--benchmark_repetitions=$reps"
done
for seconds in -1 abc 0.2s inf; do
  refused "--benchmark_min_time=$seconds: not a number of seconds, 0 or more (see --help)" \
    "--benchmark_min_time=$seconds"
done
refused '--benchmark_format=xml: not console, json or csv (see --help)' --benchmark_format=xml
refused '--benchmark_out_format=xml: not console, json or csv (see --help)' --benchmark_out_format=xml
# --benchmark_out is checked as the other tools' output files: an empty name had been ignored (the run went ahead, exit
# 0), and a file that cannot be written was Google Benchmark's "invalid file name" without the reason, exit 1.
refused '--benchmark_out: not a file name (see --help)' --benchmark_out=
refused '--benchmark_out: cannot write /nonexistent-dir/x.json: No such file or directory' \
  --benchmark_out=/nonexistent-dir/x.json
refused "--benchmark_out: cannot write $TEST_TMPDIR: Is a directory" "--benchmark_out=$TEST_TMPDIR"
# A relative --benchmark_out is taken from where `bazel run` was started, as the other tools' files are: Google
# Benchmark had written it into the tool's runfiles tree.
mkdir -p "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere"
bench_path="$(realpath "$bench")"
(cd "$TEST_TMPDIR/elsewhere" && BUILD_WORKING_DIRECTORY="$TEST_TMPDIR/wd" "$bench_path" \
  '--benchmark_filter=^BM_AllocFree<FirstCompact>/16$' "${quick[@]}" --benchmark_out=rel.json >/dev/null 2>&1) ||
  fail "a relative --benchmark_out: exit $?"
[[ -s "$TEST_TMPDIR/wd/rel.json" && ! -e "$TEST_TMPDIR/elsewhere/rel.json" ]] ||
  fail "a relative --benchmark_out should land in BUILD_WORKING_DIRECTORY:" \
    "$(ls "$TEST_TMPDIR/wd" "$TEST_TMPDIR/elsewhere")"
[[ "$(ls "$TEST_TMPDIR/wd")" == rel.json ]] || fail "a relative --benchmark_out: left $(ls "$TEST_TMPDIR/wd")"

# --benchmark_out's file is written as the other tools' files (bench/output_file.h), whole or not at all: Google
# Benchmark had written it in place as the run went, so a write that failed (a full disk) cut the old file, exit 0.
one=('--benchmark_filter=^BM_AllocFree<FirstCompact>/16$' "${quick[@]}")
out_dir="$TEST_TMPDIR/out_dir"
mkdir "$out_dir"
echo "earlier run" >"$out_dir/kept.json"
cp "$out_dir/kept.json" "$TEST_TMPDIR/kept.orig"
# With no room to write (without_room: every write to a file fails, as on a full disk): the file as it was, byte for
# byte, no temporary beside it, one line (the JSON display prints nothing on stderr) and exit 1.
without_room "$bench_path" "${one[@]}" --benchmark_format=json "--benchmark_out=$out_dir/kept.json"
[[ "$room_status" == 1 ]] || fail "--benchmark_out with no room: exit $room_status, expected 1"
[[ "$room_err" == "micro_bench: --benchmark_out: cannot write $out_dir/kept.json: File too large (the file there is left as it was)" ]] ||
  fail "--benchmark_out with no room: stderr is '$room_err'"
cmp -s "$TEST_TMPDIR/kept.orig" "$out_dir/kept.json" || fail "--benchmark_out with no room: the earlier file was lost"
[[ "$(ls "$out_dir")" == kept.json ]] || fail "--benchmark_out with no room: left $(ls "$out_dir")"
# A device is written in place: /dev/full fails the same way (it had been exit 0), /dev/null and a pipe are written.
# The tests run as root, where a tool that took these names for files would replace them for the whole machine: the
# pipe is named /dev/fd/1, which /dev/stdout leads to but which cannot be unlinked or renamed over, and the devices
# are checked afterwards, so that such a mutation fails here loudly.
status=0
"$bench" "${one[@]}" --benchmark_format=json --benchmark_out=/dev/full >/dev/null 2>"$TEST_TMPDIR/err" || status=$?
[[ "$status" == 1 ]] || fail "--benchmark_out=/dev/full: exit $status, expected 1"
[[ "$(cat "$TEST_TMPDIR/err")" == "micro_bench: --benchmark_out: cannot write /dev/full: No space left on device" ]] ||
  fail "--benchmark_out=/dev/full: stderr is '$(cat "$TEST_TMPDIR/err")'"
"$bench" "${one[@]}" --benchmark_out=/dev/null >/dev/null 2>&1 || fail "--benchmark_out=/dev/null: exit $?"
out="$("$bench" "${one[@]}" --benchmark_format=json --benchmark_out=/dev/fd/1 --benchmark_out_format=csv 2>/dev/null)" ||
  fail "--benchmark_out=/dev/fd/1: exit $?"
grep -q '^"BM_AllocFree<FirstCompact>/16",' <<<"$out" || fail "--benchmark_out=/dev/fd/1: no CSV line in '$out'"
[[ -c /dev/null && -c /dev/full && -L /dev/stdout ]] || fail "/dev/null, /dev/full or /dev/stdout was replaced"
# /dev/stdout with standard output on a file: the display, then the file's text, in that file (the file had been
# renamed over it, and the display lost with the file unlinked).
"$bench" "${one[@]}" --benchmark_out=/dev/stdout --benchmark_out_format=csv >"$TEST_TMPDIR/both.txt" 2>/dev/null ||
  fail "--benchmark_out=/dev/stdout to a file: exit $?"
grep -q '^BM_AllocFree<FirstCompact>/16 ' "$TEST_TMPDIR/both.txt" && grep -q '^"BM_AllocFree<FirstCompact>/16",' \
  "$TEST_TMPDIR/both.txt" || fail "--benchmark_out=/dev/stdout to a file: not both outputs: $(cat "$TEST_TMPDIR/both.txt")"
# So through a symbolic link to /dev/stdout, as BENCHMARK_OUT (the file behind it had still been renamed over).
ln -s /dev/stdout "$TEST_TMPDIR/to_stdout"
BENCHMARK_OUT="$TEST_TMPDIR/to_stdout" "$bench" "${one[@]}" --benchmark_out_format=csv >"$TEST_TMPDIR/both.txt" \
  2>/dev/null || fail "BENCHMARK_OUT linked to /dev/stdout on a file: exit $?"
grep -q '^BM_AllocFree<FirstCompact>/16 ' "$TEST_TMPDIR/both.txt" && grep -q '^"BM_AllocFree<FirstCompact>/16",' \
  "$TEST_TMPDIR/both.txt" || fail "BENCHMARK_OUT linked to /dev/stdout: not both outputs: $(cat "$TEST_TMPDIR/both.txt")"
[[ -L "$TEST_TMPDIR/to_stdout" ]] || fail "BENCHMARK_OUT linked to /dev/stdout: the link was replaced"
# With room, the new file replaces the old one, with every repetition in it (the display shows only the aggregates),
# and no temporary left.
"$bench" '--benchmark_filter=^BM_AllocFree<FirstCompact>/16$' --benchmark_min_time=0.001 --benchmark_repetitions=2 \
  "--benchmark_out=$out_dir/kept.json" >/dev/null 2>&1 || fail "--benchmark_out over a file: exit $?"
[[ "$(grep -c '"run_type": "iteration"' "$out_dir/kept.json")" == 2 ]] ||
  fail "--benchmark_out over a file: not the 2 repetitions: $(head -c 300 "$out_dir/kept.json")"
[[ "$(ls "$out_dir")" == kept.json ]] || fail "--benchmark_out over a file: left $(ls "$out_dir")"
# A symbolic link stays a link, the file it names replaced; the console format is Google Benchmark's own.
ln -s kept.json "$out_dir/link.json"
"$bench" "${one[@]}" --benchmark_out_format=console "--benchmark_out=$out_dir/link.json" >/dev/null 2>&1 ||
  fail "--benchmark_out through a link: exit $?"
[[ -L "$out_dir/link.json" ]] || fail "--benchmark_out through a link: the link was replaced by a file"
grep -q '^BM_AllocFree<FirstCompact>/16 ' "$out_dir/kept.json" || fail "--benchmark_out through a link: not written"
[[ "$(cd "$out_dir" && echo *)" == "kept.json link.json" ]] ||
  fail "--benchmark_out through a link: left $(ls "$out_dir")"
# Google Benchmark takes --benchmark_out_format's default from BENCHMARK_OUT_FORMAT, and the file follows it (it had
# been JSON whatever the variable said), the flag still first.
BENCHMARK_OUT_FORMAT=csv "$bench" "${one[@]}" "--benchmark_out=$TEST_TMPDIR/env.out" >/dev/null 2>&1 ||
  fail "BENCHMARK_OUT_FORMAT=csv: exit $?"
grep -q '^"BM_AllocFree<FirstCompact>/16",' "$TEST_TMPDIR/env.out" ||
  fail "BENCHMARK_OUT_FORMAT=csv: not CSV: $(head -c 300 "$TEST_TMPDIR/env.out")"
BENCHMARK_OUT_FORMAT=csv "$bench" "${one[@]}" --benchmark_out_format=json "--benchmark_out=$TEST_TMPDIR/env.out" \
  >/dev/null 2>&1 || fail "BENCHMARK_OUT_FORMAT=csv, --benchmark_out_format=json: exit $?"
grep -q '"run_type": "iteration"' "$TEST_TMPDIR/env.out" ||
  fail "BENCHMARK_OUT_FORMAT=csv, --benchmark_out_format=json: not JSON: $(head -c 300 "$TEST_TMPDIR/env.out")"
# Google Benchmark takes every flag's default from BENCHMARK_ and its name in capitals. Those micro_bench checks or
# sets are read as flags, before the command line: BENCHMARK_OUT had been written by Google Benchmark in place,
# BENCHMARK_FORMAT ignored (the console table printed), a bad BENCHMARK_FORMAT or BENCHMARK_OUT_FORMAT answered with
# the whole usage and exit 0, and BENCHMARK_REPETITIONS overridden by micro_bench's default of 3.
env_refused() { expect_refused "micro_bench: $1" env "$2" "$bench" "${one[@]:0:1}" --benchmark_min_time=0.001; }
env_refused 'BENCHMARK_REPETITIONS=0: not a whole number from 1 to 1000 (see --help)' BENCHMARK_REPETITIONS=0
env_refused 'BENCHMARK_MIN_TIME=abc: not a number of seconds, 0 or more (see --help)' BENCHMARK_MIN_TIME=abc
env_refused 'BENCHMARK_FORMAT=xml: not console, json or csv (see --help)' BENCHMARK_FORMAT=xml
env_refused 'BENCHMARK_OUT_FORMAT=xml: not console, json or csv (see --help)' BENCHMARK_OUT_FORMAT=xml
env_refused 'BENCHMARK_OUT: cannot write /nonexistent-dir/x.json: No such file or directory' \
  BENCHMARK_OUT=/nonexistent-dir/x.json
# BENCHMARK_OUT is written whole or not at all, as the flag's file: with no room, the old file kept and exit 1.
cp "$TEST_TMPDIR/kept.orig" "$out_dir/kept.json"
without_room env "BENCHMARK_OUT=$out_dir/kept.json" "$bench_path" "${one[@]}" --benchmark_format=json
[[ "$room_status" == 1 ]] || fail "BENCHMARK_OUT with no room: exit $room_status, expected 1"
# The line names the variable, as the up-front check does (it had named --benchmark_out, which was not given).
[[ "$room_err" == "micro_bench: BENCHMARK_OUT: cannot write $out_dir/kept.json: File too large (the file there is left as it was)" ]] ||
  fail "BENCHMARK_OUT with no room: stderr is '$room_err'"
cmp -s "$TEST_TMPDIR/kept.orig" "$out_dir/kept.json" || fail "BENCHMARK_OUT with no room: the earlier file was lost"
[[ "$(cd "$out_dir" && echo *)" == "kept.json link.json" ]] ||
  fail "BENCHMARK_OUT with no room: left $(ls "$out_dir")"
# With room, in BENCHMARK_OUT_FORMAT; the flag wins over the variable.
BENCHMARK_OUT="$TEST_TMPDIR/env2.out" BENCHMARK_OUT_FORMAT=csv "$bench" "${one[@]}" >/dev/null 2>&1 ||
  fail "BENCHMARK_OUT: exit $?"
grep -q '^"BM_AllocFree<FirstCompact>/16",' "$TEST_TMPDIR/env2.out" ||
  fail "BENCHMARK_OUT: not written in CSV: $(head -c 300 "$TEST_TMPDIR/env2.out" 2>&1)"
BENCHMARK_OUT="$TEST_TMPDIR/env3.out" "$bench" "${one[@]}" "--benchmark_out=$TEST_TMPDIR/env4.out" >/dev/null 2>&1 ||
  fail "BENCHMARK_OUT and --benchmark_out: exit $?"
[[ -s "$TEST_TMPDIR/env4.out" && ! -e "$TEST_TMPDIR/env3.out" ]] ||
  fail "BENCHMARK_OUT and --benchmark_out: the variable's file written, or not the flag's"
# BENCHMARK_FORMAT=json is the JSON display, without the ratio table; the flag wins over it.
out="$(BENCHMARK_FORMAT=json "$bench" "${one[@]}" 2>/dev/null)" || fail "BENCHMARK_FORMAT=json: exit $?"
[[ "$out" == "{"* && "$out" != *"No ratio table"* ]] || fail "BENCHMARK_FORMAT=json: not JSON: $(head -3 <<<"$out")"
out="$(BENCHMARK_FORMAT=json "$bench" "${one[@]}" --benchmark_format=console 2>/dev/null)" ||
  fail "BENCHMARK_FORMAT=json --benchmark_format=console: exit $?"
grep -q '^No ratio table' <<<"$out" || fail "BENCHMARK_FORMAT=json --benchmark_format=console: not the console"
# BENCHMARK_REPETITIONS and BENCHMARK_DISPLAY_AGGREGATES_ONLY replace micro_bench's defaults (3, aggregates only).
out="$(BENCHMARK_REPETITIONS=2 BENCHMARK_DISPLAY_AGGREGATES_ONLY=false "$bench" "${one[@]:0:1}" \
  --benchmark_min_time=0.001 2>/dev/null)" || fail "BENCHMARK_REPETITIONS=2: exit $?"
[[ "$(grep -c '^BM_AllocFree<FirstCompact>/16 ' <<<"$out")" == 2 ]] ||
  fail "BENCHMARK_REPETITIONS=2 BENCHMARK_DISPLAY_AGGREGATES_ONLY=false: not 2 runs shown: $out"
# A colour Google Benchmark takes as true (its IsTruthyFlagValue: on, True, y) colours the display through a pipe,
# as Google Benchmark colours its own; off, no and false do not, and the flag wins over the variable. `on` had left
# micro_bench's display uncoloured while a Google Benchmark program's was coloured.
for color in on True y yes 1; do
  out="$(BENCHMARK_COLOR=$color "$bench" "${one[@]}" 2>/dev/null)" || fail "BENCHMARK_COLOR=$color: exit $?"
  [[ "$out" == *$'\e['* ]] || fail "BENCHMARK_COLOR=$color: no colour"
done
for color in off No false 0 n; do
  out="$("$bench" "${one[@]}" "--benchmark_color=$color" 2>/dev/null)" || fail "--benchmark_color=$color: exit $?"
  [[ "$out" != *$'\e['* ]] || fail "--benchmark_color=$color: coloured"
done
out="$(BENCHMARK_COLOR=on "$bench" "${one[@]}" --benchmark_color=off 2>/dev/null)" ||
  fail "BENCHMARK_COLOR=on --benchmark_color=off: exit $?"
[[ "$out" != *$'\e['* ]] || fail "BENCHMARK_COLOR=on --benchmark_color=off: coloured"
# An empty variable is unset: Google Benchmark had read an empty format or colour as a value, printed its usage and
# exited 0, running nothing.
rm -f "$TEST_TMPDIR/env5.out"
out="$(BENCHMARK_OUT= BENCHMARK_FORMAT= BENCHMARK_OUT_FORMAT= BENCHMARK_COLOR= BENCHMARK_REPETITIONS= \
  BENCHMARK_MIN_TIME= "$bench" "${one[@]}" "--benchmark_out=$TEST_TMPDIR/env5.out" 2>/dev/null)" ||
  fail "empty variables: exit $?"
grep -q '^BM_AllocFree<FirstCompact>/16 ' <<<"$out" || fail "empty variables: no console row: $(head -3 <<<"$out")"
grep -q '"run_type": "iteration"' "$TEST_TMPDIR/env5.out" || fail "empty variables: --benchmark_out not JSON"
[[ -c /dev/null && -c /dev/full && -L /dev/stdout ]] || fail "/dev/null, /dev/full or /dev/stdout was replaced"
# Nothing run, nothing written: --benchmark_list_tests and a filter that matches nothing leave the file as it was
# (Google Benchmark had emptied it).
cp "$TEST_TMPDIR/kept.orig" "$out_dir/kept.json"
"$bench" --benchmark_list_tests "--benchmark_out=$out_dir/kept.json" >/dev/null 2>&1 ||
  fail "--benchmark_list_tests with --benchmark_out: exit $?"
refused 'no benchmark matches --benchmark_filter=NoSuch' --benchmark_filter=NoSuch "--benchmark_out=$out_dir/kept.json"
cmp -s "$TEST_TMPDIR/kept.orig" "$out_dir/kept.json" || fail "a run of nothing: the --benchmark_out file changed"

# An unknown flag: Google Benchmark's one line, and exit 2 as for the values above.
status=0
"$bench" --benchmark_no_such_flag >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || status=$?
[[ "$status" == 2 ]] || fail "--benchmark_no_such_flag: exit $status, expected 2"
grep -q 'unrecognized command-line flag: --benchmark_no_such_flag$' "$TEST_TMPDIR/err" ||
  fail "--benchmark_no_such_flag: stderr '$(cat "$TEST_TMPDIR/err")'"
finish
