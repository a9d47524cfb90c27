// platform/malloc/stderr_line.h — StderrLine: builds one line in a stack buffer and writes it to stderr with one
// write(2). The drop-in malloc reports through it because stdio may allocate, and an allocator that allocates
// while reporting would recurse into itself.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nostd::malloc_door {

/// One line of at most kCapacity bytes (longer text is cut); `write()` adds the newline and sends it.
class StderrLine {
 public:
  /// Bytes a line can hold, the newline included.
  static constexpr std::size_t kCapacity = 512;

  /// Appends `text`.
  StderrLine& operator<<(std::string_view text) noexcept {
    for (char c : text) put(c);
    return *this;
  }
  /// Appends the C string `text` (without this overload a string literal would print as a pointer).
  StderrLine& operator<<(const char* text) noexcept { return *this << std::string_view(text); }
  /// Appends `value` in decimal.
  StderrLine& operator<<(std::size_t value) noexcept {
    char digits[20];
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (n != 0) put(digits[--n]);
    return *this;
  }
  /// Appends `ptr` as 0x-prefixed hexadecimal.
  StderrLine& operator<<(const void* ptr) noexcept {
    const std::uintptr_t value = reinterpret_cast<std::uintptr_t>(ptr);
    put('0');
    put('x');
    bool started = false;
    for (int shift = static_cast<int>(sizeof(value) * 8) - 4; shift >= 0; shift -= 4) {
      const unsigned digit = static_cast<unsigned>(value >> shift) & 0xfu;
      if (digit != 0 || started || shift == 0) {
        put("0123456789abcdef"[digit]);
        started = true;
      }
    }
    return *this;
  }

  /// Writes the line and a newline to file descriptor 2 (errors ignored: there is nowhere to report them).
  void write() noexcept {
    buffer_[used_++] = '\n';
    std::size_t done = 0;
    while (done < used_) {
      const ssize_t n = ::write(2, buffer_ + done, used_ - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    used_ = 0;
  }

 private:
  void put(char c) noexcept {
    if (used_ + 1 < kCapacity) buffer_[used_++] = c;  // keeps one byte for the newline
  }

  char buffer_[kCapacity];
  std::size_t used_ = 0;
};

}  // namespace nostd::malloc_door
