// alloc/cache/no_cache.h — NoCache: every free coalesces at once (BasicHeap's default).
#pragma once

#include <cstddef>

#include "alloc/concepts/role.h"

namespace nostd {

/// No deferred coalescing: a freed block merges with its free neighbours and goes back to the fit index at once.
/// The default, and the choice when allocation time must be bounded by the fit alone (a cache's flush on
/// exhaustion is a loop over the cached blocks) or memory must be reusable in any size the moment it is freed.
struct NoCache {
  using policy_role = role::Cache;
  /// No block is kept aside.
  static constexpr std::size_t kDepth = 0;
  /// No block size is cached.
  static constexpr std::size_t kMaxBlock = 0;
};

}  // namespace nostd
