// containers/vec.h — `Vec<T, Alloc>`: a contiguous, growable array whose every growth can fail without loss.
//
// Like `std::vector`, except that nothing throws: every operation that may allocate is `[[nodiscard]]` and returns
// a `Result`, and gives the strong guarantee — after a failure the vector's size, capacity, data pointer and
// elements are exactly as before (moving an element cannot fail in this project, so the allocation is the only
// failure point, and it always happens before any element is touched). In code built with exceptions, an element
// constructor that throws (a copy, `T()`) gets the same guarantee: what was built is destroyed, a new block is freed
// and the exception goes on (containers/unwind.h; moves must still not throw). Operations that never allocate
// (pop_back, erase, clear, element access) have the `std::vector` shapes, with checked access returning a pointer
// instead of throwing.
//
// Memory comes from an `Allocator` handle (alloc/allocator.h) stored in the vector: `HeapRef<Heap>` (one word) or
// `StaticHeapRef<kHeap>` (empty, so `sizeof(Vec) == 3 * sizeof(void*)`). When the allocator reports
// `usable_size`, the slack at the end of a block counts as capacity; when it can `reallocate` and `T` is
// trivially relocatable (containers/relocate.h), growth by a `T`, a range or a count goes through `reallocate`, in
// place when the heap can (an emplace from other arguments builds its element in a new block, see emplace_growing).
// Other types are moved element by element into a new block, never through `reallocate`, whose byte copy would
// skip their move constructors. Growth policy: 1.5x with an exact-size retry, see containers/growth.h. The buffer
// mechanics (pointer, size, capacity, moves, capacity changes) are String's too: containers/raw_buffer.h.
//
// Iterators are plain pointers; every growth invalidates them, as in `std::vector`.
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>

#include "alloc/allocator.h"
#include "alloc/error.h"
#include "containers/raw_buffer.h"
#include "containers/relocate.h"
#include "containers/unwind.h"

namespace nostd {

/// A type with `try_clone() const -> Result<T>`: a fallible copy (`Vec`, `String`). `Vec::try_clone` uses it for
/// elements that cannot be copied infallibly.
template <class T>
concept TryCloneable = requires(const T& value) {
  { value.try_clone() } -> std::same_as<Result<T>>;
};

/// A growable array of `T` in memory from `Alloc` whose growth is fallible and all-or-nothing (see the
/// file comment). `T` must be a move-constructible, destructible object type; `Alloc` an `Allocator`.
template <class T, class Alloc>
class Vec : private internal::RawBuffer<T, Alloc, 0> {
  using Buffer = internal::RawBuffer<T, Alloc, 0>;
  static_assert(internal::diagnose_allocator<Alloc>());
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "Vec: T must be a non-const, non-volatile object type");
  static_assert(std::move_constructible<T> && std::destructible<T>,
                "Vec: T must be move constructible and destructible (elements move when the vector grows)");

 public:
  /// The element type.
  using value_type = T;
  /// The allocator handle type.
  using allocator_type = Alloc;
  /// Sizes and indices.
  using size_type = std::size_t;
  /// Iterator differences.
  using difference_type = std::ptrdiff_t;
  /// Element reference.
  using reference = T&;
  /// Element reference, const.
  using const_reference = const T&;
  /// Element pointer.
  using pointer = T*;
  /// Element pointer, const.
  using const_pointer = const T*;
  /// Iterators are pointers: contiguous, invalidated by every growth.
  using iterator = T*;
  /// Const iterator.
  using const_iterator = const T*;

  /// The capacity of the first block (see containers/growth.h).
  using Buffer::kMinCapacity;

  /// An empty vector with a default-constructed allocator handle (e.g. `StaticHeapRef`). Never allocates.
  constexpr Vec() noexcept requires std::default_initializable<Alloc>
  = default;

  /// An empty vector that will allocate from `alloc_handle`. Never allocates.
  constexpr explicit Vec(Alloc alloc_handle) noexcept : Buffer(std::move(alloc_handle)) {}

  /// An empty vector with room for at least `capacity` elements, or the allocation error.
  [[nodiscard]] static Result<Vec> with_capacity(std::size_t capacity, Alloc alloc) {
    Vec vec(std::move(alloc));
    if (auto reserved = vec.reserve(capacity); !reserved) return fail(reserved.error());
    return vec;
  }

  /// No copy constructor: a copy allocates, and allocation can fail; use `try_clone()`.
  Vec(const Vec&) = delete;
  /// No copy assignment, for the same reason.
  Vec& operator=(const Vec&) = delete;

  /// Takes `other`'s buffer and allocator; `other` is left empty with no buffer. Never allocates.
  constexpr Vec(Vec&& other) noexcept = default;

  /// Takes `other`'s buffer and allocator, then destroys this vector's former elements and frees its former buffer.
  /// `other` may be owned by one of those elements (a subtree moved into its parent's place): it is emptied first.
  Vec& operator=(Vec&& other) noexcept requires std::is_copy_assignable_v<Alloc> {
    if (this != &other) {
      Vec former(std::move(*this));  // destroyed on leaving this block, after `other` has been taken
      Buffer::operator=(std::move(other));
    }
    return *this;
  }

  /// Destroys every element once; the buffer goes back to the allocator (internal::RawBuffer).
  ~Vec() { truncate(0); }

  /// A copy of this vector (elements copied, or `try_clone`d when `T` is `TryCloneable`), with a buffer of exactly
  /// `size()` elements (plus the block's slack) from a copy of this vector's allocator, or the first error. When an
  /// element copy throws (code built with exceptions), the copies made so far are destroyed and the block freed.
  [[nodiscard]] Result<Vec> try_clone() const requires std::copy_constructible<T> || TryCloneable<T> {
    Vec out(alloc_);
    if (size_ == 0) return out;
    auto block = out.allocate_block(size_);
    if (!block) return fail(block.error());
    out.data_ = block->ptr;
    out.capacity_ = block->capacity;
    for (std::size_t i = 0; i < size_; ++i) {
      if constexpr (TryCloneable<T>) {
        // Element clones can fail; `out` owns what is built so far, so its destructor cleans up on failure (and, for
        // a copy that throws, during the unwinding).
        auto element = data_[i].try_clone();
        if (!element) return fail(element.error());
        std::construct_at(out.data_ + i, std::move(*element));
      } else {
        std::construct_at(out.data_ + i, data_[i]);
      }
      ++out.size_;
    }
    return out;
  }

  // ---- Growth: fallible, strong guarantee ------------------------------------------------------------------------

  /// Appends a copy of `value` (which may be an element of this vector). Amortised O(1).
  [[nodiscard]] Result<void> push_back(const T& value) requires std::copy_constructible<T> {
    return discard_pointer(emplace_back(value));
  }

  /// Appends `value`, moved. On failure `value` is left untouched. Amortised O(1).
  [[nodiscard]] Result<void> push_back(T&& value) { return discard_pointer(emplace_back(std::move(value))); }

  /// Constructs an element at the end from `args` (which may refer to elements of this vector) and returns a
  /// pointer to it; `std::expected` cannot hold a reference (C++23 [expected.object.general]). On failure
  /// nothing is constructed and the arguments are not used. Amortised O(1).
  template <class... Args>
  requires std::constructible_from<T, Args...>
  [[nodiscard]] Result<T*> emplace_back(Args&&... args) { return emplace_at(size_, std::forward<Args>(args)...); }

  /// Constructs an element before `pos` (in `[begin(), end()]`) from `args` and returns a pointer to it. O(size()).
  /// `kInvalidPointer`, with nothing changed, when `pos` is not such a position (as for every insert below).
  template <class... Args>
  requires std::constructible_from<T, Args...>
  [[nodiscard]] Result<T*> emplace(const_iterator pos, Args&&... args) {
    const std::size_t index = index_of(pos);
    if (index > size_) return fail(AllocError::kInvalidPointer);
    return emplace_at(index, std::forward<Args>(args)...);
  }

  /// Inserts a copy of `value` before `pos` (in `[begin(), end()]`); returns a pointer to the new element.
  [[nodiscard]] Result<T*> insert(const_iterator pos, const T& value) requires std::copy_constructible<T> {
    const std::size_t index = index_of(pos);
    if (index > size_) return fail(AllocError::kInvalidPointer);
    return emplace_at(index, value);
  }

  /// Inserts `value`, moved, before `pos` (in `[begin(), end()]`); returns a pointer to the new element.
  [[nodiscard]] Result<T*> insert(const_iterator pos, T&& value) {
    const std::size_t index = index_of(pos);
    if (index > size_) return fail(AllocError::kInvalidPointer);
    return emplace_at(index, std::move(value));
  }

  /// Inserts copies of `values` (which may be a part of this vector) before `pos` with at most one growth; returns
  /// a pointer to the first inserted element (`pos` when `values` is empty). O(size() + values.size()).
  [[nodiscard]] Result<T*> insert(const_iterator pos, std::span<const T> values) requires std::copy_constructible<T> {
    const std::size_t index = index_of(pos);
    if (index > size_) return fail(AllocError::kInvalidPointer);
    return insert_span(index, values);
  }

  /// Appends copies of `values` (which may be a part of this vector) with at most one growth.
  [[nodiscard]] Result<void> append(std::span<const T> values) requires std::copy_constructible<T> {
    return discard_pointer(insert_span(size_, values));
  }

  /// Appends an element constructed from each element of `range` with at most one growth. A contiguous range of
  /// `T` takes the `std::span` overload; other ranges may view this vector too (e.g. `std::views::reverse(v)`),
  /// so when they need growth their elements are built in the new block before the old one is freed, and
  /// `reallocate` is not used.
  template <std::ranges::forward_range R>
  requires std::constructible_from<T, std::ranges::range_reference_t<R>>
  [[nodiscard]] Result<void> append(R&& range) {
    if constexpr (std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                  std::same_as<std::ranges::range_value_t<R>, T> && std::copy_constructible<T>) {
      return append(std::span<const T>(std::ranges::data(range), std::ranges::size(range)));
    } else {
      const auto distance = std::ranges::distance(range);
      if (distance_above(distance, max_size() - size_)) return fail(AllocError::kSizeOverflow);
      const std::size_t count = static_cast<std::size_t>(distance);
      // Not only `T`'s constructor may throw: so may the range's iteration (a transform view's function), whatever
      // the element type, so every range is built under the guards in code built with exceptions.
      constexpr bool kMayThrow = internal::kExceptions;
      if (size_ + count <= capacity_) {
        construct_from_range<kMayThrow>(data_ + size_, range);
        size_ += count;
        return {};
      }
      auto block = allocate_for_growth(size_ + count);
      if (!block) return fail(block.error());
      if constexpr (kMayThrow) {
        build_in(*block, [&] { construct_from_range<true>(block->ptr + size_, range); });
      } else {
        construct_from_range<false>(block->ptr + size_, range);
      }
      adopt(*block, size_, count);
      return {};
    }
  }

  /// Makes `size()` equal `count`: destroys elements past `count`, or appends value-initialised elements
  /// (`T()`: zero for arithmetic types) with at most one growth.
  [[nodiscard]] Result<void> resize(std::size_t count) requires std::default_initializable<T> {
    // The size check before the truncation, though size() <= max_size() makes every count it refuses a growth (which
    // checks it too): GCC cannot see that bound, and at -O2 warned of a truncate to SIZE_MAX destroying out of bounds.
    if (count > max_size()) return fail(AllocError::kSizeOverflow);
    if (count <= size_) {
      truncate(count);
      return {};
    }
    if constexpr (internal::kConstructionMayThrow<T>) {
      return append_until(count, [](T* slot) { std::construct_at(slot); });
    } else {
      if (auto grown = grow_keeping(count); !grown) return fail(grown.error());
      for (std::size_t i = size_; i < count; ++i) std::construct_at(data_ + i);
      size_ = count;
      return {};
    }
  }

  /// Makes `size()` equal `count`: destroys elements past `count`, or appends copies of `value` (which may be an
  /// element of this vector) with at most one growth.
  [[nodiscard]] Result<void> resize(std::size_t count, const T& value) requires std::copy_constructible<T> {
    if (count > max_size()) return fail(AllocError::kSizeOverflow);  // first, as in resize(count)
    if (count <= size_) {
      truncate(count);
      return {};
    }
    if constexpr (internal::kConstructionMayThrow<T, const T&>) {
      // `value` may live in this buffer, which append_until keeps (at its address) until every copy is made.
      return append_until(count, [&value](T* slot) { std::construct_at(slot, value); });
    } else {
      // `value` may live in this buffer; growth moves it, keeping its index.
      const std::size_t self = index_in_buffer(std::addressof(value));
      if (auto grown = grow_keeping(count); !grown) return fail(grown.error());
      const T& source = self != kNotInBuffer ? data_[self] : value;
      for (std::size_t i = size_; i < count; ++i) std::construct_at(data_ + i, source);
      size_ = count;
      return {};
    }
  }

  /// Makes `capacity() >= capacity` with one allocation of exactly that many elements (plus the block's slack)
  /// when the current capacity is smaller; `kSizeOverflow` when `capacity > max_size()`.
  using Buffer::reserve;

  /// Asks for a block of exactly `size()` elements (none when empty). With `reallocate` and a trivially
  /// relocatable `T` the heap shrinks the block in place; otherwise elements move to a new, smaller block, unless
  /// the block is nearly tight (`internal::RawBuffer::shrink_to_fit`: then a second call allocates nothing). The
  /// capacity may stay above `size()` when the heap rounds blocks up. Fails only when a new block is needed and
  /// cannot be had; the vector is then unchanged.
  using Buffer::shrink_to_fit;

  // ---- Non-growing operations -------------------------------------------------------------------------------------

  /// Removes the last element and returns it, or an empty optional when the vector is empty.
  std::optional<T> pop_back() {
    if (size_ == 0) return std::nullopt;
    std::optional<T> out(std::move(data_[size_ - 1]));
    std::destroy_at(data_ + size_ - 1);
    --size_;
    return out;
  }

  /// Removes the element at `pos` (in `[begin(), end())`); returns a pointer to the element that followed it, or
  /// nullptr, with nothing removed, when `pos` is not an element of this vector.
  T* erase(const_iterator pos) noexcept {
    const std::size_t index = index_of(pos);
    if (index >= size_) return nullptr;
    return erase_indices(index, index + 1);
  }

  /// Removes the elements in `[first, last)` (a range within `[begin(), end()]`); returns a pointer to the element
  /// that followed them, or nullptr, with nothing removed, when `[first, last)` is not such a range (reversed, or
  /// not positions of this vector). The tail is relocated (moved and destroyed), so `T` needs no assignment
  /// operator.
  T* erase(const_iterator first, const_iterator last) noexcept {
    const std::size_t from = index_of(first);
    const std::size_t to = index_of(last);
    if (from > to || to > size_) return nullptr;
    return erase_indices(from, to);
  }

  /// Destroys every element; keeps the buffer (`capacity()` is unchanged).
  void clear() noexcept { truncate(0); }

  /// Exchanges contents and allocators with `other`.
  void swap(Vec& other) noexcept requires std::is_swappable_v<Alloc> { Buffer::swap_buffer(other); }

  /// The element at `index`. Precondition: `index < size()`.
  T& operator[](std::size_t index) noexcept { return data_[index]; }
  /// The element at `index`. Precondition: `index < size()`.
  const T& operator[](std::size_t index) const noexcept { return data_[index]; }

  /// A pointer to the element at `index`, or nullptr when `index >= size()`.
  T* at(std::size_t index) noexcept { return index < size_ ? data_ + index : nullptr; }
  /// A pointer to the element at `index`, or nullptr when `index >= size()`.
  const T* at(std::size_t index) const noexcept { return index < size_ ? data_ + index : nullptr; }

  /// The first element. Precondition: `!empty()`.
  T& front() noexcept { return data_[0]; }
  /// The first element. Precondition: `!empty()`.
  const T& front() const noexcept { return data_[0]; }
  /// The last element. Precondition: `!empty()`.
  T& back() noexcept { return data_[size_ - 1]; }
  /// The last element. Precondition: `!empty()`.
  const T& back() const noexcept { return data_[size_ - 1]; }

  /// The buffer (nullptr when there is none; then `size() == 0`).
  T* data() noexcept { return data_; }
  /// The buffer (nullptr when there is none; then `size() == 0`).
  const T* data() const noexcept { return data_; }

  /// Number of elements.
  using Buffer::size;
  /// Number of elements the buffer holds without growing.
  using Buffer::capacity;
  /// True when there are no elements.
  using Buffer::empty;
  /// The largest size a `Vec<T>` can describe: a byte count that fits `std::ptrdiff_t`.
  using Buffer::max_size;

  /// A copy of the allocator handle.
  using Buffer::allocator;

  /// Iterator to the first element.
  T* begin() noexcept { return data_; }
  /// Iterator past the last element.
  T* end() noexcept { return data_ + size_; }
  /// Iterator to the first element.
  const T* begin() const noexcept { return data_; }
  /// Iterator past the last element.
  const T* end() const noexcept { return data_ + size_; }
  /// Iterator to the first element.
  const T* cbegin() const noexcept { return data_; }
  /// Iterator past the last element.
  const T* cend() const noexcept { return data_ + size_; }

  /// The elements as a span. (A `Vec` also converts implicitly: `std::span<T>` and `std::span<const T>` accept
  /// any contiguous, sized range.)
  std::span<T> as_span() noexcept { return {data_, size_}; }
  /// The elements as a span of const.
  std::span<const T> as_span() const noexcept { return {data_, size_}; }

  /// Element-wise equality (sizes first).
  friend bool operator==(const Vec& a, const Vec& b) requires std::equality_comparable<T> {
    return std::ranges::equal(a.as_span(), b.as_span());
  }
  /// Element-wise equality with any span of `T`.
  friend bool operator==(const Vec& a, std::span<const T> b) requires std::equality_comparable<T> {
    return std::ranges::equal(a.as_span(), b);
  }
  /// Lexicographic order.
  friend auto operator<=>(const Vec& a, const Vec& b) requires std::three_way_comparable<T> {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  // The buffer's state and mechanics (containers/raw_buffer.h), by their plain names.
  using Buffer::adopt;
  using Buffer::alloc_;
  using Buffer::allocate_block;
  using Buffer::allocate_for_growth;
  using Buffer::capacity_;
  using Buffer::data_;
  using Buffer::grow_keeping;
  using Buffer::index_in_buffer;
  using Buffer::kCanReallocate;
  using Buffer::kNotInBuffer;
  using Buffer::size_;
  using typename Buffer::Block;

  // Whether a range's length `distance` (>= 0) is above `limit`, compared before a conversion to std::size_t could
  // truncate it: a difference type may be wider (libstdc++'s integer-class type for an iota_view over a 64-bit
  // integer on a 32-bit target, over __int128 on a 64-bit one), and 2^N + 3 would pass as 3.
  template <class Distance>
  static constexpr bool distance_above(const Distance& distance, std::size_t limit) noexcept {
    if constexpr (std::is_integral_v<Distance> && sizeof(Distance) <= sizeof(std::size_t)) {
      return static_cast<std::size_t>(distance) > limit;
    } else {
      return distance > static_cast<Distance>(limit);
    }
  }

  static Result<void> discard_pointer(const Result<T*>& result) {
    if (!result) return fail(result.error());
    return {};
  }

  // The index of position `pos` (an element or end()), or a value above size_ when `pos` is none of this vector's
  // positions (another vector's, past the end, not at an element's start). Integers, as in index_in_buffer: `pos`
  // may point into another object.
  std::size_t index_of(const T* pos) const noexcept {
    const std::uintptr_t offset = reinterpret_cast<std::uintptr_t>(pos) - reinterpret_cast<std::uintptr_t>(data_);
    return offset % sizeof(T) == 0 ? static_cast<std::size_t>(offset / sizeof(T)) : kNotInBuffer;
  }

  // erase's work: removes the elements at indices [from, to), from <= to <= size_.
  T* erase_indices(std::size_t from, std::size_t to) noexcept {
    if (from == to) return data_ + from;
    std::destroy(data_ + from, data_ + to);
    internal::relocate_forward(data_ + to, size_ - to, data_ + from);
    size_ -= to - from;
    return data_ + from;
  }

  template <class... Args>
  Result<T*> emplace_at(std::size_t pos, Args&&... args) {
    if (size_ < capacity_) {
      T* slot = data_ + pos;
      if (pos == size_) {
        std::construct_at(slot, std::forward<Args>(args)...);
      } else {
        // The arguments may refer to elements about to move: build the new element before opening the gap, in
        // raw storage so that it can be relocated into place (a byte copy for trivially relocatable types).
        alignas(T) std::byte storage[sizeof(T)];
        T* value = std::construct_at(reinterpret_cast<T*>(storage), std::forward<Args>(args)...);
        internal::relocate_backward(slot, size_ - pos, slot + 1);
        internal::relocate_forward(value, 1, slot);
      }
      ++size_;
      return slot;
    }
    return emplace_growing(pos, std::forward<Args>(args)...);
  }

  // emplace_at when the buffer is full: grow, then build. Out of line, so that emplace_at's room-left path stays small
  // enough to inline into the caller's loop: with the heap's reallocate inlined into one function, GCC kept the whole
  // of emplace_at out of line, and `Vec<std::uint64_t>` on a heap took 4.5x glibc's time for 100,000 push_backs
  // (//bench:micro_bench, BM_VecPushBack), a call per element, where `std::vector`-style code inlines the store.
  template <class... Args>
  [[gnu::noinline]] Result<T*> emplace_growing(std::size_t pos, Args&&... args) {
    if (size_ >= max_size()) return fail(AllocError::kSizeOverflow);
    // A constructor that may throw never follows a growth in place (the growth could not be undone): it takes the
    // new-block path below, whose block is freed when it throws.
    constexpr bool kMayThrow = internal::kConstructionMayThrow<T, Args...>;
    if constexpr (kCanReallocate && !kMayThrow && sizeof...(Args) == 1 &&
                  (std::is_same_v<std::remove_cvref_t<Args>, T> && ...)) {
      // A T (push_back, insert: a copy or a move) grows through `reallocate`, in place when the heap can. Nothing
      // is built before the growth succeeds, so a failure leaves the argument untouched. The argument can refer
      // into the block only directly (a T is not a member of a T), which the address check sees; growth keeps
      // element indices, so such an argument is found again by its index.
      if (data_ != nullptr) {
        const std::size_t source = (index_in_buffer(std::addressof(args)), ...);
        if (auto grown = grow_keeping(size_ + 1); !grown) return fail(grown.error());
        T* slot = data_ + pos;
        internal::relocate_backward(slot, size_ - pos, slot + 1);
        if (source == kNotInBuffer) {
          std::construct_at(slot, std::forward<Args>(args)...);
        } else {
          // Elements at or after `pos` have just moved up by one. Cast as the argument came (copy or move).
          T& from = data_[source < pos ? source : source + 1];
          std::construct_at(slot, static_cast<Args&&>(from)...);
        }
        ++size_;
        return slot;
      }
    }
    // Any other arguments (emplace from values, pointers, wrappers): never through `reallocate`. It may free the
    // old block, which the arguments may reach in ways no address check sees (a reference_wrapper, an index, a
    // proxy), and building the element before the growth would construct (and on failure destroy) an element
    // from arguments the caller still owns: an owning handle would release the caller's resource. So the element
    // is built in a new block, after the allocation succeeded and while the old block is still valid. The price:
    // such emplaces never grow in place.
    // New block: build the element there while the arguments (maybe in the old block) are still valid.
    auto block = allocate_for_growth(size_ + 1);
    if (!block) return fail(block.error());
    if constexpr (kMayThrow) {
      build_in(*block, [&] { std::construct_at(block->ptr + pos, std::forward<Args>(args)...); });
    } else {
      std::construct_at(block->ptr + pos, std::forward<Args>(args)...);
    }
    adopt(*block, pos, 1);
    return data_ + pos;
  }

  Result<T*> insert_span(std::size_t pos, std::span<const T> values) {
    const std::size_t count = values.size();
    if (count == 0) return data_ + pos;
    if (count > max_size() - size_) return fail(AllocError::kSizeOverflow);
    if constexpr (internal::kConstructionMayThrow<T, const T&>) {
      return insert_span_may_throw(pos, values);
    } else {
      // `values` may be a part of this vector. Growth keeps element indices, so remember the index, not the address.
      const std::size_t self = index_in_buffer(values.data());
      if (auto grown = grow_keeping(size_ + count); !grown) return fail(grown.error());
      T* gap = data_ + pos;
      internal::relocate_backward(gap, size_ - pos, gap + count);
      for (std::size_t i = 0; i < count; ++i) {
        if (self == kNotInBuffer) {
          std::construct_at(gap + i, values[i]);
        } else {
          // Source elements at or after `pos` have just moved up by `count`; those before it stayed.
          const std::size_t source = self + i;
          std::construct_at(gap + i, data_[source < pos ? source : source + count]);
        }
      }
      size_ += count;
      return gap;
    }
  }

  // insert_span for a `T` whose copy may throw (internal::kConstructionMayThrow): a throw leaves the vector as it was.
  // Growth builds the copies in a new block while the old one, which `values` may view, is intact, and adopts the
  // block only when every copy is made (never through `reallocate`: a growth in place could not be undone). With
  // room, the copies go into a gap that a throw closes again (relocation cannot throw).
  Result<T*> insert_span_may_throw(std::size_t pos, std::span<const T> values) {
    const std::size_t count = values.size();
    if (size_ + count > capacity_) {
      auto block = allocate_for_growth(size_ + count);
      if (!block) return fail(block.error());
      build_in(*block, [&] { construct_copies(block->ptr + pos, values); });
      adopt(*block, pos, count);
      return data_ + pos;
    }
    const std::size_t self = index_in_buffer(values.data());
    T* gap = data_ + pos;
    internal::relocate_backward(gap, size_ - pos, gap + count);
    std::size_t built = 0;
    internal::UnwindGuard close_gap([&] {
      std::destroy_n(gap, built);
      internal::relocate_forward(gap + count, size_ - pos, gap);
    });
    for (; built < count; ++built) {
      if (self == kNotInBuffer) {
        std::construct_at(gap + built, values[built]);
      } else {
        // Source elements at or after `pos` have just moved up by `count`; those before it stayed.
        const std::size_t source = self + built;
        std::construct_at(gap + built, data_[source < pos ? source : source + count]);
      }
    }
    close_gap.dismiss();
    size_ += count;
    return gap;
  }

  // Appends elements built by `make(slot)` until size_ == count (> size_, <= max_size() checked here), for an element
  // constructor that may throw: in place when there is room, otherwise in a new block (1.5x, then exact) adopted only
  // when every element is built, so that arguments in the old block stay valid. A throw destroys the new elements,
  // frees the new block and leaves the vector as it was.
  template <class Make>
  Result<void> append_until(std::size_t count, Make make) {
    if (count > max_size()) return fail(AllocError::kSizeOverflow);
    if (count <= capacity_) {
      construct_n(data_ + size_, count - size_, make);
      size_ = count;
      return {};
    }
    auto block = allocate_for_growth(count);
    if (!block) return fail(block.error());
    build_in(*block, [&] { construct_n(block->ptr + size_, count - size_, make); });
    adopt(*block, size_, count - size_);
    return {};
  }

  // Runs `build`, which constructs elements in `block` (a block from the allocator, not yet adopted) and destroys them
  // itself when one throws; a throw then also returns the block to the allocator before it leaves.
  template <class Build>
  void build_in(Block block, Build build) {
    internal::UnwindGuard give_back([&] { alloc_.deallocate(block.ptr, Buffer::layout_for(block.capacity)); });
    build();
    give_back.dismiss();
  }

  // Constructs `count` elements at `out` with `make(slot)`; when one throws, destroys those built before it.
  template <class Make>
  static void construct_n(T* out, std::size_t count, Make& make) {
    std::size_t built = 0;
    internal::UnwindGuard destroy_built([&] { std::destroy_n(out, built); });
    for (; built < count; ++built) make(out + built);
    destroy_built.dismiss();
  }

  // Copies `values` to `out`; when a copy throws, destroys those made before it.
  static void construct_copies(T* out, std::span<const T> values) {
    auto copy = [&values, out](T* slot) { std::construct_at(slot, values[static_cast<std::size_t>(slot - out)]); };
    construct_n(out, values.size(), copy);
  }

  // Constructs elements at `out` from those of `range`; with `kGuarded` (a constructor that may throw), a throw
  // destroys the elements built before it.
  template <bool kGuarded, class R>
  static void construct_from_range(T* out, R& range) {
    if constexpr (kGuarded) {
      T* const first = out;
      internal::UnwindGuard destroy_built([&] { std::destroy(first, out); });
      for (auto&& element : range) {
        std::construct_at(out, std::forward<decltype(element)>(element));
        ++out;
      }
      destroy_built.dismiss();
    } else {
      for (auto&& element : range) std::construct_at(out++, std::forward<decltype(element)>(element));
    }
  }

  void truncate(std::size_t count) noexcept {
    std::destroy(data_ + count, data_ + size_);
    size_ = count;
  }
};

/// A `Vec` holds no pointer into itself, so it relocates as bytes whenever its allocator handle does.
template <class T, class Alloc>
struct IsTriviallyRelocatable<Vec<T, Alloc>> : std::is_trivially_copyable<Alloc> {};

}  // namespace nostd
