#!/usr/bin/env bash
# bench/fork_latency.sh — //bench:fork_latency: the time of one fork() while threads allocate, under glibc's malloc
# and under the drop-in (LD_PRELOAD), rounds interleaved (glibc, nostd, glibc, ...) so that both see the same load.
#
#   ./bazelw run -c opt //bench:fork_latency -- [THREADS [FORKS [ROUNDS]]]   (defaults: 3 threads, 200 forks, 3 rounds)
#
# Each round runs //bench:fork_bench once per malloc: THREADS threads in malloc/free loops, FORKS timed fork() +
# waitpid() of a child that only _exit(0)s; one line per run with the median, p90 and max milliseconds per fork.
# The drop-in runs with its default arena count (8) unless NOSTD_MALLOC_ARENAS is set. BASELINE_LIB=path adds a third
# malloc to each round, under the label "baseline": another build of the drop-in (an older commit's), measured in the
# same session.
set -euo pipefail
# Run from the runfiles tree (./bazelw run), as the arguments' paths are.
# shellcheck source=bench/preloadable.sh
source bench/preloadable.sh

usage="run it as ./bazelw run -c opt //bench:fork_latency -- [THREADS [FORKS [ROUNDS]]]"
(($# >= 2)) || { echo "fork_latency: expected the library and fork_bench; $usage" >&2; exit 2; }
for input in "${@:1:2}"; do
  [[ -f "$input" ]] || { echo "fork_latency: $input: no such file; $usage" >&2; exit 2; }
done
lib="$(realpath "$1")"
bench="$(realpath "$2")"
# Defaults for arguments not given; an empty one is refused, not read as the default.
threads="${3-3}"
forks="${4-200}"
rounds="${5-3}"
[[ "$rounds" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "fork_latency: ROUNDS must be a whole number from 1 to 999, not '$rounds'" >&2; exit 2; }
# FORKS in fork_bench's range, checked here: fork_bench had refused it only in the first timed run, after the heading.
[[ "$forks" =~ ^[1-9][0-9]{0,5}$ || "$forks" == 1000000 ]] ||
  { echo "fork_latency: FORKS must be a whole number from 1 to 1000000, not '$forks'" >&2; exit 2; }
# fork_bench checks THREADS itself (exit 2 with its usage).
"$bench" "$threads" 1 >/dev/null
libs=(glibc "" nostd "$lib")
if [[ -n "${BASELINE_LIB:-}" ]]; then
  [[ -f "$BASELINE_LIB" ]] || { echo "fork_latency: BASELINE_LIB=$BASELINE_LIB: no such file" >&2; exit 2; }
  libs+=(baseline "$(realpath "$BASELINE_LIB")")
fi
for ((i = 1; i < ${#libs[@]}; i += 2)); do
  [[ -z "${libs[i]}" ]] || expect_preloadable fork_latency "${libs[i]}"
done

echo "fork latency: $threads threads in malloc/free loops, $forks forks per run, $rounds rounds ($(nproc) cores)"
for ((round = 1; round <= rounds; ++round)); do
  for ((i = 0; i < ${#libs[@]}; i += 2)); do
    printf '%-8s round %d: ' "${libs[i]}" "$round"
    if [[ -z "${libs[i + 1]}" ]]; then
      "$bench" "$threads" "$forks"
    else
      LD_PRELOAD="${libs[i + 1]}" "$bench" "$threads" "$forks"
    fi
  done
done
