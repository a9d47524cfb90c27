// alloc/concepts.h — every policy concept of nostd-alloc in one include. Each lives in its own header in
// alloc/concepts/: FitPolicy, TagLayout, LockPolicy, HeapSource, CheckPolicy, CachePolicy, SecretSource (the key
// source of the checks above BasicChecks), and the role tags they share.
#pragma once

#include "alloc/concepts/cache_policy.h"
#include "alloc/concepts/check_policy.h"
#include "alloc/concepts/fit_policy.h"
#include "alloc/concepts/heap_source.h"
#include "alloc/concepts/lock_policy.h"
#include "alloc/concepts/role.h"
#include "alloc/concepts/secret_source.h"
#include "alloc/concepts/tag_layout.h"
