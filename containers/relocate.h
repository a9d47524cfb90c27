// containers/relocate.h — relocation: moving objects to new addresses and ending their old lifetimes.
//
// Containers move elements when they grow, insert or erase. For most types that is a move construction followed
// by the destruction of the source. A *trivially relocatable* type can instead be moved with `memcpy`/`memmove`
// and its source forgotten, which lets `Vec` hand its buffer to the allocator's `reallocate` (which copies bytes).
// C++23 has no such trait, so `IsTriviallyRelocatable` defaults to `std::is_trivially_copyable` and a type may opt
// in by specialising it (a unique-pointer-like handle, a container that holds no pointer into itself).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

namespace nostd {

/// True when a `T` can be moved to another address by copying its bytes, with no destructor run at the old one.
/// Specialise it as `std::true_type` for a type of yours that holds no pointer into itself; never for a type whose
/// address is registered somewhere or that points into itself (a small-buffer string, a list head).
template <class T>
struct IsTriviallyRelocatable : std::is_trivially_copyable<T> {};

/// `IsTriviallyRelocatable<T>::value`, ignoring cv-qualifiers.
template <class T>
inline constexpr bool kIsTriviallyRelocatable = IsTriviallyRelocatable<std::remove_cv_t<T>>::value;

namespace internal {

/// Relocates `count` objects from `src` to `dst`, lowest address first: the objects at `dst` are raw storage
/// before, live after; those at `src` are live before, dead after. Ranges may overlap when `dst < src`.
template <class T>
void relocate_forward(T* src, std::size_t count, T* dst) noexcept {
  if (count == 0 || src == dst) return;
  if constexpr (kIsTriviallyRelocatable<T>) {
    // The void* casts say on purpose that a type which opted in is copied as bytes (-Wclass-memaccess).
    std::memmove(static_cast<void*>(dst), static_cast<const void*>(src), count * sizeof(T));
  } else {
    for (std::size_t i = 0; i < count; ++i) {
      std::construct_at(dst + i, std::move(src[i]));
      std::destroy_at(src + i);
    }
  }
}

/// As `relocate_forward`, highest address first, so ranges may overlap when `dst > src` (opening a gap).
template <class T>
void relocate_backward(T* src, std::size_t count, T* dst) noexcept {
  if (count == 0 || src == dst) return;
  if constexpr (kIsTriviallyRelocatable<T>) {
    std::memmove(static_cast<void*>(dst), static_cast<const void*>(src), count * sizeof(T));
  } else {
    for (std::size_t i = count; i-- > 0;) {
      std::construct_at(dst + i, std::move(src[i]));
      std::destroy_at(src + i);
    }
  }
}

}  // namespace internal
}  // namespace nostd
