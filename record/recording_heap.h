// record/recording_heap.h — RecordingHeap<Heap, Sink>: any heap, with every call written as a trace event to a
// sink the user supplies (a RingBuffer drained over UART or semihosting, a file, a test's vector).
//
// The wrapper forwards allocate, deallocate and reallocate to the heap and encodes one event per successful call
// (record/trace_format.h): a failed call changes nothing, so it is not recorded. The trace names blocks by id;
// here the id is the payload address divided by the heap's granule, which is unique among live blocks without a
// table (an embedded recorder has no memory to spare for one) and is reused after a free, as the format allows.
//
// Trade-offs: events are encoded under the wrapper's own lock (a LockPolicy: NullLock for one thread,
// InterruptLock when an interrupt handler also allocates), so the recorded order is the order in which the heap
// saw the calls. A sink that refuses an event (full ring) loses it: the wrapper counts it in `dropped()` and the
// end record counts it too, so the trace drained afterwards will not validate (its end record counts more events
// than it holds; a lost allocate may also show as a free of an id never allocated), and a lost event cannot pass
// unnoticed; size the ring for the drain rate.
//
// A reallocate that moves a block is recorded as an allocate of the new block and a free of the old one; the new
// block keeps the alignment the old one was allocated with (BasicHeap's reallocate keeps it), and so does its
// allocate event. The heap cannot be asked which alignment a block was allocated with, so the wrapper remembers it
// itself for the over-aligned blocks that are live, in a fixed table of `kAlignedBlocks` entries inside the
// wrapper (no allocation; a program that never over-aligns never searches it). An over-aligned block allocated
// while the table is full is counted in `untracked_aligned()`; from then on a moved block the table does not hold
// is recorded with the alignment its old and new addresses share (at least the one it was allocated with, maybe
// more), since it may be one of those.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "alloc/error.h"
#include "alloc/layout.h"
#include "alloc/lock/null_lock.h"
#include "record/trace_format.h"

namespace nostd::record {

/// A sink of encoded trace bytes: `write(bytes)` takes all of them and returns true, or none and returns false.
template <class S>
concept TraceSink = requires(S& s, std::span<const std::byte> bytes) {
  { s.write(bytes) } -> std::same_as<bool>;
};

/// `Heap` (a BasicHeap or anything with its allocate / deallocate / reallocate API) recording every successful
/// call to `Sink`. Holds references: the heap and the sink must outlive the wrapper. `kAlignedBlocks`: how many
/// live over-aligned blocks the wrapper remembers the alignment of, for reallocate's moves (see the file comment).
template <class Heap, TraceSink Sink, class Lock = NullLock, std::size_t kAlignedBlocks = 8>
class RecordingHeap {
 public:
  /// Wraps `heap`; writes the trace header to `sink` (counted as dropped if refused).
  RecordingHeap(Heap& heap, Sink& sink) noexcept : heap_(heap), sink_(sink) {
    if (!sink_.write(std::as_bytes(std::span(kTraceMagic.data(), kTraceMagic.size())))) ++dropped_;
  }
  RecordingHeap(const RecordingHeap&) = delete;
  RecordingHeap& operator=(const RecordingHeap&) = delete;

  /// Heap::allocate(size), recorded with the default alignment.
  [[nodiscard]] Result<void*> allocate(std::size_t size) noexcept {
    Guard g(lock_);
    Result<void*> r = heap_.allocate(size);
    if (r) emit(TraceEvent{EventKind::kAllocate, 0, id_of(*r), size});
    return r;
  }

  /// Heap::allocate(size, align), recorded with its alignment (0 when no stricter than the default).
  [[nodiscard]] Result<void*> allocate(std::size_t size, std::size_t align) noexcept {
    Guard g(lock_);
    Result<void*> r = heap_.allocate(size, align);
    if (r) {
      const std::uint8_t log2 = align_log2(align);
      emit(TraceEvent{EventKind::kAllocate, log2, id_of(*r), size});
      if (log2 != 0) remember_alignment(*r, log2);
    }
    return r;
  }

  /// Heap::allocate(layout), recorded like allocate(size, align).
  [[nodiscard]] Result<void*> allocate(Layout layout) noexcept { return allocate(layout.size(), layout.align()); }

  /// Heap::deallocate(ptr), recorded before the block is released (nullptr: nothing recorded).
  void deallocate(void* ptr) noexcept {
    if (ptr == nullptr) return;
    Guard g(lock_);
    emit(TraceEvent{EventKind::kFree, 0, id_of(ptr), 0});
    forget_alignment(ptr);
    heap_.deallocate(ptr);
  }

  /// Heap::reallocate(ptr, new_size). Resized in place: one reallocate event. Moved: the wrapper's ids derive
  /// from addresses, so the move is recorded as what the heap did, an allocate of the new block and then a free of
  /// the old one (a replay then skips the copy, and cannot grow that block in place); the allocate carries the
  /// alignment the old block was allocated with, which the heap kept (no more than the new address has). Failure:
  /// nothing recorded, the block is untouched. O(kAlignedBlocks) when over-aligned blocks are live, else O(1).
  [[nodiscard]] Result<void*> reallocate(void* ptr, std::size_t new_size) noexcept {
    Guard g(lock_);
    Result<void*> r = heap_.reallocate(ptr, new_size);
    if (!r) return r;
    if (ptr == nullptr) {
      emit(TraceEvent{EventKind::kAllocate, 0, id_of(*r), new_size});
    } else if (*r == ptr) {
      emit(TraceEvent{EventKind::kReallocate, 0, id_of(ptr), new_size});
    } else {
      const std::uint8_t log2 = moved_alignment(ptr, *r);
      emit(TraceEvent{EventKind::kAllocate, log2, id_of(*r), new_size});
      emit(TraceEvent{EventKind::kFree, 0, id_of(ptr), 0});
      if (log2 != 0) remember_alignment(*r, log2);
    }
    return r;
  }

  /// Writes the end record: the number of events recorded, those the sink refused included (`events() +
  /// dropped()`), so that a drained trace that lost any fails the end record's check. Call once, when recording
  /// stops; later calls are still forwarded and recorded, but the trace must be cut at the end record.
  void finish() noexcept {
    Guard g(lock_);
    emit(TraceEvent{EventKind::kEnd, 0, events_ + dropped_, 0});
  }

  /// Events the sink accepted, end record excluded.
  std::uint64_t events() const noexcept { return events_; }
  /// Writes the sink refused (header and events): a non-zero count means the drained trace is incomplete.
  std::uint64_t dropped() const noexcept { return dropped_; }
  /// Over-aligned blocks allocated while the table of `kAlignedBlocks` was full (their moves are recorded with the
  /// alignment the addresses share: at least the one allocated with, maybe more).
  std::uint64_t untracked_aligned() const noexcept { return untracked_aligned_; }
  /// The wrapped heap.
  Heap& heap() noexcept { return heap_; }

 private:
  struct Guard {
    explicit Guard(Lock& l) : lock(l) { lock.lock(); }
    ~Guard() { lock.unlock(); }
    Lock& lock;
  };

  static constexpr std::size_t kIdShift = 3;  // payloads are at least 8-byte aligned in every BasicHeap

  static std::uint64_t id_of(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p) >> kIdShift; }

  static std::uint8_t align_log2(std::size_t align) noexcept {
    if (align <= alignof(std::max_align_t)) return 0;
    std::uint8_t k = 0;
    while ((std::size_t{1} << k) < align) ++k;
    return k;
  }

  // log2 of the alignment `p` has (its trailing zero bits), at most kMaxAlignLog2.
  static std::uint8_t address_align_log2(const void* p) noexcept {
    const auto bits = static_cast<unsigned>(std::countr_zero(reinterpret_cast<std::uintptr_t>(p)));
    return static_cast<std::uint8_t>(std::min<unsigned>(bits, kMaxAlignLog2));
  }

  // The table of live over-aligned blocks: a linear search, since a program keeps few of them live (a table sized
  // for many would cost a board the memory the address-derived ids exist to save).
  void remember_alignment(const void* p, std::uint8_t log2) noexcept {
    if (aligned_count_ < kAlignedBlocks) {
      aligned_[aligned_count_++] = AlignedBlock{p, log2};
    } else {
      ++untracked_aligned_;
    }
  }

  // Removes `p` from the table; returns its alignment exponent, 0 when the table does not hold it.
  std::uint8_t forget_alignment(const void* p) noexcept {
    for (std::size_t i = 0; i < aligned_count_; ++i) {
      if (aligned_[i].ptr == p) {
        const std::uint8_t log2 = aligned_[i].align_log2;
        aligned_[i] = aligned_[--aligned_count_];
        return log2;
      }
    }
    return 0;
  }

  // The alignment exponent to record for block `from`, moved by the heap to `to`: the one `from` was allocated with
  // (the table's; unknown when the table has overflowed, then the alignment both addresses have, which includes
  // it), no more than `to` has, and 0 when that is no stricter than the default.
  std::uint8_t moved_alignment(const void* from, const void* to) noexcept {
    std::uint8_t log2 = forget_alignment(from);
    if (log2 == 0 && untracked_aligned_ != 0) log2 = address_align_log2(from);
    log2 = std::min(log2, address_align_log2(to));
    return (std::size_t{1} << log2) > alignof(std::max_align_t) ? log2 : 0;
  }

  void emit(const TraceEvent& e) noexcept {
    std::byte buf[kMaxEventBytes];
    const std::size_t n = encode(e, buf);
    if (sink_.write(std::span<const std::byte>(buf, n))) {
      if (e.kind != EventKind::kEnd) ++events_;
    } else {
      ++dropped_;
    }
  }

  Heap& heap_;
  Sink& sink_;
  [[no_unique_address]] Lock lock_{};
  std::uint64_t events_ = 0;
  std::uint64_t dropped_ = 0;
  struct AlignedBlock {
    const void* ptr;
    std::uint8_t align_log2;
  };
  std::array<AlignedBlock, kAlignedBlocks> aligned_{};  // [0, aligned_count_): live over-aligned blocks
  std::size_t aligned_count_ = 0;
  std::uint64_t untracked_aligned_ = 0;
};

}  // namespace nostd::record
