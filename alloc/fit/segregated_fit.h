// alloc/fit/segregated_fit.h — SegregatedFit: two-level segregated free lists indexed by bitmaps, O(1) find.
//
// Terms. The free blocks are kept on `kListCount` LIFO lists. The lists are grouped `Lists` to a *class*: class 0
// covers [0, kSmallLimit) in `Lists` equal steps (exact bins: one block size per list by default), class k >= 1
// covers [kSmallLimit * 2^(k-1), kSmallLimit * 2^k) in `Lists` equal steps. One bit per class says "some list of
// this class is non-empty" (the first-level bitmap), one bit per list says "this list is non-empty" (a
// second-level word per class). Finding a list is two count-trailing-zeros, never a walk over blocks.
//
// The size -> (class, list) mapping of `SegregatedFit<>`. G is the heap granule (16 on x86_64, riscv64 and bare-metal
// rv32imac, where clang and picolibc align max_align_t to 16; 8 on Cortex-M); L, the lists per class, defaults to 32
// on 64-bit targets and 16 on 32-bit ones (kDefaultSegregatedLists); S = kSmallLimit = L G (on rv32imac, G=16 and
// L=16: S = 256, classes [0, 256) and [256, 512) of 16-byte steps, then [512, 1024) of 32, ...):
//
//   block size (bytes)      class   list step      lists hold          64-bit (G=16, L=32)   Cortex-M (G=8, L=16)
//   [0, S)                  0       G              exactly one size    32 .. 496             16 .. 120
//   [S, 2 S)                1       G              exactly one size    512 .. 1008           128 .. 248
//   [2 S, 4 S)              2       2 G            2 sizes             1 .. 2 KiB            256 .. 504
//   [S 2^(k-1), S 2^k)      k       G 2^(k-1)      2^(k-1) sizes       k = 3: 2 .. 4 KiB     k = 3: 512 .. 1016
//
// List index (flat, class * Lists + list) of a block size s, with u = s / (kSmallLimit / Lists) and
// L = log2(Lists): shift = max(bit_width(u), L + 1) - (L + 1); index = shift * Lists + (u >> shift). No branch.
//
// Good fit. A request of `need` bytes is rounded up to the next list boundary before the lists are searched, so
// every block on the list found is at least `need`: allocation takes that list's head without looking at any
// other block. Fragmentation this implies, worst case:
//   - internal: at most need / SlackShare bytes (need: the block size the request takes, tags included; 1/32 by
//     default) besides the heap's usual slack (tags, granule rounding, a tail under the minimum block). The block
//     taken is split down to `need` unless the tail would be at most need / SlackShare: then it is handed out whole
//     (split_threshold). Good fit takes a block from a list above the request's, usually a few percent larger, and
//     splitting off that sliver costs a tail block, its list insert and, at the next free, a merge: lines the heap
//     writes without having read them, which is what workload b of //bench:fit_compare waits on (README, issue
//     11's "Techniques tried"). The slack matters from blocks of 32 minimum blocks up (1 KiB on 64-bit targets,
//     512 B on 32-bit ones), and the core takes none from DebugChecks up or under ASan or Valgrind.
//   - choice: a free block on the request's own list that would have fitted is passed over for one on a higher
//     list, i.e. blocks up to one list step (1/L of the size: 3.1 % with 32 lists, 6.25 % with 16) above the
//     request can be skipped. When no higher list has a block, the head of the request's own list is probed as a last
//     resort, so a request is refused only when that head is too small as well. The last list is the exception where
//     it also holds blocks above the largest size the index tells apart (a region larger than `LargestBlock`, or above
//     4 GiB with pointer-sized tags: kLastListUnbounded), so a request no head serves walks it (first fit) rather than
//     be refused while a block there fits.
//
// Bounds (steps, not blocks): insert and remove touch one list head and two bitmap words. find for a request
// with the heap's default alignment does one list-index computation, at most two bitmap lookups and one head
// probe, plus the last-resort probe when nothing larger is free. Before it calls find, the core asks exact() (one
// load) for a request below the exact lists' limit (up to BasicChecks, outside ASan and Valgrind; elsewhere
// good_head<true> answers such a request with the same head) and good_head() (one list-index computation, one load)
// for a larger one: when the list they name holds a block, no bitmap is read. An over-aligned request (the core's
// `fits` predicate rejects a head whose payload cannot be aligned inside it) moves on to the head of the next non-empty
// list: every block at least need + align + kMinBlockSize is certain to fit, so at most one probe per non-empty
// list between `need` and that size (at most kListCount probes in all), whatever the number of free blocks. A request
// that no head serves walks the last list before it is refused where that list's blocks are unbounded above ("choice"
// above): at most capacity / its floor blocks, only on that path, and no walk at all in a heap sized to its source.
//
// Control block (the index inside BasicHeap): one list head per list, a bitmap word per class, one first-level
// word, a count and one scratch node (the write target for a missing list neighbour, so unlinking needs no branch). The
// number of classes follows from the largest block the heap can hold: the source's size when the source knows it at
// compile time (StaticArraySource, MmapSource), else `LargestBlock`, else 4 GiB (capped by the tag width). Measured
// sizes (sizeof the index, tests/segregated_fit_test.cc):
//
//   configuration                                               classes  lists   control block
//   SegregatedFit<> over StaticArraySource<64 KiB>, 32-bit (L=16)     10      160     696 B
//   SegregatedFit<> over StaticArraySource<64 KiB>, 64-bit (L=32)      8      256    2,112 B
//   SegregatedFit<> over RegionSource (4 GiB), 32-bit (L=16)          26      416    1,784 B
//   SegregatedFit<> over RegionSource (4 GiB), 64-bit (L=32)          24      768    6,272 B
//   SegregatedFit<0, 16> over RegionSource (4 GiB), 64-bit            25      400    3,328 B
//
// Lists are nullptr-terminated with a head-pointer array (not circular lists with sentinel heads): the whole
// control block is zero when empty, so a `constinit` heap stays in .bss (sentinels pointing at themselves would
// move it to .data, costing its size in flash on a microcontroller, and double it: two pointers per list).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "alloc/concepts/role.h"
#include "alloc/internal/free_node.h"
#include "alloc/internal/optimize.h"
#include "alloc/layout.h"

namespace nostd {

/// SegregatedFit's default lists per class: 32 on 64-bit targets, 16 on 32-bit ones. 32 lists pass over less
/// (TLSF's default; on the workload "churn, medium" of //bench:fit_compare, touched / peak live 1.035 against 1.045
/// with 16) and run 1.1-1.2x faster on a, b and e, on i386 as on x86_64 (README, "Lists per class on a 32-bit
/// target"); they double the list heads, which a microcontroller's heap pays in RAM: on Cortex-M a 64 KiB heap's
/// control block is 696 B with 16 lists and 1,204 B with 32, a 4 KiB heap's 424 and 676 B.
inline constexpr std::size_t kDefaultSegregatedLists = sizeof(void*) >= 8 ? 32 : 16;

/// Two-level segregated fit (the TLSF family) with good-fit rounding: allocation takes the head of the first
/// non-empty list whose every block fits, found with two bitmap lookups; free pushes onto one list. Both O(1),
/// independent of the number of free blocks (the bounds are in the file comment).
///
/// Tuning (each checked by a static_assert that gives the reason):
///   - `LargestBlock`: the largest block the index must tell apart (bytes, 0 = derive it: the source's size when
///     known at compile time, else 4 GiB, capped by the tag width). It sets the number of classes and so the
///     control block size. A larger block is still kept and found, on the last list.
///   - `Lists`: lists per class (power of two, 4..32; default kDefaultSegregatedLists). More lists pack memory
///     closer to best fit (a request passes over blocks at most 1/Lists larger than itself) and cost a larger
///     control block.
///   - `SmallLimit`: the end of class 0 (bytes, 0 = Lists × granule, so that every list below 2 × SmallLimit
///     holds exactly one block size). Larger values give class 0 coarser steps and fewer classes.
///   - `SlackShare`: a block found for a request of `need` bytes that is at most need / SlackShare larger is handed
///     out whole instead of split (0: split every tail that can stand as a block, as the list fits do). 32 by
///     default: on workload b of //bench:fit_compare (blocks of 16 B .. 8 KiB) it cut the write misses per
///     allocate + free by a third and raised the throughput 1.1-1.2x, for touched / peak live 1.035 -> 1.039; on
///     64-bit targets a and e, whose blocks are under 32 minimum blocks, never take such a slack (README, issue 11).
///     Measured on x86_64 and i386 (README, "Lists per class on a 32-bit target"), not on a microcontroller.
///
/// Trade-off: constant-time allocation and free at the price of a control block (hundreds of bytes to a few KiB,
/// table in the file comment), of passing over a block on the request's own list that would fit, and of up to
/// 1/SlackShare of a request handed out as slack.
template <std::size_t LargestBlock = 0, std::size_t Lists = kDefaultSegregatedLists, std::size_t SmallLimit = 0,
          std::size_t SlackShare = 32>
struct SegregatedFit {
  using policy_role = role::Fit;

  /// The heap granule (BasicHeap::kGranule): block sizes are multiples of it.
  static constexpr std::size_t kGranule = std::max<std::size_t>(alignof(std::max_align_t), 8);
  /// Lists per class.
  static constexpr std::size_t kLists = Lists;
  /// Whether Lists is in range (a power of two in 4..32): the checks that follow from it apply only then, so that a
  /// bad Lists fails with its own line alone.
  static constexpr bool kListsValid = is_power_of_two(Lists) && Lists >= 4 && Lists <= 32;
  /// Lists where the sizes divide or multiply by it: 1 for Lists = 0, so that the static_assert on Lists is its only
  /// error (a division by zero and four errors after it had followed it).
  static constexpr std::size_t kListsOrOne = Lists == 0 ? 1 : Lists;
  /// End of class 0: sizes below it are spread over class 0's lists in equal steps.
  static constexpr std::size_t kSmallLimit = SmallLimit == 0 ? kListsOrOne * kGranule : SmallLimit;
  /// The size step of class 0's lists (and of class 1's).
  static constexpr std::size_t kSmallStep = kSmallLimit / kListsOrOne;
  /// A block at most need / kSlackShare larger than the request is handed out whole (0: never).
  static constexpr std::size_t kSlackShare = SlackShare;

  static_assert(kListsValid,
                "SegregatedFit: Lists must be a power of two in 4..32 (a class's list bitmap is one 32-bit word; "
                "fewer than 4 lists per class pass over blocks up to half again as large as the request)");
  // Checked only once Lists is valid: the default SmallLimit is Lists x granule, so a bad Lists alone would fail
  // this check too, a second error for a parameter the user did not give.
  static_assert(!kListsValid || (is_power_of_two(kSmallLimit) && kSmallLimit >= Lists * kGranule),
                "SegregatedFit: SmallLimit must be a power of two of at least Lists x granule, so that every list "
                "step is a whole number of granules (block sizes are multiples of the granule)");
  static_assert(SlackShare == 0 || (SlackShare >= 2 && SlackShare <= 65536),
                "SegregatedFit: SlackShare must be 0 (always split) or 2..65536 (a block at most 1/SlackShare larger "
                "than the request is handed out whole; 1 would hand out blocks twice the request)");
  static_assert(LargestBlock == 0 || LargestBlock >= 2 * kSmallLimit,
                "SegregatedFit: LargestBlock below 2 x SmallLimit leaves nothing for the size classes to index; "
                "lower SmallLimit or Lists");

  /// Flat list index of a block of `size` bytes (class × Lists + list), before clamping to the last list.
  /// The mapping of the file comment: no branch, one bit_width.
  NOSTD_HOT static constexpr std::size_t unclamped_list_of(std::size_t size) noexcept {
    return list_of_units(size / kSmallStep);
  }

  /// The smallest block size list `index` holds (its lower bound).
  static constexpr std::size_t list_floor(std::size_t index) noexcept {
    const std::size_t cls = index / Lists;
    const std::size_t sub = index % Lists;
    if (cls == 0) return sub * kSmallStep;
    return (kSmallLimit << (cls - 1)) + sub * (kSmallStep << (cls - 1));
  }

  /// The first list every block of which holds `need` bytes: `need` rounded up to the next list boundary
  /// (good fit). At or past an index's kListCount when `need` is above its last list's floor. Works in units of the
  /// small step, so that no size near SIZE_MAX can wrap.
  NOSTD_HOT static constexpr std::size_t list_for_request(std::size_t need) noexcept {
    const std::size_t units = need / kSmallStep + (need % kSmallStep != 0 ? 1 : 0);
    // need's own list, plus one unless need sits on that list's floor (no bits below the list step): the list after
    // a class's last is the next class's first, so one bit_width serves both.
    const std::size_t shift = shift_of(units);
    return shift * Lists + (units >> shift) + ((units & ((std::size_t{1} << shift) - 1)) != 0 ? 1 : 0);
  }

 private:
  static constexpr std::size_t kListsLog2 = static_cast<std::size_t>(std::countr_zero(Lists));

  // log2 of the list step (in small steps) of the class holding `units` small steps: 0 for classes 0 and 1.
  NOSTD_HOT static constexpr std::size_t shift_of(std::size_t units) noexcept {
    const std::size_t width = static_cast<std::size_t>(std::bit_width(units));
    return std::max(width, kListsLog2 + 1) - (kListsLog2 + 1);
  }
  // The flat index of a size of `units` small steps: shift * Lists + (units >> shift).
  NOSTD_HOT static constexpr std::size_t list_of_units(std::size_t units) noexcept {
    const std::size_t shift = shift_of(units);
    return shift * Lists + (units >> shift);
  }

 public:
  /// The free-block index of a heap with tag layout `Tags` whose blocks are at most `HeapBytes` (0: unknown).
  /// BasicHeap picks this form (through internal::FitIndexFor) so that the control block fits the source.
  template <class Tags, std::size_t HeapBytes = 0>
  class SizedIndex {
    static constexpr std::size_t pick_largest() {
      std::size_t largest = LargestBlock != 0 ? LargestBlock : std::numeric_limits<std::size_t>::max();
      if (HeapBytes != 0) largest = std::min(largest, HeapBytes);
      if (LargestBlock == 0 && HeapBytes == 0) {
        largest = static_cast<std::size_t>(std::min<std::uint64_t>(std::uint64_t{1} << 32, largest));
      }
      return std::min(largest, Tags::kMaxBlockSize);
    }

   public:
    /// The largest block size this index tells apart; larger blocks share the last list.
    static constexpr std::size_t kLargestBlock = pick_largest();

    /// Number of size classes: enough for a block of kLargestBlock bytes.
    static constexpr std::size_t kClasses = unclamped_list_of(kLargestBlock - 1) / kListsOrOne + 1;
    /// Number of lists (kClasses × Lists).
    static constexpr std::size_t kListCount = kClasses * kListsOrOne;
    /// Requests below this have an exact list (exact()): classes 0 and 1, less the index's last list when it is one
    /// of them (an index of one or two classes: a heap of at most 2 × kSmallLimit bytes, or LargestBlock = 2 ×
    /// kSmallLimit), since the last list also holds every larger block (list_of's clamp). Taking that list's head
    /// whole as a block of the request's size cut a larger block short (found by a review: SegregatedFit<1024> over a
    /// RegionSource, allocate(1000) on 64-bit).
    static constexpr std::size_t kExactLimit = std::min(2 * kSmallLimit, (kListCount - 1) * kSmallStep);

    /// Whether a free block can be larger than kLargestBlock: a `LargestBlock` below the source's size or the tag
    /// width, or the default over a source of unknown size with pointer-sized tags (a region above 4 GiB). Such blocks
    /// share the last list (list_of's clamp), whose head then says nothing about the blocks behind it, so find walks
    /// that list before it refuses a request (first_fit_on_last_list). Otherwise every block is at most kLargestBlock
    /// (a region is never larger than its source, and the core splits one larger than the tag width), the last list's
    /// range bounds its blocks as every list's does, and no walk is compiled in (the Cortex-M4 budget's 928 B).
    static constexpr bool kLastListUnbounded =
        kLargestBlock <
        std::min(HeapBytes == 0 ? std::numeric_limits<std::size_t>::max() : HeapBytes, Tags::kMaxBlockSize);

    // (Checked once Lists is valid: Lists below 4 makes many classes, a second error after Lists' own.)
    static_assert(!kListsValid || kClasses <= 64,
                  "SegregatedFit: the first-level bitmap is one 64-bit word (64 classes at most)");

    /// The list a free block of `size` bytes lives on. O(1), no branch (the clamp is a conditional move).
    NOSTD_HOT static constexpr std::size_t list_of(std::size_t size) noexcept {
      return std::min(unclamped_list_of(size), kListCount - 1);
    }

    /// The smallest tail the heap splits off a block it allocates for a request of `need` bytes (optional FitIndex
    /// member, HasSplitThreshold; the core also requires a tail to be a minimum block). A smaller excess stays in the
    /// allocation: at most need / kSlackShare bytes.
    NOSTD_HOT static constexpr std::size_t split_threshold(std::size_t need) noexcept {
      if constexpr (SlackShare == 0) {
        return 0;
      } else {
        return need / SlackShare + 1;
      }
    }

    constexpr SizedIndex() noexcept = default;

    /// Adds a free block of `size` bytes at the head of its list (most recently freed is reused first). O(1).
    NOSTD_HOT void insert(internal::FreeNode* node, std::size_t size) noexcept {
      const std::size_t index = list_of(size);
      internal::FreeNode* const head = heads_[index];
      node->next = head;
      node->prev = nullptr;
      sink(head)->prev = node;
      heads_[index] = node;
      first_level_ |= FirstLevelWord{1} << (index / Lists);
      second_level_[index / Lists] |= std::uint32_t{1} << (index % Lists);
      ++count_;
    }

    /// Removes a free block of `size` bytes (the size it was inserted with). O(1).
    NOSTD_HOT void remove(internal::FreeNode* node, std::size_t size) noexcept {
      const std::size_t index = list_of(size);
      internal::FreeNode* const next = node->next;
      internal::FreeNode* const prev = node->prev;
      // Branch-free: whether a neighbour is null, and whether the list or the class empties, are data the churn of
      // a heap makes random, so branches on them mispredict about once per call (measured with callgrind's
      // branch simulation); selects and masks do not.
      *(prev != nullptr ? &prev->next : &heads_[index]) = next;
      sink(next)->prev = prev;
      std::uint32_t& word = second_level_[index / Lists];
      word &= ~(std::uint32_t{heads_[index] == nullptr} << (index % Lists));
      first_level_ &= ~(FirstLevelWord{word == 0} << (index / Lists));
      --count_;
    }

    /// Safe unlinking (optional FitIndex member, alloc/concepts/fit_policy.h): true when removing `node` would only
    /// write through links that point back at it: `prev->next == node`, or, for the first node of a list, the
    /// list's head slot holding `node` (the list is picked from `node`'s block size, as remove picks it);
    /// `next->prev == node` or no next. Each neighbour passes `in_heap` before it is read. O(1).
    template <class InHeap>
    NOSTD_HOT bool links_intact(const internal::FreeNode* node, InHeap&& in_heap) const noexcept {
      const internal::FreeNode* const prev = node->prev;
      if (prev == nullptr) {
        if (heads_[list_of(internal::node_block_size<Tags>(node))] != node) return false;
      } else if (!in_heap(prev) || prev->next != node) {
        return false;
      }
      return internal::next_link_intact(node, in_heap);
    }

    /// A free block of at least `need` bytes for which `fits(node, size)` holds, or nullptr: the head of the
    /// first non-empty list at or above `need` rounded up to a list boundary. When `fits` rejects a head
    /// (over-aligned requests), the heads of the following non-empty lists are probed in order; when no list
    /// above has a block, the head of `need`'s own list is probed, and last, when the last list has no upper bound
    /// (kLastListUnbounded), its blocks (first_fit_on_last_list). Bounded by kListCount probes, one for a request
    /// `fits` always accepts (see the file comment), plus that walk for a request no head serves.
    template <class Fits>
    NOSTD_HOT internal::FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      for (std::size_t index = next_non_empty(list_for_request(need)); index < kListCount;
           index = next_non_empty(index + 1)) {
        internal::FreeNode* const head = heads_[index];
        if (fits(head, internal::node_block_size<Tags>(head))) return head;
      }
      // Last resort: blocks on need's own list may be large enough though its floor is below need.
      const std::size_t own = list_of(need);
      internal::FreeNode* const head = heads_[own];
      if (head != nullptr && (!kLastListUnbounded || own != kListCount - 1)) {
        const std::size_t size = internal::node_block_size<Tags>(head);
        if (size >= need && fits(head, size)) return head;
      }
      if constexpr (kLastListUnbounded) {
        return first_fit_on_last_list(need, fits);
      } else {
        return nullptr;
      }
    }

    /// A free block of exactly `need` bytes, or nullptr: the head of need's list when that list holds one block size
    /// only (classes 0 and 1 with the default SmallLimit: blocks under 2 × Lists granules, kExactLimit). Optional
    /// FitIndex member (HasExactLists): the core's allocate takes such a block whole, without `find`'s bitmap search
    /// and without a split. One compare and one load.
    NOSTD_HOT internal::FreeNode* exact(std::size_t need) const noexcept {
      if constexpr (kSmallStep == kGranule) {
        if (need < kExactLimit) return heads_[need / kSmallStep];
      }
      return nullptr;
    }

    /// Removes the block exact(need) returned, which heads need's list: remove without finding the list again
    /// (no bit_width) and without the test for a predecessor (a head has none). Optional FitIndex member
    /// (HasExactLists). O(1). Precondition: `node` is what exact(need) returned (non-null) and is still the head;
    /// for any other block, call remove.
    NOSTD_HOT void remove_exact(internal::FreeNode* node, std::size_t need) noexcept {
      remove_head(GoodHead{node, need / kSmallStep});
    }

    /// A list's head and the list's flat index (good_head's answer).
    struct GoodHead {
      internal::FreeNode* node;  ///< the head, or nullptr
      std::size_t list;          ///< its list
    };

    /// The head of the first list every block of which holds `need` bytes (list_for_request), when that list is not
    /// empty, with the list's index; else a null node. It is the block `find` would return when that list holds one,
    /// without find's bitmap search. Optional FitIndex member (HasGoodHeads): the core takes the block and splits it as
    /// it does find's, and unlinks it with remove_head. One list-index computation and one load.
    ///
    /// A request with an exact list (below kExactLimit, when lists step by the granule) gets a null node from
    /// good_head<false>, the default: exact() serves it where the core's exact path runs, and has just found that list
    /// empty when good_head is asked. good_head<true> (HasExactGoodHeads) answers it too, with the head of its exact
    /// list, a block of exactly `need` bytes (list_for_request of a size below 2 × kSmallLimit is its own list): the
    /// core asks that where its exact path is off (from HardenedChecks up, under ASan or Valgrind), and takes the
    /// block whole through carve, which seals, fills and poisons it as the level requires, instead of going to find.
    template <bool kWithExact = false>
    NOSTD_HOT GoodHead good_head(std::size_t need) const noexcept {
      const std::size_t list = list_for_request(need);
      if ((!kWithExact && kSmallStep == kGranule && need < kExactLimit) || list >= kListCount) return {nullptr, 0};
      return {heads_[list], list};
    }

    /// Removes the head `head.node` of list `head.list` (good_head's answer, or exact()'s block with its list):
    /// remove without finding the list again (no bit_width) and without the test for a predecessor. Optional FitIndex
    /// member (HasGoodHeads). O(1). Precondition: `head.node` is non-null and still heads that list.
    NOSTD_HOT void remove_head(GoodHead head) noexcept {
      const std::size_t index = head.list;
      internal::FreeNode* const next = head.node->next;
      heads_[index] = next;
      sink(next)->prev = nullptr;
      std::uint32_t& word = second_level_[index / Lists];
      word &= ~(std::uint32_t{next == nullptr} << (index % Lists));
      first_level_ &= ~(FirstLevelWord{word == 0} << (index / Lists));
      --count_;
    }

    /// links_intact for a block exact() returned, which was its exact list's head: a head's `prev` is nullptr, and the
    /// successor points back. links_intact's head test (the node's list found from its size, its head compared) is
    /// what exact() just did, and the exact path hands out exactly the request's size (the core checks that the header
    /// says so, without working out its list); skipping it saves a `bit_width` and a load on the fast path. A good
    /// head, split by its size, is checked by good_head_intact.
    template <class InHeap>
    NOSTD_HOT bool exact_links_intact(const internal::FreeNode* node, InHeap&& in_heap) const noexcept {
      return node->prev == nullptr && internal::next_link_intact(node, in_heap);
    }

    /// Safe unlinking for good_head's block, which the core splits by the size in its header (optional FitIndex
    /// member, HasGoodHeadIntact): a head's `prev` is nullptr, the successor points back, and the header's size names
    /// the list the head was taken from, as links_intact's head test does. exact_links_intact leaves the size out: the
    /// exact path hands out exactly the request's size without reading it. Without this test a write after free that
    /// enlarged a free head's size made the core carve into the block after it (found by a review: HardenedChecks,
    /// allocate(84) took a 96-byte head forged to 320 bytes, and the next allocate returned a live block's address).
    template <class InHeap>
    NOSTD_HOT bool good_head_intact(GoodHead head, InHeap&& in_heap) const noexcept {
      return head.node->prev == nullptr && list_of(internal::node_block_size<Tags>(head.node)) == head.list &&
             internal::next_link_intact(head.node, in_heap);
    }

    /// Number of free blocks indexed.
    std::size_t count() const noexcept { return count_; }

    /// Visits every indexed block, list by list (at most `limit`); false when stopped early, past the limit, or
    /// when the index disagrees with itself (a block on the wrong list for its size, a bitmap bit that disagrees
    /// with its list). `visit` sees each node before anything is read through it, so a validator can check the
    /// pointer first; a visitor that offers `may_follow` (stats()'s, from BasicChecks up) vouches for each `next`
    /// link before its target is visited (internal::may_follow), and a refused link stops the walk (false).
    template <class Visit>
    bool for_each(Visit&& visit, std::size_t limit) const noexcept {
      std::size_t seen = 0;
      for (std::size_t cls = 0; cls < kClasses; ++cls) {
        // A class's first-level bit says whether any of its lists holds a block: find trusts it to skip the class.
        if ((((first_level_ >> cls) & 1u) != 0) != (second_level_[cls] != 0)) return false;
      }
      for (std::size_t index = 0; index < kListCount; ++index) {
        const bool listed = ((second_level_[index / Lists] >> (index % Lists)) & 1u) != 0;
        // (A listed list's class bit is set: the class check above implies it.)
        if (listed != (heads_[index] != nullptr)) return false;
        for (const internal::FreeNode* node = heads_[index]; node != nullptr; node = node->next) {
          if (++seen > limit || !visit(node)) return false;
          if (list_of(internal::node_block_size<Tags>(node)) != index) return false;
          if (node->next != nullptr && !internal::may_follow(visit, node, node->next)) return false;
        }
      }
      return true;
    }

   private:
    using FirstLevelWord = std::conditional_t<(kClasses <= 32), std::uint32_t, std::uint64_t>;

    // Where a write to a list neighbour's `prev` goes: the neighbour, or the scratch node when there is none, so
    // that linking and unlinking need no branch on nullptr (a conditional move instead). The scratch node is
    // written, never read, and never appears in a list; it is zero when the heap is empty, so a `constinit` heap
    // stays in .bss (what per-list sentinel heads would not allow: see the file comment).
    NOSTD_HOT internal::FreeNode* sink(internal::FreeNode* neighbour) noexcept {
      return neighbour != nullptr ? neighbour : &scratch_;
    }

    // find's step when no list head fits: the first block of the last list for which `fits` holds, walking it (at most
    // count() nodes, so a cyclic list cannot hang the search; from HardenedChecks up the core's `fits` reports the
    // cycle as kCorrupted before this bound ends the walk with nullptr). The last list also holds every block above
    // kLargestBlock (list_of's clamp: SegregatedFit<1024> over a 64 KiB region, or a region above 4 GiB with
    // pointer-sized tags and the default), so its blocks have no upper bound and its head says nothing about the
    // others. Probing the head alone, a free block of 1,100 bytes at the head made every request above the last list's
    // floor fail with kOutOfMemory while a 62 KiB block sat behind it, and an over-aligned request whose alignment that
    // head could not give failed too. The walk is the first fit these requests would get from FirstFit: O(blocks on
    // the last list), only for a request no list head serves; every other request keeps find's bound. Each block there
    // is at least the last list's floor (over 3/4 of kLargestBlock), so the walk visits at most capacity / floor of
    // them. Compiled in only where blocks can exceed kLargestBlock (kLastListUnbounded).
    // Unlike the head probes, the walk reads blocks through `next` links a write after free may have forged: where
    // `fits` offers `may_follow(from, to)` (the core's, from BasicChecks up), each link is vouched for before it is
    // followed (internal::checked_next, as the list fits' searches do), as safe unlinking vouches for the links it
    // writes through.
    template <class Fits>
    internal::FreeNode* first_fit_on_last_list(std::size_t need, Fits& fits) noexcept {
      internal::FreeNode* node = heads_[kListCount - 1];
      for (std::size_t seen = 0; node != nullptr && seen < count_; ++seen) {
        const std::size_t size = internal::node_block_size<Tags>(node);
        if (size >= need && fits(node, size)) return node;
        node = internal::checked_next(fits, node);  // nullptr at a refused link, as at the list's end
      }
      return nullptr;
    }

    // The first non-empty list at or after `from`, or kListCount: two count-trailing-zeros, no loop.
    NOSTD_HOT std::size_t next_non_empty(std::size_t from) const noexcept {
      if (from >= kListCount) return kListCount;
      std::size_t cls = from / Lists;
      std::uint32_t lists = second_level_[cls] & (~std::uint32_t{0} << (from % Lists));
      if (lists == 0) {
        // Classes above `cls`; (2 << cls) - 1 wraps to all ones for the top bit, which is what is wanted.
        const FirstLevelWord above = first_level_ & ~((FirstLevelWord{2} << cls) - 1);
        if (above == 0) return kListCount;
        cls = static_cast<std::size_t>(std::countr_zero(above));
        lists = second_level_[cls];
      }
      return cls * Lists + static_cast<std::size_t>(std::countr_zero(lists));
    }

    // Hot fields first: the bitmaps a search reads sit together ahead of the list heads.
    FirstLevelWord first_level_ = 0;
    std::uint32_t second_level_[kClasses] = {};
    std::size_t count_ = 0;
    internal::FreeNode* heads_[kListCount] = {};
    internal::FreeNode scratch_ = {};
  };

  /// The index for tag layout `Tags` when the heap's size is not known (FitPolicy's `Index<Tags>`).
  template <class Tags>
  using Index = SizedIndex<Tags, 0>;
};

}  // namespace nostd
