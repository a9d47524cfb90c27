// MmapSource (hosted only): the conformance suite over heaps whose memory is one anonymous mapping, and the
// source's own behaviour.
#include "platform/mmap_source.h"

#include <gtest/gtest.h>

#include "alloc/alloc.h"
#include "platform/hosted.h"
#include "tests/heap_conformance.h"

namespace nostd::testing {
namespace {

using MmapHeaps = ::testing::Types<BasicHeap<FirstFit, MmapSource<kTestHeapBytes>>,
                                   BasicHeap<BestFit, FullTags, MutexLock, MmapSource<kTestHeapBytes>>,
                                   BasicHeap<NextFit, SpinLock, MmapSource<kTestHeapBytes>>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Mmap, HeapConformance, MmapHeaps, HeapTypeNames);

TEST(MmapSourceTest, MapsOnFirstUseOnly) {
  MmapSource<1 << 20> source;
  std::span<std::byte> region = source.acquire();
  ASSERT_EQ(region.size(), std::size_t{1} << 20);
  EXPECT_TRUE(is_aligned(region.data(), 4096));
  region[0] = std::byte{1};
  region[region.size() - 1] = std::byte{2};
  EXPECT_EQ(region[region.size() - 1], std::byte{2});
}

TEST(MmapSourceTest, LargeReservationIsLazy) {
  // 1 GiB of address space: the kernel commits pages only when touched, so this is cheap.
  auto heap = std::make_unique<BasicHeap<FirstFit, MmapSource<std::size_t{1} << 30>>>();
  EXPECT_GT(heap->stats().capacity, (std::size_t{1} << 30) - 256);
  Result<void*> p = heap->allocate(std::size_t{512} << 20);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(valid(*heap));
  heap->deallocate(*p);
  EXPECT_TRUE(valid(*heap));
}

}  // namespace
}  // namespace nostd::testing
