// The policy concepts: every shipped policy satisfies its concept, malformed policies do not, and BasicHeap
// picks policies by role whatever their order, with documented defaults.
#include "alloc/concepts.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>

#include "alloc/alloc.h"

namespace nostd {
namespace {

// Shipped policies satisfy their concepts.
static_assert(FitPolicy<FirstFit> && FitPolicy<NextFit> && FitPolicy<BestFit> && FitPolicy<SegregatedFit<>>);
static_assert(TagLayout<CompactTags> && TagLayout<FullTags> && TagLayout<BasicCompactTags<std::uint32_t>> &&
              TagLayout<BasicFullTags<std::uint16_t>>);
static_assert(LockPolicy<NullLock> && LockPolicy<SpinLock>);
static_assert(HeapSource<StaticArraySource<1024>> && HeapSource<RegionSource>);
static_assert(CheckPolicy<NoChecks> && CheckPolicy<BasicChecks<>>);

// A policy satisfies only its own role's concept.
static_assert(!LockPolicy<FirstFit> && !FitPolicy<NullLock> && !HeapSource<CompactTags> && !TagLayout<RegionSource>);

// Malformed policies are rejected.
struct NoRole {
  void lock() {}
  void unlock() {}
};
struct LockWithoutUnlock {
  using policy_role = role::Lock;
  void lock() {}
};
struct FitWithoutFind {
  using policy_role = role::Fit;
  template <class Tags>
  struct Index {
    void insert(internal::FreeNode*, std::size_t) {}
    void remove(internal::FreeNode*, std::size_t) {}
    std::size_t count() const { return 0; }
    template <class V>
    bool for_each(V&&, std::size_t) const {
      return true;
    }
  };
};
struct SourceWithoutAcquire {
  using policy_role = role::Source;
  static constexpr bool kAcceptsRegions = false;
};
struct CheckWithoutLevel {
  using policy_role = role::Check;
  static void on_fault(const HeapFault&) {}
};
struct TagsWithoutWriters {
  using policy_role = role::Tags;
  static constexpr std::size_t kHeaderSize = 8, kUsedOverhead = 8, kMaxBlockSize = 1 << 20;
};
static_assert(!LockPolicy<NoRole>);
static_assert(!LockPolicy<LockWithoutUnlock>);
static_assert(!FitPolicy<FitWithoutFind>);
static_assert(!HeapSource<SourceWithoutAcquire>);
static_assert(!CheckPolicy<CheckWithoutLevel>);
static_assert(!TagLayout<TagsWithoutWriters>);

// A user-written lock satisfies the concept with nothing but its role and two members.
struct CountingLock {
  using policy_role = role::Lock;
  int* count = nullptr;
  void lock() {}
  void unlock() {}
};
static_assert(LockPolicy<CountingLock>);

// Order is free; roles left out take their defaults.
using A = BasicHeap<NextFit, FullTags, SpinLock, StaticArraySource<4096>>;
using B = BasicHeap<StaticArraySource<4096>, SpinLock, FullTags, NextFit>;
static_assert(std::is_same_v<A::Fit, B::Fit> && std::is_same_v<A::Tags, B::Tags> && std::is_same_v<A::Lock, B::Lock> &&
              std::is_same_v<A::Source, B::Source>);
using Defaults = BasicHeap<RegionSource>;
static_assert(std::is_same_v<Defaults::Fit, FirstFit> && std::is_same_v<Defaults::Tags, CompactTags> &&
              std::is_same_v<Defaults::Lock, NullLock> && std::is_same_v<Defaults::Check, BasicChecks<>>);

// Stateless policies cost nothing: a NullLock heap is no larger than one without a lock member would be.
static_assert(sizeof(BasicHeap<NullLock, RegionSource>) < sizeof(BasicHeap<SpinLock, RegionSource>) ||
              sizeof(SpinLock) == 0);

// Overheads per used block, as documented.
static_assert(BasicHeap<CompactTags, RegionSource>::kTagOverhead == sizeof(void*));
static_assert(BasicHeap<FullTags, RegionSource>::kTagOverhead == 2 * sizeof(void*));
static_assert(BasicHeap<BasicCompactTags<std::uint32_t>, RegionSource>::kTagOverhead == 4);
// README (Policies): 4-byte tags on 64-bit too, for blocks up to 4 GiB (less the flag bits).
static_assert(BasicCompactTags<std::uint32_t>::kHeaderSize == 4 &&
              BasicCompactTags<std::uint32_t>::kMaxBlockSize == (std::uint64_t{1} << 32) - 8);

// A StaticArraySource heap is constant-initialised.
constinit BasicHeap<StaticArraySource<4096>> g_constinit_heap;

TEST(ConceptsTest, ConstinitHeapWorksBeforeAndAfterFirstUse) {
  EXPECT_TRUE(g_constinit_heap.validate().has_value());
  Result<void*> p = g_constinit_heap.allocate(100);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(g_constinit_heap.validate().has_value());
  g_constinit_heap.deallocate(*p);
  EXPECT_TRUE(g_constinit_heap.validate().has_value());
  EXPECT_EQ(g_constinit_heap.stats().live_allocations, 0u);
}

TEST(ConceptsTest, DiagnosticsAcceptWellFormedPolicies) {
  EXPECT_TRUE(internal::diagnose_fit_policy<BestFit>());
  EXPECT_TRUE(internal::diagnose_lock_policy<CountingLock>());
  EXPECT_TRUE(internal::diagnose_tag_layout<FullTags>());
  EXPECT_TRUE(internal::diagnose_heap_source<RegionSource>());
  EXPECT_TRUE(internal::diagnose_check_policy<NoChecks>());
}

}  // namespace
}  // namespace nostd
