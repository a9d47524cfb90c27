#!/usr/bin/env bash
# Compile-fail tests of the opt-in external allocators (//bench:*_ext; third_party/ext_alloc/BUILD.bazel): built without
# their sources, which are never committed (and are not in this test's runfiles), each tool's translation unit must
# stop with one #error that names every missing source directory, and nothing after it: no "o1heap.h: No such file or
# directory", no undeclared adapter in the rows or columns that name it. NOSTD_BENCH_O1HEAP and NOSTD_BENCH_TLSF are
# what the adapters' `defines` give their dependents.
prelude=''  # each case includes a whole tool
# shellcheck source=tests/compile_fail.sh
source tests/compile_fail.sh

both="put o1heap.c and o1heap.h in third_party/ext_alloc/o1heap/ and tlsf.c and tlsf.h in third_party/ext_alloc/tlsf/"
# The control case: fit_compare.cc compiles here without the external allocators, so each rejection is for its reason.
expect_compiles control '#include "bench/fit_compare.cc"'
extra_flags=(-DNOSTD_BENCH_O1HEAP -DNOSTD_BENCH_TLSF)
for tool in fit_compare op_count scaling_bench; do
  expect_error "${tool}_ext" "$both" "#include \"bench/${tool}.cc\""
done
# One library's sources missing: the message names that one alone.
extra_flags=(-DNOSTD_BENCH_O1HEAP)
expect_error o1heap_only "o1heap sources missing: put o1heap.c and o1heap.h in third_party/ext_alloc/o1heap/" \
  '#include "bench/op_count.cc"'
extra_flags=(-DNOSTD_BENCH_TLSF)
expect_error tlsf_only "TLSF sources missing: put tlsf.c and tlsf.h in third_party/ext_alloc/tlsf/" \
  '#include "bench/op_count.cc"'
finish
