#!/usr/bin/env bash
# Smoke test of //bench:trace_convert's command line: a text trace written by hand converts to binary and back
# byte-exact, --check validates, --help prints the usage on stdout and exits 0, and every kind of bad input gets one
# line on stderr (unknown option or --to= value, a third file, no file: exit 2; a corrupt trace: its byte offset, and an
# output that cannot be written: the reason, exit 1).
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
convert="$1"
dir="${TEST_TMPDIR:-/tmp}"

printf 'nostd-trace 1\na 1 100\na 2 40 4\nr 1 300\nf 2\nf 1\nend 5\n' >"$dir/t.txt"
"$convert" "$dir/t.txt" "$dir/t.bin" 2>/dev/null || fail "text -> binary: exit $?"
[[ "$(head -c 8 "$dir/t.bin")" == NSTRACE1 ]] || fail "text -> binary did not write the binary form"
"$convert" "$dir/t.bin" "$dir/back.txt" 2>/dev/null || fail "binary -> text: exit $?"
"$convert" "$dir/back.txt" "$dir/again.bin" 2>/dev/null || fail "text -> binary again: exit $?"
cmp -s "$dir/t.bin" "$dir/again.bin" || fail "binary -> text -> binary is not byte-exact"
"$convert" --check "$dir/t.bin" >/dev/null 2>&1 || fail "--check of a valid trace: exit $?"

out="$("$convert" --help 2>/dev/null)" || fail "--help: exit $?"
grep -qF 'usage: trace_convert' <<<"$out" || fail "--help: no usage on stdout"

# expect_refused: exit 2, nothing on stdout, the message on stderr; and here one line only, not the usage.
one_line() {
  expect_refused "$@"
  local lines
  lines="$(wc -l <"$dir/refused.err")"
  [[ "$lines" == 1 ]] || fail "${*:3}: $lines lines on stderr, expected 1: $(head -3 "$dir/refused.err")"
}
one_line "--to=raw: not text or binary (see --help)" "$convert" --to=raw "$dir/t.bin" "$dir/x"
one_line "unknown option --from=text (see --help)" "$convert" --from=text "$dir/t.bin" "$dir/x"
one_line "unexpected argument" "$convert" "$dir/t.bin" "$dir/x" "$dir/y"
one_line "expected IN and OUT" "$convert" "$dir/t.bin"
one_line "expected one file" "$convert" --check

# A corrupt trace: the byte offset, exit 1, and no output file.
printf 'nostd-trace 1\na 1 100\nf 2\nend 2\n' >"$dir/bad.txt"
status=0
"$convert" "$dir/bad.txt" "$dir/bad.bin" 2>"$dir/bad.err" || status=$?
[[ "$status" == 1 ]] || fail "corrupt trace: exit $status, expected 1"
grep -qF "byte" "$dir/bad.err" || fail "corrupt trace: no byte offset: $(head -2 "$dir/bad.err")"
[[ ! -e "$dir/bad.bin" ]] || fail "corrupt trace: an output file was written"

# An output that cannot be written: the reason, exit 1.
status=0
"$convert" "$dir/t.txt" "$dir/no/such/dir/t.bin" 2>"$dir/nodir.err" || status=$?
[[ "$status" == 1 ]] || fail "unwritable output: exit $status, expected 1"
grep -qF "cannot write $dir/no/such/dir/t.bin: No such file or directory" "$dir/nodir.err" ||
  fail "unwritable output: $(head -2 "$dir/nodir.err")"
finish
