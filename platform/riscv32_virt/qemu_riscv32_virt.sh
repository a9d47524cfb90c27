#!/usr/bin/env bash
# platform/riscv32_virt/qemu_riscv32_virt.sh BINARY [ARGS...]: runs a bare-metal rv32 test binary on QEMU's RISC-V
# `virt` board in machine mode and exits with the binary's exit status. `--config=riscv32` sets it as Bazel's
# --run_under, so `bazel test` calls it with the test binary and the test's arguments.
#
# - `-bios none`: no firmware; the hart starts at 0x80000000, where picolibc's crt0 (_start) is linked.
# - Output (stdout and stderr of the binary) arrives over semihosting; the exit status comes back exactly (picolibc's
#   _exit uses SYS_EXIT_EXTENDED). A trap exits with 139 (see startup.cc).
# - The test's arguments go to the semihosting command line, which picolibc's crt0 splits into argv[1..]. There is
#   no environment and no GoogleTest here (README.md, "Platforms"), so Bazel's test filter and sharding variables
#   have nothing to reach.
# - A binary that does not end within the time limit is stopped and fails: NOSTD_QEMU_TIMEOUT seconds, else
#   Bazel's TEST_TIMEOUT less 5 s, else 60 s.
# - Anything that is not a 32-bit RISC-V ELF file (e.g. a shell script sh_test) is run directly, unchanged.
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 BINARY [ARGS...]" >&2
  exit 2
fi
binary="$1"
shift

# ELF magic, EI_CLASS (offset 4) 01 = 32-bit, then e_machine (offset 18, little endian) 0xf3 = RISC-V.
header="$(od -An -tx1 -N20 "$binary" 2>/dev/null | tr -d ' \n' || true)"
if [[ "${header:0:8}" != "7f454c46" || "${header:8:2}" != "01" || "${header:36:4}" != "f300" ]]; then
  exec "$binary" "$@"
fi

limit="${NOSTD_QEMU_TIMEOUT:-}"
if [[ -z "$limit" ]]; then
  if [[ -n "${TEST_TIMEOUT:-}" && "${TEST_TIMEOUT}" -gt 10 ]]; then limit=$((TEST_TIMEOUT - 5)); else limit=60; fi
fi

# QEMU's -semihosting-config splits on commas: an argument containing one is passed with ",," (QEMU's escape).
semi="enable=on,target=native"
for a in "$@"; do
  semi+=",arg=${a//,/,,}"
done

status=0
timeout --kill-after=5 "$limit" qemu-system-riscv32 -M virt -cpu rv32 -bios none -nographic -monitor none \
  -serial none -semihosting-config "$semi" -kernel "$binary" || status=$?
if ((status == 124 || status == 137)); then
  echo "*** qemu_riscv32_virt: ${binary##*/} did not finish within ${limit} s (hang?); stopped" >&2
  exit 124
fi
exit "$status"
