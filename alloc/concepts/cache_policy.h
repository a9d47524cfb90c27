// alloc/concepts/cache_policy.h — the CachePolicy concept: whether BasicHeap keeps freed small blocks aside for
// reuse (deferred coalescing) and how many.
#pragma once

#include <concepts>
#include <cstddef>

#include "alloc/concepts/role.h"

namespace nostd {

/// A cache policy tells BasicHeap how many freed blocks of each small size to keep aside, still tagged used, instead
/// of coalescing them at once (NoCache, QuickCache). Requirements: `policy_role` is `role::Cache`; `kDepth`, the
/// blocks kept per size (0 = no cache, at most 255), and `kMaxBlock`, the largest block size in bytes that is kept,
/// both `std::size_t` constants. Optional: `kGiveWayShare`, at least 1 (see QuickCache; 16 when absent), and
/// `kSlackShare` (see QuickCache; 0, exact sizes only, when absent; not checked here: any value is a share, and
/// the probe stops 8 bins past the request's own bin whatever it is).
template <class C>
concept CachePolicy = HasRole<C, role::Cache> && requires {
  { C::kDepth } -> std::convertible_to<std::size_t>;
  { C::kMaxBlock } -> std::convertible_to<std::size_t>;
} && C::kDepth <= 255 && (!requires { C::kGiveWayShare; } || C::kGiveWayShare >= 1);

namespace internal {

/// Fails to compile with one line naming the first CachePolicy requirement `C` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
template <class C>
consteval bool diagnose_cache_policy() {
  if constexpr (!HasRole<C, role::Cache>) {
    static_assert(dependent_false<C>, "CachePolicy: missing `using policy_role = nostd::role::Cache;`");
  } else if constexpr (!requires {
                         { C::kDepth } -> std::convertible_to<std::size_t>;
                       }) {
    static_assert(dependent_false<C>, "CachePolicy: missing `static constexpr std::size_t kDepth`");
  } else if constexpr (!requires {
                         { C::kMaxBlock } -> std::convertible_to<std::size_t>;
                       }) {
    static_assert(dependent_false<C>, "CachePolicy: missing `static constexpr std::size_t kMaxBlock`");
  } else if constexpr (!(C::kDepth <= 255)) {
    static_assert(dependent_false<C>, "CachePolicy: kDepth must be at most 255 (a bin's count is one byte)");
  } else if constexpr (requires { C::kGiveWayShare; }) {
    if constexpr (!(C::kGiveWayShare >= 1)) {
      static_assert(dependent_false<C>,
                    "CachePolicy: kGiveWayShare must be at least 1 (the cache gives way at "
                    "1/kGiveWayShare of the touched memory)");
    }
  } else if constexpr (!CachePolicy<C>) {
    static_assert(dependent_false<C>, "CachePolicy: does not satisfy `CachePolicy` (alloc/concepts/cache_policy.h)");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
