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
      # Empty, it had named the workspace itself: the tables and chart went to its top directory.
      [[ -n "$out_dir" ]] || { echo "chart: --out=: not a directory name (--out=DIR)" >&2; exit 2; }
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
parts=()
# Whatever ends the run (a failure, ^C, a kill) removes the scratch directory and the temporaries next to the targets.
trap 'rm -rf "$tmp"; rm -f ${parts[@]+"${parts[@]}"}' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

if ! command -v gnuplot >/dev/null; then
  echo "chart: gnuplot not found (apt-get install gnuplot-nox, or run through ./bazelw)" >&2
  exit 1
fi

# STEM.md and STEM.png are written whole or not at all, as the C++ tools write theirs (bench/output_file.h): to a
# temporary NAME.XXXXXX.part next to the file the name leads to (a symbolic link followed, so that it stays a link),
# renamed over it once the benchmark and gnuplot have both succeeded and the image is whole. A rename within one
# directory cannot leave half a file, as a move from $TMPDIR (another file system: a copy) or a write in place could.
# A device or a FIFO is written in place: there is nothing to keep, and a rename would replace the node. The
# temporaries are made before the benchmark runs, so that a directory that cannot take them is refused at once, not
# after minutes of measuring. Sets the globals target_of_NAME and writing_NAME for NAME in md, png.
prepare_output() {
  local name="$1" path="$2" target part="" mask status=0 caught=0
  if [[ -d "$path" ]]; then
    echo "chart: cannot write $path: Is a directory" >&2
    exit 1
  fi
  if [[ -e "$path" && ! -f "$path" ]]; then
    printf -v "target_of_$name" '%s' "$path"
    printf -v "writing_$name" '%s' "$path"
    return
  fi
  target="$(realpath -m -- "$path")"
  # A signal between mktemp's making the file and its name joining `parts` would leave the file behind: mktemp runs
  # with INT, TERM and HUP ignored (a ^C reaches every process of the foreground group), and the shell holds a signal
  # it gets meanwhile until the name is recorded.
  trap 'caught=130' INT
  trap 'caught=143' TERM HUP
  part="$(
    trap '' INT TERM HUP
    mktemp --suffix=.part -- "$target.XXXXXX" 2>"$tmp/mktemp.err"
  )" || status=$?
  [[ -z "$part" ]] || parts+=("$part")
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  ((caught == 0)) || exit "$caught"
  if ((status != 0)); then
    echo "chart: cannot write $path: $(sed 's/.*: //' "$tmp/mktemp.err")" >&2
    exit 1
  fi
  # mktemp makes the file 0600: a replacement takes the old file's mode (and owner, where it may), a new file what
  # the shell's redirection would give it.
  if [[ -f "$target" ]]; then
    chmod --reference="$target" -- "$part"
    chown --reference="$target" -- "$part" 2>/dev/null || true
  else
    mask="$(umask)"
    chmod "$(printf '%o' $((0666 & ~8#$mask)))" -- "$part"
  fi
  printf -v "target_of_$name" '%s' "$target"
  printf -v "writing_$name" '%s' "$part"
}
target_of_md='' writing_md='' target_of_png='' writing_png=''
prepare_output md "$out_dir/$stem.md"
prepare_output png "$out_dir/$stem.png"

# Runfiles: `bazel run` starts us in the runfiles tree of the workspace. A refused option or a failed run leaves the
# earlier STEM.md and STEM.png (docs/'s tracked ones too) as they were.
bench/"$bench" --plot_data="$tmp/$stem.dat" "$@" | tee "$writing_md"

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
gnuplot -e "datafile=$(gnuplot_quote "$tmp/$stem.dat"); outfile=$(gnuplot_quote "$writing_png"); \
machine=$(gnuplot_quote "$machine")" "bench/$script"
# gnuplot exits 0 when its pngcairo terminal could not write the whole image (a full disk): the image counts only if
# it ends with the IEND chunk (length 0, "IEND", its CRC), as bench/heap_map.h's png_complete checks.
if [[ "$writing_png" != "$target_of_png" &&
  "$(tail -c 12 -- "$writing_png" | od -An -tx1 | tr -d ' \n')" != 0000000049454e44ae426082 ]]; then
  echo "chart: gnuplot did not write a whole image (a full disk?); $out_dir/$stem.md and $out_dir/$stem.png are" \
    "left as they were" >&2
  exit 1
fi
[[ "$writing_md" == "$target_of_md" ]] || mv -fT -- "$writing_md" "$target_of_md"
[[ "$writing_png" == "$target_of_png" ]] || mv -fT -- "$writing_png" "$target_of_png"
echo "chart: wrote $out_dir/$stem.png and $out_dir/$stem.md" >&2
