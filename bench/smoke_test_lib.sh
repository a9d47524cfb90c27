# bench/smoke_test_lib.sh — sourced by the benchmark tools' smoke tests (their sh_test rules list it in `data`):
# strict mode, `fail MESSAGE` to count a failure and go on, `expect_refused` for a tool's bad input, `without_room` to
# run a tool whose writes fail, and `finish` to print the count and exit with it.
set -euo pipefail
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_refused WANT COMMAND [ARG...]: COMMAND must refuse its input as the tools do: exit 2, nothing on stdout, and
# a line on stderr that contains WANT (the tool's message; some print a library's own line before it).
expect_refused() {
  local want="$1"
  shift
  local status=0 out="${TEST_TMPDIR:-/tmp}/refused.out" err="${TEST_TMPDIR:-/tmp}/refused.err"
  "$@" >"$out" 2>"$err" || status=$?
  [[ "$status" == 2 ]] || fail "${*:2}: exit $status, expected 2"
  [[ ! -s "$out" ]] || fail "${*:2}: printed on stdout: $(head -3 "$out")"
  grep -qF -- "$want" "$err" || fail "${*:2}: stderr does not say '$want': $(head -3 "$err")"
}

# without_room COMMAND [ARG...]: runs COMMAND where no file may grow (ulimit -f 0: every write to a regular file
# fails with EFBIG, as on a full disk; SIGXFSZ ignored, which COMMAND inherits), its stdout discarded; sets room_status
# to its exit status and room_err to its stderr (read through a pipe, which the limit does not touch).
without_room() {
  room_status=0
  room_err="$( (ulimit -f 0 && trap '' XFSZ && exec "$@") 2>&1 >/dev/null)" || room_status=$?
}

finish() {
  echo "$failures failure(s)"
  exit $((failures > 0))
}
