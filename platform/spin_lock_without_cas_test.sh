#!/usr/bin/env bash
# platform/spin_lock_without_cas_test.sh [TARGET COMPILER FLAGS...]: on a target without compare-and-swap a heap
# with SpinLock must fail to compile with SpinLock's one-line message, while the same heap with InterruptLock or
# NullLock compiles. TARGET names it in the output; COMPILER and FLAGS select it. Without arguments: Cortex-M0+
# (armv6-m) with arm-none-eabi-g++ (NOSTD_ARM_CXX overrides it), installed by ./bazelw for --config=cortex_m. The
# BUILD file also runs it for rv32imc (RISC-V without the A extension) with clang-19 under --config=riscv32.
set -euo pipefail
if (($# >= 2)); then
  target="$1"
  cxx="$2"
  shift 2
  flags=("$@")
else
  target="Cortex-M0+"
  cxx="${NOSTD_ARM_CXX:-arm-none-eabi-g++}"
  flags=(-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft)
fi
flags+=(-std=c++2b -fno-exceptions -fno-rtti -fsyntax-only -I.)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
message="SpinLock: this target has no lock-free atomic exchange"

program() {  # program LOCK: a heap with that lock, used
  cat <<EOT
#include "alloc/alloc.h"
#include "platform/interrupt_lock.h"
constinit nostd::BasicHeap<nostd::FirstFit, $1, nostd::StaticArraySource<4096>> heap;
void* use() { auto p = heap.allocate(16); return p ? *p : nullptr; }
EOT
}

for lock in nostd::NullLock nostd::InterruptLock; do
  program "$lock" >"$tmp/ok.cc"
  if "$cxx" "${flags[@]}" "$tmp/ok.cc" >"$tmp/ok.log" 2>&1; then
    echo "ok   ${lock} compiles for ${target}"
  else
    echo "FAIL ${lock} does not compile for ${target}:"
    head -20 "$tmp/ok.log"
    failures=$((failures + 1))
  fi
done

program nostd::SpinLock >"$tmp/spin.cc"
if "$cxx" "${flags[@]}" "$tmp/spin.cc" >"$tmp/spin.log" 2>&1; then
  echo "FAIL SpinLock compiled for ${target}, which has no compare-and-swap"
  failures=$((failures + 1))
elif ! grep -qF "$message" "$tmp/spin.log"; then
  echo "FAIL SpinLock was rejected without the message: ${message}"
  head -20 "$tmp/spin.log"
  failures=$((failures + 1))
else
  echo "ok   SpinLock is rejected: $(grep -oF "$message" "$tmp/spin.log" | head -1) ..."
  errors=$(grep -c 'error:' "$tmp/spin.log" || true)
  if [[ "$errors" == 1 ]]; then
    echo "     (the only error line)"
  else
    echo "FAIL SpinLock's message should be the only error, got ${errors}:"
    grep 'error:' "$tmp/spin.log" | head -5
    failures=$((failures + 1))
  fi
fi

echo "${failures} failure(s)"
[[ "$failures" == 0 ]]
