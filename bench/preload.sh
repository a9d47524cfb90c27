#!/usr/bin/env bash
# bench/preload.sh — //bench:preload: the drop-in malloc against glibc's on real programs, and threaded churn.
#
#   ./bazelw run //bench:preload -- [REPS]        (default 5 repetitions)
#
# Part 1: wall time, CPU time (user + system) and peak resident set of python3 (PYTHONMALLOC=malloc), sqlite3, git
# and our multithreaded C++ program — the workloads of //tests/preload — with glibc and with LD_PRELOAD of the
# drop-in, runs interleaved (glibc, nostd, glibc, ...) so that both see the same machine load; medians and their
# ratio. The C++ program runs twice: as the tests run it (4 threads for 40 rounds) and as 8 waves of 4 new threads
# for 10 rounds each (`mt_program waves`: an arena whose threads ended serves the next wave). Peak RSS is the
# largest process's (git's: of its many short ones).
# Part 2: churn_bench with 1 and 2 threads under both, interleaved: throughput (Mops/s, wall) and 2-thread
# scaling. CPU time is the steadier figure on a shared machine: wall time includes waiting for a core.
set -euo pipefail
# Run from the runfiles tree (./bazelw run), as the arguments' paths are.
# shellcheck source=bench/preloadable.sh
source bench/preloadable.sh

# Its inputs are the BUILD rule's: a wrong path would otherwise measure glibc against itself (the loader only warns
# when LD_PRELOAD names a missing library) or print empty rows.
usage="run it as ./bazelw run -c opt //bench:preload -- [REPS]"
(($# >= 6)) || { echo "preload: expected the library, the programs and the workloads; $usage" >&2; exit 2; }
for input in "${@:1:6}"; do
  [[ -f "$input" ]] || { echo "preload: $input: no such file; $usage" >&2; exit 2; }
done
# An empty REPS is refused, not read as the default (5).
[[ "${7-5}" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "preload: REPS must be a whole number from 1 to 9999, not '$7'" >&2; exit 2; }
expect_preloadable preload "$1"

lib="$(realpath "$1")"
mt_program="$(realpath "$2")"
churn="$(realpath "$3")"
python_work="$(realpath "$4")"
sqlite_work="$(realpath "$5")"
git_work="$(realpath "$6")"
reps="${7-5}"
python="$(python3 -c 'import sys; print(sys.executable)')"  # the interpreter, not a pyenv shim
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run_program() {  # NAME: runs one workload in a fresh directory, output discarded
  local dir
  dir="$(mktemp -d "$work/run.XXXXXX")"
  case "$1" in
    python3) PYTHONMALLOC=malloc "$python" "$python_work" ;;
    sqlite3) sqlite3 "$dir/test.db" <"$sqlite_work" ;;
    git) bash "$git_work" "$dir" ;;
    mt_program) "$mt_program" ;;
    "mt_program waves") "$mt_program" 10 8 ;;
  esac >/dev/null
  rm -rf "$dir"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# timed LABEL COMMAND...: appends "wall cpu peak_kib" of one run to $work/LABEL.
timed() {
  local label="$1"
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@"
  awk '{print $1, $2 + $3, $4}' "$work/time" >>"$work/$label"
}

echo "preload benchmark: $reps interleaved runs each; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| program | glibc wall s | nostd wall s | wall ratio | glibc CPU s | nostd CPU s | CPU ratio | glibc peak MiB | nostd peak MiB | peak ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
export -f run_program
export python python_work sqlite_work git_work mt_program work
for program in python3 sqlite3 git mt_program "mt_program waves"; do
  label="${program// /_}"
  for ((i = 0; i < reps; i++)); do
    timed "$label.glibc" bash -c "run_program '$program'"
    timed "$label.nostd" env LD_PRELOAD="$lib" bash -c "run_program '$program'"
  done
  gw="$(cut -d' ' -f1 "$work/$label.glibc" | median)"
  nw="$(cut -d' ' -f1 "$work/$label.nostd" | median)"
  gc="$(cut -d' ' -f2 "$work/$label.glibc" | median)"
  nc="$(cut -d' ' -f2 "$work/$label.nostd" | median)"
  gm="$(cut -d' ' -f3 "$work/$label.glibc" | median)"
  nm="$(cut -d' ' -f3 "$work/$label.nostd" | median)"
  awk -v p="$program" -v gw="$gw" -v nw="$nw" -v gc="$gc" -v nc="$nc" -v gm="$gm" -v nm="$nm" \
    'BEGIN {printf "| %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx | %.1f | %.1f | %.2fx |\n",
            p, gw, nw, nw / gw, gc, nc, nc / gc, gm / 1024, nm / 1024, nm / gm}'
done

echo
echo "| churn_bench | glibc Mops/s | nostd Mops/s | nostd thread-CPU Mops/s |"
echo "|---|---:|---:|---:|"
for threads in 1 2; do
  for ((i = 0; i < reps; i++)); do
    "$churn" "$threads" 1000000 >>"$work/churn.glibc.$threads"
    LD_PRELOAD="$lib" "$churn" "$threads" 1000000 >>"$work/churn.nostd.$threads"
  done
  g="$(sed 's/.* mops=\([0-9.]*\).*/\1/' "$work/churn.glibc.$threads" | median)"
  n="$(sed 's/.* mops=\([0-9.]*\).*/\1/' "$work/churn.nostd.$threads" | median)"
  c="$(sed 's/.* cpu_mops=\([0-9.]*\).*/\1/' "$work/churn.nostd.$threads" | median)"
  echo "| $threads thread(s) | $g | $n | $c |"
  echo "$g $n $c" >"$work/churn.$threads"
done
read -r g1 n1 c1 <"$work/churn.1"
read -r g2 n2 c2 <"$work/churn.2"
awk -v g1="$g1" -v g2="$g2" -v n1="$n1" -v n2="$n2" -v c1="$c1" -v c2="$c2" 'BEGIN {
  printf "\n2-thread scaling (2 threads / 1 thread): glibc %.2fx, nostd %.2fx wall, nostd %.2fx thread-CPU\n",
         g2 / g1, n2 / n1, c2 / c1 }'
