#!/usr/bin/env bash
# tests/preload/preload_test.sh LIB PROGRAM [MIN_ALLOCATIONS [CHECK_LEVEL]] — runs a real program twice, once with glibc's
# malloc and once with LD_PRELOAD=LIB (the drop-in, with statistics and validate() at exit), and checks that
#   - both runs succeed and print exactly the same output;
#   - our allocator really ran: every process of the preloaded run prints "nostd-malloc: validate ok" and a
#     statistics line, and together they count at least MIN_ALLOCATIONS allocations; every program but git's script
#     is one process, so one line;
#   - nothing reported a fault.
# PROGRAM is python3, sqlite3, git, or a path to a binary of ours (run without arguments).
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
min_allocations="${3:-1000}"
level="${4:-basic}"
here="$(dirname "$0")"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/preload.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The real interpreter, not a wrapper script (pyenv's shim is a bash script that would run first).
if [[ "$program" == python3 ]] && command -v python3 >/dev/null; then
  python="$(python3 -c 'import sys; print(sys.executable)')"
fi
for tool in python3 sqlite3 git; do
  if [[ "$program" == "$tool" ]] && ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool is not installed (./bazelw installs it: run the tests through ./bazelw)" >&2
    exit 1
  fi
done

# scenario LABEL: runs the program in the directory $work/LABEL, output to $work/LABEL.out. The directories are made
# here, not in scenario: under LD_PRELOAD that mkdir was a process of the preloaded run, counted with the program's
# (python3 read as 2 processes).
mkdir -p "$work/glibc" "$work/nostd"
scenario() {
  local dir="$work/$1"
  case "$program" in
    python3) PYTHONMALLOC=malloc "$python" "$here/python_work.py" ;;
    sqlite3) sqlite3 "$dir/test.db" <"$here/sqlite_work.sql" ;;
    git) bash "$here/git_work.sh" "$dir" ;;
    *) "$program" ;;
  esac >"$work/$1.out"
}

scenario glibc 2>"$work/glibc.err" || {
  echo "FAIL: $program failed with glibc's malloc (the test's own setup is broken); its stderr:" >&2
  cat "$work/glibc.err" >&2
  exit 1
}
LD_PRELOAD="$lib" NOSTD_MALLOC_STATS=1 NOSTD_MALLOC_VALIDATE=1 NOSTD_MALLOC_CHECK="$level" \
  scenario nostd 2>"$work/nostd.err" || {
  echo "FAIL: $program failed under the drop-in malloc; its stderr:" >&2
  cat "$work/nostd.err" >&2
  exit 1
}

if ! diff -u "$work/glibc.out" "$work/nostd.out" >&2; then
  echo "FAIL: $program printed something else under the drop-in malloc (diff above: glibc -> nostd)" >&2
  exit 1
fi
if [[ ! -s "$work/glibc.out" ]]; then
  echo "FAIL: $program printed nothing: the comparison would prove nothing" >&2
  exit 1
fi

stats="$(grep "^nostd-malloc: check=$level " "$work/nostd.err" || true)"
validated="$(grep -c '^nostd-malloc: validate ok' "$work/nostd.err" || true)"
if [[ -z "$stats" ]]; then
  echo "FAIL: no statistics line: the drop-in malloc was not used. stderr:" >&2
  cat "$work/nostd.err" >&2
  exit 1
fi
processes="$(wc -l <<<"$stats")"
if [[ "$validated" != "$processes" ]]; then
  echo "FAIL: $processes processes printed statistics but $validated validated their heaps" >&2
  exit 1
fi
# Every program but git's script is one process: a second statistics line is something else that ran preloaded, whose
# allocations would count as the program's.
if [[ "$program" != git && "$processes" != 1 ]]; then
  echo "FAIL: $processes processes printed statistics, where $program is one process; stderr:" >&2
  cat "$work/nostd.err" >&2
  exit 1
fi
allocations="$(sed -n 's/.* allocations=\([0-9]*\) .*/\1/p' <<<"$stats" | awk '{s += $1} END {print s + 0}')"
if ((allocations < min_allocations)); then
  echo "FAIL: only $allocations allocations went through the drop-in malloc (expected >= $min_allocations)" >&2
  exit 1
fi
if grep -v '^nostd-malloc: \(check=\|validate ok\)' "$work/nostd.err" | grep 'nostd-malloc' >&2; then
  echo "FAIL: the drop-in malloc reported a problem (above)" >&2
  exit 1
fi
plural=es
((processes > 1)) || plural=""
echo "PASS: $program: same output ($(wc -l <"$work/nostd.out") lines), $processes process$plural, $allocations allocations"
echo "$stats" | head -n 3
