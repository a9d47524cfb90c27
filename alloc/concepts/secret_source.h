// alloc/concepts/secret_source.h — the SecretSource concept: where a hardened heap gets the key of its block checks.
//
// HardenedChecks (and the levels above it) keep a keyed check in every used block. The key is drawn once per heap,
// on the heap's first operation, from a source the user chooses: `GetrandomSecret` on hosted Linux
// (platform/getrandom_secret.h), a hardware random generator on a board, or the portable `AddressSecret`.
#pragma once

#include <concepts>
#include <cstdint>

#include "alloc/concepts/role.h"

namespace nostd {

/// A secret source: a static `draw()` returns 64 bits that an attacker cannot predict (as far as the platform
/// allows), as any 64-bit unsigned integer type (`std::uint64_t`, or `unsigned long long` where that is another type
/// of the same width). Called once per heap, under the heap's lock; it must not allocate from that heap.
template <class S>
concept SecretSource = requires {
  { S::draw() } -> std::unsigned_integral;
}
&&sizeof(decltype(S::draw())) == sizeof(std::uint64_t);

namespace internal {

/// Fails to compile with one line naming the SecretSource requirement `S` misses, and returns true either way (see
/// diagnose_lock_policy). The check levels that take a source assert it, so that a wrong source reads as one line
/// instead of a template constraint failure with its notes.
template <class S>
consteval bool diagnose_secret_source() {
  if constexpr (!requires { S::draw(); }) {
    static_assert(dependent_false<S>, "SecretSource: missing `static std::uint64_t draw()`");
  } else if constexpr (!SecretSource<S>) {
    static_assert(dependent_false<S>, "SecretSource: `draw()` must return a 64-bit unsigned integer (std::uint64_t)");
  }
  return true;
}

}  // namespace internal
}  // namespace nostd
