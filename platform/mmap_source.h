// platform/mmap_source.h — MmapSource<Bytes>: heap memory from one anonymous POSIX mapping (hosted only).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>

#include "alloc/concepts/role.h"

namespace nostd {

/// Reserves `Bytes` of anonymous, private, read-write memory with one `mmap` on the heap's first use and
/// unmaps it when the heap is destroyed. No growth: the heap's capacity is fixed at `Bytes` (less a few words of
/// region tags). If the kernel refuses the mapping, the operation fails (an allocation with kOutOfMemory) and the
/// heap asks again at its next operation (kRetriesAcquire): a refusal under an address-space limit or strict
/// overcommit may pass once other memory is given back. One mmap per operation while it is refused.
/// The kernel commits pages on first touch, so an untouched reservation costs address space, not memory.
template <std::size_t Bytes>
class MmapSource {
 public:
  using policy_role = role::Source;
  /// The mapping is the heap's only region.
  static constexpr bool kAcceptsRegions = false;
  /// The mapping's size: no block can be larger (a fit policy may size its index to it).
  static constexpr std::size_t kBytes = Bytes;
  /// A refused mapping is asked for again at the heap's next operation (internal::kRetryingSource).
  static constexpr bool kRetriesAcquire = true;
  /// A fresh anonymous mapping reads zero: BasicHeap::allocate_zeroed clears only what the heap handed out before.
  static constexpr bool kZeroedMemory = true;

  static_assert(Bytes >= 4096, "MmapSource: Bytes must be at least one page");

  constexpr MmapSource() noexcept = default;
  MmapSource(const MmapSource&) = delete;
  MmapSource& operator=(const MmapSource&) = delete;
  ~MmapSource() {
    if (mapping_ != nullptr) ::munmap(mapping_, Bytes);
  }

  /// Maps the region. Empty when the kernel refuses it (the heap then calls again later); once it succeeded, the
  /// heap never calls again.
  std::span<std::byte> acquire() noexcept {
    void* p = ::mmap(nullptr, Bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return {};
    mapping_ = p;
    return {static_cast<std::byte*>(p), Bytes};
  }

 private:
  void* mapping_ = nullptr;
};

}  // namespace nostd
