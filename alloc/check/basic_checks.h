// alloc/check/basic_checks.h — BasicChecks: O(1) misuse detection on every free.
#pragma once

#include "alloc/check/abort_on_fault.h"
#include "alloc/check/heap_fault.h"
#include "alloc/concepts/check_policy.h"
#include "alloc/concepts/role.h"

namespace nostd {

/// On every `deallocate` and `reallocate`, checks the pointer before touching the heap: inside one of the heap's
/// regions (O(number of regions)), aligned to the heap granule, its header sane (size a multiple of the granule,
/// block within the region, the next block's tags agreeing that this block is used) and not already free.
/// Misuse goes to `Handler::on_fault`, which must not return (if it returns, the heap traps); the heap is left as it
/// was.
///
/// Limits: an interior pointer whose preceding word happens to look like a consistent used header passes (the
/// check is O(1), not a walk); `validate()` catches what that lets through.
template <class Handler = AbortOnFault>
struct BasicChecks {
  using policy_role = role::Check;
  static constexpr CheckLevel kLevel = CheckLevel::kBasic;
  /// Forwards to `Handler::on_fault`; never returns (traps if `Handler::on_fault` returns).
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { internal::on_fault_or_trap<Handler>(fault); }
};

}  // namespace nostd
