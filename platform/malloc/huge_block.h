// platform/malloc/huge_block.h — HugeBlocks: requests too large for an arena, each mapped directly with mmap.
//
// A huge block is one private anonymous mapping, returned to the system by munmap when freed:
//
//   | alignment padding | HugeHeader (32 bytes) | payload ................................ | page rounding |
//   ^ base                                      ^ payload (aligned as requested, at least kHugeAlignment)
//
//   base      start of the mapping (what munmap needs)
//   bytes     length of the mapping, a multiple of the page size
//   usable    payload bytes up to the mapping's end (malloc_usable_size)
//   seal      kSealKey ^ payload ^ bytes: a registered block whose seal does not match had its header overwritten
//
// Recognition is O(1): a pointer outside every arena chunk (ChunkMap) is huge exactly when the registry of live huge
// blocks (HugeRegistry: a hash set of payload addresses) holds it; only then is its header read. So a huge block
// freed twice, a stack or global pointer, or a foreign pointer at the start of a page whose predecessor is unmapped
// is reported as an invalid pointer, where reading the header first stopped the process with SIGSEGV (as glibc's
// munmap_chunk path still does). The seal then catches a header overwritten by the program (an underflow). What no
// check can see: a block freed, its address mapped again for a new huge block, and the old pointer freed again,
// which frees the new block, since both have the same address.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platform/malloc/errno_kept.h"
#include "platform/malloc/huge_registry.h"

namespace nostd::malloc_door {

/// Payload alignment of every huge block (the malloc guarantee on x86_64).
inline constexpr std::size_t kHugeAlignment = 16;

/// What sits just before a huge block's payload. 32 bytes, so a 16-aligned payload keeps a 16-aligned header.
struct HugeHeader {
  std::byte* base;      ///< Start of the mapping.
  std::size_t bytes;    ///< Length of the mapping.
  std::size_t usable;   ///< Payload bytes from the payload to the mapping's end.
  std::uintptr_t seal;  ///< kSealKey ^ payload address ^ bytes.
};
static_assert(sizeof(HugeHeader) % kHugeAlignment == 0,
              "HugeHeader: its size must keep a kHugeAlignment-aligned payload's header aligned too");

/// The directly mapped blocks, their registry and their counters (the counters lock-free; the registry has its
/// own lock).
class HugeBlocks {
 public:
  /// Counters for the statistics report.
  struct Counts {
    std::size_t maps;        ///< Huge blocks mapped (including moves by mremap).
    std::size_t unmaps;      ///< Huge blocks unmapped.
    std::size_t live_bytes;  ///< Bytes of live mappings (a freed block whose munmap failed stays mapped, and counted).
    std::size_t peak_bytes;  ///< Highest live_bytes seen.
    std::size_t unmap_failures;  ///< Freed blocks whose munmap the system refused (free: their pages were released).
  };

  /// Maps a block of at least `size` payload bytes aligned to `align` (a power of two; below kHugeAlignment it is
  /// raised to it) and registers it. nullptr when `align` is not a power of two, the size overflows, or the system
  /// refuses (the mapping, or the registry's growth).
  void* allocate(std::size_t size, std::size_t align) noexcept {
    if (align == 0 || (align & (align - 1)) != 0) return nullptr;
    if (align < kHugeAlignment) align = kHugeAlignment;
    const std::size_t page = page_size();
    const std::size_t front = sizeof(HugeHeader) + (align - kHugeAlignment);
    if (size > SIZE_MAX - front - page) return nullptr;
    const std::size_t bytes = (front + size + page - 1) & ~(page - 1);
    void* const raw = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    auto* const base = static_cast<std::byte*>(raw);
    const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(base) + sizeof(HugeHeader);
    std::byte* const payload = base + (((at + align - 1) & ~(align - 1)) - reinterpret_cast<std::uintptr_t>(base));
    seal(payload, base, bytes);
    if (!registry_.insert(reinterpret_cast<std::uintptr_t>(payload))) {
      ::munmap(raw, bytes);
      return nullptr;
    }
    note_mapped(bytes);
    return payload;
  }

  /// The header of live huge block `payload`, or nullptr when the registry does not hold `payload` (never a huge
  /// block, or freed already). Reads nothing at `payload` unless it is registered. O(1) expected; takes the
  /// registry's lock.
  HugeHeader* header_of(void* payload) noexcept {
    if (!registry_.contains(reinterpret_cast<std::uintptr_t>(payload))) return nullptr;
    return header_before(payload);
  }

  /// As header_of, and takes `payload` out of the registry: for free, so that of two threads freeing the same
  /// block one gets the header and the other nullptr. O(1) expected; takes the registry's lock.
  HugeHeader* claim(void* payload) noexcept {
    if (!registry_.remove(reinterpret_cast<std::uintptr_t>(payload))) return nullptr;
    return header_before(payload);
  }

  /// True when the header of registered block `payload` still carries its seal (false: the program wrote over it).
  static bool intact(const HugeHeader* header, const void* payload) noexcept {
    return header->seal == (kSealKey ^ reinterpret_cast<std::uintptr_t>(payload) ^ header->bytes);
  }

  /// Unmaps the block of `header` (claimed: no longer registered). O(1) plus munmap. False when the system refuses
  /// the munmap: it does when unmapping the block would split a mapping the kernel merged with its neighbours (adjacent
  /// anonymous mappings of the same protection become one) and the process is at vm.max_map_count (ENOMEM). The block
  /// then stays mapped and out of the registry (a second free of it is still reported), its pages are given back with
  /// madvise(MADV_DONTNEED), which splits nothing, and it is counted in unmap_failures, not in unmaps, its bytes still
  /// in live_bytes: the address range leaks, the memory does not. glibc ignores munmap's result and leaks the pages
  /// too.
  bool free(HugeHeader* header) noexcept {
    std::byte* const base = header->base;
    const std::size_t bytes = header->bytes;
    const ErrnoKept kept;  // free leaves errno alone
    if (::munmap(base, bytes) != 0) [[unlikely]] {
      ::madvise(base, bytes, MADV_DONTNEED);
      unmap_failures_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    unmaps_.fetch_add(1, std::memory_order_relaxed);
    live_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    return true;
  }

  /// Resizes registered block `old_payload` (of kHugeAlignment alignment, with header `header`) with mremap (the
  /// kernel moves page tables, not bytes), and moves its registration in the same step. Returns the new payload, or
  /// nullptr when the system refuses (the old block is then unchanged) or `old_payload` is no longer registered.
  /// Blocks allocated with a larger alignment are moved by the caller (mremap keeps only page alignment).
  void* resize(void* old_payload, HugeHeader* header, std::size_t size) noexcept {
    const std::size_t page = page_size();
    if (size > SIZE_MAX - sizeof(HugeHeader) - page) return nullptr;
    const std::size_t bytes = (sizeof(HugeHeader) + size + page - 1) & ~(page - 1);
    std::size_t old_bytes = 0;
    std::byte* payload = nullptr;
    // The header is read only inside move, once the registry has confirmed under its lock that the block is live
    // (another thread's free of it, a race in the program, then finds it missing instead of unmapped under us).
    registry_.move(reinterpret_cast<std::uintptr_t>(old_payload), [&]() noexcept -> std::uintptr_t {
      old_bytes = header->bytes;
      void* const moved = ::mremap(header->base, old_bytes, bytes, MREMAP_MAYMOVE);
      if (moved == MAP_FAILED) return 0;
      auto* const base = static_cast<std::byte*>(moved);
      payload = base + sizeof(HugeHeader);
      seal(payload, base, bytes);
      return reinterpret_cast<std::uintptr_t>(payload);
    });
    if (payload == nullptr) return nullptr;
    live_bytes_.fetch_sub(old_bytes, std::memory_order_relaxed);
    note_mapped(bytes);
    unmaps_.fetch_add(1, std::memory_order_relaxed);
    return payload;
  }

  /// True when `header`'s block has the default alignment (its payload follows the header at the mapping start).
  static bool default_aligned(const HugeHeader* header) noexcept {
    return reinterpret_cast<const std::byte*>(header) == header->base;
  }

  /// The registry of live huge blocks, for the fork handlers (HugeRegistry::lock_for_fork, unlock_after_fork,
  /// reset_lock).
  HugeRegistry& registry() noexcept { return registry_; }

  /// A snapshot of the counters.
  Counts counts() const noexcept {
    return {maps_.load(std::memory_order_relaxed), unmaps_.load(std::memory_order_relaxed),
            live_bytes_.load(std::memory_order_relaxed), peak_bytes_.load(std::memory_order_relaxed),
            unmap_failures_.load(std::memory_order_relaxed)};
  }

 private:
  // An arbitrary odd constant: a header must match it mixed with its own address, which random data or a header
  // copied elsewhere does not.
  static constexpr std::uintptr_t kSealKey = static_cast<std::uintptr_t>(0x9e3779b97f4a7c15ULL);

  static std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

  static HugeHeader* header_before(void* payload) noexcept {
    return reinterpret_cast<HugeHeader*>(static_cast<std::byte*>(payload) - sizeof(HugeHeader));
  }

  static void seal(std::byte* payload, std::byte* base, std::size_t bytes) noexcept {
    auto* const header = reinterpret_cast<HugeHeader*>(payload - sizeof(HugeHeader));
    header->base = base;
    header->bytes = bytes;
    header->usable = static_cast<std::size_t>(base + bytes - payload);
    header->seal = kSealKey ^ reinterpret_cast<std::uintptr_t>(payload) ^ bytes;
  }

  void note_mapped(std::size_t bytes) noexcept {
    maps_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t live = live_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    std::size_t peak = peak_bytes_.load(std::memory_order_relaxed);
    while (live > peak && !peak_bytes_.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
  }

  HugeRegistry registry_;
  std::atomic<std::size_t> maps_{0};
  std::atomic<std::size_t> unmaps_{0};
  std::atomic<std::size_t> live_bytes_{0};
  std::atomic<std::size_t> peak_bytes_{0};
  std::atomic<std::size_t> unmap_failures_{0};
};

}  // namespace nostd::malloc_door
