// tests/container_heaps.h — the heaps the container suites run on (tests/container_fixture.h) and the bare-metal
// container checks (tests/container_checks.cc) too. Framework-free.
#pragma once

#include <cstddef>

#include "alloc/alloc.h"

namespace nostd::test {

/// Bytes of each test heap: small enough for a Cortex-M board, large enough for a few thousand elements.
inline constexpr std::size_t kTestHeapBytes = 32 * 1024;

/// First fit over one-word tags.
using FirstFitCompactHeap = BasicHeap<FirstFit, CompactTags, StaticArraySource<kTestHeapBytes>>;
/// Best fit over two-word tags.
using BestFitFullHeap = BasicHeap<BestFit, FullTags, StaticArraySource<kTestHeapBytes>>;
/// Segregated fit with a cache of freed small blocks (QuickCache): a container's freed buffer goes to a cache bin
/// and its next growth may take it back whole, or take a block the cache hands out from a larger bin.
using SegregatedCacheHeap = BasicHeap<SegregatedFit<>, CompactTags, StaticArraySource<kTestHeapBytes>, QuickCache<>>;
/// First fit under DebugChecks: its `deallocate` refuses a layout whose size is not the one requested (its
/// `usable_size` is the request) or whose alignment is not the block's, and a write past the request breaks a canary,
/// so the containers' layouts for every free and reallocate (sentinels and over-alignment included) are checked here.
/// At the other heaps' levels `deallocate` ignores the layout.
using FirstFitDebugHeap = BasicHeap<FirstFit, CompactTags, StaticArraySource<kTestHeapBytes>, DebugChecks<>>;

}  // namespace nostd::test
