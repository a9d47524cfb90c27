// alloc/concepts/lock_policy.h — the LockPolicy concept: how BasicHeap serialises concurrent callers.
#pragma once

#include <concepts>

#include "alloc/concepts/role.h"

namespace nostd {

/// A lock BasicHeap holds around every operation. Requirements: `policy_role` is `role::Lock`; default
/// constructible in a constant expression (so a heap can be `constinit`); `lock()` and `unlock()` callable on a
/// non-const object. The heap never re-enters its lock (no recursion, no callbacks under the lock), so a lock
/// need not be recursive.
template <class L>
concept LockPolicy = HasRole<L, role::Lock> && std::default_initializable<L> && requires(L& lock) {
  lock.lock();
  lock.unlock();
};

namespace internal {

/// Fails to compile with one line naming the first LockPolicy requirement `L` misses; true when `L` satisfies it.
template <class L>
consteval bool diagnose_lock_policy() {
  if constexpr (!HasRole<L, role::Lock>) {
    static_assert(dependent_false<L>, "LockPolicy: missing `using policy_role = nostd::role::Lock;`");
  } else if constexpr (!std::default_initializable<L>) {
    static_assert(dependent_false<L>, "LockPolicy: must be default constructible");
  } else if constexpr (!requires(L & lock) { lock.lock(); }) {
    static_assert(dependent_false<L>, "LockPolicy: missing `void lock()`");
  } else if constexpr (!requires(L & lock) { lock.unlock(); }) {
    static_assert(dependent_false<L>, "LockPolicy: missing `void unlock()`");
  }
  return LockPolicy<L>;
}

}  // namespace internal
}  // namespace nostd
