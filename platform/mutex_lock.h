// platform/mutex_lock.h — MutexLock: a std::mutex as a heap lock (hosted only).
#pragma once

#include <mutex>

#include "alloc/concepts/role.h"

namespace nostd {

/// Blocks in the operating system while another thread holds the heap: the right choice when threads may be
/// preempted while holding it (a SpinLock would burn their time slice). `std::mutex` has a constexpr
/// constructor, so a heap with MutexLock can still be constinit.
class MutexLock {
 public:
  using policy_role = role::Lock;
  constexpr MutexLock() noexcept = default;
  /// Blocks until the mutex is held.
  void lock() noexcept { mutex_.lock(); }
  /// Releases the mutex.
  void unlock() noexcept { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

}  // namespace nostd
