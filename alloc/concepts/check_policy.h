// alloc/concepts/check_policy.h — the CheckPolicy concept: what misuse a heap detects and what happens then.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "alloc/check/heap_fault.h"
#include "alloc/concepts/role.h"

namespace nostd {

/// How much a heap checks on its own. Levels are ordered: each does what the one before does.
enum class CheckLevel : std::uint8_t {
  kOff,       ///< No checks: deallocate trusts its argument (try_deallocate still checks).
  kBasic,     ///< O(1) checks on every free: pointer inside the heap and aligned, header sane, not already free.
  kHardened,  ///< A keyed check word in every used block, verified on every free and reallocate.
  kDebug,     ///< Fill and poison patterns, a byte-precise overflow canary, sized-deallocate layout checks.
  kParanoid,  ///< validate() before and after every operation.
};

/// A check policy: `policy_role` is `role::Check`, `kLevel` says how much to check, and `on_fault(HeapFault)`
/// is called when the heap detects misuse. It must not return (declare it `[[noreturn]]`); a concept cannot check
/// that, so if it returns, the heap traps (`__builtin_trap()`, internal::on_fault_or_trap) rather than go on with
/// the misuse it found. From kHardened on, `secret()` gives 64 bits for the heap's key; from kDebug on,
/// `kMergeCheckBytes` bounds the poison check of a free neighbour on merge.
/// Optional: `static constexpr bool kSafeUnlink` overrides whether unlinking a free block first checks that its
/// neighbours point back at it (default: from kBasic on). Turning it off lets one use-after-free write steer an
/// unlink (issue 10); it exists so that benchmarks can price the check (bench/allocator_list.h).
template <class C>
concept CheckPolicy = HasRole<C, role::Check> && requires(const HeapFault& fault) {
  { C::kLevel } -> std::convertible_to<CheckLevel>;
  C::on_fault(fault);
} &&(C::kLevel < CheckLevel::kHardened ||
     requires {
       { C::secret() } -> std::same_as<std::uint64_t>;
     }) &&
    (C::kLevel < CheckLevel::kDebug || requires {
      { C::kMergeCheckBytes } -> std::convertible_to<std::size_t>;
    });

namespace internal {

/// Fails to compile with one line naming the first CheckPolicy requirement `C` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
template <class C>
consteval bool diagnose_check_policy() {
  if constexpr (!HasRole<C, role::Check>) {
    static_assert(dependent_false<C>, "CheckPolicy: missing `using policy_role = nostd::role::Check;`");
  } else if constexpr (!requires { C::kLevel; }) {
    static_assert(dependent_false<C>, "CheckPolicy: missing `static constexpr CheckLevel kLevel`");
  } else if constexpr (!requires(const HeapFault& fault) { C::on_fault(fault); }) {
    static_assert(dependent_false<C>, "CheckPolicy: missing `[[noreturn]] static void on_fault(const HeapFault&)`");
  } else if constexpr (C::kLevel >= CheckLevel::kHardened && !requires {
                         { C::secret() } -> std::same_as<std::uint64_t>;
                       }) {
    static_assert(dependent_false<C>, "CheckPolicy: kHardened and above need `static std::uint64_t secret()`");
  } else if constexpr (!CheckPolicy<C>) {
    static_assert(dependent_false<C>,
                  "CheckPolicy: kDebug and above need `static constexpr std::size_t kMergeCheckBytes`");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
