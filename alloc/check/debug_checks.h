// alloc/check/debug_checks.h — DebugChecks: HardenedChecks plus fill patterns, poisoned free memory and a
// byte-precise overflow check.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/check/abort_on_fault.h"
#include "alloc/check/address_secret.h"
#include "alloc/check/debug_patterns.h"
#include "alloc/check/heap_fault.h"
#include "alloc/concepts/check_policy.h"
#include "alloc/concepts/role.h"
#include "alloc/concepts/secret_source.h"

namespace nostd {

/// For development: everything HardenedChecks does, and
/// - new payloads are filled with `DebugPatterns::kAllocated`, freed payloads poisoned with `kFreed`; a write into
///   a free block is reported (`kCorrupted`) when its bytes are handed out again, when the block merges with a
///   block being freed (the first kMergeCheckBytes of it, so that a free stays proportional to the block freed)
///   and by `validate()` (all of them);
/// - every block records its requested size and keeps at least one canary byte after it, so one byte written past
///   the *requested* size is reported by deallocate, reallocate and validate(); `usable_size` returns the
///   requested size;
/// - sized `deallocate(p, layout)` reports a layout that does not fit the block (`kInvalidLayout`).
///
/// Cost: every payload byte is written on allocate and on free and read when reused (O(size) per call instead of
/// O(1)), plus 8 bytes of trailer and one canary byte per block.
template <class Handler = AbortOnFault, class Secret = AddressSecret>
struct DebugChecks {
  using policy_role = role::Check;
  static_assert(internal::diagnose_secret_source<Secret>());
  static constexpr CheckLevel kLevel = CheckLevel::kDebug;
  /// How much of a free neighbour a free checks for writes after free when it merges with it.
  static constexpr std::size_t kMergeCheckBytes = 256;
  /// 64 bits for the heap's key, from `Secret`.
  static std::uint64_t secret() noexcept { return static_cast<std::uint64_t>(Secret::draw()); }
  /// Forwards to `Handler::on_fault`; never returns (traps if `Handler::on_fault` returns).
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { internal::on_fault_or_trap<Handler>(fault); }
};

}  // namespace nostd
