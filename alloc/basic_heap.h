// alloc/basic_heap.h — BasicHeap<Policies...>: a free-list heap with boundary tags and O(1) coalescing.
//
// BasicHeap glues one policy per role: the fit policy indexes free blocks, the tag layout reads and writes block
// tags, the source supplies memory, the lock serialises callers, the check policy decides what misuse to catch.
// The block algorithms (split, coalesce, region edges) live here because they are the same for every
// combination; everything that varies lives in a policy.
//
// Terms: a *region* is one contiguous span of memory the heap manages; it holds a RegionHeader, a prologue word,
// a run of blocks, and an end sentinel (a used block of size 0). The *granule* G is the payload alignment every
// block keeps (alignof(std::max_align_t), at least 8) and the unit of all block sizes.
//
//   region: | RegionHeader | pad | prologue | block | block | ... | block | end sentinel | pad |
//                                           ^ first                       ^ end
//
// Invariants (checked by validate()):
//   capacity == bytes_in_use + bytes_free + overhead_bytes
//   every block size is a multiple of G and at least kMinBlockSize; blocks tile [first, end) exactly
//   no two adjacent blocks are free (so a free block's predecessor is always used)
//   every free block is on the fit index exactly once, and the index holds nothing else
//   with a cache policy (QuickCache): every cached block is a used-tagged block of its bin's size on exactly one
//   cache bin, carrying its bin link sealed with the heap's secret (link ^ secret) in its second payload word; every
//   bin entry is a block start; the live counters exclude cached blocks
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>

#include "alloc/block/compact_tags.h"
#include "alloc/cache/no_cache.h"
#include "alloc/check/basic_checks.h"
#include "alloc/check/debug_patterns.h"
#include "alloc/check/heap_fault.h"
#include "alloc/concepts.h"
#include "alloc/error.h"
#include "alloc/fit/first_fit.h"
#include "alloc/fit/free_list.h"
#include "alloc/heap_stats.h"
#include "alloc/internal/free_node.h"
#include "alloc/internal/memory_tools.h"
#include "alloc/internal/optimize.h"
#include "alloc/internal/policy_list.h"
#include "alloc/layout.h"
#include "alloc/lock/null_lock.h"

namespace nostd {

/// What `walk()` reports for each block.
struct BlockInfo {
  const void* payload;  ///< The block's payload address (what allocate returned, for a used block).
  std::size_t size;     ///< The whole block in bytes, tags included.
  bool used;            ///< True for an allocated block.
  bool cached = false;  ///< True for a freed block a cache policy keeps aside (then `used` is false).
};

/// A heap composed from policies given in any order: at most one each of a FitPolicy (default FirstFit), a
/// TagLayout (default CompactTags), a LockPolicy (default NullLock), a CheckPolicy (default BasicChecks<>), a
/// CachePolicy (default NoCache; QuickCache keeps freed small blocks aside for reuse), and exactly one HeapSource
/// (no default).
///
/// Complexity: deallocate and coalescing O(1) (plus O(regions) for the pointer check of BasicChecks, O(1) with one
/// region or a source that locates regions: internal::kLocatesRegions);
/// allocate as the fit policy documents (O(free blocks) for FirstFit, NextFit, BestFit; O(1) for SegregatedFit);
/// validate and stats O(blocks). No recursion, no allocation behind the caller's back, nothing printed.
///
/// A heap is neither copyable nor movable: its blocks point into it.
template <class... Policies>
class BasicHeap {
  static_assert((internal::kHasKnownRole<Policies> && ...),
                "BasicHeap: a policy type has no known role (give it `using policy_role = nostd::role::Fit;` or "
                "Tags, Lock, Source, Check, Cache)");
  static_assert(internal::kRoleCount<role::Fit, Policies...> <= 1, "BasicHeap: two fit policies given; pass one");
  static_assert(internal::kRoleCount<role::Tags, Policies...> <= 1, "BasicHeap: two tag layouts given; pass one");
  static_assert(internal::kRoleCount<role::Lock, Policies...> <= 1, "BasicHeap: two lock policies given; pass one");
  static_assert(internal::kRoleCount<role::Check, Policies...> <= 1, "BasicHeap: two check policies given; pass one");
  static_assert(internal::kRoleCount<role::Source, Policies...> <= 1, "BasicHeap: two heap sources given; pass one");
  static_assert(internal::kRoleCount<role::Cache, Policies...> <= 1, "BasicHeap: two cache policies given; pass one");
  // `>= 1`, not `== 1`: two sources are the assertion above's error alone, not also a false "no heap source".
  static_assert(internal::kRoleCount<role::Source, Policies...> >= 1,
                "BasicHeap: no heap source given (StaticArraySource<Bytes>, RegionSource or MmapSource<Bytes>)");

  // The policies as given, each checked against its concept with one line naming what it misses. The heap is built
  // from them when they pass and from the defaults (a stand-in source) when one does not, so that a misuse stops the
  // compile at that line alone instead of failing again at every use of the policy below
  // (//tests:diagnostics_test counts the errors).
  using GivenFit = internal::PickRoleT<role::Fit, FirstFit, Policies...>;
  using GivenTags = internal::PickRoleT<role::Tags, CompactTags, Policies...>;
  using GivenLock = internal::PickRoleT<role::Lock, NullLock, Policies...>;
  using GivenCheck = internal::PickRoleT<role::Check, BasicChecks<>, Policies...>;
  using GivenSource = internal::PickRoleT<role::Source, internal::StandInSource, Policies...>;
  using GivenCache = internal::PickRoleT<role::Cache, NoCache, Policies...>;
  static_assert(internal::diagnose_fit_policy<GivenFit>());
  static_assert(internal::diagnose_tag_layout<GivenTags>());
  static_assert(internal::diagnose_lock_policy<GivenLock>());
  static_assert(internal::diagnose_check_policy<GivenCheck>());
  static_assert(internal::diagnose_heap_source<GivenSource>());
  static_assert(internal::diagnose_cache_policy<GivenCache>());

 public:
  /// The fit policy (FirstFit when none is given).
  using Fit = std::conditional_t<FitPolicy<GivenFit>, GivenFit, FirstFit>;
  /// The tag layout (CompactTags when none is given).
  using Tags = std::conditional_t<TagLayout<GivenTags>, GivenTags, CompactTags>;
  /// The lock policy (NullLock when none is given).
  using Lock = std::conditional_t<LockPolicy<GivenLock>, GivenLock, NullLock>;
  /// The check policy (BasicChecks<> when none is given).
  using Check = std::conditional_t<CheckPolicy<GivenCheck>, GivenCheck, BasicChecks<>>;
  /// The heap source (required).
  using Source = std::conditional_t<HeapSource<GivenSource>, GivenSource, internal::StandInSource>;
  /// The cache policy (NoCache when none is given).
  using Cache = std::conditional_t<CachePolicy<GivenCache>, GivenCache, NoCache>;

  /// Payload alignment of every block and the unit of block sizes.
  static constexpr std::size_t kGranule = std::max<std::size_t>(alignof(std::max_align_t), 8);
  /// log2(kGranule).
  static constexpr int kGranuleShift = std::countr_zero(kGranule);
  /// Alignment of `allocate(std::size_t)`.
  static constexpr std::size_t kDefaultAlignment = alignof(std::max_align_t);
  /// Largest alignment `allocate` accepts; larger ones fail with kInvalidLayout.
  static constexpr std::size_t kMaxAlignment = std::size_t{1} << (sizeof(std::size_t) >= 8 ? 24 : 20);
  /// Tag bytes every used block carries.
  static constexpr std::size_t kTagOverhead = Tags::kUsedOverhead;
  /// Smallest block: room for a free block's tags and links, rounded to the granule.
  static constexpr std::size_t kMinBlockSize = align_up(Tags::kFreeTagBytes + sizeof(internal::FreeNode), kGranule);
  /// Bytes of a region's span that hold no block: the region's header (four words), the prologue tag word before the
  /// first block and the end sentinel's tag word, rounded up to the granule. A span that starts and ends on granule
  /// boundaries adds exactly its size less this to `stats().capacity` (`StaticArraySource<4096>`: 4,048 bytes on
  /// x86_64, 4,072 on Cortex-M); an unaligned span adds at least its granule-aligned inner part less this, and less
  /// than its size less this plus a granule. A span that becomes several regions (above a tag word's largest block)
  /// pays this once per region.
  static constexpr std::size_t kRegionOverhead = align_up(4 * sizeof(std::uintptr_t) + 2 * Tags::kHeaderSize, kGranule);

  static_assert(kGranule % alignof(internal::FreeNode) == 0,
                "BasicHeap: free-list links are stored at payload addresses, so the granule must align them");
  static_assert(is_power_of_two(kGranule) && kGranule >= 8,
                "BasicHeap: block sizes are multiples of the granule and their 3 low bits hold the tag flags");
  static_assert(Tags::kHeaderSize < kGranule && kGranule % Tags::kHeaderSize == 0,
                "BasicHeap: the tag word must be smaller than the granule and divide it, so tags stay aligned");
  static_assert(kTagOverhead < kMinBlockSize, "BasicHeap: a minimum block must have room for payload");

  /// Bytes of check trailer every used block carries after its payload: 0 below HardenedChecks; 4 (the keyed
  /// check word) with HardenedChecks; 8 (the requested size's slack, then the check word) with DebugChecks and
  /// ParanoidChecks; 2 more with 16-bit CompactTags (a pad after the check word, so that the trailer's words stay
  /// 4-byte aligned).
  static constexpr std::size_t kCheckBytes = (Check::kLevel >= CheckLevel::kDebug      ? 8
                                              : Check::kLevel >= CheckLevel::kHardened ? 4
                                                                                       : 0) +
                                             (Check::kLevel >= CheckLevel::kHardened ? (4 - kTagOverhead % 4) % 4 : 0);
  // The trailer's 32-bit words are read and written as aligned words (internal::load_word's assume_aligned: one load
  // even where unaligned access faults, as on Cortex-M0+). A block ends a tag word before a granule boundary, so the
  // trailer starts kTagOverhead + kCheckBytes before one: with 16-bit CompactTags (one 2-byte tag) that put the slack
  // and the check word 2 bytes off a word boundary (undefined behaviour that clang's -fsanitize=alignment reports, and
  // a fault on a core without unaligned access). kCheckBytes' pad of 2 bytes behind the check word (16-bit CompactTags
  // from HardenedChecks up only; every other layout's tags are a multiple of 4 bytes) costs that layout 2 usable bytes
  // per block rather than a byte-wise load and store of both words on every check.
  static_assert(kCheckBytes == 0 || (kTagOverhead + kCheckBytes) % 4 == 0,
                "BasicHeap: the check trailer's 32-bit words must start on a 4-byte boundary");
  /// Bytes a used block carries beyond its payload: tags and check trailer (`stats().overhead_bytes` counts
  /// this per live block and kTagOverhead per free block).
  static constexpr std::size_t kUsedOverhead = kTagOverhead + kCheckBytes;

  /// True when freed blocks of at most Cache::kMaxBlock bytes are kept aside (alloc/cache/quick_cache.h): the cache
  /// policy has a depth, the check level is at most BasicChecks and no memory tool (ASan, Valgrind) watches the heap.
  /// The levels above poison and seal every freed block, and the tools must see a free at once; a cached block would
  /// escape both.
  static constexpr bool kCaching = (Cache::kDepth > 0) && (Cache::kMaxBlock >= kMinBlockSize) &&
                                   (Check::kLevel <= CheckLevel::kBasic) && !internal::kMemoryTools;

  /// An empty heap whose source supplies memory on first use. `constexpr`, so a heap over a StaticArraySource
  /// can be `constinit` (no static-initialisation-order trouble).
  constexpr BasicHeap() noexcept = default;

  /// A heap over `initial_region`, which the caller owns and which must outlive the heap (RegionSource only). The
  /// region is taken on first use and checked as `add_region` checks it: one it would refuse (too small for one
  /// block, null with a length, over the heap object itself) leaves the heap empty, and allocations fail with
  /// kOutOfMemory. A region larger than the tag word can record is split as `add_region` describes.
  // Not `region`: GCC's -Wshadow reports a class template's constructor parameter, or a lambda parameter in it, named
  // as a global of the file that instantiates it, so this header's avoid common names (//tests:shadow_test).
  explicit BasicHeap(std::span<std::byte> initial_region) noexcept requires Source::kAcceptsRegions
      : source_(initial_region) {}

  BasicHeap(const BasicHeap&) = delete;
  BasicHeap& operator=(const BasicHeap&) = delete;

  /// Under ASan, hands the regions back unpoisoned (their memory may be a stack frame or a malloc block that is
  /// reused); blocks still live stay announced to Valgrind, which reports them as leaks. Trivial otherwise.
  ~BasicHeap() requires internal::kMemoryTools {
    for (const RegionHeader* r = regions_; r != nullptr; r = r->next) {
      internal::asan_unpoison(
          r, static_cast<std::size_t>(r->end + Tags::kHeaderSize - reinterpret_cast<const std::byte*>(r)));
    }
  }
  ~BasicHeap() = default;

  /// Allocates `layout.size()` bytes aligned to `layout.align()`. Size 0 gets a unique minimum block.
  /// Fails with kInvalidLayout (alignment above kMaxAlignment), kSizeOverflow (size plus tags overflows
  /// std::size_t) or kOutOfMemory (no free block fits). Complexity: the fit policy's search.
  [[nodiscard]] Result<void*> allocate(Layout layout) noexcept {
    Guard guard(lock_, regions_);
    if constexpr (kInlineCache) {
      if (layout.align() <= kGranule) {
        if (void* const hit = cache_allocate(layout.size())) return hit;
      }
    }
    if constexpr (!kParanoidLevel) return allocate_in_index(layout.size(), layout.align());
    before_operation();
    Result<void*> result = allocate_locked(layout.size(), layout.align());
    after_operation();
    return result;
  }

  /// Allocates `size` bytes aligned to kDefaultAlignment. Fails as `allocate(Layout)` does.
  [[nodiscard]] Result<void*> allocate(std::size_t size) noexcept {
    Guard guard(lock_, regions_);
    return allocate_default(size);
  }

  /// The smallest request allocate_zeroed plans its clear for, where the heap knows its fresh memory (a page on most
  /// targets): below it, skipping memory saves no page fault, and the plan costs more than the clear.
  static constexpr std::size_t kPlannedZeroingBytes = 4096;

  /// Allocates `size` bytes as `allocate(size)` does, with those bytes zero (calloc's allocation). Where the heap knows
  /// which memory it has never handed out, it does not write it: with a source whose memory starts zero
  /// (`kZeroedMemory`: MmapSource, the drop-in malloc's chunks) and a cache, whose high-water mark (the highest block
  /// end handed out in the newest region) every path but the exact one then raises, a request of a page or more has
  /// only the part below the mark, the free tags and links the heap keeps at the mark, and the region's last bytes
  /// (its last free block's footer, or a last block the exact path took: kRegionEndBytes) cleared; the rest keeps the
  /// source's zero pages, untouched, as glibc's calloc leaves the fresh top of its heap. Otherwise every byte is
  /// cleared (O(size) at most either way). Fails as `allocate(size)` does.
  [[nodiscard]] Result<void*> allocate_zeroed(std::size_t size) noexcept {
    if constexpr (kTracksFresh) {
      // Below a page, skipping memory saves no page fault, and the plan's reads and compares cost more than a clear
      // of so few bytes.
      if (size >= kPlannedZeroingBytes) return allocate_zeroed_planned(size);
    }
    Result<void*> block = allocate(size);
    // A block was handed out, so `size` fits an object: the bound says so to GCC, whose -Wstringop-overflow otherwise
    // saw allocate_zeroed(SIZE_MAX), which fails, clear SIZE_MAX bytes (riscv64 at -O1).
    constexpr auto kLargestObject = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
    if (block) std::memset(*block, 0, std::min(size, kLargestObject));
    return block;
  }

  /// Allocates `size` bytes aligned to `align`. Fails with kInvalidLayout when `align` is 0, not a power of two
  /// or above kMaxAlignment (whatever the size), otherwise as `allocate(Layout)` does.
  [[nodiscard]] Result<void*> allocate(std::size_t size, std::size_t align) noexcept {
    // The alignment before the size: Layout::from, which knows no heap's maximum, says kSizeOverflow for a huge size
    // at a huge alignment.
    Result<Layout> layout = align <= kMaxAlignment ? Layout::from(size, align) : fail(AllocError::kInvalidLayout);
    if (!layout) {
      Guard guard(lock_, regions_);
      return note_failure(layout.error());
    }
    return allocate(*layout);
  }

  /// Frees `ptr` (nullptr is a no-op). With BasicChecks, a pointer that is not a live block of this heap goes to
  /// the check policy's handler and the heap is not touched. O(1) plus the check.
  void deallocate(void* ptr) noexcept {
    if (ptr == nullptr) return;
    Guard guard(lock_, regions_);
    if constexpr (kInlineCache) {
      if (cache_free(ptr)) return;
      deallocate_uncached(ptr);
    } else {
      deallocate_locked(ptr);
    }
  }

  /// Frees `ptr`, allocated with `layout` (blocks record their size, so the layout is only checked: with
  /// DebugChecks a layout that does not fit the block goes to the handler as kInvalidLayout and the block stays
  /// allocated: a size other than the one requested (DebugChecks' usable_size), or an alignment other than the
  /// one allocated with, as far as the block records it: an over-aligned block's own, the granule or less for any
  /// other block).
  void deallocate(void* ptr, Layout layout) noexcept {
    if constexpr (Check::kLevel >= CheckLevel::kDebug) {
      if (ptr == nullptr) return;
      Guard guard(lock_, regions_);
      Result<std::byte*> block = checked_block(ptr);
      if (!block) fault_to_handler(pointer_fault(block.error(), ptr));
      before_operation();
      if (layout.size() != visible_bytes(*block) || !alignment_fits(*block, layout.align())) {
        fault_to_handler(HeapFault{AllocError::kInvalidLayout, ptr,
                                   "deallocate's layout does not fit the block (a size other than requested, or an "
                                   "alignment other than allocated with)"});
      }
      release(*block);
      after_operation();
    } else {
      (void)layout;
      deallocate(ptr);
    }
  }

  /// Frees `ptr` if it is a live block of this heap whose checks pass; otherwise returns the error and leaves the heap
  /// untouched. Checks whatever the check policy; nullptr is Ok. Errors:
  /// - kInvalidPointer: foreign, interior or misaligned; also a live block whose own header or whose next block's
  ///   tags were overwritten so that they no longer agree it is a used block (the check cannot tell it from a
  ///   pointer that is no block);
  /// - kDoubleFree: a block freed already (also after it merged into a neighbour, or while a cache keeps it);
  /// - kCorrupted (HardenedChecks and above): tags that agree but a check word that does not match them (a header
  ///   rewritten to swallow its successor, a block forged in payload bytes, an overflow into the check word), or,
  ///   from DebugChecks on, an overwritten canary (a write past the requested size).
  /// Limit from DebugChecks on: an interior pointer into the poisoned bytes of a free block returns kDoubleFree, not
  /// kInvalidPointer: the word before it is poison, as the header of a block freed and merged into its predecessor
  /// is, and the heap keeps no record of where freed blocks began. (Into a live block whose payload holds the
  /// pattern it is kInvalidPointer: a walk of the region, on that path only, finds the block around it.)
  /// The check is O(1): it reads the block's tags and those of the neighbours a free would merge with; on two fault
  /// paths only it walks the region's blocks (O(blocks)) to tell an interior pointer from a damaged block: from
  /// HardenedChecks on, a check word that fails with tags that disagree (an overrun block is kCorrupted, a word
  /// in a live payload that reads as a used header is kInvalidPointer), and from DebugChecks on a poisoned header
  /// (above). An interior pointer into payload bytes that forge a whole consistent block with consistent neighbours
  /// would pass it below HardenedChecks; `validate()` is the complete check. From HardenedChecks on such a pointer
  /// is kCorrupted (its check word fails with tags that agree), also when the bytes are data that happen to read as
  /// a block (an array of 64-bit 35s: a used 32-byte header and a used successor), not kInvalidPointer.
  [[nodiscard]] Result<void> try_deallocate(void* ptr) noexcept {
    if (ptr == nullptr) return {};
    Guard guard(lock_, regions_);
    Result<std::byte*> block = checked_block(ptr);
    if (!block) return fail(block.error());
    before_operation();
    free_block(*block);
    after_operation();
    return {};
  }

  /// Resizes the block at `ptr` to at least `new_size` bytes, keeping its contents (up to the smaller size) and
  /// its alignment. Shrinks in place; grows in place when the next block is free and large enough; otherwise
  /// allocates a new block, copies and frees the old one. On failure the old block is untouched and still
  /// owned by the caller. `ptr == nullptr` allocates. Misuse of `ptr` goes to the check policy as in deallocate.
  [[nodiscard]] Result<void*> reallocate(void* ptr, std::size_t new_size) noexcept {
    if (ptr == nullptr) return allocate(new_size);
    Guard guard(lock_, regions_);
    std::byte* block = nullptr;
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      Result<std::byte*> checked = checked_block(ptr);
      if (!checked) fault_to_handler(pointer_fault(checked.error(), ptr));
      block = *checked;
    } else {
      block = block_of(ptr);
    }
    if constexpr (!kParanoidLevel) return reallocate_locked(block, new_size);
    before_operation();
    Result<void*> result = reallocate_locked(block, new_size);
    after_operation();
    return result;
  }

  /// Bytes usable at `ptr` (at least the size requested; exactly the size requested with DebugChecks, whose
  /// canary starts right after it). Precondition: `ptr` is a live block of this heap. O(1).
  /// Takes the lock: freeing the block before `ptr` rewrites a flag in `ptr`'s header (CompactTags).
  std::size_t usable_size(const void* ptr) const noexcept {
    Guard guard(lock_, regions_);
    return visible_bytes(block_of(ptr));
  }

  /// usable_size with try_deallocate's pointer check first, whatever the check policy: the bytes usable at `ptr`,
  /// or the error try_deallocate would return (kInvalidPointer, also for nullptr; kDoubleFree, a use after free;
  /// kCorrupted from HardenedChecks on: a check word or canary broken); nothing is read beyond what that check
  /// reads. For callers that must not trust the pointer (the drop-in malloc's malloc_usable_size). O(1), plus
  /// O(regions) for the region lookup (O(1) with a source that locates regions, internal::kLocatesRegions).
  [[nodiscard]] Result<std::size_t> try_usable_size(const void* ptr) noexcept {
    if (ptr == nullptr) return fail(AllocError::kInvalidPointer);
    Guard guard(lock_, regions_);
    Result<std::byte*> block = checked_block(const_cast<void*>(ptr));
    if (!block) return fail(block.error());
    return visible_bytes(*block);
  }

  /// The heap's source, for a source with state of its own that its owner sets after construction (the drop-in
  /// malloc's arenas tell theirs which chunks are theirs: platform/malloc/chunk_region_source.h). Not locked.
  Source& source() noexcept { return source_; }

  /// True when `ptr` points into one of this heap's regions (any byte of any block). O(regions), O(1) with a source
  /// that locates regions.
  bool owns(const void* ptr) const noexcept {
    Guard guard(lock_, regions_);
    mutable_self().ensure_init();
    return region_of(static_cast<const std::byte*>(ptr)) != nullptr;
  }

  /// Adds `region` (caller-owned, outliving the heap, not overlapping other regions) to the heap
  /// (RegionSource only), before or after allocations. Fails with kOutOfMemory when the region cannot hold one block,
  /// and with kInvalidPointer when it overlaps a region the heap already has or the heap object itself, is null with
  /// a nonzero length, or its end wraps the address space; a refused region is not touched. A region adjacent to
  /// another stays a region of its own (no block spans two). O(regions). A region larger than the largest block the
  /// tag word records (`Tags::kMaxBlockSize`: 4 GiB with 32-bit tags) is split into several back-to-back regions of
  /// at most that size (one region header and end sentinel each), so all of it is used; no single allocation can
  /// exceed that size.
  [[nodiscard]] Result<void> add_region(std::span<std::byte> region) noexcept requires Source::kAcceptsRegions {
    Guard guard(lock_, regions_);
    ensure_init();
    before_operation();
    Result<void> result = add_region_locked(region);
    after_operation();
    return result;
  }

  /// Takes back a span given to `add_region` (or to the constructor) once no block in it is in use, and leaves its
  /// memory to the caller: the heap never reads or writes it again. For memory lent to the heap for a while: a frame
  /// buffer, a DMA buffer, a RAM bank to be powered down. Only for sources that take caller memory (kAcceptsRegions):
  /// the others own what the heap holds (an array inside the heap, a mapping, the linker's heap), which no caller lent.
  ///
  /// `span` is the span add_region was given. The heap keeps no record of spans, only the region headers it wrote:
  /// it lays `span` out as add_region does (the header at its first word boundary, the blocks on granule boundaries,
  /// back-to-back regions for a span larger than a tag word records) and takes it back when that layout is exactly
  /// regions it holds. So a span that differs from the one given only in bytes add_region left unused (before the
  /// header's word boundary, or a tail under a granule) is taken too, unless another region lies in those bytes (a
  /// span lent right before or after it), and so is the later part of a split span that starts at one of its regions'
  /// headers: each such region is a region in its own right.
  ///
  /// Every block in it must be free. Blocks the cache policy (QuickCache) keeps aside count as free: when the span
  /// holds one, the whole cache is flushed first (flush_cache()), which also merges the cached blocks of the other
  /// regions. The region's free block then leaves the fit index, its header the region list (a fit's own pointer
  /// into it, NextFit's rover, moves on as the block leaves the index), and stats() drops by exactly what add_region
  /// added (capacity, bytes_free, free_blocks and overhead_bytes). With a cache, when the newest region goes, the next
  /// newest takes its place, its high-water mark at its end (all of it counted as touched). A heap left with no region
  /// works: allocations fail with kOutOfMemory until add_region gives it memory again. Under ASan and Valgrind the
  /// memory is handed back addressable. With a source that locates regions (internal::kLocatesRegions) the source
  /// must stop naming the span before the memory is reused (its contract: spans the heap still holds).
  ///
  /// Errors, the heap unchanged: kInvalidPointer when `span` is no region of this heap (null, empty, foreign,
  /// overlapping a region in part, inside one, reaching into an adjacent one, or removed already); kInUse when a block
  /// in it is live; kCorrupted when a region header on the way fails its seal. O(regions) for the lookup (per region of
  /// a split span), plus with a cache O(blocks in the region x Cache::kDepth) to tell cached blocks from live ones and
  /// the flush (O(cached blocks)); O(1) more without one.
  [[nodiscard]] Result<void> remove_region(std::span<std::byte> span) noexcept requires Source::kAcceptsRegions {
    Guard guard(lock_, regions_);
    ensure_init();
    before_operation();
    Result<void> result = remove_region_locked(span);
    after_operation();
    return result;
  }

  /// Coalesces every block the cache policy keeps aside (QuickCache), so that the fit index holds all free memory
  /// again: before measuring fragmentation, or before a phase of larger requests. O(cached blocks); a no-op without a
  /// cache. An allocation that finds no block does the same by itself before it fails.
  void flush_cache() noexcept {
    if constexpr (kCaching) {
      Guard guard(lock_, regions_);
      ensure_init();
      before_operation();
      cache_flush();
      after_operation();
    }
  }

  /// Bytes in live blocks now: stats().bytes_in_use without the walk of the free index that stats() makes, O(1).
  /// A block a cache policy keeps aside counts as freed.
  std::size_t bytes_in_use_now() const noexcept {
    Guard guard(lock_, regions_);
    return bytes_in_use();
  }

  /// A snapshot of the usage counters. O(free blocks) for `largest_free_block`, the rest O(1). It walks the free
  /// index for `largest_free_block`: from BasicChecks up, a free block's `next` link that a write after free pointed
  /// out of the heap, or at a word that does not point back, goes to the check handler as kCorrupted at that block,
  /// before anything is read through it, as allocate's search does (a snapshot has no error to return, and one that
  /// left the rest of the list out would be silently wrong); nothing changes. Without checks the link is followed.
  HeapStats stats() const noexcept {
    Guard guard(lock_, regions_);
    mutable_self().ensure_init();
    HeapStats s;
    s.capacity = capacity_;
    s.bytes_in_use = bytes_in_use();
    s.bytes_free = free_block_bytes() - index_.count() * kServeCost;  // as the blocks could serve
    std::size_t largest = 0;
    // A block smaller than kServeCost (a minimum block from DebugChecks up with 4-byte full tags) serves nothing: what
    // the line above took from it beyond its size is added back, so that it counts 0, not a negative share. Always 0
    // where kMinBlockSize >= kServeCost.
    std::size_t unservable = 0;
    index_.for_each(link_checked<false>([&largest, &unservable](const internal::FreeNode* listed) {
                      const std::size_t block_bytes = internal::node_block_size<Tags>(listed);
                      largest = std::max(largest, block_bytes);
                      unservable += kServeCost - std::min(block_bytes, kServeCost);
                      return true;
                    }),
                    index_.count());
    s.bytes_free += unservable;
    if constexpr (kCaching) {
      // A cached block serves a request of its own size: its payload counts as free, in one block.
      const CachedTotals cached = cached_totals();
      s.cached_bytes = cached.bytes - cached.count * kUsedOverhead;
      s.bytes_free += s.cached_bytes;
      for (std::size_t bin = kCacheBins; bin-- > 0;) {
        if (cache_.heads[bin] != nullptr) {
          largest = std::max(largest, cache_bin_size(bin));
          break;
        }
      }
      s.cached_blocks = cached.count;
    }
    s.overhead_bytes = s.capacity - s.bytes_in_use - s.bytes_free;
    s.largest_free_block = largest <= kServeCost ? 0 : largest - kServeCost;
    s.peak_bytes_in_use = peak_bytes_in_use_;
    s.live_allocations = live_blocks();
    s.free_blocks = index_.count();
    s.total_allocations = total_allocations_;
    s.total_frees = total_frees_;
    s.failed_allocations = failed_allocations_;
    return s;
  }

  /// Walks every block of every region and the whole fit index and reports the first broken invariant (with its
  /// address and reason). Never asserts, never modifies the heap. O(blocks + regions), times the cache's depth for
  /// the small used blocks with a cache. Reads the heap's own bytes only (tags, free and cached blocks, and past each
  /// live block's usable size its check word, canary or alignment record), never what a live block's owner writes, so
  /// other threads may write their blocks meanwhile.
  ValidateResult validate() const noexcept {
    Guard guard(lock_, regions_);
    mutable_self().ensure_init();
    return validate_locked();
  }

  /// Calls `visit(BlockInfo)` for every block, region by region in address order within a region (a cached block as
  /// `cached`, not `used`). The visitor must not call back into the heap (the lock is held). Reads no live block's
  /// payload (a used block of a cache bin's size is looked up in its bin), so other threads may write their blocks
  /// meanwhile. O(blocks), times the cache's depth with a cache.
  template <class Visitor>
  void walk(Visitor&& visit) const {
    Guard guard(lock_, regions_);
    mutable_self().ensure_init();
    for (const RegionHeader* region = regions_; region != nullptr; region = region->next) {
      for (const std::byte* block = region->first; block != region->end; block += Tags::size(block)) {
        bool cached = false;
        if constexpr (kCaching) cached = Tags::used(block) && on_cache_bin(block);
        visit(BlockInfo{block + Tags::kHeaderSize, Tags::size(block), Tags::used(block) && !cached, cached});
      }
    }
  }

  /// Calls `visit(BlockInfo)` for every free block the fit's index holds (`used` and `cached` false), in the index's
  /// order: the blocks `walk()` reports as neither used nor cached, without stepping over the others. Leaves out the
  /// used blocks and the blocks a cache policy keeps aside (flush_cache() first to have them indexed). The visitor
  /// must not call back into the heap (the lock is held). O(free blocks), not O(blocks): for a caller that looks for
  /// free blocks in a large heap (the drop-in malloc's page release). It follows the index's links as stats() does:
  /// from BasicChecks up, a link that a write after free pointed out of the heap, or at a word that does not point
  /// back, goes to the check handler as kCorrupted at the block holding it, before anything is read through it; nothing
  /// changes. Without checks the link is followed.
  template <class Visitor>
  void walk_free(Visitor&& visit) const {
    Guard guard(lock_, regions_);
    mutable_self().ensure_init();
    index_.for_each(link_checked<false>([&visit](const internal::FreeNode* listed) {
                      visit(BlockInfo{listed, internal::node_block_size<Tags>(listed), false, false});
                      return true;
                    }),
                    index_.count());
  }

  /// Calls `visit(block_size, count)` for every non-empty bin of the cache policy, in increasing `block_size`: `count`
  /// blocks of exactly `block_size` bytes (tags included) wait there unmerged, each serving `block_size -
  /// kUsedOverhead` bytes (stats().cached_bytes sums that). With walk_free(), every block walk() reports as not used,
  /// grouped by size, without stepping over used blocks. Reads the bins' counts only, no block: O(bins), not
  /// O(cached blocks). Visits nothing without an active cache (NoCache, or kCaching false at this check level). The
  /// visitor must not call back into the heap (the lock is held).
  template <class Visitor>
  void walk_cache_bins(Visitor&& visit) const {
    Guard guard(lock_, regions_);
    mutable_self().ensure_init();
    if constexpr (kCaching) {
      for (std::size_t bin = 0; bin < kCacheBins; ++bin) {
        if (cache_.counts[bin] != 0) visit(cache_bin_size(bin), std::size_t{cache_.counts[bin]});
      }
    }
  }

  /// The payload a free block of `block_size` bytes (tags included, as walk_free() reports it) could serve: what
  /// stats().bytes_free counts for it, 0 for a block too small to serve any request.
  static constexpr std::size_t free_payload(std::size_t block_size) noexcept {
    return block_size > kServeCost ? block_size - kServeCost : 0;
  }

 private:
  // The fit policy's index of free blocks, sized to the source when the source's size is known at compile time.
  using Index = typename internal::FitIndexFor<Fit, Tags, internal::kSourceBytes<Source>>::type;

  // In-band record of one region, at the region's start: regions need no storage outside themselves, so a heap
  // can take any number of them without a fixed table.
  // The header lies just before the region's first block, where an underflowing write can reach it, so it carries
  // a seal (a hash of its fields and its own address): validate() checks the seal before it follows `next` or
  // walks to `end`, and finds an overwritten header instead of crashing on it. `first` is also implied by the
  // header's address (region_first), which validate() checks exactly.
  struct RegionHeader {
    RegionHeader* next;
    std::byte* first;     // first block
    std::byte* end;       // end sentinel (a used block of size 0)
    std::uintptr_t seal;  // region_seal(this)
  };
  static_assert(align_up(sizeof(RegionHeader) + 2 * Tags::kHeaderSize, kGranule) == kRegionOverhead,
                "BasicHeap: kRegionOverhead must state what first_payload_after leaves before a region's first block");

  // Holds the heap's lock for one operation. The lock is mutable so that const observers (stats, validate) lock.
  // Under Valgrind it also keeps memcheck quiet over the heap's regions while the heap reads its own tags and
  // poisoned bytes (alloc/internal/valgrind_hooks.h); otherwise it is the lock alone.
  class Guard {
   public:
    Guard(Lock& heap_lock, RegionHeader* const& heap_regions) noexcept : lock_(heap_lock), regions_(heap_regions) {
      lock_.lock();
      if constexpr (internal::kValgrind) quiet(true);
    }
    ~Guard() {
      if constexpr (internal::kValgrind) quiet(false);
      lock_.unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    // Stops at the first region header whose seal fails, as validate_locked does: validate() runs over overwritten
    // headers (a stray write, or a corruption test's), and a junk `next` or `end` must not be followed or turned into
    // a range here either. Both walks of one Guard see the same headers (the lock is held), so they quiet and resume
    // the same ranges; the broken header itself stays addressable (add_region_locked never forbids it).
    void quiet(bool on) const noexcept {
      for (const RegionHeader* r = regions_; r != nullptr && r->seal == region_seal(r); r = r->next) {
        quiet_region(r, on);
      }
    }
    Lock& lock_;
    RegionHeader* const& regions_;
  };

  static void quiet_region(const RegionHeader* r, bool on) noexcept {
    internal::valgrind_quiet(
        r, static_cast<std::size_t>(r->end + Tags::kHeaderSize - reinterpret_cast<const std::byte*>(r)), on);
  }

  static std::byte* block_of(void* payload) noexcept { return static_cast<std::byte*>(payload) - Tags::kHeaderSize; }
  static const std::byte* block_of(const void* payload) noexcept {
    return static_cast<const std::byte*>(payload) - Tags::kHeaderSize;
  }
  NOSTD_HOT static internal::FreeNode* node_of(std::byte* block) noexcept {
    return reinterpret_cast<internal::FreeNode*>(block + Tags::kHeaderSize);
  }
  NOSTD_HOT static std::byte* block_of_node(internal::FreeNode* node) noexcept {
    return reinterpret_cast<std::byte*>(node) - Tags::kHeaderSize;
  }
  static std::uintptr_t address(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p); }

  static constexpr const char* describe(AllocError error) noexcept {
    switch (error) {
      case AllocError::kDoubleFree:
        return "pointer's block is already free";
      case AllocError::kInvalidPointer:
        return "pointer is not a live block of this heap (foreign, interior, misaligned, or its tags overwritten)";
      case AllocError::kCorrupted:
        return "block check failed: its header, check word or canary was overwritten (an overflow, or a forged "
               "block)";
      default:
        return "heap check failed";
    }
  }

  // The fault a pointer check's error makes (deallocate and reallocate): the pointer and the error's reason,
  // except for a used block that fails its trailer (HardenedChecks and up), which says why in its own words, and under
  // DebugChecks, for a write past the request, names the first canary byte overwritten instead of the pointer: where a
  // debugger should look. Below HardenedChecks the code is what it was before the trailer's reasons came here.
  [[gnu::always_inline]] HeapFault pointer_fault(AllocError error, void* ptr) const noexcept {
    if constexpr (kHardenedLevel) {
      if (error == AllocError::kCorrupted) return trailer_fault(ptr);
    }
    return HeapFault{error, ptr, describe(error)};
  }
  // pointer_fault's kCorrupted: the block at `ptr` passed every check but its trailer. Out of line: only a fault
  // comes here.
  [[gnu::cold, gnu::noinline]] HeapFault trailer_fault(void* ptr) const noexcept {
    const UsedBlockFault fault = used_block_fault(block_of(ptr));
    if (fault.why == nullptr) return HeapFault{AllocError::kCorrupted, ptr, describe(AllocError::kCorrupted)};
    return HeapFault{AllocError::kCorrupted, fault.byte != nullptr ? fault.byte : ptr, fault.why};
  }

  // Observers take the source's region on first use too, so a fresh heap reports its real capacity. A heap is
  // never usable as a const object (it could not allocate), so casting const away here cannot touch a const one.
  BasicHeap& mutable_self() const noexcept { return const_cast<BasicHeap&>(*this); }

  // Sources hand over memory lazily, on the first operation, so that the constructor can stay constexpr.
  void ensure_init() noexcept {
    if (initialized_) return;
    std::span<std::byte> region;
    if constexpr (internal::kRetryingSource<Source>) {
      // A refusal that may pass (MmapSource under an address-space limit): nothing has happened yet, so the next
      // operation asks again, one system call per operation while the kernel refuses (what malloc does too).
      region = source_.acquire();
      if (region.empty()) return;
    }
    initialized_ = true;
    if constexpr (kHardenedLevel) {
      // The heap's own address is mixed in, so that two heaps never share a key even with a constant secret.
      key_ = Check::secret() ^ mix64(static_cast<std::uint64_t>(address(this)));
    }
    if constexpr (!internal::kRetryingSource<Source>) region = source_.acquire();
    // A source that states its size (kSourceBytes) has the index sized to it (SegregatedFit's classes and its bounded
    // last list), so the heap uses no more of what acquire() returns than that.
    if constexpr (internal::kSourceBytes<Source> != 0) {
      region = region.first(std::min(region.size(), internal::kSourceBytes<Source>));
    }
    if (!region.empty()) (void)add_region_locked(region);
  }

  // Whether a span can hold more than the largest block the tag word records, so that SpanLayout splits it:
  // never with pointer-sized tag words (a span's room is below UINTPTR_MAX less a header); known at compile time so
  // that the common build carries no splitting loop (the Cortex-M4 .text budgets, //bench/footprint).
  static constexpr bool kRegionsMaySplit =
      align_down(Tags::kMaxBlockSize, kGranule) <
      std::numeric_limits<std::uintptr_t>::max() - sizeof(RegionHeader) - 2 * Tags::kHeaderSize;

  // The regions a span [lo, hi) becomes, one at a time: add_region_locked makes them, and remove_region recognises a
  // span by the headers they were given. Each region is a header, then a prologue word, then the first block whose
  // payload is granule-aligned; the end sentinel's payload address is the last granule boundary inside the span. A span
  // larger than the largest block the tag word can record (4 GiB with 32-bit tags) becomes several regions back to
  // back, each starting after the previous one's end sentinel, so that none of it is lost. `next()` moves to the
  // following region of a split span; `valid` is false past the last (or for a span that holds no region).
  struct SpanLayout {
    std::uintptr_t at;
    std::uintptr_t hi;
    std::uintptr_t header_at = 0;
    std::uintptr_t first = 0;  // the first block's address
    std::size_t size = 0;      // its size: the region's capacity
    bool valid = false;
    bool last = true;

    [[gnu::always_inline]] SpanLayout(std::uintptr_t span_lo, std::uintptr_t span_hi) noexcept
        : at(span_lo), hi(span_hi) {
      place();
    }
    [[gnu::always_inline]] void place() noexcept {
      header_at = align_up(at, alignof(RegionHeader));
      const std::uintptr_t first_payload = first_payload_after(header_at);
      const std::uintptr_t end_payload = align_down(hi, kGranule);
      // The header lies below first_payload, so it fits when the block does. Wrap-safe: a span in the last few bytes
      // of the address space would carry first_payload, or first_payload plus a block, past the top and round it to a
      // small address that passed the plain compares (a header written at address 0, or a region of 0 bytes).
      valid = !(first_payload < at || end_payload < first_payload || end_payload - first_payload < kMinBlockSize);
      if (!valid) return;
      const std::size_t room = end_payload - first_payload;
      size = std::min(room, align_down(Tags::kMaxBlockSize, kGranule));
      first = first_payload - Tags::kHeaderSize;
      last = !kRegionsMaySplit || size == room;
    }
    [[gnu::always_inline]] void next() noexcept {
      if (last) {
        valid = false;
        return;
      }
      at = first + size + Tags::kHeaderSize;
      place();
    }
  };

  Result<void> add_region_locked(std::span<std::byte> span) noexcept {
    const std::uintptr_t lo = address(span.data());
    if (span.size() > std::numeric_limits<std::uintptr_t>::max() - lo) return fail(AllocError::kInvalidPointer);
    const std::uintptr_t hi = lo + span.size();
    if constexpr (Source::kAcceptsRegions) {
      // Caller memory that cannot be a region: a null pointer with a length, or a span over the heap object, where the
      // region header would overwrite the heap's own fields. Two ranges overlap when either starts inside the other:
      // one unsigned compare each. Only for sources that take caller memory: StaticArraySource's array lies inside
      // the heap object by design. Exempting memory inside `source_` here too (a source with an array of its own that
      // also takes regions) measured 16 B more on Cortex-M4, for a source the project does not have.
      const std::uintptr_t self = address(this);
      if (!span.empty() && (lo == 0 || lo - self < sizeof(*this) || self - lo < span.size())) {
        return fail(AllocError::kInvalidPointer);
      }
    }
    for (const RegionHeader* r = regions_; r != nullptr; r = r->next) {
      const std::uintptr_t r_lo = address(r);
      const std::uintptr_t r_hi = address(r->end) + Tags::kHeaderSize;
      if (lo < r_hi && r_lo < hi) return fail(AllocError::kInvalidPointer);
    }
    std::byte* const base = span.data();
    SpanLayout piece(lo, hi);
    if (!piece.valid) return fail(AllocError::kOutOfMemory);
    for (; piece.valid; piece.next()) {
      auto* region = reinterpret_cast<RegionHeader*>(base + (piece.header_at - lo));
      std::byte* const first = reinterpret_cast<std::byte*>(region) + (piece.first - piece.header_at);
      const std::size_t size = piece.size;
      region->first = first;
      region->end = first + size;
      region->next = regions_;
      region->seal = region_seal(region);
      regions_ = region;
      if constexpr (kCaching) note_newest_region(region);
      if constexpr (internal::kValgrind) quiet_region(region, true);  // the Guard began before this region existed
      Tags::make_edges(first, region->end);
      Tags::make_free(first, size);
      Tags::set_prev_used(region->end, false);
      if constexpr (internal::kMemoryTools)
        internal::tool_forbid(first - Tags::kHeaderSize, size + 2 * Tags::kHeaderSize);
      if constexpr (kDebugLevel) poison(first, first, first + size);
      index_insert(first, size);
      capacity_ += size;
      add_free_bytes(size);
    }
    return {};
  }

  // The region whose header SpanLayout `piece` names, and its predecessor on the list (nullptr: the head), after
  // checking the seal of every header on the way (so that no `next` is followed, nor rewritten, unchecked).
  struct FoundRegion {
    RegionHeader* region = nullptr;
    RegionHeader* prev = nullptr;
    bool corrupted = false;
  };
  FoundRegion find_region(const SpanLayout& piece) const noexcept {
    FoundRegion found;
    for (RegionHeader* r = regions_; r != nullptr; r = r->next) {
      if (r->seal != region_seal(r)) {
        found.corrupted = true;
        return found;
      }
      if (address(r) == piece.header_at) {
        if (address(r->first) == piece.first && address(r->end) == piece.first + piece.size) found.region = r;
        return found;
      }
      found.prev = r;
    }
    return found;
  }

  // remove_region's check of one region, changing nothing: kInUse when a block in it is live (with a cache: used and
  // on no bin); `has_cached` set when one is cached. A size that leaves the region is kCorrupted.
  Result<void> check_removable(const RegionHeader* region, bool& has_cached) const noexcept {
    const std::byte* const first = region->first;
    const auto whole = static_cast<std::size_t>(region->end - first);
    if (!Tags::used(first) && Tags::size(first) == whole) return {};  // one free block: the usual case, O(1)
    if constexpr (kCaching) {
      for (const std::byte* block = first; block != region->end; block += Tags::size(block)) {
        if (!plausible_size(Tags::size(block), static_cast<std::size_t>(region->end - block))) {
          return fail(AllocError::kCorrupted);
        }
        if (!Tags::used(block)) continue;
        if (!on_cache_bin(block)) return fail(AllocError::kInUse);
        has_cached = true;
      }
      return {};
    } else {
      return fail(AllocError::kInUse);  // blocks merge at once: a region whose blocks are all free is one block
    }
  }

  // remove_region's check of the bytes of span [lo, hi) its regions, [header_at, regions_hi) back to back, leave
  // unused (before the first header's word boundary, past the last end sentinel): the caller's to have back only when
  // no other region lies there (one lent right before or after the span). A span reaching into one is none of this
  // heap's (kInvalidPointer). O(regions), and only for a span with such bytes.
  Result<void> check_unused_bytes(std::uintptr_t lo, std::uintptr_t header_at, std::uintptr_t regions_hi,
                                  std::uintptr_t hi) const noexcept {
    if (lo == header_at && hi == regions_hi) return {};
    for (const RegionHeader* r = regions_; r != nullptr; r = r->next) {
      if (r->seal != region_seal(r)) return fail(AllocError::kCorrupted);  // no `end` or `next` read unchecked
      const std::uintptr_t r_lo = address(r);
      const std::uintptr_t r_hi = address(r->end) + Tags::kHeaderSize;
      if ((lo < r_hi && r_lo < header_at) || (regions_hi < r_hi && r_lo < hi)) return fail(AllocError::kInvalidPointer);
    }
    return {};
  }

  Result<void> remove_region_locked(std::span<std::byte> span) noexcept {
    const std::uintptr_t lo = address(span.data());
    if (lo == 0 || span.empty() || span.size() > std::numeric_limits<std::uintptr_t>::max() - lo) {
      return fail(AllocError::kInvalidPointer);
    }
    const std::uintptr_t hi = lo + span.size();
    SpanLayout layout(lo, hi);
    if (!layout.valid) return fail(AllocError::kInvalidPointer);
    // Every region of the span first, so that a refusal changes nothing.
    bool has_cached = false;
    std::uintptr_t regions_hi = 0;  // the last region's end: its end sentinel's payload
    for (SpanLayout piece = layout; piece.valid; piece.next()) {
      const FoundRegion found = find_region(piece);
      if (found.corrupted) return fail(AllocError::kCorrupted);
      if (found.region == nullptr) return fail(AllocError::kInvalidPointer);
      if (Result<void> removable = check_removable(found.region, has_cached); !removable) return removable;
      regions_hi = piece.first + piece.size + Tags::kHeaderSize;
    }
    if (Result<void> unused = check_unused_bytes(lo, layout.header_at, regions_hi, hi); !unused) return unused;
    if constexpr (kCaching) {
      if (has_cached) cache_flush();  // the span's cached blocks merge into one free block per region
    }
    bool removed_newest = false;
    for (SpanLayout piece = layout; piece.valid; piece.next()) {
      const FoundRegion found = find_region(piece);
      RegionHeader* const region = found.region;
      std::byte* const first = region->first;
      const auto size = static_cast<std::size_t>(region->end - first);
      if (!free_tags_agree(first, region) || Tags::size(first) != size) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, first,
                                   "a region to remove is not one free block after the cache's flush (overwritten?)"});
      }
      expect_links_intact(first);
      index_.remove(node_of(first), size);
      sub_free_bytes(size);
      capacity_ -= size;
      removed_newest = removed_newest || region == regions_;
      if (found.prev == nullptr) {
        regions_ = region->next;
      } else {
        found.prev->next = region->next;
        found.prev->seal = region_seal(found.prev);
      }
      // The Guard no longer sees this region, so it resumes reporting here; the caller may touch all of it.
      if constexpr (internal::kValgrind) quiet_region(region, false);
      if constexpr (internal::kMemoryTools) {
        internal::tool_permit(region, static_cast<std::size_t>(region->end + Tags::kHeaderSize -
                                                               reinterpret_cast<const std::byte*>(region)));
      }
    }
    if constexpr (kCaching) forget_removed_regions(removed_newest);
    return {};
  }

  // The cache's view of the regions after remove_region: the newest region's bounds (region_of's and cache_free's
  // first compare) follow the new head, whose high-water mark is unknown and so put at its end (allocate_zeroed then
  // clears all it hands out there; the cache gives way only when nothing fits), and the hull is that of the regions
  // left. With none left, all of it is empty, as before the first region.
  void forget_removed_regions(bool removed_newest) noexcept {
    if (removed_newest) {
      if (regions_ != nullptr) {
        note_newest_region(regions_);
        cache_.high_water = cache_.lo + cache_.span;
      } else {
        cache_.lo = 0;
        cache_.span = 0;
        cache_.near_granules = 0;
        cache_.high_water = 0;
      }
    }
    cache_.hull_lo = 0;
    cache_.hull_span = 0;
    for (const RegionHeader* r = regions_; r != nullptr; r = r->next) {
      const std::uintptr_t r_lo = address(r->first) + Tags::kHeaderSize;
      widen_hull(r_lo, address(r->end) - r_lo);
    }
  }

  // Where a region whose header is at `header_at` puts its first payload: past the header and the prologue word,
  // on a granule boundary.
  static constexpr std::uintptr_t first_payload_after(std::uintptr_t header_at) noexcept {
    return align_up(header_at + sizeof(RegionHeader) + 2 * Tags::kHeaderSize, kGranule);
  }

  // A hash of a region header's fields and address (multiply-xor, one round per field): a stray write to the
  // header changes it. Not a defence against a forger who knows the function, only against overwritten headers.
  static std::uintptr_t region_seal(const RegionHeader* r) noexcept {
    constexpr auto kOdd = static_cast<std::uintptr_t>(0x9E3779B97F4A7C15ull);
    std::uintptr_t h = (address(r) ^ kOdd) * kOdd;
    h = (h ^ address(r->next)) * kOdd;
    h = (h ^ address(r->first)) * kOdd;
    h = (h ^ address(r->end)) * kOdd;
    return h ^ (h >> (sizeof(std::uintptr_t) * 4));
  }

  // The region holding `p`, or nullptr. Marked hot for the pointer checks and safe unlinking, which call it on every
  // free; the walk is one step for a heap of one region, the usual case. For a granule-aligned `p` it is also the
  // region whose payload range, [first + kHeaderSize, end), holds `p`: a region's first payload is a granule boundary
  // (first_payload_after) and every header is narrower than the granule (the static_assert on kGranule), so an aligned
  // `p` at or past `first` is at or past the first payload. The pointer check of a free and node_in_heap, which test
  // the granule first, had compared `p` with `first + kHeaderSize` again after the walk, a load, an add and a branch
  // per lookup ("One compare less" in "Techniques tried"; SegregatedFit<> with BasicChecks, `//bench:instructions --
  // a 10 seg/compact`, and e: allocate + free a 271.0 -> 263.5, e 275.5 -> 267.5 instructions).
  NOSTD_HOT const RegionHeader* region_of(const std::byte* p) const noexcept {
    if constexpr (kCaching) {
      // The newest region's payload range, kept beside the cache bins (note_newest_region): one compare, no walk.
      if (in_newest_payload(p)) return regions_;
    }
    if constexpr (internal::kLocatesRegions<Source>) {
      // The source names the span holding `p`; the span's first region has its header at the span's start
      // (add_region_locked's layout) and is taken when `p` lies in its blocks. Otherwise (a later region of a span
      // larger than the tag word's largest block, a span the source cannot tell) the walk below. O(1) where the walk is
      // O(regions): the drop-in's arenas, one region per 64 MiB chunk, walked on every lookup outside the newest chunk
      // (churn_bench over about 2 GiB, 33 regions: 1,007 -> 604 instructions per free + malloc, its loop included).
      if (const std::byte* const start = source_.region_start(p)) {
        const auto* const r = reinterpret_cast<const RegionHeader*>(align_up(address(start), alignof(RegionHeader)));
        if (p >= r->first && p < r->end) return r;
      }
    }
    for (const RegionHeader* r = regions_; r != nullptr; r = r->next) {
      if (p >= r->first && p < r->end) return r;
    }
    return nullptr;
  }

  // Bytes a block needs to hold `size` payload bytes: tags added, rounded to the granule, at least the minimum.
  // DebugChecks reserves one canary byte more than asked, so that a write one byte past the request always lands
  // on a canary.
  NOSTD_HOT static Result<std::size_t> block_size_for(std::size_t size) noexcept {
    // The largest size rounded_block_size takes without wrapping.
    constexpr std::size_t kLargest = std::numeric_limits<std::size_t>::max() - kServeCost - (kGranule - 1);
    if (size > kLargest) return fail(AllocError::kSizeOverflow);
    return rounded_block_size(size);
  }
  // block_size_for's rounding, for a `size` it has checked (or, in the cache's inline hit, one bounded already).
  NOSTD_HOT static constexpr std::size_t rounded_block_size(std::size_t size) noexcept {
    return std::max(align_up(size + kServeCost, kGranule), kMinBlockSize);
  }

  // The bytes to leave free in front of `block` so that its payload lands on `align`. A gap smaller than a
  // minimum block could not stand as a free block of its own, so it is widened to the next aligned address
  // past a minimum block.
  static std::size_t leading_gap(const std::byte* block, std::size_t align) noexcept {
    const std::uintptr_t payload = address(block) + Tags::kHeaderSize;
    std::uintptr_t aligned = align_up(payload, align);
    if (aligned != payload && aligned - payload < kMinBlockSize) aligned = align_up(payload + kMinBlockSize, align);
    return aligned - payload;
  }

  // allocate_zeroed for a request of kPlannedZeroingBytes or more where the heap knows its fresh memory: the mark read
  // before the allocation, under the same lock, says which bytes to clear (zeroing_plan); the clear runs after the
  // heap's lock, on a block that is the caller's alone (the drop-in's arena lock, outside the heap, is still held).
  [[gnu::noinline]] Result<void*> allocate_zeroed_planned(std::size_t size) noexcept {
    ZeroingPlan plan{size, size};
    Result<void*> block = [&]() noexcept -> Result<void*> {
      Guard guard(lock_, regions_);
      ensure_init();
      const std::uintptr_t mark = cache_.high_water;
      Result<void*> got = allocate_default(size);
      if (got && in_newest_payload(static_cast<const std::byte*>(*got))) {
        plan = zeroing_plan(address(*got), size, mark, cache_.lo + cache_.span);
      }
      return got;
    }();
    if (block) {
      auto* const bytes = static_cast<std::byte*>(*block);
      std::memset(bytes, 0, plan.head);
      if (plan.tail_from < size) std::memset(bytes + plan.tail_from, 0, size - plan.tail_from);
    }
    return block;
  }

  // allocate(size)'s work under the lock, which allocate_zeroed shares.
  [[gnu::always_inline]] Result<void*> allocate_default(std::size_t size) noexcept {
    if constexpr (kInlineCache) {
      if (void* const hit = cache_allocate(size)) return hit;
    }
    if constexpr (!kParanoidLevel) return allocate_in_index<true>(size, kDefaultAlignment);
    before_operation();
    Result<void*> result = allocate_locked<true>(size, kDefaultAlignment);
    after_operation();
    return result;
  }

  // What allocate_zeroed clears of the `size` bytes it hands out: [0, head) and [tail_from, size).
  struct ZeroingPlan {
    std::size_t head;
    std::size_t tail_from;
  };

  // The bytes of a block at payload address `p` (in the newest region, which ends at `region_end`) that may hold
  // something other than zero, when the mark before the allocation was `mark`: everything below the mark (blocks
  // handed out and freed, cached blocks' links), the free tail's header and links at the mark, and its footer before
  // the region's end (kFreshTagBytes), and before it the last free block the exact path may have taken whole
  // (kRegionEndBytes). Memory between has never been handed out or written: the mark is raised by every other path
  // that hands a block out (allocated, and grow_in_place when kTracksFresh); above the mark lies one free block, to
  // the region's end, so the exact path can take it only when it is under the exact limit; a split writes only tags
  // at the new block end (the new mark) and the region's end; the page release only gives zero pages back.
  static ZeroingPlan zeroing_plan(std::uintptr_t p, std::size_t size, std::uintptr_t mark,
                                  std::uintptr_t region_end) noexcept {
    const std::uintptr_t written_to = mark + kFreshTagBytes;
    const std::size_t head =
        written_to > p ? static_cast<std::size_t>(std::min<std::uintptr_t>(written_to - p, size)) : 0;
    const std::uintptr_t footer_from = region_end - kRegionEndBytes;
    std::size_t tail_from = size;
    if (p + size > footer_from) tail_from = footer_from > p ? static_cast<std::size_t>(footer_from - p) : 0;
    return {head, std::max(head, tail_from)};
  }

  // allocate(size) and allocate(Layout)'s step under the lock. Without an inline cache, a speed build inlines
  // allocate_locked's body here: once NOSTD_HOT inlined its steps, GCC left allocate_locked out of line, so
  // allocate(size) no longer folded the default alignment into it (the over-aligned search and checks stayed) and
  // paid a call; `//bench:instructions -- a 10`: 124.7 -> 110.5 instructions per allocate for SegregatedFit<> with
  // NoChecks, 155.6 -> 128.4 with BasicChecks. With an inline cache the body stays a call, so that allocate's cache
  // hit does not pay the slow path's prologue (inlined, seg/compact/nochecks+cache ran e at 1.07x glibc in three
  // interleaved fit_compare runs, 1.13-1.20x without); at -Os it stays one copy (the footprint budgets).
  template <bool kDefaultAlign = false>
  NOSTD_HOT Result<void*> allocate_in_index(std::size_t size, std::size_t align) noexcept {
    if constexpr (kInlineCache || internal::kOptimizingForSize) {
      return allocate_locked<kDefaultAlign>(size, align);
    } else {
      return allocate_locked_inline<kDefaultAlign>(size, align);
    }
  }

  // allocate's work under the lock, for reallocate's move, the ParanoidChecks paths and allocate_in_index's call:
  // in speed builds allocate_locked_inline's out-of-line copy (at -Os GCC keeps the body itself out of line).
  template <bool kDefaultAlign = false>
  Result<void*> allocate_locked(std::size_t size, std::size_t align) noexcept {
    return allocate_locked_inline<kDefaultAlign>(size, align);
  }

  // allocate_locked's body: in speed builds always inlined (into allocate_locked, and into allocate_in_index where
  // that says). At -Os the compiler decides: with [[gnu::always_inline]] here at every level, Cortex-M4
  // SegregatedFit's allocate + free grew from 1,068 to 1,516 B of .text (footprint_test's budget is 1,200).
  // kDefaultAlign (allocate(size)'s instance) fixes the alignment at compile time, so that instance has no
  // over-aligned search even where the compiler keeps it out of line; before, that folding depended on -Os inlining
  // the one shared copy into allocate, which a single counter update in the path flipped (SegregatedFit 1,068 ->
  // 1,488 B; README, "Footprint"). A program that also reallocates or passes an alignment carries both instances.
  template <bool kDefaultAlign>
  NOSTD_HOT Result<void*> allocate_locked_inline(std::size_t size, std::size_t align) noexcept {
    if constexpr (kDefaultAlign) align = kDefaultAlignment;
    ensure_init();
    if (align > kMaxAlignment) return note_failure(AllocError::kInvalidLayout);
    const bool over_aligned = align > kGranule;
    Result<std::size_t> need = over_aligned ? block_size_for_over_aligned(size) : block_size_for(size);
    if (!need) return note_failure(need.error());
    if (*need > Tags::kMaxBlockSize) return note_failure(AllocError::kOutOfMemory);
    if constexpr (kCaching) {
      // Before the exact lists: a cached block within the slack is taken even when the index holds a block of the
      // exact size, since a cached block is reused without touching a neighbour (b ran 2.8-3.1x glibc in this order;
      // the other was not measured).
      if (!over_aligned && *need <= Cache::kMaxBlock) {
        if (void* const hit = cache_hit(*need)) return hit;
      }
    }
    if constexpr (kExactFastPath) {
      if (!over_aligned) {
        if (internal::FreeNode* const exact = index_.exact(*need)) return take_whole(block_of_node(exact), *need);
      }
    }
    if constexpr (kGoodHeadFastPath) {
      if (!over_aligned) {
        const auto head = good_head(*need);
        if (head.node != nullptr && !cache_raises_mark_if_caching(block_of_node(head.node), *need)) {
          return allocated(carve<true>(block_of_node(head.node), *need, 0, size, head.list));
        }
      }
    }
    internal::FreeNode* node = find_free(*need, over_aligned ? align : 0);
    if constexpr (kCaching) {
      // Cached blocks may be what stands between free neighbours: when the search found nothing, or a block that
      // would take the heap past its high-water mark (cache_raises_mark), cache_make_room hands out a larger cached
      // block or merges them all for a second search (before growth only once the cache holds enough to matter).
      if (node == nullptr || cache_raises_mark(block_of_node(node), *need)) {
        bool flushed = false;
        if (void* const larger = cache_make_room(*need, !over_aligned, node != nullptr, flushed)) return larger;
        if (flushed) node = find_free(*need, over_aligned ? align : 0);
      }
    }
    if (node == nullptr) return note_failure(AllocError::kOutOfMemory);
    return allocated(carve(block_of_node(node), *need, over_aligned ? align : 0, size));
  }

  // allocate's last step for a block carve made used: the cache's high-water mark, the count, the payload.
  NOSTD_HOT void* allocated(std::byte* block) noexcept {
    if constexpr (kCaching) raise_mark(block);
    ++total_allocations_;
    return static_cast<void*>(block + Tags::kHeaderSize);
  }

  // The cache's high-water mark raised to used block `block`'s end. The mark follows the newest region only (an older
  // region's blocks never raise it, wherever it lies).
  NOSTD_HOT void raise_mark(const std::byte* block) noexcept {
    const std::uintptr_t end = address(block) + Tags::size(block);
    if (ends_in_newest_region(end)) cache_.high_water = std::max(cache_.high_water, end);
  }

  // The fit index's choice of a free block for a block of `need` bytes whose payload is aligned to `align` (0: the
  // granule), or nullptr. Always inlined, as carve is: at allocate(size)'s call the over-aligned search vanishes
  // (out of line, both searches stayed in the Cortex-M4 -Os build: FirstFit's allocate + free 664 -> 996 bytes).
  [[gnu::always_inline]] internal::FreeNode* find_free(std::size_t need, std::size_t align) noexcept {
    if (align != 0) {
      return index_.find(need,
                         link_checked<true>([align, need](internal::FreeNode* candidate, std::size_t candidate_size) {
                           return leading_gap(block_of_node(candidate), align) + need <= candidate_size;
                         }));
    }
    return index_.find(need, link_checked<true>([](internal::FreeNode*, std::size_t) { return true; }));
  }

  // A walk's allowance of links from HardenedChecks up, the level whose threat model is a forger (README
  // "Hardening"): the count()-th link a walk would follow is refused (cycle_fault_cold). A walk over n listed blocks
  // follows at most n - 1 links (the list fits' searches and SegregatedFit's last-list walk go down one list; NextFit's
  // wrap to the head follows no link, and its walk stops at its start, so it passes each block once; for_each's lists
  // hold the n blocks between them), so only a cycle reaches it: two forged words, a free block's `next` and its
  // target's `prev`, pass may_follow's test, and the list fits' searches walked such a cycle without end. The count is
  // the heap object's, which no write into the heap reaches. Below HardenedChecks, whose threat is a stray write (one
  // word; a cycle needs two that match), NoLinkBudget: no member and no code (README, "What each level costs").
  //
  // Two forms of one budget, as the walks differ. LinksFollowed counts up and reads count() at each link: nothing to
  // set up, for walks that are rare (SegregatedFit's last-list walk, stats(), the size builds' searches); counting down
  // from a count read as the walker was made cost SegregatedFit's allocate 1.7 instructions on workload a, walk or no
  // walk. LinksLeft counts down from count(), read as RangeLinkChecked is made: a decrement per link for the list fits,
  // whose every allocate walks; reading count() per link cost best fit's allocate on a 2,909 instructions against
  // 2,767 (//bench:instructions).
  struct LinksFollowed {
    std::size_t followed = 0;
    NOSTD_HOT bool spend(const Index& index) noexcept { return ++followed < index.count(); }
  };
  struct LinksLeft {
    std::size_t left;
    NOSTD_HOT bool spend(const Index& /*index*/) noexcept { return --left != 0; }
  };
  struct NoLinkBudget {};
  static constexpr bool kWalkBudget = Check::kLevel >= CheckLevel::kHardened;
  using WalkBudget = std::conditional_t<kWalkBudget, LinksFollowed, NoLinkBudget>;
  using SearchBudget = std::conditional_t<kWalkBudget, LinksLeft, NoLinkBudget>;
  // LinkChecked's budget: no link followed yet. A member call, neither `{}` in the walker's initializer nor a static
  // function: with either, GCC 12 laid BasicChecks' SegregatedFit allocate out otherwise (objdump of //bench:op_count,
  // -c opt), where the budget is to leave the levels below HardenedChecks as they were.
  NOSTD_HOT WalkBudget walk_budget() const noexcept { return {}; }
  // RangeLinkChecked's budget: the count now.
  NOSTD_HOT SearchBudget search_budget() const noexcept {
    if constexpr (kWalkBudget) {
      return {index_.count()};
    } else {
      return {};
    }
  }

  // The callable an index walks its lists with (find's `fits` predicate, stats()'s for_each visitor), with
  // `may_follow(from, to)`, which the index asks before it reads through a `next` link past a list head (the list
  // fits' searches, SegregatedFit's walk of an unbounded last list, for_each; internal::may_follow): a link that leaves
  // the heap (node_in_heap) or whose target does not point back is kCorrupted at `from`, the block holding it, before
  // anything is read through it (a write after free of a junk pointer had crashed allocate and stats()), and so, from
  // HardenedChecks up, is the link past the walk's budget (kWalkBudget: a cycle). validate()'s visitor has no
  // may_follow: it vouches for each node itself, as a free block of the heap, and reports rather than faults.
  template <class F, class Budget = WalkBudget>
  struct LinkChecked {
    // may_follow keeps a budget (internal::kCountsLinks): NextFit's search goes on round a cycle through its start
    // until the budget refuses a link, instead of stopping there as at the end of its lap.
    static constexpr bool kCountsLinks = !std::is_same_v<Budget, NoLinkBudget>;
    F f;
    const BasicHeap* heap;
    [[no_unique_address]] Budget budget;
    template <class... Args>
    NOSTD_HOT bool operator()(Args... args) const noexcept {
      return f(args...);
    }
    bool may_follow(const internal::FreeNode* from, const internal::FreeNode* to) noexcept {
      if (heap->node_in_heap(to) && to->prev == from) {
        if constexpr (kWalkBudget) {
          if (!budget.spend(heap->index_)) cycle_fault_cold(from);
        }
        return true;
      }
      link_fault(from);
    }
  };
  // The report of the link out of free block `from` that a walk refuses.
  [[noreturn]] static void link_fault(const internal::FreeNode* from) noexcept {
    fault_to_handler(
        HeapFault{AllocError::kCorrupted, from, "free block's list link leaves the heap or does not point back"});
  }
  // link_fault for RangeLinkChecked, out of line: a search's loop keeps the call only.
  [[noreturn, gnu::noinline, gnu::cold]] static void link_fault_cold(const internal::FreeNode* from) noexcept {
    link_fault(from);
  }
  // The report of the link out of free block `from` past a walk's budget (kWalkBudget), out of line as link_fault_cold.
  [[noreturn, gnu::noinline, gnu::cold]] static void cycle_fault_cold(const internal::FreeNode* from) noexcept {
    fault_to_handler(HeapFault{AllocError::kCorrupted, from,
                               "free list walk follows more links than the index holds blocks (a forged cycle)"});
  }

  // A region's payload range, [lo, lo + units granules), for node_in_heap's test without its region walk.
  struct PayloadRange {
    std::uintptr_t lo = 0;     // the region's first payload address (granule-aligned)
    std::uintptr_t units = 0;  // granules from lo to the region's end, rounded up (0: an empty range)
    // node_in_heap's answer for `node` in this region: inside [lo, end) and granule-aligned, in one compare. Rotating
    // node - lo right by the granule's log2 turns an aligned offset into its granule count and moves a misaligned
    // one's low bits to the top, far above `units`; a node below lo wraps to an offset at least the region's size.
    NOSTD_HOT bool holds(const internal::FreeNode* node) const noexcept {
      return std::rotr(address(node) - lo, kGranuleShift) < units;
    }
  };
  // The payload range of `region` (empty for none).
  NOSTD_HOT static PayloadRange payload_range(const RegionHeader* region) noexcept {
    if (region == nullptr) return {};
    const std::uintptr_t lo = address(region->first + Tags::kHeaderSize);
    return {lo, (address(region->end) - lo + kGranule - 1) >> kGranuleShift};
  }
  // The payload range of the region `node` lies in (empty for none): RangeLinkChecked's lookup where a link leaves the
  // newest region. Out of line, and returned by value, so that a walk keeps its range in registers.
  [[gnu::noinline]] PayloadRange payload_range_of(const internal::FreeNode* node) const noexcept {
    return payload_range(region_of(reinterpret_cast<const std::byte*>(node)));
  }

  // LinkChecked for a search that walks its whole list (kSearchWalksLinks), in speed builds: node_in_heap's test,
  // made against the payload range of the region the previous link led into, which the walker remembers (a walk's
  // links seldom leave their region) and tests with one compare (PayloadRange::holds). The list fits' searches ask it
  // for every block they pass: with node_in_heap per link BestFit's allocate took 3,699 instructions on workload a and
  // 708 on e, with this 2,327 and 511 (1,201 and 324 before links were checked; //bench:instructions). First fit's
  // short searches on e pay for the range's set-up: 147 instructions against 142. Not in size builds (64 B more of
  // Cortex-M4 .text and 16 B more stack than LinkChecked), and not for SegregatedFit, whose walk is a rare path: the
  // remembered range cost its allocate 4 instructions per call on workloads a and e, walk or no walk.
  template <class F>
  struct RangeLinkChecked : LinkChecked<F, SearchBudget> {
    PayloadRange range{};  // of the region the last link led into: empty until the first link
    NOSTD_HOT bool may_follow(const internal::FreeNode* from, const internal::FreeNode* to) noexcept {
      if (!range.holds(to)) {
        // The newest region first (inline: most heaps have one), then the region lookup.
        range = payload_range(this->heap->regions_);
        if (!range.holds(to)) {
          range = this->heap->payload_range_of(to);
          if (!range.holds(to)) link_fault_cold(from);
        }
      }
      if (to->prev != from) link_fault_cold(from);
      if constexpr (kWalkBudget) {
        if (!this->budget.spend(this->heap->index_)) cycle_fault_cold(from);
      }
      return true;
    }
  };
  // Whether the fit's search walks one list from its head (ListIndex: the list fits, and user fits built on it), so
  // that every allocate may follow many links: their searches get RangeLinkChecked.
  static constexpr bool kSearchWalksLinks = std::is_base_of_v<internal::ListIndex, Index>;

  // `f` with may_follow where safe unlinking runs (kSafeUnlink), else `f` itself: without checks an index follows its
  // links as it always did, and its code is unchanged. kSearch: for find (RangeLinkChecked where it pays).
  template <bool kSearch, class F>
  [[gnu::always_inline]] auto link_checked(F f) const noexcept {
    if constexpr (!kSafeUnlink) {
      return f;
    } else if constexpr (kSearch && kSearchWalksLinks && !internal::kOptimizingForSize) {
      return RangeLinkChecked<F>{{f, this, search_budget()}};
    } else {
      return LinkChecked<F>{f, this, walk_budget()};
    }
  }

  // Σ usable_size over the live blocks, from the counters: each block's size less its tags and trailer, less the
  // alignment-record byte of each over-aligned block (under DebugChecks also less the slack: the requested bytes).
  NOSTD_HOT std::size_t bytes_in_use() const noexcept {
    std::size_t bytes = in_use_bytes_;
    if constexpr (kDebugLevel) bytes -= slack_bytes_;
    return bytes;
  }

  // Raises the peak to the bytes in use now. A branch rather than std::max: in a long run the peak seldom moves, so
  // the branch predicts and the usual call stores nothing.
  NOSTD_HOT void note_peak() noexcept {
    if (const std::size_t bytes = bytes_in_use(); bytes > peak_bytes_in_use_) peak_bytes_in_use_ = bytes;
  }

  // Live blocks: allocations less frees (a cached block counts as freed).
  std::size_t live_blocks() const noexcept { return total_allocations_ - total_frees_; }

  // Σ size over the live blocks, tags included: derived, so that a call updates one byte counter (in_use_bytes_)
  // instead of two and a live count.
  std::size_t used_block_bytes() const noexcept {
    return in_use_bytes_ + live_blocks() * kUsedOverhead + live_over_aligned_;
  }

  // Σ size over the free blocks (stats, validate, cached_bytes).
  std::size_t free_block_bytes() const noexcept {
    if constexpr (kCaching) {
      return free_block_bytes_;
    } else {
      return capacity_ - used_block_bytes();
    }
  }
  // Counts `bytes` more (add) or fewer (sub) in free blocks: a no-op without a cache (free_block_bytes derives them).
  NOSTD_HOT void add_free_bytes([[maybe_unused]] std::size_t bytes) noexcept {
    if constexpr (kCaching) free_block_bytes_ += bytes;
  }
  NOSTD_HOT void sub_free_bytes([[maybe_unused]] std::size_t bytes) noexcept {
    if constexpr (kCaching) free_block_bytes_ -= bytes;
  }

  Result<void*> note_failure(AllocError error) noexcept {
    ++failed_allocations_;
    return fail(error);
  }

  // Turns the free block `block` into a used block of `need` bytes whose payload is aligned to `align` (0: the
  // granule), returning the leading gap and the tail to the index when they can stand as blocks of their own.
  // Always inlined: with the alignment a constant 0 at allocate(size)'s call, the over-aligned prologue and the
  // alignment record vanish, so a malloc-style user does not pay for them (out of line, carve cost 150 bytes of
  // Cortex-M4 .text and broke the 700-byte footprint budget of //bench/footprint:footprint_test).
  // `requested` is the caller's size (for the debug canary and the memory tools).
  // kHead: `block` is the head of the index's list `list` (good_head), unlinked with remove_head.
  template <bool kHead = false>
  [[gnu::always_inline]] std::byte* carve(std::byte* block, std::size_t need, std::size_t align, std::size_t requested,
                                          [[maybe_unused]] std::size_t list = 0) noexcept {
    if constexpr (kHead) {
      expect_good_head_intact(block, list);
    } else {
      expect_links_intact(block);
    }
    // The size is checked before anything reads or writes by it (the poison check below reads up to it).
    expect_free_tags_intact(block);
    if constexpr (kDebugLevel) expect_unwritten_on_reuse(block, need, align);
    std::size_t size = Tags::size(block);
    if constexpr (kHead) {
      index_.remove_head({node_of(block), list});
    } else {
      index_.remove(node_of(block), size);
    }
    sub_free_bytes(size);
    bool prev_used = true;  // a free block's predecessor is always used
    if (align != 0) {
      const std::size_t gap = leading_gap(block, align);
      if (gap != 0) {
        Tags::make_free(block, gap);
        index_.insert(node_of(block), gap);
        add_free_bytes(gap);
        block += gap;
        size -= gap;
        prev_used = false;
      }
    }
    // Split only when the tail can be a block and the fit index wants it split (min_split_tail); a smaller tail
    // stays inside the allocation as slack (usable_size reports it), which bounds internal fragmentation by
    // kMinBlockSize - 1 bytes, or by the index's split threshold less one.
    if (size - need >= min_split_tail(need)) {
      // Not poisoned again under the tools (split_free_tail); elsewhere the flag does nothing, and the default shares
      // one instantiation with the other callers: a second one cost the "+realloc" column of the Cortex-M4 and M0+
      // footprint reports 12-68 B per NoChecks row (from 11a9ebb to c8c91b4).
      split_free_tail<!internal::kMemoryTools>(block + need, size - need);
      size = need;
    } else {
      Tags::set_prev_used(block + size, true);
    }
    Tags::make_used(block, size, prev_used, align != 0);
    if (align != 0)
      internal::store_word<std::uint8_t>(align_record(block), static_cast<std::size_t>(std::countr_zero(align)));
    live_over_aligned_ += align != 0 ? 1 : 0;
    in_use_bytes_ += size - kUsedOverhead - (align != 0 ? 1 : 0);  // the alignment record takes a payload byte
    if constexpr (kDebugLevel)
      internal::unchecked_fill(block + Tags::kHeaderSize, requested, DebugPatterns::kAllocated);
    if constexpr (kHardenedLevel) seal_used(block, requested);
    note_peak();
    if constexpr (internal::kMemoryTools) {
      internal::tool_forbid(block, size);
      internal::tool_allocated(block + Tags::kHeaderSize, visible_bytes(block));
    }
    return block;
  }

  // The smallest tail carve splits off a block allocated for `need` bytes: a minimum block, or the index's split
  // threshold when it has one (HasSplitThreshold: SegregatedFit hands out a block up to 1/32 larger whole). Not
  // from DebugChecks up, nor under ASan or Valgrind: DebugChecks checks a reused block for writes after free only as
  // far as the request reaches before it seals the rest (expect_unwritten_on_reuse, seal_used) and records the
  // slack in 32 bits, and the tools see usable_size bytes, so a large slack would hide what they exist to find (as
  // the cache stands aside for them: kCaching).
  NOSTD_HOT static constexpr std::size_t min_split_tail([[maybe_unused]] std::size_t need) noexcept {
    if constexpr (HasSplitThreshold<Index> && !kDebugLevel && !internal::kMemoryTools) {
      return std::max(kMinBlockSize, Index::split_threshold(need));
    } else {
      return kMinBlockSize;
    }
  }

  // The allocate fast path: with an index that has exact lists (HasExactLists), a request whose list holds only
  // blocks of exactly its size takes that list's head whole: no search, no split, no second list touched. Only
  // up to BasicChecks (safe unlinking included) and without memory tools; the levels above, which fill, poison and
  // seal blocks, go through carve. Left out when compiling for size (-Os): it is a second copy of the block
  // bookkeeping, and with it GCC's -Os build of SegregatedFit's allocate + free grew from 1,092 to 1,612 bytes on
  // Cortex-M4, past the footprint budget (//bench/footprint:footprint_test).
  static constexpr bool kExactFastPath = !internal::kOptimizingForSize && HasExactLists<Index> &&
                                         Check::kLevel <= CheckLevel::kBasic && !internal::kMemoryTools;

  // The second fast path: with an index that answers good_head (HasGoodHeads), a request above the exact lists whose
  // good-fit list holds a block takes that list's head without find's bitmap search, and carve unlinks it without
  // working out its list again (remove_head), checking it as a head whose size is of that list (good_head_intact). The
  // same block find would return, split the same way. Left out at -Os, as the exact path is.
  static constexpr bool kGoodHeadFastPath = !internal::kOptimizingForSize && HasGoodHeads<Index>;

  // Where the exact path is off (HardenedChecks and up, ASan, Valgrind), the second fast path also takes a request
  // below the exact lists' limit, when the index can (HasExactGoodHeads): good_head<true> answers with the head of the
  // request's exact list, exactly `need` bytes, and carve takes it whole, sealing, filling and poisoning it as the
  // level requires (what take_whole skips), instead of find's bitmap search, its second list lookup in remove and
  // links_intact's list lookup. Not where the exact path runs: exact() has just found that list empty, and a second
  // probe would cost instructions for nothing.
  static constexpr bool kGoodHeadTakesExact = kGoodHeadFastPath && !kExactFastPath && HasExactGoodHeads<Index>;

  // The second fast path's probe: good_head<true> where it takes exact-list requests too (kGoodHeadTakesExact).
  NOSTD_HOT auto good_head(std::size_t need) const noexcept {
    if constexpr (kGoodHeadTakesExact) {
      return index_.template good_head<true>(need);
    } else {
      return index_.good_head(need);
    }
  }

  // cache_raises_mark for a heap with a cache; false without one.
  NOSTD_HOT bool cache_raises_mark_if_caching([[maybe_unused]] const std::byte* block,
                                              [[maybe_unused]] std::size_t need) const noexcept {
    if constexpr (kCaching) {
      return cache_raises_mark(block, need);
    } else {
      return false;
    }
  }

  // Allocates free block `block` of exactly `size` bytes whole (the fast path above).
  NOSTD_HOT void* take_whole(std::byte* block, std::size_t size) noexcept {
    expect_links_intact<true>(block);
    expect_exact_header(block, size);
    index_.remove_exact(node_of(block), size);
    sub_free_bytes(size);
    Tags::set_prev_used(block + size, true);
    Tags::make_used(block, size, true, false);  // a free block's predecessor is always used
    in_use_bytes_ += size - kUsedOverhead;
    note_peak();
    ++total_allocations_;
    return block + Tags::kHeaderSize;
  }

  // Makes [tail, tail + size) a free block. The block after it must already record a free predecessor or be
  // about to (callers set it).
  // kForbid: poison the tail for the memory tools first. carve passes false under the tools: its tail lies inside a
  // free block, all of whose bytes but its links (in front of the tail) are poisoned already, and poisoning it again
  // cost O(tail) per allocation, a whole fresh arena's shadow each time (//bench:op_count_smoke_test's workload c,
  // 64 MiB, took 15-23 s per heap under ASan, nearly all of it in memset).
  template <bool kForbid = true>
  NOSTD_HOT void split_free_tail(std::byte* tail, std::size_t size) noexcept {
    if constexpr (internal::kMemoryTools && kForbid) internal::tool_forbid(tail, size);
    Tags::make_free(tail, size);
    index_insert(tail, size);
    add_free_bytes(size);
  }

  // Puts the free block at `block` on the fit index. Its links are the one part of a free block the fit policy
  // touches directly, so memory tools must let it.
  NOSTD_HOT void index_insert(std::byte* block, std::size_t size) noexcept {
    if constexpr (internal::kMemoryTools) internal::tool_permit(node_of(block), sizeof(internal::FreeNode));
    index_.insert(node_of(block), size);
  }

  // Frees a used block and merges it with free neighbours: O(1), since the neighbours are found through the
  // tags, not by search.
  void release(std::byte* block) noexcept { merge_free<false>(block, nullptr); }

  // release for a used block of `region` whose neighbours were not checked yet (a caching heap's free:
  // release_declined, deallocate_locked; without a cache deallocate_locked inlines merge_free<true>): each neighbour it
  // merges with is checked as neighbours_sane would (a forged one goes to the handler) in the branch that finds it
  // free. Checked beforehand, the free tested twice whether each neighbour was free, and those tests mispredicted as
  // often as release's own (callgrind, mispredictions per allocate + free under BasicChecks: SegregatedFit<> alone a
  // 0.90 -> 0.83, e 1.24 -> 1.16; with QuickCache<8, 8192, 256> a 0.78
  // -> 0.70; SegregatedFit's free 6 instructions shorter, FirstFit's 3 longer). At -Os it is neighbours_sane and
  // release, so that a caching heap carries one copy of the merge.
  void release_checked(std::byte* block, const RegionHeader* region) noexcept {
    if constexpr (internal::kOptimizingForSize) {
      if (!neighbours_sane(block, region)) neighbour_fault(block);
      release(block);
    } else {
      merge_free<true>(block, region);
    }
  }

  // The counters a free of used block `block` of `size` bytes moves (merge_free's and release_isolated's): the live
  // over-aligned blocks, the bytes in use, the frees.
  [[gnu::always_inline]] void count_freed(const std::byte* block, std::size_t size) noexcept {
    const std::size_t record = Tags::over_aligned(block) ? 1 : 0;  // branchless: the Cortex-M footprint budget is tight
    live_over_aligned_ -= record;
    in_use_bytes_ -= size - kUsedOverhead - record;
    ++total_frees_;
  }

  // release's and release_checked's body, always inlined: release's code is as it was before release_checked.
  template <bool kCheckNeighbours>
  [[gnu::always_inline]] void merge_free(std::byte* block, [[maybe_unused]] const RegionHeader* region) noexcept {
    std::size_t size = Tags::size(block);
    // The neighbours this free merges with are checked and safely unlinked before anything changes.
    if (!Tags::prev_used(block)) {
      if constexpr (kCheckNeighbours) {
        if (!free_prev_sane(block, region)) neighbour_fault(block);
      }
      expect_links_intact(block - Tags::prev_free_size(block));
    }
    if (!Tags::used(block + size)) {
      if constexpr (kCheckNeighbours) {
        if (!free_tags_agree(block + size, region)) neighbour_fault(block);
      }
      expect_links_intact(block + size);
    }
    if constexpr (kDebugLevel) expect_unwritten_neighbours(block, size);
    std::byte* const freed = block;
    const std::size_t freed_size = size;
    if constexpr (kDebugLevel) slack_bytes_ -= slack_of(block);
    if constexpr (internal::kMemoryTools) {
      internal::tool_freed(block + Tags::kHeaderSize, visible_bytes(block));
      internal::tool_forbid(block, size);
    }
    count_freed(block, size);
    if (!Tags::prev_used(block)) {
      // The header left behind inside the merged block must read "free", so that freeing this pointer again
      // is reported as a double free instead of passing the checks on a stale "used" header.
      Tags::make_free(block, size);
      retire_links(block);  // the freed payload's first words: its owner's data, under a header that now reads free
      const std::size_t prev_size = Tags::prev_free_size(block);
      block -= prev_size;
      take_free(block, prev_size);
      size += prev_size;
    }
    std::byte* const next = block + size;
    std::byte* dirty_end = freed + freed_size;  // the bytes to poison end here, or after a merged successor's links
    if (!Tags::used(next)) {
      const std::size_t next_size = Tags::size(next);
      take_free(next, next_size);
      size += next_size;
      dirty_end = next + Tags::kHeaderSize + sizeof(internal::FreeNode);
      if constexpr (internal::kMemoryTools) internal::tool_forbid(next, static_cast<std::size_t>(dirty_end - next));
    }
    Tags::make_free(block, size);
    Tags::set_prev_used(block + size, false);
    // The freed block's bytes, a merged predecessor's footer and a merged successor's header and links are inside
    // the free block now: poisoning them costs O(freed block), never O(merged block).
    if constexpr (kDebugLevel) poison(block, freed - kFreeFooterBytes, dirty_end);
    index_insert(block, size);
    add_free_bytes(size);
  }

  // A checked free without a cache, in speed builds up to HardenedChecks outside the memory tools: a block neither of
  // whose neighbours is free is freed inline (release_isolated), one with a free neighbour by merge_free<true> out of
  // line (merge_checked). With the merges inline, their register pressure made every checked free save and restore
  // five registers (13 instructions), which a free that merges with nothing did not need.
  static constexpr bool kSplitIsolatedFree =
      !internal::kOptimizingForSize && !kCaching && Check::kLevel < CheckLevel::kDebug && !internal::kMemoryTools;

  // merge_free<true> for a block with a free neighbour, out of line (kSplitIsolatedFree).
  [[gnu::noinline]] void merge_checked(std::byte* block, const RegionHeader* region) noexcept {
    merge_free<true>(block, region);
  }

  // merge_free for used block `block` of `size` bytes neither of whose neighbours is free (kSplitIsolatedFree): no
  // neighbour to check, unlink or merge; what is left is merge_free's bookkeeping.
  [[gnu::always_inline]] void release_isolated(std::byte* block, std::size_t size) noexcept {
    count_freed(block, size);
    Tags::make_free(block, size);
    Tags::set_prev_used(block + size, false);
    index_insert(block, size);
    add_free_bytes(size);
  }

  // Removes a free block from the index ahead of merging it into a neighbour (or, for reallocate, into the block it
  // resizes), and clears its links (retire_links).
  NOSTD_HOT void take_free(std::byte* block, std::size_t size) noexcept {
    index_.remove(node_of(block), size);
    retire_links(block);
    sub_free_bytes(size);
  }

  // deallocate's work under the lock, for a non-null `ptr`: check (BasicChecks and up; a bad pointer goes to the
  // handler), then free into the cache or coalesce. Called from deallocate, or from deallocate_uncached when the
  // inline free (kInlineCache) declined the block.
  void deallocate_locked(void* ptr) noexcept {
    if constexpr (Check::kLevel >= CheckLevel::kBasic && Check::kLevel < CheckLevel::kParanoid &&
                  (kCaching || !internal::kOptimizingForSize)) {
      // BasicChecks, HardenedChecks and DebugChecks (before_operation and after_operation are ParanoidChecks' only):
      // the neighbours are checked as release merges them (merge_free<true>), and not at all for a block going into
      // the cache (BasicChecks), which merges with nothing; checked beforehand, a free tested twice whether each
      // neighbour is free (HardenedChecks free ~10 instructions longer). Without a cache, -Os keeps checked_block's
      // one copy (below). The merge is inlined here when there is no cache (a call to release_checked saved registers
      // this frame had saved already: 4 instructions per free); a caching heap keeps release_checked as one copy for
      // its two callers.
      const RegionHeader* region = nullptr;
      Result<std::byte*> block = checked_block_inline<false>(ptr, &region);
      if (!block) fault_to_handler(pointer_fault(block.error(), ptr));
      if constexpr (kCaching) {
        if (cache_put(*block)) return;
        release_checked(*block, region);
      } else if constexpr (kSplitIsolatedFree) {
        std::byte* const b = *block;
        const std::size_t size = Tags::size(b);
        if (Tags::prev_used(b) && Tags::used(b + size)) {
          release_isolated(b, size);
        } else {
          merge_checked(b, region);
        }
      } else {
        merge_free<true>(*block, region);
      }
      return;  // below ParanoidChecks: no before_operation/after_operation work
    } else if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      Result<std::byte*> block = checked_block_for_free(ptr);
      if (!block) fault_to_handler(pointer_fault(block.error(), ptr));
      before_operation();
      free_block(*block);
    } else {
      free_block(block_of(ptr));
    }
    after_operation();
  }

  // deallocate_locked out of line, for the frees cache_free declines: the cached free stays a leaf (inlined into
  // deallocate with no call and no saved registers) instead of paying the whole free path's prologue on every call.
  [[gnu::noinline]] void deallocate_uncached(void* ptr) noexcept { deallocate_locked(ptr); }

  // Frees used block `block` (already checked): into the cache when the cache policy takes it, else release.
  void free_block(std::byte* block) noexcept {
    if constexpr (kCaching) {
      if (cache_put(block)) return;
    }
    release(block);
  }

  // ---- The cache of freed small blocks (QuickCache; alloc/cache/quick_cache.h) ---------------------------------
  //
  // One LIFO bin per block size from kMinBlockSize to Cache::kMaxBlock, in granule steps. A cached block keeps its
  // used tags, so no neighbour merges with it and its neighbours' prev-used flags stay true; its first two payload
  // words hold the bin's next block and that link sealed with the heap's secret (cache_seal):
  //
  //   | header (used, size) | next cached block | next ^ secret | rest of the freed payload ... | (footer: FullTags) |
  //
  // Freeing pushes and allocating pops, touching the block's first line and the bin head only. A bin holds at most
  // Cache::kDepth blocks; a free past that, an over-aligned block and a larger block coalesce as usual.

  // A cached block's first payload words.
  struct CachedNode {
    CachedNode* next;
    std::uintptr_t key;
  };
  static_assert(sizeof(CachedNode) <= kMinBlockSize - kTagOverhead,
                "BasicHeap: a cached block's link and key must fit in a minimum block's payload");

  // Number of cache bins: block sizes kMinBlockSize .. Cache::kMaxBlock in granule steps (none without a cache).
  static constexpr std::size_t kCacheBins = kCaching ? (Cache::kMaxBlock - kMinBlockSize) / kGranule + 1 : 0;

  static constexpr std::size_t cache_bin(std::size_t size) noexcept { return (size - kMinBlockSize) / kGranule; }
  static constexpr std::size_t cache_bin_size(std::size_t bin) noexcept { return kMinBlockSize + bin * kGranule; }
  NOSTD_HOT static CachedNode* cached_node(std::byte* block) noexcept {
    return reinterpret_cast<CachedNode*>(block + Tags::kHeaderSize);
  }
  NOSTD_HOT static const CachedNode* cached_node(const std::byte* block) noexcept {
    return reinterpret_cast<const CachedNode*>(block + Tags::kHeaderSize);
  }
  NOSTD_HOT static std::byte* block_of_cached(CachedNode* node) noexcept {
    return reinterpret_cast<std::byte*>(node) - Tags::kHeaderSize;
  }

  // The word a cached block carries after its link: the link sealed with this heap's secret (its cache's address,
  // scrambled so that ordinary pointers in a freed payload do not look sealed). One compare checks both words: a
  // write over the link or the key breaks the seal, so a popped block's link is known good before it is followed,
  // without looking it up in the regions (glibc's safe-linking does the same for its tcache). A block being freed
  // whose key word could be a cached block's (maybe_cached) is looked up in its bin (a double free when found), so a
  // payload that happens to match costs a bin scan, nothing more. Against accidents, not forgers: HardenedChecks,
  // which is for forgers, does not cache.
  std::uintptr_t cache_seal(const CachedNode* next) const noexcept { return address(next) ^ cache_.secret; }

  // Keeps what cache_free needs in the control block, next to the bins: the secret, and the payload range of the
  // newest region (the one a single-region heap has) with cache_free's window in it, so that the pointer check is a
  // subtraction, a rotation and a compare with no walk over the regions. Called as each region is added. Not inlined:
  // inside the first allocation's ensure_init it tipped GCC's -Os build into keeping allocate_locked out of line,
  // with its over-aligned search (+470 B of Cortex-M4 .text for the QuickCache row).
  [[gnu::noinline]] void note_newest_region(const RegionHeader* region) noexcept {
    cache_.secret = address(&cache_) ^ static_cast<std::uintptr_t>(0x5A17C0DE0BADF00Dull);
    cache_.lo = address(region->first) + Tags::kHeaderSize;
    cache_.span = address(region->end) - cache_.lo;
    if constexpr (kInlineCache && Check::kLevel >= CheckLevel::kBasic) {
      // cache_free's window: the payloads whose block, of at most Cache::kMaxBlock bytes, ends inside the region
      // whatever its header says (at + kMaxBlock <= span + header), counted in granules; none in a region smaller
      // than a bin's largest block.
      const std::size_t room = cache_.span + Tags::kHeaderSize;
      cache_.near_granules = room >= Cache::kMaxBlock ? (room - Cache::kMaxBlock) / kGranule + 1 : 0;
    }
    cache_.high_water = cache_.lo;
    widen_hull(cache_.lo, cache_.span);
  }
  // The hull of every region's payload range (maybe_cached), widened by [lo, lo + span): an empty hull (span 0)
  // becomes that range. add_region widens it by each region added; remove_region builds it anew from the regions left.
  void widen_hull(std::uintptr_t lo, std::size_t span) noexcept {
    const std::uintptr_t new_lo = cache_.hull_span == 0 ? lo : std::min(cache_.hull_lo, lo);
    const std::uintptr_t new_hi = std::max(cache_.hull_lo + cache_.hull_span, lo + span);
    cache_.hull_lo = new_lo;
    cache_.hull_span = new_hi - new_lo;
  }
  // True when `block`'s key word alone could be a cached block's: unsealed with the secret, it gives the end of a bin
  // (nullptr) or an address inside the regions' hull. The link is not consulted, so that a cached block whose link
  // was written after its free (a use after free) and is then freed again is still looked up in its bin, and found:
  // a double free. A live payload passes this by chance (a key word that is the secret xor a heap address) and costs
  // one bin scan. O(1).
  NOSTD_HOT bool maybe_cached(const std::byte* block) const noexcept {
    const std::uintptr_t link = cached_node(block)->key ^ cache_.secret;
    return link == 0 || link - cache_.hull_lo < cache_.hull_span;
  }

  // Pushes used block `block` (being freed) onto its bin: false when the block is too large, over-aligned (its
  // alignment record would have to be kept), has a free neighbour, or its bin is full. Only a block between two used
  // blocks is cached: it would stay a free block of its own size anyway, so keeping it aside costs only the requests
  // of other sizes it could have served; a block with a free neighbour merges at once, because deferring that merge
  // is what fragments (measured: workload e's touched / peak live 1.42 caching every block, 1.31 caching isolated
  // ones, 1.20 without a cache; throughput 1.13x and 0.91x glibc's). Reading the next header is the one extra line.
  bool cache_put(std::byte* block) noexcept {
    const std::size_t size = Tags::size(block);
    if (size > Cache::kMaxBlock || Tags::over_aligned(block)) return false;
    if (!Tags::prev_used(block) || !Tags::used(block + size)) return false;
    const std::size_t bin = cache_bin(size);
    if (cache_.counts[bin] >= Cache::kDepth) return false;
    push_cached(block, size, bin);
    return true;
  }

  // Pushes freed used block `block` of `size` bytes onto bin `bin` (which has room) and counts the free: the end of
  // cache_put and of cache_free.
  NOSTD_HOT void push_cached(std::byte* block, std::size_t size, std::size_t bin) noexcept {
    CachedNode* const node = cached_node(block);
    CachedNode* const next = cache_.heads[bin];
    node->next = next;
    node->key = cache_seal(next);
    cache_.heads[bin] = node;
    ++cache_.counts[bin];
    in_use_bytes_ -= size - kUsedOverhead;  // a cached block is never over-aligned
    ++total_frees_;
  }

  // The cache's hit and free are inlined into allocate and deallocate (cache_allocate, cache_free), except when
  // compiling for size (-Os): there they are second copies of what allocate_locked and deallocate_locked do anyway,
  // and inlining them cost 226 B more Cortex-M4 .text for the QuickCache row of the footprint report (1,540 B
  // without them when measured).
  static constexpr bool kInlineCache = kCaching && !internal::kOptimizingForSize;

  // The largest request whose block a cache bin holds (block_size_for's rounding, backwards; the levels that cache
  // reserve no canary byte).
  static constexpr std::size_t kLargestCachedRequest =
      kCaching ? (Cache::kMaxBlock / kGranule) * kGranule - kUsedOverhead : 0;

  // allocate's cache hit, inlined into allocate: a request of at most kLargestCachedRequest bytes whose bin holds a
  // block pops it (checked under BasicChecks), with no call. nullptr sends the request down allocate_locked. No
  // ensure_init: a bin holds blocks only once the heap has regions.
  [[gnu::always_inline]] void* cache_allocate(std::size_t size) noexcept {
    if (size > kLargestCachedRequest) return nullptr;
    const std::size_t need = rounded_block_size(size);
    CachedNode* const node = cache_.heads[cache_bin(need)];
    if (node == nullptr) return nullptr;
    return cache_take(node, need);
  }

  // A request's slack (QuickCache::kSlackShare): the request may take a cached block at most 1/kSlackShare larger
  // than its own block, whole, from at most kSlackBins bins past its own. 0 (a policy without it): exact sizes only.
  static constexpr std::size_t kSlackShare = [] {
    if constexpr (requires { Cache::kSlackShare; }) {
      return static_cast<std::size_t>(Cache::kSlackShare);
    } else {
      return std::size_t{0};
    }
  }();
  // The probe's bound: 8 bin heads, one or two cache lines. For b with QuickCache<8, 8192, 256> a bound of 4 or 16 read
  // touched / peak live 1.0393 against 1.0375 at 8 (one run each).
  static constexpr std::size_t kSlackBins = 8;

  // The cache's answer to a request of `need` bytes (kMinBlockSize .. Cache::kMaxBlock, a whole number of
  // granules) in allocate_locked: the head of its own bin, else the head of the first non-empty bin among the next
  // min(kSlackBins, need / (kGranule x kSlackShare)), taken whole; nullptr when there is none. At most 1 +
  // kSlackBins bin heads are read (two cache lines). Why the slack: workload b asks for sizes spread over 511
  // bins, so a freed block seldom met its exact size again before a flush merged it (36 % of b's allocations hit
  // with QuickCache<8, 8192, 256>); with a slack of 1/32 a request also takes a block a few granules larger, a hit
  // TLSF's good fit would give it too (README, issue 11's targets, has the figures). The inline hit
  // (cache_allocate) reads the own bin only and leaves the slack to this call, which a miss makes anyway: with the
  // probe inlined there, workload a (almost no slack: 95 % of its blocks are under 32 granules) ran 6 % slower in four
  // interleaved rounds of //bench:fit_compare.
  NOSTD_HOT void* cache_hit(std::size_t need) noexcept {
    std::size_t bin = cache_bin(need);
    CachedNode* node = cache_.heads[bin];
    // One bin (a MaxBlock under a granule above the minimum block) has no bin past its own to probe: the loop below
    // would never run, but GCC 12 at -O2 with -fsanitize=undefined read `heads[++bin]` as heads[1] of a one-element
    // array and stopped the build (-Werror=array-bounds), so the probe is left out rather than the warning silenced.
    if constexpr (kSlackShare != 0 && kCacheBins > 1) {
      // One cache_take call for both outcomes: with two, the QuickCache row of the Cortex-M4 footprint report read
      // 2,400 B of allocate + free against 1,908 B.
      const std::size_t last = std::min(bin + std::min(kSlackBins, need / (kGranule * kSlackShare)), kCacheBins - 1);
      while (node == nullptr && bin < last) node = cache_.heads[++bin];
    }
    if (node == nullptr) return nullptr;
    return cache_take(node, cache_bin_size(bin));
  }

  // deallocate's cached free, inlined into deallocate: BasicChecks' pointer check (checked_block_inline<false>)
  // and cache_put's tests fused into one pass over the two words they read, the block's header and the next
  // block's. A checked block of a bin's size that the cache does not take (a free neighbour, a full bin) goes to
  // release_declined, checked no further than neighbours_sane; a block whose header names no bin (above the bins,
  // over-aligned, not a used block) goes to free_unbinned. False leaves everything as it was and sends the free down
  // deallocate_uncached, which checks in full and reports: every pointer this rejects, and anything that might be a
  // double free (a key word maybe_cached accepts). Under NoChecks only the cache's own tests remain.
  [[gnu::always_inline]] bool cache_free(void* ptr) noexcept {
    auto* const p = static_cast<std::byte*>(ptr);
    std::byte* const block = p - Tags::kHeaderSize;
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      // p's granule index among the newest region's payloads, rotated so that a misaligned p reads as huge: one
      // compare places it in the region, on a granule, and far enough from the region's end that a block of a bin's
      // size ends inside it (near_granules). Else an older region (found by the walk, with the same bounds), or
      // anything else: the newest region's last Cache::kMaxBlock bytes, a region smaller than that, a misaligned or
      // foreign pointer, no region yet. Those return false, to deallocate_uncached's full check (which bounds the
      // size and caches the block all the same).
      if (std::rotr(address(p) - cache_.lo, kGranuleShift) >= cache_.near_granules) {
        const RegionHeader* const region = region_of(p);
        if (region == nullptr || region == regions_ || !is_aligned(p, kGranule)) return false;
        const std::uintptr_t lo = address(region->first) + Tags::kHeaderSize;
        const std::uintptr_t at = address(p) - lo;
        const std::size_t span = address(region->end) - lo;
        if (at >= span || span + Tags::kHeaderSize - at < Cache::kMaxBlock) return false;  // subtracts: no wrap
      }
    }
    const std::size_t size = Tags::size(block);
    // A used block of a bin's size, not over-aligned; the others take free_unbinned.
    if (size - kMinBlockSize > Cache::kMaxBlock - kMinBlockSize || !Tags::used(block) || Tags::over_aligned(block)) {
      free_unbinned(ptr);
      return true;
    }
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      // used_block_sane without its bound: the window above holds it for every size up to Cache::kMaxBlock.
      if (!is_aligned(size, kGranule) || !used_tags_sane(block, size)) return false;
      if (maybe_cached(block)) return false;  // cached already, or a payload that reads so: is_cached decides
    }
    const std::size_t bin = cache_bin(size);
    // A free neighbour: merge now (cache_put has the reason); a full bin: coalesce as without a cache.
    if (!Tags::prev_used(block) || !Tags::used(block + size) || cache_.counts[bin] >= Cache::kDepth) {
      release_declined(block);
      return true;
    }
    push_cached(block, size, bin);
    return true;
  }

  // BasicChecks' test of used block `block` of `size` bytes whose payload lies `at` bytes into its region's payload
  // range of `span` bytes (at < span), for free_unbinned: a whole number of granules, ending inside the region (the
  // bound subtracts, so that no forged size wraps it), and used_tags_sane.
  [[gnu::always_inline]] static bool used_block_sane(const std::byte* block, std::size_t size, std::uintptr_t at,
                                                     std::size_t span) noexcept {
    return is_aligned(size, kGranule) && size <= span + Tags::kHeaderSize - at && used_tags_sane(block, size);
  }
  // The tags' part of that test, for a block known to end inside its region (cache_free's window;
  // checked_block_inline's HardenedChecks fault path and validate_cache_locked, after their bounds): the next block
  // agreeing that this one is used, and the layout's own check (FullTags: the footer).
  [[gnu::always_inline]] static bool used_tags_sane(const std::byte* block, std::size_t size) noexcept {
    return Tags::prev_used(block + size) && Tags::check(block) == nullptr;
  }

  // cache_free's path for a block whose header names no bin: above the bins (most of the frees of workload b), or
  // over-aligned, or not a used block at all. A used block of the newest region above the bins passes the same
  // checks as in cache_free and is released (release_declined) without the second region lookup, cache_put and
  // the full check that deallocate_locked would repeat (b, BasicChecks: 40 instructions fewer per free with
  // `//bench:instructions`); everything else, and everything under NoChecks, takes deallocate_locked. Out of line,
  // so that the cached free stays as it was.
  [[gnu::noinline]] void free_unbinned(void* ptr) noexcept {
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      auto* const p = static_cast<std::byte*>(ptr);
      std::byte* const block = p - Tags::kHeaderSize;
      const std::uintptr_t at = address(p) - cache_.lo;
      if (at < cache_.span && is_aligned(p, kGranule)) {
        const std::size_t size = Tags::size(block);
        if (size > Cache::kMaxBlock && Tags::used(block) && !Tags::over_aligned(block) &&
            used_block_sane(block, size, at, cache_.span)) {
          release_declined(block);
          return;
        }
      }
    }
    deallocate_locked(ptr);
  }

  // Frees checked used block `block` that the cache declined: release_checked checks its neighbours as it merges
  // them (a forged neighbour goes to the handler). Out of line, as deallocate_uncached is. It looks the
  // region up again rather than take it from cache_free: carrying it through the inline free cost that path about
  // 5 instructions per call in registers (//bench:instructions, e), for a lookup on the one free in eight declined.
  [[gnu::noinline]] void release_declined(std::byte* block) noexcept {
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      release_checked(block, region_of(block));
    } else {
      release(block);
    }
  }

  // Every fault the heap detects goes to the check policy through here, and the heap stops should `Check::on_fault`
  // return (the concept cannot require `[[noreturn]]`): the trap costs nothing when it is `[[noreturn]]`.
  [[noreturn]] static void fault_to_handler(const HeapFault& fault) noexcept {
    internal::on_fault_or_trap<Check>(fault);
  }

  // A neighbour of used block `block` that a free was about to merge with failed its check: to the handler, with
  // the freed pointer, as checked_block's kInvalidPointer.
  [[noreturn]] static void neighbour_fault(std::byte* block) noexcept {
    fault_to_handler(
        HeapFault{AllocError::kInvalidPointer, block + Tags::kHeaderSize, describe(AllocError::kInvalidPointer)});
  }

  // Pops `node`, the head of the bin of `size`, as an allocation.
  NOSTD_HOT void* cache_take(CachedNode* node, std::size_t size) noexcept {
    cache_pop(node, size);
    note_peak();
    ++total_allocations_;
    return node;
  }

  // Before the heap grows, the cache gives way only once it holds at least this share (1/16 unless the cache policy
  // names its own kGiveWayShare) of the memory touched so far in the newest region, and at least the request's
  // bytes: a bound on what deferred merging may cost in memory, without a bin scan for every allocation of a growing
  // program (the drop-in malloc under python3 ran 0.99x glibc's time with the share at 0 and 0.92x with 1/16, one run
  // each; 0.86-0.92x before the rule).
  static constexpr std::size_t kGiveWayShare = [] {
    if constexpr (requires { Cache::kGiveWayShare; }) {
      return static_cast<std::size_t>(Cache::kGiveWayShare);
    } else {
      return std::size_t{16};
    }
  }();

  // allocate_locked's step when its search found nothing (`found` false) or a block past the high-water mark: a
  // larger cached block when `take_larger` allows (not for over-aligned requests), else a flush, after which
  // `flushed` is set and the caller searches again; nothing when the cache is empty or, for a block `found` past the
  // mark, holds fewer bytes than the request or than kGiveWayShare of the touched memory. Out of line: inlined, it
  // tipped GCC's -Os build into keeping allocate_locked out of line with its over-aligned search (the QuickCache row
  // of the Cortex-M4 footprint report: 2,184 B of .text against 1,532 B).
  [[gnu::noinline]] void* cache_make_room(std::size_t need, bool take_larger, bool found, bool& flushed) noexcept {
    const std::size_t cached = cached_bytes();
    if (cached == 0 || (found && cached < std::max(need, (cache_.high_water - cache_.lo) / kGiveWayShare))) {
      return nullptr;
    }
    if (take_larger) {
      if (void* const larger = cache_take_larger(need)) return larger;
    }
    cache_flush();
    flushed = true;
    return nullptr;
  }

  // The smallest cached block larger than `need` bytes, split down to `need` (its tail freed at once, merging with a
  // free successor), or nullptr. allocate_locked's step before it grows the heap past its high-water mark or
  // flushes: a cached block that fits serves the request where it lies. At most kCacheBins head loads.
  void* cache_take_larger(std::size_t need) noexcept {
    if (need > Cache::kMaxBlock) return nullptr;
    for (std::size_t bin = cache_bin(need); bin < kCacheBins; ++bin) {
      CachedNode* const node = cache_.heads[bin];
      if (node == nullptr) continue;
      const std::size_t size = cache_bin_size(bin);
      cache_pop(node, size);
      ++total_allocations_;  // before the tail's release, which may fault: the live count (allocations - frees) holds
      std::byte* const block = block_of_cached(node);
      if (size - need >= kMinBlockSize) {
        expect_cached_neighbours_sane(block);  // the tail merges with a free successor
        // The tail becomes a used block of its own and is released, which merges it with a free successor: release is
        // on the free path already. Two alternatives were measured and dropped: sharing reallocate's shrink in place
        // (it also keeps an over-aligned block's record) added 136 B to the QuickCache row of the Cortex-M4 footprint
        // report (//bench/footprint); letting a tail under a minimum block merge into a free successor too, as that
        // shrink once did, moved e's touched / peak live with QuickCache<> from 1.220 to 1.243 (//bench:fit_compare).
        // The threshold is a minimum block, not carve's min_split_tail: SegregatedFit's split threshold here cost the
        // QuickCache row 32 B on Cortex-M4 (52 B on M0+, 10 B on rv32imac) and changes nothing with the default
        // shares, because the cache's slack probe (1/32, as the fit's) has already taken every block the threshold
        // would keep whole (cache_hit). Past its 8-bin bound (requests of 288 granules or more, 4.5 KiB with 16-byte
        // granules) or with the cache's SlackShare 0, a tail the fit would keep is split off here, a usable free block.
        Tags::make_used(block, need, Tags::prev_used(block), false);
        Tags::make_used(block + need, size - need, true, false);
        in_use_bytes_ -= kUsedOverhead;  // two live blocks now: the tail's tags
        --total_frees_;                  // release counts a free: the tail was never handed out
        release(block + need);
      }
      note_peak();
      return node;
    }
    return nullptr;
  }

  // Pops `node`, the head of the bin of `size`, back into the live counters. Under BasicChecks a cached block whose
  // seal or header no longer reads as written (a write after free) goes to the handler before anything is changed,
  // and so before its link is followed.
  NOSTD_HOT void cache_pop(CachedNode* node, std::size_t size) noexcept {
    std::byte* const block = block_of_cached(node);
    CachedNode* const next = node->next;
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      if (node->key != cache_seal(next) || !Tags::used(block) || Tags::size(block) != size) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, node,
                                   "cached block was written after it was freed (its header, link or key changed)"});
      }
    }
    node->key = 0;  // a later free of this live block must not look cached
    const std::size_t bin = cache_bin(size);
    cache_.heads[bin] = next;
    --cache_.counts[bin];
    in_use_bytes_ += size - kUsedOverhead;
  }

  // The bytes of the cached blocks: those of no used and no free block. O(1).
  std::size_t cached_bytes() const noexcept { return capacity_ - used_block_bytes() - free_block_bytes(); }

  // True when carving `need` bytes from free block `block` would end past the newest region's high-water mark
  // (cache_.high_water: the highest block end allocate_locked has carved there; the exact fast path does not
  // raise it, reallocate in place only where allocate_zeroed needs it (kTracksFresh), an over-aligned request's
  // leading gap lies below its block, and a mark too low only makes the cache give way sooner): memory the heap has not
  // touched yet. cache_make_room then lets the cache give way first, so that deferred merging does not grow what a
  // program touches (its resident pages; on a microcontroller, the heap it must reserve) where merging would have found
  // room. Without this, workload e's touched / peak live was 1.31 with QuickCache<> against 1.20 without a cache
  // (`//bench:fit_compare`).
  bool cache_raises_mark(const std::byte* block, std::size_t need) const noexcept {
    const std::uintptr_t end = address(block) + need;
    return end > cache_.high_water && ends_in_newest_region(end);
  }

  // True when a block ending at address `end` lies in the newest region (the region the high-water mark follows):
  // one subtraction and one compare, since an end below the region wraps to a large offset.
  bool ends_in_newest_region(std::uintptr_t end) const noexcept { return end - cache_.lo <= cache_.span; }

  // True when `p` lies in the newest region's payload range, [first block's payload, region end): region_of's and
  // node_in_heap's one-compare test, with the same wrap as ends_in_newest_region.
  NOSTD_HOT bool in_newest_payload(const std::byte* p) const noexcept { return address(p) - cache_.lo < cache_.span; }

  // The number and total size of the cached blocks, from the bins' counts: O(bins), so that a cached free or
  // allocation keeps no running totals (two read-modify-writes fewer per call).
  struct CachedTotals {
    std::size_t count = 0;
    std::size_t bytes = 0;
  };
  CachedTotals cached_totals() const noexcept {
    CachedTotals totals;
    for (std::size_t bin = 0; bin < kCacheBins; ++bin) {
      totals.count += cache_.counts[bin];
      totals.bytes += cache_.counts[bin] * cache_bin_size(bin);
    }
    return totals;
  }

  // True when used block `block` is on its cache bin. O(Cache::kDepth) when its key word could be a cached block's
  // (maybe_cached), else O(1). Reads only nodes that lie in the heap, and at most the bin's count of them, whatever
  // the links hold.
  bool is_cached(const std::byte* block) const noexcept { return maybe_cached(block) && on_cache_bin(block); }

  // True when used block `block` is on its cache bin, looked up there without reading the block's payload (walk():
  // the payload of a live block is its owner's, who may be writing it). O(Cache::kDepth).
  bool on_cache_bin(const std::byte* block) const noexcept {
    const std::size_t size = Tags::size(block);
    if (size > Cache::kMaxBlock || size < kMinBlockSize) return false;
    const std::size_t bin = cache_bin(size);
    const CachedNode* node = cache_.heads[bin];
    for (std::size_t i = 0; i < cache_.counts[bin] && node != nullptr; ++i) {
      if (node == cached_node(block)) return true;
      if (!node_in_heap(reinterpret_cast<const internal::FreeNode*>(node))) return false;
      node = node->next;
    }
    return false;
  }

  // Coalesces every cached block (release), emptying the cache. O(cached blocks), at most Depth x kCacheBins. Under
  // BasicChecks each block is checked as cache_take checks it before it is touched, and its neighbours as a free
  // checks them before it merges (expect_cached_neighbours_sane).
  void cache_flush() noexcept {
    for (std::size_t bin = 0; bin < kCacheBins; ++bin) {
      while (CachedNode* const node = cache_.heads[bin]) {
        cache_pop(node, cache_bin_size(bin));
        --total_frees_;  // release counts the free again: the block was freed once, into the cache
        expect_cached_neighbours_sane(block_of_cached(node));
        release(block_of_cached(node));
      }
    }
  }

  // Under BasicChecks, before a block taken off a cache bin merges with its neighbours (cache_flush, and the tail
  // cache_take_larger releases): those neighbours must be sane as neighbours_sane says, the check a free makes of the
  // blocks it merges with (merge_free<true>). A neighbour may have been freed, and its tags overwritten, while the
  // block sat in the cache; release alone trusted a free successor's size, so an overflow through the cached block's
  // dangling pointer into the header of the free block after it made the flush merge the live block behind that one
  // into free memory (silently: validate() found the counters disagreeing). Goes to the handler as kCorrupted at the
  // block's payload; the block was popped already, so it stays a live block nobody owns and the counters agree with
  // the blocks. Out of the hot paths: a flush and a larger block's split only.
  void expect_cached_neighbours_sane(const std::byte* block) const noexcept {
    if constexpr (Check::kLevel >= CheckLevel::kBasic) {
      const RegionHeader* const region = region_of(block);
      if (region == nullptr || !neighbours_sane(block, region)) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, block + Tags::kHeaderSize,
                                   "a free neighbour of a cached block has tags that disagree (overwritten?)"});
      }
    }
  }

  Result<void*> reallocate_locked(std::byte* block, std::size_t new_size) noexcept {
    const bool over_aligned = Tags::over_aligned(block);
    Result<std::size_t> need = over_aligned ? block_size_for_over_aligned(new_size) : block_size_for(new_size);
    if (!need) return note_failure(need.error());
    const std::size_t size = Tags::size(block);
    std::byte* const next = block + size;
    if (!Tags::used(next)) expect_links_intact(next);  // in-place paths merge with it; check before changing anything
    std::byte* const payload = block + Tags::kHeaderSize;
    // Only the memory tools and DebugChecks need the old caller size on the in-place paths (not reading it keeps
    // NoChecks' reallocate as small as before).
    const std::size_t old_visible = internal::kMemoryTools || kDebugLevel ? visible_bytes(block) : 0;
    if (*need <= size) {
      // Shrink in place. A tail of at least a minimum block is freed (joining a free successor); a smaller one stays in
      // the block as slack (usable_size reports it), as it does before a used successor. It used to join a free
      // successor too, but the merged block's list links, a tag word into the tail and two words long, then lay over
      // the successor's header, so a pointer to that freed successor, freed again, read a list link as its header:
      // kInvalidPointer at every level instead of kDoubleFree (hardening_test's
      // FreedPointerIsDoubleFreeAfterAShrinkBeforeIt). Keeping the tail costs the block under a minimum block of
      // slack, which a later free or grow in place gives back.
      const std::size_t tail = size - *need;
      if constexpr (kDebugLevel) {
        if (!Tags::used(next)) expect_unwritten_prefix(next);
        slack_bytes_ -= slack_of(block);
      }
      if (tail >= kMinBlockSize) {
        resize_used(block, *need);
        std::size_t tail_size = tail;
        std::byte* dirty_end = block + size;
        if (!Tags::used(next)) {
          const std::size_t next_size = Tags::size(next);
          take_free(next, next_size);
          tail_size += next_size;
          dirty_end = next + Tags::kHeaderSize + sizeof(internal::FreeNode);
        }
        split_free_tail(block + *need, tail_size);
        Tags::set_prev_used(block + *need + tail_size, false);
        if constexpr (kDebugLevel) poison(block + *need, block + *need, dirty_end);
      }
      finish_in_place(block, old_visible, new_size);
      // Under DebugChecks bytes in use are the requested bytes, which a reallocate within the block can raise (10
      // bytes asked in a 24-byte block, then 20); at the other levels they are the block's, which shrinks here.
      if constexpr (kDebugLevel) note_peak();
      return static_cast<void*>(payload);
    }
    if (!Tags::used(next) && *need <= size + Tags::size(next))
      return grow_in_place(block, *need, new_size, old_visible);
    // Move, to a block with the alignment the original was allocated with.
    const std::size_t align = over_aligned ? recorded_alignment(block) : kDefaultAlignment;
    Result<void*> moved = allocate_locked(new_size, align);
    if (!moved) {
      if constexpr (kCaching) {
        // The move's search gave the cache way before it failed (cache_make_room): a successor that sat in the cache
        // is free now, merged with what followed it, and may hold the growth after all. Without this, a grow whose
        // only room was a cached successor failed with kOutOfMemory, and the same call succeeded in place right after
        // it (found by //tests:heap_model_test's check that a refused call still fails after flush_cache()). A test
        // on the failure path only.
        if (!Tags::used(next) && *need <= size + Tags::size(next)) {
          --failed_allocations_;  // the move's search counted its failure; this call succeeds
          expect_links_intact(next);
          return grow_in_place(block, *need, new_size, old_visible);
        }
      }
      return moved;
    }
    std::memcpy(*moved, payload, std::min(new_size, visible_bytes(block)));
    release(block);
    return moved;
  }

  // reallocate's grow in place: used block `block` takes `need` bytes of itself and its free successor (which safe
  // unlinking has checked), splitting off a tail that can stand as a block; `new_size` and `old_visible` are the
  // caller's new and old sizes (for DebugChecks and the memory tools).
  [[gnu::always_inline]] Result<void*> grow_in_place(std::byte* block, std::size_t need, std::size_t new_size,
                                                     [[maybe_unused]] std::size_t old_visible) noexcept {
    const std::size_t size = Tags::size(block);
    std::byte* const next = block + size;
    if constexpr (kDebugLevel) {
      expect_unwritten_on_reuse(next, need - size, 0);
      slack_bytes_ -= slack_of(block);
    }
    const std::size_t total = size + Tags::size(next);
    take_free(next, Tags::size(next));
    if (total - need >= kMinBlockSize) {
      resize_used(block, need);
      split_free_tail(block + need, total - need);
    } else {
      resize_used(block, total);
      Tags::set_prev_used(block + total, true);
    }
    if constexpr (kTracksFresh) raise_mark(block);  // the caller may write up to the new end
    std::byte* const payload = block + Tags::kHeaderSize;
    if constexpr (kDebugLevel) {
      internal::unchecked_fill(payload + old_visible, new_size - old_visible, DebugPatterns::kAllocated);
    }
    finish_in_place(block, old_visible, new_size);
    note_peak();
    return static_cast<void*>(payload);
  }

  // After an in-place reallocate of `block` to `new_size` caller bytes: the check trailer and canary for the new
  // size, and the memory tools told what the caller may touch now.
  void finish_in_place(std::byte* block, std::size_t old_visible, std::size_t new_size) noexcept {
    if constexpr (kHardenedLevel) seal_used(block, new_size);
    if constexpr (internal::kMemoryTools) {
      std::byte* const payload = block + Tags::kHeaderSize;
      const std::size_t visible = visible_bytes(block);
      internal::tool_resized(payload, old_visible, visible);
      std::byte* const end = block + Tags::size(block);
      internal::tool_forbid(payload + visible, static_cast<std::size_t>(end - (payload + visible)));
      // A shrink's poisoning of the old caller bytes may have covered the free tail split off after the block.
      if (!Tags::used(end)) internal::tool_permit(node_of(end), sizeof(internal::FreeNode));
    }
  }

  // Rewrites a used block's tags for a new size, keeping its flags, its alignment record and the usage counters.
  NOSTD_HOT void resize_used(std::byte* block, std::size_t new_size) noexcept {
    in_use_bytes_ = in_use_bytes_ - Tags::size(block) + new_size;
    const bool over_aligned = Tags::over_aligned(block);
    const std::size_t log2_align = over_aligned ? internal::load_word<std::uint8_t>(align_record(block)) : 0;
    Tags::make_used(block, new_size, Tags::prev_used(block), over_aligned);
    if (over_aligned) internal::store_word<std::uint8_t>(align_record(block), log2_align);
  }

  // An over-aligned block keeps log2 of its alignment in its last payload byte, so that a moving reallocate can
  // keep that alignment. The header has no bit to spare for it, and inferring it from the address can demand far
  // more than was asked (a 32-aligned block that happens to sit on a 1 MiB boundary). One byte, only for blocks
  // that asked for more than the granule.
  // It sits just before the check trailer. Read and written through the tag accessors: under ASan it is poisoned.
  static std::byte* align_record(std::byte* block) noexcept { return trailer(block) - 1; }
  static const std::byte* align_record(const std::byte* block) noexcept { return trailer(block) - 1; }
  static std::size_t recorded_alignment(const std::byte* block) noexcept {
    return std::size_t{1} << internal::load_word<std::uint8_t>(align_record(block));
  }
  // True when used `block` could have been allocated with alignment `align`: an over-aligned block's recorded one;
  // for any other block, one up to the granule (the block does not record which).
  static bool alignment_fits(const std::byte* block, std::size_t align) noexcept {
    return Tags::over_aligned(block) ? align == recorded_alignment(block) : align <= kGranule;
  }
  // True when the alignment record of over-aligned `block` is in range and its payload honours it.
  static bool align_record_sane(const std::byte* block) noexcept {
    const unsigned log2_align = internal::load_word<std::uint8_t>(align_record(block));
    return log2_align > static_cast<unsigned>(std::countr_zero(kGranule)) &&
           log2_align <= static_cast<unsigned>(std::countr_zero(kMaxAlignment)) &&
           is_aligned(block + Tags::kHeaderSize, std::size_t{1} << log2_align);
  }
  // Payload bytes of a used block before its alignment record and check trailer.
  static std::size_t usable_bytes(const std::byte* block) noexcept {
    return Tags::size(block) - kUsedOverhead - (Tags::over_aligned(block) ? 1 : 0);
  }
  // The bytes the caller may touch (usable_size): usable_bytes, less the canary under DebugChecks.
  static std::size_t visible_bytes(const std::byte* block) noexcept {
    if constexpr (kDebugLevel) {
      return usable_bytes(block) - slack_of(block);
    } else {
      return usable_bytes(block);
    }
  }
  // block_size_for, plus the alignment record.
  static Result<std::size_t> block_size_for_over_aligned(std::size_t size) noexcept {
    if (size == std::numeric_limits<std::size_t>::max()) return fail(AllocError::kSizeOverflow);
    return block_size_for(size + 1);
  }

  // The O(1) pointer check of BasicChecks and try_deallocate: inside a region, granule-aligned, header sane,
  // the next block's tags agreeing that this block is used, and the neighbours that a free would merge with
  // sane too (a free trusts their tags, so a forged "previous block is free" must not get that far).
  // checked_block_inline<false> leaves the neighbours out and stores the block's region in `*region_out`: enough for
  // a free into the cache, which merges nothing; merge_free<true> (release_checked, or deallocate_locked's inline
  // merge) checks the rest when the block coalesces after all.
  Result<std::byte*> checked_block(void* ptr) noexcept { return checked_block_inline<true>(ptr, nullptr); }

  // deallocate's pointer check at ParanoidChecks, and from BasicChecks up without a cache under -Os: inlined where
  // the build optimises for speed (the call, and the Result returned through memory, cost ~19 of the ~167
  // instructions of a BasicChecks free on workload a when BasicChecks took this path), checked_block's one copy at
  // -Os. A speed build's free below ParanoidChecks checks the neighbours as it merges them (merge_free<true>).
  NOSTD_HOT Result<std::byte*> checked_block_for_free(void* ptr) noexcept {
    if constexpr (internal::kOptimizingForSize) {
      return checked_block(ptr);
    } else {
      return checked_block_inline<true>(ptr, nullptr);
    }
  }

  // checked_block's body, always inlined: checked_block is its one out-of-line copy (as before the cache existed, for
  // the Cortex-M4 .text budgets); the cache's free path inlines checked_block_inline<false> into deallocate, which
  // saves the call and passing the result and region through memory on the path most frees take; speed builds
  // without a cache inline checked_block_inline<false> into deallocate_locked below ParanoidChecks (the neighbours
  // are checked as they merge, merge_free<true>) and checked_block_inline<true> at ParanoidChecks
  // (checked_block_for_free).
  template <bool kNeighbours>
  [[gnu::always_inline]] Result<std::byte*> checked_block_inline(void* ptr, const RegionHeader** region_out) noexcept {
    ensure_init();
    auto* const p = static_cast<std::byte*>(ptr);
    if (!is_aligned(p, kGranule)) return fail(AllocError::kInvalidPointer);
    const RegionHeader* const region = region_of(p);  // p is aligned: past the first header too (region_of)
    if (region == nullptr) return fail(AllocError::kInvalidPointer);
    std::byte* const block = p - Tags::kHeaderSize;
    const std::size_t size = Tags::size(block);
    if (!plausible_size(size, static_cast<std::size_t>(region->end - block))) {
      // Under DebugChecks a freed block's header that merged into its predecessor is poison now: still a double free,
      // unless the word lies inside a used block (a payload holding the pattern: an interior pointer).
      if constexpr (kDebugLevel) {
        if (internal::unchecked_find_other(block, Tags::kHeaderSize, DebugPatterns::kFreed) == nullptr) {
          const std::byte* const around = block_around(block, region);
          if (around == nullptr || !Tags::used(around)) return fail(AllocError::kDoubleFree);
        }
      }
      return fail(AllocError::kInvalidPointer);
    }
    if (!Tags::used(block)) return fail(AllocError::kDoubleFree);
    // The block's own check trailer before any tag beyond its header: an overflow runs through the trailer (and
    // FullTags' footer) into the successor's header, and is kCorrupted at this block whatever bytes it wrote (zeros
    // clear the successor's "previous is used" bit) and from every entry point, whether the neighbours are checked
    // here (try_deallocate, reallocate, -Os) or as a free merges them (merge_free<true>), after this check. The size
    // is plausible, so the trailer lies inside the region. With tags that disagree the word before `p` may be no
    // header at all (an interior pointer into a payload holding a plausible used-looking word): the walk of the
    // region, on that fault path only, tells a damaged block (one starts at `block`) from such a pointer.
    if constexpr (kHardenedLevel) {
      if (used_block_fault(block).why != nullptr) {
        const bool agree = used_tags_sane(block, size);
        return fail(agree || block_around(block, region) == block ? AllocError::kCorrupted
                                                                  : AllocError::kInvalidPointer);
      }
    }
    // used_tags_sane's test written out: through it GCC laid this branch out so that a caching heap's free ran longer
    // (//bench:instructions, seg/compact+cache free: workload a 81.7 -> 82.5, b 157.5 -> 161.1 per call).
    if (!Tags::prev_used(block + size) || Tags::check(block) != nullptr) return fail(AllocError::kInvalidPointer);
    if constexpr (kCaching) {
      if (is_cached(block)) return fail(AllocError::kDoubleFree);
    }
    if (Tags::over_aligned(block) && !align_record_sane(block)) return fail(AllocError::kInvalidPointer);
    if constexpr (kNeighbours) {
      if (!neighbours_sane(block, region)) return fail(AllocError::kInvalidPointer);
    } else {
      *region_out = region;
    }
    return block;
  }

  // The block of `region` that holds `p` (its start: `p` itself when a block starts there), found by walking the
  // region's blocks from the first; nullptr when a size met on the way is not plausible. O(blocks), for two fault
  // paths only: DebugChecks' poisoned header (a freed block merged away, or an interior pointer into a live payload
  // holding the pattern) and HardenedChecks' check word with tags that disagree (a block overrun through its
  // trailer, or an interior pointer). `p` lies in the region's payload range.
  [[gnu::cold]] static const std::byte* block_around(const std::byte* p, const RegionHeader* region) noexcept {
    for (const std::byte* block = region->first; block <= p;) {
      const std::size_t size = Tags::size(block);
      if (!plausible_size(size, static_cast<std::size_t>(region->end - block))) return nullptr;
      if (p < block + size) return block;
      block += size;
    }
    return nullptr;
  }

  // The free neighbours of used block `block` (in `region`) that a free would merge with: plausible sizes, and tags
  // that agree with each other.
  [[gnu::always_inline]] static bool neighbours_sane(const std::byte* block, const RegionHeader* region) noexcept {
    if (!Tags::prev_used(block) && !free_prev_sane(block, region)) return false;
    const std::byte* const next = block + Tags::size(block);
    return next == region->end || Tags::used(next) || free_tags_agree(next, region);
  }
  // neighbours_sane's test of the free block before used block `block` (in `region`; !Tags::prev_used(block)): a
  // size that fits between the region's first block and `block`, and a free header there of that size.
  [[gnu::always_inline]] static bool free_prev_sane(const std::byte* block, const RegionHeader* region) noexcept {
    const std::size_t prev_size = Tags::prev_free_size(block);
    return plausible_size(prev_size, static_cast<std::size_t>(block - region->first)) &&
           !Tags::used(block - prev_size) && Tags::size(block - prev_size) == prev_size;
  }
  // True when `block` of `region` is a well-formed free block: a size that ends inside the region, a header that says
  // free, and the layout's own check (CompactTags: the prev-used bit set and the footer at that end holding the size;
  // FullTags: the footer equal to the header). The bound comes first, so the footer read stays inside the region. The
  // one test of a free block's tags: neighbours_sane's (and merge_free<true>'s) of the free block after a used one,
  // whose header the caller has just read as free, expect_free_tags_intact's before carve splits by the size, and
  // node_is_free_block's for validate().
  [[gnu::always_inline]] static bool free_tags_agree(const std::byte* block, const RegionHeader* region) noexcept {
    return plausible_size(Tags::size(block), static_cast<std::size_t>(region->end - block)) && !Tags::used(block) &&
           Tags::check(block) == nullptr;
  }

  // ---- Check levels above BasicChecks -------------------------------------------------------------------------
  //
  // A used block under HardenedChecks and above ends with a check trailer (before FullTags' footer):
  //
  //   | header | payload (requested) | canary (Debug, >= 1 byte) | align record? | slack? | check | pad? | footer? |
  //                                                                              ^ trailer(block)
  //   check  32 bits: keyed hash of the block's address, size, used and over-aligned flags, and slack
  //   slack  32 bits, DebugChecks and up: usable_bytes - requested size = canary bytes (at least 1)
  //   pad    2 bytes with 16-bit CompactTags, so that slack and check start on a 4-byte boundary (kCheckBytes)
  //
  // A free block under DebugChecks holds DebugPatterns::kFreed in every byte but its header, list links and footer.

  static constexpr bool kHardenedLevel = Check::kLevel >= CheckLevel::kHardened;
  static constexpr bool kDebugLevel = Check::kLevel >= CheckLevel::kDebug;
  static constexpr bool kParanoidLevel = Check::kLevel >= CheckLevel::kParanoid;
  // allocate_zeroed knows the memory never handed out: the source's memory starts zero and the cache keeps the mark
  // (kCaching: at most BasicChecks, whose free blocks hold only tags and links, and no memory tool). A grow in place
  // then raises the mark too, which other heaps leave to allocated (a mark too low there only makes the cache give way
  // sooner).
  static constexpr bool kTracksFresh = kCaching && internal::kZeroedSource<Source>;
  // The bytes at the mark, and before the region's end, that a free block's tags and links may hold.
  static constexpr std::size_t kFreshTagBytes = 64;
  static_assert(Tags::kHeaderSize + sizeof(internal::FreeNode) <= kFreshTagBytes &&
                    Tags::kHeaderSize + Tags::kHeaderSize <= kFreshTagBytes,
                "BasicHeap: a free block's tags and links must fit kFreshTagBytes");
  // The bytes before the newest region's end that allocate_zeroed clears: the last free block's footer, and a last free
  // block the exact path took whole and its caller wrote. The exact path does not raise the mark: it is allocate's
  // hottest path (the raise there measured about 1 instruction per malloc + free of the drop-in's churn_bench), and
  // the only block it can take above the mark is the region's last, under the fit's exact limit.
  static constexpr std::size_t kRegionEndBytes = [] {
    if constexpr (kExactFastPath) {
      return kFreshTagBytes + Index::kExactLimit;
    } else {
      return kFreshTagBytes;
    }
  }();
  // Where the check word lies in the trailer: after the slack under DebugChecks (any pad follows it).
  static constexpr std::size_t kCheckWordOffset = kDebugLevel ? 4 : 0;
  // The canary bytes DebugChecks reserves at least, beyond the request.
  static constexpr std::size_t kCanaryBytes = kDebugLevel ? 1 : 0;
  // The bytes a block takes beyond the payload it serves (block_size_for, stats()' free figures): its tags, check
  // trailer and canary. Above kMinBlockSize from DebugChecks up with 4-byte full tags on an 8- or 16-byte granule
  // (Cortex-M: 17 B against 16), where a minimum block serves no request at all.
  static constexpr std::size_t kServeCost = kUsedOverhead + kCanaryBytes;
  // The footer bytes of a free block (its size, the last word).
  static constexpr std::size_t kFreeFooterBytes = Tags::kFreeTagBytes - Tags::kHeaderSize;

  // splitmix64's finaliser: every input bit affects every output bit.
  static constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Where a used block's check trailer starts: after its payload (and alignment record), before FullTags' footer.
  static std::byte* trailer(std::byte* block) noexcept {
    return block + Tags::size(block) - (kTagOverhead - Tags::kHeaderSize) - kCheckBytes;
  }
  static const std::byte* trailer(const std::byte* block) noexcept {
    return block + Tags::size(block) - (kTagOverhead - Tags::kHeaderSize) - kCheckBytes;
  }
  // DebugChecks: the canary bytes after the requested size, as recorded in the trailer.
  static std::size_t slack_of(const std::byte* block) noexcept {
    return internal::load_word<std::uint32_t>(trailer(block));
  }

  // The keyed check of a used block. Two multiply-xorshift rounds over (key + address) and the header's size and
  // flags (the prev-used flag excluded: freeing a neighbour changes it) and the slack: cheap enough for every free,
  // and without the key its value cannot be computed from the block's contents.
  std::uint32_t check_word(const std::byte* block) const noexcept {
    const std::uint64_t fields =
        Tags::size(block) | (Tags::used(block) ? 1u : 0u) | (Tags::over_aligned(block) ? 4u : 0u);
    const std::uint64_t slack = kDebugLevel ? slack_of(block) : 0;
    std::uint64_t h = (key_ + static_cast<std::uint64_t>(address(block))) * 0x9E3779B97F4A7C15ull;
    h ^= (fields << 16) ^ (slack << 48) ^ (h >> 29);
    h *= 0xD6E8FEB86659FD93ull;
    return static_cast<std::uint32_t>(h >> 32);
  }

  // Writes the trailer of used block `block` whose caller asked for `requested` bytes: under DebugChecks the canary
  // bytes and the slack, then the check word (which covers the slack).
  NOSTD_HOT void seal_used(std::byte* block, std::size_t requested) noexcept {
    std::byte* const at = trailer(block);
    if constexpr (kDebugLevel) {
      const std::size_t slack = usable_bytes(block) - requested;
      internal::unchecked_fill(block + Tags::kHeaderSize + requested, slack, DebugPatterns::kCanary);
      internal::store_word<std::uint32_t>(at, slack);
      slack_bytes_ += slack;
    }
    internal::store_word<std::uint32_t>(at + kCheckWordOffset, check_word(block));
  }

  // Why a used block fails its trailer (why == nullptr: it does not), and the first byte overwritten when a canary
  // says which (byte == nullptr: the block as a whole, for a check word that does not match or a recorded size out of
  // range; the caller names the block or the pointer it was given).
  struct UsedBlockFault {
    const char* why;
    const void* byte;
  };

  // Why used block `block` (its size already checked to lie in its region) fails its trailer: the check word first (it
  // covers the slack, so a slack that passes is the one written), then the canary bytes.
  UsedBlockFault used_block_fault(const std::byte* block) const noexcept {
    const std::byte* const at = trailer(block);
    if (internal::load_word<std::uint32_t>(at + kCheckWordOffset) != check_word(block)) {
      return {"used block's check word does not match (header or check word overwritten, or a forged block)", nullptr};
    }
    if constexpr (kDebugLevel) {
      const std::size_t slack = slack_of(block);
      if (slack == 0 || slack > usable_bytes(block))
        return {"used block's recorded requested size is out of range", nullptr};
      if (const std::byte* bad = internal::unchecked_find_other(block + Tags::kHeaderSize + usable_bytes(block) - slack,
                                                                slack, DebugPatterns::kCanary)) {
        return {"bytes past the requested size were overwritten (buffer overflow)", bad};
      }
    }
    return {nullptr, nullptr};
  }

  // The bytes of free block `block` that hold the poison pattern: all but its header, links and footer.
  static std::byte* poison_begin(std::byte* block) noexcept {
    return block + Tags::kHeaderSize + sizeof(internal::FreeNode);
  }
  static std::byte* poison_end(std::byte* block) noexcept { return block + Tags::size(block) - kFreeFooterBytes; }

  // Poisons [lo, hi) clipped to free block `block`'s poison range.
  static void poison(std::byte* block, std::byte* lo, std::byte* hi) noexcept {
    lo = std::max(lo, poison_begin(block));
    hi = std::min(hi, poison_end(block));
    if (lo < hi) internal::unchecked_fill(lo, static_cast<std::size_t>(hi - lo), DebugPatterns::kFreed);
  }

  // Reports (to the handler) the first byte of [lo, hi), clipped to free block `block`'s poison range, that is
  // not poison: a write after free. Reads only, so the heap is intact if the handler does not end the program.
  static void expect_poisoned(std::byte* block, std::byte* lo, std::byte* hi) noexcept {
    lo = std::max(lo, poison_begin(block));
    hi = std::min(hi, poison_end(block));
    if (lo >= hi) return;
    if (const std::byte* bad =
            internal::unchecked_find_other(lo, static_cast<std::size_t>(hi - lo), DebugPatterns::kFreed)) {
      fault_to_handler(
          HeapFault{AllocError::kCorrupted, bad, "a free block was written after it was freed (use after free)"});
    }
  }

  // Before `need` bytes of free block `block` are handed out (with the leading gap `align` asks for): the bytes the
  // new block and the tags around it will cover must still be poison.
  static void expect_unwritten_on_reuse(std::byte* block, std::size_t need, std::size_t align) noexcept {
    std::byte* const used = block + (align != 0 ? leading_gap(block, align) : 0);
    expect_poisoned(block, used - kFreeFooterBytes, used + need + Tags::kHeaderSize + sizeof(internal::FreeNode));
  }

  // Before free block `block` merges with a block being freed: its first kMergeCheckBytes of poison (a bound, so
  // that a free costs O(freed block); validate() and reuse check the rest).
  static void expect_unwritten_prefix(std::byte* block) noexcept {
    expect_poisoned(block, block, poison_begin(block) + Check::kMergeCheckBytes);
  }

  // Before used block `block` of `size` bytes is freed: the free neighbours it will merge with.
  static void expect_unwritten_neighbours(std::byte* block, std::size_t size) noexcept {
    if (!Tags::prev_used(block)) expect_unwritten_prefix(block - Tags::prev_free_size(block));
    if (!Tags::used(block + size)) expect_unwritten_prefix(block + size);
  }

  // ParanoidChecks: the whole heap validated before every operation, so that a corruption made since the last one
  // (a write after free, an overflow) is reported before the operation trusts the heap or hands anything out (a
  // block taken elsewhere would otherwise be live when the check after it reported); and after it, so that a fault
  // the operation itself leaves is reported by that operation. Empty below ParanoidChecks.
  void before_operation() const noexcept {
    if constexpr (kParanoidLevel) {
      if (ValidateResult result = validate_locked(); !result) fault_to_handler(result.error());
    }
  }

  // ParanoidChecks: the whole heap validated after every operation; the first broken invariant goes to the handler.
  void after_operation() const noexcept {
    if constexpr (kParanoidLevel) {
      if (ValidateResult result = validate_locked(); !result) fault_to_handler(result.error());
    }
  }

  // What validate() checks above BasicChecks, after the structure has been validated (so every size is sound):
  // every used block's trailer, and under DebugChecks every free block's poison. O(heap bytes) under DebugChecks.
  ValidateResult validate_contents_locked() const noexcept {
    for (const RegionHeader* region = regions_; region != nullptr; region = region->next) {
      for (const std::byte* block = region->first; block != region->end; block += Tags::size(block)) {
        if (Tags::used(block)) {
          if (const UsedBlockFault fault = used_block_fault(block); fault.why != nullptr) {
            const void* where = fault.byte != nullptr ? fault.byte : block;
            return std::unexpected<HeapFault>(HeapFault{AllocError::kCorrupted, where, fault.why});
          }
        } else if constexpr (kDebugLevel) {
          std::byte* const b = const_cast<std::byte*>(block);
          const std::byte* lo = poison_begin(b);
          const std::byte* hi = poison_end(b);
          if (lo < hi) {
            if (const std::byte* bad =
                    internal::unchecked_find_other(lo, static_cast<std::size_t>(hi - lo), DebugPatterns::kFreed)) {
              return std::unexpected<HeapFault>(HeapFault{
                  AllocError::kCorrupted, bad, "a free block was written after it was freed (use after free)"});
            }
          }
        }
      }
    }
    return {};
  }

  // A block size that could be real where at most `room` bytes are left: at least a minimum block, a multiple of
  // the granule, within the room.
  NOSTD_HOT static bool plausible_size(std::size_t size, std::size_t room) noexcept {
    return size >= kMinBlockSize && is_aligned(size, kGranule) && size <= room;
  }

  // Safe unlinking runs at every check level above NoChecks, unless the check policy says otherwise with a
  // `static constexpr bool kSafeUnlink` (alloc/concepts/check_policy.h; fit_compare prices it that way).
  static constexpr bool kSafeUnlink = [] {
    if constexpr (requires { Check::kSafeUnlink; }) {
      return static_cast<bool>(Check::kSafeUnlink);
    } else {
      return Check::kLevel >= CheckLevel::kBasic;
    }
  }();

  // True when `node` lies where a free block's links can: inside a region, at a granule-aligned payload address
  // past the region's first header. Such a pointer may be read (its links lie inside the region, at most up to the
  // end sentinel's word). O(regions). The test safe unlinking applies to a neighbour before reading it.
  NOSTD_HOT bool node_in_heap(const internal::FreeNode* node) const noexcept {
    const auto* const p = reinterpret_cast<const std::byte*>(node);
    if (!is_aligned(p, kGranule)) return false;
    if constexpr (kCaching) {
      // The newest region's payload range (note_newest_region): region_of's first compare, without the load of the
      // region it would return.
      if (in_newest_payload(p)) return true;
    }
    return region_of(p) != nullptr;  // p is aligned: past the first header too (region_of)
  }

  // True when `node` is the links of a free block whose tags are consistent: node_in_heap, a plausible free
  // header, the layout's own checks (footer), and the next block agreeing that this one is free. validate()'s
  // test for every index node and every link it follows. O(regions).
  bool node_is_free_block(const internal::FreeNode* node) const noexcept {
    const auto* const p = reinterpret_cast<const std::byte*>(node);
    const RegionHeader* const region = region_of(p);
    if (region == nullptr || !is_aligned(p, kGranule) || p < region->first + Tags::kHeaderSize) return false;
    const std::byte* const block = p - Tags::kHeaderSize;
    return free_tags_agree(block, region) && !Tags::prev_used(block + Tags::size(block));
  }

  // The index's safe-unlinking answer for `node`, with `in_heap` vouching for neighbours: the index's own
  // links_intact when it has one, else the generic check for nullptr-terminated FreeNode lists.
  template <class InHeap>
  NOSTD_HOT bool links_intact(const internal::FreeNode* node, InHeap&& in_heap) const noexcept {
    if constexpr (HasLinksIntact<decltype(index_)>) {
      return index_.links_intact(node, in_heap);
    } else {
      return internal::free_node_links_intact(node, in_heap);
    }
  }

  // node_in_heap as the `in_heap` of links_intact: a named callable rather than a lambda, so that NOSTD_HOT can
  // mark its call operator (GCC left the lambda's out of line in a large translation unit).
  struct NodeInHeap {
    const BasicHeap* heap;
    NOSTD_HOT bool operator()(const internal::FreeNode* node) const noexcept { return heap->node_in_heap(node); }
  };

  // Safe unlinking: before the free block `block` leaves the index, its neighbours on the index must point back at
  // it; otherwise a write through a dangling pointer has forged its links, and removing it would write through
  // them (the classic unlink attack). The fault goes to the check policy before anything is modified. Costs two
  // region lookups and two loads of lines the unlink touches anyway.
  // kExactHead: `block` heads one of the index's exact lists (exact()'s block for take_whole, which hands out the
  // request's size without reading the block's), checked with exact_links_intact when the index has it: its `prev`
  // must be null (a forged `prev` whose `next` points back would pass links_intact, and remove_head ignores `prev`),
  // and its list need not be worked out again. good_head's block, which carve splits by its header's size, is checked
  // by expect_good_head_intact.
  template <bool kExactHead = false>
  NOSTD_HOT void expect_links_intact(std::byte* block) const noexcept {
    if constexpr (kSafeUnlink) {
      const internal::FreeNode* const node = node_of(block);
      bool intact = false;
      if constexpr (kExactHead && HasExactLinksIntact<decltype(index_)>) {
        intact = index_.exact_links_intact(node, NodeInHeap{this});
      } else {
        intact = links_intact(node, NodeInHeap{this});
      }
      if (!intact) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, node,
                                   "free block's list links do not point back at it (write after free?)"});
      }
    }
  }

  // Safe unlinking for the head of list `list` that good_head returned, which carve splits by its header's size: the
  // index's good_head_intact (a null `prev`, a successor pointing back, and that size on that list) where it has one,
  // else a null `prev` (a head has none: a forged one whose `next` points back passes links_intact) and the check of
  // any block's links.
  NOSTD_HOT void expect_good_head_intact(std::byte* block, [[maybe_unused]] std::size_t list) const noexcept {
    if constexpr (kSafeUnlink) {
      internal::FreeNode* const node = node_of(block);
      bool intact = false;
      if constexpr (HasGoodHeadIntact<decltype(index_)>) {
        intact = index_.good_head_intact({node, list}, NodeInHeap{this});
      } else {
        intact = node->prev == nullptr && links_intact(node, NodeInHeap{this});
      }
      if (!intact) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, node,
                                   "free block's size or list links do not match its list (write after free?)"});
      }
    }
  }

  // Where safe unlinking runs: clears the list links of `block`, a free block leaving the index inside a larger block
  // (take_free: merged into a neighbour, or into a block reallocate resizes in place), or the header a free leaves
  // behind, reading free, when its block merges into a free predecessor (its links are the freed payload's first
  // words). Safe unlinking accepts a neighbour whose word points back; such a block's header and links stayed as they
  // were, so its `prev` still named its old list predecessor (or held the owner's data, such as a pointer to another
  // block freed since), and one write after free of that predecessor's `next` linked it back into the index, where
  // allocation took it: inside the free block that had absorbed it, or inside the live block a reallocate had grown
  // over it (CompactTags left its footer too, so every fit's checks passed). Cleared, its `prev` points back at no
  // block. Two stores into a line the merge or the unlink has just read; none at NoChecks.
  NOSTD_HOT static void retire_links(std::byte* block) noexcept {
    if constexpr (kSafeUnlink) {
      // Unchecked stores: under ASan the header left behind lies in bytes the free has just poisoned.
      internal::store_word<std::uintptr_t>(block + Tags::kHeaderSize, 0);
      internal::store_word<std::uintptr_t>(block + Tags::kHeaderSize + sizeof(void*), 0);
    }
  }

  // Safe unlinking's check of the header of the block the exact path takes whole (take_whole): a free block of exactly
  // `size` bytes. The head of an exact list got there through its predecessor's `next`, which safe unlinking accepts
  // when the word it points at points back: a live block whose owner keeps a pointer to that predecessor there (a
  // doubly linked list node whose neighbour was freed and then written through) became the list's head, and the exact
  // path, which read no tag, handed the live block out again. The header's line is written next anyway: one load and
  // one compare.
  NOSTD_HOT static void expect_exact_header(std::byte* block, std::size_t size) noexcept {
    if constexpr (kSafeUnlink) {
      if (Tags::used(block) || Tags::size(block) != size) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, node_of(block),
                                   "free list head is not a free block of its list's size (write after free?)"});
      }
    }
  }

  // Safe unlinking's check of the size carve splits free block `block` by, after its links: free_tags_agree (a size
  // that ends inside the block's region and a free header whose tags agree with it), as neighbours_sane checks a free
  // neighbour before a free merges with it.
  // Links that point back say nothing about the size: an overflow of the live block before `block` into its header (the
  // overlapping-chunk attack on a free block), or a write after free over its footer and a smaller size, made carve
  // split past the block's end into a live block, or leave part of the block on no list. The bound comes first, so
  // the footer read stays inside the region. A forger who also writes a matching footer at the forged end (inside the
  // live block after it) still passes; validate() compares the walk with the index. Not on the exact path
  // (take_whole), which hands out the request's size and checks only that the header says so (expect_exact_header:
  // no region lookup, no footer). A region lookup and one load, of
  // the footer's line, which a split writes anyway.
  NOSTD_HOT void expect_free_tags_intact(const std::byte* block) const noexcept {
    if constexpr (kSafeUnlink) {
      const RegionHeader* const region = region_of(block);
      if (region == nullptr || !free_tags_agree(block, region)) {
        fault_to_handler(HeapFault{AllocError::kCorrupted, node_of(const_cast<std::byte*>(block)),
                                   "free block's size does not match its tags (header overwritten?)"});
      }
    }
  }

  // A 64-bit hash of a block address (splitmix64's finaliser): validate() compares the sums of these over the free
  // blocks the walk finds and over the nodes the index holds.
  static std::uint64_t address_hash(const void* p) noexcept {
    std::uint64_t z = static_cast<std::uint64_t>(address(p)) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // validate_locked's and validate_cache_locked's answer for a corruption found at `bad_address`.
  static ValidateResult fault(const void* bad_address, const char* reason) noexcept {
    return std::unexpected<HeapFault>(HeapFault{AllocError::kCorrupted, bad_address, reason});
  }

  // Every pointer is checked before it is followed, so validate() reports the corruption it exists to find instead
  // of crashing on it: a region header's seal before its `next` and `end` are used, each block size against the
  // room left in its region before the walk steps over it, each index node (node_is_free_block) before its links
  // are read, and each link before the block it points at is read.
  //
  // Membership (every free block is on the index exactly once, and the index holds nothing else): both passes sum
  // address_hash over the free blocks they see; with equal counts, equal sums mean equal sets unless someone
  // solved for a 64-bit hash collision among addresses inside the heap. An exact test needs a mark per block
  // (memory validate() must not allocate) or O(blocks x free blocks) time; this is O(blocks) and allocates nothing.
  ValidateResult validate_locked() const noexcept {
    std::size_t capacity = 0, used_bytes = 0, free_bytes = 0, live = 0, live_over_aligned = 0, free_count = 0;
    std::uint64_t free_sum = 0;
    // `region` is regions_ (kept in the heap object) or the `next` of a header whose seal held.
    for (const RegionHeader* region = regions_; region != nullptr; region = region->next) {
      if (region->seal != region_seal(region)) return fault(region, "region header overwritten (its seal differs)");
      if (address(region->first) + Tags::kHeaderSize != first_payload_after(address(region)) ||
          region->end < region->first + kMinBlockSize || !is_aligned(region->end + Tags::kHeaderSize, kGranule)) {
        return fault(region, "region header's first or end block is misplaced");
      }
      capacity += static_cast<std::size_t>(region->end - region->first);
      if (capacity > capacity_) return fault(region, "regions hold more than the heap's capacity (region cycle?)");
      if (!Tags::prev_used(region->first)) return fault(region->first, "region prologue is not marked used");
      bool prev_free = false;
      const std::byte* block = region->first;
      while (block != region->end) {
        const std::size_t size = Tags::size(block);
        if (!plausible_size(size, static_cast<std::size_t>(region->end - block))) {
          return fault(block, "block size out of range (overwritten header?)");
        }
        if (Tags::prev_used(block) == prev_free) return fault(block, "prev-used flag disagrees with previous block");
        if (const char* why = Tags::check(block)) return fault(block, why);
        if (Tags::used(block)) {
          if (Tags::over_aligned(block) && !align_record_sane(block)) {
            return fault(block, "over-aligned block's alignment record is out of range (overflow past its end?)");
          }
          used_bytes += size;
          ++live;
          if (Tags::over_aligned(block)) ++live_over_aligned;
          prev_free = false;
        } else {
          if (prev_free) return fault(block, "two free blocks are adjacent");
          free_bytes += size;
          ++free_count;
          free_sum += address_hash(block + Tags::kHeaderSize);
          prev_free = true;
        }
        block += size;
      }
      if (Tags::size(region->end) != 0 || !Tags::used(region->end)) return fault(region->end, "end sentinel broken");
      if (Tags::prev_used(region->end) == prev_free)
        return fault(region->end, "end sentinel's prev-used flag is wrong");
    }
    if (capacity != capacity_) return fault(regions_, "capacity counter disagrees with the blocks");
    if constexpr (kCaching) {
      if (ValidateResult cache = validate_cache_locked(); !cache) return cache;
      const CachedTotals cached = cached_totals();
      used_bytes -= cached.bytes;
      live -= cached.count;
    }
    if (used_bytes != used_block_bytes() || live != live_blocks() || live_over_aligned != live_over_aligned_)
      return fault(regions_, "in-use counters disagree with the blocks");
    // Only a caching heap counts its free bytes; without a cache they are the capacity less the used bytes, which
    // the two checks above have already compared with the blocks.
    if constexpr (kCaching) {
      if (free_bytes != free_block_bytes()) return fault(regions_, "free-byte counter disagrees with the blocks");
    }
    if (free_count != index_.count()) return fault(regions_, "free index count differs from the free blocks");

    // The index pass: the visitor vouches for each node before the index reads its links (FitIndex's for_each
    // contract), and links_intact vouches for each neighbour before reading it.
    const void* bad = nullptr;
    const char* why = nullptr;
    std::size_t indexed = 0;
    std::uint64_t indexed_sum = 0;
    auto is_free_block = [this](const internal::FreeNode* listed) { return node_is_free_block(listed); };
    const bool complete = index_.for_each(
        [&](const internal::FreeNode* listed) {
          ++indexed;
          bad = listed;
          if (!node_is_free_block(listed)) {
            why = "free index holds a pointer that is not a free block of the heap";
          } else if (!links_intact(listed, is_free_block)) {
            why = "free list links are inconsistent (a neighbour is no free block or does not point back)";
          } else {
            indexed_sum += address_hash(listed);
          }
          return why == nullptr;
        },
        free_count);
    if (why != nullptr) return fault(bad, why);
    if (!complete || indexed != free_count) return fault(bad, "free index is longer than the free blocks (cycle?)");
    if (indexed_sum != free_sum) {
      return fault(regions_,
                   "free index and free blocks differ (an indexed node is no block start, or a free block "
                   "is not indexed)");
    }
    if constexpr (kHardenedLevel) return validate_contents_locked();
    return {};
  }

  // The cache pass of validate(): every bin holds its count of blocks, each a used block of the heap of the bin's
  // size that is not over-aligned, ends inside its region with consistent tags (CompactTags: the next header's
  // prev-used flag; FullTags: its footer) and whose link and key match the seal; nothing follows them; the counters
  // agree; and every entry is a block the walk steps on (below).
  //
  // It reads no live block's payload: those bytes are the owner's, and another thread may be writing them while
  // validate() holds the lock (//tests:heap_threads_test under --config=tsan reported exactly that when the walk
  // asked each used block of a bin's size whether its first two words read as sealed, and summed the address hashes
  // of those that did against the bins'). Membership is counted from the other side instead: a second walk over the
  // blocks (sound by now) looks each used block of a bin's size up in its bin (on_cache_bin: pointer compares over
  // nodes this pass has vouched for). Entries are distinct (a repeat would be a cycle, caught as a bin longer than
  // its count, and a block fits one bin only), so as many blocks found on a bin as entries means every entry is a
  // block start. Without it, a consistent block forged inside a live one, which BasicChecks' O(1) free accepts and
  // the cache then seals, would pass: its tags are what the free checked, and the counters moved as for any cached
  // block. O(small used blocks x Cache::kDepth).
  ValidateResult validate_cache_locked() const noexcept {
    std::size_t count = 0, bytes = 0;
    for (std::size_t bin = 0; bin < kCacheBins; ++bin) {
      const CachedNode* node = cache_.heads[bin];
      for (std::size_t i = 0; i < cache_.counts[bin]; ++i) {
        if (node == nullptr || !node_in_heap(reinterpret_cast<const internal::FreeNode*>(node))) {
          return fault(node, "cache bin holds a pointer that is no block of the heap (or ends before its count)");
        }
        const std::byte* const block = reinterpret_cast<const std::byte*>(node) - Tags::kHeaderSize;
        const std::size_t size = cache_bin_size(bin);
        if (!Tags::used(block) || Tags::size(block) != size || Tags::over_aligned(block)) {
          return fault(block, "cached block's header is not that of a used block of its bin's size");
        }
        // node_in_heap placed the node in a region's payload range, so region_of finds the block's region.
        const RegionHeader* const region = region_of(block);
        if (region == nullptr || static_cast<std::size_t>(region->end - block) < size || !used_tags_sane(block, size)) {
          return fault(block, "cached block's tags are inconsistent (it overruns its region, or was overwritten)");
        }
        if (node->key != cache_seal(node->next)) {
          return fault(node, "cached block was written after it was freed (its link or key changed)");
        }
        ++count;
        bytes += size;
        node = node->next;
      }
      if (node != nullptr) return fault(node, "cache bin is longer than its count (overwritten link or cycle)");
    }
    if (const CachedTotals totals = cached_totals(); count != totals.count || bytes != totals.bytes) {
      return fault(regions_, "cache counts disagree with the cache bins");
    }
    std::size_t found = 0;
    for (const RegionHeader* region = regions_; region != nullptr; region = region->next) {
      for (const std::byte* block = region->first; block != region->end; block += Tags::size(block)) {
        if (Tags::used(block) && on_cache_bin(block)) ++found;
      }
    }
    if (found != count) {
      return fault(regions_, "a cache bin holds no block start (a block forged inside another was freed into it)");
    }
    return {};
  }

  [[no_unique_address]] Source source_{};
  Index index_{};
  [[no_unique_address]] mutable Lock lock_{};
  RegionHeader* regions_ = nullptr;
  bool initialized_ = false;
  // HardenedChecks and up: the key of the block checks, drawn on first use. DebugChecks and up: the canary bytes of
  // the live blocks (stats() reports requested bytes). Empty, and free, below those levels.
  struct Absent {};
  [[no_unique_address]] std::conditional_t<kHardenedLevel, std::uint64_t, Absent> key_{};
  [[no_unique_address]] std::conditional_t<kDebugLevel, std::size_t, Absent> slack_bytes_{};
  std::size_t capacity_ = 0;
  std::size_t in_use_bytes_ = 0;  // Σ usable_size over the live blocks (before DebugChecks' slack): bytes_in_use()
  // Σ size over the free blocks, counted only in a caching heap, where it tells the cached bytes from the free ones;
  // without a cache it is capacity less the used blocks, and a call skips one or two counter updates.
  struct NoFreeCount {};
  [[no_unique_address]] std::conditional_t<kCaching, std::size_t, NoFreeCount> free_block_bytes_{};
  std::size_t live_over_aligned_ = 0;  // live blocks carrying an alignment record (one payload byte each)
  std::size_t peak_bytes_in_use_ = 0;
  std::size_t total_allocations_ = 0;
  std::size_t total_frees_ = 0;
  std::size_t failed_allocations_ = 0;
  // The cache policy's bins (a head and a count per block size). Empty, and free,
  // without a cache.
  // (Its own empty type when absent: two empty members of one type must have distinct addresses, so sharing Absent
  // with key_ and slack_bytes_ would cost bytes.)
  struct CacheBins {
    CachedNode* heads[kCacheBins > 0 ? kCacheBins : 1];
    std::uint8_t counts[kCacheBins > 0 ? kCacheBins : 1];
    std::uintptr_t secret;  // cache_seal's (note_newest_region)
    std::uintptr_t lo;      // payload range of the newest region: [lo, lo + span)
    std::size_t span;
    std::size_t near_granules;  // cache_free's window: payloads fewer than this many granules past lo (BasicChecks)
    std::uintptr_t hull_lo;     // the hull of every region's payload range: [hull_lo, hull_lo + hull_span)
    std::size_t hull_span;
    std::uintptr_t high_water;  // highest block end handed out in the newest region (cache_raises_mark)
  };
  struct NoCacheBins {};
  [[no_unique_address]] std::conditional_t<kCaching, CacheBins, NoCacheBins> cache_{};
};

}  // namespace nostd
