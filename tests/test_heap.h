// tests/test_heap.h — framework-free pieces every heap test and check program shares: an owning test heap over
// any source, a deterministic random generator, and the fill patterns written on allocation and checked on free.
// No GoogleTest here (tests/heap_test_util.h adds the GoogleTest helpers): the bare-metal check programs, which
// cannot link GoogleTest, drive heaps with these too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/alloc.h"

namespace nostd::testing {

/// Bytes of memory every test heap gets (kept small enough for the Cortex-M test board).
inline constexpr std::size_t kTestHeapBytes = 64 * 1024;

/// Owns a heap of type `Heap` together with its memory, whatever its source: a RegionSource heap gets a buffer
/// inside this object, the other sources bring their own. Allocate it with `new` (it is large).
template <class Heap, std::size_t Bytes = kTestHeapBytes>
class TestHeap {
 public:
  /// A heap over this object's own buffer (RegionSource).
  TestHeap() requires(Heap::Source::kAcceptsRegions) : heap_(std::span<std::byte>(buffer_)) {}
  /// A heap whose source brings its memory (StaticArraySource, MmapSource).
  TestHeap() requires(!Heap::Source::kAcceptsRegions) {}
  /// The heap under test.
  Heap& heap() { return heap_; }

 private:
  alignas(64) std::byte buffer_[Heap::Source::kAcceptsRegions ? Bytes : 1] = {};
  Heap heap_;
};

/// Splitmix64: a small, fast, well-mixed generator whose sequence is the same on every platform.
class SplitMix64 {
 public:
  /// A generator seeded with `seed`.
  explicit constexpr SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
  /// The next 64 random bits.
  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// A number in [lo, hi].
  constexpr std::size_t range(std::size_t lo, std::size_t hi) noexcept {
    return lo + static_cast<std::size_t>(next() % (hi - lo + 1));
  }
  /// A size between 2^lo_log and 2^hi_log, roughly log-uniform (small sizes as likely per octave as large).
  constexpr std::size_t log_size(unsigned lo_log, unsigned hi_log) noexcept {
    const unsigned octave = static_cast<unsigned>(range(lo_log, hi_log - 1));
    const std::size_t base = std::size_t{1} << octave;
    return base + range(0, base - 1);
  }

 private:
  std::uint64_t state_;
};

/// The fill byte of payload byte `i` of the block tagged `tag`.
constexpr std::byte pattern_byte(std::size_t tag, std::size_t i) noexcept {
  return static_cast<std::byte>((tag * 131u + i * 7u + 0x5Au) & 0xFFu);
}

/// Writes the fill pattern of `tag` over `size` bytes at `p`.
inline void fill(void* p, std::size_t size, std::size_t tag) {
  auto* bytes = static_cast<std::byte*>(p);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = pattern_byte(tag, i);
}

/// True when the `size` bytes at `p` still hold the fill pattern of `tag`.
inline bool holds_pattern(const void* p, std::size_t size, std::size_t tag) {
  const auto* bytes = static_cast<const std::byte*>(p);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != pattern_byte(tag, i)) return false;
  }
  return true;
}

/// True when `heap` owns none of the `size` bytes at `p`, asked a granule apart (a region taken back with
/// remove_region: owns()'s one-compare test of the newest region must have followed the removal).
template <class Heap>
bool owns_none(const Heap& heap, const void* p, std::size_t size) {
  const auto* bytes = static_cast<const std::byte*>(p);
  for (std::size_t i = 0; i < size; i += Heap::kGranule) {
    if (heap.owns(bytes + i)) return false;
  }
  return true;
}

}  // namespace nostd::testing
