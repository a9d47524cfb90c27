// alloc/concepts/fit_policy.h — the FitPolicy concept: which free block serves a request.
//
// A fit policy owns the index of free blocks (one list, a rover, size classes, ...) as a class template
// `Index<Tags>`; the heap core owns the blocks themselves (tags, splitting, coalescing) and tells the index when
// a block becomes free or stops being free.
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
}  // namespace internal

/// Requirements on the index a fit policy keeps for tag layout `Tags`.
template <class I>
concept FitIndex = std::default_initializable<I> &&
    requires(I& index, const I& cindex, internal::FreeNode* node, std::size_t size) {
  index.insert(node, size);                                                          // O(1) for every shipped fit
  index.remove(node, size);                                                          // O(1) for every shipped fit
  { index.find(size, internal::ProbeFits{}) } -> std::same_as<internal::FreeNode*>;  // nullptr: nothing fits
  { cindex.count() } -> std::same_as<std::size_t>;
  { cindex.for_each(internal::ProbeVisit{}, size) } -> std::same_as<bool>;
};

/// A fit strategy: `policy_role` is `role::Fit` and `Index<Tags>` is a FitIndex.
template <class F>
concept FitPolicy = HasRole<F, role::Fit> && requires {
  typename F::template Index<CompactTags>;
} && FitIndex<typename F::template Index<CompactTags>>;

namespace internal {

/// Fails to compile with one line naming the first FitPolicy requirement `F` misses; true when satisfied.
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
  return FitPolicy<F>;
}

}  // namespace internal
}  // namespace nostd
