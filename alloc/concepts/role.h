// alloc/concepts/role.h — role tags: how BasicHeap recognises what a policy is for.
//
// Every policy names its role with a member alias `using policy_role = nostd::role::Fit;` (or Tags, Lock, Source,
// Check, Cache). BasicHeap sorts its policy list by these tags, so policies may be given in any order, and a type
// without a role (or two policies of one role) is rejected with a one-line message.
#pragma once

#include <concepts>

namespace nostd::role {

/// Fit strategy: which free block serves a request (FirstFit, NextFit, BestFit, ...).
struct Fit {};
/// Boundary-tag layout: how block sizes and states are stored (CompactTags, FullTags).
struct Tags {};
/// Lock: how concurrent callers are serialised (NullLock, SpinLock, MutexLock, InterruptLock).
struct Lock {};
/// Heap source: where the heap's memory comes from (StaticArraySource, RegionSource, MmapSource).
struct Source {};
/// Checks: what misuse is detected and what happens then (NoChecks, BasicChecks, HardenedChecks, DebugChecks,
/// ParanoidChecks).
struct Check {};
/// Cache: whether freed small blocks are kept aside for reuse before they coalesce (NoCache, QuickCache).
struct Cache {};

}  // namespace nostd::role

namespace nostd {

namespace internal {
/// False, but only once `T` is known: lets a `static_assert` in an `if constexpr` branch fire only when taken.
template <class T>
inline constexpr bool dependent_false = false;
}  // namespace internal

/// True when `P` declares `policy_role` as `Role`.
template <class P, class Role>
concept HasRole = requires {
  typename P::policy_role;
}
&&std::same_as<typename P::policy_role, Role>;

}  // namespace nostd
