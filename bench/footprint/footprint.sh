#!/usr/bin/env bash
# bench/footprint/footprint.sh [--check] [--cpu=CPU]: the footprint report. Builds representative heap
# compositions for Cortex-M4 (arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -Os, as firmware would; --cpu picks another
# Cortex-M, e.g. --cpu=cortex-m0plus, or --cpu=rv32imac for bare-metal RISC-V: clang++-19 -Os against libc++'s
# headers and picolibc, linked by riscv64-unknown-elf-gcc, as --config=riscv32 builds) and prints a Markdown table.
# The cores it takes are arm_cpus and riscv_cpus below; --help lists them, and any other --cpu is refused with one
# line (exit 2) before anything is printed or compiled.
#
#   .text   code + read-only data of a program that calls allocate and deallocate (and, in the second column,
#           also reallocate) and nothing else: the API functions are the only linker roots (--gc-sections), so
#           this is the heap plus the libc/libgcc helpers it calls (memcpy, ...), without startup code.
#   .data / .bss   of the allocate+deallocate program; .bss holds the heap object and its arena.
#   heap object    sizeof the heap (its own bookkeeping), apart from the arena it manages.
#   max frame      the largest stack frame among the heap's functions (-fstack-usage), and which function.
#   stack          worst-case stack depth of allocate / deallocate / reallocate: the largest sum of frames along
#                  any call chain (-fcallgraph-info=su, footprint_stack.awk); libc helpers' frames not included.
#                  clang has no -fcallgraph-info, so for rv32imac the call graph and frames come from the linked
#                  program's disassembly (footprint_stack_objdump.awk), libc helpers' frames included.
#
# With --check, also fails (exit 1) when a budget below is exceeded (allocate + deallocate, CompactTags, NoChecks,
# NullLock): on Cortex-M4 first fit at most 700 bytes of .text, segregated fit at most 1,200 (issue 11: TLSF measured
# 1,963 B); on rv32imac (issue 15) 1,300 and 2,700 (measured 1,228 and 2,538 when set: clang's -Os inlines more than
# arm-none-eabi-g++'s, and RISC-V's compressed code is larger than Thumb-2's). Other cores have no budget. Any
# composition with an unbounded stack (recursion, a dynamic frame) fails always. With --check, every row and budget
# line must also appear word for word in README.md, under the report header that names this compiler and core (its
# "Footprint" tables are this report's output), so that a change that moves the footprint says so there; a README
# measured with another compiler version is reported as that.
#
# Run it as `./bazelw run //bench/footprint` (./bazelw installs the Arm toolchain); the tests
# //bench/footprint:footprint_test (--config=cortex_m) and :footprint_rv32_test (--config=riscv32) run --check.
# NOSTD_ARM_CXX overrides the compiler.
set -euo pipefail

# The cores the report builds for, each of which it ran through when the list was set: arm-none-eabi-g++ 12's Cortex-M
# cores (newlib-nano has a soft-float Thumb library for each), and the rv32 ISAs that picolibc has an ilp32 library
# for (/usr/lib/picolibc/riscv64-unknown-elf/lib/ISA/ilp32). Any other name is refused up front: it used to reach the
# compiler, which printed its whole list of CPUs after the table's header.
arm_cpus=(cortex-m0 cortex-m0plus cortex-m1 cortex-m3 cortex-m4 cortex-m7 cortex-m23 cortex-m33 cortex-m35p cortex-m55)
riscv_cpus=(rv32i rv32ia rv32iac rv32im rv32imac)

usage() {
  echo "usage: ${0##*/} [--check] [--cpu=CPU]"
  echo "  --check    also fail when a budget is exceeded or a row differs from README.md's report"
  echo "  --cpu=CPU  the core, cortex-m4 by default; with arm-none-eabi-g++:"
  echo "               ${arm_cpus[*]}"
  echo "             with clang++-19 and picolibc:"
  echo "               ${riscv_cpus[*]}"
}

check=0
mcpu=cortex-m4
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --cpu=*) mcpu="${arg#--cpu=}" ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done
known=0
for cpu in "${arm_cpus[@]}" "${riscv_cpus[@]}"; do
  [[ "$mcpu" == "$cpu" ]] && known=1
done
if ((!known)); then
  echo "footprint: --cpu=${mcpu}: not one of ${arm_cpus[*]} ${riscv_cpus[*]}" >&2
  exit 2
fi

# The sources: runfiles under Bazel, else the repository this script is in.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -f alloc/alloc.h ]]; then root="$PWD"; else root="$(cd "$here/../.." && pwd)"; fi
src="$root/bench/footprint/footprint_heaps.cc"

common_flags=(-Os -std=c++2b -fno-exceptions -fno-rtti -ffunction-sections -fdata-sections -fstack-usage -Wall -Wextra
  -Werror -I"$root")
if [[ "$mcpu" == rv32* ]]; then
  # Bare-metal RISC-V as --config=riscv32 builds it (platform/BUILD.bazel, riscv32_config).
  riscv=1
  cxx="${NOSTD_RISCV_CXX:-clang++-19}"
  linker=riscv64-unknown-elf-gcc
  size_tool=riscv64-unknown-elf-size
  nm_tool=riscv64-unknown-elf-nm
  objdump_tool=riscv64-unknown-elf-objdump
  picolibc=/usr/lib/picolibc/riscv64-unknown-elf
  cpu=("-march=${mcpu}" -mabi=ilp32)
  flags=(--target=riscv32-unknown-elf "${cpu[@]}" "${common_flags[@]}" -nostdinc++ -isystem /usr/lib/llvm-19/include/c++/v1
    -isystem "$picolibc/include" -D_LIBCPP_HAS_NO_THREADS)
  libs=(-L"$picolibc/lib/${mcpu}/ilp32" -lc -lgcc)
  compiler_name="clang++ $("$cxx" -dumpversion 2>/dev/null || echo '?')"
  cpu_label="-march=${mcpu} -mabi=ilp32"
else
  riscv=0
  cxx="${NOSTD_ARM_CXX:-arm-none-eabi-g++}"
  linker="$cxx"
  size_tool="${cxx%g++}size"
  nm_tool="${cxx%g++}nm"
  cpu=("-mcpu=${mcpu}" -mthumb -mfloat-abi=soft)
  flags=("${cpu[@]}" "${common_flags[@]}" -fcallgraph-info=su)
  libs=(-lc_nano -lgcc)
  compiler_name="arm-none-eabi-g++ $("$cxx" -dumpversion 2>/dev/null || echo '?')"
  cpu_label="-mcpu=${mcpu} -mthumb"
fi
for tool in "$cxx" "$linker"; do
  if ! command -v "$tool" >/dev/null; then
    echo "footprint: $tool not found (./bazelw run //bench/footprint installs the Arm and RISC-V toolchains)" >&2
    exit 2
  fi
done
arena=4096

# The .text budgets of allocate + deallocate (first fit, segregated fit) on the cores that have one.
case "$mcpu" in
  cortex-m4) budget=700 seg_budget=1200 ;;
  rv32imac) budget=1300 seg_budget=2700 ;;
  *) budget="" seg_budget="" ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# name|defines (one line per composition of footprint_heaps.cc)
compositions=(
  "FirstFit, CompactTags, NoChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=1"
  "NextFit, CompactTags, NoChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=2"
  "BestFit, CompactTags, NoChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=3"
  "FirstFit, CompactTags, BasicChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=4"
  "FirstFit, FullTags, BasicChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=5"
  "FirstFit, CompactTags, BasicChecks, InterruptLock, StaticArraySource|-DFP_COMPOSITION=6 -DFP_INTERRUPT_LOCK"
  "BestFit, FullTags, BasicChecks, InterruptLock, RegionSource|-DFP_COMPOSITION=7 -DFP_INTERRUPT_LOCK"
  "SegregatedFit, CompactTags, NoChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=8"
  "SegregatedFit, CompactTags, BasicChecks, NullLock, StaticArraySource|-DFP_COMPOSITION=9"
  "SegregatedFit, CompactTags, NoChecks, NullLock, StaticArraySource, QuickCache|-DFP_COMPOSITION=10"
)

# build NAME DEFINES REALLOC: compiles and links one program; leaves $tmp/NAME.{elf,su,ci}.
build() {
  local name="$1" defines="$2" realloc="$3"
  local roots=("-Wl,-e,fp_allocate" "-Wl,--undefined=fp_deallocate")
  ((realloc)) && roots+=("-Wl,--undefined=fp_reallocate")
  # shellcheck disable=SC2086  # $defines is a list of words
  "$cxx" "${flags[@]}" $defines -DFP_ARENA="$arena" -DFP_REALLOC="$realloc" -c "$src" -o "$tmp/$name.o"
  "$linker" "${cpu[@]}" -nostartfiles -nostdlib -Wl,--gc-sections "${roots[@]}" "$tmp/$name.o" "${libs[@]}" \
    -o "$tmp/$name.elf"
}

# text/data/bss of an ELF (Berkeley format: text includes read-only data).
sizes() { "$size_tool" -B "$1" | awk 'NR == 2 { print $1, $2, $3 }'; }

# The largest frame in a .su file: "BYTES FUNCTION" with template arguments and "[with ...]" removed. (clang
# writes mangled names and no column: c++filt and the optional column cover both.) Of equal frames, the name that sorts
# last: a tie broken by the .su line (file:line:column) would follow source line numbers, which any edit above moves.
largest_frame() {
  c++filt <"$1" | awk -F'\t' '{
    name = $1; sub(/^[^:]*:[0-9]+:([0-9]+:)?/, "", name); sub(/ \[with .*$/, "", name)
    while (gsub(/<[^<>]*>/, "", name)) {}
    sub(/\(.*$/, "", name); n = split(name, words, " "); name = words[n]
    print $2, name
  }' | LC_ALL=C sort -k1,1n -k2,2 | tail -1
}

header="Heap footprint (${compiler_name}, ${cpu_label} -Os, ${arena}-byte arena)"
echo "$header"
echo
# With --check: README.md's section for this report, from its header line (which names the compiler and the core) to
# the next report's header or the next heading; the rows and budget lines printed below must be in it word for word.
readme_section=""
if ((check)); then
  readme_section=$(awk -v header="$header" '$0 == header { on = 1; next } on && (/^Heap footprint \(/ || /^#/) { exit }
    on { print }' "$root/README.md")
fi
stale=()
# Records `line` (a row or a budget line of the report) as stale when --check finds it missing from readme_section.
expect_in_readme() {
  if ((check)) && ! grep -qxF -- "$1" <<<"$readme_section"; then stale+=("$1"); fi
}
echo "| heap (fit, tags, checks, lock, source) | .text alloc+free | .text +realloc | .data | .bss | heap object |" \
  "max frame | stack alloc / free / realloc |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
status=0
first_text=""
seg_text=""
i=0
for entry in "${compositions[@]}"; do
  i=$((i + 1))
  name="${entry%%|*}"
  defines="${entry#*|}"
  build "c$i" "$defines" 0
  build "c${i}r" "$defines" 1
  read -r text data bss < <(sizes "$tmp/c$i.elf")
  read -r text_r _ _ < <(sizes "$tmp/c${i}r.elf")
  heap_symbol_size=$(("0x$("$nm_tool" -S "$tmp/c$i.elf" | awk '$4 == "fp_heap" { print $2 }')"))
  if [[ "$name" == *StaticArraySource* ]]; then own=$((heap_symbol_size - arena)); else own=$heap_symbol_size; fi
  read -r frame frame_fn < <(largest_frame "$tmp/c${i}r.su")
  if ((riscv)); then
    depths=$("$objdump_tool" -d --no-show-raw-insn "$tmp/c${i}r.elf" |
      awk -v ROOTS="fp_allocate fp_deallocate fp_reallocate" -f "$root/bench/footprint/footprint_stack_objdump.awk")
  else
    depths=$(awk -v ROOTS="fp_allocate fp_deallocate fp_reallocate" -f "$root/bench/footprint/footprint_stack.awk" \
      "$tmp/c${i}r.ci")
  fi
  stack=$(awk '{ printf "%s%s", (NR > 1 ? " / " : ""), $2 } END { print " B" }' <<<"$depths")
  row="| ${name} | ${text} | ${text_r} | ${data} | ${bss} | ${own} B | ${frame} B (${frame_fn}) | ${stack} |"
  echo "$row"
  expect_in_readme "$row"
  [[ -z "$first_text" ]] && first_text="$text"
  [[ "$name" == "SegregatedFit, CompactTags, NoChecks, NullLock, StaticArraySource" ]] && seg_text="$text"
  if [[ "$stack" == *unbounded* ]]; then
    echo "footprint: ${name}: unbounded stack (recursion or a dynamic frame); the heap promises neither" >&2
    status=1
  fi
done
if [[ -n "$budget" ]]; then
  echo
  for line in "Budget: FirstFit, CompactTags, NoChecks, NullLock: ${first_text} of ${budget} bytes of .text (allocate +\
 deallocate)." "Budget: SegregatedFit, CompactTags, NoChecks, NullLock: ${seg_text} of ${seg_budget} bytes of .text\
 (allocate + deallocate)."; do
    echo "$line"
    expect_in_readme "$line"
  done
  if ((check && first_text > budget)); then
    echo "footprint: over budget: ${first_text} > ${budget} bytes" >&2
    status=1
  fi
  if ((check && seg_text > seg_budget)); then
    echo "footprint: over budget: SegregatedFit ${seg_text} > ${seg_budget} bytes" >&2
    status=1
  fi
fi
if ((check)) && [[ -z "$readme_section" ]]; then
  echo "footprint: README.md has no report headed '${header}': its tables were measured with another compiler" \
    "or flags (its headers: $(grep '^Heap footprint (' "$root/README.md" | tr '\n' ';')); re-measure them with" \
    "\`./bazelw run //bench/footprint -- --cpu=${mcpu}\`" >&2
  status=1
elif ((${#stale[@]})); then
  echo "footprint: README.md's ${mcpu} report differs from this one in ${#stale[@]} line(s), which it shows as" \
    "measured; update it from \`./bazelw run //bench/footprint -- --cpu=${mcpu}\` (and say why it moved):" >&2
  printf '  %s\n' "${stale[@]}" >&2
  status=1
fi
exit "$status"
