// alloc/alloc.h — the portable public API in one include: everything in alloc/ that a user names.
//
//   the heap        BasicHeap<Policies...>, HeapStats, BlockInfo (walk), HeapFault (validate)
//   policies        FirstFit, NextFit, BestFit, SegregatedFit<>; CompactTags, FullTags, BasicCompactTags<W>,
//                   BasicFullTags<W>; NullLock, SpinLock; StaticArraySource<Bytes>, RegionSource; NoChecks,
//                   BasicChecks<Handler>, HardenedChecks<Handler, Secret>, DebugChecks<Handler, Secret>,
//                   ParanoidChecks<Handler, Secret>, AbortOnFault, AddressSecret, DebugPatterns; NoCache, QuickCache<>
//   concepts        FitPolicy, TagLayout, LockPolicy, HeapSource, CheckPolicy, CachePolicy, SecretSource and the role
//                   tags (alloc/concepts.h)
//   requests        Layout (alloc/layout.h); AllocError, Result<T>, fail(), to_string() (alloc/error.h)
//   handles         HeapRef<Heap>, StaticHeapRef<kHeap> (alloc/heap_ref.h) and the Allocator concept with
//                   HasReallocate / HasUsableSize (alloc/allocator.h): what containers/ take
//   doors           StdAllocator<T, Heap> (alloc/adapt/std_allocator.h): a heap behind the standard library's
//                   Allocator interface; OutOfMemory, DefaultOutOfMemory (alloc/adapt/out_of_memory.h)
//
// Not here: the containers (containers/vec.h, containers/string.h, one include each, since a user of the heap alone
// should not compile them), the hosted-only policies MmapSource and MutexLock (platform/hosted.h, which needs an
// operating system) and HeapResource (alloc/adapt/heap_resource.h: <memory_resource> made every includer of this
// header compile 40% slower, g++ 12 -fsyntax-only 1.45 s against 1.05 s of CPU, and HeapResource needs the C++
// runtime's std::pmr support, which a toolchain without a C++ library, bare-metal rv32, lacks). Each header named
// above also works on its own, with its own `//alloc:<stem>` target; //tests:alloc_umbrella_test uses every name
// through this include alone.
#pragma once

#include "alloc/adapt/out_of_memory.h"
#include "alloc/adapt/std_allocator.h"
#include "alloc/allocator.h"
#include "alloc/basic_heap.h"
#include "alloc/block/compact_tags.h"
#include "alloc/block/full_tags.h"
#include "alloc/cache/no_cache.h"
#include "alloc/cache/quick_cache.h"
#include "alloc/check/abort_on_fault.h"
#include "alloc/check/address_secret.h"
#include "alloc/check/basic_checks.h"
#include "alloc/check/debug_checks.h"
#include "alloc/check/debug_patterns.h"
#include "alloc/check/hardened_checks.h"
#include "alloc/check/heap_fault.h"
#include "alloc/check/no_checks.h"
#include "alloc/check/paranoid_checks.h"
#include "alloc/concepts.h"
#include "alloc/error.h"
#include "alloc/fit/best_fit.h"
#include "alloc/fit/first_fit.h"
#include "alloc/fit/next_fit.h"
#include "alloc/fit/segregated_fit.h"
#include "alloc/heap_ref.h"
#include "alloc/heap_stats.h"
#include "alloc/layout.h"
#include "alloc/lock/null_lock.h"
#include "alloc/lock/spin_lock.h"
#include "alloc/source/region.h"
#include "alloc/source/static_array.h"
