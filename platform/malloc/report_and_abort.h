// platform/malloc/report_and_abort.h — ReportAndAbort: the drop-in malloc's fault handler.
#pragma once

#include <unistd.h>

#include <cstdlib>

#include "alloc/check/heap_fault.h"
#include "alloc/error.h"
#include "platform/malloc/stderr_line.h"

namespace nostd::malloc_door {

/// Prints "nostd-malloc: <error> at <address>: <reason>" to stderr without allocating, then aborts (SIGABRT, as
/// glibc does on a detected double free): continuing on a corrupted heap would turn one bug into many.
struct ReportAndAbort {
  /// Never returns.
  [[noreturn]] static void on_fault(const HeapFault& fault) noexcept { on_fault(fault, STDERR_FILENO); }
  /// The same, with the line written to file descriptor `fd` (the exit report's SavedStderr).
  [[noreturn]] static void on_fault(const HeapFault& fault, int fd) noexcept {
    StderrLine line;
    line << "nostd-malloc: " << to_string(fault.error) << " at " << fault.where << ": " << fault.what;
    line.write(fd);
    std::abort();
  }
};

}  // namespace nostd::malloc_door
