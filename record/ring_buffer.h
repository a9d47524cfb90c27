// record/ring_buffer.h — RingBuffer<N>: a lock-free single-producer, single-consumer byte queue, the usual sink
// for a recorder on a board (the producer records from the program, a consumer drains over UART or semihosting).
//
// Writes are all-or-nothing: an event that does not fit is refused (the recorder counts it as dropped) rather
// than half written, so whatever is drained is a sequence of whole events. Head and tail are free-running
// counters (wrapping modulo 2^32 or 2^64); N is a power of two, so `counter % N` is the index and
// `head - tail` the fill level even after the counters wrap. Needs only atomic loads and stores (no
// compare-and-swap), so it works on Cortex-M0+ too.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <span>

namespace nostd::record {

/// A byte queue of capacity `N` (a power of two) for one producer and one consumer, which may run concurrently
/// (another thread, or an interrupt handler against the main loop). Never allocates.
template <std::size_t N>
class RingBuffer {
  static_assert(std::has_single_bit(N), "RingBuffer: N must be a power of two (indices are counters modulo N)");
  static_assert(std::atomic<std::size_t>::is_always_lock_free,
                "RingBuffer: needs lock-free size_t loads and stores to be safe against interrupt handlers");

 public:
  /// Capacity in bytes.
  static constexpr std::size_t kCapacity = N;

  /// Producer: appends all of `bytes`, or nothing when fewer than `bytes.size()` bytes are free. O(size).
  [[nodiscard]] bool write(std::span<const std::byte> bytes) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    if (N - (head - tail) < bytes.size()) return false;
    for (std::size_t i = 0; i < bytes.size(); ++i) data_[(head + i) % N] = bytes[i];
    head_.store(head + bytes.size(), std::memory_order_release);  // publishes the bytes to the consumer
    return true;
  }

  /// Consumer: moves up to `out.size()` bytes into `out` and returns how many. O(bytes moved).
  std::size_t read(std::span<std::byte> out) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_acquire);
    const std::size_t n = std::min(out.size(), head - tail);
    for (std::size_t i = 0; i < n; ++i) out[i] = data_[(tail + i) % N];
    tail_.store(tail + n, std::memory_order_release);  // hands the space back to the producer
    return n;
  }

  /// Bytes waiting to be read (a snapshot when the other side is running).
  std::size_t size() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

 private:
  std::byte data_[N]{};
  std::atomic<std::size_t> head_{0};  // bytes ever written (producer-owned)
  std::atomic<std::size_t> tail_{0};  // bytes ever read (consumer-owned)
};

}  // namespace nostd::record
