#!/usr/bin/env bash
# tests/tool_report/tool_report_test.sh TOOL PROGRAM: proves that TOOL (asan or valgrind) reports misuse of our heap's
# blocks. For each mode of PROGRAM (tests/tool_report/misuse.cc) the test passes only when the tool reports the
# expected error (non-zero exit and its message), and `clean` must run silently: a tool that reports nothing, or
# everything, fails the test.
set -uo pipefail
tool="$1"
program="$2"
failures=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

run() {
  case "$tool" in
    asan) ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 "$program" "$1" >"$log" 2>&1 ;;
    # The braces' 2>/dev/null takes bash's own "Aborted" line when the heap's check ends the program after memcheck
    # has reported (the report is in $log): it is not the tool's output.
    valgrind) { valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$program" "$1" \
      >"$log" 2>&1; } 2>/dev/null ;;
  esac
}

# expect MODE PATTERN...: the run fails (non-zero exit) and its output matches every PATTERN (extended regex).
expect() {
  local mode="$1"
  shift
  if run "$mode"; then
    echo "FAIL $tool $mode: exited 0, the tool stayed silent"
    failures=$((failures + 1))
    return
  fi
  for pattern in "$@"; do
    if ! grep -qE "$pattern" "$log"; then
      echo "FAIL $tool $mode: output lacks /$pattern/"
      sed -n '1,40p' "$log"
      failures=$((failures + 1))
      return
    fi
  done
  echo "ok   $tool $mode: reported ($(grep -m1 -oE "$1" "$log" || true))"
}

if run clean && grep -q '^done$' "$log" && ! grep -qE 'ERROR: AddressSanitizer|Invalid (read|write)|definitely lost' "$log"; then
  echo "ok   $tool clean: silent"
else
  echo "FAIL $tool clean: the tool reported correct use, or the program failed"
  sed -n '1,40p' "$log"
  failures=$((failures + 1))
fi

case "$tool" in
  asan)
    # ASan reports a poisoned access as use-after-poison (the heap, not ASan's allocator, owns the memory); the
    # stack trace names the access and the bad address's 8-byte shadow granule says poisoned.
    expect use-after-free 'ERROR: AddressSanitizer: use-after-poison' 'WRITE of size 1' 'write_byte'
    expect read-after-free 'ERROR: AddressSanitizer: use-after-poison' 'READ of size 1' 'read_byte'
    expect overflow 'ERROR: AddressSanitizer: use-after-poison' 'WRITE of size 1' 'write_byte'
    ;;
  valgrind)
    expect use-after-free 'Invalid write of size 1' 'write_byte' 'inside a block of size 100 free'"'"'d|free'"'"'d'
    expect read-after-free 'Invalid read of size 1' 'read_byte'
    expect overflow 'Invalid write of size 1' 'write_byte'
    expect leak 'bytes in 1 blocks are definitely lost' 'leak_one'  # 104: the request's usable size
    ;;
esac

if ((failures > 0)); then
  echo "$failures failed"
  exit 1
fi
echo "all passed"
