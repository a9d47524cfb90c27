// alloc/internal/optimize.h — what the heap asks of the optimiser: size builds keep only what they need, speed
// builds inline the steps of allocate and free whatever else the program compiles.
#pragma once

namespace nostd::internal {

/// True when the compiler optimises for size (-Os, -Oz): the heap then leaves out code that only buys speed.
#ifdef __OPTIMIZE_SIZE__
inline constexpr bool kOptimizingForSize = true;
#else
inline constexpr bool kOptimizingForSize = false;
#endif

}  // namespace nostd::internal

/// Marks a step of allocate or free (a fit index's insert, remove and search, the size-to-list mapping, the core's
/// small block helpers, allocate's body and the uncached free's pointer check where a heap inlines them, the tag
/// layouts' block check that pointer check calls): always inlined into its caller when the build optimises for speed.
/// GCC stops inlining in a translation unit once the unit has grown by its `inline-unit-growth` limit, so the same heap
/// compiled beside many others got these steps as calls: `//bench:fit_compare` (23 heap types in one file then) had
/// `SegregatedFit<>`'s list lookup, insert, remove and search out of line and ran its workload b at 55-58 ns per call,
/// where `//bench:op_count` (8 heap types) inlined them and ran 45-48. Left to the compiler at -Os, where a call is
/// cheaper in bytes (the footprint report's budgets), and at -O0, for the debugger.
#if defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#define NOSTD_HOT [[gnu::always_inline]]
#else
#define NOSTD_HOT
#endif
