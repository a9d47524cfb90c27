#!/usr/bin/env bash
# tests/preload/misuse_test.sh LIB MISUSE CHECK_LEVEL — runs every misuse program of tests/preload/misuse.cc with
# glibc's malloc and with the drop-in (LD_PRELOAD=LIB, NOSTD_MALLOC_CHECK=CHECK_LEVEL) and checks that
#   - the drop-in stops every one with a check: SIGABRT and a "nostd-malloc: ..." line on stderr (no SIGSEGV: a huge
#     block freed twice is found missing from the registry of live huge blocks before its unmapped header is read);
#   - so it stops at least as many as glibc does;
#   - every mistyped NOSTD_MALLOC_* variable is reported on its own line, and the program runs on.
# A table of both outcomes is printed either way.
set -uo pipefail

lib="$(realpath "$1")"
misuse="$2"
level="$3"
names="$("$misuse" --list)" || {
  echo "FAIL: $misuse --list failed" >&2
  exit 1
}

outcome() {  # exit status -> "stopped (SIGNAL)" or "survived"
  if (($1 > 128)); then echo "stopped ($(kill -l $(($1 - 128))))"; else echo "survived (exit $1)"; fi
}

glibc_stops=0
nostd_stops=0
missed=()
unchecked=()
printf '%-42s %-22s %s\n' misuse glibc "nostd ($level)"
for name in $names; do
  # Each run in a braced group whose stderr is discarded: bash prints its "Aborted" notice there.
  { "$misuse" "$name" >/dev/null 2>&1; } 2>/dev/null
  glibc=$?
  { LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK="$level" "$misuse" "$name" >/dev/null 2>"${TEST_TMPDIR:-/tmp}/$name.err"; } 2>/dev/null
  nostd=$?
  ((glibc > 128)) && ((glibc_stops++))
  if ((nostd > 128)); then ((nostd_stops++)); else missed+=("$name"); fi
  # 134 = 128 + SIGABRT: ReportAndAbort's exit, after its message.
  if ((nostd != 134)) || ! grep -q '^nostd-malloc: ' "${TEST_TMPDIR:-/tmp}/$name.err"; then unchecked+=("$name"); fi
  printf '%-42s %-22s %s\n' "$name" "$(outcome $glibc)" "$(outcome $nostd)"
done
total="$(wc -w <<<"$names")"
echo "stopped: glibc $glibc_stops of $total, nostd $nostd_stops of $total"

if ((${#missed[@]} != 0)); then
  echo "FAIL: the drop-in let these misuses pass: ${missed[*]}" >&2
  exit 1
fi
if ((nostd_stops < glibc_stops)); then
  echo "FAIL: the drop-in stopped fewer misuse programs than glibc" >&2
  exit 1
fi
if ((${#unchecked[@]} != 0)); then
  echo "FAIL: the drop-in did not stop these with a check and its message: ${unchecked[*]}" >&2
  exit 1
fi
# A stop must come from a check when one applies: the message names the fault.
if ! grep -l 'nostd-malloc: double free' "${TEST_TMPDIR:-/tmp}/double_free_24.err" >/dev/null; then
  echo "FAIL: double_free_24 was not reported as a double free:" >&2
  cat "${TEST_TMPDIR:-/tmp}/double_free_24.err" >&2
  exit 1
fi
# A mistyped setting: every variable whose value is not understood is reported on its own line (the first alone was,
# before), and the program runs on with the defaults.
settings=(NOSTD_MALLOC_STATS=yes NOSTD_MALLOC_VALIDATE=2 NOSTD_MALLOC_CHECK=x NOSTD_MALLOC_ARENAS=0)
err="$(env LD_PRELOAD="$lib" "${settings[@]}" "$misuse" --list 2>&1 >/dev/null)" || {
  echo "FAIL: $misuse --list failed under mistyped settings: $err" >&2
  exit 1
}
for setting in "${settings[@]}"; do
  if ! grep -q "^nostd-malloc: ignoring $setting (accepted: " <<<"$err"; then
    echo "FAIL: $setting was not reported; stderr: $err" >&2
    exit 1
  fi
done
# A misspelt name (NOSTD_MALLOC_CHEK) would leave its setting at the default without a word: it is reported too,
# with the names that are read, and the program runs on.
err="$(env LD_PRELOAD="$lib" NOSTD_MALLOC_CHEK=hardened "$misuse" --list 2>&1 >/dev/null)" || {
  echo "FAIL: $misuse --list failed under a misspelt variable: $err" >&2
  exit 1
}
if ! grep -q "^nostd-malloc: ignoring NOSTD_MALLOC_CHEK=hardened (unknown variable; the variables read are " <<<"$err"; then
  echo "FAIL: NOSTD_MALLOC_CHEK was not reported; stderr: $err" >&2
  exit 1
fi
# The trace variable's prefix is NOSTD_ALLOC_, not NOSTD_MALLOC_: a user who writes NOSTD_MALLOC_TRACE is pointed at it.
err="$(env LD_PRELOAD="$lib" NOSTD_MALLOC_TRACE="${TEST_TMPDIR:-/tmp}/t.trace" "$misuse" --list 2>&1 >/dev/null)" || {
  echo "FAIL: $misuse --list failed under NOSTD_MALLOC_TRACE: $err" >&2
  exit 1
}
if ! grep -q "^nostd-malloc: ignoring NOSTD_MALLOC_TRACE=.* and NOSTD_ALLOC_TRACE to record a trace)$" <<<"$err"; then
  echo "FAIL: NOSTD_MALLOC_TRACE's line should name NOSTD_ALLOC_TRACE; stderr: $err" >&2
  exit 1
fi
echo PASS
