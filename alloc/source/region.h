// alloc/source/region.h — RegionSource: heap memory the caller hands in.
#pragma once

#include <cstddef>
#include <span>

#include "alloc/concepts/role.h"

namespace nostd {

/// The caller owns the memory: `BasicHeap<..., RegionSource> heap(std::span<std::byte>{buffer})`, and more
/// regions (need not be contiguous) with `heap.add_region(span)`. The regions must outlive the heap and must not
/// overlap each other or the heap object: the heap refuses such a span (and a null one with a length) with
/// kInvalidPointer, and one too small for a block with kOutOfMemory; a refused constructor region leaves it empty.
class RegionSource {
 public:
  using policy_role = role::Source;
  /// The heap takes regions from its constructor and `add_region`.
  static constexpr bool kAcceptsRegions = true;

  /// No initial region (add one with `add_region`).
  constexpr RegionSource() noexcept = default;
  /// `region` becomes the heap's first region.
  constexpr explicit RegionSource(std::span<std::byte> region) noexcept : region_(region) {}

  /// The region given to the constructor, once; empty afterwards.
  std::span<std::byte> acquire() noexcept {
    const std::span<std::byte> region = region_;
    region_ = {};
    return region;
  }

 private:
  std::span<std::byte> region_;
};

}  // namespace nostd
