// platform/malloc/chunk_map.h — ChunkMap: which arena owns a pointer, in O(1), from the pointer alone.
//
// Terms: a *chunk* is kChunkBytes of address space aligned to kChunkBytes, reserved with one mmap and handed to one
// arena's heap as one region. The *chunk map* has one byte per possible chunk of the user address space: 0 when
// the chunk is not an arena's, else the owning arena's index plus one.
//
//   pointer p ──> slot p >> kChunkShift ──> owner byte ──> arenas[owner - 1]
//
// Trade-off: 2^(47 - 26) one-byte slots are 2 MiB of zero-initialised .bss, but the kernel backs only the pages
// that a registered chunk touches (one 4 KiB page covers 256 GiB of address space), so the real cost is a page
// or two. A lookup is one load and needs no lock: a chunk is registered before any block in it is handed out, and
// a pointer reaches another thread only through that program's own synchronisation.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

#include "platform/malloc/errno_kept.h"

namespace nostd::malloc_door {

/// log2 of the chunk size: 64 MiB chunks. Blocks of the heaps never exceed a chunk (larger requests are mapped
/// directly), so one chunk per region is enough and the map stays small.
inline constexpr unsigned kChunkShift = 26;
/// Bytes of one chunk (address space; the kernel commits pages only when touched).
inline constexpr std::size_t kChunkBytes = std::size_t{1} << kChunkShift;
/// User-space address bits on x86_64 and riscv64 Sv48 (mmap never returns higher addresses unless asked to).
inline constexpr unsigned kAddressBits = 47;

static_assert(kChunkShift < kAddressBits, "ChunkMap: a chunk must be smaller than the address space");

namespace internal {

inline constexpr int kChunkMapFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

/// A chunk where no more than kChunkBytes can be mapped at once: one chunk wherever the kernel puts it, kept if it
/// happens to be aligned; else its address shows free address space, and a chunk is asked for at the aligned
/// address below it, then at the one above, each with MAP_FIXED_NOREPLACE (never over an existing mapping).
/// Without it, under `ulimit -v 100000` the first chunk's double reservation (128 MiB) failed and with it every
/// malloc, python3's and sqlite3's first ones included, where glibc's served them.
inline std::byte* map_chunk_exactly() noexcept {
  void* const raw = ::mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, kChunkMapFlags, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(raw);
  if ((base & (kChunkBytes - 1)) == 0) return static_cast<std::byte*>(raw);
  ::munmap(raw, kChunkBytes);
  const std::uintptr_t below = base & ~(kChunkBytes - 1);
  for (const std::uintptr_t at : {below, below + kChunkBytes}) {
    void* const hint = reinterpret_cast<void*>(at);
    void* const got = ::mmap(hint, kChunkBytes, PROT_READ | PROT_WRITE, kChunkMapFlags | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == hint) return static_cast<std::byte*>(got);
    if (got != MAP_FAILED) ::munmap(got, kChunkBytes);  // a kernel before 4.17 takes the flag for a mere hint
  }
  return nullptr;
}

}  // namespace internal

/// Maps one chunk: kChunkBytes of anonymous read-write memory aligned to kChunkBytes (MAP_NORESERVE: address
/// space, committed page by page on first touch). Returns nullptr when the system refuses; leaves errno alone
/// either way (a refused first try is no failure when the second succeeds). Reserves twice the size and unmaps the
/// unaligned ends: three system calls, paid once per 64 MiB. Where the address space left (RLIMIT_AS, `ulimit -v`)
/// cannot take twice a chunk for a moment, maps one chunk exactly (map_chunk_exactly), as glibc's new_heap falls back
/// to one heap's size.
inline std::byte* map_chunk() noexcept {
  const ErrnoKept kept;
  void* const raw = ::mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE, internal::kChunkMapFlags, -1, 0);
  if (raw == MAP_FAILED) return internal::map_chunk_exactly();
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (base + kChunkBytes - 1) & ~(kChunkBytes - 1);
  if (aligned != base) ::munmap(raw, aligned - base);
  const std::uintptr_t tail = aligned + kChunkBytes;
  const std::uintptr_t raw_end = base + 2 * kChunkBytes;
  if (raw_end != tail) ::munmap(reinterpret_cast<void*>(tail), raw_end - tail);
  return reinterpret_cast<std::byte*>(aligned);
}

/// One owner byte per chunk of the address space; all operations are O(1) and lock-free. Meant for static
/// storage, where it starts zeroed (every chunk unowned) without running any code: the type is trivial on
/// purpose, since a constexpr constructor would make the compiler evaluate two million initialisers.
class ChunkMap {
 public:
  /// The owner value of a chunk no arena has registered.
  static constexpr std::uint8_t kNoOwner = 0;

  ChunkMap() noexcept = default;
  ChunkMap(const ChunkMap&) = delete;
  ChunkMap& operator=(const ChunkMap&) = delete;

  /// The owner registered for the chunk holding `ptr` (kNoOwner for pointers outside every arena chunk,
  /// including addresses beyond kAddressBits).
  std::uint8_t owner(const void* ptr) const noexcept {
    const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(ptr) >> kChunkShift;
    if (slot >= kSlots) return kNoOwner;
    return __atomic_load_n(&slots_[slot], __ATOMIC_RELAXED);
  }

  /// Records `owner` (non-zero) for the chunk starting at `chunk` (from map_chunk). Returns false when the chunk
  /// lies beyond kAddressBits and cannot be recorded (the caller then must not use it).
  bool set_owner(const std::byte* chunk, std::uint8_t owner) noexcept {
    const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(chunk) >> kChunkShift;
    if (slot >= kSlots) return false;
    __atomic_store_n(&slots_[slot], owner, __ATOMIC_RELAXED);
    return true;
  }

 private:
  static constexpr std::size_t kSlots = std::size_t{1} << (kAddressBits - kChunkShift);
  std::uint8_t slots_[kSlots];  // accessed only through __atomic builtins (std::atomic_ref needs a non-const view)
};

}  // namespace nostd::malloc_door
