// containers/string.h — `String<Alloc>`: a growable byte string whose every growth can fail without loss.
//
// Always NUL-terminated (`c_str()`), convertible to `std::string_view`, compared and hashed like one. As with `Vec`,
// every operation that may allocate is `[[nodiscard]]`, returns a `Result`, and gives the strong guarantee: after a
// failure the size, capacity, buffer and bytes are exactly as before. Pieces are added with one growth for the
// whole piece (not a byte at a time), and a piece may be a view of the string itself (`s.append(s.view())`).
//
// The buffer holds `capacity() + 1` bytes (room for the terminator). A string that never allocated has no buffer
// and `c_str()` points to a shared empty string. The buffer mechanics are Vec's (containers/raw_buffer.h, with the
// terminator as its one sentinel). Growth: 1.5x with an exact-size retry (containers/growth.h); the
// block's slack counts as capacity when the allocator reports `usable_size`; bytes always move through
// `reallocate` when the allocator has it (in place when the heap can).
//
// Positions are byte indices. The library has no out-of-range error, so a position past the end is treated as
// `size()` (as `substr_view` and `erase` clamp their counts); check against `size()` when that matters.
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "alloc/allocator.h"
#include "alloc/error.h"
#include "containers/raw_buffer.h"
#include "containers/relocate.h"

namespace nostd {

namespace internal {
/// What `c_str()` of a string without a buffer points to.
inline constexpr char kEmptyCString[1] = {'\0'};
}  // namespace internal

/// A growable, NUL-terminated byte string in memory from `Alloc` (see the file comment).
template <class Alloc>
class String : private internal::RawBuffer<char, Alloc, 1> {
  using Buffer = internal::RawBuffer<char, Alloc, 1>;  // one sentinel: the terminator
  static_assert(internal::diagnose_allocator<Alloc>());

 public:
  /// The byte type.
  using value_type = char;
  /// The allocator handle type.
  using allocator_type = Alloc;
  /// Sizes and positions.
  using size_type = std::size_t;
  /// Iterators are pointers, invalidated by every growth.
  using iterator = char*;
  /// Const iterator.
  using const_iterator = const char*;

  /// "Not found" / "to the end", as `std::string_view::npos`.
  static constexpr std::size_t npos = std::string_view::npos;
  /// The capacity of the first block, in bytes before the terminator (see containers/growth.h).
  using Buffer::kMinCapacity;

  /// An empty string with a default-constructed allocator handle. Never allocates.
  constexpr String() noexcept requires std::default_initializable<Alloc>
  = default;

  /// An empty string that will allocate from `alloc_handle`. Never allocates.
  constexpr explicit String(Alloc alloc_handle) noexcept : Buffer(std::move(alloc_handle)) {}

  /// A string holding a copy of `text`, in a block of exactly `text.size() + 1` bytes (plus slack), or the error.
  [[nodiscard]] static Result<String> from(std::string_view text, Alloc alloc) {
    String out(std::move(alloc));
    if (auto appended = out.append_exact(text); !appended) return fail(appended.error());
    return out;
  }

  /// No copy constructor: a copy allocates, and allocation can fail; use `try_clone()`.
  String(const String&) = delete;
  /// No copy assignment, for the same reason.
  String& operator=(const String&) = delete;

  /// Takes `other`'s buffer; `other` is left empty with no buffer. Never allocates.
  constexpr String(String&& other) noexcept = default;

  /// Frees this string's buffer, then takes `other`'s buffer and allocator.
  String& operator=(String&& other) noexcept requires std::is_copy_assignable_v<Alloc>
  = default;

  /// Returns the buffer to the allocator (internal::RawBuffer).
  ~String() = default;

  /// A copy in a block of exactly `size() + 1` bytes (plus slack) from a copy of the allocator, or the error.
  [[nodiscard]] Result<String> try_clone() const { return from(view(), alloc_); }

  // ---- Growth: fallible, strong guarantee ------------------------------------------------------------------------

  /// Appends one byte. Amortised O(1).
  [[nodiscard]] Result<void> push_back(char c) {
    if (size_ == capacity_) {
      if (auto grown = grow_keeping(size_ + 1); !grown) return fail(grown.error());
    }
    data_[size_] = c;
    data_[++size_] = '\0';
    return {};
  }

  /// Appends `text` (which may view this string, also its bytes past `size()`) with at most one growth. Amortised
  /// O(text.size()).
  [[nodiscard]] Result<void> append(std::string_view text) { return insert(size_, text); }

  /// Inserts `text` (which may view this string anywhere in its buffer, also past `size()`: bytes a truncation left)
  /// before byte `pos` (clamped to `size()`) with at most one growth. O(size() + text.size()).
  [[nodiscard]] Result<void> insert(std::size_t pos, std::string_view text) {
    pos = std::min(pos, size_);
    const std::size_t count = text.size();
    if (count == 0) return {};
    if (count > max_size() - size_) return fail(AllocError::kSizeOverflow);
    // `text` may view this buffer anywhere up to its capacity: the bytes, the terminator, or bytes past it that a
    // truncation left. Growth keeps every byte at its offset (RawBuffer's change of capacity), so remember the offset.
    const std::size_t self = index_in_buffer(text.data());
    if (auto grown = grow_keeping(size_ + count); !grown) return fail(grown.error());
    char* gap = data_ + pos;
    if (self == kNotInBuffer) {
      std::memmove(gap + count, gap, size_ - pos + 1);  // the tail and the terminator
      std::memcpy(gap, text.data(), count);
    } else {
      // Moving the tail up could overwrite the piece where it lies past the terminator. So the piece goes first to
      // the room just after the terminator (memmove: it may overlap that room; the bytes before it stay), then a
      // rotation puts it before the tail. O(size() - pos + text.size()), no allocation.
      char* room = data_ + size_ + 1;
      std::memmove(room, data_ + self, count);
      std::rotate(gap, room, room + count);
    }
    size_ += count;
    return {};
  }

  /// Makes `size()` equal `count`: truncates, or appends copies of `fill` with at most one growth.
  [[nodiscard]] Result<void> resize(std::size_t count, char fill = '\0') {
    // The size check first, though size() <= max_size() makes every count it refuses a growth: GCC cannot see that
    // bound, and at -O2 warned of a truncate to SIZE_MAX writing its terminator out of bounds.
    if (count > max_size()) return fail(AllocError::kSizeOverflow);
    if (count <= size_) {
      truncate(count);
      return {};
    }
    if (auto grown = grow_keeping(count); !grown) return fail(grown.error());
    std::memset(data_ + size_, fill, count - size_);
    size_ = count;
    data_[size_] = '\0';
    return {};
  }

  /// Makes `capacity() >= capacity` with one allocation of exactly `capacity + 1` bytes (plus slack) when the
  /// current capacity is smaller; `kSizeOverflow` when `capacity > max_size()`.
  using Buffer::reserve;

  /// Asks for a block of exactly `size() + 1` bytes (none when empty); see `Vec::shrink_to_fit`.
  using Buffer::shrink_to_fit;

  // ---- Non-growing operations -------------------------------------------------------------------------------------

  /// Empties the string; keeps the buffer.
  void clear() noexcept { truncate(0); }

  /// Removes up to `count` bytes starting at `pos` (both clamped to the string).
  void erase(std::size_t pos, std::size_t count = npos) noexcept {
    pos = std::min(pos, size_);
    count = std::min(count, size_ - pos);
    if (count == 0) return;
    std::memmove(data_ + pos, data_ + pos + count, size_ - pos - count + 1);  // the tail and the terminator
    size_ -= count;
  }

  /// Removes the last byte and returns it, or an empty optional when the string is empty (which stays as it is),
  /// as Vec::pop_back does.
  std::optional<char> pop_back() noexcept {
    if (size_ == 0) return std::nullopt;
    const char last = data_[size_ - 1];
    truncate(size_ - 1);
    return last;
  }

  /// The bytes, NUL-terminated; valid until the next growth or the string's end.
  const char* c_str() const noexcept { return data_ != nullptr ? data_ : internal::kEmptyCString; }
  /// Same as `c_str()`.
  const char* data() const noexcept { return c_str(); }
  /// The bytes for writing; nullptr when the string has no buffer (`capacity() == 0`). Writing past `size()` is
  /// undefined.
  char* data() noexcept { return data_; }

  /// A view of the bytes (without the terminator).
  std::string_view view() const noexcept { return {c_str(), size_}; }
  /// Implicit conversion to `std::string_view`.
  operator std::string_view() const noexcept { return view(); }

  /// Number of bytes, terminator excluded.
  using Buffer::size;
  /// Number of bytes, terminator excluded.
  std::size_t length() const noexcept { return size_; }
  /// Number of bytes the buffer holds without growing, terminator excluded.
  using Buffer::capacity;
  /// True when the string has no bytes.
  using Buffer::empty;
  /// The largest size a `String` can describe (the buffer, terminator included, fits `std::ptrdiff_t`).
  using Buffer::max_size;

  /// The byte at `index`. Precondition: `index < size()`.
  char& operator[](std::size_t index) noexcept { return data_[index]; }
  /// The byte at `index`. Precondition: `index <= size()` (`size()` reads the terminator).
  const char& operator[](std::size_t index) const noexcept { return c_str()[index]; }
  /// A pointer to the byte at `index`, or nullptr when `index >= size()`.
  char* at(std::size_t index) noexcept { return index < size_ ? data_ + index : nullptr; }
  /// A pointer to the byte at `index`, or nullptr when `index >= size()`.
  const char* at(std::size_t index) const noexcept { return index < size_ ? data_ + index : nullptr; }
  /// The first byte. Precondition: `!empty()`.
  char& front() noexcept { return data_[0]; }
  /// The last byte. Precondition: `!empty()`.
  char& back() noexcept { return data_[size_ - 1]; }

  /// Iterator to the first byte.
  char* begin() noexcept { return data_; }
  /// Iterator past the last byte.
  char* end() noexcept { return data_ + size_; }
  /// Iterator to the first byte.
  const char* begin() const noexcept { return c_str(); }
  /// Iterator past the last byte.
  const char* end() const noexcept { return c_str() + size_; }

  /// Position of the first occurrence of `needle` at or after `pos`, or `npos`.
  std::size_t find(std::string_view needle, std::size_t pos = 0) const noexcept { return view().find(needle, pos); }
  /// Position of the first `c` at or after `pos`, or `npos`.
  std::size_t find(char c, std::size_t pos = 0) const noexcept { return view().find(c, pos); }
  /// True when the string begins with `prefix`.
  bool starts_with(std::string_view prefix) const noexcept { return view().starts_with(prefix); }
  /// True when the string begins with `c`.
  bool starts_with(char c) const noexcept { return view().starts_with(c); }
  /// True when the string ends with `suffix`.
  bool ends_with(std::string_view suffix) const noexcept { return view().ends_with(suffix); }
  /// True when the string ends with `c`.
  bool ends_with(char c) const noexcept { return view().ends_with(c); }
  /// A view of up to `count` bytes from `pos` (both clamped to the string); valid until the next growth.
  std::string_view substr_view(std::size_t pos, std::size_t count = npos) const noexcept {
    return view().substr(std::min(pos, size_), count);
  }

  /// A copy of the allocator handle.
  using Buffer::allocator;

  /// Byte-wise equality.
  friend bool operator==(const String& a, const String& b) noexcept { return a.view() == b.view(); }
  /// Byte-wise equality with a view (and, through it, with a string literal).
  friend bool operator==(const String& a, std::string_view b) noexcept { return a.view() == b; }
  /// Byte-wise order, as `std::string_view`'s.
  friend std::strong_ordering operator<=>(const String& a, const String& b) noexcept { return a.view() <=> b.view(); }
  /// Byte-wise order with a view.
  friend std::strong_ordering operator<=>(const String& a, std::string_view b) noexcept { return a.view() <=> b; }

 private:
  // The buffer's state and mechanics (containers/raw_buffer.h), by their plain names.
  using Buffer::alloc_;
  using Buffer::capacity_;
  using Buffer::data_;
  using Buffer::grow_keeping;
  using Buffer::index_in_buffer;
  using Buffer::kNotInBuffer;
  using Buffer::size_;

  // Appends `text` growing to exactly the size needed (for `from`).
  Result<void> append_exact(std::string_view text) {
    if (auto reserved = reserve(size_ + text.size()); !reserved) return reserved;
    return append(text);
  }

  void truncate(std::size_t count) noexcept {
    size_ = count;
    if (data_ != nullptr) data_[size_] = '\0';
  }
};

/// A `String` holds no pointer into itself, so it relocates as bytes whenever its allocator handle does.
template <class Alloc>
struct IsTriviallyRelocatable<String<Alloc>> : std::is_trivially_copyable<Alloc> {};

}  // namespace nostd

/// Hashes a `String` as the `std::string_view` of its bytes, so both hash alike (heterogeneous lookup).
template <class Alloc>
struct std::hash<nostd::String<Alloc>> {
  /// `std::hash<std::string_view>{}(s.view())`.
  std::size_t operator()(const nostd::String<Alloc>& s) const noexcept {
    return std::hash<std::string_view>{}(s.view());
  }
};
