#!/usr/bin/env bash
# Test of bench/chart.sh's argument handling, with a stand-in benchmark and a stand-in gnuplot (so that it needs no
# package and no timing): a rule's --default=--name=value reaches the benchmark unless the caller passes --name=...
# itself (fit_compare's --policies= counting as --allocators=), the caller's other options pass through, --out= is
# where the tables and chart go (a quote in it included), a rule without defaults (//bench:scaling_chart) passes the
# caller's options alone, and a benchmark or gnuplot that fails, a gnuplot that writes half an image and exits 0, no
# room to write and a ^C while a temporary is made leave the earlier tables and chart as they were, with no temporary
# behind; a linked chart stays a link; an empty --out= and a directory that cannot be written are refused.
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
# The stand-in gnuplot keeps the expression it was given with -e and writes the outfile it names (a gnuplot string
# literal: a quote in it doubled) as a PNG's signature and its closing IEND chunk; with FAIL_GNUPLOT set it fails
# instead, and with HALF_PNG set it writes the signature alone and exits 0, as gnuplot does when the disk fills.
cat >"$work/bin/gnuplot" <<SH
#!/usr/bin/env bash
printf '%s\n' "\$2" >"$work/gnuplot_e"
[[ -z "\${FAIL_GNUPLOT:-}" ]] || exit 1
outfile="\$(printf '%s\n' "\$2" | sed -n "s/.*outfile='\\(\\([^']\\|''\\)*\\)'; machine=.*/\\1/p" | sed "s/''/'/g")"
printf '\\x89PNG\\r\\n\\x1a\\n' >"\$outfile"
[[ -n "\${HALF_PNG:-}" ]] || printf '\\0\\0\\0\\0IEND\\xae\\x42\\x60\\x82' >>"\$outfile"
SH
# The stand-in mktemp (on PATH for run_chart with MKTEMP_INTERRUPTED set) makes its file and then interrupts its
# process group before it prints the name, as a ^C does to every process in the foreground.
real_mktemp="$(command -v mktemp)"
mkdir -p "$work/interrupting"
cat >"$work/interrupting/mktemp" <<SH
#!/usr/bin/env bash
name="\$("$real_mktemp" "\$@")" || exit 1
[[ "\$name" != *.part ]] || kill -INT 0
printf '%s\n' "\$name"
SH
chmod +x "$work/bench/fake_bench" "$work/bin/gnuplot" "$work/interrupting/mktemp"
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
# benchmark refused its option: --update-docs with a typo emptied docs/fit_compare.md), and no temporary behind.
# run_chart CHART_ARGS... : chart.sh in $work, where no file may grow if NO_ROOM is set (ulimit -f 0); with
# MKTEMP_INTERRUPTED set, in a process group of its own with the interrupting mktemp.
run_chart() {
  (
    cd "$work"
    export PATH="$work/bin:$PATH" BUILD_WORKSPACE_DIRECTORY="$work"
    if [[ -n "${NO_ROOM:-}" ]]; then
      ulimit -f 0
      trap '' XFSZ
    fi
    if [[ -n "${MKTEMP_INTERRUPTED:-}" ]]; then
      export PATH="$work/interrupting:$PATH"
      exec setsid -w bash "$chart" fake_bench x.gp stem "$@"
    fi
    exec bash "$chart" fake_bench x.gp stem "$@"
  )
}
kept() {  # kept NAME CHART_ARGS... : chart.sh must fail and leave $work/kept/stem.{md,png} as they were
  local name="$1"
  shift
  rm -rf "$work/kept"
  mkdir -p "$work/kept"
  echo "old tables" >"$work/kept/stem.md"
  echo "old chart" >"$work/kept/stem.png"
  if run_chart --out=kept "$@" >/dev/null 2>"$work/err"; then
    echo "FAIL: $name: chart.sh succeeded"
    failures=$((failures + 1))
  fi
  if [[ "$(cat "$work/kept/stem.md")" != "old tables" || "$(cat "$work/kept/stem.png")" != "old chart" ]]; then
    echo "FAIL: $name: the earlier stem.md or stem.png was overwritten"
    failures=$((failures + 1))
  fi
  if [[ "$(ls "$work/kept")" != "$(printf 'stem.md\nstem.png')" ]]; then
    echo "FAIL: $name: left $(ls "$work/kept" | tr '\n' ' ')"
    failures=$((failures + 1))
  fi
}
kept "a benchmark that refuses an option" --fail
FAIL_GNUPLOT=1 kept "a gnuplot that fails"
# gnuplot exits 0 after writing part of an image when the disk fills: the chart counts only if it ends with IEND (the
# truncated image had been moved over the earlier chart, and the tables beside it).
HALF_PNG=1 kept "a gnuplot that writes half an image"
grep -qxF "chart: gnuplot did not write a whole image (a full disk?); $work/kept/stem.md and $work/kept/stem.png are \
left as they were" "$work/err" || { echo "FAIL: half an image: $(cat "$work/err")"; failures=$((failures + 1)); }
NO_ROOM=1 kept "no room to write (ulimit -f 0)"
# A ^C while mktemp makes a temporary: the file had been left behind, made before its name was known to the exit
# trap (mktemp died of the signal, or the trap ran before the name was recorded).
MKTEMP_INTERRUPTED=1 kept "a ^C while a temporary is made"

# An empty --out= is refused with one line and exit 2, before the benchmark runs: it had named the workspace's top
# directory, where stem.md and stem.png were written.
rm -f "$work/stem.md" "$work/stem.png"
status=0
run_chart --out= --quick >/dev/null 2>"$work/err" || status=$?
[[ "$status" == 2 && "$(cat "$work/err")" == "chart: --out=: not a directory name (--out=DIR)" ]] ||
  { echo "FAIL: --out=: exit $status, $(cat "$work/err")"; failures=$((failures + 1)); }
[[ ! -e "$work/stem.md" && ! -e "$work/stem.png" ]] ||
  { echo "FAIL: --out=: wrote into the workspace: $(ls "$work")"; failures=$((failures + 1)); }

# A directory that cannot take the files is refused with one line and exit 1 before the benchmark and gnuplot run,
# not after minutes of measuring. sysfs refuses a new file even to root, which this test may run as (where a
# directory's mode would refuse nothing).
rm -f "$work/gnuplot_e"
status=0
run_chart --out=/sys --quick >/dev/null 2>"$work/err" || status=$?
[[ "$status" == 1 && "$(cat "$work/err")" == "chart: cannot write /sys/stem.md: Permission denied" ]] ||
  { echo "FAIL: --out=/sys: exit $status, $(cat "$work/err")"; failures=$((failures + 1)); }
[[ ! -e "$work/gnuplot_e" ]] || { echo "FAIL: --out=/sys: gnuplot ran"; failures=$((failures + 1)); }

# The files are replaced whole by a rename next to them: a symbolic link to the chart stays a link, and the file it
# names gets the new chart (the link had been replaced by a file); the tables keep their mode.
rm -rf "$work/linked" "$work/real.png"
mkdir -p "$work/linked"
echo "old chart" >"$work/real.png"
ln -s ../real.png "$work/linked/stem.png"
echo "old tables" >"$work/linked/stem.md"
chmod 0640 "$work/linked/stem.md"
run_chart --out=linked --quick >/dev/null 2>"$work/err" ||
  { echo "FAIL: a linked chart: chart.sh failed: $(cat "$work/err")"; failures=$((failures + 1)); }
[[ -L "$work/linked/stem.png" && "$(head -c 4 "$work/real.png" | tail -c 3)" == PNG ]] ||
  { echo "FAIL: a linked chart: the link was replaced or its file not written"; failures=$((failures + 1)); }
[[ "$(stat -c %a "$work/linked/stem.md")" == 640 && "$(cat "$work/linked/stem.md")" == --quick ]] ||
  { echo "FAIL: the tables: mode $(stat -c %a "$work/linked/stem.md"), $(cat "$work/linked/stem.md")"; failures=$((failures + 1)); }
[[ "$(ls "$work/linked")" == "$(printf 'stem.md\nstem.png')" ]] ||
  { echo "FAIL: a linked chart: left $(ls "$work/linked" | tr '\n' ' ')"; failures=$((failures + 1)); }
exit $((failures > 0))
