// SegregatedFit on its own: the size -> list mapping and its good-fit rounding for several tunings, the control
// block sizes the header documents, the bound on the blocks find looks at, and the index's bookkeeping against
// blocks written with real tags.
#include "alloc/fit/segregated_fit.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"

namespace nostd::testing {
namespace {

using internal::FreeNode;

template <class Fit>
class SegregatedMapping : public ::testing::Test {};
using Tunings = ::testing::Types<SegregatedFit<>, SegregatedFit<0, 4>, SegregatedFit<0, 32>,
                                 SegregatedFit<64 * 1024, 4, 256>, SegregatedFit<0, 8, 1024>>;
TYPED_TEST_SUITE(SegregatedMapping, Tunings);

// Every block size lands on the list whose [floor, next floor) holds it, and a request is mapped to the first
// list whose floor is at least the request (so the head of that list always fits, and no lower list would).
TYPED_TEST(SegregatedMapping, EverySizeIsOnTheListThatHoldsItAndRequestsRoundToTheNextBoundary) {
  using Fit = TypeParam;
  using Index = typename Fit::template SizedIndex<CompactTags, std::size_t{1} << 30>;
  const std::size_t g = Fit::kGranule;
  for (std::size_t size = g; size < Index::kLargestBlock; size += (size < 65536 ? g : 97 * g)) {
    const std::size_t list = Index::list_of(size);
    ASSERT_LE(Fit::list_floor(list), size) << size;
    ASSERT_GT(Fit::list_floor(list + 1), size) << size;
    ASSERT_EQ(Fit::list_floor(list) % g, 0u) << "list floors are whole granules";
    const std::size_t request = Fit::list_for_request(size);
    ASSERT_GE(Fit::list_floor(request), size) << size;
    ASSERT_LT(Fit::list_floor(request - 1), size) << size;
    // A request on a list boundary takes its own list; any other request the next one.
    ASSERT_EQ(request, Fit::list_floor(list) == size ? list : list + 1) << size;
  }
}

// The passed-over margin: a list's step is at most 1/Lists of its floor (above class 0).
TYPED_TEST(SegregatedMapping, ListStepIsAtMostOneListsthOfItsFloor) {
  using Fit = TypeParam;
  for (std::size_t list = Fit::kLists; list < 40 * Fit::kLists; ++list) {
    const std::size_t step = Fit::list_floor(list + 1) - Fit::list_floor(list);
    EXPECT_LE(step * Fit::kLists, Fit::list_floor(list)) << list;
  }
}

TEST(SegregatedFit, RequestsNearSizeMaxDoNotWrap) {
  using Fit = SegregatedFit<>;
  const std::size_t huge = std::numeric_limits<std::size_t>::max() & ~std::size_t{15};
  EXPECT_GE(Fit::list_for_request(huge), Fit::SizedIndex<CompactTags>::kListCount);
}

// A heap no larger than SmallLimit has one class (16 lists) while exact() serves requests up to 2 x SmallLimit: a
// request past its lists must find no exact list (before, exact() read past its list heads, into the scratch node
// that branch-free unlinking writes, and took a stale block) and fail as out of memory, the heap intact.
TEST(SegregatedFit, ARequestPastATinyHeapsListsIsOutOfMemory) {
  using Fit = SegregatedFit<>;
  using Heap = BasicHeap<Fit, StaticArraySource<Fit::kSmallLimit>>;
  static_assert(Fit::SizedIndex<CompactTags, Fit::kSmallLimit>::kClasses == 1);
  auto heap = std::make_unique<Heap>();
  // Allocations and frees that link and unlink list neighbours, so that the scratch node holds links.
  std::vector<void*> live;
  for (int i = 0; i < 4; ++i) {
    Result<void*> p = heap->allocate(8);
    ASSERT_TRUE(p.has_value());
    live.push_back(*p);
    ASSERT_TRUE(valid(*heap));
  }
  heap->deallocate(live[0]);
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(live[2]);
  ASSERT_TRUE(valid(*heap));
  for (std::size_t size = Fit::kSmallLimit; size < 2 * Fit::kSmallLimit; size += Fit::kGranule) {
    Result<void*> p = heap->allocate(size);
    EXPECT_FALSE(p.has_value()) << size;
    if (!p) {
      EXPECT_EQ(p.error(), AllocError::kOutOfMemory) << size;
    }
    ASSERT_TRUE(valid(*heap)) << size;
  }
  heap->deallocate(live[1]);
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(live[3]);
  ASSERT_TRUE(valid(*heap));
}

// The control block follows the largest block the heap can hold; the sizes are the table of the header comment.
TEST(SegregatedFit, ControlBlockFollowsTheSourceSize) {
  using Small = SegregatedFit<>::SizedIndex<CompactTags, 64 * 1024>;
  using Default = SegregatedFit<>::Index<CompactTags>;
  using Narrow = SegregatedFit<>::Index<BasicCompactTags<std::uint16_t>>;
  if constexpr (sizeof(void*) == 8 && SegregatedFit<>::kGranule == 16) {
    EXPECT_EQ(SegregatedFit<>::kLists, 32u) << "64-bit targets default to 32 lists per class";
    EXPECT_EQ(Small::kClasses, 8u);
    EXPECT_EQ(sizeof(Small), 2112u);
    EXPECT_EQ(Default::kClasses, 24u);
    EXPECT_EQ(sizeof(Default), 6272u);
    EXPECT_EQ(sizeof(SegregatedFit<0, 16>::Index<CompactTags>), 3328u);
  } else if constexpr (sizeof(void*) == 4 && SegregatedFit<>::kGranule == 8) {
    EXPECT_EQ(SegregatedFit<>::kLists, 16u) << "32-bit targets default to 16 lists per class";
    EXPECT_EQ(Small::kClasses, 10u);
    EXPECT_EQ(sizeof(Small), 696u);
    EXPECT_EQ(Default::kClasses, 26u);
    EXPECT_EQ(sizeof(Default), 1784u);
  }
  // 16-bit tags hold blocks under 64 KiB: the index needs no more classes than for a 64 KiB array.
  EXPECT_EQ(Narrow::kClasses, Small::kClasses);
  // BasicHeap picks the sized index for a source that knows its size.
  using StaticHeap = BasicHeap<SegregatedFit<>, StaticArraySource<64 * 1024>>;
  using RegionHeap = BasicHeap<SegregatedFit<>, RegionSource>;
  EXPECT_LT(sizeof(StaticHeap) - 64 * 1024, sizeof(RegionHeap));
  // An explicit LargestBlock sizes a region heap's index.
  EXPECT_EQ((SegregatedFit<64 * 1024>::Index<CompactTags>::kClasses), Small::kClasses);
}

// Free blocks written with real tags in a buffer, indexed directly (no heap): what find looks at.
template <class Fit = SegregatedFit<>>
class BasicIndexBench {
 public:
  using Tags = CompactTags;
  using Index = typename Fit::template SizedIndex<Tags, std::size_t{1} << 24>;
  static constexpr std::size_t kG = Fit::kGranule;

  explicit BasicIndexBench(std::size_t bytes) : buffer_(new std::byte[bytes + kG]), end_(bytes) {}

  /// Formats a free block of `size` bytes at the next free offset and indexes it; returns its node.
  FreeNode* add(std::size_t size) {
    std::byte* block = base() + used_;
    used_ += size;
    Tags::make_free(block, size);
    FreeNode* node = reinterpret_cast<FreeNode*>(block + Tags::kHeaderSize);
    index_.insert(node, size);
    return node;
  }
  bool room_for(std::size_t size) const { return used_ + size <= end_; }
  Index& index() { return index_; }
  /// Where `node`'s block lies in the buffer (nullptr: SIZE_MAX), to compare two benches filled alike.
  std::size_t offset(const FreeNode* node) {
    if (node == nullptr) return SIZE_MAX;
    return static_cast<std::size_t>(reinterpret_cast<const std::byte*>(node) - Tags::kHeaderSize - base());
  }

 private:
  std::byte* base() {
    // Blocks start kHeaderSize before a granule boundary, as in a heap, so that nodes are granule-aligned.
    auto addr = reinterpret_cast<std::uintptr_t>(buffer_.get());
    return buffer_.get() + (align_up(addr + Tags::kHeaderSize, kG) - Tags::kHeaderSize - addr);
  }
  std::unique_ptr<std::byte[]> buffer_;
  std::size_t end_;
  std::size_t used_ = 0;
  Index index_;
};
using IndexBench = BasicIndexBench<>;

TEST(SegregatedFit, FindLooksAtOneBlockWhateverTheNumberOfFreeBlocks) {
  auto bench = std::make_unique<IndexBench>(std::size_t{2} << 20);  // fits the Cortex-M board's 15 MiB heap
  SplitMix64 rng(11);
  std::size_t added = 0;
  while (true) {
    const std::size_t size = align_up(rng.log_size(5, 11), IndexBench::kG);
    if (!bench->room_for(size)) break;
    bench->add(size);
    ++added;
  }
  ASSERT_GT(added, 3'000u);
  ASSERT_EQ(bench->index().count(), added);
  for (int i = 0; i < 10'000; ++i) {
    const std::size_t need = align_up(rng.log_size(5, 11), IndexBench::kG);
    std::size_t probes = 0;
    FreeNode* found = bench->index().find(need, [&probes](FreeNode*, std::size_t) {
      ++probes;
      return true;
    });
    ASSERT_NE(found, nullptr) << need;
    EXPECT_GE(internal::node_block_size<CompactTags>(found), need);
    EXPECT_EQ(probes, 1u) << "need " << need;
  }
}

TEST(SegregatedFit, RejectedHeadsMoveTheSearchToTheNextNonEmptyListOnly) {
  auto bench = std::make_unique<IndexBench>(std::size_t{1} << 20);
  const std::size_t g = IndexBench::kG;
  // Three lists in use: 20 blocks of 40 G, 20 of 42 G, one of 200 G.
  for (int i = 0; i < 20; ++i) bench->add(40 * g);
  for (int i = 0; i < 20; ++i) bench->add(42 * g);
  FreeNode* large = bench->add(200 * g);
  std::size_t probes = 0;
  FreeNode* found = bench->index().find(40 * g, [&](FreeNode* node, std::size_t) {
    ++probes;
    return node == large;  // as an over-aligned request rejects heads it cannot align inside
  });
  EXPECT_EQ(found, large);
  EXPECT_EQ(probes, 3u) << "one head per non-empty list, not one per block";
}

TEST(SegregatedFit, RemoveKeepsListsAndBitmapsInStep) {
  auto bench = std::make_unique<IndexBench>(std::size_t{1} << 20);
  const std::size_t g = IndexBench::kG;
  std::vector<std::pair<FreeNode*, std::size_t>> nodes;
  SplitMix64 rng(3);
  for (int i = 0; i < 300; ++i) {
    const std::size_t size = align_up(rng.log_size(5, 11), g);
    nodes.emplace_back(bench->add(size), size);
  }
  auto all_listed = [&] { return bench->index().for_each([](const FreeNode*) { return true; }, nodes.size()); };
  ASSERT_TRUE(all_listed());
  // Remove heads, tails and middles alike, in a scrambled order.
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto [node, size] = nodes[(i * 7919) % nodes.size()];
    bench->index().remove(node, size);
    ASSERT_EQ(bench->index().count(), nodes.size() - i - 1);
    ASSERT_TRUE(bench->index().for_each([node](const FreeNode* n) { return n != node; }, nodes.size()));
  }
  EXPECT_EQ(bench->index().find(g * 2, [](FreeNode*, std::size_t) { return true; }), nullptr);
}

// for_each checks each listed block against its list (validate() counts on it): a block whose header was overwritten
// after it was indexed with another list's size (a write after free) makes for_each report the index inconsistent.
TEST(SegregatedFit, ForEachReportsABlockWhoseHeaderNamesAnotherList) {
  auto bench = std::make_unique<IndexBench>(std::size_t{1} << 20);
  const std::size_t g = IndexBench::kG;
  bench->add(4 * g);
  FreeNode* forged = bench->add(40 * g);
  bench->add(6 * g);
  auto consistent = [&] { return bench->index().for_each([](const FreeNode*) { return true; }, 3); };
  ASSERT_TRUE(consistent());
  ASSERT_NE(IndexBench::Index::list_of(4 * g), IndexBench::Index::list_of(40 * g));
  // The new size lies inside the block, so its footer does too.
  IndexBench::Tags::make_free(reinterpret_cast<std::byte*>(forged) - IndexBench::Tags::kHeaderSize, 4 * g);
  EXPECT_FALSE(consistent());
}

// remove_exact pops what exact() returned, as remove would: the next block of the list becomes its head, and the
// bitmap bits clear when the list empties (for_each checks the bits against the lists), class by class.
TEST(SegregatedFit, RemoveExactPopsTheHeadOfAnExactList) {
  auto bench = std::make_unique<IndexBench>(std::size_t{1} << 20);
  const std::size_t g = IndexBench::kG;
  // Three blocks of one exact size, one of another in the same class, one in class 1 (exact there too).
  const std::size_t upper_size = SegregatedFit<>::kSmallLimit + 2 * g;
  FreeNode* first = bench->add(4 * g);
  FreeNode* second = bench->add(4 * g);
  FreeNode* third = bench->add(4 * g);
  FreeNode* other = bench->add(6 * g);
  FreeNode* upper = bench->add(upper_size);
  IndexBench::Index& index = bench->index();
  auto consistent = [&] { return index.for_each([](const FreeNode*) { return true; }, 5); };
  ASSERT_EQ(index.exact(4 * g), third);  // most recently freed first
  index.remove_exact(third, 4 * g);
  EXPECT_TRUE(consistent());
  EXPECT_EQ(index.count(), 4u);
  EXPECT_EQ(index.exact(4 * g), second);
  EXPECT_EQ(second->prev, nullptr) << "the new head has no predecessor";
  index.remove_exact(second, 4 * g);
  index.remove_exact(first, 4 * g);
  EXPECT_TRUE(consistent());
  EXPECT_EQ(index.exact(4 * g), nullptr);
  // The class still has a block: find reaches it for a request of the emptied size.
  EXPECT_EQ(index.find(4 * g, [](FreeNode*, std::size_t) { return true; }), other);
  index.remove_exact(other, 6 * g);
  EXPECT_TRUE(consistent());
  // Class 0 is empty now; its bits must say so, so that find goes on to class 1.
  EXPECT_EQ(index.find(4 * g, [](FreeNode*, std::size_t) { return true; }), upper);
  ASSERT_EQ(index.exact(upper_size), upper);
  index.remove_exact(upper, upper_size);
  EXPECT_TRUE(consistent());
  EXPECT_EQ(index.count(), 0u);
  EXPECT_EQ(index.find(g * 2, [](FreeNode*, std::size_t) { return true; }), nullptr);
}

// Fills two benches alike with up to `count` free blocks of 2 .. max_granules - 1 granules (the same sizes, drawn
// from `rng`); returns how many each holds (fewer when the buffer is full).
template <class Bench>
std::size_t fill_alike(Bench& a, Bench& b, SplitMix64& rng, int count, std::size_t max_granules) {
  std::size_t added = 0;
  for (int i = 0; i < count; ++i) {
    const std::size_t size = Bench::kG * static_cast<std::size_t>(rng.range(2, max_granules - 1));
    if (!a.room_for(size)) break;
    a.add(size);
    b.add(size);
    ++added;
  }
  return added;
}

// remove_exact leaves the index as remove would, for every tuning: two benches filled alike, one popping exact
// heads with remove and the other with remove_exact, answer exact() and find() alike for every size after each pop
// (find reads both bitmap levels), and for_each finds both consistent (it checks the bits of both levels against
// the lists). Tunings whose class 0 steps are coarser than the granule have no exact lists.
TYPED_TEST(SegregatedMapping, RemoveExactLeavesTheIndexAsRemoveWould) {
  using Bench = BasicIndexBench<TypeParam>;
  using Index = typename Bench::Index;
  static_assert(HasExactLists<Index> && HasExactLinksIntact<Index>, "the core's fast path must see the exact lists");
  const std::size_t g = Bench::kG;
  const std::size_t largest = std::min<std::size_t>(Index::kExactLimit, 64 * g);
  auto by_remove = std::make_unique<Bench>(std::size_t{1} << 20);
  auto by_remove_exact = std::make_unique<Bench>(std::size_t{1} << 20);
  SplitMix64 rng(5);
  std::size_t listed = fill_alike(*by_remove, *by_remove_exact, rng, 400, largest / g);
  ASSERT_EQ(listed, 400u);
  auto fits = [](FreeNode*, std::size_t) { return true; };
  for (int pop = 0; pop < 600 && listed > 0; ++pop) {
    const std::size_t size = g * static_cast<std::size_t>(rng.range(2, largest / g - 1));
    FreeNode* const a = by_remove->index().exact(size);
    FreeNode* const b = by_remove_exact->index().exact(size);
    ASSERT_EQ(by_remove->offset(a), by_remove_exact->offset(b)) << size;
    if (TypeParam::kSmallStep != g) {
      ASSERT_EQ(a, nullptr) << "no exact lists with a class 0 step of " << TypeParam::kSmallStep;
      continue;
    }
    if (a == nullptr) continue;
    by_remove->index().remove(a, size);
    by_remove_exact->index().remove_exact(b, size);
    --listed;
    ASSERT_EQ(by_remove_exact->index().count(), listed);
    ASSERT_TRUE(by_remove_exact->index().for_each([b](const FreeNode* n) { return n != b; }, listed));
    for (std::size_t probe = 2 * g; probe < 2 * largest; probe += g) {
      ASSERT_EQ(by_remove->offset(by_remove->index().exact(probe)),
                by_remove_exact->offset(by_remove_exact->index().exact(probe)))
          << "after popping " << size << ", exact(" << probe << ")";
      ASSERT_EQ(by_remove->offset(by_remove->index().find(probe, fits)),
                by_remove_exact->offset(by_remove_exact->index().find(probe, fits)))
          << "after popping " << size << ", find(" << probe << ")";
    }
    if (FreeNode* const head = by_remove_exact->index().exact(size)) {
      EXPECT_EQ(head->prev, nullptr);
    }
  }
}

// good_head answers with the block find would return whenever the request's good-fit list holds one, and a null
// node otherwise or where exact() answers (the exact lists), and remove_head leaves the index as remove would: two
// benches filled alike, one popping good heads with remove and the other with remove_head, answer good_head and
// find alike for every probed size after each pop, and for_each finds both consistent. Sizes reach 16 times past
// the exact lists, so that classes of two sizes and more per list are popped, for every tuning. good_head<true>
// answers as good_head does, and for a request with an exact list with exact()'s block, its own list's head (the core
// asks it where its exact path is off).
TYPED_TEST(SegregatedMapping, GoodHeadIsFindsBlockAndRemoveHeadLeavesTheIndexAsRemoveWould) {
  using Bench = BasicIndexBench<TypeParam>;
  using Index = typename Bench::Index;
  using Tags = typename Bench::Tags;
  static_assert(HasGoodHeads<Index>, "the core's second fast path must see good_head");
  static_assert(HasExactGoodHeads<Index>, "where the exact path is off, the second fast path must see good_head<true>");
  const std::size_t g = Bench::kG;
  const std::size_t high = 16 * std::max<std::size_t>(Index::kExactLimit, 64 * g);
  auto exact_serves = [g](std::size_t need) { return TypeParam::kSmallStep == g && need < Index::kExactLimit; };
  // 5 MiB each: the largest tuning lists its 300 blocks in 4.5 MiB (host), and both benches fit the Cortex-M board's
  // 15 MiB malloc heap (two of 8 MiB did not: operator new failed there and the suite stopped).
  auto by_remove = std::make_unique<Bench>(std::size_t{5} << 20);
  auto by_remove_head = std::make_unique<Bench>(std::size_t{5} << 20);
  SplitMix64 rng(11);
  std::size_t listed = fill_alike(*by_remove, *by_remove_head, rng, 300, high / g);
  auto fits = [](FreeNode*, std::size_t) { return true; };
  std::size_t popped = 0;
  for (int pop = 0; pop < 2000 && listed > 0; ++pop) {
    const std::size_t size = g * static_cast<std::size_t>(rng.range(2, high / g - 1));
    const auto a = by_remove->index().good_head(size);
    const auto b = by_remove_head->index().good_head(size);
    ASSERT_EQ(by_remove->offset(a.node), by_remove_head->offset(b.node)) << size;
    FreeNode* const found = by_remove->index().find(size, fits);
    const auto with_exact = by_remove->index().template good_head<true>(size);
    if (exact_serves(size)) {
      ASSERT_EQ(a.node, nullptr) << "exact() answers " << size;
      // good_head<true>: the exact list's head, a block of exactly `size` bytes, and then the block find takes.
      ASSERT_EQ(with_exact.node, by_remove->index().exact(size)) << size;
      ASSERT_EQ(with_exact.list, Index::list_of(size)) << size;
      if (with_exact.node != nullptr) {
        ASSERT_EQ(with_exact.node, found) << size;
        ASSERT_EQ(internal::node_block_size<Tags>(with_exact.node), size);
        // Popped with remove_head on one bench, as the core's carve<true> does, remove on the other.
        by_remove->index().remove(with_exact.node, size);
        by_remove_head->index().remove_head(by_remove_head->index().template good_head<true>(size));
        --listed;
        ASSERT_EQ(by_remove_head->index().count(), listed);
        ASSERT_TRUE(by_remove_head->index().for_each([](const FreeNode*) { return true; }, listed));
        ASSERT_TRUE(by_remove->index().for_each([](const FreeNode*) { return true; }, listed));
      }
      continue;
    }
    ASSERT_EQ(with_exact.node, a.node) << size;
    ASSERT_EQ(with_exact.list, a.list) << size;
    if (a.node == nullptr) {
      // The good-fit list is empty: find's block, if any, lies on another list.
      if (found != nullptr) {
        ASSERT_NE(Index::list_of(internal::node_block_size<Tags>(found)), TypeParam::list_for_request(size)) << size;
      }
      continue;
    }
    ASSERT_EQ(a.node, found) << size;
    ASSERT_EQ(a.list, b.list);
    ASSERT_EQ(a.list, TypeParam::list_for_request(size));
    const std::size_t block_size = internal::node_block_size<Tags>(a.node);
    ASSERT_GE(block_size, size);
    by_remove->index().remove(a.node, block_size);
    by_remove_head->index().remove_head(b);
    --listed;
    ++popped;
    ASSERT_EQ(by_remove_head->index().count(), listed);
    ASSERT_TRUE(by_remove_head->index().for_each([&b](const FreeNode* n) { return n != b.node; }, listed));
    ASSERT_TRUE(by_remove->index().for_each([](const FreeNode*) { return true; }, listed));
    for (std::size_t probe = 2 * g; probe < high; probe += 7 * g) {
      ASSERT_EQ(by_remove->offset(by_remove->index().good_head(probe).node),
                by_remove_head->offset(by_remove_head->index().good_head(probe).node))
          << "after popping " << size << ", good_head(" << probe << ")";
      ASSERT_EQ(by_remove->offset(by_remove->index().find(probe, fits)),
                by_remove_head->offset(by_remove_head->index().find(probe, fits)))
          << "after popping " << size << ", find(" << probe << ")";
    }
  }
  EXPECT_GT(popped, 50u) << "too few good heads popped to exercise remove_head";
}

// good_head<true> is optional (HasExactGoodHeads): an index whose good_head is a plain member has good heads, and the
// core then leaves a request with an exact list to find where its exact path is off.
struct PlainGoodHeads {
  struct GoodHead {
    FreeNode* node;
    std::size_t list;
  };
  GoodHead good_head(std::size_t) const noexcept { return {nullptr, 0}; }
  void remove_head(GoodHead) noexcept {}
};
static_assert(HasGoodHeads<PlainGoodHeads> && !HasExactGoodHeads<PlainGoodHeads>);

// A request past the last list's floor has no good-fit list: good_head answers a null node, and find still takes
// a large enough block from the last list, which also holds every block larger than the index tells apart. So the
// core falls back to find whenever good_head has nothing.
TEST(SegregatedFit, GoodHeadHasNoListPastTheLast) {
  using Bench = BasicIndexBench<SegregatedFit<64 * 1024>>;
  using Index = Bench::Index;
  const std::size_t g = Bench::kG;
  static_assert(Index::kLargestBlock == 64 * 1024);
  auto bench = std::make_unique<Bench>(std::size_t{1} << 20);
  FreeNode* const large = bench->add(68 * 1024);  // on the last list (list_of's clamp)
  const std::size_t need = 66 * 1024;
  EXPECT_EQ(bench->index().good_head(need).node, nullptr);
  EXPECT_EQ(bench->index().find(need, [](FreeNode*, std::size_t) { return true; }), large);
  EXPECT_EQ(bench->index().good_head(SIZE_MAX - g + 1).node, nullptr) << "no list index may wrap";
  // A request on the last list's floor: every block there holds it, the clamped ones above kLargestBlock too.
  const std::size_t last_floor = SegregatedFit<64 * 1024>::list_floor(Index::kListCount - 1);
  const auto at_floor = bench->index().good_head(last_floor);
  EXPECT_EQ(at_floor.node, large);
  EXPECT_EQ(at_floor.list, Index::kListCount - 1);
  // One granule past that floor: the first request whose good-fit list is the one past the last (kListCount itself),
  // which has no head to read (UBSan's bounds check, --config=asan, sees a read of heads_[kListCount]).
  ASSERT_EQ(SegregatedFit<64 * 1024>::list_for_request(last_floor + g), Index::kListCount);
  EXPECT_EQ(bench->index().good_head(last_floor + g).node, nullptr);
  EXPECT_EQ(bench->index().good_head<true>(last_floor + g).node, nullptr);
  FreeNode* const exact = bench->add(Index::kExactLimit - g);
  EXPECT_EQ(bench->index().good_head(Index::kExactLimit - g).node, nullptr) << "exact() answers this one";
  EXPECT_EQ(bench->index().exact(Index::kExactLimit - g), exact);
  // Where the core's exact path is off it asks good_head<true>, which answers with the same head and its list.
  const auto with_exact = bench->index().good_head<true>(Index::kExactLimit - g);
  EXPECT_EQ(with_exact.node, exact);
  EXPECT_EQ(with_exact.list, Index::list_of(Index::kExactLimit - g));
  EXPECT_EQ(bench->index().good_head<true>(need).node, nullptr) << "past the last list's floor, as good_head";
}

// The heap's good-head path on the last list: a heap larger than SegregatedFit<64 KiB>'s largest block keeps its
// free tail on the last list (the clamp), and a request on that list's floor takes the tail's head and splits it.
// At three check levels (the good-head path runs at each; HardenedChecks also seals the block with its check word).
template <class Check>
void allocate_on_the_last_lists_floor() {
  using Fit = SegregatedFit<64 * 1024>;
  using Heap = BasicHeap<Fit, RegionSource, Check>;
  using Index = Fit::SizedIndex<typename Heap::Tags, 0>;
  std::vector<std::byte> memory(std::size_t{512} << 10);
  auto heap = std::make_unique<Heap>(std::span<std::byte>(memory));
  const std::size_t floor = Fit::list_floor(Index::kListCount - 1);
  Result<void*> small = heap->allocate(100);  // the tail stays one free block above 64 KiB
  ASSERT_TRUE(small.has_value());
  ASSERT_TRUE(valid(*heap));
  Result<void*> p = heap->allocate(floor - Heap::Tags::kHeaderSize);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_GE(heap->usable_size(*p), floor - Heap::Tags::kHeaderSize);
  EXPECT_LE(heap->usable_size(*p), floor + floor / Fit::kSlackShare);  // split, not the ~440 KiB tail whole
  heap->deallocate(*p);
  ASSERT_TRUE(valid(*heap));
  heap->deallocate(*small);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->stats().free_blocks, 1u);
}

TEST(SegregatedFit, ARequestOnTheLastListsFloorSplitsTheClampedTail) {
  allocate_on_the_last_lists_floor<NoChecks>();
  allocate_on_the_last_lists_floor<BasicChecks<>>();
  allocate_on_the_last_lists_floor<HardenedChecks<>>();
}

// find's calls on the heaps of FindCountingFit, so that a test can tell the core's fast paths from find.
std::size_t g_finds = 0;

/// SegregatedFit<> whose index counts its find calls in g_finds; the rest is SegregatedFit<>'s own.
struct FindCountingFit {
  using policy_role = role::Fit;
  template <class Tags, std::size_t HeapBytes = 0>
  class SizedIndex : public SegregatedFit<>::SizedIndex<Tags, HeapBytes> {
   public:
    template <class Fits>
    FreeNode* find(std::size_t need, Fits&& fits) noexcept {
      ++g_finds;
      return SegregatedFit<>::SizedIndex<Tags, HeapBytes>::find(need, std::forward<Fits>(fits));
    }
  };
  template <class Tags>
  using Index = SizedIndex<Tags, 0>;
};

// A request below the exact lists' limit whose exact list holds a block takes that list's head, the most recently
// freed block of its size, without find: through exact() and take_whole up to BasicChecks, and where that path is off
// (from HardenedChecks up; at every level under ASan and Valgrind) through good_head<true> and carve, which seals,
// fills and poisons the block as the level requires (validate() checks the check word and the canary; DebugChecks'
// fill is checked below). Before good_head<true>, such a request went to find there. Requests across the exact lists,
// three blocks of each size freed between live guards, validated after every call; once the list is empty, find runs.
template <class Check>
void small_requests_take_their_exact_lists_head() {
  using Heap = BasicHeap<FindCountingFit, RegionSource, Check>;
  using Index = FindCountingFit::SizedIndex<typename Heap::Tags, 0>;
  std::vector<std::byte> memory(std::size_t{32} << 10);
  auto heap = std::make_unique<Heap>(std::span<std::byte>(memory));
  auto allocate = [&heap](std::size_t request) -> std::byte* {
    Result<void*> p = heap->allocate(request);
    EXPECT_TRUE(p.has_value()) << request;
    EXPECT_TRUE(valid(*heap)) << request;
    return p ? static_cast<std::byte*>(*p) : nullptr;
  };
  auto deallocate = [&heap](void* p) {
    heap->deallocate(p);
    EXPECT_TRUE(valid(*heap));
  };
  std::size_t requests = 0;
  // Blocks up to the exact lists' limit less two granules (DebugChecks' canary takes a byte past the trailer).
  for (std::size_t request = 1; request + Heap::kUsedOverhead + 2 * Heap::kGranule < Index::kExactLimit;
       request += 13) {
    std::byte* freed[3] = {};
    std::byte* guards[3] = {};
    for (int i = 0; i < 3; ++i) {
      freed[i] = allocate(request);
      guards[i] = allocate(request);  // keeps freed[i] from merging with its successor
      ASSERT_NE(freed[i], nullptr);
      ASSERT_NE(guards[i], nullptr);
    }
    for (std::byte* p : freed) deallocate(p);
    for (int i = 2; i >= 0; --i) {
      g_finds = 0;
      std::byte* const p = allocate(request);
      ASSERT_EQ(p, freed[i]) << "request " << request << ": the exact list's head, the last block of its size freed";
      ASSERT_EQ(g_finds, 0u) << "request " << request << " went to find";
      if constexpr (Check::kLevel >= CheckLevel::kDebug) {
        // carve's fill (take_whole has none): every requested byte carries the allocated pattern.
        for (std::size_t b = 0; b < request; ++b) ASSERT_EQ(p[b], DebugPatterns::kAllocated) << request << " " << b;
      }
    }
    // The list is empty now: the next request of that size searches (and splits the free tail).
    g_finds = 0;
    std::byte* const fresh = allocate(request);
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(g_finds, 1u) << request;
    for (int i = 0; i < 3; ++i) {
      deallocate(freed[i]);
      deallocate(guards[i]);
    }
    deallocate(fresh);
    ASSERT_EQ(heap->stats().free_blocks, 1u) << "every block merged back";
    ++requests;
  }
  EXPECT_GT(requests, 10u);
}

TEST(SegregatedFit, SmallRequestsTakeTheirExactListsHeadAtEveryCheckLevel) {
  small_requests_take_their_exact_lists_head<NoChecks>();
  small_requests_take_their_exact_lists_head<BasicChecks<>>();
  small_requests_take_their_exact_lists_head<HardenedChecks<>>();
  small_requests_take_their_exact_lists_head<DebugChecks<>>();
}

// SegregatedFit<2 x SmallLimit> has two classes, both exact but for the last list, which also holds every larger
// block (the clamp): the exact path must not take that list's head whole as a block of the request's size (found by a
// review: a request of 2 x SmallLimit - granule took a larger merged block whole at that size and cut it short, a
// header validate() reports). Request sizes up to the exact lists' limit, on a fresh heap and then around live
// blocks, validated after each call.
template <class Check>
void churn_the_smallest_largest_block() {
  using Fit = SegregatedFit<2 * SegregatedFit<>::kSmallLimit>;
  using Heap = BasicHeap<Fit, RegionSource, Check>;
  static_assert(Fit::SizedIndex<CompactTags, 0>::kClasses == 2);
  static_assert(Fit::SizedIndex<CompactTags, 0>::kExactLimit == 2 * Fit::kSmallLimit - Fit::kGranule,
                "the exact lists end before the last list");
  std::vector<std::byte> memory(std::size_t{512} << 10);  // room for the ~100 blocks kept live below
  auto heap = std::make_unique<Heap>(std::span<std::byte>(memory));
  std::vector<void*> live;
  std::size_t allocations = 0;
  // Blocks up to 2 x SmallLimit - granule (larger requests start on the last list: below).
  for (std::size_t size = 1; size <= 2 * Fit::kSmallLimit - Fit::kGranule - Heap::Tags::kHeaderSize; size += 7) {
    Result<void*> p = heap->allocate(size);
    ASSERT_TRUE(p.has_value()) << size;
    ASSERT_TRUE(valid(*heap)) << size;
    live.push_back(*p);
    if (++allocations % 3 == 0) {  // free every third block's predecessor, so that requests meet free blocks
      heap->deallocate(live[live.size() - 2]);
      live.erase(live.end() - 2);
      ASSERT_TRUE(valid(*heap)) << size;
    }
  }
  for (void* p : live) {
    heap->deallocate(p);
    ASSERT_TRUE(valid(*heap));
  }
  EXPECT_EQ(heap->stats().free_blocks, 1u);
}

TEST(SegregatedFit, TheSmallestLargestBlockKeepsLargerBlocksOnItsLastList) {
  churn_the_smallest_largest_block<NoChecks>();
  churn_the_smallest_largest_block<BasicChecks<>>();
}

// The last list of SegregatedFit<LargestBlock> also holds every block above LargestBlock (list_of's clamp), with no
// upper bound, so its head says nothing about the blocks behind it. A freed block a little above LargestBlock heads it
// here, ahead of the region's ~60 KiB free tail: find probed that head alone, so a request above the last list's floor
// failed with kOutOfMemory, and so did an over-aligned request the head could not align, while the tail held either.
// Sets up that state: a freed block a little above LargestBlock heads the last list, ahead of the region's free tail,
// a 16-byte guard between them; `check(heap, largest block, freed payload)` runs on it, and the guard's bytes and the
// heap's counts are checked after.
template <class Check, class Tags, class Body>
void with_a_small_block_ahead_on_the_last_list(Body&& check) {
  using Fit = SegregatedFit<2 * SegregatedFit<>::kSmallLimit>;
  using Heap = BasicHeap<Fit, Tags, Check, RegionSource>;
  constexpr std::size_t kLargest = Fit::SizedIndex<Tags, 0>::kLargestBlock;
  static_assert(Fit::SizedIndex<Tags, 0>::kLastListUnbounded);
  auto owner = std::make_unique<TestHeap<Heap>>();
  Heap& heap = owner->heap();
  Result<void*> head = heap.allocate(kLargest + kLargest / 8);
  ASSERT_TRUE(head.has_value());
  ASSERT_TRUE(valid(heap));
  Result<void*> guard = heap.allocate(16);  // keeps the freed block apart from the tail
  ASSERT_TRUE(guard.has_value());
  ASSERT_TRUE(valid(heap));
  fill(*guard, 16, 7);
  heap.deallocate(*head);
  ASSERT_TRUE(valid(heap));
  ASSERT_EQ(heap.stats().free_blocks, 2u);
  ASSERT_GT(heap.stats().largest_free_block, 16 * kLargest);
  check(heap, kLargest, *head);
  EXPECT_TRUE(holds_pattern(*guard, 16, 7));
  heap.deallocate(*guard);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.stats().free_blocks, 1u);
  EXPECT_EQ(heap.stats().failed_allocations, 0u);
}

// Requests above the last list's floor, which its head cannot serve, are served from the tail behind it.
template <class Check, class Tags>
void find_a_block_behind_the_last_lists_head() {
  with_a_small_block_ahead_on_the_last_list<Check, Tags>([](auto& heap, std::size_t largest, void*) {
    for (const std::size_t request : {2 * largest, 8 * largest}) {
      Result<void*> p = heap.allocate(request);
      ASSERT_TRUE(p.has_value()) << request;
      ASSERT_TRUE(valid(heap));
      EXPECT_GE(heap.usable_size(*p), request);
      fill(*p, request, 1);
      EXPECT_TRUE(holds_pattern(*p, request, 1));
      heap.deallocate(*p);
      ASSERT_TRUE(valid(heap));
    }
  });
}

// An over-aligned request whose alignment the head cannot give is served from the tail behind it.
template <class Check, class Tags>
void find_an_aligned_block_behind_the_last_lists_head() {
  with_a_small_block_ahead_on_the_last_list<Check, Tags>([](auto& heap, std::size_t largest, void*) {
    Result<void*> aligned = heap.allocate(16, 4 * largest);
    ASSERT_TRUE(aligned.has_value());
    ASSERT_TRUE(valid(heap));
    EXPECT_TRUE(is_aligned(*aligned, 4 * largest));
    fill(*aligned, 16, 2);
    EXPECT_TRUE(holds_pattern(*aligned, 16, 2));
    heap.deallocate(*aligned);
    ASSERT_TRUE(valid(heap));
  });
}

// A request of exactly the head's size takes the head: the walk is a first fit, and a block of the request's size
// fits it (a walk that wanted a larger block split the tail behind it instead, and with no tail refused the request).
template <class Check, class Tags>
void find_the_last_lists_head_of_exactly_the_request() {
  with_a_small_block_ahead_on_the_last_list<Check, Tags>([](auto& heap, std::size_t largest, void* freed) {
    const std::size_t request = largest + largest / 8;  // what the head was allocated with: the same block size
    Result<void*> p = heap.allocate(request);
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(valid(heap));
    EXPECT_EQ(*p, freed) << "the head, the first block on the last list that holds the request";
    fill(*p, request, 3);
    EXPECT_TRUE(holds_pattern(*p, request, 3));
    heap.deallocate(*p);
    ASSERT_TRUE(valid(heap));
  });
}

// The walk is compiled in only where a block can outgrow kLargestBlock: a LargestBlock below the heap, or the default
// over a source of unknown size with pointer-sized tags (regions above 4 GiB on 64-bit). A heap sized to its source,
// or whose tags cap its blocks, keeps the last list bounded (and the Cortex-M4 budget without the walk's code).
static_assert(SegregatedFit<2 * SegregatedFit<>::kSmallLimit>::SizedIndex<CompactTags, 0>::kLastListUnbounded);
static_assert(SegregatedFit<1024>::SizedIndex<CompactTags, 64 * 1024>::kLastListUnbounded);
static_assert(!SegregatedFit<>::SizedIndex<CompactTags, 64 * 1024>::kLastListUnbounded);
static_assert(!SegregatedFit<64 * 1024>::SizedIndex<CompactTags, 64 * 1024>::kLastListUnbounded);
static_assert(!SegregatedFit<>::SizedIndex<BasicCompactTags<std::uint32_t>, 0>::kLastListUnbounded);
static_assert(!SegregatedFit<>::SizedIndex<BasicCompactTags<std::uint16_t>, 0>::kLastListUnbounded);
static_assert(SegregatedFit<>::SizedIndex<CompactTags, 0>::kLastListUnbounded == (sizeof(void*) >= 8));

// A source's kBytes sizes the index only when the caller cannot add regions to it, which kBytes would not bound (a
// region larger than it would have outgrown an index sized to it, with the walk compiled out).
struct SizedRegionSource : RegionSource {
  static constexpr std::size_t kBytes = 64 * 1024;
};
static_assert(internal::kSourceBytes<SizedRegionSource> == 0);
static_assert(internal::kSourceBytes<StaticArraySource<4096>> == 4096);

TEST(SegregatedFit, ABlockBehindTheLastListsHeadIsFound) {
  find_a_block_behind_the_last_lists_head<NoChecks, CompactTags>();
  find_a_block_behind_the_last_lists_head<BasicChecks<>, CompactTags>();
  find_a_block_behind_the_last_lists_head<BasicChecks<>, FullTags>();
  find_a_block_behind_the_last_lists_head<HardenedChecks<>, BasicCompactTags<std::uint32_t>>();
  find_a_block_behind_the_last_lists_head<DebugChecks<>, FullTags>();
}

TEST(SegregatedFit, TheLastListsHeadOfExactlyTheRequestsSizeIsTaken) {
  find_the_last_lists_head_of_exactly_the_request<NoChecks, CompactTags>();
  find_the_last_lists_head_of_exactly_the_request<BasicChecks<>, CompactTags>();
  find_the_last_lists_head_of_exactly_the_request<BasicChecks<>, FullTags>();
  find_the_last_lists_head_of_exactly_the_request<HardenedChecks<>, BasicCompactTags<std::uint32_t>>();
  find_the_last_lists_head_of_exactly_the_request<DebugChecks<>, FullTags>();
}

TEST(SegregatedFit, AnAlignedBlockBehindTheLastListsHeadIsFound) {
  find_an_aligned_block_behind_the_last_lists_head<NoChecks, CompactTags>();
  find_an_aligned_block_behind_the_last_lists_head<BasicChecks<>, CompactTags>();
  find_an_aligned_block_behind_the_last_lists_head<BasicChecks<>, FullTags>();
  find_an_aligned_block_behind_the_last_lists_head<HardenedChecks<>, BasicCompactTags<std::uint32_t>>();
  find_an_aligned_block_behind_the_last_lists_head<DebugChecks<>, FullTags>();
}

// A 100-byte request on a fresh large heap takes a block of about 100 bytes: the rest of the heap is split off
// and stays on the list of its own size (one TLSF variant recorded the list the block was found in and took
// 66 MB for such a request on a 64 MiB pool; 8 MiB here, to fit the Cortex-M board).
TEST(SegregatedFit, ASmallRequestOnAFreshLargeHeapTakesASmallBlock) {
  using Heap = BasicHeap<SegregatedFit<>, RegionSource>;
  std::vector<std::byte> memory(std::size_t{8} << 20);
  auto heap = std::make_unique<Heap>(std::span<std::byte>(memory));
  const std::size_t fresh_free = heap->stats().bytes_free;
  Result<void*> p = heap->allocate(100);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(valid(*heap));
  EXPECT_LT(heap->usable_size(*p), 100 + Heap::kMinBlockSize);
  EXPECT_GT(heap->stats().largest_free_block, fresh_free - 200);
  heap->deallocate(*p);
  ASSERT_TRUE(valid(*heap));
  EXPECT_EQ(heap->stats().bytes_free, fresh_free);
  EXPECT_EQ(heap->stats().free_blocks, 1u);
}

// A block at most need / SlackShare larger than the request is handed out whole; a larger excess is split off
// as a free block, and with SlackShare 0 every tail that can be a block is. `hole` is a block of `hole_bytes` of
// payload (4 KiB by default) whose neighbours are used and the heap's only free block, so every request below takes
// it. `share` is the rule the heap is expected to follow (0: always split).
template <class Heap>
void expect_slack_rule(std::size_t share, std::size_t hole_bytes = 4096) {
  std::vector<std::byte> memory(64 * 1024);
  auto heap = std::make_unique<Heap>(std::span<std::byte>(memory));
  Result<void*> hole = heap->allocate(hole_bytes);
  Result<void*> guard = heap->allocate(16);
  Result<void*> rest = heap->allocate(heap->stats().largest_free_block);
  ASSERT_TRUE(hole && guard && rest);
  ASSERT_TRUE(valid(*heap));
  const std::size_t whole = heap->usable_size(*hole);
  heap->deallocate(*hole);
  ASSERT_TRUE(valid(*heap));
  ASSERT_EQ(heap->stats().free_blocks, 1u);
  // Block sizes differ from payload sizes by the same tags, so an excess of `less` payload bytes is `less` block
  // bytes. 64 is at least a minimum block on every target and at most 1/32 of a 4 KiB block, 256 more than 1/32;
  // `edge` is the largest excess (in granules) within 1/32, and one granule more is past it.
  const std::size_t g = Heap::kGranule;
  std::size_t edge = 0;
  while ((edge + g) * 32 <= whole - (edge + g) + Heap::kTagOverhead) edge += g;
  for (const std::size_t less : {std::size_t{64}, edge, edge + g, std::size_t{256}}) {
    Result<void*> p = heap->allocate(whole - less);
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(valid(*heap));
    EXPECT_EQ(*p, *hole) << "the heap's only free block";
    const std::size_t need = whole - less + Heap::kTagOverhead;
    const bool whole_expected = share != 0 && less <= need / share;
    EXPECT_EQ(heap->usable_size(*p), whole_expected ? whole : whole - less) << less;
    EXPECT_EQ(heap->stats().free_blocks, whole_expected ? 0u : 1u) << less;
    heap->deallocate(*p);
    ASSERT_TRUE(valid(*heap));
    ASSERT_EQ(heap->stats().free_blocks, 1u);
  }
}

static_assert(HasSplitThreshold<SegregatedFit<>::Index<CompactTags>>);
static_assert(!HasSplitThreshold<FirstFit::Index<CompactTags>>);

// Under ASan or Valgrind (kMemoryTools) the heap takes no slack, so that the tools see the request's bytes only, and
// neither does it from DebugChecks up, so that the canary and the checks see them (README, SegregatedFit).
TEST(SegregatedFit, ABlockAtMostOneThirtySecondLargerThanTheRequestIsHandedOutWhole) {
  static_assert(SegregatedFit<>::kSlackShare == 32);
  expect_slack_rule<BasicHeap<SegregatedFit<>, RegionSource>>(internal::kMemoryTools ? 0 : 32);
  expect_slack_rule<BasicHeap<SegregatedFit<>, RegionSource, NoChecks>>(internal::kMemoryTools ? 0 : 32);
  expect_slack_rule<BasicHeap<SegregatedFit<>, RegionSource, DebugChecks<>>>(0);
}

// The threshold's own edge: a block of 33 t - G bytes (t = 8 G, a few minimum blocks) requested down to a tail of t
// leaves need = 32 t - G, so need / 32 = t - 1 and the tail is exactly the split threshold (need / 32 + 1), the
// smallest excess past 1/32: it is split off, and one granule less is handed out whole. The 4 KiB hole above never
// puts the first excess past 1/32 on the threshold itself, so a threshold one byte higher passed it.
template <class Heap>
void expect_slack_edge() {
  constexpr std::size_t g = Heap::kGranule;
  constexpr std::size_t t = 8 * g;
  static_assert(t > Heap::kMinBlockSize, "the threshold, not the minimum block, must decide");
  expect_slack_rule<Heap>(internal::kMemoryTools ? 0 : 32, 33 * t - g - Heap::kTagOverhead);
}

TEST(SegregatedFit, ATailOfExactlyTheSplitThresholdIsSplitOff) {
  static_assert(SegregatedFit<>::kSlackShare == 32);
  expect_slack_edge<BasicHeap<SegregatedFit<>, RegionSource>>();
  expect_slack_edge<BasicHeap<SegregatedFit<>, RegionSource, NoChecks>>();
}

TEST(SegregatedFit, WithSlackShareZeroEveryTailThatCanBeABlockIsSplitOff) {
  expect_slack_rule<BasicHeap<SegregatedFit<0, kDefaultSegregatedLists, 0, 0>, RegionSource>>(0);
}

// DebugChecks checks a reused block for writes after free as far as the request reaches, so it takes no slack.
TEST(SegregatedFit, DebugChecksSplitsEveryTailThatCanBeABlock) {
  expect_slack_rule<BasicHeap<SegregatedFit<>, RegionSource, DebugChecks<>>>(0);
}

// The whole heap as one block is found although it sits on the last list with a floor below the request.
TEST(SegregatedFit, TheLargestRequestThatFitsTheWholeHeapSucceeds) {
  auto owner = std::make_unique<TestHeap<BasicHeap<SegregatedFit<>, StaticArraySource<kTestHeapBytes>>>>();
  auto& heap = owner->heap();
  const std::size_t largest = heap.stats().largest_free_block;
  Result<void*> p = heap.allocate(largest);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.allocate(1).error(), AllocError::kOutOfMemory);
  heap.deallocate(*p);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(heap.allocate(largest + 1).error(), AllocError::kOutOfMemory);
}

}  // namespace
}  // namespace nostd::testing
