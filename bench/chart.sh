#!/usr/bin/env bash
# bench/chart.sh BENCH GNUPLOT_SCRIPT STEM — serves `./bazelw run //bench:chart` (fit_compare) and
# `//bench:scaling_chart` (scaling_bench), whose BUILD rules pass the first three arguments:
# `./bazelw run //bench:chart [-- [--update-docs | --out=DIR] [benchmark options]]` runs the benchmark once, keeps its
# tables in STEM.md and draws STEM.png with gnuplot (Debian's gnuplot-nox, which ./bazelw installs for these targets).
#
# Where they go: out/ in the workspace by default (ignored by git, so following the README leaves `git status`
# clean); --out=DIR anywhere else; --update-docs writes docs/, the figures the README shows and git tracks (for
# refreshing them on purpose, with the README's text to match). A rule's arguments may also hold
# --default=--name=value, an option for the benchmark that the caller's own --name=... replaces (//bench:chart's row
# selection; fit_compare's --policies= counts as --allocators=).
set -euo pipefail

bench="$1" script="$2" stem="$3"
shift 3
workspace="${BUILD_WORKSPACE_DIRECTORY:-$PWD}"
out_dir="$workspace/out"
defaults=()
while (($#)); do
  case "$1" in
    --update-docs) out_dir="$workspace/docs" ;;
    --out=*)
      out_dir="${1#--out=}"
      [[ "$out_dir" == /* ]] || out_dir="$workspace/$out_dir" ;;
    --default=*) defaults+=("${1#--default=}") ;;
    *) break ;;
  esac
  shift
done
# A BUILD rule's --default=--name=value (fit_compare's chart: the README's rows, since 31 bars per workload cannot be
# told apart) goes to the benchmark unless the caller passes --name= itself.
for d in ${defaults[@]+"${defaults[@]}"}; do
  name="${d%%=*}"
  given=0
  for a in "$@"; do
    a_name="${a%%=*}"
    [[ "$a_name" == --policies ]] && a_name=--allocators  # fit_compare's other name for it
    [[ "$a" == *=* && "$a_name" == "$name" ]] && given=1
  done
  ((given)) || set -- "$d" "$@"
done
mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! command -v gnuplot >/dev/null; then
  echo "chart: gnuplot not found (apt-get install gnuplot-nox, or run through ./bazelw)" >&2
  exit 1
fi

# Runfiles: `bazel run` starts us in the runfiles tree of the workspace. The tables and chart are written to $tmp first
# and moved into place only when the benchmark and gnuplot have both succeeded: a refused option or a failed run
# leaves the earlier STEM.md and STEM.png (docs/'s tracked ones too) as they were.
bench/"$bench" --plot_data="$tmp/$stem.dat" "$@" | tee "$tmp/$stem.md"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
machine="${cpu}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
# A --quick run's figures come from a tenth of the steps (fit_compare) or rounds (scaling_bench): the title says so,
# as the tables do.
for a in "$@"; do
  [[ "$a" != --quick ]] || machine="$machine; --quick (reduced run)"
done
# A gnuplot string literal: single-quoted, a quote doubled (the machine line and $TMPDIR's path could hold one).
gnuplot_quote() {
  local q="'"
  printf "'%s'" "${1//$q/$q$q}"
}
gnuplot -e "datafile=$(gnuplot_quote "$tmp/$stem.dat"); outfile=$(gnuplot_quote "$tmp/$stem.png"); \
machine=$(gnuplot_quote "$machine")" "bench/$script"
mv -f "$tmp/$stem.md" "$out_dir/$stem.md"
mv -f "$tmp/$stem.png" "$out_dir/$stem.png"
echo "chart: wrote $out_dir/$stem.png and $out_dir/$stem.md" >&2
