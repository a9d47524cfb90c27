#!/usr/bin/env bash
# platform/riscv64_linux/qemu_riscv64.sh BINARY [ARGS...]: runs a riscv64 Linux binary under qemu-riscv64 with
# Debian's riscv64 libraries (/usr/riscv64-linux-gnu) and exits with its status. `--config=riscv64` sets it as
# Bazel's --run_under. QEMU user mode passes the environment through, so GoogleTest sees Bazel's test variables
# (XML_OUTPUT_FILE, TESTBRIDGE_TEST_ONLY, ...) as on the host. No binfmt handler is needed or assumed.
#
# A binary that does not end within NOSTD_QEMU_TIMEOUT seconds (else TEST_TIMEOUT less 5 s, else 60 s) is stopped
# and fails. Anything that is not a RISC-V ELF file (e.g. a shell script sh_test) is run directly.
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 BINARY [ARGS...]" >&2
  exit 2
fi
binary="$1"

# ELF magic, then e_machine (offset 18, little endian) 0xf3 = RISC-V.
header="$(od -An -tx1 -N20 "$binary" 2>/dev/null | tr -d ' \n' || true)"
if [[ "${header:0:8}" != "7f454c46" || "${header:36:4}" != "f300" ]]; then
  exec "$@"
fi

limit="${NOSTD_QEMU_TIMEOUT:-}"
if [[ -z "$limit" ]]; then
  if [[ -n "${TEST_TIMEOUT:-}" && "${TEST_TIMEOUT}" -gt 10 ]]; then limit=$((TEST_TIMEOUT - 5)); else limit=60; fi
fi

status=0
timeout --kill-after=5 "$limit" qemu-riscv64 -L /usr/riscv64-linux-gnu "$@" || status=$?
if ((status == 124 || status == 137)); then
  echo "*** qemu_riscv64: ${binary##*/} did not finish within ${limit} s (hang?); stopped" >&2
  exit 124
fi
exit "$status"
