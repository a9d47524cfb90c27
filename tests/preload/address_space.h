// tests/preload/address_space.h — the process's address space, for the preload programs that limit it (RLIMIT_AS)
// to what they have plus some headroom (address_limit.cc, arena_fallback.cc, partial_chunk.cc; also
// tests/malloc_door_test.cc), and their one-line report, written without stdio.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace nostd::preload_test {

/// The process's address space in bytes: /proc/self/statm's first field (pages), read without stdio (which would
/// allocate, and these programs' first malloc must come after the limit); 0 when it cannot be read.
inline std::size_t address_space_bytes() {
  char text[128] = {};
  const int fd = ::open("/proc/self/statm", O_RDONLY);
  if (fd < 0) return 0;
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  return static_cast<std::size_t>(std::strtoul(text, nullptr, 10)) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// Writes `text` and `value` as one line to stdout with write(2): stdio would allocate, and these programs allocate
/// only where they measure.
inline void say(const char* text, long value) {
  char line[256];
  const int n = std::snprintf(line, sizeof line, "%s%ld\n", text, value);
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
}

}  // namespace nostd::preload_test
