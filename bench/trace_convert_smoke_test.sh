#!/usr/bin/env bash
# Smoke test of //bench:trace_convert's command line: a text trace written by hand converts to binary and back
# byte-exact, --check validates, --help prints the usage on stdout and exits 0, and every kind of bad input gets one
# line on stderr (unknown option or --to= value, a third file, no file: exit 2; a corrupt trace, a varint whose 10th
# byte is above 1 or that is not in its shortest form among them: its byte offset, also from an endless input, read no further than its first bad bytes;
# and an output that cannot be written: the reason, exit 1). OUT may name IN, and a write that fails (no room) leaves
# it as it was. Empty files, garbage, a trace of another version and truncated or corrupt ones are refused with their
# byte offset; the raw form converts to binary with its skipped frees counted; --to= of the input's own form copies it.
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

# --check says what it found on stdout.
[[ "$("$convert" --check "$dir/t.bin" 2>/dev/null)" == "$dir/t.bin: valid binary trace, 26 bytes" ]] ||
  fail "--check of a binary trace: $("$convert" --check "$dir/t.bin" 2>&1)"

# The output takes the other form than the input whatever its name, and --to= chooses: text to text and binary to
# binary copy the trace (the canonical spelling of the text).
"$convert" --to=text "$dir/back.txt" "$dir/same.bin" 2>/dev/null || fail "--to=text of text: exit $?"
cmp -s "$dir/back.txt" "$dir/same.bin" || fail "--to=text of a text trace: $(head -c 40 "$dir/same.bin")"
"$convert" --to=binary "$dir/t.bin" "$dir/same.txt" 2>/dev/null || fail "--to=binary of binary: exit $?"
cmp -s "$dir/t.bin" "$dir/same.txt" || fail "--to=binary of a binary trace: $(head -c 40 "$dir/same.txt")"

# The raw form (NSTRRAW1; one chunk of three calls: an allocate of 100 bytes at 0x10000, a free of 0x20000, which
# was allocated before recording started, and a free of 0x10000) converts to the binary form by default, and the
# skipped free is counted on stderr (the name p.txt does not make it text).
printf 'NSTRRAW1NSRC\x10\0\0\0\0\0\0\0\0\0\0\0A\0\x80\x80\x08\x64F\x01\x80\x80\x08F\x01\xff\xff\x07' >"$dir/p.raw"
printf 'REND\0\0\0\0\x03\0\0\0\0\0\0\0' >>"$dir/p.raw"
"$convert" "$dir/p.raw" "$dir/p.txt" 2>"$dir/p.err" || fail "raw -> binary: exit $?: $(cat "$dir/p.err")"
[[ "$(head -c 8 "$dir/p.txt")" == NSTRACE1 ]] || fail "raw -> binary did not write the binary form"
grep -qxF "trace_convert: $dir/p.raw: raw, 3 calls in 1 chunk (thread buffers flushed); 1 frees/reallocs of blocks \
from before recording skipped, 0 reordered frees" "$dir/p.err" || fail "raw -> binary: stderr is $(head -2 "$dir/p.err")"
"$convert" "$dir/p.txt" "$dir/p.bin" 2>/dev/null || fail "raw's binary -> text: exit $?"
[[ "$(cat "$dir/p.bin")" == "$(printf 'nostd-trace 1\na 1 100\nf 1\nend 2')" ]] ||
  fail "raw -> binary -> text: $(cat "$dir/p.bin")"

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
one_line "unknown option -check (see --help)" "$convert" -check "$dir/t.bin"
# The value given apart: the line had read "unknown option --to".
one_line "trace_convert: --to takes its value after '=': --to=VALUE (see --help)" "$convert" --to text "$dir/t.bin" \
  "$dir/x"
one_line "unexpected argument" "$convert" "$dir/t.bin" "$dir/x" "$dir/y"
one_line "expected IN and OUT" "$convert" "$dir/t.bin"
one_line "expected one file" "$convert" --check
one_line "--to=text: --check only validates, it writes no form (see --help)" "$convert" --check --to=text "$dir/t.bin"
# An empty file name (an unset shell variable) is refused as such: OUT had been opened as "" once IN was converted
# ("cannot write : No such file or directory", exit 1), IN as "" ("cannot open : ...").
one_line "an empty argument: not a file name (see --help)" "$convert" "$dir/t.bin" ""
one_line "an empty argument: not a file name (see --help)" "$convert" "" "$dir/x"
one_line "an empty argument: not a file name (see --help)" "$convert" --check ""

# A corrupt trace: the byte offset, exit 1, and no output file.
printf 'nostd-trace 1\na 1 100\nf 2\nend 2\n' >"$dir/bad.txt"
status=0
"$convert" "$dir/bad.txt" "$dir/bad.bin" 2>"$dir/bad.err" || status=$?
[[ "$status" == 1 ]] || fail "corrupt trace: exit $status, expected 1"
grep -qF "byte" "$dir/bad.err" || fail "corrupt trace: no byte offset: $(head -2 "$dir/bad.err")"
[[ ! -e "$dir/bad.bin" ]] || fail "corrupt trace: an output file was written"

# corrupt_input WANT FILE: `--check FILE` refuses it as corrupt: exit 1, nothing on stdout, one line on stderr that
# names the file and contains WANT.
corrupt_input() {
  local want="$1" file="$2" status=0 lines
  "$convert" --check "$file" >"$dir/corrupt.out" 2>"$dir/corrupt.err" || status=$?
  [[ "$status" == 1 ]] || fail "--check $file: exit $status, expected 1"
  [[ ! -s "$dir/corrupt.out" ]] || fail "--check $file: printed on stdout: $(head -3 "$dir/corrupt.out")"
  lines="$(wc -l <"$dir/corrupt.err")"
  [[ "$lines" == 1 ]] || fail "--check $file: $lines lines on stderr, expected 1: $(head -3 "$dir/corrupt.err")"
  grep -qF -- "trace_convert: $file: $want" "$dir/corrupt.err" ||
    fail "--check $file: stderr does not say '$want': $(head -3 "$dir/corrupt.err")"
}

# Files that are no trace, or not one of this version, and corrupt ones (README, "The trace format"): truncated lines
# and events, an unknown event, ids freed twice or never allocated, an end record that counts what is not there.
: >"$dir/empty.trace"
corrupt_input "byte 0: not a trace: a binary trace starts with" "$dir/empty.trace"
printf '# nothing but a comment\n\n' >"$dir/comment.trace"
corrupt_input "byte 0: not a trace" "$dir/comment.trace"
printf '\x7fELF\x02\x01\x01\x00\xff\xfe garbage' >"$dir/garbage.trace"
corrupt_input "byte 0: not a trace" "$dir/garbage.trace"
printf 'NSTRACE2E\x00' >"$dir/v2.bin"
corrupt_input "byte 0: not a trace" "$dir/v2.bin"
printf 'NSTRRAW2' >"$dir/v2.raw"
corrupt_input "byte 0: not a trace" "$dir/v2.raw"
printf 'nostd-trace 2\nend 0\n' >"$dir/v2.txt"
corrupt_input 'byte 0 (line 1): not a trace: the first line of a text trace is "nostd-trace 1"' "$dir/v2.txt"
printf 'nostd-trace 1\na 1\nend 1\n' >"$dir/cut_line.txt"
corrupt_input 'byte 14 (line 2): expected "a ID SIZE [ALIGN]"' "$dir/cut_line.txt"
printf 'nostd-trace 1\na 1 8\nf 1\nen' >"$dir/cut_end.txt"
corrupt_input 'byte 24 (line 4): unknown event "en" (expected a, f, r or end)' "$dir/cut_end.txt"
printf 'NSTRACE1A\x01\x08' >"$dir/cut_event.bin"
corrupt_input "byte 11: truncated event: the trace ends inside it" "$dir/cut_event.bin"
printf 'NSTRACE1A\x01\x08\x00' >"$dir/no_end.bin"
corrupt_input "byte 12: the trace ends without an end record" "$dir/no_end.bin"
printf 'NSTRACE1Q\x01E\x01' >"$dir/unknown.bin"
corrupt_input "byte 8: unknown event tag 0x51" "$dir/unknown.bin"
printf 'NSTRACE1A\x01\x08\x00F\x01F\x01E\x03' >"$dir/twice.bin"
corrupt_input "byte 14: free of id 1, which is not live (never allocated, or already freed)" "$dir/twice.bin"
printf 'NSTRACE1R\x07\x08E\x01' >"$dir/never.bin"
corrupt_input "byte 8: reallocate of id 7, which is not live" "$dir/never.bin"
printf 'NSTRACE1E\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01' >"$dir/huge_count.bin"
corrupt_input "byte 8: the end record counts 18446744073709551615 events, the trace has 0" "$dir/huge_count.bin"
printf 'nostd-trace 1\nend 18446744073709551616\n' >"$dir/huge_count.txt"
corrupt_input 'byte 14 (line 2): expected "end COUNT"' "$dir/huge_count.txt"
printf 'nostd-trace 1\na 1 18446744073709551616\nend 1\n' >"$dir/huge_size.txt"
corrupt_input 'byte 14 (line 2): expected "a ID SIZE [ALIGN]"' "$dir/huge_size.txt"

# A varint's 10th byte holds bit 63 only: above 1 it is corrupt, in the binary form and in the raw one (where a
# size of 100 written as e4 80*8 02 had been read as 100).
printf 'NSTRACE1F\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02E\x01' >"$dir/varint.bin"
corrupt_input "byte 18: corrupt number" "$dir/varint.bin"
# NSTRRAW1, a chunk of 15 event bytes from call 0 (an allocate at 0x10000 whose size takes 10 bytes), the end
# record counting 1 call.
printf 'NSTRRAW1NSRC\x0f\0\0\0\0\0\0\0\0\0\0\0A\0\x80\x80\x08\xe4\x80\x80\x80\x80\x80\x80\x80\x80\x02' >"$dir/varint.raw"
printf 'REND\0\0\0\0\x01\0\0\0\0\0\0\0' >>"$dir/varint.raw"
corrupt_input "byte 24: raw trace: corrupt event in the chunk at byte 8" "$dir/varint.raw"
# The same bytes with 01 as the 10th (bit 63: a size of 2^63 + 100) are a valid raw trace.
printf 'NSTRRAW1NSRC\x0f\0\0\0\0\0\0\0\0\0\0\0A\0\x80\x80\x08\xe4\x80\x80\x80\x80\x80\x80\x80\x80\x01' >"$dir/bit63.raw"
printf 'REND\0\0\0\0\x01\0\0\0\0\0\0\0' >>"$dir/bit63.raw"
"$convert" --to=text "$dir/bit63.raw" "$dir/bit63.txt" 2>/dev/null || fail "a raw size of 2^63 + 100: exit $?"
grep -qx 'a 1 9223372036854775908' "$dir/bit63.txt" || fail "a raw size of 2^63 + 100: $(cat "$dir/bit63.txt")"

# A varint is in its shortest form: a last byte of 0 after others (1 as 81 00, 0 as 80 00) is corrupt, in both forms
# (they had been read as the number, and binary -> text -> binary then changed the bytes).
printf 'NSTRACE1A\x01\x08\x00F\x81\x00E\x02' >"$dir/long_varint.bin"
corrupt_input "byte 14: corrupt number: varint not in its shortest form" "$dir/long_varint.bin"
printf 'NSTRRAW1NSRC\x07\0\0\0\0\0\0\0\0\0\0\0A\x80\x00\x80\x80\x08\x64' >"$dir/long_varint.raw"
printf 'REND\0\0\0\0\x01\0\0\0\0\0\0\0' >>"$dir/long_varint.raw"
corrupt_input "byte 24: raw trace: corrupt event in the chunk at byte 8" "$dir/long_varint.raw"

# An endless input stops at its first bytes that are no trace: one line, exit 1, at once. Each comes through a FIFO
# whose writer sends BYTES and ZEROS zero bytes and then holds the FIFO open, so a reader that reads to the end of
# the input (as trace_convert did: /dev/zero ran it out of memory) waits until `timeout` stops it (exit 124), and one
# that waits to fill its buffer does on the short input; neither hangs the test. No /dev/zero itself: without the
# fix it would fill the machine's memory before the timeout.
# endless WANT BYTES [ZEROS]
endless() {
  local want="$1" bytes="$2" zeros="${3:-1048576}" writer status=0 lines
  rm -f "$dir/endless"
  mkfifo "$dir/endless"
  (
    printf '%b' "$bytes"
    head -c "$zeros" /dev/zero 2>/dev/null # once the reader has stopped, head's write fails
    exec sleep 60
  ) >"$dir/endless" &
  writer=$!
  timeout 10 "$convert" --check "$dir/endless" >"$dir/endless.out" 2>"$dir/endless.err" || status=$?
  kill "$writer" 2>/dev/null || true
  wait "$writer" 2>/dev/null || true
  local what="endless '$bytes' + $zeros zeros"
  [[ "$status" == 1 ]] || fail "$what: exit $status, expected 1"
  lines="$(wc -l <"$dir/endless.err")"
  [[ "$lines" == 1 ]] || fail "$what: $lines lines on stderr, expected 1: $(head -3 "$dir/endless.err")"
  grep -qF -- "trace_convert: $dir/endless: $want" "$dir/endless.err" ||
    fail "$what: stderr does not say '$want': $(head -3 "$dir/endless.err")"
}
endless "byte 0: not a trace" ''                             # as from /dev/zero
endless "byte 8: unknown event tag 0x00" 'NSTRACE1'          # a binary trace's magic, then zeros
endless "byte 8: raw trace: not a chunk header" 'NSTRRAW1'   # a raw trace's magic, then zeros
endless "byte 8: raw trace: empty chunk" 'NSTRRAW1NSRC'      # a chunk header claiming no event bytes
endless "byte 11: corrupt alignment" 'NSTRACE1A\x01\x08\x1f' # a corrupt event, then zeros
endless "byte 8: unknown event tag 0x7f" 'NSTRACE1\x7f' 0    # a corrupt event, then a writer that stalls
endless "byte 10: corrupt number: varint not in its shortest form" 'NSTRACE1F\x80' # 80 00: a varint too long

# An output that cannot be written: the reason, exit 1.
status=0
"$convert" "$dir/t.txt" "$dir/no/such/dir/t.bin" 2>"$dir/nodir.err" || status=$?
[[ "$status" == 1 ]] || fail "unwritable output: exit $status, expected 1"
grep -qF "cannot write $dir/no/such/dir/t.bin: No such file or directory" "$dir/nodir.err" ||
  fail "unwritable output: $(head -2 "$dir/nodir.err")"
# A device is written in place (nothing there to keep): /dev/full's error is the reason, exit 1.
status=0
"$convert" "$dir/t.txt" /dev/full 2>"$dir/full.err" || status=$?
[[ "$status" == 1 ]] || fail "/dev/full: exit $status, expected 1"
grep -qxF "trace_convert: cannot write /dev/full: No space left on device" "$dir/full.err" ||
  fail "/dev/full: $(head -2 "$dir/full.err")"

# OUT naming IN (the same path, ./x for x, a symbolic link, a hard link), where IN may be the only copy of the trace.
# With no room to write (without_room: every write to a file fails, as on a full disk), exit 1 with one line and IN, under every name, as it was, no temporary left: trace_convert had truncated OUT and
# then failed, which lost the trace. With room, OUT is converted in place and keeps its mode, and a link stays a link.
in_place="$dir/in_place"
convert_path="$(realpath "$convert")"
# fresh_in_place: a directory holding only t.txt (a text trace of 400 events, 2.9 KB of binary), mode 640.
fresh_in_place() {
  rm -rf "$in_place"
  mkdir "$in_place"
  {
    echo 'nostd-trace 1'
    for i in $(seq 1 200); do echo "a $i 1000"; done
    for i in $(seq 1 200); do echo "f $i"; done
    echo 'end 400'
  } >"$in_place/t.txt"
  chmod 640 "$in_place/t.txt"
  cp "$in_place/t.txt" "$dir/t.orig"
}
# in_place_names: `OUT LINK` pairs: OUT as trace_convert is given it (run in $in_place), LINK what to create first.
in_place_names=("t.txt -" "./t.txt -" "link.txt symlink" "hard.txt hardlink")
for pair in "${in_place_names[@]}"; do
  read -r out link <<<"$pair"
  fresh_in_place
  case "$link" in
    symlink) ln -s t.txt "$in_place/$out" ;;
    hardlink) ln "$in_place/t.txt" "$in_place/$out" ;;
  esac
  listed="$(ls "$in_place")"
  cd "$in_place"
  without_room "$convert_path" t.txt "$out"
  cd - >/dev/null
  [[ "$room_status" == 1 ]] || fail "t.txt -> $out ($link), no room: exit $room_status, expected 1"
  [[ "$room_err" == "trace_convert: cannot write $out: File too large (the file there is left as it was)" ]] ||
    fail "t.txt -> $out ($link), no room: stderr is '$room_err'"
  cmp -s "$dir/t.orig" "$in_place/t.txt" || fail "t.txt -> $out ($link), no room: the input was lost"
  [[ "$(ls "$in_place")" == "$listed" ]] || fail "t.txt -> $out ($link), no room: left $(ls "$in_place")"

  (cd "$in_place" && "$convert_path" t.txt "$out" 2>/dev/null) || fail "t.txt -> $out ($link): exit $?"
  [[ "$(head -c 8 "$in_place/$out")" == NSTRACE1 ]] || fail "t.txt -> $out ($link): not converted"
  [[ "$(stat -L -c %a "$in_place/$out")" == 640 ]] || fail "t.txt -> $out ($link): mode $(stat -L -c %a "$in_place/$out")"
  [[ "$(ls "$in_place")" == "$listed" ]] || fail "t.txt -> $out ($link): left $(ls "$in_place")"
  case "$link" in
    symlink) [[ -L "$in_place/$out" ]] || fail "t.txt -> $out: the link was replaced by a file" ;;
    hardlink) cmp -s "$dir/t.orig" "$in_place/t.txt" || fail "t.txt -> $out: the other name of the file changed" ;;
  esac
done

# `-` is standard input as IN and standard output as OUT: the same bytes as through files, a pipe in and out, --check
# of standard input, and no file named "-" left where the tool ran (it had been written as a file of that name). A
# redirected standard output is written in place (a temporary renamed over it would leave the shell's descriptor on
# the old file); a full one is one line and exit 1.
mkdir -p "$dir/dash"
(cd "$dir/dash" && "$convert_path" "$dir/t.bin" - >"$dir/dash.txt" 2>"$dir/dash.err") || fail "t.bin -> -: exit $?"
cmp -s "$dir/back.txt" "$dir/dash.txt" || fail "t.bin -> -: $(head -c 60 "$dir/dash.txt")"
grep -q "^trace_convert: $dir/t.bin (binary, [0-9]* bytes) -> standard output (text, [0-9]* bytes)$" "$dir/dash.err" ||
  fail "t.bin -> -: stderr is $(cat "$dir/dash.err")"
(cd "$dir/dash" && cat "$dir/back.txt" | "$convert_path" - "$dir/dash.bin" 2>/dev/null) || fail "- -> dash.bin: exit $?"
cmp -s "$dir/t.bin" "$dir/dash.bin" || fail "- -> dash.bin: not the binary trace"
(cd "$dir/dash" && "$convert_path" - - <"$dir/t.bin" 2>/dev/null | cat >"$dir/dash2.txt") || fail "- -> -: exit $?"
cmp -s "$dir/back.txt" "$dir/dash2.txt" || fail "- -> - through pipes: $(head -c 60 "$dir/dash2.txt")"
[[ "$("$convert_path" --check - <"$dir/t.bin")" == "standard input: valid binary trace, $(stat -c %s "$dir/t.bin") bytes" ]] ||
  fail "--check -: $("$convert_path" --check - <"$dir/t.bin" 2>&1)"
[[ -z "$(ls -A "$dir/dash")" ]] || fail "a file was written where the tool ran: $(ls -A "$dir/dash")"
status=0
"$convert_path" "$dir/t.bin" - >/dev/full 2>"$dir/dash.err" || status=$?
[[ "$status" == 1 && "$(cat "$dir/dash.err")" == "trace_convert: cannot write standard output: No space left on device" ]] ||
  fail "t.bin -> - into /dev/full: exit $status, $(cat "$dir/dash.err")"
# OUT through a descriptor open on IN's file, as standard input or output, is refused with one line and exit 2,
# the trace as it was: it had been written over the trace from the descriptor's offset (a binary trace over the
# first 26 bytes of the text one, the rest left behind it, exit 0).
for way in stdin stdout; do
  cp "$dir/back.txt" "$dir/rw.txt"
  status=0
  if [[ "$way" == stdin ]]; then
    "$convert_path" /dev/stdin /dev/fd/0 0<>"$dir/rw.txt" 2>"$dir/rw.err" || status=$?
  else
    "$convert_path" "$dir/rw.txt" /dev/stdout 1<>"$dir/rw.txt" 2>"$dir/rw.err" || status=$?
  fi
  [[ "$status" == 2 && "$(wc -l <"$dir/rw.err")" == 1 ]] || fail "OUT on IN's file by $way: exit $status, $(cat "$dir/rw.err")"
  grep -q "would be written over it" "$dir/rw.err" || fail "OUT on IN's file by $way: $(cat "$dir/rw.err")"
  cmp -s "$dir/back.txt" "$dir/rw.txt" || fail "OUT on IN's file by $way: the trace changed"
done
# A descriptor on another file is written: `-` into a file opened for reading and writing.
: >"$dir/rw.bin"
"$convert_path" "$dir/back.txt" - 1<>"$dir/rw.bin" 2>/dev/null || fail "- on a read-write descriptor: exit $?"
cmp -s "$dir/t.bin" "$dir/rw.bin" || fail "- on a read-write descriptor: not the binary trace"
finish
