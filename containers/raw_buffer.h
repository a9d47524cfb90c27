// containers/raw_buffer.h — `internal::RawBuffer<T, Alloc, kSentinels>`: the buffer mechanics `Vec` and `String`
// share (issue 10): the pointer, size and capacity, the allocator handle, move construction and assignment, and the
// fallible capacity changes with their failure guarantee.
//
// A buffer holds `size` live elements, then `kSentinels` trailing elements that it keeps across every change of
// capacity (String's NUL terminator: `String` is a `RawBuffer<char, Alloc, 1>`; `Vec` has none), then raw storage up
// to `capacity + kSentinels`. The buffer never creates or destroys the live elements: the container that derives from
// it does, and destroys them before the buffer is freed. What the buffer does with them:
//   * growth: `grow_keeping` asks for 1.5x, then the exact size (containers/growth.h); the block's slack counts as
//     capacity when the allocator reports `usable_size`;
//   * a change of capacity goes through `reallocate` when the allocator has it and a byte copy is a valid move of
//     `T` (containers/relocate.h), in place when the heap can; otherwise the elements are relocated into a new block
//     (with sentinels, so trivially copyable `T`: the whole storage up to the smaller capacity, as `reallocate` does);
//   * every failure comes from the allocator before anything changes: the pointer, size, capacity and elements are
//     then exactly as before (the containers' strong guarantee rests on this).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>

#include "alloc/allocator.h"
#include "alloc/error.h"
#include "alloc/layout.h"
#include "containers/growth.h"
#include "containers/relocate.h"

namespace nostd::internal {

/// The buffer of a contiguous container of `T` from `Alloc` with `kSentinels` trailing elements kept behind the
/// last one (see the file comment). A base class: `Vec` and `String` derive from it privately.
template <class T, class Alloc, std::size_t kSentinels>
class RawBuffer {
  static_assert(kSentinels == 0 || std::is_trivially_copyable_v<T>,
                "RawBuffer: sentinels are value-initialized and byte-copied, so T must be trivially copyable");

 public:
  /// The capacity of the first block, in elements before the sentinels (see containers/growth.h).
  static constexpr std::size_t kMinCapacity = min_capacity(sizeof(T));

  /// The largest capacity the buffer describes: with its sentinels, a byte count that fits `std::ptrdiff_t`.
  static constexpr std::size_t max_size() noexcept {
    return static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(T) - kSentinels;
  }

  /// Number of elements.
  std::size_t size() const noexcept { return size_; }
  /// Number of elements the buffer holds without growing (sentinels excluded).
  std::size_t capacity() const noexcept { return capacity_; }
  /// True when there are no elements.
  bool empty() const noexcept { return size_ == 0; }
  /// A copy of the allocator handle.
  Alloc allocator() const noexcept { return alloc_; }

  /// Makes `capacity() >= capacity` with one allocation of exactly that many elements (plus the sentinels and the
  /// block's slack) when the current capacity is smaller; `kSizeOverflow` when `capacity > max_size()`. On failure
  /// nothing changes.
  [[nodiscard]] Result<void> reserve(std::size_t capacity) {
    if (capacity <= capacity_) return {};
    if (capacity > max_size()) return fail(AllocError::kSizeOverflow);
    return change_capacity(capacity);
  }

  /// Asks for a block of exactly `size()` elements (none when empty). Through `reallocate` (see the file comment)
  /// the heap shrinks the block in place; otherwise the elements move to a new, smaller block, unless the block is
  /// nearly tight: with `usable_size`, a block whose usable bytes exceed a block of `size()` elements by less than
  /// `kShrinkMinGain` is kept (a heuristic: a new block would give back at most one step of the heap's rounding, 16
  /// bytes on x86-64, and often nothing), so a second call allocates nothing. The capacity may stay above `size()`
  /// when the heap rounds blocks up. Fails only when a new block is needed and cannot be had; the
  /// container is then unchanged.
  [[nodiscard]] Result<void> shrink_to_fit() {
    if (capacity_ == size_) return {};
    if (size_ == 0) {
      deallocate_buffer();
      return {};
    }
    if constexpr (!kCanReallocate && HasUsableSize<Alloc>) {
      if (layout_for(capacity_).size() - layout_for(size_).size() < kShrinkMinGain) return {};
    }
    return change_capacity(size_);
  }

  /// How many bytes a block's usable size must exceed the request by before a shrink through a new block is tried
  /// (with `usable_size`; see shrink_to_fit). Heaps step usable sizes by at least `alignof(std::max_align_t)` and hand
  /// out no block smaller than two free-list links plus a tag, so a block within this of the request is at most one
  /// rounding step larger than a new block for it: nostd's heaps give 24 usable bytes on x86-64 for every request up
  /// to 24 bytes, then steps of 16 (FirstFit + CompactTags), so a kept block forgoes at most 16 bytes. A tighter rule
  /// would have to know the heap's minimum block and step, which the allocator handle does not tell.
  static constexpr std::size_t kShrinkMinGain = alignof(std::max_align_t) + 2 * sizeof(void*);

 protected:
  // A block from the allocator: its address and how many `T` it holds before the sentinels (slack included).
  struct Block {
    T* ptr;
    std::size_t capacity;
  };

  // Growth goes through `reallocate` only when the allocator has it and a byte copy is a valid move of `T`.
  static constexpr bool kCanReallocate = HasReallocate<Alloc> && kIsTriviallyRelocatable<T>;
  static constexpr std::size_t kNotInBuffer = std::numeric_limits<std::size_t>::max();

  constexpr RawBuffer() noexcept requires std::default_initializable<Alloc>
  = default;
  constexpr explicit RawBuffer(Alloc alloc_handle) noexcept : alloc_(std::move(alloc_handle)) {}

  RawBuffer(const RawBuffer&) = delete;
  RawBuffer& operator=(const RawBuffer&) = delete;

  // Takes `moved_from`'s buffer and allocator; `moved_from` is left with no buffer. (Not `other`, nor `alloc`
  // above: GCC's -Wshadow reports a class template's constructor parameter named as a global of the user's file.)
  constexpr RawBuffer(RawBuffer&& moved_from) noexcept
      : data_(std::exchange(moved_from.data_, nullptr)),
        size_(std::exchange(moved_from.size_, 0)),
        capacity_(std::exchange(moved_from.capacity_, 0)),
        alloc_(moved_from.alloc_) {}

  // Frees this buffer (the derived container has destroyed its elements), then takes `other`'s.
  RawBuffer& operator=(RawBuffer&& other) noexcept requires std::is_copy_assignable_v<Alloc> {
    if (this != &other) {
      deallocate_buffer();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
      alloc_ = other.alloc_;
    }
    return *this;
  }

  // Frees the buffer; the derived container's destructor has destroyed the elements. Left empty for an allocator or
  // element type the container has rejected (its static_assert names why), so that a rejected `Vec<T, A> v;` stops
  // the compile at that one line instead of failing again here (//tests:containers_diagnostics_test counts errors).
  ~RawBuffer() {
    if constexpr (Allocator<Alloc> && !std::is_const_v<T> && !std::is_volatile_v<T>) deallocate_buffer();
  }

  // Exchanges buffers and allocators.
  void swap_buffer(RawBuffer& other) noexcept requires std::is_swappable_v<Alloc> {
    using std::swap;
    swap(data_, other.data_);
    swap(size_, other.size_);
    swap(capacity_, other.capacity_);
    swap(alloc_, other.alloc_);
  }

  // The index of the slot of the buffer `address` lies in (an element, a sentinel, or the storage after them up to
  // the capacity, where String keeps the bytes a truncation left), or kNotInBuffer. Compares integers, since
  // comparing pointers into different objects is unspecified.
  std::size_t index_in_buffer(const void* address) const noexcept {
    const auto addr = reinterpret_cast<std::uintptr_t>(address);
    const auto first = reinterpret_cast<std::uintptr_t>(data_);
    if (data_ == nullptr || addr < first || addr >= first + (capacity_ + kSentinels) * sizeof(T)) return kNotInBuffer;
    return (addr - first) / sizeof(T);
  }

  static Layout layout_for(std::size_t capacity) noexcept {
    // capacity <= max_size() keeps the byte count below PTRDIFF_MAX, so the layout is always valid.
    return *Layout::array<T>(capacity + kSentinels);
  }

  // How many `T` before the sentinels the block at `ptr`, allocated for `requested`, really holds.
  std::size_t capacity_of(void* ptr, std::size_t requested) const {
    if constexpr (HasUsableSize<Alloc>) {
      const std::size_t usable = static_cast<std::size_t>(alloc_.usable_size(ptr)) / sizeof(T);
      return std::min(std::max(usable, requested + kSentinels) - kSentinels, max_size());
    } else {
      static_cast<void>(ptr);
      return requested;
    }
  }

  Result<Block> allocate_block(std::size_t capacity) {
    auto layout = Layout::array<T>(capacity + kSentinels);
    if (!layout) return fail(layout.error());
    auto ptr = alloc_.allocate(*layout);
    if (!ptr) return fail(ptr.error());
    return Block{static_cast<T*>(*ptr), capacity_of(*ptr, capacity)};
  }

  // A block for at least `required` elements: 1.5x first, then exactly `required` (containers/growth.h).
  Result<Block> allocate_for_growth(std::size_t required) {
    const std::size_t preferred = grown_capacity(capacity_, required, kMinCapacity, max_size());
    auto block = allocate_block(preferred);
    if (!block && preferred != required) block = allocate_block(required);
    return block;
  }

  // Relocates the elements and sentinels into `block`, leaving `gap` already-constructed elements at index `pos`
  // alone (the caller built them there), frees the old buffer and takes the new one. Cannot fail. Without an old
  // buffer the sentinels are value-initialized (String's terminator is '\0').
  void adopt(Block block, std::size_t pos, std::size_t gap) noexcept {
    if (data_ != nullptr) {
      relocate_forward(data_, pos, block.ptr);
      relocate_forward(data_ + pos, size_ - pos + kSentinels, block.ptr + pos + gap);
    } else if constexpr (kSentinels > 0) {
      std::uninitialized_value_construct_n(block.ptr + size_ + gap, kSentinels);
    }
    deallocate_buffer();
    data_ = block.ptr;
    capacity_ = block.capacity;
    size_ += gap;
  }

  // Changes the capacity to `capacity` (>= size_) keeping every element at its index; the only failure point is
  // the allocator, before anything changes.
  Result<void> change_capacity(std::size_t capacity) {
    if constexpr (kCanReallocate) {
      if (data_ != nullptr) {
        auto ptr = alloc_.reallocate(data_, layout_for(capacity_), layout_for(capacity).size());
        if (!ptr) return fail(ptr.error());
        data_ = static_cast<T*>(*ptr);
        capacity_ = capacity_of(*ptr, capacity);
        return {};
      }
    }
    auto block = allocate_block(capacity);
    if (!block) return fail(block.error());
    if constexpr (kSentinels > 0) {
      if (data_ != nullptr) {
        // Trivially copyable elements (the static_assert above): the storage past the sentinels moves too, up to the
        // smaller capacity, as `reallocate` keeps it, so that a view of bytes a truncation left (String::insert's
        // piece) reads the same bytes at the same offsets in the new block.
        const std::size_t kept = std::min(capacity_, block->capacity) + kSentinels;
        std::memcpy(static_cast<void*>(block->ptr), static_cast<const void*>(data_), kept * sizeof(T));
        deallocate_buffer();
        data_ = block->ptr;
        capacity_ = block->capacity;
        return {};
      }
    }
    adopt(*block, size_, 0);
    return {};
  }

  // Makes room for `required` elements (1.5x, then exact), keeping every element at its index.
  Result<void> grow_keeping(std::size_t required) {
    if (required <= capacity_) return {};
    if (required > max_size()) return fail(AllocError::kSizeOverflow);
    const std::size_t preferred = grown_capacity(capacity_, required, kMinCapacity, max_size());
    Result<void> grown = change_capacity(preferred);
    if (grown) return {};
    if (preferred == required) return fail(grown.error());
    return change_capacity(required);
  }

  // Returns the buffer (elements already destroyed) to the allocator.
  void deallocate_buffer() noexcept {
    if (data_ != nullptr) alloc_.deallocate(data_, layout_for(capacity_));
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  [[no_unique_address]] Alloc alloc_{};
};

}  // namespace nostd::internal
