// alloc/alloc.h — the portable public API in one include: BasicHeap and every portable policy.
// Hosted-only policies (MmapSource, MutexLock) are in platform/hosted.h.
#pragma once

#include "alloc/basic_heap.h"
#include "alloc/block/compact_tags.h"
#include "alloc/block/full_tags.h"
#include "alloc/check/abort_on_fault.h"
#include "alloc/check/basic_checks.h"
#include "alloc/check/heap_fault.h"
#include "alloc/check/no_checks.h"
#include "alloc/concepts.h"
#include "alloc/error.h"
#include "alloc/fit/best_fit.h"
#include "alloc/fit/first_fit.h"
#include "alloc/fit/next_fit.h"
#include "alloc/heap_stats.h"
#include "alloc/layout.h"
#include "alloc/lock/null_lock.h"
#include "alloc/lock/spin_lock.h"
#include "alloc/source/region.h"
#include "alloc/source/static_array.h"
