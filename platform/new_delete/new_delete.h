// platform/new_delete/new_delete.h — the global `operator new` / `operator delete` door: one line in one source
// file of a program routes every C++ allocation of the whole program (the program's own, the standard library's,
// GoogleTest's) to a nostd heap:
//
//   constinit Heap g_heap;                  // constant-initialised: usable before any constructor runs
//   NOSTD_NEW_DELETE_USE_HEAP(g_heap);      // at global namespace scope, in exactly one .cc file of the program
//
// and depend on `//platform/new_delete`. The macro defines the replaceable global allocation functions the C++
// standard lets a program define ([new.delete]): all 8 forms of `operator new` (plain, array, aligned, aligned
// array, and the nothrow form of each) and all 12 forms of `operator delete` (plain, array, sized, aligned, sized
// aligned, nothrow, aligned nothrow; each also for arrays).
//
// The heap must be usable before `main` and before any other static constructor (libstdc++ allocates during its
// own start-up): a `constinit` heap over a StaticArraySource (or any source that acquires memory on first use) is.
// It must never be destroyed while the program can still allocate, and its lock must suit the program's threads
// (SpinLock, MutexLock, InterruptLock). Heaps whose alignment limit is below a request's fail that request.
//
// Out of memory follows the standard protocol, so `std::set_new_handler` is the replaceable handler here: a
// failing `operator new` calls the installed new-handler and retries while there is one (it may free memory,
// install another handler, throw `std::bad_alloc` or end the program); with none installed it throws
// `std::bad_alloc`, or, where exceptions are disabled, calls `std::abort()` as libstdc++'s own `operator new`
// does. The nothrow forms return nullptr instead.
//
// Other allocators than a nostd heap (the hosted malloc drop-in routes the C++ set to its own malloc) use the
// general form, `NOSTD_NEW_DELETE_USE_BACKEND(Backend)`, with a type that has
//   static void* allocate(std::size_t size, std::size_t align) noexcept;   // nullptr when out of memory
//   static void deallocate(void* ptr) noexcept;                            // ptr from allocate, never nullptr
// where `align` is a power of two, at least __STDCPP_DEFAULT_NEW_ALIGNMENT__. Any other type is rejected with one
// line, "NOSTD_NEW_DELETE_USE_BACKEND: the type needs ...", as the only error.
//
// The definitions are compiled in the user's translation unit, with its flags: with exceptions they throw, without
// they abort. They get default visibility so that a shared library exporting them interposes on libstdc++'s.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>

namespace nostd::new_delete {

/// What the forwarding needs from an allocator: static `allocate(size, align) -> void*` (nullptr when out of
/// memory; `align` a power of two) and `deallocate(void*)`.
template <class B>
concept Backend = requires(std::size_t size, void* ptr) {
  { B::allocate(size, size) } -> std::same_as<void*>;
  B::deallocate(ptr);
};

/// NOSTD_NEW_DELETE_USE_BACKEND's stand-in for a type that is not a Backend: fails every allocation, frees nothing.
struct RejectedBackend {
  static void* allocate(std::size_t, std::size_t) noexcept { return nullptr; }
  static void deallocate(void*) noexcept {}
};

/// What NOSTD_NEW_DELETE_USE_BACKEND forwards to: `B` when it is a Backend, else RejectedBackend, so that for a
/// rejected type the macro's static_assert is the only error a user reads (the program is rejected by it either way),
/// not one "no matching function" per operator after it.
template <class B>
using CheckedBackend = std::conditional_t<Backend<B>, B, RejectedBackend>;

/// The alignment every `operator new` without an alignment argument guarantees.
inline constexpr std::size_t kDefaultNewAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

/// The throwing forms: `size` bytes aligned to `align`, or, while the backend fails, the installed new-handler
/// is called and the request retried; with no handler, std::bad_alloc is thrown (std::abort() without
/// exceptions). Never returns nullptr.
template <Backend B>
void* allocate_or_fail(std::size_t size, std::size_t align) {
  if (align == 0) [[unlikely]] {  // an aligned form's alignment that is not a power of two (see `aligned`)
#if defined(__cpp_exceptions)
    throw std::bad_alloc();
#else
    std::abort();
#endif
  }
  for (;;) {
    if (void* ptr = B::allocate(size, align); ptr != nullptr) return ptr;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
#if defined(__cpp_exceptions)
      throw std::bad_alloc();
#else
      std::abort();
#endif
    }
    handler();
  }
}

/// The nothrow forms: as `allocate_or_fail`, but nullptr where that would throw or abort (a new-handler that
/// throws std::bad_alloc also ends in nullptr, as the standard asks).
template <Backend B>
void* allocate_or_null(std::size_t size, std::size_t align) noexcept {
#if defined(__cpp_exceptions)
  try {
    return allocate_or_fail<B>(size, align);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
#else
  if (align == 0) return nullptr;  // an aligned form's alignment that is not a power of two (see `aligned`)
  for (;;) {
    if (void* ptr = B::allocate(size, align); ptr != nullptr) return ptr;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    handler();
  }
#endif
}

/// Frees what the forms above returned; nullptr is a no-op (operator delete's contract).
template <Backend B>
void release(void* ptr) noexcept {
  if (ptr != nullptr) B::deallocate(ptr);
}

/// The request alignment of an aligned form: the larger of what was asked and the default, so a backend never
/// sees less than __STDCPP_DEFAULT_NEW_ALIGNMENT__; 0 when `align` is not a power of two. The standard leaves such
/// a call undefined; the forms above fail it at once, without the new-handler, which cannot make it valid (the
/// throwing forms throw std::bad_alloc, or abort without exceptions, as libstdc++'s own aligned new does; the
/// nothrow forms return nullptr), instead of handing the backend an alignment it cannot honour.
constexpr std::size_t aligned(std::align_val_t align) noexcept {
  const auto requested = static_cast<std::size_t>(align);
  if (requested == 0 || (requested & (requested - 1)) != 0) return 0;
  return requested > kDefaultNewAlignment ? requested : kDefaultNewAlignment;
}

/// What NOSTD_NEW_DELETE_USE_HEAP needs from the heap (every BasicHeap has it): `allocate(size, align)` returning a
/// `Result<void*>` and `deallocate(void*)`. Not `deallocate(void*, Layout)`: an unsized `operator delete` knows no
/// layout, so a heap that needs one to free cannot serve this door (it can serve StdAllocator and HeapResource).
template <class H>
concept HeapForNewDelete = requires(H& heap, std::size_t size, void* ptr) {
  {static_cast<bool>(heap.allocate(size, size))};
  { *heap.allocate(size, size) } -> std::convertible_to<void*>;
  heap.deallocate(ptr);
};

/// NOSTD_NEW_DELETE_USE_HEAP's backend calls: a failed Result becomes nullptr, which starts the new-handler protocol
/// in the throwing forms. For a heap that is not a HeapForNewDelete they compile to nothing, so that the macro's
/// static_assert is the only error a user reads (the program is rejected by it either way).
template <class H>
void* heap_allocate(H& heap, std::size_t size, std::size_t align) noexcept {
  if constexpr (HeapForNewDelete<H>) {
    auto block = heap.allocate(size, align);
    return block ? static_cast<void*>(*block) : nullptr;
  } else {
    return nullptr;
  }
}
template <class H>
void heap_deallocate(H& heap, void* ptr) noexcept {
  if constexpr (HeapForNewDelete<H>) heap.deallocate(ptr);
}

}  // namespace nostd::new_delete

/// Defines every global operator new / delete of the program in terms of `BackendType` (a
/// `nostd::new_delete::Backend`; any other type fails its static_assert, the only error). Use once, at global
/// namespace scope, in one source file.
#define NOSTD_NEW_DELETE_USE_BACKEND(BackendType)                                                                      \
  static_assert(::nostd::new_delete::Backend<BackendType>,                                                             \
                "NOSTD_NEW_DELETE_USE_BACKEND: the type needs static `void* allocate(std::size_t size, "               \
                "std::size_t align) noexcept` and `void deallocate(void*) noexcept`");                                 \
  namespace {                                                                                                          \
  /* BackendType, or for a type the static_assert rejects a stand-in that keeps its message the only error. */         \
  using NostdNewDeleteBackend = ::nostd::new_delete::CheckedBackend<BackendType>;                                      \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new(std::size_t size) {                                                \
    return ::nostd::new_delete::allocate_or_fail<NostdNewDeleteBackend>(size,                                          \
                                                                        ::nostd::new_delete::kDefaultNewAlignment);    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new[](std::size_t size) {                                              \
    return ::nostd::new_delete::allocate_or_fail<NostdNewDeleteBackend>(size,                                          \
                                                                        ::nostd::new_delete::kDefaultNewAlignment);    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new(std::size_t size, std::align_val_t align) {                        \
    return ::nostd::new_delete::allocate_or_fail<NostdNewDeleteBackend>(size, ::nostd::new_delete::aligned(align));    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new[](std::size_t size, std::align_val_t align) {                      \
    return ::nostd::new_delete::allocate_or_fail<NostdNewDeleteBackend>(size, ::nostd::new_delete::aligned(align));    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {                \
    return ::nostd::new_delete::allocate_or_null<NostdNewDeleteBackend>(size,                                          \
                                                                        ::nostd::new_delete::kDefaultNewAlignment);    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {              \
    return ::nostd::new_delete::allocate_or_null<NostdNewDeleteBackend>(size,                                          \
                                                                        ::nostd::new_delete::kDefaultNewAlignment);    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new(std::size_t size, std::align_val_t align,                          \
                                                    const std::nothrow_t&) noexcept {                                  \
    return ::nostd::new_delete::allocate_or_null<NostdNewDeleteBackend>(size, ::nostd::new_delete::aligned(align));    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void* operator new[](std::size_t size, std::align_val_t align,                        \
                                                      const std::nothrow_t&) noexcept {                                \
    return ::nostd::new_delete::allocate_or_null<NostdNewDeleteBackend>(size, ::nostd::new_delete::aligned(align));    \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete(void* ptr) noexcept {                                            \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete[](void* ptr) noexcept {                                          \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete(void* ptr, std::size_t) noexcept {                               \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete[](void* ptr, std::size_t) noexcept {                             \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete(void* ptr, std::align_val_t) noexcept {                          \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete[](void* ptr, std::align_val_t) noexcept {                        \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete(void* ptr, std::size_t, std::align_val_t) noexcept {             \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete[](void* ptr, std::size_t, std::align_val_t) noexcept {           \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete(void* ptr, const std::nothrow_t&) noexcept {                     \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete[](void* ptr, const std::nothrow_t&) noexcept {                   \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete(void* ptr, std::align_val_t, const std::nothrow_t&) noexcept {   \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  [[gnu::visibility("default")]] void operator delete[](void* ptr, std::align_val_t, const std::nothrow_t&) noexcept { \
    ::nostd::new_delete::release<NostdNewDeleteBackend>(ptr);                                                          \
  }                                                                                                                    \
  static_assert(true, "a semicolon may follow the macro")

/// Routes every global operator new / delete of the program to `heap`, a nostd heap object with static storage
/// duration (e.g. `constinit BasicHeap<...> g_heap;`): `allocate(size, align) -> Result<void*>` and
/// `deallocate(void*)`. Use once, at global namespace scope, in one source file; name the heap as seen from the
/// global namespace (`my_ns::g_heap`).
#define NOSTD_NEW_DELETE_USE_HEAP(heap)                                                                            \
  static_assert(::nostd::new_delete::HeapForNewDelete<std::remove_reference_t<decltype((heap))>>,                  \
                "NOSTD_NEW_DELETE_USE_HEAP: the heap needs `Result<void*> allocate(std::size_t size, std::size_t " \
                "align)` and `void deallocate(void*)` (every BasicHeap has them)");                                \
  namespace {                                                                                                      \
  /* The heap as a new_delete::Backend. */                                                                         \
  struct NostdNewDeleteHeapBackend {                                                                               \
    static void* allocate(std::size_t size, std::size_t align) noexcept {                                          \
      return ::nostd::new_delete::heap_allocate((heap), size, align);                                              \
    }                                                                                                              \
    static void deallocate(void* ptr) noexcept { ::nostd::new_delete::heap_deallocate((heap), ptr); }              \
  };                                                                                                               \
  }                                                                                                                \
  NOSTD_NEW_DELETE_USE_BACKEND(NostdNewDeleteHeapBackend)
