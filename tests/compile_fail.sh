# tests/compile_fail.sh — sourced by the compile-fail tests (diagnostics_test.sh, containers_diagnostics_test.sh).
# Before sourcing, a test sets `prelude` (the code every case starts with) and may set `extra_flags` (an array).
# `expect_compiles NAME BODY` is the control case: without it, a broken prelude would make every rejection pass
# for the wrong reason. `expect_error NAME MESSAGE BODY [ERRORS]` passes when g++ rejects the program, its first error
# says MESSAGE, and it reports at most ERRORS errors (default 1: the message alone, no cascade after it).
# The caller ends with `finish`, which prints the count and fails when any case failed.
set -euo pipefail
cxx="${CXX:-g++}"
root="$(pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
extra_flags=("${extra_flags[@]+"${extra_flags[@]}"}")

compile() {
  local name="$1" body="$2"
  printf '%s\n%s\n' "$prelude" "$body" >"$tmp/$name.cc"
  "$cxx" -std=c++2b -fno-exceptions -fno-rtti "${extra_flags[@]+"${extra_flags[@]}"}" -fsyntax-only -I"$root" \
    "$tmp/$name.cc" >"$tmp/$name.log" 2>&1
}

expect_compiles() {
  local name="$1" body="$2"
  if compile "$name" "$body"; then
    echo "ok   $name: a correct program compiles"
  else
    echo "FAIL $name: a correct program was rejected"
    head -20 "$tmp/$name.log"
    failures=$((failures + 1))
  fi
}

expect_error() {
  local name="$1" message="$2" body="$3" allowed="${4:-1}"
  local first count
  if compile "$name" "$body"; then
    echo "FAIL $name: compiled, but should have been rejected"
    failures=$((failures + 1))
    return
  fi
  first="$(grep -m1 ' error: ' "$tmp/$name.log" || true)"
  count="$(grep -c ' error: ' "$tmp/$name.log" || true)"
  if [[ "$first" != *"$message"* ]]; then
    echo "FAIL $name: the first error is not the message: $message"
    head -20 "$tmp/$name.log"
    failures=$((failures + 1))
  elif ((count > allowed)); then
    echo "FAIL $name: $count errors, expected at most $allowed (the message, not a cascade after it):"
    grep ' error: ' "$tmp/$name.log" | head -5
    failures=$((failures + 1))
  else
    echo "ok   $name: $message"
  fi
}

finish() {
  echo "$failures failure(s)"
  [[ "$failures" == 0 ]]
}
