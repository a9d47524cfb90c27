// alloc/internal/tag_word.h — reading and writing one tag word at a block address, and the flag bits in it.
//
// Block sizes are multiples of the heap granule (at least 8), so the three low bits of a size word are free:
//
//   bit 0  kUsedBit         the block is allocated
//   bit 1  kPrevUsedBit     the block before it is allocated (CompactTags only; FullTags reads the prev footer)
//   bit 2  kOverAlignedBit  the block was allocated with alignment above the granule (reallocate keeps it)
#pragma once

#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>

#include "alloc/internal/asan_hooks.h"

namespace nostd::internal {

inline constexpr std::size_t kUsedBit = 1;
inline constexpr std::size_t kPrevUsedBit = 2;
inline constexpr std::size_t kOverAlignedBit = 4;
inline constexpr std::size_t kFlagBits = 7;

/// Reads the tag word at `at`. memcpy keeps the access free of aliasing questions; `assume_aligned` lets the
/// compiler emit one aligned load even on targets without unaligned access (Cortex-M0+). Under ASan tags are
/// poisoned (the caller must not touch them), so the heap reads them unchecked, byte by byte (ASan intercepts
/// a memcpy call).
template <class Word>
NOSTD_NO_SANITIZE_ADDRESS inline Word load_word(const std::byte* at) noexcept {
  Word word;
  if constexpr (kAsan) {
    auto* out = reinterpret_cast<unsigned char*>(&word);
    for (std::size_t i = 0; i < sizeof(Word); ++i) out[i] = std::to_integer<unsigned char>(at[i]);
  } else {
    std::memcpy(&word, std::assume_aligned<alignof(Word)>(at), sizeof(Word));
  }
  return word;
}

/// Writes the tag word `word` at `at` (aligned to `alignof(Word)`); unchecked under ASan, as `load_word`.
template <class Word>
NOSTD_NO_SANITIZE_ADDRESS inline void store_word(std::byte* at, std::size_t word) noexcept {
  const Word value = static_cast<Word>(word);
  if constexpr (kAsan) {
    const auto* in = reinterpret_cast<const unsigned char*>(&value);
    for (std::size_t i = 0; i < sizeof(Word); ++i) at[i] = std::byte{in[i]};
  } else {
    std::memcpy(std::assume_aligned<alignof(Word)>(at), &value, sizeof(Word));
  }
}

/// What both tag layouts share: the word's constants, and the fields read the same way from a block's header
/// word (size and the used and over-aligned flags). The layouts derive from it and add what differs (where "previous
/// block used" lives, footers).
template <class Word>
struct HeaderFields {
  static_assert(std::numeric_limits<Word>::is_integer && !std::numeric_limits<Word>::is_signed,
                "tag layout: the tag word must be an unsigned integer type");
  static_assert(sizeof(Word) >= 2, "tag layout: a tag word needs room for a size and three flag bits");

  using word_type = Word;
  /// Bytes from a block's start to its payload (the header word).
  static constexpr std::size_t kHeaderSize = sizeof(Word);
  /// Bytes a free block needs for its tags besides the free-list links (header and footer).
  static constexpr std::size_t kFreeTagBytes = 2 * sizeof(Word);
  /// The largest block size a tag word can record.
  static constexpr std::size_t kMaxBlockSize = static_cast<std::size_t>(std::numeric_limits<Word>::max()) & ~kFlagBits;

  /// Block size in bytes, tags included.
  static std::size_t size(const std::byte* block) noexcept { return load_word<Word>(block) & ~kFlagBits; }
  /// True when the block is allocated.
  static bool used(const std::byte* block) noexcept { return (load_word<Word>(block) & kUsedBit) != 0; }
  /// True when the block was allocated with an alignment above the heap granule.
  static bool over_aligned(const std::byte* block) noexcept { return (load_word<Word>(block) & kOverAlignedBit) != 0; }
};

}  // namespace nostd::internal
