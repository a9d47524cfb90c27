// platform/riscv32_virt/cxx_runtime.cc — the few pieces of a C++ runtime that header-only libc++ code needs here.
//
// Bare-metal rv32 compiles against libc++'s headers but links no C++ runtime library (Debian has none for
// riscv64-unknown-elf; README.md, "Platforms"). What the project's programs use from one is defined here, over
// picolibc:
//
// - `operator new` / `operator delete`, all twenty forms (plain, array, sized, aligned, nothrow, aligned nothrow)
//   over malloc / aligned_alloc / free, and `std::nothrow`, `std::set_new_handler` and `std::get_new_handler`, which
//   libc++'s headers declare but only its library defines. Out of memory follows the standard protocol: while
//   malloc fails, the installed new-handler is called and the request retried (a handler frees something, installs
//   another, or gives up by installing none). With no handler, a throwing form cannot throw std::bad_alloc without
//   exceptions: it reports and aborts (the test fails); a nothrow form returns nullptr. An alignment that is not a
//   power of two breaks the aligned forms'
//   precondition (the program's bug, not a lack of memory): every aligned form, nothrow too, stops the program with
//   a line saying so. The heap under test never uses them: they serve test scaffolding such as std::make_unique.
// - `std::__libcpp_verbose_abort`, libc++'s documented hook for its assertions and for what would throw (e.g.
//   std::expected::value() on an error): prints the message and aborts.
#include <__verbose_abort>  // libc++: declares the hook defined below
#include <atomic>
#include <bit>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

// libc++ declares nothrow_t, nothrow and align_val_t in plain namespace std, not in its versioned std::__1 (<new>:
// "purposefully not using versioning namespace", for ABI compatibility with libstdc++), so its definition goes there
// too: the programs refer to `_ZSt7nothrow`.
// set_new_handler and get_new_handler are declared there as well (`_ZSt15set_new_handlerPFvvE`).
namespace {
/// The installed new-handler. Atomic, as the standard asks of set_new_handler and get_new_handler: an interrupt
/// handler may allocate while the program installs one (rv32imac's word-sized atomics are lock-free).
constinit std::atomic<std::new_handler> g_new_handler{nullptr};
}  // namespace

namespace std {
const nothrow_t nothrow{};

new_handler set_new_handler(new_handler handler) noexcept {
  return g_new_handler.exchange(handler, std::memory_order_acq_rel);
}

new_handler get_new_handler() noexcept { return g_new_handler.load(std::memory_order_acquire); }
}  // namespace std

namespace {

[[noreturn]] void out_of_memory(std::size_t size) {
  std::fprintf(stderr, "*** operator new: out of memory (%lu bytes)\n", static_cast<unsigned long>(size));
  std::abort();
}

[[noreturn]] void invalid_alignment(std::size_t alignment) {
  std::fprintf(stderr, "*** operator new: invalid alignment %lu (not a power of two)\n",
               static_cast<unsigned long>(alignment));
  std::abort();
}

/// A block of `size` bytes (1 for 0), or nullptr when the arena has none.
void* try_allocate(std::size_t size) noexcept { return std::malloc(size == 0 ? 1 : size); }

/// A block of `size` bytes aligned to `align`, or nullptr when the arena has none. An alignment that is not a power
/// of two stops the program: aligned_alloc refuses it like a lack of memory, which hid the caller's bug behind
/// "out of memory" (or a nullptr from a nothrow form).
void* try_allocate_aligned(std::size_t size, std::align_val_t align) noexcept {
  const auto alignment = static_cast<std::size_t>(align);
  if (!std::has_single_bit(alignment)) invalid_alignment(alignment);
  // aligned_alloc wants a size that is a multiple of the alignment. A size that rounding up would wrap is more than
  // any arena holds (wrapped, it read as 0 and got a block of `alignment` bytes).
  if (size > SIZE_MAX - (alignment - 1)) return nullptr;
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
}

/// The new-handler protocol around `attempt` (one of the two above): retries while a handler is installed, calling
/// it after each failure; nullptr once none is. A request no arena can ever serve calls the handler until it gives
/// up, as libstdc++'s and libc++'s own operator new do.
template <class Attempt>
void* allocate_with_handler(Attempt attempt) noexcept {
  for (;;) {
    if (void* p = attempt(); p != nullptr) return p;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    handler();
  }
}

void* allocate_or_null(std::size_t size) noexcept {
  return allocate_with_handler([size] { return try_allocate(size); });
}

void* allocate_aligned_or_null(std::size_t size, std::align_val_t align) noexcept {
  return allocate_with_handler([size, align] { return try_allocate_aligned(size, align); });
}

void* allocate(std::size_t size) {
  void* p = allocate_or_null(size);
  if (p == nullptr) out_of_memory(size);
  return p;
}

void* allocate_aligned(std::size_t size, std::align_val_t align) {
  void* p = allocate_aligned_or_null(size, align);
  if (p == nullptr) out_of_memory(size);
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) { return allocate_aligned(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return allocate_aligned(size, align); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate_or_null(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate_or_null(size); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate_aligned_or_null(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate_aligned_or_null(size, align);
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

_LIBCPP_BEGIN_NAMESPACE_STD
/// libc++'s hook for assertions and for what would throw without exceptions: print, then abort.
[[noreturn]] void __libcpp_verbose_abort(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::fputs("*** libc++: ", stderr);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputs("\n", stderr);
  std::abort();
}
_LIBCPP_END_NAMESPACE_STD
