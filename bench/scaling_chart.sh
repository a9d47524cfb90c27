#!/usr/bin/env bash
# bench/scaling_chart.sh — `./bazelw run //bench:scaling_chart [-- [--update-docs | --out=DIR] [--quick]]`: runs the
# scaling benchmark once, keeps its tables in scaling.md and draws scaling.png with gnuplot (Debian's gnuplot-nox).
# Where they go, as for //bench:chart: out/ by default (ignored by git); --out=DIR; --update-docs writes docs/, the
# figures the README shows.
set -euo pipefail

workspace="${BUILD_WORKSPACE_DIRECTORY:-$PWD}"
out_dir="$workspace/out"
while (($#)); do
  case "$1" in
    --update-docs) out_dir="$workspace/docs" ;;
    --out=*)
      out_dir="${1#--out=}"
      [[ "$out_dir" == /* ]] || out_dir="$workspace/$out_dir" ;;
    *) break ;;
  esac
  shift
done
mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! command -v gnuplot >/dev/null; then
  echo "scaling_chart: gnuplot not found (apt-get install gnuplot-nox, or run through ./bazelw)" >&2
  exit 1
fi

bench/scaling_bench --plot_data="$tmp/scaling.dat" "$@" | tee "$out_dir/scaling.md"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
machine="${cpu}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
gnuplot -e "datafile='$tmp/scaling.dat'; outfile='$out_dir/scaling.png'; machine='$machine'" bench/scaling_chart.gp
echo "scaling_chart: wrote $out_dir/scaling.png and $out_dir/scaling.md" >&2
