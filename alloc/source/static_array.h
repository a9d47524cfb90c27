// alloc/source/static_array.h — StaticArraySource<Bytes>: heap memory inside the heap object itself.
#pragma once

#include <cstddef>
#include <span>

#include "alloc/concepts/role.h"

namespace nostd {

/// The heap's memory is an array member of the heap object: no OS, no linker-script symbols, and a heap that
/// can be `constinit` (the array is zero-initialised in a constant expression, so it lands in .bss).
/// `Bytes` is the whole array; a few words of it go to the region header and edge tags.
template <std::size_t Bytes>
class StaticArraySource {
 public:
  using policy_role = role::Source;
  /// Regions cannot be added to a static array heap.
  static constexpr bool kAcceptsRegions = false;
  /// The whole array's size: no block can be larger (a fit policy may size its index to it).
  static constexpr std::size_t kBytes = Bytes;

  static_assert(Bytes >= 128, "StaticArraySource: Bytes must be at least 128 to hold a region header and a block");

  constexpr StaticArraySource() noexcept = default;
  StaticArraySource(const StaticArraySource&) = delete;
  StaticArraySource& operator=(const StaticArraySource&) = delete;

  /// The whole array. Called once, on the heap's first use.
  std::span<std::byte> acquire() noexcept { return {storage_, Bytes}; }

 private:
  alignas(alignof(std::max_align_t)) std::byte storage_[Bytes]{};
};

}  // namespace nostd
