#!/usr/bin/env bash
# Smoke test of //bench:instructions' replay driver: op_count replays workload e at 1/100 of its churn steps for
# every allocator it knows and reports every call of the trace (400 fills + 10,000 churn steps = 10,400 allocations
# and as many frees), and workload c (LIFO) at 1/100 of its calls; instructions.sh refuses bad arguments before its
# table. No timing and no instruction count is asserted (those belong to the benchmark; callgrind is too slow for a
# test); this keeps `./bazelw run //bench:instructions` working.
# shellcheck source=bench/smoke_test_lib.sh
source "${BASH_SOURCE[0]%/*}/smoke_test_lib.sh"
# Every allocator op_count lists in its usage, so that a new row is covered without editing this list.
# --help prints the usage on stdout and exits 0 (set -e stops the test otherwise).
read -r -a allocators <<<"$("$1" --help 2>/dev/null | sed -n 's/^allocators: //p')"
if [ "${#allocators[@]}" -lt 11 ]; then
  fail "op_count --help lists ${#allocators[@]} allocators, expected at least 11"
  finish
fi
for allocator in "${allocators[@]}"; do
  line="$("$1" "$allocator" e 100 2)"
  if [[ "$line" != *"allocations=10400 frees=10400 "* ]]; then
    fail "$allocator: $line"
  fi
  # Workload c (LIFO) at 1/100: 20,000 stack calls, then the drain; the trace, fixed by its seed, makes 13,499
  # allocations, and the drain frees every block the stack still holds.
  line="$("$1" "$allocator" c 100)"
  if [[ "$line" != *"workload=c steps=20000 allocations=13499 frees=13499 "* ]]; then
    fail "$allocator, workload c: $line"
  fi
done
if "$1" no-such-allocator e 2>/dev/null; then
  fail "an unknown allocator was accepted"
fi
if "$1" 2>/dev/null; then
  fail "no arguments were accepted (expected the usage and exit 2)"
fi
# Each argument is read whole: a word that starts with a workload's letter is not that workload, a divisor or a
# repetition count with trailing characters, a fraction, zero or more than the workload's steps is refused (exit 2,
# a line naming the value), never read as its leading digits.
refused() { expect_refused "op_count: " "$op_count" "$@"; }  # smoke_test_lib.sh
op_count="$1"
refused glibc bogus 10
refused glibc bb 10
refused glibc "" 10
refused glibc a 10x
refused glibc a 1.5
refused glibc a 0
refused glibc a -1
refused glibc a 99999999999999999999
refused glibc a 1000001  # a's 1,000,000 churn steps + 1
refused glibc e 1 99999999999999999999x
refused glibc e 1 0
# //bench:instructions (bench/instructions.sh) checks its arguments before the table starts, with no callgrind run:
# exit 2, one line, nothing on stdout. An empty workload or divisor had been read as the default (a, 10), and a
# divisor above the workload's steps refused only after the table's heading.
instructions() { expect_refused "$1" "$instructions_sh" "$op_count" "${@:2}"; }
instructions_sh="$2"
instructions "instructions: workload : not a, b, c or e" ""
instructions "instructions: divisor : not a whole number from 1" a ""
instructions "instructions: workload ab: not a, b, c or e" ab 10
instructions "instructions: unknown allocator nosuch" e 10 nosuch
instructions "op_count: DIVISOR '1000001': not a whole number from 1 to 1000000" a 1000001 glibc
finish
