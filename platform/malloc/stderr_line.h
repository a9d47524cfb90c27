// platform/malloc/stderr_line.h — StderrLine: builds one line in a stack buffer and writes it to stderr with one
// write(2). The drop-in malloc reports through it because stdio may allocate, and an allocator that allocates
// while reporting would recurse into itself. SavedStderr: the stderr the program started with, kept for the lines
// written at exit.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "platform/malloc/errno_kept.h"

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

  /// Writes the line and a newline to file descriptor `fd`, stderr unless told (errors ignored: there is nowhere
  /// to report them).
  void write(int fd = STDERR_FILENO) noexcept {
    buffer_[used_++] = '\n';
    std::size_t done = 0;
    while (done < used_) {
      const ssize_t n = ::write(fd, buffer_ + done, used_ - done);
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

/// A duplicate of file descriptor 2 taken at start-up, for the lines the drop-in writes from its destructor at
/// exit. Many programs close stderr before they exit (coreutils' ls, cat, sort through gnulib's close_stdout): a
/// line written to fd 2 after that is lost (EBADF), or lands in whatever file took number 2 since. The duplicate is
/// close-on-exec, so a program the process executes does not inherit it, and numbered kMinFd or above, out of the
/// way of the low numbers that shells and programs dup2 onto. It is trusted only while it still refers to the file
/// it was taken from (same device and inode): a program that closes every descriptor and opens another file under
/// the same number gets no line in that file. Neither call allocates or changes errno.
class SavedStderr {
 public:
  /// Lowest number the duplicate takes (the lowest free one from here on; from 3 on if none is, e.g. under a
  /// lower limit on descriptors).
  static constexpr int kMinFd = 100;

  /// Duplicates fd 2 if it is open; does nothing otherwise, or if called before.
  void keep() noexcept {
    if (fd_ >= 0) return;
    const ErrnoKept kept;
    struct stat st;
    if (::fstat(STDERR_FILENO, &st) == 0) {
      int fd = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, kMinFd);
      if (fd < 0) fd = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      if (fd >= 0) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        fd_ = fd;
      }
    }
  }

  /// The duplicate while it still refers to the file fd 2 did at keep(); else fd 2 itself (never kept, or the
  /// program closed or replaced the duplicate).
  [[nodiscard]] int fd() const noexcept {
    if (fd_ < 0) return STDERR_FILENO;
    const ErrnoKept kept;
    struct stat st;
    const bool same = ::fstat(fd_, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
    return same ? fd_ : STDERR_FILENO;
  }

 private:
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace nostd::malloc_door
