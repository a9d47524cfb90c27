// alloc/internal/policy_list.h — picking one policy per role out of BasicHeap's parameter pack.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>

#include "alloc/concepts/role.h"

namespace nostd::internal {

/// How many of `Ps` declare role `Role`.
template <class Role, class... Ps>
inline constexpr std::size_t kRoleCount = (std::size_t{0} + ... + (HasRole<Ps, Role> ? 1 : 0));

/// True when `P` declares one of the six roles BasicHeap knows.
template <class P>
inline constexpr bool kHasKnownRole = HasRole<P, role::Fit> || HasRole<P, role::Tags> || HasRole<P, role::Lock> ||
                                      HasRole<P, role::Source> || HasRole<P, role::Check> || HasRole<P, role::Cache>;

/// The first of `Ps` with role `Role`, or `Default` when none has it. Linear recursion over the pack happens
/// at compile time only; nothing here exists at run time.
template <class Role, class Default, class... Ps>
struct PickRole {
  using type = Default;
};
template <class Role, class Default, class P, class... Rest>
struct PickRole<Role, Default, P, Rest...> {
  using type = std::conditional_t<HasRole<P, Role>, P, typename PickRole<Role, Default, Rest...>::type>;
};

/// Shorthand for `PickRole<...>::type`.
template <class Role, class Default, class... Ps>
using PickRoleT = typename PickRole<Role, Default, Ps...>::type;

/// A heap source that satisfies HeapSource and gives no memory: what BasicHeap is built from when its own source is
/// missing or fails the concept, so that the compile stops at the one line saying so.
struct StandInSource {
  using policy_role = role::Source;
  static constexpr bool kAcceptsRegions = true;
  std::span<std::byte> acquire() noexcept { return {}; }
};

}  // namespace nostd::internal
