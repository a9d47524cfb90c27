#!/usr/bin/env bash
# Test of bench/footprint/footprint.sh's options (no compiler runs, so it needs no toolchain): --help prints the usage
# on stdout and exits 0; an unknown option gets the usage on stderr and exit 2; a --cpu the report does not build for
# is refused before anything reaches stdout (the table's header came first, then the compiler's list of every CPU it
# knows), with one line on stderr naming the accepted cores, and exit 2.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/../smoke_test_lib.sh"
footprint="$1"

# run ARG...: footprint.sh's exit status in $status, its stdout and stderr in $TEST_TMPDIR/out and err.
run() {
  status=0
  "$footprint" "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || status=$?
}

for help in --help -h; do
  run "$help"
  [[ "$status" == 0 ]] || fail "$help: exit $status, expected 0"
  grep -qE '^usage: footprint(\.sh)? \[--check\] \[--cpu=CPU\]$' "$TEST_TMPDIR/out" ||
    fail "$help: no usage on stdout: '$(head -1 "$TEST_TMPDIR/out")'"
  grep -qF 'cortex-m0plus' "$TEST_TMPDIR/out" || fail "$help: the usage names no CPU"
  [[ -s "$TEST_TMPDIR/err" ]] && fail "$help: printed on stderr: $(cat "$TEST_TMPDIR/err")"
done

for bad in --bogus check --cpu; do
  run "$bad"
  [[ "$status" == 2 ]] || fail "$bad: exit $status, expected 2"
  [[ -s "$TEST_TMPDIR/out" ]] && fail "$bad: printed on stdout: $(head -3 "$TEST_TMPDIR/out")"
  grep -qE '^usage: footprint' "$TEST_TMPDIR/err" || fail "$bad: no usage on stderr"
done

# rv32e: picolibc has it only for the ilp32e ABI, not the ilp32 the report links.
for cpu in bogus '' cortex-a7 rv32e 'cortex-m4 '; do
  run "--cpu=$cpu"
  [[ "$status" == 2 ]] || fail "--cpu=$cpu: exit $status, expected 2"
  [[ -s "$TEST_TMPDIR/out" ]] && fail "--cpu=$cpu: printed on stdout: $(head -3 "$TEST_TMPDIR/out")"
  [[ "$(wc -l <"$TEST_TMPDIR/err")" == 1 ]] || fail "--cpu=$cpu: not one line on stderr: $(head -5 "$TEST_TMPDIR/err")"
  line="$(head -1 "$TEST_TMPDIR/err")"
  [[ "$line" == "footprint: --cpu=$cpu: not one of "*cortex-m0plus*cortex-m4*rv32imac* ]] ||
    fail "--cpu=$cpu: stderr '$line'"
done
finish
