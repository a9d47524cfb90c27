#!/usr/bin/env bash
# tests/malloc_recorder_test.sh — records malloc_recorder_program through librecord_preload.so (which calls
# record/malloc_recorder.h as the drop-in malloc does) and checks the trace: valid (trace_convert --check), every
# call of the program recorded (2 threads × 1000 pairs, reallocs, the aligned block, calloc), "%p" expanded to the
# process id, and no file at all when NOSTD_ALLOC_TRACE is unset.
set -euo pipefail
preload="$(realpath "$1")"
program="$(realpath "$2")"
convert="$(realpath "$3")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$tmp/t.%p.trace" "$program" 2>"$tmp/stderr")"
[[ "$out" == done ]] || fail "the program's output changed under recording: $out"
shopt -s nullglob
traces=("$tmp"/t.*.trace)
[[ ${#traces[@]} == 1 ]] || fail "expected one trace named after the pid, got: ${traces[*]:-none}"
trace="${traces[0]}"
[[ "$trace" =~ t\.[0-9]+\.trace$ ]] || fail "%p was not replaced by the process id: $trace"
grep -q "nostd-alloc: trace of" "$tmp/stderr" || fail "no summary on stderr"
raws=("$tmp"/*.raw)
[[ ${#raws[@]} == 0 ]] || fail "the raw file was left behind: ${raws[*]}"
"$convert" --check "$trace" || fail "the trace does not validate"
"$convert" "$trace" "$tmp/t.txt" 2>/dev/null
allocs=$(grep -c '^a ' "$tmp/t.txt" || true)
frees=$(grep -c '^f ' "$tmp/t.txt" || true)
reallocs=$(grep -c '^r ' "$tmp/t.txt" || true)
(( allocs >= 2 * (1000 + 10 + 2) )) || fail "expected at least 2024 allocations, got $allocs"
(( reallocs >= 20 )) || fail "expected at least 20 reallocations, got $reallocs"
(( frees >= 2 * (1000 + 10 + 2) )) || fail "expected at least 2024 frees, got $frees"
grep -qE '^a [0-9]+ 100 64$' "$tmp/t.txt" || fail "the 64-byte-aligned block of 100 bytes is missing"
grep -qE '^a [0-9]+ 100$' "$tmp/t.txt" || fail "the calloc(10, 10) block is missing"

# Unset: the shim records nothing and writes nothing.
(cd "$tmp" && mkdir off && cd off && out="$(LD_PRELOAD="$preload" "$program")" && [[ "$out" == done ]]) ||
  fail "the program failed under the shim with recording off"
[[ -z "$(ls -A "$tmp/off")" ]] || fail "files were written with NOSTD_ALLOC_TRACE unset"

echo "$failures failure(s)"
[[ "$failures" == 0 ]]
