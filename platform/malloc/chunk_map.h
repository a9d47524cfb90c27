// platform/malloc/chunk_map.h — ChunkMap: which arena owns a pointer, in O(1), from the pointer alone.
//
// Terms: a *slot* is kChunkBytes of address space aligned to kChunkBytes. A *chunk* is the memory one mmap maps at the
// start of a slot and hands to one arena's heap as one region: the whole slot, or, where a limit on the address space
// (RLIMIT_AS) refuses that, a *partial chunk* of a power of two down to kMinChunkBytes, whose slot's rest stays
// unmapped (the *tail*). The *chunk map* has one byte per slot of the user address space: 0 when the slot is not an
// arena's, else the owning arena's index plus one; for a partial chunk, kPartialSlot plus the index of its entry in a
// table of partial chunks (its arena owner and its length). Its arena may later extend a partial chunk in place, into
// the tail right after it (map_chunk_extension), when that is where the free address space is; the entry's length
// then grows:
//
//   pointer p ──> slot p >> kChunkShift ──> owner byte ──> arenas[owner - 1]
//                                             │ kPartialSlot + i (slow path only): partials[i] = {owner, length};
//                                             │ p below slot start + length ──> arenas[owner - 1],
//                                             └─ else kNoOwner (a tail pointer: a huge block, or foreign memory)
//
// Why a byte of its own for partial slots: the kernel may hand a tail to any later mapping — a huge block, the
// program's own mmap — and free must not send such a pointer to an arena (which reads a header in front of it). The
// callers already compare the owner byte with the arena count to catch a byte of no arena; a partial slot's byte is
// larger than any arena owner, so it takes that existing branch, and free's fast path pays nothing for it. Why a table
// of kMaxPartialChunks entries rather than a length per slot: a second byte per slot would be 2 MiB more .bss, which
// counts against the very RLIMIT_AS that partial chunks are for (2 MiB of the limit: one smallest partial chunk);
// 128 entries are 256 bytes, and an arena that finds the table full grows by whole chunks only, as before.
//
// Invariant, which makes the aligned-address probes of map_chunk_at_slot safe: a slot is owned only while its first
// bytes are mapped by its chunk (chunks are never unmapped once registered). So a mapping the kernel gives us that
// covers a slot's start, or that MAP_FIXED_NOREPLACE places at a slot's start, is never in an owned slot.
//
// Trade-off: 2^(47 - 26) one-byte slots are 2 MiB of zero-initialised .bss, but the kernel backs only the pages that
// a registered chunk touches (one 4 KiB page covers 256 GiB of address space), so the real cost is a page or two. A
// lookup is one load and needs no lock: a chunk is registered before any block in it is handed out, and a pointer
// reaches another thread only through that program's own synchronisation.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "platform/malloc/errno_kept.h"

namespace nostd::malloc_door {

/// log2 of the chunk size: 64 MiB chunks. Blocks of the heaps never exceed a chunk (larger requests are mapped
/// directly), so one chunk per region is enough and the map stays small.
inline constexpr unsigned kChunkShift = 26;
/// Bytes of one chunk (address space; the kernel commits pages only when touched).
inline constexpr std::size_t kChunkBytes = std::size_t{1} << kChunkShift;
/// User-space address bits on x86_64 and riscv64 Sv48 (mmap never returns higher addresses unless asked to).
inline constexpr unsigned kAddressBits = 47;

/// log2 of the smallest partial chunk: 2 MiB. A chunk must hold any request below kHugeThreshold (1 MiB, aligned up to
/// 64 KiB: malloc_door.cc checks it at compile time), so that the retry after a growth succeeds; a larger request an
/// arena serves once the huge threshold has risen is mapped on its own when a partial chunk cannot hold it.
/// Smaller floors would come closer to the limit (at most one floor's worth is left unused) but cost one more refused
/// mmap per halving on every growth that fails, and one more region per arena.
inline constexpr unsigned kMinChunkShift = 21;
/// Bytes of the smallest partial chunk.
inline constexpr std::size_t kMinChunkBytes = std::size_t{1} << kMinChunkShift;

static_assert(kChunkShift < kAddressBits, "ChunkMap: a chunk must be smaller than the address space");
static_assert(kMinChunkShift <= kChunkShift, "ChunkMap: a partial chunk cannot be larger than a whole one");

namespace internal {

inline constexpr int kChunkMapFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

/// A chunk of `bytes` (a multiple of the page size, at most kChunkBytes) at the start of a slot, where no more than
/// `bytes` can be mapped at once: `bytes` wherever the kernel puts them, kept if they happen to start a slot; else
/// their address shows free address space, and they are asked for at the slot start below it, then at the one above,
/// each with MAP_FIXED_NOREPLACE (never over an existing mapping, so never in an owned slot, whose start is mapped).
/// Without it, under `ulimit -v 100000` the first chunk's double reservation (128 MiB) failed and with it every
/// malloc, python3's and sqlite3's first ones included, where glibc's served them.
inline std::byte* map_chunk_at_slot(std::size_t bytes) noexcept {
  void* const raw = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, kChunkMapFlags, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(raw);
  if ((base & (kChunkBytes - 1)) == 0) return static_cast<std::byte*>(raw);
  ::munmap(raw, bytes);
  const std::uintptr_t below = base & ~(kChunkBytes - 1);
  for (const std::uintptr_t at : {below, below + kChunkBytes}) {
    void* const hint = reinterpret_cast<void*>(at);
    void* const got = ::mmap(hint, bytes, PROT_READ | PROT_WRITE, kChunkMapFlags | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == hint) return static_cast<std::byte*>(got);
    if (got != MAP_FAILED) ::munmap(got, bytes);  // a kernel before 4.17 takes the flag for a mere hint
  }
  return nullptr;
}

}  // namespace internal

/// Maps one chunk: kChunkBytes of anonymous read-write memory aligned to kChunkBytes (MAP_NORESERVE: address
/// space, committed page by page on first touch). Returns nullptr when the system refuses; leaves errno alone
/// either way (a refused first try is no failure when the second succeeds). Reserves twice the size and unmaps the
/// unaligned ends: three system calls, paid once per 64 MiB. Where the address space left (RLIMIT_AS, `ulimit -v`)
/// cannot take twice a chunk for a moment, maps one chunk exactly (map_chunk_at_slot), as glibc's new_heap falls back
/// to one heap's size.
inline std::byte* map_chunk() noexcept {
  const ErrnoKept kept;
  void* const raw = ::mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE, internal::kChunkMapFlags, -1, 0);
  if (raw == MAP_FAILED) return internal::map_chunk_at_slot(kChunkBytes);
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (base + kChunkBytes - 1) & ~(kChunkBytes - 1);
  if (aligned != base) ::munmap(raw, aligned - base);
  const std::uintptr_t tail = aligned + kChunkBytes;
  const std::uintptr_t raw_end = base + 2 * kChunkBytes;
  if (raw_end != tail) ::munmap(reinterpret_cast<void*>(tail), raw_end - tail);
  return reinterpret_cast<std::byte*>(aligned);
}

/// Maps a partial chunk of `bytes` (a power of two from kMinChunkBytes to kChunkBytes / 2) at the start of a slot, for
/// an arena whose whole chunk the system refused (map_chunk): the rest of the slot stays unmapped, and is recorded so
/// (ChunkMap::claim_partial). nullptr when the system refuses; errno kept either way.
inline std::byte* map_partial_chunk(std::size_t bytes) noexcept {
  const ErrnoKept kept;
  return internal::map_chunk_at_slot(bytes);
}

/// Maps `bytes` exactly at `at` (the end of a partial chunk, inside its slot), never over an existing mapping
/// (MAP_FIXED_NOREPLACE): for the arena that owns the slot, which then extends the chunk's length
/// (ChunkMap::extend_partial). nullptr when the address is taken or the system refuses; errno kept either way.
inline std::byte* map_chunk_extension(std::byte* at, std::size_t bytes) noexcept {
  const ErrnoKept kept;
  void* const got = ::mmap(at, bytes, PROT_READ | PROT_WRITE, internal::kChunkMapFlags | MAP_FIXED_NOREPLACE, -1, 0);
  if (got == static_cast<void*>(at)) return at;
  if (got != MAP_FAILED) ::munmap(got, bytes);  // a kernel before 4.17 takes the flag for a mere hint
  return nullptr;
}

/// One owner byte per slot of the address space, and the length of each partial chunk; all operations are O(1) and
/// lock-free. Meant for static storage, where it starts zeroed (every slot unowned) without running any code: the
/// type is trivial on purpose, since a constexpr constructor would make the compiler evaluate two million
/// initialisers.
class ChunkMap {
 public:
  /// The owner value of a slot no arena has registered.
  static constexpr std::uint8_t kNoOwner = 0;
  /// The owner bytes from kPartialSlot up name the entries of the partial-chunk table (see the file comment). Arena
  /// owners stay below it (arena_set.h checks kMaxArenas at compile time), so such a byte exceeds every arena count.
  static constexpr std::uint8_t kPartialSlot = 0x80;
  /// Entries of the partial-chunk table: every owner byte from kPartialSlot to 0xff.
  static constexpr unsigned kMaxPartialChunks = 0x100 - kPartialSlot;

  ChunkMap() noexcept = default;
  ChunkMap(const ChunkMap&) = delete;
  ChunkMap& operator=(const ChunkMap&) = delete;

  /// The owner byte registered for the slot holding `ptr` (kNoOwner for pointers outside every arena chunk,
  /// including addresses beyond kAddressBits); a partial chunk's byte is kPartialSlot or more: a caller that finds a
  /// byte above its arena count passes it to owner_in_partial_slot. O(1), one load.
  std::uint8_t owner(const void* ptr) const noexcept {
    const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(ptr) >> kChunkShift;
    if (slot >= kSlots) return kNoOwner;
    return __atomic_load_n(&owners_[slot], __ATOMIC_RELAXED);
  }

  /// The slow path for an owner byte `raw` (from owner(ptr)) of kPartialSlot or more: the partial chunk's arena owner
  /// when `ptr` lies inside the chunk, kNoOwner when it lies in the slot's tail (never an arena block: a huge block,
  /// or memory malloc never returned). A byte below kPartialSlot comes back unchanged. O(1).
  std::uint8_t owner_in_partial_slot(const void* ptr, std::uint8_t raw) const noexcept {
    if (raw < kPartialSlot) return raw;
    const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(ptr);
    // The acquire load pairs with set_owner's release store, so the entry written before it is seen (the caller's
    // relaxed load alone would not order the two).
    (void)__atomic_load_n(&owners_[at >> kChunkShift], __ATOMIC_ACQUIRE);
    const Partial& entry = partials_[raw - kPartialSlot];
    const std::size_t length = std::size_t{__atomic_load_n(&entry.length_units, __ATOMIC_RELAXED)} << kMinChunkShift;
    const bool inside = (at & (kChunkBytes - 1)) < length;
    return inside ? __atomic_load_n(&entry.owner, __ATOMIC_RELAXED) : kNoOwner;
  }

  /// True while the partial-chunk table has a free entry (claim_partial may still fail when threads race for the
  /// last one). Lets a growth skip mapping a partial chunk that it could not record.
  bool partial_room() const noexcept { return __atomic_load_n(&partials_used_, __ATOMIC_RELAXED) < kMaxPartialChunks; }

  /// Takes an entry of the partial-chunk table for a partial chunk of `bytes` (a multiple of kMinChunkBytes below
  /// kChunkBytes) of arena `owner` (1..kPartialSlot - 1), and returns the owner byte that names it, for set_owner;
  /// kNoOwner when the table is full. Entries are never given back: chunks stay mapped for the life of the process.
  /// O(1), lock-free.
  std::uint8_t claim_partial(std::uint8_t owner, std::size_t bytes) noexcept {
    unsigned used = __atomic_load_n(&partials_used_, __ATOMIC_RELAXED);
    do {
      if (used >= kMaxPartialChunks) return kNoOwner;
    } while (!__atomic_compare_exchange_n(&partials_used_, &used, used + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    Partial& entry = partials_[used];
    __atomic_store_n(&entry.owner, owner, __ATOMIC_RELAXED);
    __atomic_store_n(&entry.length_units, static_cast<std::uint8_t>(bytes >> kMinChunkShift), __ATOMIC_RELAXED);
    return static_cast<std::uint8_t>(kPartialSlot + used);
  }

  /// Sets the length of the partial chunk named by owner byte `slot_owner` (from claim_partial) to `bytes` (a
  /// multiple of kMinChunkBytes, up to kChunkBytes, and larger than before): its arena has mapped the memory right
  /// after it (map_chunk_extension). Called before any block of the new memory is handed out, by the arena that
  /// owns the slot only (under its lock). O(1).
  void extend_partial(std::uint8_t slot_owner, std::size_t bytes) noexcept {
    __atomic_store_n(&partials_[slot_owner - kPartialSlot].length_units,
                     static_cast<std::uint8_t>(bytes >> kMinChunkShift), __ATOMIC_RELEASE);
  }

  /// Records owner byte `owner` for the chunk starting at `chunk` (from map_chunk or map_partial_chunk): an arena
  /// owner (1..kPartialSlot - 1) for a whole chunk, the byte claim_partial returned for a partial one. Returns false
  /// when the chunk lies beyond kAddressBits and cannot be recorded (the caller then must not use it; recordable
  /// tells beforehand).
  bool set_owner(const std::byte* chunk, std::uint8_t owner) noexcept {
    if (!recordable(chunk)) return false;
    __atomic_store_n(&owners_[reinterpret_cast<std::uintptr_t>(chunk) >> kChunkShift], owner, __ATOMIC_RELEASE);
    return true;
  }

  /// True when set_owner can record a chunk at `chunk` (its slot lies below kAddressBits).
  static bool recordable(const std::byte* chunk) noexcept {
    return (reinterpret_cast<std::uintptr_t>(chunk) >> kChunkShift) < kSlots;
  }

 private:
  static constexpr std::size_t kSlots = std::size_t{1} << (kAddressBits - kChunkShift);

  // One partial chunk: its arena and its length in units of kMinChunkBytes (at most kChunkBytes / kMinChunkBytes).
  struct Partial {
    std::uint8_t owner;
    std::uint8_t length_units;
  };
  static_assert((kChunkBytes >> kMinChunkShift) <= 0xff, "ChunkMap: a partial chunk's length must fit its byte");

  // Accessed only through __atomic builtins (std::atomic_ref needs a non-const view).
  std::uint8_t owners_[kSlots];
  Partial partials_[kMaxPartialChunks];
  unsigned partials_used_;  // entries of partials_ claimed; only grows
};

}  // namespace nostd::malloc_door
