// alloc/block/full_tags.h — FullTags: the classic boundary tags, a header and a footer on every block.
//
// Used block (two words of overhead):          Free block:
//
//   +---------------------------+ <- block       +---------------------------+ <- block
//   | size | O | 0 | U=1        |  header        | size | 0 | 0 | U=0       |  header
//   +---------------------------+ <- payload     +---------------------------+ <- payload
//   |                           |                | FreeNode* next            |  free-list links (fit policy)
//   |  payload (usable_size =   |                | FreeNode* prev            |
//   |  size - 2 words)          |                |  ... unused ...           |
//   +---------------------------+                +---------------------------+
//   | size | O | 0 | U=1        |  footer        | size | 0 | 0 | U=0       |  footer
//   +---------------------------+                +---------------------------+
//
//   size  block size in bytes including both tags (a multiple of the granule; low 3 bits hold the flags)
//   U     bit 0: this block is used;  O  bit 2: allocated with an alignment above the granule.
//   Whether the previous block is used is read from its footer, the word just before this header; the first
//   block of a region is preceded by a prologue word marked used.
//
// Invariants: footer == header on every block; no two free blocks are adjacent. Compared with CompactTags this
// costs one word more per used block and buys a heap that can be walked and checked from either direction.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/concepts/role.h"
#include "alloc/internal/optimize.h"
#include "alloc/internal/tag_word.h"

namespace nostd {

/// Header and footer on every block: `2 * sizeof(Word)` bytes of overhead per used block.
template <class Word = std::uintptr_t>
struct BasicFullTags : internal::HeaderFields<Word> {
  using policy_role = role::Tags;
  // kHeaderSize, kFreeTagBytes, kMaxBlockSize and word_type come from internal::HeaderFields<Word>; its readers
  // are named here so that this template's own members can call them (the base is dependent).
  using internal::HeaderFields<Word>::size;
  using internal::HeaderFields<Word>::used;
  using internal::HeaderFields<Word>::over_aligned;

  /// Tag bytes a used block carries (header and footer).
  static constexpr std::size_t kUsedOverhead = 2 * sizeof(Word);

  /// True when the block just before this one is allocated, read from its footer (or the region's prologue).
  static bool prev_used(const std::byte* block) noexcept {
    return (internal::load_word<Word>(block - sizeof(Word)) & internal::kUsedBit) != 0;
  }
  /// Size of the block just before `block`, read from its footer. Precondition: `!prev_used(block)`.
  static std::size_t prev_free_size(const std::byte* block) noexcept {
    return internal::load_word<Word>(block - sizeof(Word)) & ~internal::kFlagBits;
  }
  /// Checks this layout's own invariants for one block (used by validate, and by the pointer check of a free whose
  /// next block is free). Returns nullptr, or the reason. Precondition: `size(block)` has been checked to lie
  /// within the region.
  NOSTD_HOT static const char* check(const std::byte* block) noexcept {
    if (internal::load_word<Word>(block + size(block) - sizeof(Word)) != header(block)) {
      return "block footer differs from its header";
    }
    return nullptr;
  }

  /// Nothing to record: the previous block's footer already says whether it is used.
  static void set_prev_used(std::byte*, bool) noexcept {}
  /// Formats `block` as a used block of `size` bytes: header and footer.
  static void make_used(std::byte* block, std::size_t size, bool /*prev_is_used*/, bool is_over_aligned) noexcept {
    write_both(block, size, size | internal::kUsedBit | (is_over_aligned ? internal::kOverAlignedBit : 0));
  }
  /// Formats `block` as a free block of `size` bytes: header and footer.
  static void make_free(std::byte* block, std::size_t size) noexcept { write_both(block, size, size); }
  /// Writes a region's edges: the prologue (a used footer just before `first`, so the first block never
  /// coalesces backwards) and the end sentinel at `end`, a used block of size 0.
  static void make_edges(std::byte* first, std::byte* end) noexcept {
    internal::store_word<Word>(first - sizeof(Word), internal::kUsedBit);
    internal::store_word<Word>(end, internal::kUsedBit);
  }

 private:
  static std::size_t header(const std::byte* block) noexcept { return internal::load_word<Word>(block); }
  static void write_both(std::byte* block, std::size_t size, std::size_t word) noexcept {
    internal::store_word<Word>(block, word);
    internal::store_word<Word>(block + size - sizeof(Word), word);
  }
};

/// FullTags with pointer-sized tags (16 bytes per used block on 64-bit, 8 on 32-bit).
using FullTags = BasicFullTags<>;

}  // namespace nostd
