// alloc/check/hardened_checks.h — HardenedChecks: BasicChecks plus a keyed check in every used block.
#pragma once

#include <cstdint>

#include "alloc/check/abort_on_fault.h"
#include "alloc/check/address_secret.h"
#include "alloc/check/heap_fault.h"
#include "alloc/concepts/check_policy.h"
#include "alloc/concepts/role.h"
#include "alloc/concepts/secret_source.h"

namespace nostd {

/// For production, in the spirit of Scudo's header checksums. Everything BasicChecks does, and every used block
/// carries a 32-bit check word after its payload, computed from the block's address, its header (size and flags)
/// and a per-heap key drawn once from `Secret` (mixed with the heap's address). `deallocate` and `reallocate`
/// recompute it before trusting the block, so a corrupted header, an overflow that reached the check word, a
/// forged block or an interior pointer whose preceding bytes look like a header is reported (`kCorrupted`)
/// instead of trusted; `validate()` checks every used block's word.
///
/// Cost: 4 bytes per used block (often absorbed by the rounding to the granule) and one multiply per allocate,
/// free and reallocate. Limit: a 32-bit check can be guessed with probability 2^-32 per attempt, and an attacker
/// who can read heap memory can learn checks (not the key) of existing blocks.
template <class Handler = AbortOnFault, class Secret = AddressSecret>
struct HardenedChecks {
  using policy_role = role::Check;
  static_assert(internal::diagnose_secret_source<Secret>());
  static constexpr CheckLevel kLevel = CheckLevel::kHardened;
  /// 64 bits for the heap's key, from `Secret`.
  static std::uint64_t secret() noexcept { return static_cast<std::uint64_t>(Secret::draw()); }
  /// Forwards to `Handler::on_fault`; never returns (traps if `Handler::on_fault` returns).
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { internal::on_fault_or_trap<Handler>(fault); }
};

}  // namespace nostd
