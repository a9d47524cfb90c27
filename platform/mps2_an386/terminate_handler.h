// platform/mps2_an386/terminate_handler.h — the board's terminate handler: says which exception nobody caught, in
// libstdc++'s words, without allocating.
//
// libstdc++'s own verbose handler (__gnu_cxx::__verbose_terminate_handler, vterminate.cc) demangles the exception's
// type with __cxa_demangle, which builds the name in malloc'd memory; when the heap is full, the usual reason for an
// uncaught std::bad_alloc, that fails and it prints the mangled name ('St9bad_alloc'). This one demangles through
// libstdc++'s allocation-free entry point (__gcclibcxx_demangle_callback, the stack only) into a buffer of its own.
#ifndef NOSTD_PLATFORM_MPS2_AN386_TERMINATE_HANDLER_H_
#define NOSTD_PLATFORM_MPS2_AN386_TERMINATE_HANDLER_H_

namespace nostd::mps2_an386 {

/// For std::set_terminate (startup.cc installs it before constructors run): prints "terminate called after throwing
/// an instance of 'TYPE'" with TYPE demangled (the mangled name only if demangling fails or the name exceeds 511
/// characters), then "  what():  ..." for a std::exception, and calls abort(); "terminate called without an active
/// exception" when there is none, "terminate called recursively" when it runs again. Allocates nothing, so it also
/// works with the heap full.
[[noreturn]] void verbose_terminate_handler() noexcept;

}  // namespace nostd::mps2_an386

#endif  // NOSTD_PLATFORM_MPS2_AN386_TERMINATE_HANDLER_H_
