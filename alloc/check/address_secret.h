// alloc/check/address_secret.h — AddressSecret: the portable, weak default key source of the hardened levels.
#pragma once

#include <cstdint>

namespace nostd {

/// A fixed 64-bit constant. The heap mixes its own address into whatever a source draws, so with this source
/// every heap still gets its own key, and a block copied or forged from another heap fails its check. It is not
/// secret: it stops accidental corruption and forged blocks from code that does not read this header, not an
/// attacker who knows the binary and the heap's address. Give HardenedChecks `GetrandomSecret` (hosted Linux,
/// platform/getrandom_secret.h) or a source backed by the board's random number generator in production.
struct AddressSecret {
  /// The constant (the fractional digits of the golden ratio, a common odd mixing constant).
  static constexpr std::uint64_t draw() noexcept { return 0x9E3779B97F4A7C15ull; }
};

}  // namespace nostd
