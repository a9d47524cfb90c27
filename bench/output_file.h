// bench/output_file.h — the files the tools write under a name the user gives: trace_convert's OUT, fit_compare's
// --write_trace and --plot_data, scaling_bench's --plot_data, micro_bench's --benchmark_out and replay's heap maps.
//
// Such a file may be the user's only copy of something (`trace_convert t.trace t.trace` converts a trace in place),
// so it is never truncated and then written: the bytes go to a temporary file next to it, `NAME.XXXXXX.part` in the
// same directory, which is renamed over the name only once every byte is written and the file closed. Any failure
// on the way (a full disk, a limit on file size, a failing gnuplot) removes the temporary and leaves the file that
// was there as it was. Glossary:
//   target      the file a name leads to: a symbolic link is followed to the file it names, which is replaced (the
//               link stays a link, as when a file is written through it); a hard link is a name of its own, and
//               only that name gets the new file (the other names keep the old one).
//   in place    a name that leads to something other than a regular file (a device such as /dev/null or /dev/full,
//               a FIFO): written directly, since it holds nothing to keep and a rename would replace the device
//               node itself.
//   descriptor  a name of one of the process's open descriptors (/dev/stdout, /dev/stderr, /dev/fd/N,
//               /proc/self/fd/N, or another spelling or a symbolic link that leads there, descriptor_behind):
//               written in place through that descriptor, at its offset, whatever it is open on.
//               Standard output redirected to a file (`tool --plot_data=/dev/stdout > out.txt`) leads /dev/stdout to
//               that regular file, which had been replaced by rename (the tool's own output, written through the
//               descriptor, went to the file unlinked) or, opened afresh, would be truncated under the output
//               already written.
// The replacement gets the old file's mode and, where the process may set it, its owner; a new file gets what
// open(2) would give it (0666 less the umask). fsync is left out: the point is that a failing write loses nothing,
// not that a finished one survives a power cut, and a sync per file would slow the tools down for that.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "bench/cli_args.h"

namespace nostd::bench {

namespace internal {

/// Where writing a name puts the bytes.
struct OutputTarget {
  std::string path;         ///< the target (links followed), or the name as given when written in place
  bool in_place = false;    ///< not a regular file, or a descriptor's name: written directly
  int descriptor = -1;      ///< the open descriptor the name stands for (named_descriptor), or -1
  bool exists = false;      ///< a regular file is there now, whose mode and owner the replacement takes
  struct stat status = {};  ///< that file's, when it exists
};

/// The descriptor `path` names when it is one of the names of an open descriptor (see the glossary above): 1 for
/// /dev/stdout, 2 for /dev/stderr, N for /dev/fd/N and /proc/self/fd/N; -1 for any other name. N is spelt as procfs
/// spells it, digits without a leading zero: the kernel finds no /dev/fd/007 (ENOENT), so neither is it taken for 7.
inline int named_descriptor(std::string_view path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  std::string_view digits;
  if (!option_value(path, "/dev/fd/", &digits) && !option_value(path, "/proc/self/fd/", &digits)) return -1;
  if (digits.size() > 1 && digits.front() == '0') return -1;
  const std::optional<std::uint64_t> n = parse_whole(digits, 999'999'999);  // nine digits at most: an int
  return n ? static_cast<int>(*n) : -1;
}

/// The path the symbolic link `at` points to (a relative link read from the link's directory); unexpected(0) when
/// `at` is not a symbolic link (or not there), unexpected(errno) when the link cannot be read.
inline std::expected<std::string, int> link_target(const std::string& at) {
  struct stat status;
  if (::lstat(at.c_str(), &status) != 0 || !S_ISLNK(status.st_mode)) return std::unexpected(0);
  char text[PATH_MAX];
  const ssize_t n = ::readlink(at.c_str(), text, sizeof text - 1);
  if (n < 0) return std::unexpected(errno);
  const std::string_view to(text, static_cast<std::size_t>(n));
  return to.starts_with('/') ? std::string(to) : at.substr(0, at.rfind('/') + 1) + std::string(to);
}

/// The descriptor `path` leads to: named_descriptor's, or, after the symbolic links of its last component are
/// followed one by one, a name in the process's own descriptor directory however it is spelt (a link to
/// /dev/stdout, /dev/./stdout, /proc/thread-self/fd/N, /proc/PID/fd/N: the directory resolved by realpath is
/// /proc/PID/fd or /proc/PID/task/TID/fd). -1 for any other name. Following each link matters: realpath of the
/// whole name would give the file behind the descriptor, which a rename would replace.
inline int descriptor_behind(const std::string& path) {
  if (const int fd = named_descriptor(path); fd >= 0) return fd;
  const std::string own = "/proc/" + std::to_string(::getpid()) + "/";
  std::string at = path;
  for (int links = 0; links <= 40; ++links) {
    const std::size_t slash = at.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : at.substr(0, std::max<std::size_t>(slash, 1));
    if (char* const real = ::realpath(dir.c_str(), nullptr); real != nullptr) {
      const std::string_view resolved = real;
      const bool descriptors =
          resolved == own + "fd" || (resolved.starts_with(own + "task/") && resolved.ends_with("/fd"));
      std::free(real);
      if (descriptors) return named_descriptor("/dev/fd/" + at.substr(slash + 1));
    }
    const std::expected<std::string, int> next = link_target(at);
    if (!next) return -1;
    at = *next;
  }
  return -1;
}

/// The target of `path` (see the glossary above), or the system's reason it cannot be written (a directory, a
/// chain of more than 40 links, a descriptor that is not open for writing).
inline std::expected<OutputTarget, std::string> output_target(const std::string& path) {
  OutputTarget t;
  if (const int fd = descriptor_behind(path); fd >= 0) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return std::unexpected(std::string(std::strerror(errno)));
    if ((flags & O_ACCMODE) == O_RDONLY) return std::unexpected(std::string(std::strerror(EBADF)));
    t.path = path;
    t.in_place = true;
    t.descriptor = fd;
    return t;
  }
  if (::stat(path.c_str(), &t.status) == 0) {
    if (S_ISDIR(t.status.st_mode)) return std::unexpected(std::string(std::strerror(EISDIR)));
    if (!S_ISREG(t.status.st_mode)) {
      t.path = path;
      t.in_place = true;
      return t;
    }
    // realpath follows every link, also /proc/self/fd/N's (/dev/stdout), whose text names no path to follow.
    char* const real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) return std::unexpected(std::string(std::strerror(errno)));
    t.path = real;
    std::free(real);
    t.exists = true;
    return t;
  }
  if (errno != ENOENT) return std::unexpected(std::string(std::strerror(errno)));
  // Nothing there yet: a dangling link is followed to where it points, where open(2) would create the file.
  t.path = path;
  for (int links = 0;; ++links) {
    const std::expected<std::string, int> next = link_target(t.path);
    if (!next && next.error() == 0) return t;
    if (links == 40) return std::unexpected(std::string(std::strerror(ELOOP)));  // the kernel's own limit
    if (!next) return std::unexpected(std::string(std::strerror(next.error())));
    t.path = *next;
  }
}

/// The mkostemps template of the temporary file that replaces `target`: `TARGET.XXXXXX.part` in its directory, the
/// name cut so that the last component stays within 255 bytes (NAME_MAX on Linux's file systems).
inline std::string temporary_template(const std::string& target) {
  constexpr std::string_view kSuffix = ".XXXXXX.part";
  const std::size_t slash = target.rfind('/');
  const std::size_t base = slash == std::string::npos ? 0 : slash + 1;
  return target.substr(0, base + std::min(target.size() - base, 255 - kSuffix.size())) + std::string(kSuffix);
}

}  // namespace internal

/// A file being written in place of a name (see the file comment): bytes go to `stream()`, and `commit()` puts them
/// under the name; destroyed without a commit, it removes what it wrote and the name keeps what it had.
class OutputFile {
 public:
  /// Starts writing the file `path` names: creates the temporary next to its target, or opens it in place. Fails
  /// with the system's reason ("No such file or directory", "Is a directory", "Permission denied": a regular file
  /// the process may not write, which a rename could replace, is refused as opening it would be), having created
  /// nothing.
  static std::expected<OutputFile, std::string> open(const std::string& path) {
    const std::expected<internal::OutputTarget, std::string> target = internal::output_target(path);
    if (!target) return std::unexpected(target.error());
    if (target->descriptor >= 0) {
      // A copy of the descriptor shares its offset: the bytes follow what the process wrote there, after its own
      // stream's buffer.
      if (target->descriptor == 1) std::fflush(stdout);
      if (target->descriptor == 2) std::fflush(stderr);
      const int fd = ::fcntl(target->descriptor, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
      std::FILE* const f = ::fdopen(fd, "w");
      if (f == nullptr) {
        const int error = errno;
        ::close(fd);
        return std::unexpected(std::string(std::strerror(error)));
      }
      return OutputFile(target->path, std::string(), false, f);
    }
    if (target->in_place) {
      std::FILE* const f = std::fopen(target->path.c_str(), "we");
      if (f == nullptr) return std::unexpected(std::string(std::strerror(errno)));
      return OutputFile(target->path, std::string(), false, f);
    }
    if (target->exists && ::access(target->path.c_str(), W_OK) != 0) {
      return std::unexpected(std::string(std::strerror(errno)));
    }
    std::string temporary = internal::temporary_template(target->path);
    const int fd = ::mkostemps(temporary.data(), 5, O_CLOEXEC);
    if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
    // mkostemps creates the file 0600. An owner that cannot be set (another user's file, written by one who may
    // write it) is left as the process's: the contents are what matter, and nothing else can be done about it.
    if (target->exists) {
      ::fchmod(fd, target->status.st_mode & 07777);
      [[maybe_unused]] const int owned = ::fchown(fd, target->status.st_uid, target->status.st_gid);
    } else {
      const mode_t mask = ::umask(0);  // read by setting it: the tools write their files from one thread
      ::umask(mask);
      ::fchmod(fd, 0666 & ~mask);
    }
    std::FILE* const f = ::fdopen(fd, "w");
    if (f == nullptr) {
      const int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      return std::unexpected(std::string(std::strerror(error)));
    }
    return OutputFile(target->path, std::move(temporary), target->exists, f);
  }

  OutputFile(OutputFile&& other) noexcept
      : target_(std::move(other.target_)),
        temporary_(std::exchange(other.temporary_, std::string())),
        existed_(other.existed_),
        file_(std::exchange(other.file_, nullptr)) {}
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// Removes the temporary unless committed: the name keeps what it had.
  ~OutputFile() { abandon(); }

  /// Where the caller writes. Precondition: not yet committed or abandoned.
  std::FILE* stream() const { return file_; }

  /// The name another program writes the file under (gnuplot's `set output`): the temporary, or the target when
  /// written in place. For a descriptor's name that is the name as given, which another program opens afresh as
  /// its own (gnuplot's standard output is /dev/null; a regular file behind another descriptor is truncated), not
  /// the descriptor this file writes through; replay's heap maps (NAME.png) reach one only through a link.
  const std::string& writing_path() const { return temporary_.empty() ? target_ : temporary_; }

  /// Flushes and closes the file, then renames the temporary over the target: the name now holds every byte
  /// written. On failure (a write that failed, the close, the rename) removes the temporary and returns the reason,
  /// which says that a file that was there is left as it was. Precondition: not yet committed or abandoned.
  std::expected<void, std::string> commit() {
    // A write that failed earlier left its errno, which later stdio calls that only fill the buffer keep; the flush
    // of what is still buffered usually fails again and sets it afresh.
    const int earlier = errno;
    int error = 0;
    if (std::fflush(file_) != 0) {
      error = errno;
    } else if (std::ferror(file_) != 0) {
      error = earlier != 0 ? earlier : EIO;
    }
    if (std::fclose(file_) != 0 && error == 0) error = errno;
    file_ = nullptr;
    if (error == 0 && !temporary_.empty() && ::rename(temporary_.c_str(), target_.c_str()) != 0) error = errno;
    if (error == 0) {
      temporary_.clear();
      return {};
    }
    abandon();
    return std::unexpected(std::string(std::strerror(error)) + (existed_ ? " (the file there is left as it was)" : ""));
  }

  /// Closes and removes the temporary without touching the target. Does nothing after commit() or abandon().
  void abandon() {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
    temporary_.clear();
  }

 private:
  OutputFile(std::string target, std::string temporary, bool existed, std::FILE* file)
      : target_(std::move(target)), temporary_(std::move(temporary)), existed_(existed), file_(file) {}

  std::string target_;     // the file the name leads to
  std::string temporary_;  // the file being written; empty when written in place, committed or abandoned
  bool existed_;           // a regular file was at target_ when writing started
  std::FILE* file_;        // open on temporary_ (or target_ in place) until commit() or abandon()
};

/// Writes `data` as the whole file `path` names (OutputFile: a failure leaves what was there). The reason on failure.
inline std::expected<void, std::string> write_output(const std::string& path, std::span<const std::byte> data) {
  std::expected<OutputFile, std::string> out = OutputFile::open(path);
  if (!out) return std::unexpected(out.error());
  std::fwrite(data.data(), 1, data.size(), out->stream());  // a short write shows in commit()
  return out->commit();
}

/// Why the file `path` names cannot be written as OutputFile::open writes it, or nullopt when it can: open's
/// checks, its temporary created and removed again (nothing is left, and a file there stays as it was). In place (a
/// device, a FIFO) the check is access(2), since opening a FIFO would wait for its reader.
inline std::optional<std::string> output_problem(const std::string& path) {
  const std::expected<internal::OutputTarget, std::string> target = internal::output_target(path);
  if (!target) return target.error();
  if (target->descriptor >= 0) return std::nullopt;  // open for writing: output_target checked it
  if (target->in_place) {
    if (::access(target->path.c_str(), W_OK) != 0) return std::string(std::strerror(errno));
    return std::nullopt;
  }
  if (const std::expected<OutputFile, std::string> probe = OutputFile::open(path); !probe) return probe.error();
  return std::nullopt;
}

/// Whether `path` names a descriptor (see the glossary) open on the file `file` describes (the same st_dev and
/// st_ino): written through it, the bytes go over that file from the descriptor's offset, and what the file held
/// beyond them stays. trace_convert refuses such an OUT on its IN.
inline bool descriptor_on(const std::string& path, const struct stat& file) {
  const int fd = internal::descriptor_behind(path);
  struct stat status;
  return fd >= 0 && ::fstat(fd, &status) == 0 && status.st_dev == file.st_dev && status.st_ino == file.st_ino;
}

/// Checks the file an output option names (`--plot_data=FILE`) before the run it is for starts (output_problem),
/// so that an empty or unwritable name is refused at once with one line naming the option and the reason, not after
/// minutes of measuring. A relative name is taken from where `bazel run` was started (from_working_dir). Returns the
/// name to write at the end (open_output), or nullopt after that line (the caller exits 2).
inline std::optional<std::string> check_output(const char* tool, std::string_view option, const std::string& path) {
  if (path.empty()) {
    print_bad_value(tool, option, "a file name");
    return std::nullopt;
  }
  std::string where = from_working_dir(path);
  const std::optional<std::string> problem = output_problem(where);
  if (!problem) return where;
  std::fprintf(stderr, "%s: %.*s: cannot write %s: %s\n", tool, static_cast<int>(option.size()), option.data(),
               where.c_str(), problem->c_str());
  return std::nullopt;
}

/// Opens the file check_output returned, when the run's results are ready to be written; nullopt after one line
/// naming the option, the file and the reason.
inline std::optional<OutputFile> open_output(const char* tool, std::string_view option, const std::string& path) {
  std::expected<OutputFile, std::string> f = OutputFile::open(path);
  if (f) return std::move(*f);
  std::fprintf(stderr, "%s: %.*s: cannot write %s: %s\n", tool, static_cast<int>(option.size()), option.data(),
               path.c_str(), f.error().c_str());
  return std::nullopt;
}

/// Commits a file open_output returned: true when every write, the close and the rename succeeded, else false after
/// one line naming the option, the file and the reason (the file that was there is left as it was).
inline bool close_output(const char* tool, std::string_view option, const std::string& path, OutputFile& f) {
  const std::expected<void, std::string> done = f.commit();
  if (done) return true;
  std::fprintf(stderr, "%s: %.*s: cannot write %s: %s\n", tool, static_cast<int>(option.size()), option.data(),
               path.c_str(), done.error().c_str());
  return false;
}

}  // namespace nostd::bench
