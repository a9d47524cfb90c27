#!/usr/bin/env bash
# bench/record_cost.sh — //bench:record_cost: what recording (NOSTD_ALLOC_TRACE) costs a program, issue 14's
# target (≤ 1.3x the wall time of the same run without recording).
#
#   ./bazelw run -c opt //bench:record_cost -- [REPS]        (default 5 repetitions)
#
# For python3 (bench/programs/python_workload.py, PYTHONMALLOC=malloc) and sqlite3 (sqlite_workload.sql), under
# the drop-in malloc (libnostd_malloc.so) and under the glibc recording shim (librecord_preload.so): runs without
# the variable and with it, interleaved, medians of wall and CPU time (user + system) and their ratio. The trace is
# written to a temporary directory ("%p": each process its own) and the largest one's size reported; the conversion to ids is
# not part of the recorded run (trace_convert and replay do it when they read the file).
set -euo pipefail

# Its inputs are the BUILD rule's, checked as preload.sh checks its own; REPS is checked before the table starts (it
# had reached the loop unchecked: 10x stopped it with bash's arithmetic error after the heading, abc and 0 ran no
# run and stopped at ls, and an empty one was read as 5).
usage="run it as ./bazelw run -c opt //bench:record_cost -- [REPS]"
(($# >= 4)) || { echo "record_cost: expected the two libraries and the workloads; $usage" >&2; exit 2; }
for input in "${@:1:4}"; do
  [[ -f "$input" ]] || { echo "record_cost: $input: no such file; $usage" >&2; exit 2; }
done
reps="${5-5}"
[[ "$reps" =~ ^[1-9][0-9]{0,3}$ ]] ||
  { echo "record_cost: REPS must be a whole number from 1 to 9999, not '$reps'" >&2; exit 2; }
dropin="$(realpath "$1")"
shim="$(realpath "$2")"
python_work="$(realpath "$3")"
sqlite_work="$(realpath "$4")"
python="$(python3 -c 'import sys; print(sys.executable)')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# timed LABEL LIB TRACE_OR_EMPTY PROGRAM: appends "wall cpu" of one run of PROGRAM to $work/LABEL; only the
# program itself runs under LIB (not the timing tool), its output and the recorder's message are discarded.
timed() {
  local label="$1" lib="$2" trace="$3" program="$4"
  local vars=("LD_PRELOAD=$lib")
  [[ -n "$trace" ]] && vars+=("NOSTD_ALLOC_TRACE=$trace")
  case "$program" in
    python3) /usr/bin/time -f '%e %U %S' -o "$work/time" env "${vars[@]}" PYTHONMALLOC=malloc "$python" "$python_work" ;;
    sqlite3) /usr/bin/time -f '%e %U %S' -o "$work/time" env "${vars[@]}" sqlite3 :memory: <"$sqlite_work" ;;
  esac >/dev/null 2>&1
  awk '{print $1, $2 + $3}' "$work/time" >>"$work/$label"
}

echo "recording cost: $reps interleaved runs each; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| program | under | wall s off | wall s recording | wall ratio | CPU s off | CPU s recording | CPU ratio | trace MB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for program in python3 sqlite3; do
  for under in drop-in shim; do
    lib="$dropin"
    [[ "$under" == shim ]] && lib="$shim"
    for ((i = 0; i < reps; i++)); do
      rm -rf "$work/traces" && mkdir "$work/traces"
      timed "$program.$under.off" "$lib" "" "$program"
      timed "$program.$under.on" "$lib" "$work/traces/t.%p" "$program"
    done
    mb="$(ls -S "$work"/traces/t.* | head -1 | xargs stat -c %s | awk '{printf "%.1f", $1 / 1e6}')"  # the largest: the program's own
    ow="$(cut -d' ' -f1 "$work/$program.$under.off" | median)"
    rw="$(cut -d' ' -f1 "$work/$program.$under.on" | median)"
    oc="$(cut -d' ' -f2 "$work/$program.$under.off" | median)"
    rc="$(cut -d' ' -f2 "$work/$program.$under.on" | median)"
    awk -v p="$program" -v u="$under" -v ow="$ow" -v rw="$rw" -v oc="$oc" -v rc="$rc" -v mb="$mb" \
      'BEGIN {printf "| %s | %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx | %s |\n", p, u, ow, rw, rw / ow, oc, rc, rc / oc, mb}'
  done
done
