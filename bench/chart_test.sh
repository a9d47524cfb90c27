#!/usr/bin/env bash
# Test of bench/chart.sh's argument handling, with a stand-in benchmark and a stand-in gnuplot (so that it needs no
# package and no timing): a rule's --default=--name=value reaches the benchmark unless the caller passes --name=...
# itself (fit_compare's --policies= counting as --allocators=), the caller's other options pass through, --out= is
# where the tables and chart go (a quote in it included), a rule without defaults (//bench:scaling_chart) passes the
# caller's options alone, and a benchmark or gnuplot that fails leaves the earlier tables and chart as they were.
set -euo pipefail
chart="$(realpath "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bench" "$work/bin"
# The stand-in benchmark prints its arguments after --plot_data=, one per line, as its "tables"; --fail makes it
# print them and exit 2, as a benchmark refusing an option does.
cat >"$work/bench/fake_bench" <<'SH'
#!/usr/bin/env bash
shift
printf '%s\n' "$@"
for a in "$@"; do [[ "$a" != --fail ]] || exit 2; done
SH
# The stand-in gnuplot keeps the expression it was given with -e and writes the outfile it names (a path of
# chart.sh's own, with no quote in it); with FAIL_GNUPLOT set it fails instead.
cat >"$work/bin/gnuplot" <<SH
#!/usr/bin/env bash
printf '%s\n' "\$2" >"$work/gnuplot_e"
[[ -z "\${FAIL_GNUPLOT:-}" ]] || exit 1
outfile="\$(printf '%s\n' "\$2" | sed -n "s/.*outfile='\\([^']*\\)'.*/\\1/p")"
echo png >"\$outfile"
SH
chmod +x "$work/bench/fake_bench" "$work/bin/gnuplot"
failures=0
check() {  # check NAME EXPECTED_LINES CHART_ARGS... : the benchmark must receive exactly EXPECTED_LINES
  local name="$1" expected="$2"
  shift 2
  local out="${out_dir:-$work/out}"
  rm -rf "$out"
  if ! (cd "$work" && PATH="$work/bin:$PATH" BUILD_WORKSPACE_DIRECTORY="$work" \
    bash "$chart" fake_bench x.gp stem "$@" >/dev/null 2>"$work/err"); then
    echo "FAIL: $name: chart.sh failed: $(cat "$work/err")"
    failures=$((failures + 1))
    return
  fi
  [[ -f "$out/stem.png" ]] || { echo "FAIL: $name: no $out/stem.png"; failures=$((failures + 1)); }
  local got
  got="$(cat "$out/stem.md" 2>/dev/null)" || got="(no $out/stem.md)"
  if [[ "$got" != "$expected" ]]; then
    echo "FAIL: $name: the benchmark got [${got//$'\n'/ }], expected [${expected//$'\n'/ }]"
    failures=$((failures + 1))
  fi
}
rule=(--default=--allocators==a,=b)
check "the default alone" "--allocators==a,=b" "${rule[@]}"
check "the default before the caller's other options" $'--allocators==a,=b\n--quick\n--workloads=e' \
  "${rule[@]}" --quick --workloads=e
check "the caller's --allocators= replaces the default" $'--workloads=e\n--allocators==c' \
  "${rule[@]}" --workloads=e --allocators==c
check "the caller's --policies= replaces it too" "--policies==c" "${rule[@]}" --policies==c
check "a rule without defaults" "--quick" --quick
out_dir="$work/elsewhere" check "--out= names the directory" "--allocators==a,=b" "${rule[@]}" --out=elsewhere
out_dir="$work/it's here" check "--out= may hold a quote" "--quick" "--out=it's here" --quick

# A --quick run's chart says so in its title (the machine line).
(cd "$work" && PATH="$work/bin:$PATH" BUILD_WORKSPACE_DIRECTORY="$work" bash "$chart" fake_bench x.gp stem --quick \
  >/dev/null 2>&1) || { echo "FAIL: a --quick run failed"; failures=$((failures + 1)); }
grep -q "machine='.*; --quick (reduced run)'" "$work/gnuplot_e" ||
  { echo "FAIL: a --quick chart's title does not say so: $(cat "$work/gnuplot_e")"; failures=$((failures + 1)); }

# A run that fails leaves the directory's earlier tables and chart alone (they had been emptied by tee before the
# benchmark refused its option: --update-docs with a typo emptied docs/fit_compare.md).
kept() {  # kept NAME CHART_ARGS... : chart.sh must fail and leave $work/kept/stem.{md,png} as they were
  local name="$1"
  shift
  mkdir -p "$work/kept"
  echo "old tables" >"$work/kept/stem.md"
  echo "old chart" >"$work/kept/stem.png"
  if (cd "$work" && PATH="$work/bin:$PATH" BUILD_WORKSPACE_DIRECTORY="$work" \
    bash "$chart" fake_bench x.gp stem --out=kept "$@" >/dev/null 2>&1); then
    echo "FAIL: $name: chart.sh succeeded"
    failures=$((failures + 1))
  fi
  if [[ "$(cat "$work/kept/stem.md")" != "old tables" || "$(cat "$work/kept/stem.png")" != "old chart" ]]; then
    echo "FAIL: $name: the earlier stem.md or stem.png was overwritten"
    failures=$((failures + 1))
  fi
}
kept "a benchmark that refuses an option" --fail
FAIL_GNUPLOT=1 kept "a gnuplot that fails"
exit $((failures > 0))
