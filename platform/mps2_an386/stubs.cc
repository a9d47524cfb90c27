// platform/mps2_an386/stubs.cc — POSIX calls that GoogleTest links against but newlib's rdimon does not provide.
// Each fails the way POSIX says a missing facility fails (ENOSYS); none pretends to succeed.
#include <sys/stat.h>

#include <cerrno>

/// There are no directories over semihosting: GoogleTest only creates one for --gtest_output into a new directory.
extern "C" int mkdir(const char* /*path*/, mode_t /*mode*/) {
  errno = ENOSYS;
  return -1;
}
