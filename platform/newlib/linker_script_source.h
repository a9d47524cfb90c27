// platform/newlib/linker_script_source.h — LinkerScriptSource: a HeapSource over the heap region a bare-metal
// board's linker script reserves, [__heap_start, __heap_end) (the symbols every board here defines; README,
// "Adding a board").
//
// The region is read on the heap's first use rather than at construction, because the length of a region between
// two linker symbols is not a constant expression: this way a heap over it can still be `constinit`, which the
// malloc door needs (newlib and C++ constructors may call malloc before any constructor of ours has run).
#pragma once

#include <cstddef>
#include <span>

#include "alloc/concepts/role.h"

extern "C" {
extern char __heap_start;  ///< First byte of the board's heap region (linker script).
extern char __heap_end;    ///< One past the last byte of the board's heap region (linker script).
}

namespace nostd {

/// The board's linker-script heap region as a heap's only region. Nothing else may use that memory: with the
/// malloc door linked, newlib's `_sbrk`, which hands out the same region, is never called.
class LinkerScriptSource {
 public:
  using policy_role = role::Source;
  /// The region is fixed by the linker script; no more can be added.
  static constexpr bool kAcceptsRegions = false;

  constexpr LinkerScriptSource() noexcept = default;

  /// [__heap_start, __heap_end), once (the heap calls it on first use).
  std::span<std::byte> acquire() noexcept {
    auto* start = reinterpret_cast<std::byte*>(&__heap_start);
    auto* end = reinterpret_cast<std::byte*>(&__heap_end);
    return {start, static_cast<std::size_t>(end - start)};
  }
};

}  // namespace nostd
