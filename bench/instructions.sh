#!/usr/bin/env bash
# bench/instructions.sh — instructions per allocate and per free, counted by Valgrind's callgrind, for each
# allocator of bench/op_count.cc on a workload's trace (1/DIVISOR of its churn steps, or of c's LIFO calls). Load
# does not move these figures, so they compare heap variants on a shared machine where wall-clock figures cannot.
#
#   ./bazelw run //bench:instructions -- [WORKLOAD [DIVISOR [ALLOCATOR...]]]   (defaults: a 10, the seven uncached rows; name others, e.g. seg/compact+cache8k)
#
# Two callgrind runs per allocator (one counting inside allocate calls, one inside free calls); a few seconds each for
# workload a at divisor 10.
set -euo pipefail
op_count="$1"
shift
usage="usage: instructions [WORKLOAD [DIVISOR [ALLOCATOR...]]]: instructions per allocate and per free under callgrind
  WORKLOAD   a, b, c or e (default a)
  DIVISOR    replay 1/DIVISOR of the workload's churn steps (c: LIFO calls), a whole number from 1 (default 10)
  ALLOCATOR  op_count's rows (default: the seven uncached rows); op_count knows:"
if [[ "${1:-}" == --help || "${1:-}" == -h ]]; then
  echo "$usage $("$op_count" --help | sed -n 's/^allocators: //p')"
  exit 0
fi
# Defaults for arguments not given; an empty one is refused below, not read as the default.
workload="${1-a}"
divisor="${2-10}"
shift $(($# > 2 ? 2 : $#))
allocators=("$@")
# Checked before the table starts, as is the divisor's upper bound (the workload's steps, which op_count knows).
[[ "$workload" =~ ^[abce]$ ]] || { echo "instructions: workload $workload: not a, b, c or e (see --help)" >&2; exit 2; }
[[ "$divisor" =~ ^[1-9][0-9]{0,8}$ ]] ||
  { echo "instructions: divisor $divisor: not a whole number from 1 (see --help)" >&2; exit 2; }
if [ ${#allocators[@]} -eq 0 ]; then
  allocators=(seg/compact/nochecks seg/compact seg/full/nochecks seg/full first/compact/nochecks first/compact glibc)
fi

count() {  # count ALLOCATOR FUNCTION -> instructions collected inside FUNCTION, then the op_count line
  local log
  log=$(mktemp)
  if ! valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="*$2*" \
    "$op_count" "$1" "$workload" "$divisor" 2>"$log" >"$log.out"; then
    # op_count refuses an unknown allocator or workload with its usage; show that, not a parse error here.
    echo "instructions: op_count $1 $workload $divisor failed:" >&2
    grep -v '^==' "$log" >&2 || true
    rm -f "$log" "$log.out"
    return 1
  fi
  grep -o 'Collected : [0-9]*' "$log" | grep -o '[0-9]*$'
  cat "$log.out"
  rm -f "$log" "$log.out"
}

# Refuse an unknown allocator before the table starts (op_count --help lists the names it knows).
read -r -a known <<<"$("$op_count" --help | sed -n 's/^allocators: //p')"
for a in "${allocators[@]}"; do
  [[ " ${known[*]} " == *" $a "* ]] ||
    { echo "instructions: unknown allocator $a; op_count knows: ${known[*]}" >&2; exit 2; }
done
# A divisor above the workload's steps (which op_count knows) too: one untimed replay outside callgrind, which had
# refused it only once the table's heading was out.
"$op_count" glibc "$workload" "$divisor" >/dev/null || exit 2
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

steps="churn steps"
[ "$workload" = c ] && steps="LIFO calls"
echo "workload $workload, 1/$divisor of its $steps; instructions per call (callgrind, valgrind $(valgrind --version | sed 's/valgrind-//'))"
echo
echo "| allocator | allocate | free | allocate + free |"
echo "| --- | --: | --: | --: |"
for a in "${allocators[@]}"; do
  alloc_text=$(count "$a" counted_allocate) || exit 2
  free_text=$(count "$a" counted_free) || exit 2
  mapfile -t alloc_out <<<"$alloc_text"
  mapfile -t free_out <<<"$free_text"
  allocs=$(echo "${alloc_out[1]}" | sed 's/.*allocations=\([0-9]*\).*/\1/')
  frees=$(echo "${alloc_out[1]}" | sed 's/.*frees=\([0-9]*\).*/\1/')
  awk -v a="$a" -v ia="${alloc_out[0]}" -v if_="${free_out[0]}" -v na="$allocs" -v nf="$frees" \
    'BEGIN { printf "| %s | %.1f | %.1f | %.1f |\n", a, ia / na, if_ / nf, ia / na + if_ / nf }'
done
