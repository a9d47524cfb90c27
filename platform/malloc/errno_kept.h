// platform/malloc/errno_kept.h — ErrnoKept: a scope that leaves errno as it found it.
//
// POSIX lets malloc and friends set errno only where they fail (and `free` and `posix_memalign` never): the system
// calls the drop-in makes on the way (mmap refused for a huge block that then fails through the return value,
// madvise on a page release, munmap, fstat on the saved stderr) must not leak their errno into the program.
#pragma once

#include <cerrno>

namespace nostd::malloc_door {

/// Saves errno on construction and restores it on destruction. No allocation, no system call.
class ErrnoKept {
 public:
  ErrnoKept() noexcept : saved_(errno) {}
  ~ErrnoKept() { errno = saved_; }
  ErrnoKept(const ErrnoKept&) = delete;
  ErrnoKept& operator=(const ErrnoKept&) = delete;

 private:
  int saved_;
};

}  // namespace nostd::malloc_door
