// platform/malloc/huge_registry.h — HugeRegistry: the payload addresses of the live huge blocks, so that free,
// realloc and malloc_usable_size read a huge block's header only once they know its mapping exists.
//
// Open addressing with linear probing over a table of its own mapping (mmap: no malloc inside malloc). The table
// holds a power of two of slots, at most half of them used; an insert that would pass half doubles it (a new
// mapping, every entry moved, the old mapping unmapped). A removal shifts the entries after it back towards their
// home slots instead of leaving a tombstone, so a lookup ends at the first empty slot:
//
//   home = (payload x golden ratio) >> (64 - log2 capacity)
//   slots[home], slots[home + 1], ...   payload: found   0: absent
//
// Trade-off: one lock and one hash per huge allocate, free, realloc and malloc_usable_size, each of which already
// makes a system call (mmap, munmap, mremap) of microseconds, or reads a header on a page of its own. The
// alternatives: the header's seal alone, which reads the header first, and so stops the process with SIGSEGV on a
// huge block freed twice (its pages are unmapped) or on a foreign pointer at the start of a page whose predecessor
// is unmapped; or asking the kernel (mincore or msync: a system call per lookup, and both report PROT_NONE pages as
// mapped).
//
// The lock is the arenas' spin-then-yield lock (ArenaLock), made for holds of tens of nanoseconds; here a hold can
// last a system call: `move` holds it across the mremap of a realloc, and an insert that doubles the table across an
// mmap and the rehash. Huge blocks are rare next to arena blocks, and a waiter yields its core after a microsecond
// of spinning, so a sleeping mutex would only add its own cost to the common uncontended case. The table never
// shrinks: after a peak of N live huge blocks it keeps 16 N to 32 N bytes mapped (8-byte slots, at most half used).
#pragma once

#include <sys/mman.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "platform/malloc/arena_lock.h"

namespace nostd::malloc_door {

/// A set of non-zero addresses, for static storage (constinit: zero until the first insert maps the table).
/// Every member takes the set's own lock; O(1) expected per call, O(entries) for the insert that doubles the table.
class HugeRegistry {
 public:
  constexpr HugeRegistry() noexcept = default;
  HugeRegistry(const HugeRegistry&) = delete;
  HugeRegistry& operator=(const HugeRegistry&) = delete;

  /// Adds `payload` (non-zero, not present). False when the table had to grow and the system refused the memory;
  /// the set is then unchanged.
  bool insert(std::uintptr_t payload) noexcept {
    lock_.lock();
    const bool room = count_ + 1 <= capacity_ / 2 || grow();
    if (room) put(payload);
    lock_.unlock();
    return room;
  }

  /// Removes `payload`; false when it is not present.
  bool remove(std::uintptr_t payload) noexcept {
    lock_.lock();
    const bool found = erase(payload);
    lock_.unlock();
    return found;
  }

  /// Replaces `from` by the address `remap()` returns (0: keeps `from`), holding the lock throughout, so that no
  /// other thread's insert comes in between (mremap can give `from`'s pages up, and a new mapping then receive that
  /// address). Never grows. False, without calling `remap`, when `from` is not present.
  template <class Remap>
  bool move(std::uintptr_t from, Remap&& remap) noexcept {
    lock_.lock();
    const bool found = erase(from);
    if (found) {
      const std::uintptr_t to = remap();
      put(to != 0 ? to : from);
    }
    lock_.unlock();
    return found;
  }

  /// True when `payload` is present.
  bool contains(std::uintptr_t payload) noexcept {
    lock_.lock();
    const bool found = capacity_ != 0 && slots_[find(payload)] == payload;
    lock_.unlock();
    return found;
  }

  /// Number of addresses present.
  std::size_t size() noexcept {
    lock_.lock();
    const std::size_t count = count_;
    lock_.unlock();
    return count;
  }

  /// Fork: the prepare handler takes the lock, so that the forking thread passes it (ArenaLock::lock_for_fork).
  void lock_for_fork() noexcept { lock_.lock_for_fork(); }
  /// Fork parent: releases the lock taken by lock_for_fork().
  void unlock_after_fork() noexcept { lock_.unlock_after_fork(); }
  /// Fork child: frees the lock whoever holds it (its holder may be a thread that does not exist there).
  void reset_lock() noexcept { lock_.reset(); }

 private:
  static constexpr std::size_t kFirstCapacity = 512;  // one 4 KiB page of slots

  std::size_t home(std::uintptr_t payload) const noexcept {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(payload) * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  // The slot holding `payload`, or the empty slot where a probe for it ends. Requires a table.
  std::size_t find(std::uintptr_t payload) const noexcept {
    const std::size_t mask = capacity_ - 1;
    std::size_t i = home(payload);
    while (slots_[i] != 0 && slots_[i] != payload) i = (i + 1) & mask;
    return i;
  }

  // Stores `payload` (absent) in the empty slot its probe ends at. Requires room.
  void put(std::uintptr_t payload) noexcept {
    slots_[find(payload)] = payload;
    ++count_;
  }

  // Removes `payload` if present: the entries after it in the same run move back into the hole whenever their
  // home slot does not lie cyclically in (hole, their slot], so every remaining entry stays reachable from its home.
  bool erase(std::uintptr_t payload) noexcept {
    if (capacity_ == 0) return false;
    std::size_t hole = find(payload);
    if (slots_[hole] != payload) return false;
    const std::size_t mask = capacity_ - 1;
    for (std::size_t j = (hole + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
      const std::size_t h = home(slots_[j]);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = 0;
    --count_;
    return true;
  }

  // Doubles the table (or maps the first one) and moves every entry. False when mmap refuses.
  bool grow() noexcept {
    const std::size_t capacity = capacity_ == 0 ? kFirstCapacity : 2 * capacity_;
    const std::size_t bytes = capacity * sizeof(std::uintptr_t);
    void* const raw = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return false;
    std::uintptr_t* const old = slots_;
    const std::size_t old_capacity = capacity_;
    slots_ = static_cast<std::uintptr_t*>(raw);
    capacity_ = capacity;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
    count_ = 0;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i] != 0) put(old[i]);
    }
    if (old != nullptr) ::munmap(old, old_capacity * sizeof(std::uintptr_t));
    return true;
  }

  ArenaLock lock_;
  std::uintptr_t* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
  unsigned shift_ = 64;
};

}  // namespace nostd::malloc_door
