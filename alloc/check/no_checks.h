// alloc/check/no_checks.h — NoChecks: deallocate trusts its argument.
#pragma once

#include "alloc/check/abort_on_fault.h"
#include "alloc/concepts/check_policy.h"
#include "alloc/concepts/role.h"

namespace nostd {

/// No checks on the hot paths: the smallest and fastest heap. `try_deallocate` and `validate` still check.
struct NoChecks {
  using policy_role = role::Check;
  static constexpr CheckLevel kLevel = CheckLevel::kOff;
  /// Reached only from explicit validation hooks; aborts.
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { AbortOnFault::on_fault(fault); }
};

}  // namespace nostd
