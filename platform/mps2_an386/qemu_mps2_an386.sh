#!/usr/bin/env bash
# platform/mps2_an386/qemu_mps2_an386.sh BINARY [ARGS...]: runs a Cortex-M4 test binary on QEMU's mps2-an386 board
# and exits with the binary's exit status. `--config=cortex_m` sets it as Bazel's --run_under, so `bazel test`
# calls it with the test binary and the test's arguments.
#
# - Output (stdout and stderr of the binary) arrives over semihosting; the exit status comes back exactly
#   (SYS_EXIT_EXTENDED). A fault exits with 139 (see startup.cc).
# - There is no environment over semihosting. The variables of Bazel's test protocol that GoogleTest reads
#   (TESTBRIDGE_TEST_ONLY from --test_filter, sharding: GTEST_SHARD_INDEX, GTEST_TOTAL_SHARDS,
#   GTEST_SHARD_STATUS_FILE) are passed as leading arguments `--nostd-env=NAME=VALUE`, which the board's startup
#   code (startup.cc) turns back into the environment. XML_OUTPUT_FILE is not passed on: GoogleTest would first
#   create the file's directory, and without stat() for directories over semihosting its directory walk never
#   ends; Bazel writes its own test.xml instead.
# - A binary that does not end within the time limit is stopped and fails: NOSTD_QEMU_TIMEOUT seconds, else
#   Bazel's TEST_TIMEOUT less 5 s, else 60 s.
# - Anything that is not an ARM ELF file (e.g. a shell script sh_test) is run directly, unchanged.
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 BINARY [ARGS...]" >&2
  exit 2
fi
binary="$1"
shift

# ELF magic, then e_machine (offset 18, little endian) 0x28 = ARM.
header="$(od -An -tx1 -N20 "$binary" 2>/dev/null | tr -d ' \n' || true)"
if [[ "${header:0:8}" != "7f454c46" || "${header:36:4}" != "2800" ]]; then
  exec "$binary" "$@"
fi

args=()
for name in TESTBRIDGE_TEST_ONLY GTEST_SHARD_INDEX GTEST_TOTAL_SHARDS GTEST_SHARD_STATUS_FILE; do
  if [[ -n "${!name:-}" ]]; then args+=("--nostd-env=${name}=${!name}"); fi
done
args+=("$@")

limit="${NOSTD_QEMU_TIMEOUT:-}"
if [[ -z "$limit" ]]; then
  if [[ -n "${TEST_TIMEOUT:-}" && "${TEST_TIMEOUT}" -gt 10 ]]; then limit=$((TEST_TIMEOUT - 5)); else limit=60; fi
fi

# QEMU's -semihosting-config splits on commas: an argument containing one is passed with ",," (QEMU's escape).
semi="enable=on,target=native,arg=${binary//,/,,}"
for a in "${args[@]}"; do
  semi+=",arg=${a//,/,,}"
done

status=0
timeout --kill-after=5 "$limit" qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \
  -semihosting-config "$semi" -kernel "$binary" || status=$?
if ((status == 124 || status == 137)); then
  echo "*** qemu_mps2_an386: ${binary##*/} did not finish within ${limit} s (hang?); stopped" >&2
  exit 124
fi
exit "$status"
