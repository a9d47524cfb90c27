// tests/replay_passes_test.cc — the replay step (bench/replay_passes.h) against the adapter interface
// (bench/bench_allocator.h): every free and reallocate names the size and alignment its block was allocated with,
// also after the block was reallocated, and the std::pmr pool row, the one adapter that needs them, gives its blocks
// back to the pools they came from.
#include "bench/replay_passes.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>

#include "bench/bench_allocator.h"
#include "bench/trace.h"

namespace nostd::bench {
namespace {

/// The alignment of an allocator's default blocks (a replay's align 0).
constexpr std::size_t kDefaultAlign = alignof(std::max_align_t);

/// A BenchAllocator over malloc that remembers each live block's size and alignment and records every free or
/// reallocate that names others (alignment 0 counts as the default).
class ContractAdapter {
 public:
  explicit ContractAdapter(std::span<std::byte>) {}
  ContractAdapter(const ContractAdapter&) = delete;
  ContractAdapter& operator=(const ContractAdapter&) = delete;
  ~ContractAdapter() {
    for (const auto& [p, block] : live_) std::free(p);
  }

  void* allocate(std::size_t size) { return place(std::malloc(size == 0 ? 1 : size), size, kDefaultAlign); }
  void* allocate_aligned(std::size_t size, std::size_t align) {
    return place(std::aligned_alloc(align, align * (size / align + 1)), size, align);
  }
  /// As realloc: the new block has the default alignment.
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t old_align = 0) {
    take(p, old_size, old_align);
    return place(std::realloc(p, new_size == 0 ? 1 : new_size), new_size, kDefaultAlign);
  }
  void free(void* p, std::size_t size, std::size_t align = 0) {
    take(p, size, align);
    std::free(p);
  }

  /// Frees and reallocates that named a size or an alignment other than the block's.
  int mismatches() const { return mismatches_; }
  /// Blocks allocated and not yet freed.
  std::size_t live() const { return live_.size(); }

 private:
  struct Block {
    std::size_t size;
    std::size_t align;
  };
  void* place(void* p, std::size_t size, std::size_t align) {
    if (p != nullptr) live_[p] = Block{size, align};
    return p;
  }
  void take(void* p, std::size_t size, std::size_t align) {
    const auto it = live_.find(p);
    if (it == live_.end()) {
      ADD_FAILURE() << "a free or reallocate of " << p << ", which is not live";
      ++mismatches_;
      return;
    }
    const std::size_t named = align == 0 ? kDefaultAlign : align;
    if (it->second.size != size || it->second.align != named) {
      ADD_FAILURE() << "block " << p << " of " << it->second.size << " bytes aligned to " << it->second.align
                    << " given back as " << size << " bytes aligned to " << named;
      ++mismatches_;
    }
    live_.erase(it);
  }

  std::map<void*, Block> live_;
  int mismatches_ = 0;
};
static_assert(BenchAllocator<ContractAdapter>);
static_assert(BenchAllocator<PmrPoolAdapter>);

/// Replays `ops` against `a` through replay_step (every operation must succeed).
template <class A>
void replay(A& a, SlotTable& slots, std::span<const Op> ops) {
  NoHooks hooks;
  for (const Op& op : ops) ASSERT_TRUE(replay_step(a, slots.data(), op, hooks));
}

// An aligned block reallocated (twice, to sizes above and below its own) and then freed: each call names the size
// and alignment of the block it gives back, the reallocated one the default alignment a realloc gives. The slot had
// kept the first block's alignment, so the free named 64 for a block of the default.
TEST(ReplayStep, FreeAndReallocateNameTheBlocksOwnSizeAndAlignment) {
  const Op ops[] = {
      {OpKind::kAllocate, 6, 0, 8},   {OpKind::kAllocate, 0, 1, 40},   {OpKind::kReallocate, 0, 0, 24},
      {OpKind::kReallocate, 0, 1, 8}, {OpKind::kReallocate, 0, 0, 12}, {OpKind::kFree, 0, 0, 8},
      {OpKind::kAllocate, 7, 0, 1},   {OpKind::kFree, 0, 1, 40},       {OpKind::kFree, 0, 0, 1},
  };
  ContractAdapter a({});
  SlotTable slots(2);
  replay(a, slots, ops);
  EXPECT_EQ(a.mismatches(), 0);
  EXPECT_EQ(a.live(), 0u);
}

// The std::pmr pool row replaying a trace that reallocates aligned blocks: a pool resource takes a block back only
// with the size and alignment it was allocated with (they choose its pool). Given the default alignment for a block
// of 64 (and 64 for one of the default), the pools kept both blocks of each of the 20,000 rounds: 2.4 MB held from
// upstream at the end, where a round's blocks are reused and one chunk of each pool serves the whole trace.
TEST(ReplayStep, PmrPoolRowGetsEveryReallocatedAlignedBlockBack) {
  constexpr int kRounds = 20'000;
  Trace ops;
  for (int i = 0; i < kRounds; ++i) {
    ops.push_back(Op{OpKind::kAllocate, 6, 0, 8});
    ops.push_back(Op{OpKind::kReallocate, 0, 0, 16});
    ops.push_back(Op{OpKind::kFree, 0, 0, 16});
  }
  PmrPoolAdapter a({});
  SlotTable slots(1);
  replay(a, slots, ops);
  EXPECT_LT(a.footprint(0, 0), std::size_t{64} << 10);
}

}  // namespace
}  // namespace nostd::bench
