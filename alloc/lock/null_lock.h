// alloc/lock/null_lock.h — NullLock: no locking, for single-threaded heaps.
#pragma once

#include "alloc/concepts/role.h"

namespace nostd {

/// Does nothing: for a heap used from one thread (or one execution context) only. Costs no bytes.
struct NullLock {
  using policy_role = role::Lock;
  /// No-op.
  constexpr void lock() noexcept {}
  /// No-op.
  constexpr void unlock() noexcept {}
};

}  // namespace nostd
