// alloc/concepts/secret_source.h — the SecretSource concept: where a hardened heap gets the key of its block checks.
//
// HardenedChecks (and the levels above it) keep a keyed check in every used block. The key is drawn once per heap,
// on the heap's first operation, from a source the user chooses: `GetrandomSecret` on hosted Linux
// (platform/getrandom_secret.h), a hardware random generator on a board, or the portable `AddressSecret`.
#pragma once

#include <concepts>
#include <cstdint>

namespace nostd {

/// A secret source: `draw()` returns 64 bits that an attacker cannot predict (as far as the platform allows).
/// Called once per heap, under the heap's lock; it must not allocate from that heap.
template <class S>
concept SecretSource = requires {
  { S::draw() } -> std::same_as<std::uint64_t>;
};

}  // namespace nostd
