// alloc/check/debug_patterns.h — the byte patterns DebugChecks writes into payloads, free blocks and canaries.
#pragma once

#include <cstddef>

namespace nostd {

/// Byte patterns of DebugChecks (and ParanoidChecks), chosen so that each is recognisable in a debugger, odd (a
/// pointer made of them is misaligned) and far from small integers.
struct DebugPatterns {
  /// Every byte of a new payload (allocate, and the bytes a reallocate adds) before the caller writes it.
  static constexpr std::byte kAllocated{0xCD};
  /// Every byte of a free block except its tags and list links: a write after free changes one.
  static constexpr std::byte kFreed{0xDD};
  /// The bytes between the requested size and the end of the block (at least one): a write past the request.
  static constexpr std::byte kCanary{0xFD};
};

}  // namespace nostd
