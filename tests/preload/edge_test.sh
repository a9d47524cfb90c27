#!/usr/bin/env bash
# tests/preload/edge_test.sh LIB PROGRAM README — the drop-in answers bad and edge-case input as glibc does. PROGRAM
# (tests/preload/edge_program.cc) prints one line per case, `call: result` (NULL or a block, errno, posix_memalign's
# return, alignment, usable size, contents zeroed or kept); it runs once with glibc and then under LD_PRELOAD at each
# check level (none, basic, hardened) and at basic while a trace is recorded (the observed path of every call). Every
# line must equal glibc's, but for the documented differences below: for each, the drop-in's answer must be the one
# given, and README must say so in the words given (its text with the line breaks read as spaces).
set -euo pipefail

lib="$(realpath "$1")"
program="$2"
readme="$3"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/edge.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

page="$(getconf PAGESIZE)"
readme_text="$(tr '\n' ' ' <"$readme")"

# Documented differences: case | the drop-in's answer | README's words for it.
documented=(
  "pvalloc(0), a page usable|block errno=kept aligned=$page usable=yes|\`pvalloc(0)\` is one page; glibc 2.36 gives a minimum block"
  "aligned_alloc(0, 16)|null errno=EINVAL|\`NULL\` and \`EINVAL\` for any other alignment, as C17 allows and glibc does from 2.38"
  "aligned_alloc(3, 64)|null errno=EINVAL|\`NULL\` and \`EINVAL\` for any other alignment, as C17 allows and glibc does from 2.38"
  "aligned_alloc(24, 48)|null errno=EINVAL|\`NULL\` and \`EINVAL\` for any other alignment, as C17 allows and glibc does from 2.38"
)
# posix_memalign's failures: the drop-in leaves errno alone where glibc sets it to ENOMEM as well.
posix_memalign_words="glibc 2.36's sets \`errno\` to \`ENOMEM\` as well when it fails"

for entry in "${documented[@]}"; do
  words="${entry##*|}"
  [[ "$readme_text" == *"$words"* ]] || fail "README does not document this difference: $words"
done
[[ "$readme_text" == *"$posix_memalign_words"* ]] || fail "README does not document: $posix_memalign_words"

# documented_answer CASE: the drop-in's documented answer for CASE, empty when it must match glibc's.
documented_answer() {
  local entry
  for entry in "${documented[@]}"; do
    if [[ "${entry%%|*}" == "$1" ]]; then
      entry="${entry#*|}"
      echo "${entry%%|*}"
      return
    fi
  done
}

"$program" >"$work/glibc.out" 2>"$work/glibc.err" || fail "glibc: edge_program failed ($(cat "$work/glibc.err"))"
[[ "$(tail -n 1 "$work/glibc.out")" == end ]] || fail "glibc: edge_program stopped before its end"
grep -q '^nostd-malloc:' "$work/glibc.err" && fail "the glibc run was the drop-in's"
cases="$(wc -l <"$work/glibc.out")"
((cases > 100)) || fail "only $cases lines from glibc's run"

# compare NAME OUT: every line of OUT against glibc's.
compare() {
  local name="$1" out="$2" bad=0 i=0 ours theirs call expected
  [[ "$(wc -l <"$out")" == "$cases" ]] || fail "$name: $(wc -l <"$out") lines, glibc's run $cases"
  while IFS= read -r ours <&3 && IFS= read -r theirs <&4; do
    i=$((i + 1))
    call="${theirs%%: *}"
    [[ "${ours%%: *}" == "$call" ]] || fail "$name: line $i is '$ours' where glibc's run has '$theirs'"
    [[ "$ours" == "$theirs" ]] && continue
    expected="$(documented_answer "$call")"
    if [[ -n "$expected" && "$ours" == "$call: $expected" ]]; then
      continue
    fi
    if [[ "$call" == posix_memalign* && "$ours" == "${theirs/errno=ENOMEM/errno=kept}" ]]; then
      continue
    fi
    echo "$name differs from glibc: $call" >&2
    echo "  glibc:   ${theirs#*: }" >&2
    echo "  drop-in: ${ours#*: }" >&2
    [[ -n "$expected" ]] && echo "  (documented: $expected)" >&2
    bad=$((bad + 1))
  done 3<"$out" 4<"$work/glibc.out"
  ((bad == 0)) || fail "$name: $bad of $cases lines differ from glibc's without a documented reason"
}

for level in none basic hardened recording; do
  check="$level"
  trace=()
  if [[ "$level" == recording ]]; then
    check=basic
    trace=(NOSTD_ALLOC_TRACE="$work/edge.trace")
  fi
  env LD_PRELOAD="$lib" NOSTD_MALLOC_CHECK="$check" NOSTD_MALLOC_VALIDATE=1 NOSTD_MALLOC_STATS=1 "${trace[@]}" \
    "$program" >"$work/$level.out" 2>"$work/$level.err" ||
    fail "$level: edge_program failed under the drop-in (stderr: $(cat "$work/$level.err"))"
  grep -q '^nostd-malloc: validate ok' "$work/$level.err" || fail "$level: no 'validate ok': $(cat "$work/$level.err")"
  grep -q "^nostd-malloc: check=$check " "$work/$level.err" ||
    fail "$level: no statistics line of check=$check: $(cat "$work/$level.err")"
  if [[ "$level" == recording ]]; then
    [[ -s "$work/edge.trace" ]] || fail "recording: no trace written ($(cat "$work/$level.err"))"
  fi
  compare "$level" "$work/$level.out"
done
echo "PASS: $cases edge cases answered as glibc does at none, basic, hardened and while recording, but for the" \
  "documented differences"
