// alloc/concepts/fit_policy.h — the FitPolicy concept: which free block serves a request.
//
// A fit policy owns the index of free blocks (one list, a rover, size classes, ...) as a class template
// `Index<Tags>`; the heap core owns the blocks themselves (tags, splitting, coalescing) and tells the index when
// a block becomes free or stops being free.
//
// Safe unlinking: before the core removes a free block from the index (to allocate it or to merge it), at every
// check level above NoChecks, it asks whether the block's links are intact, so that a use-after-free write to a
// free block's links cannot steer the removal into writing through a forged pointer (glibc's check since 2004).
// An index answers with an optional member
//
//   template <class InHeap> bool links_intact(const FreeNode* node, InHeap&& in_heap) const noexcept;
//
// true when every neighbour that `remove(node)` would write through points back at `node`. `in_heap(const
// FreeNode*) -> bool` is the core's test that a pointer lies at a granule-aligned payload address inside the
// heap (in validate(): that it is the links of a consistent free block); the index must call it on a neighbour
// before reading it. The core passes the links of a free block, which pass `in_heap` unless the heap is already
// corrupt (internal::next_link_intact, the indexes' shared test of a successor, probes `node` itself when it has no
// successor, and answers false for one outside the heap). Ends of its lists that live in the index itself (nullptr, a
// head pointer, a sentinel node inside the index object, a bin table) the index checks against its own state, without
// `in_heap`. An index without the member gets the core's generic check, internal::free_node_links_intact: neighbours
// are nullptr or in the heap and point back. That is right for nullptr-terminated FreeNode lists but weaker (a first
// node is not checked against the head), and it rejects sentinels outside the heap: an index with sentinel heads, or
// links other than FreeNode's, must provide the member. validate() asks the same question of every indexed block.
//
// Walks: a search (`find`) or a `for_each` that reads a block through a `next` link past a list head reads memory a
// write after free may have pointed anywhere. From BasicChecks up the core's `fits` predicate and stats()'s visitor
// offer `bool may_follow(const FreeNode* from, const FreeNode* to)`, which an index asks before it reads `to`
// (internal::may_follow, which compiles to true for a callable without it): the core's reports a link out of the heap,
// or one whose target does not point back, as kCorrupted at `from`; false ends the walk. The shipped fits ask it for
// every link they follow; a head (which the index holds) needs no check. NextFit's rover, a link later searches start
// from, only ever takes a link so checked (alloc/fit/next_fit.h).
#pragma once

#include <concepts>
#include <cstddef>

#include "alloc/block/compact_tags.h"
#include "alloc/concepts/role.h"
#include "alloc/internal/free_node.h"

namespace nostd {

namespace internal {
/// The predicate type the concept probes `find` with: does a block of this size at this node fit the request?
struct ProbeFits {
  bool operator()(FreeNode*, std::size_t) const noexcept { return true; }
};
/// The visitor type the concept probes `for_each` with.
struct ProbeVisit {
  bool operator()(const FreeNode*) const noexcept { return true; }
};
/// The pointer test the core probes `links_intact` with.
struct ProbeInHeap {
  bool operator()(const FreeNode*) const noexcept { return true; }
};
}  // namespace internal

/// Requirements on the index a fit policy keeps for tag layout `Tags`. `for_each(visit, limit)` visits at most
/// `limit` nodes and must call `visit(node)` before it reads `node`'s links, so that validate(), which returns
/// false on a node it cannot vouch for, is never led through a corrupted link.
template <class I>
concept FitIndex = std::default_initializable<I> &&
    requires(I& index, const I& cindex, internal::FreeNode* node, std::size_t size) {
  index.insert(node, size);                                                          // O(1) for every shipped fit
  index.remove(node, size);                                                          // O(1) for every shipped fit
  { index.find(size, internal::ProbeFits{}) } -> std::same_as<internal::FreeNode*>;  // nullptr: nothing fits
  { cindex.count() } -> std::same_as<std::size_t>;
  { cindex.for_each(internal::ProbeVisit{}, size) } -> std::same_as<bool>;
};

/// A FitIndex with its own safe-unlinking check (see the file comment); without it the core's generic check runs.
template <class I>
concept HasLinksIntact = requires(const I& index, const internal::FreeNode* node) {
  { index.links_intact(node, internal::ProbeInHeap{}) } -> std::same_as<bool>;
};

/// A FitIndex with exact lists: `exact(need)` returns a free block of exactly `need` bytes in O(1) (the head of a
/// list that holds that one size), or nullptr when there is none or `need` has no such list. The core then takes
/// the block whole, with no search and no split (its allocate fast path), and unlinks it with
/// `remove_exact(node, need)`, which may skip what `remove` must work out (the node's list, its predecessor);
/// otherwise it calls `find`. `kExactLimit` bounds the sizes `exact` answers (it returns nullptr from there up): the
/// core's allocate_zeroed relies on it, since a block the exact path takes does not raise the cache's high-water mark.
template <class I>
concept HasExactLists = requires(I& index, const I& const_index, std::size_t size, internal::FreeNode* node) {
  { const_index.exact(size) } -> std::same_as<internal::FreeNode*>;
  index.remove_exact(node, size);
  { I::kExactLimit } -> std::convertible_to<std::size_t>;
};

/// A FitIndex whose good-fit list heads the core can take without `find`: `good_head(need)` returns `{node, list}`,
/// the head of a list every block of which holds `need` bytes (the block `find(need, ...)` would return) or a null
/// node (also for a request an index with exact lists leaves to `exact`: HasExactGoodHeads), and
/// `remove_head({node, list})` unlinks that head without working out its list again. The core checks the head with
/// `good_head_intact` where the index has it (HasGoodHeadIntact; else a null `prev` and `links_intact`), and splits it
/// as it does find's.
template <class I>
concept HasGoodHeads = requires(I& index, const I& const_index, std::size_t size, typename I::GoodHead head) {
  { const_index.good_head(size) } -> std::same_as<typename I::GoodHead>;
  { head.node } -> std::same_as<internal::FreeNode*&>;
  { head.list } -> std::same_as<std::size_t&>;
  index.remove_head(head);
};

/// A FitIndex with good heads whose `good_head<true>(need)` also answers a request that `good_head(need)` leaves to
/// exact lists: the head of the request's exact list, a block of exactly `need` bytes, with that list. The core asks it
/// where its exact path (`exact`, taking the block whole without carve's sealing, filling and poisoning) is off: from
/// HardenedChecks up and under ASan or Valgrind; elsewhere it asks `exact` and then `good_head(need)`, which need not
/// probe the list `exact` has just found empty. Without it such a request goes to `find` where the exact path is off.
template <class I>
concept HasExactGoodHeads = HasGoodHeads<I> && requires(const I& const_index, std::size_t size) {
  { const_index.template good_head<true>(size) } -> std::same_as<typename I::GoodHead>;
};

/// A FitIndex that hands out a block a little larger than the request whole:
/// `split_threshold(need)` is the smallest tail the core splits off a block it allocates for `need` bytes (a tail
/// must also be a minimum block); a smaller excess stays in the allocation as slack that usable_size reports.
/// Without it the core splits every tail that can stand as a block.
template <class I>
concept HasSplitThreshold = requires(std::size_t size) {
  { I::split_threshold(size) } -> std::same_as<std::size_t>;
};

/// An index with exact lists and `exact_links_intact(node, in_heap)`: safe unlinking for a block `exact` (or
/// `good_head`) returned, known to be its list's head, so that its `prev` must be null and the index need not find the
/// node's list again; without it the core asks links_intact (or the generic check).
template <class I>
concept HasExactLinksIntact = HasExactLists<I> && requires(const I& index, const internal::FreeNode* node) {
  { index.exact_links_intact(node, internal::ProbeInHeap{}) } -> std::same_as<bool>;
};

/// An index with good heads and `good_head_intact(head, in_heap)`: safe unlinking for a block `good_head` returned,
/// which the core splits by the size in its header: its `prev` must be null, its successor must point back, and that
/// size must name the list it was taken from (a size forged by a write after free would carve into the next block).
/// Without it the core requires a null `prev` and asks links_intact (or the generic check).
template <class I>
concept HasGoodHeadIntact = HasGoodHeads<I> && requires(const I& index, typename I::GoodHead head) {
  { index.good_head_intact(head, internal::ProbeInHeap{}) } -> std::same_as<bool>;
};

/// A fit strategy: `policy_role` is `role::Fit` and `Index<Tags>` is a FitIndex.
template <class F>
concept FitPolicy = HasRole<F, role::Fit> && requires {
  typename F::template Index<CompactTags>;
} && FitIndex<typename F::template Index<CompactTags>>;

namespace internal {

/// Fails to compile with one line naming the first FitPolicy requirement `F` misses, and returns true
/// either way: the static_assert inside reports, so the caller's `static_assert` on the result adds no second error.
template <class F>
consteval bool diagnose_fit_policy() {
  if constexpr (!HasRole<F, role::Fit>) {
    static_assert(dependent_false<F>, "FitPolicy: missing `using policy_role = nostd::role::Fit;`");
  } else if constexpr (!requires { typename F::template Index<CompactTags>; }) {
    static_assert(dependent_false<F>, "FitPolicy: missing member class template `Index<Tags>`");
  } else if constexpr (!requires(typename F::template Index<CompactTags> & index, FreeNode * node) {
                         index.insert(node, std::size_t{});
                         index.remove(node, std::size_t{});
                       }) {
    static_assert(dependent_false<F>, "FitPolicy: Index is missing `insert(FreeNode*, size_t)` or `remove(...)`");
  } else if constexpr (!requires(typename F::template Index<CompactTags> & index) {
                         { index.find(std::size_t{}, ProbeFits{}) } -> std::same_as<FreeNode*>;
                       }) {
    static_assert(dependent_false<F>, "FitPolicy: Index is missing `FreeNode* find(size_t need, Fits fits)`");
  } else if constexpr (!FitPolicy<F>) {
    static_assert(dependent_false<F>,
                  "FitPolicy: Index is missing `count()`, `for_each(visit, limit)` or a default constructor");
  }
  return true;
}

/// The index a heap keeps for fit `Fit`, tags `Tags` and a source of `HeapBytes` (0: not known at compile time):
/// `Fit::SizedIndex<Tags, HeapBytes>` when the policy offers one (it sizes its control block to the heap, as
/// SegregatedFit does), else `Fit::Index<Tags>`.
template <class Fit, class Tags, std::size_t HeapBytes>
struct FitIndexFor {
  using type = typename Fit::template Index<Tags>;
};
template <class Fit, class Tags, std::size_t HeapBytes>
requires requires { typename Fit::template SizedIndex<Tags, HeapBytes>; }
struct FitIndexFor<Fit, Tags, HeapBytes> {
  using type = typename Fit::template SizedIndex<Tags, HeapBytes>;
};

}  // namespace internal
}  // namespace nostd
