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

/// Fails to compile with one line naming the first LockPolicy requirement `L` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
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
  } else if constexpr (!LockPolicy<L>) {
    static_assert(dependent_false<L>, "LockPolicy: does not satisfy `LockPolicy` (alloc/concepts/lock_policy.h)");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
