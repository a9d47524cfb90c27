// tests/chunk_map_test.cc — ChunkMap's routing of pointers in partial chunks' slots (platform/malloc/chunk_map.h):
// a pointer inside a partial chunk goes to its arena, one in the slot's unmapped tail to no arena (kNoOwner, so that
// free looks for a huge block); an extension moves the boundary; a full table of partial chunks refuses more. And
// ChunkRegionSource (platform/malloc/chunk_region_source.h), which answers an arena heap's region lookups from the
// map. Only addresses are computed: nothing is mapped.
#include "platform/malloc/chunk_map.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "platform/malloc/chunk_region_source.h"
#include "platform/malloc/malloc_config.h"

namespace {

namespace door = nostd::malloc_door;

constexpr std::size_t kMiB = std::size_t{1} << 20;

door::ChunkMap g_map;  // static storage: zero, every slot unowned

const std::byte* slot(std::uintptr_t index) { return reinterpret_cast<const std::byte*>(index * door::kChunkBytes); }

TEST(ChunkMapTest, WholeChunkOwnsItsSlot) {
  ASSERT_TRUE(g_map.set_owner(slot(100), 3));
  EXPECT_EQ(g_map.owner(slot(100)), 3);
  EXPECT_EQ(g_map.owner(slot(100) + door::kChunkBytes - 1), 3);
  EXPECT_EQ(g_map.owner(slot(101)), door::ChunkMap::kNoOwner);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(100) + 5, 3), 3);  // a byte below kPartialSlot comes back unchanged
}

TEST(ChunkMapTest, PartialChunkRoutesByLength) {
  const std::uint8_t byte = g_map.claim_partial(5, 8 * kMiB);
  ASSERT_GE(byte, door::ChunkMap::kPartialSlot);
  ASSERT_TRUE(g_map.set_owner(slot(200), byte));
  const std::uint8_t raw = g_map.owner(slot(200) + kMiB);
  EXPECT_EQ(raw, byte);
  EXPECT_GT(raw, door::kMaxArenas) << "a partial slot's byte must take the callers' 'above the arena count' branch";
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + door::kMinChunkBytes, raw), 5);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + 8 * kMiB - 1, raw), 5);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + 8 * kMiB, raw), door::ChunkMap::kNoOwner);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + door::kChunkBytes - 16, raw), door::ChunkMap::kNoOwner);

  g_map.extend_partial(byte, 12 * kMiB);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + 8 * kMiB, raw), 5);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + 12 * kMiB - 1, raw), 5);
  EXPECT_EQ(g_map.owner_in_partial_slot(slot(200) + 12 * kMiB, raw), door::ChunkMap::kNoOwner);
}

// The map ends at kAddressBits: the last slot below it is recorded, an address at or beyond it has no owner (and is not
// read from past the owner bytes, where the partial-chunk table lies: here its first entry names arena 5).
TEST(ChunkMapTest, AddressesBeyondTheMapHaveNoOwner) {
  const auto owned = std::make_unique<door::ChunkMap>();  // zeroed, as g_map (2 MiB: too large for the stack)
  door::ChunkMap& map = *owned;
  ASSERT_EQ(map.claim_partial(5, 8 * kMiB), door::ChunkMap::kPartialSlot);
  const std::uintptr_t end = std::uintptr_t{1} << door::kAddressBits;
  const auto* const last = reinterpret_cast<const std::byte*>(end - door::kChunkBytes);
  ASSERT_TRUE(door::ChunkMap::recordable(last));
  ASSERT_TRUE(map.set_owner(last, 3));
  EXPECT_EQ(map.owner(reinterpret_cast<const void*>(end - 1)), 3);
  EXPECT_FALSE(door::ChunkMap::recordable(reinterpret_cast<const std::byte*>(end)));
  EXPECT_FALSE(map.set_owner(reinterpret_cast<const std::byte*>(end), 4));
  EXPECT_EQ(map.owner(reinterpret_cast<const void*>(end)), door::ChunkMap::kNoOwner);
  EXPECT_EQ(map.owner(reinterpret_cast<const void*>(UINTPTR_MAX)), door::ChunkMap::kNoOwner);
}

TEST(ChunkMapTest, FullTableRefusesPartialChunks) {
  // A fresh table, value-initialised (zeroed) on the heap: 2 MiB, too large for the stack.
  const auto owned = std::make_unique<door::ChunkMap>();
  door::ChunkMap& map = *owned;
  for (unsigned i = 0; i < door::ChunkMap::kMaxPartialChunks; ++i) {
    ASSERT_TRUE(map.partial_room());
    const std::uint8_t byte = map.claim_partial(1, door::kMinChunkBytes);
    ASSERT_EQ(byte, door::ChunkMap::kPartialSlot + i);
  }
  EXPECT_FALSE(map.partial_room());
  EXPECT_EQ(map.claim_partial(1, door::kMinChunkBytes), door::ChunkMap::kNoOwner);
}

// ChunkRegionSource names the start of a chunk the map records as its arena's, whole or partial (inside the chunk's
// length, extension included), and nothing else: another arena's chunk, an unowned slot, a partial chunk's tail, and
// anything before locate_in.
TEST(ChunkRegionSourceTest, NamesOnlyItsOwnArenasChunks) {
  const auto owned = std::make_unique<door::ChunkMap>();  // zeroed, as g_map (2 MiB: too large for the stack)
  door::ChunkMap& map = *owned;
  door::ChunkRegionSource source;
  ASSERT_TRUE(map.set_owner(slot(300), 2));
  EXPECT_EQ(source.region_start(slot(300) + 100), nullptr) << "before locate_in the source knows no chunk";

  source.locate_in(map, 2);
  EXPECT_EQ(source.region_start(slot(300)), slot(300));
  EXPECT_EQ(source.region_start(slot(300) + 12345), slot(300));
  EXPECT_EQ(source.region_start(slot(300) + door::kChunkBytes - 1), slot(300));
  ASSERT_TRUE(map.set_owner(slot(301), 3));
  EXPECT_EQ(source.region_start(slot(301) + 5), nullptr) << "arena 3's chunk";
  EXPECT_EQ(source.region_start(slot(302)), nullptr) << "an unowned slot";

  const std::uint8_t mine = map.claim_partial(2, 8 * kMiB);
  ASSERT_TRUE(map.set_owner(slot(310), mine));
  EXPECT_EQ(source.region_start(slot(310) + kMiB), slot(310));
  EXPECT_EQ(source.region_start(slot(310) + 8 * kMiB), nullptr) << "the partial chunk's unmapped tail";
  map.extend_partial(mine, 12 * kMiB);
  EXPECT_EQ(source.region_start(slot(310) + 8 * kMiB), slot(310)) << "the extension belongs to the chunk's slot";
  const std::uint8_t theirs = map.claim_partial(4, 8 * kMiB);
  ASSERT_TRUE(map.set_owner(slot(320), theirs));
  EXPECT_EQ(source.region_start(slot(320) + kMiB), nullptr) << "arena 4's partial chunk";
}

}  // namespace
