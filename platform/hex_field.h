// platform/hex_field.h — one field of a board's fault report, "name=0x0000abcd ", formatted without printf, without
// allocation and without a library call, so that a fault handler can print it on a broken stack or a full heap.
// The Cortex-M (mps2_an386) and RISC-V (riscv32_virt) startup code share it; each writes the result with its own
// semihosting call.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nostd::board {

/// The longest name hex_field copies; a longer one is cut to this many characters.
inline constexpr std::size_t kHexFieldNameMax = 20;

/// Room for one field: the name, "0x", eight digits, a space and the terminating NUL.
inline constexpr std::size_t kHexFieldBytes = kHexFieldNameMax + 12;

/// Writes `name` (its first kHexFieldNameMax characters), "0x", `value` as eight lower-case hex digits and a space
/// to `out`, NUL-terminated, and returns `out`. A null `name` counts as empty. No allocation, no library call.
constexpr const char* hex_field(char (&out)[kHexFieldBytes], const char* name, std::uint32_t value) noexcept {
  std::size_t i = 0;
  for (const char* p = name; p != nullptr && *p != '\0' && i < kHexFieldNameMax; ++p) out[i++] = *p;
  out[i++] = '0';
  out[i++] = 'x';
  for (int shift = 28; shift >= 0; shift -= 4) out[i++] = "0123456789abcdef"[(value >> shift) & 0xfU];
  out[i++] = ' ';
  out[i] = '\0';
  return out;
}

}  // namespace nostd::board
