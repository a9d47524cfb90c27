#!/usr/bin/env bash
# tests/preload/stats_line_test.sh LIB README — the README names every figure of the drop-in's statistics line
# (NOSTD_MALLOC_STATS=1): each `key=` the line prints must appear, as `key=` in backquotes, in README.md's
# description of that variable, so that a figure added to the line cannot go unexplained (`peak_bytes_sum=` and
# `partial_chunks=` had been printed with no word on what they count).
set -euo pipefail

lib="$(realpath "$1")"
readme="$2"
err="$(mktemp "${TEST_TMPDIR:-/tmp}/stats_line.XXXXXX")"
trap 'rm -f "$err"' EXIT

# `ls` allocates (a program that never calls malloc reads no variable and prints no line).
LD_PRELOAD="$lib" NOSTD_MALLOC_STATS=1 ls -d / >/dev/null 2>"$err"
line="$(grep '^nostd-malloc: check=' "$err" || true)"
if [[ -z "$line" ]]; then
  echo "FAIL: no statistics line on stderr; it held:" >&2
  cat "$err" >&2
  exit 1
fi
# The README's row for the variable: the table line that starts with it.
row="$(grep -F '| `NOSTD_MALLOC_STATS` |' "$readme" || true)"
[[ -n "$row" ]] || { echo "FAIL: $readme has no table row for NOSTD_MALLOC_STATS" >&2; exit 1; }

keys=($(grep -oE '[a-z_0-9]+=' <<<"${line#nostd-malloc: }"))
# The line has held 19 figures since 2026-12-04; far fewer means the line was not parsed, not that all are named.
((${#keys[@]} >= 15)) || { echo "FAIL: only ${#keys[@]} figures read from: $line" >&2; exit 1; }
missing=0
for key in "${keys[@]}"; do
  if ! grep -qF "\`$key\`" <<<"$row"; then
    echo "FAIL: the statistics line prints $key but README's NOSTD_MALLOC_STATS row does not name \`$key\`" >&2
    missing=$((missing + 1))
  fi
done
((missing == 0)) || exit 1
echo "PASS: README names all ${#keys[@]} figures of: $line"
