// alloc/check/paranoid_checks.h — ParanoidChecks: DebugChecks plus validate() before and after every operation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/check/abort_on_fault.h"
#include "alloc/check/address_secret.h"
#include "alloc/check/heap_fault.h"
#include "alloc/concepts/check_policy.h"
#include "alloc/concepts/role.h"
#include "alloc/concepts/secret_source.h"

namespace nostd {

/// Zephyr's EXTREME level: everything DebugChecks does, and before and after every allocate, deallocate,
/// reallocate, try_deallocate and add_region the whole heap is validated (every block, every free byte's poison,
/// the whole fit index; the queries, usable_size, try_usable_size, stats, owns and walk, do not validate, and
/// flush_cache has no cache to flush at this level); the first broken invariant goes to the handler. Before: a
/// corruption made since the last operation is reported before anything is handed out or merged (deallocate and
/// reallocate check their pointer first, so a bad pointer is still reported as such). After: a fault the operation
/// left is reported by it.
/// Cost: O(heap bytes) twice per operation, for hunting a corruption in tests.
template <class Handler = AbortOnFault, class Secret = AddressSecret>
struct ParanoidChecks {
  using policy_role = role::Check;
  static_assert(internal::diagnose_secret_source<Secret>());
  static constexpr CheckLevel kLevel = CheckLevel::kParanoid;
  /// As DebugChecks::kMergeCheckBytes (validate() after the free checks the rest).
  static constexpr std::size_t kMergeCheckBytes = 256;
  /// 64 bits for the heap's key, from `Secret`.
  static std::uint64_t secret() noexcept { return static_cast<std::uint64_t>(Secret::draw()); }
  /// Forwards to `Handler::on_fault`; never returns (traps if `Handler::on_fault` returns).
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { internal::on_fault_or_trap<Handler>(fault); }
};

}  // namespace nostd
