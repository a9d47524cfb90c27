#!/usr/bin/env bash
# Test of bench/chart.sh's argument handling, with a stand-in benchmark and a stand-in gnuplot (so that it needs no
# package and no timing): a rule's --default=--name=value reaches the benchmark unless the caller passes --name=...
# itself (fit_compare's --policies= counting as --allocators=), the caller's other options pass through, --out= is
# where the tables go (a quote in it reaches gnuplot quoted), and a rule without defaults (//bench:scaling_chart)
# passes the caller's options alone.
set -euo pipefail
chart="$(realpath "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bench" "$work/bin"
# The stand-in benchmark prints its arguments after --plot_data=, one per line, as its "tables".
cat >"$work/bench/fake_bench" <<'SH'
#!/usr/bin/env bash
shift
printf '%s\n' "$@"
SH
# The stand-in gnuplot keeps the expression it was given with -e.
printf '#!/bin/sh\nprintf "%%s\\n" "$2" >"%s/gnuplot_e"\n' "$work" >"$work/bin/gnuplot"
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
expected="outfile='$work/it''s here/stem.png'"
grep -qF "$expected" "$work/gnuplot_e" ||
  { echo "FAIL: gnuplot's outfile is not quoted: $(cat "$work/gnuplot_e")"; failures=$((failures + 1)); }
exit $((failures > 0))
