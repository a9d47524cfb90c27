// Tests for alloc/alloc.h, the portable public API in one include: a program that includes nothing else of the
// project can name and use every portable type, policy, concept and handle (issue 9). The only project include of
// this file is alloc/alloc.h, and its target depends on //alloc alone.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>

#include "alloc/alloc.h"

namespace {

// Concepts: every policy satisfies its role's concept, and the handles satisfy Allocator.
static_assert(nostd::FitPolicy<nostd::FirstFit> && nostd::FitPolicy<nostd::NextFit> &&
              nostd::FitPolicy<nostd::BestFit>);
static_assert(nostd::TagLayout<nostd::CompactTags> && nostd::TagLayout<nostd::FullTags> &&
              nostd::TagLayout<nostd::BasicCompactTags<std::uint32_t>> &&
              nostd::TagLayout<nostd::BasicFullTags<std::uint32_t>>);
static_assert(nostd::LockPolicy<nostd::NullLock> && nostd::LockPolicy<nostd::SpinLock>);
static_assert(nostd::HeapSource<nostd::StaticArraySource<1024>> && nostd::HeapSource<nostd::RegionSource>);
static_assert(nostd::CheckPolicy<nostd::NoChecks> && nostd::CheckPolicy<nostd::BasicChecks<nostd::AbortOnFault>>);
static_assert(std::is_same_v<nostd::FirstFit::policy_role, nostd::role::Fit>);

using StaticHeap = nostd::BasicHeap<nostd::BestFit, nostd::FullTags, nostd::SpinLock, nostd::NoChecks,
                                    nostd::StaticArraySource<8 * 1024>>;
using RegionHeap = nostd::BasicHeap<nostd::NextFit, nostd::BasicCompactTags<std::uint32_t>, nostd::RegionSource,
                                    nostd::BasicChecks<nostd::AbortOnFault>>;
constinit StaticHeap g_heap;

static_assert(nostd::Allocator<nostd::HeapRef<StaticHeap>> && nostd::HasReallocate<nostd::HeapRef<StaticHeap>> &&
              nostd::HasUsableSize<nostd::HeapRef<StaticHeap>>);
static_assert(nostd::Allocator<nostd::StaticHeapRef<g_heap>> && std::is_empty_v<nostd::StaticHeapRef<g_heap>>);
static_assert(nostd::RawHeap<RegionHeap> && !nostd::Allocator<RegionHeap>);
// The standard-library door: StdAllocator and its out-of-memory handler.
static_assert(std::is_same_v<std::allocator_traits<nostd::StdAllocator<int, StaticHeap>>::rebind_alloc<char>,
                             nostd::StdAllocator<char, StaticHeap, nostd::DefaultOutOfMemory>>);
static_assert(nostd::OutOfMemoryHandler<nostd::DefaultOutOfMemory>);

TEST(AllocUmbrellaTest, LayoutAndErrors) {
  const nostd::Layout layout = nostd::Layout::of<std::uint64_t>();
  EXPECT_EQ(layout.size(), sizeof(std::uint64_t));
  const nostd::Result<nostd::Layout> bad = nostd::Layout::from(8, 3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), nostd::AllocError::kInvalidLayout);
  EXPECT_EQ(nostd::to_string(nostd::AllocError::kOutOfMemory), std::string_view("out of memory"));
  const nostd::Result<int> failed = nostd::fail(nostd::AllocError::kSizeOverflow);
  EXPECT_EQ(failed.error(), nostd::AllocError::kSizeOverflow);
}

TEST(AllocUmbrellaTest, HeapThroughStaticHeapRef) {
  nostd::StaticHeapRef<g_heap> handle;
  const nostd::Layout layout = nostd::Layout::of<std::uint64_t>();
  nostd::Result<void*> block = handle.allocate(layout);
  ASSERT_TRUE(block.has_value());
  ASSERT_TRUE(g_heap.validate().has_value());
  EXPECT_GE(handle.usable_size(*block), sizeof(std::uint64_t));
  nostd::Result<void*> grown = handle.reallocate(*block, layout, 256);
  ASSERT_TRUE(grown.has_value());
  ASSERT_TRUE(g_heap.validate().has_value());
  handle.deallocate(*grown, nostd::Layout::from(256, alignof(std::uint64_t)).value());
  ASSERT_TRUE(g_heap.validate().has_value());
  const nostd::HeapStats stats = g_heap.stats();
  EXPECT_EQ(stats.live_allocations, 0u);
  EXPECT_EQ(stats.capacity, stats.bytes_in_use + stats.bytes_free + stats.overhead_bytes);
}

TEST(AllocUmbrellaTest, HeapThroughHeapRefOverARegion) {
  alignas(std::max_align_t) static std::byte memory[4096];
  RegionHeap heap{std::span<std::byte>(memory)};
  nostd::HeapRef<RegionHeap> handle(heap);
  nostd::Result<void*> block = handle.allocate(nostd::Layout::of<double>());
  ASSERT_TRUE(block.has_value());
  const nostd::ValidateResult valid = heap.validate();
  ASSERT_TRUE(valid.has_value()) << valid.error().what;
  std::size_t used_blocks = 0;
  heap.walk([&](const nostd::BlockInfo& info) { used_blocks += info.used ? 1 : 0; });
  EXPECT_EQ(used_blocks, 1u);
  handle.deallocate(*block, nostd::Layout::of<double>());
  ASSERT_TRUE(heap.validate().has_value());
  EXPECT_EQ(heap.stats().live_allocations, 0u);
}

}  // namespace
