// alloc/block/compact_tags.h — CompactTags: a header on every block, a footer only while the block is free.
//
// Used block (one word of overhead):           Free block (two words, both inside the block itself):
//
//   +---------------------------+ <- block       +---------------------------+ <- block
//   | size | O | P | U=1        |  header        | size | 0 | P=1 | U=0     |  header
//   +---------------------------+ <- payload     +---------------------------+ <- payload
//   |                           |                | FreeNode* next            |  free-list links (fit policy)
//   |  payload (usable_size =   |                | FreeNode* prev            |
//   |  size - 1 word)           |                |  ... unused ...           |
//   |                           |                +---------------------------+
//   |                           |                | size                      |  footer (last word)
//   +---------------------------+                +---------------------------+
//
//   size  block size in bytes including the header (a multiple of the granule; low 3 bits hold the flags)
//   U     bit 0: this block is used
//   P     bit 1: the previous block is used. When P = 0 the previous block's footer, the word just before this
//         header, holds its size: that is what makes backward coalescing O(1) without a footer on used blocks.
//   O     bit 2: allocated with an alignment above the granule (reallocate keeps such alignment when it moves)
//
// Invariants: a free block's P bit is always 1 (two free blocks are never adjacent); the next block's P bit
// equals this block's U bit; a free block's footer equals its size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/concepts/role.h"
#include "alloc/internal/optimize.h"
#include "alloc/internal/tag_word.h"

namespace nostd {

/// Header on every block, footer only on free blocks: `sizeof(Word)` bytes of overhead per used block.
/// `Word` sets the tag width: `std::uintptr_t` (the default, `CompactTags`) or `std::uint32_t` to halve the
/// overhead on 64-bit targets, limiting one block to 4 GiB.
template <class Word = std::uintptr_t>
struct BasicCompactTags : internal::HeaderFields<Word> {
  using policy_role = role::Tags;
  // kHeaderSize, kFreeTagBytes, kMaxBlockSize and word_type come from internal::HeaderFields<Word>; its readers
  // are named here so that this template's own members can call them (the base is dependent).
  using internal::HeaderFields<Word>::size;
  using internal::HeaderFields<Word>::used;
  using internal::HeaderFields<Word>::over_aligned;

  /// Tag bytes a used block carries (the header only).
  static constexpr std::size_t kUsedOverhead = sizeof(Word);

  /// True when the block just before this one is allocated (or this is the first block of its region).
  static bool prev_used(const std::byte* block) noexcept { return (header(block) & internal::kPrevUsedBit) != 0; }
  /// Size of the free block just before `block`, read from its footer. Precondition: `!prev_used(block)`.
  static std::size_t prev_free_size(const std::byte* block) noexcept {
    return internal::load_word<Word>(block - sizeof(Word));
  }
  /// Checks this layout's own invariants for one block (used by validate, and by the pointer check of a free whose
  /// next block is free). Returns nullptr, or the reason. Precondition: `size(block)` has been checked to lie
  /// within the region.
  NOSTD_HOT static const char* check(const std::byte* block) noexcept {
    if (used(block)) return nullptr;
    if (!prev_used(block)) return "free block has its prev-used bit clear (two free blocks adjacent)";
    if (internal::load_word<Word>(block + size(block) - sizeof(Word)) != size(block)) {
      return "free block footer differs from its header";
    }
    return nullptr;
  }

  /// Records whether the block before `block` is used.
  static void set_prev_used(std::byte* block, bool prev_is_used) noexcept {
    const std::size_t word = header(block);
    internal::store_word<Word>(block, prev_is_used ? word | internal::kPrevUsedBit : word & ~internal::kPrevUsedBit);
  }
  /// Formats `block` as a used block of `size` bytes. Used blocks carry no footer.
  static void make_used(std::byte* block, std::size_t size, bool prev_is_used, bool is_over_aligned) noexcept {
    internal::store_word<Word>(block, size | internal::kUsedBit | (prev_is_used ? internal::kPrevUsedBit : 0) |
                                          (is_over_aligned ? internal::kOverAlignedBit : 0));
  }
  /// Formats `block` as a free block of `size` bytes (header and footer). A free block's predecessor is always
  /// used, so P is set.
  static void make_free(std::byte* block, std::size_t size) noexcept {
    internal::store_word<Word>(block, size | internal::kPrevUsedBit);
    internal::store_word<Word>(block + size - sizeof(Word), size);
  }
  /// Writes a region's edges: a used marker word just before `first` (read by nobody here, checked by validate)
  /// and the end sentinel at `end`, a used block of size 0 that stops forward coalescing.
  static void make_edges(std::byte* first, std::byte* end) noexcept {
    internal::store_word<Word>(first - sizeof(Word), internal::kUsedBit);
    internal::store_word<Word>(end, internal::kUsedBit | internal::kPrevUsedBit);
  }

 private:
  static std::size_t header(const std::byte* block) noexcept { return internal::load_word<Word>(block); }
};

/// The default tag layout: CompactTags with pointer-sized tags (8 bytes per used block on 64-bit, 4 on 32-bit).
using CompactTags = BasicCompactTags<>;

}  // namespace nostd
