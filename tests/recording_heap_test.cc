// tests/recording_heap_test.cc — RecordingHeap (record/recording_heap.h) over real heaps, with a RingBuffer sink
// (record/ring_buffer.h) drained and decoded (record/trace_format.h) as a board would drain it. Portable: runs on
// the host, on Cortex-M4 under QEMU (`--config=cortex_m`) and on riscv64.
#include "record/recording_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <span>
#include <vector>

#include "alloc/alloc.h"
#include "record/ring_buffer.h"
#include "record/trace_format.h"

namespace nostd::record {

/// Prints an event as its fields (GoogleTest would print its bytes, padding included).
void PrintTo(const TraceEvent& e, std::ostream* os) {
  *os << "{" << static_cast<char>(e.kind) << " align_log2=" << static_cast<unsigned>(e.align_log2) << " id=" << e.id
      << " size=" << e.size << "}";
}

namespace {

/// Drains `ring` completely through a small buffer (as a UART or semihosting loop would).
template <std::size_t N>
std::vector<std::byte> drain(RingBuffer<N>& ring) {
  std::vector<std::byte> out;
  std::byte chunk[7];  // an odd size: events straddle reads
  std::size_t n;
  while ((n = ring.read(chunk)) > 0) out.insert(out.end(), chunk, chunk + n);
  return out;
}

/// Decodes a drained trace: magic, events, end record. Fails the test on any decoding error.
std::vector<TraceEvent> decode_all(const std::vector<std::byte>& bytes) {
  std::vector<TraceEvent> events;
  EXPECT_GE(bytes.size(), kTraceMagic.size());
  EXPECT_EQ(std::memcmp(bytes.data(), kTraceMagic.data(), kTraceMagic.size()), 0);
  std::size_t pos = kTraceMagic.size();
  while (pos < bytes.size()) {
    const Decoded d = decode(bytes, pos);
    EXPECT_EQ(d.error, DecodeError::kNone) << "at byte " << d.error_offset;
    if (d.error != DecodeError::kNone) break;
    events.push_back(d.event);
    pos = d.next;
  }
  return events;
}

/// The id a trace gives block `p`: its address in granules of 8 bytes (record/recording_heap.h).
std::uint64_t id_of(const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p) >> 3); }

template <class Heap>
class RecordingHeapTest : public ::testing::Test {};

using Heaps = ::testing::Types<BasicHeap<FirstFit, CompactTags, StaticArraySource<16 * 1024>>,
                               BasicHeap<BestFit, FullTags, NoChecks, StaticArraySource<16 * 1024>>,
                               BasicHeap<NextFit, CompactTags, SpinLock, StaticArraySource<16 * 1024>>>;
TYPED_TEST_SUITE(RecordingHeapTest, Heaps);

TYPED_TEST(RecordingHeapTest, RecordsEverySuccessfulCallAndDrainsAsAValidTrace) {
  static TypeParam heap;  // static: the arena lives inside the heap object
  RingBuffer<1024> ring;
  RecordingHeap rec(heap, ring);

  Result<void*> a = rec.allocate(24);
  ASSERT_TRUE(a);
  ASSERT_TRUE(heap.validate());
  Result<void*> b = rec.allocate(100, 64);
  ASSERT_TRUE(b);
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(*b) % 64, 0u);
  Result<void*> too_big = rec.allocate(1 << 20);  // fails: not recorded
  EXPECT_FALSE(too_big);
  ASSERT_TRUE(heap.validate());
  Result<void*> c = rec.allocate(Layout::of<std::uint64_t>());
  ASSERT_TRUE(c);
  ASSERT_TRUE(heap.validate());
  rec.deallocate(*c);  // frees the block after `a`'s neighbour, so `a` can grow in place or move
  ASSERT_TRUE(heap.validate());
  std::memset(*a, 0x5a, 24);
  const void* before = *a;
  Result<void*> grown = rec.reallocate(*a, 4000);
  ASSERT_TRUE(grown);
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(static_cast<unsigned char*>(*grown)[23], 0x5a);
  rec.deallocate(*grown);
  ASSERT_TRUE(heap.validate());
  rec.deallocate(*b);
  ASSERT_TRUE(heap.validate());
  rec.deallocate(nullptr);  // a no-op: not recorded
  rec.finish();
  EXPECT_EQ(rec.dropped(), 0u);

  const std::vector<TraceEvent> events = decode_all(drain(ring));
  std::vector<TraceEvent> want = {
      {EventKind::kAllocate, 0, id_of(before), 24},
      {EventKind::kAllocate, 6, id_of(*b), 100},
      {EventKind::kAllocate, 0, id_of(*c), 8},
      {EventKind::kFree, 0, id_of(*c), 0},
  };
  if (*grown == before) {
    want.push_back({EventKind::kReallocate, 0, id_of(before), 4000});
  } else {
    want.push_back({EventKind::kAllocate, 0, id_of(*grown), 4000});
    want.push_back({EventKind::kFree, 0, id_of(before), 0});
  }
  want.push_back({EventKind::kFree, 0, id_of(*grown), 0});
  want.push_back({EventKind::kFree, 0, id_of(*b), 0});
  want.push_back({EventKind::kEnd, 0, want.size(), 0});
  EXPECT_EQ(events, want);
  EXPECT_EQ(rec.events(), want.size() - 1);
}

// reallocate's other two records: a reallocate of nullptr is one allocate event (realloc(NULL, n) is malloc(n)), and a
// block resized where it stands is one reallocate event under its unchanged id (the test above sees a block move).
TYPED_TEST(RecordingHeapTest, AReallocateOfNullAndAnInPlaceResizeAreRecordedAsSuch) {
  static TypeParam heap;  // static: the arena lives inside the heap object
  RingBuffer<1024> ring;
  RecordingHeap rec(heap, ring);

  Result<void*> a = rec.reallocate(nullptr, 200);
  ASSERT_TRUE(a);
  ASSERT_TRUE(heap.validate());
  Result<void*> shrunk = rec.reallocate(*a, 40);
  ASSERT_TRUE(shrunk);
  ASSERT_TRUE(heap.validate());
  ASSERT_EQ(*shrunk, *a) << "a shrink stays where the block is";
  rec.deallocate(*shrunk);
  ASSERT_TRUE(heap.validate());
  rec.finish();
  EXPECT_EQ(rec.dropped(), 0u);

  const std::vector<TraceEvent> want = {{EventKind::kAllocate, 0, id_of(*a), 200},
                                        {EventKind::kReallocate, 0, id_of(*a), 40},
                                        {EventKind::kFree, 0, id_of(*a), 0},
                                        {EventKind::kEnd, 0, 3, 0}};
  EXPECT_EQ(decode_all(drain(ring)), want);
  EXPECT_EQ(rec.events(), 3u);
}

TYPED_TEST(RecordingHeapTest, AFullRingDropsWholeEventsAndCountsThem) {
  static TypeParam heap;
  RingBuffer<64> ring;  // the header (8 bytes) and a few events
  RecordingHeap rec(heap, ring);
  std::vector<void*> blocks;
  for (int i = 0; i < 20; ++i) {
    Result<void*> p = rec.allocate(16);
    ASSERT_TRUE(p);
    ASSERT_TRUE(heap.validate());
    blocks.push_back(*p);
  }
  EXPECT_GT(rec.dropped(), 0u);
  EXPECT_EQ(rec.events() + rec.dropped(), 20u);
  // What was drained is still whole events: it decodes without an error.
  const std::vector<TraceEvent> events = decode_all(drain(ring));
  EXPECT_EQ(events.size(), rec.events());
  for (void* p : blocks) {
    rec.deallocate(p);
    ASSERT_TRUE(heap.validate());
  }
}

TYPED_TEST(RecordingHeapTest, ALossMakesTheEndRecordDisagreeWithTheDrainedTrace) {
  // Lost allocations that are never freed (or a lost free, or a lost in-place reallocate) leave every id check of a
  // reader satisfied: only the end record's count can tell that the drained trace is not what the program did.
  static TypeParam heap;
  RingBuffer<64> ring;
  RecordingHeap rec(heap, ring);
  std::vector<void*> blocks;
  while (rec.dropped() == 0) {
    Result<void*> p = rec.allocate(16);
    ASSERT_TRUE(p);
    ASSERT_TRUE(heap.validate());
    blocks.push_back(*p);
  }
  std::vector<std::byte> trace = drain(ring);
  rec.finish();
  const std::vector<std::byte> rest = drain(ring);
  trace.insert(trace.end(), rest.begin(), rest.end());
  const std::vector<TraceEvent> events = decode_all(trace);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().kind, EventKind::kEnd);
  EXPECT_EQ(events.back().id, blocks.size());  // every event the wrapper emitted, the lost one too
  EXPECT_NE(events.back().id, events.size() - 1) << "a trace that lost an event still validates";
  for (void* p : blocks) {
    heap.deallocate(p);
    ASSERT_TRUE(heap.validate());
  }
}

TYPED_TEST(RecordingHeapTest, AMovedBlockIsRecordedWithTheAlignmentItWasAllocatedWith) {
  // The heap's reallocate keeps an over-aligned block's alignment when it moves it; the allocate event of the new
  // block must say so, or a replay of the trace gets a default-aligned block.
  static TypeParam heap;
  RingBuffer<1024> ring;
  RecordingHeap rec(heap, ring);
  const auto aligned64 = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; };
  // Each wall is larger than an over-aligned block's padding, so it lands right after the block before it, which
  // then cannot grow in place: the reallocate moves it.
  Result<void*> b = rec.allocate(100, 64);
  ASSERT_TRUE(b);
  Result<void*> wall = rec.allocate(256);
  ASSERT_TRUE(wall);
  Result<void*> moved = rec.reallocate(*b, 1000);
  ASSERT_TRUE(moved);
  ASSERT_TRUE(heap.validate());
  ASSERT_NE(*moved, *b) << "the block grew in place: this test needs a move";
  EXPECT_TRUE(aligned64(*moved));
  Result<void*> wall2 = rec.allocate(256);
  ASSERT_TRUE(wall2);
  Result<void*> again = rec.reallocate(*moved, 3000);  // the moved block is remembered under its new address
  ASSERT_TRUE(again);
  ASSERT_TRUE(heap.validate());
  ASSERT_NE(*again, *moved);
  EXPECT_TRUE(aligned64(*again));
  Result<void*> plain = rec.allocate(40);
  ASSERT_TRUE(plain);
  Result<void*> wall3 = rec.allocate(256);
  ASSERT_TRUE(wall3);
  Result<void*> plain_moved = rec.reallocate(*plain, 2000);  // a default block stays default
  ASSERT_TRUE(plain_moved);
  ASSERT_NE(*plain_moved, *plain);
  for (void* p : {*wall, *wall2, *wall3, *again, *plain_moved}) {
    rec.deallocate(p);
    ASSERT_TRUE(heap.validate());
  }
  rec.finish();
  EXPECT_EQ(rec.dropped(), 0u);
  EXPECT_EQ(rec.untracked_aligned(), 0u);

  std::vector<TraceEvent> want = {
      {EventKind::kAllocate, 6, id_of(*b), 100},      {EventKind::kAllocate, 0, id_of(*wall), 256},
      {EventKind::kAllocate, 6, id_of(*moved), 1000}, {EventKind::kFree, 0, id_of(*b), 0},
      {EventKind::kAllocate, 0, id_of(*wall2), 256},  {EventKind::kAllocate, 6, id_of(*again), 3000},
      {EventKind::kFree, 0, id_of(*moved), 0},        {EventKind::kAllocate, 0, id_of(*plain), 40},
      {EventKind::kAllocate, 0, id_of(*wall3), 256},  {EventKind::kAllocate, 0, id_of(*plain_moved), 2000},
      {EventKind::kFree, 0, id_of(*plain), 0},        {EventKind::kFree, 0, id_of(*wall), 0},
      {EventKind::kFree, 0, id_of(*wall2), 0},        {EventKind::kFree, 0, id_of(*wall3), 0},
      {EventKind::kFree, 0, id_of(*again), 0},        {EventKind::kFree, 0, id_of(*plain_moved), 0},
  };
  want.push_back({EventKind::kEnd, 0, want.size(), 0});
  EXPECT_EQ(decode_all(drain(ring)), want);
}

TYPED_TEST(RecordingHeapTest, AnAlignedBlockTheTableCannotHoldMovesWithAtLeastItsAlignment) {
  // A table of one: the second over-aligned block is not remembered, so its move is recorded with the alignment its
  // two addresses share, which includes the one it was allocated with.
  static TypeParam heap;
  RingBuffer<1024> ring;
  RecordingHeap<TypeParam, RingBuffer<1024>, NullLock, 1> rec(heap, ring);
  Result<void*> x = rec.allocate(100, 64);
  ASSERT_TRUE(x);
  Result<void*> wall_x = rec.allocate(256);
  ASSERT_TRUE(wall_x);
  Result<void*> y = rec.allocate(100, 64);
  ASSERT_TRUE(y);
  Result<void*> wall_y = rec.allocate(256);
  ASSERT_TRUE(wall_y);
  EXPECT_EQ(rec.untracked_aligned(), 1u);
  Result<void*> x_moved = rec.reallocate(*x, 1000);
  ASSERT_TRUE(x_moved);
  Result<void*> y_moved = rec.reallocate(*y, 1000);
  ASSERT_TRUE(y_moved);
  ASSERT_TRUE(heap.validate());
  ASSERT_NE(*x_moved, *x);
  ASSERT_NE(*y_moved, *y);
  for (void* p : {*wall_x, *wall_y, *x_moved, *y_moved}) {
    rec.deallocate(p);
    ASSERT_TRUE(heap.validate());
  }
  rec.finish();
  const std::vector<TraceEvent> events = decode_all(drain(ring));
  ASSERT_EQ(events.size(), 13u);  // 4 allocates, 2 moves of 2 events, 4 frees, the end record
  EXPECT_EQ(events[4], (TraceEvent{EventKind::kAllocate, 6, events[4].id, 1000})) << "the remembered block: exact";
  EXPECT_EQ(events[6].kind, EventKind::kAllocate);
  EXPECT_GE(events[6].align_log2, 6) << "the block the table could not hold";
}

// An alignment no stricter than malloc's default is recorded as 0 (the trace format's rule: a replay gives the default
// alignment of its own machine), one stricter as its exponent; neither fills the table of over-aligned blocks, which
// only the stricter one enters.
TYPED_TEST(RecordingHeapTest, AlignmentsUpToTheDefaultAreRecordedAsTheDefault) {
  static TypeParam heap;
  RingBuffer<1024> ring;
  RecordingHeap<TypeParam, RingBuffer<1024>, NullLock, 1> rec(heap, ring);
  constexpr std::size_t kDefault = alignof(std::max_align_t);
  Result<void*> at_default = rec.allocate(40, kDefault);
  ASSERT_TRUE(at_default);
  ASSERT_TRUE(heap.validate());
  Result<void*> below = rec.allocate(Layout::of<std::uint32_t>());
  ASSERT_TRUE(below);
  ASSERT_TRUE(heap.validate());
  Result<void*> above = rec.allocate(40, 2 * kDefault);
  ASSERT_TRUE(above);
  ASSERT_TRUE(heap.validate());
  EXPECT_EQ(rec.untracked_aligned(), 0u) << "a default alignment took the table's one entry";
  for (void* p : {*at_default, *below, *above}) {
    rec.deallocate(p);
    ASSERT_TRUE(heap.validate());
  }
  rec.finish();
  const auto log2_above = static_cast<std::uint8_t>(std::countr_zero(2 * kDefault));
  const std::vector<TraceEvent> want = {{EventKind::kAllocate, 0, id_of(*at_default), 40},
                                        {EventKind::kAllocate, 0, id_of(*below), 4},
                                        {EventKind::kAllocate, log2_above, id_of(*above), 40},
                                        {EventKind::kFree, 0, id_of(*at_default), 0},
                                        {EventKind::kFree, 0, id_of(*below), 0},
                                        {EventKind::kFree, 0, id_of(*above), 0},
                                        {EventKind::kEnd, 0, 6, 0}};
  EXPECT_EQ(decode_all(drain(ring)), want);
}

// A freed over-aligned block leaves the table: a table of one serves any number of such blocks, one live at a time.
// (Kept, a freed block's entry would fill the table, and every later over-aligned block would be untracked.)
TYPED_TEST(RecordingHeapTest, AFreedAlignedBlockLeavesTheTable) {
  static TypeParam heap;
  RingBuffer<1024> ring;
  RecordingHeap<TypeParam, RingBuffer<1024>, NullLock, 1> rec(heap, ring);
  for (int i = 0; i < 3; ++i) {
    Result<void*> p = rec.allocate(100, 64);
    ASSERT_TRUE(p);
    ASSERT_TRUE(heap.validate());
    rec.deallocate(*p);
    ASSERT_TRUE(heap.validate());
  }
  EXPECT_EQ(rec.untracked_aligned(), 0u);
  EXPECT_EQ(rec.dropped(), 0u);
}

// Once an over-aligned block went untracked, a moved block the table does not hold is recorded with the alignment its
// addresses share, but still as 0 when that is no stricter than the default: a default block whose old address is
// aligned to exactly the default is a default block.
TYPED_TEST(RecordingHeapTest, AMovedDefaultBlockStaysDefaultAfterTheTableOverflowed) {
  static TypeParam heap;
  static RingBuffer<2048> ring;  // static: too large for a board's stack
  RecordingHeap<TypeParam, RingBuffer<2048>, NullLock, 1> rec(heap, ring);
  constexpr std::size_t kDefault = alignof(std::max_align_t);
  std::vector<void*> live;
  for (int i = 0; i < 2; ++i) {  // the second is untracked
    Result<void*> p = rec.allocate(100, 4 * kDefault);
    ASSERT_TRUE(p);
    ASSERT_TRUE(heap.validate());
    live.push_back(*p);
  }
  ASSERT_EQ(rec.untracked_aligned(), 1u);
  // Blocks of growing sizes shift the addresses: some old address is aligned to exactly the default, and its move to
  // an address aligned to at least the default is the case to check (the test fails if none came up). Every other
  // move is recorded with the alignment both addresses share where that is stricter than the default (the boards'
  // default is 8 bytes, and a move between two 16-byte-aligned addresses is recorded as 16): `expected` holds, for
  // each allocate event after the first two, what the contract says it records.
  const auto log2_of = [](std::uintptr_t a) { return static_cast<std::uint8_t>(std::countr_zero(a)); };
  std::vector<std::uint8_t> expected;
  int exact_default_moves = 0;
  for (std::size_t size = 24; size < 24 + 8 * kDefault && exact_default_moves == 0; size += 8) {
    Result<void*> p = rec.allocate(size);
    ASSERT_TRUE(p);
    ASSERT_TRUE(heap.validate());
    expected.push_back(0);
    Result<void*> wall = rec.allocate(256);
    ASSERT_TRUE(wall);
    ASSERT_TRUE(heap.validate());
    expected.push_back(0);
    live.push_back(*wall);
    const auto from = reinterpret_cast<std::uintptr_t>(*p);
    Result<void*> moved = rec.reallocate(*p, 300);
    ASSERT_TRUE(moved);
    ASSERT_TRUE(heap.validate());
    live.push_back(*moved);
    const auto to = reinterpret_cast<std::uintptr_t>(*moved);
    if (*moved == *p) continue;  // resized in place: a reallocate event, no allocate
    const std::uint8_t shared = std::min(log2_of(from), log2_of(to));
    expected.push_back((std::size_t{1} << shared) > kDefault ? shared : 0);
    if (from % kDefault == 0 && from % (2 * kDefault) != 0 && to % kDefault == 0) ++exact_default_moves;
  }
  EXPECT_GT(exact_default_moves, 0) << "no old address aligned to exactly the default: the case was not tested";
  for (void* p : live) {
    rec.deallocate(p);
    ASSERT_TRUE(heap.validate());
  }
  EXPECT_EQ(rec.dropped(), 0u);
  const std::vector<TraceEvent> events = decode_all(drain(ring));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].align_log2, std::countr_zero(4 * kDefault));
  EXPECT_EQ(events[1].align_log2, std::countr_zero(4 * kDefault));
  std::vector<std::uint8_t> recorded;
  for (std::size_t i = 2; i < events.size(); ++i) {
    if (events[i].kind == EventKind::kAllocate) recorded.push_back(events[i].align_log2);
  }
  EXPECT_EQ(recorded, expected);
}

// A reallocate the heap refuses changes nothing, so nothing is recorded, and the block stays where it was, whole.
TYPED_TEST(RecordingHeapTest, AFailedReallocateIsNotRecorded) {
  static TypeParam heap;
  RingBuffer<256> ring;
  RecordingHeap rec(heap, ring);
  Result<void*> a = rec.allocate(64);
  ASSERT_TRUE(a);
  ASSERT_TRUE(heap.validate());
  std::memset(*a, 0x3c, 64);
  Result<void*> grown = rec.reallocate(*a, 1 << 20);  // more than the heap holds
  ASSERT_FALSE(grown);
  ASSERT_TRUE(heap.validate());
  for (int i = 0; i < 64; ++i) EXPECT_EQ(static_cast<unsigned char*>(*a)[i], 0x3c);
  rec.deallocate(*a);
  ASSERT_TRUE(heap.validate());
  rec.finish();
  EXPECT_EQ(rec.events(), 2u);
  const std::vector<TraceEvent> want = {
      {EventKind::kAllocate, 0, id_of(*a), 64}, {EventKind::kFree, 0, id_of(*a), 0}, {EventKind::kEnd, 0, 2, 0}};
  EXPECT_EQ(decode_all(drain(ring)), want);
}

// A sink that refuses the header: the loss is counted at once, and so by the end record, like any lost event.
TYPED_TEST(RecordingHeapTest, ARefusedHeaderIsCountedAsDropped) {
  static TypeParam heap;
  RingBuffer<4> ring;  // smaller than the 8-byte header
  RecordingHeap rec(heap, ring);
  EXPECT_EQ(rec.dropped(), 1u);
  EXPECT_EQ(rec.events(), 0u);
  EXPECT_EQ(ring.size(), 0u);
}

/// A stand-in heap that hands out addresses it is told (never dereferenced: the wrapper only records them), for
/// address cases a real heap cannot be steered into. It holds no memory, so there is nothing to validate.
struct ScriptedHeap {
  std::uintptr_t next = 0;
  Result<void*> allocate(std::size_t) noexcept { return reinterpret_cast<void*>(next); }
  Result<void*> allocate(std::size_t, std::size_t) noexcept { return reinterpret_cast<void*>(next); }
  Result<void*> reallocate(void*, std::size_t) noexcept { return reinterpret_cast<void*>(next); }
  void deallocate(void*) noexcept {}
};

// An untracked over-aligned block moved between two addresses aligned to 2^31 and more (a heap over a mapping of a
// GiB or more may hand those out) is recorded with the largest alignment the format holds, 2^30: an exponent above
// kMaxAlignLog2 would be written, and refused by every reader as a corrupt alignment.
TEST(RecordingHeapAddresses, AMoveBetweenAddressesAlignedAbove2To30IsRecordedAtTheFormatsLimit) {
  if constexpr (sizeof(std::uintptr_t) < 8) GTEST_SKIP() << "needs addresses above 2^32";
  ScriptedHeap heap;
  RingBuffer<256> ring;
  RecordingHeap<ScriptedHeap, RingBuffer<256>, NullLock, 1> rec(heap, ring);
  heap.next = 0x1000;
  ASSERT_TRUE(rec.allocate(100, 64));  // takes the table's one entry
  heap.next = std::uintptr_t{1} << 31;
  Result<void*> far = rec.allocate(100, 64);  // untracked
  ASSERT_TRUE(far);
  ASSERT_EQ(rec.untracked_aligned(), 1u);
  heap.next = static_cast<std::uintptr_t>(std::uint64_t{1} << 33);
  Result<void*> moved = rec.reallocate(*far, 1000);
  ASSERT_TRUE(moved);
  rec.finish();
  const std::vector<TraceEvent> events = decode_all(drain(ring));
  ASSERT_EQ(events.size(), 5u);  // 2 allocates, the move's allocate and free, the end record
  EXPECT_EQ(events[2], (TraceEvent{EventKind::kAllocate, kMaxAlignLog2, std::uint64_t{1} << 30, 1000}));
}

TEST(RingBuffer, WrapsAroundAndRefusesWhatDoesNotFit) {
  RingBuffer<16> ring;
  std::byte in[10];
  for (int i = 0; i < 10; ++i) in[i] = static_cast<std::byte>(i);
  std::byte out[16];
  for (int round = 0; round < 5; ++round) {  // the counters pass the end of the array several times
    ASSERT_TRUE(ring.write(in));
    EXPECT_FALSE(ring.write(in));  // 6 bytes free: all or nothing
    EXPECT_EQ(ring.size(), 10u);
    ASSERT_EQ(ring.read(out), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], in[i]);
  }
  EXPECT_EQ(ring.read(out), 0u);
}

TEST(RingBuffer, AWriteThatExactlyFillsTheFreeSpaceIsTaken) {
  RingBuffer<16> ring;
  std::byte in[16];
  for (int i = 0; i < 16; ++i) in[i] = static_cast<std::byte>(i);
  std::byte out[16];
  ASSERT_TRUE(ring.write(in)) << "an empty ring refused its capacity";
  EXPECT_EQ(ring.size(), 16u);
  EXPECT_FALSE(ring.write(std::span<const std::byte>(in, 1)));
  ASSERT_EQ(ring.read(std::span<std::byte>(out, 6)), 6u);
  ASSERT_TRUE(ring.write(std::span<const std::byte>(in, 6))) << "6 bytes free, 6 written";  // wraps around the end
  EXPECT_EQ(ring.size(), 16u);
  ASSERT_EQ(ring.read(out), 16u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], in[6 + i]);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[10 + i], in[i]);
}

TEST(TraceEncoding, RoundTripsOnThisTarget) {
  const TraceEvent events[] = {{EventKind::kAllocate, 0, 0, 0},
                               {EventKind::kAllocate, 30, UINT64_MAX, UINT64_MAX},
                               {EventKind::kReallocate, 0, 127, 128},
                               {EventKind::kFree, 0, 1ull << 35, 0},
                               {EventKind::kEnd, 0, 3, 0}};
  for (const TraceEvent& e : events) {
    std::byte buf[kMaxEventBytes];
    const std::size_t n = encode(e, buf);
    EXPECT_LE(n, kMaxEventBytes);
    const Decoded d = decode(std::span<const std::byte>(buf, n), 0);
    ASSERT_EQ(d.error, DecodeError::kNone);
    EXPECT_EQ(d.event, e);
    EXPECT_EQ(d.next, n);
    // Every strict prefix is truncated, never misread.
    for (std::size_t k = 0; k < n; ++k) {
      const Decoded cut = decode(std::span<const std::byte>(buf, k), 0);
      EXPECT_EQ(cut.error, DecodeError::kTruncated);
      EXPECT_EQ(cut.error_offset, k) << "a truncation is reported at the end of the bytes";
    }
  }
}

}  // namespace
}  // namespace nostd::record
