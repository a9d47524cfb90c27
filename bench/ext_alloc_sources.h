// bench/ext_alloc_sources.h — the check, shared by bench/o1heap_adapter.h and bench/tlsf_adapter.h, that the external
// allocators' sources are in place (they are never committed; third_party/ext_alloc/BUILD.bazel says where to get
// them). A translation unit asks for a library through the macro its adapter's `defines` gives it
// (NOSTD_BENCH_O1HEAP, NOSTD_BENCH_TLSF). When sources it asks for are missing, one #error names every missing
// directory at once, and the library's macro is undefined afterwards: its adapter then declares nothing and the rows
// and columns that name it (#ifdef NOSTD_BENCH_...) are left out, so that the #error is the build's only error (no
// "o1heap.h: No such file or directory", no undeclared adapter after it).
#pragma once

// NOSTD_BENCH_O1HEAP_MISSING, NOSTD_BENCH_TLSF_MISSING: the translation unit asks for the library and its header is not
// in the directory the message names.
#if defined(NOSTD_BENCH_O1HEAP) && !__has_include("third_party/ext_alloc/o1heap/o1heap.h")
#define NOSTD_BENCH_O1HEAP_MISSING
#endif
#if defined(NOSTD_BENCH_TLSF) && !__has_include("third_party/ext_alloc/tlsf/tlsf.h")
#define NOSTD_BENCH_TLSF_MISSING
#endif

#if defined(NOSTD_BENCH_O1HEAP_MISSING) && defined(NOSTD_BENCH_TLSF_MISSING)
#error \
    "external allocator sources missing: put o1heap.c and o1heap.h in third_party/ext_alloc/o1heap/ and tlsf.c and tlsf.h in third_party/ext_alloc/tlsf/ (see third_party/ext_alloc/BUILD.bazel)"
#elif defined(NOSTD_BENCH_O1HEAP_MISSING)
#error \
    "o1heap sources missing: put o1heap.c and o1heap.h in third_party/ext_alloc/o1heap/ (see third_party/ext_alloc/BUILD.bazel)"
#elif defined(NOSTD_BENCH_TLSF_MISSING)
#error \
    "TLSF sources missing: put tlsf.c and tlsf.h in third_party/ext_alloc/tlsf/ (see third_party/ext_alloc/BUILD.bazel)"
#endif

#ifdef NOSTD_BENCH_O1HEAP_MISSING
#undef NOSTD_BENCH_O1HEAP
#endif
#ifdef NOSTD_BENCH_TLSF_MISSING
#undef NOSTD_BENCH_TLSF
#endif
