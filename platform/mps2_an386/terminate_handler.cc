// platform/mps2_an386/terminate_handler.cc — the board's terminate handler (terminate_handler.h). Built with
// -fexceptions (BUILD.bazel): reading what() means rethrowing the exception and catching it as std::exception, as
// libstdc++'s handler does.
#include "platform/mps2_an386/terminate_handler.h"

#include <cxxabi.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <typeinfo>

// libstdc++ (cp-demangle.o in libsupc++): demangles MANGLED and hands the text to CALLBACK in pieces, keeping its
// work on the stack. Returns 0 on success, -2 for a name it cannot demangle, -3 for a null argument. No header
// declares it.
extern "C" int __gcclibcxx_demangle_callback(const char* mangled, void (*callback)(const char*, std::size_t, void*),
                                             void* opaque);

namespace nostd::mps2_an386 {
namespace {

/// The demangled name, gathered from the demangler's pieces; `overflowed` once a piece did not fit.
struct NameBuffer {
  char text[512];
  std::size_t length;
  bool overflowed;
};

void append_piece(const char* piece, std::size_t size, void* opaque) {
  auto& name = *static_cast<NameBuffer*>(opaque);
  if (name.overflowed || size >= sizeof name.text - name.length) {
    name.overflowed = true;
    return;
  }
  std::memcpy(name.text + name.length, piece, size);
  name.length += size;
  name.text[name.length] = '\0';
}

}  // namespace

[[noreturn]] void verbose_terminate_handler() noexcept {
  static bool terminating = false;
  if (terminating) {
    std::fputs("terminate called recursively\n", stderr);
    std::abort();
  }
  terminating = true;
  const std::type_info* type = abi::__cxa_current_exception_type();
  if (type == nullptr) {
    std::fputs("terminate called without an active exception\n", stderr);
    std::abort();
  }
  const char* mangled = type->name();
  if (*mangled == '*') ++mangled;  // a type with internal linkage
  NameBuffer name{{}, 0, false};
  const bool readable = __gcclibcxx_demangle_callback(mangled, append_piece, &name) == 0 && !name.overflowed;
  std::fputs("terminate called after throwing an instance of '", stderr);
  std::fputs(readable ? name.text : mangled, stderr);
  std::fputs("'\n", stderr);
  try {
    throw;
  } catch (const std::exception& e) {
    std::fputs("  what():  ", stderr);
    std::fputs(e.what(), stderr);
    std::fputs("\n", stderr);
  } catch (...) {
  }
  std::abort();
}

}  // namespace nostd::mps2_an386
