// platform/malloc/chunk_region_source.h — ChunkRegionSource: the drop-in malloc's heap source, a RegionSource that
// also says where the chunk holding a pointer starts, so that an arena's heap finds a pointer's region in O(1).
//
// Why: each chunk an arena maps is one region of its heap (Arena::grow), and the heap's pointer check and safe
// unlinking look a pointer's region up on every free and on every unlink of a list neighbour. Without a source that
// locates regions, that lookup walks the heap's list of regions, newest first: a heap of 2 GiB is 33 regions, and a
// free + malloc of churn_bench over it cost 1,007 instructions against 466 over one chunk (604 with this source). The
// chunk map already knows, from the pointer alone, which arena owns the slot holding it, and a chunk starts at its
// slot's start:
//
//   p ──> chunk map: owner byte of p's slot ── this arena's? ──> region_start = p rounded down to kChunkBytes
//                                         └── another arena's, no arena's ──> nullptr (the heap walks, and refuses p)
//
// A partial chunk (RLIMIT_AS) also starts at its slot's start; a pointer in its slot's unmapped tail, or in an
// extension of it (a region of its own, after the first), is answered by the walk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/concepts/role.h"
#include "platform/malloc/chunk_map.h"

namespace nostd::malloc_door {

/// A heap source for one arena: no initial region (the arena adds each chunk with `add_region`), and region_start
/// answers for the chunks `map` records as this arena's once `locate_in` has named the map and the owner byte.
class ChunkRegionSource {
 public:
  using policy_role = role::Source;
  /// The arena hands the heap its chunks through `add_region`.
  static constexpr bool kAcceptsRegions = true;
  /// Every chunk the arena adds is a fresh anonymous mapping (Arena::grow), all zero until the heap hands it out:
  /// calloc's BasicHeap::allocate_zeroed leaves what was never handed out untouched.
  static constexpr bool kZeroedMemory = true;

  /// Locates nothing until `locate_in`. `constexpr`: the arenas are `constinit`.
  constexpr ChunkRegionSource() noexcept = default;

  /// No initial region.
  std::span<std::byte> acquire() noexcept { return {}; }

  /// From now on, the chunks `map` records for owner byte `owner` (1..kMaxArenas) are this heap's. Called under the
  /// arena's lock, before the chunk's owner byte is written (Arena::grow), so a lookup that finds the byte finds these.
  void locate_in(const ChunkMap& map, std::uint8_t owner) noexcept {
    map_ = &map;
    owner_ = owner;
  }

  /// The start of the chunk holding `p` when the chunk map records it as this arena's, else nullptr. O(1): the owner
  /// byte (partial chunks: its table entry), no lock (chunk_map.h: a chunk is registered before any block in it is
  /// handed out).
  const std::byte* region_start(const void* p) const noexcept {
    if (map_ == nullptr) return nullptr;
    const std::uint8_t raw = map_->owner(p);
    if (raw != owner_ && map_->owner_in_partial_slot(p, raw) != owner_) return nullptr;
    return reinterpret_cast<const std::byte*>(reinterpret_cast<std::uintptr_t>(p) & ~(kChunkBytes - 1));
  }

 private:
  const ChunkMap* map_ = nullptr;
  std::uint8_t owner_ = 0;
};

}  // namespace nostd::malloc_door
