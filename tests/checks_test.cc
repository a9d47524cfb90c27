// Check policies: BasicChecks sends misuse in deallocate and reallocate to its handler with the right error and
// leaves the heap intact; the default handler aborts, and a handler that returns makes the heap trap (death tests,
// where the platform can fork).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"
#include "tests/recording_handler.h"

#if GTEST_HAS_DEATH_TEST
#include <sys/wait.h>  // WIFSIGNALED, WTERMSIG
#endif

namespace nostd::testing {
namespace {

template <class Tags>
class BasicChecksTest : public ::testing::Test {
 protected:
  using Heap = BasicHeap<Tags, BasicChecks<RecordingHandler>, RegionSource>;
  void SetUp() override { RecordingHandler::calls = 0; }
  Heap& heap() { return owner_->heap(); }
  std::unique_ptr<TestHeap<Heap>> owner_ = std::make_unique<TestHeap<Heap>>();
};
using TagLayouts = ::testing::Types<CompactTags, FullTags>;
TYPED_TEST_SUITE(BasicChecksTest, TagLayouts);

TYPED_TEST(BasicChecksTest, DeallocateMisuseGoesToHandler) {
  void* a = *this->heap().allocate(64);
  void* b = *this->heap().allocate(64);
  fill(a, 64, 1);
  fill(b, 64, 2);
  ASSERT_TRUE(valid(this->heap()));
  alignas(16) static std::byte foreign[64];
  EXPECT_FAULT(this->heap().deallocate(foreign), AllocError::kInvalidPointer, foreign);
  ASSERT_TRUE(valid(this->heap()));
  std::byte* interior = static_cast<std::byte*>(a) + 32;
  EXPECT_FAULT(this->heap().deallocate(interior), AllocError::kInvalidPointer, interior);
  ASSERT_TRUE(valid(this->heap()));
  this->heap().deallocate(a);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_FAULT(this->heap().deallocate(a), AllocError::kDoubleFree, a);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_FAULT((void)this->heap().reallocate(a, 100), AllocError::kDoubleFree, a);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_TRUE(holds_pattern(b, 64, 2));
  EXPECT_EQ(this->heap().stats().live_allocations, 1u);
  this->heap().deallocate(b);
  ASSERT_TRUE(valid(this->heap()));
  EXPECT_EQ(this->heap().stats().free_blocks, 1u);
}

TEST(TryDeallocateTest, ForgedNeighbourTagsAreRejectedWithoutDamage) {
  // Payload bytes that look like a used header whose "previous block is free" flag is clear, with a plausible
  // previous-block size before it: a free would trust them and unlink garbage. The O(1) check also checks the
  // neighbours a free would merge with, so the forgery is refused and the heap stays intact.
  auto owner = std::make_unique<TestHeap<BasicHeap<CompactTags, RegionSource>>>();
  auto& heap = owner->heap();
  void* a = *heap.allocate(256);
  ASSERT_TRUE(valid(heap));
  auto* w = static_cast<std::uintptr_t*>(a);
  constexpr std::size_t kW = sizeof(std::uintptr_t);
  w[2] = 4096;         // footer of a "free previous block" of 4096 bytes
  w[3] = 64 | 1;       // "header": 64 bytes, used, previous block free
  w[3 + 64 / kW] = 2;  // "next header": size 0, previous used
  Result<void> r = heap.try_deallocate(&w[4]);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), AllocError::kInvalidPointer);
  ASSERT_TRUE(valid(heap));
  EXPECT_EQ(w[2], 4096u);
  EXPECT_EQ(heap.stats().live_allocations, 1u);
  heap.deallocate(a);
  ASSERT_TRUE(valid(heap));
}

#if GTEST_HAS_DEATH_TEST
TEST(AbortOnFaultDeathTest, DoubleFreeAborts) {
  auto owner = std::make_unique<TestHeap<BasicHeap<RegionSource>>>();
  auto& heap = owner->heap();
  void* p = *heap.allocate(32);
  heap.deallocate(p);
  EXPECT_DEATH(heap.deallocate(p), "");
}

TEST(AbortOnFaultDeathTest, ForeignPointerAborts) {
  auto owner = std::make_unique<TestHeap<BasicHeap<RegionSource>>>();
  static std::byte foreign[64];
  EXPECT_DEATH(owner->heap().deallocate(foreign + 16), "");
}

// README (Hardening): AbortOnFault calls std::abort() and prints nothing, so a fault in DebugChecks<> (here a byte
// written past the request, found by the free) ends the program with SIGABRT alone: an empty stderr.
TEST(AbortOnFaultDeathTest, ADebugChecksFaultEndsWithSigabrtAndPrintsNothing) {
  auto owner = std::make_unique<TestHeap<BasicHeap<DebugChecks<>, RegionSource>>>();
  auto& heap = owner->heap();
  auto* p = static_cast<std::byte*>(*heap.allocate(6));
  ASSERT_TRUE(valid(heap));
  expose(p + 6, 1);
  EXPECT_EXIT(
      {
        p[6] = std::byte{0};
        heap.deallocate(p);
      },
      ::testing::KilledBySignal(SIGABRT), "^$");
  heap.deallocate(p);
  ASSERT_TRUE(valid(heap));
}

// A handler that breaks the contract: it reports the fault on stderr and returns. The heap must not go on (a double
// free would link the block twice); it traps right after the handler.
struct ReturningHandler {
  static void on_fault(const HeapFault& fault) noexcept {
    std::fprintf(stderr, "handler returned after: %s\n", to_string(fault.error).data());
  }
};

// A whole check policy whose on_fault returns (the CheckPolicy concept cannot require [[noreturn]]).
struct ReturningCheckPolicy {
  using policy_role = role::Check;
  static constexpr CheckLevel kLevel = CheckLevel::kBasic;
  static void on_fault(const HeapFault& fault) noexcept { ReturningHandler::on_fault(fault); }
};

// __builtin_trap's end: SIGILL on x86-64 (ud2), SIGTRAP on AArch64 and RISC-V (brk, ebreak).
bool killed_by_trap(int status) {
  return WIFSIGNALED(status) && (WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGTRAP);
}

TEST(ReturningHandlerDeathTest, CheckPolicyThatReturnsTrapsOnDoubleFree) {
  auto owner = std::make_unique<TestHeap<BasicHeap<ReturningCheckPolicy, RegionSource>>>();
  auto& heap = owner->heap();
  void* p = *heap.allocate(100);
  heap.deallocate(p);
  EXPECT_EXIT(heap.deallocate(p), killed_by_trap, "handler returned after: double free");
}

TEST(ReturningHandlerDeathTest, BasicChecksHandlerThatReturnsTrapsOnForeignPointer) {
  auto owner = std::make_unique<TestHeap<BasicHeap<BasicChecks<ReturningHandler>, RegionSource>>>();
  alignas(16) static std::byte foreign[64];
  EXPECT_EXIT(owner->heap().deallocate(foreign + 16), killed_by_trap, "handler returned after: invalid pointer");
}

TEST(ReturningHandlerDeathTest, DebugChecksHandlerThatReturnsTrapsBeforeFreeingOnWrongLayout) {
  auto owner = std::make_unique<TestHeap<BasicHeap<DebugChecks<ReturningHandler>, RegionSource>>>();
  auto& heap = owner->heap();
  void* p = *heap.allocate(16);
  EXPECT_EXIT(heap.deallocate(p, Layout::of<char[4096]>()), killed_by_trap, "handler returned after: invalid layout");
  heap.deallocate(p);
  EXPECT_TRUE(valid(heap));
}
#endif

}  // namespace
}  // namespace nostd::testing
