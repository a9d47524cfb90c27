// bench/mapped_memory.h — memory for the benchmark's own bookkeeping and for heap arenas, straight from mmap.
//
// The fit comparison measures glibc malloc among others, so the harness must not share malloc's heap: traces,
// slot tables and latency samples would otherwise sit between the blocks being measured (and inside the address
// range the footprint metric spans). Everything the harness needs in bulk comes from anonymous mappings instead.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <span>
#include <utility>

namespace nostd::bench {

namespace internal {
/// mmap `bytes` of private anonymous memory or abort with a message (the benchmark cannot run without it).
inline void* map_or_die(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "bench: mmap of %zu bytes failed\n", bytes);
    std::abort();
  }
  return p;
}
}  // namespace internal

/// A standard allocator that takes every allocation from its own anonymous mapping (for a few large,
/// long-lived containers: traces, slot tables, latency samples). Never touches malloc.
template <class T>
struct MmapAllocator {
  /// Element type, as std::allocator_traits requires.
  using value_type = T;

  /// Stateless: default constructible.
  constexpr MmapAllocator() = default;
  /// Converting constructor for rebinding.
  template <class U>
  constexpr explicit MmapAllocator(const MmapAllocator<U>&) {}

  /// A fresh mapping for `n` objects; aborts when the system refuses.
  T* allocate(std::size_t n) { return static_cast<T*>(internal::map_or_die(n * sizeof(T))); }
  /// Unmaps what allocate(n) returned.
  void deallocate(T* p, std::size_t n) { ::munmap(p, n * sizeof(T)); }

  /// All instances are interchangeable.
  template <class U>
  friend constexpr bool operator==(const MmapAllocator&, const MmapAllocator<U>&) {
    return true;
  }
};

/// Whether a MappedRegion asks the kernel for transparent huge pages.
enum class HugePages : bool {
  kNo,      ///< the system's default (4 KiB pages unless THP is "always")
  kAdvise,  ///< madvise(MADV_HUGEPAGE) before the first touch: 2 MiB pages where THP is "always" or "madvise"
};

/// A region of anonymous memory for heap arenas, written before any timing (when created, or as far as the runs can
/// reach with write_first) so that no page fault lands in a timed section.
class MappedRegion {
 public:
  /// Maps `bytes` and touches every page; with HugePages::kAdvise, first advises huge pages (a hint: where THP is
  /// "never", or no huge page is free, the kernel keeps 4 KiB pages, and the region works the same, only slower on
  /// TLB misses). A large arena spends most of a cold access in the page walk: 1 GiB in 4 KiB pages has 2 MiB of
  /// page-table entries, too many to stay cached, where 2 MiB pages need 4 KiB of them. Aborts when the system
  /// refuses the mapping (a tool whose size comes from its user calls map() instead).
  explicit MappedRegion(std::size_t bytes, HugePages huge = HugePages::kNo) : MappedRegion(bytes, bytes, huge) {}
  /// Maps `bytes` and touches the pages of the first `written` of them (clamped to `bytes`), for a caller that knows
  /// no run reaches further: the rest is address space until something touches it, which then costs a page fault
  /// in whatever runs. Aborts when the system refuses the mapping.
  MappedRegion(std::size_t bytes, std::size_t written, HugePages huge = HugePages::kNo)
      : MappedRegion(static_cast<std::byte*>(internal::map_or_die(bytes)), bytes, huge) {
    write_first(written);
  }
  /// Maps `bytes` and writes nothing, or gives the errno of the system's refusal (ENOMEM for a size beyond the
  /// address space, an RLIMIT_AS or strict overcommit's commit limit): for a tool whose arena size comes from its user
  /// or its input (fit_compare's and replay's --arena, replay's 8 x the peak of live bytes), which says so in one line
  /// rather than abort. One mapping, kept: a probe that mapped, unmapped and left the real mapping for later could
  /// pass and the later one still fail, once glibc's start-up write (prepare_malloc) had taken its 256 MiB of the
  /// commit limit in between. The caller writes what its runs can reach with write_first before timing them.
  [[nodiscard]] static std::expected<MappedRegion, int> map(std::size_t bytes, HugePages huge = HugePages::kNo) {
    void* const p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return std::unexpected(errno);
    return MappedRegion(static_cast<std::byte*>(p), bytes, huge);
  }
  /// Takes over `other`'s mapping; `other` is left empty (size 0, nothing to unmap).
  MappedRegion(MappedRegion&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  MappedRegion& operator=(MappedRegion&&) = delete;
  ~MappedRegion() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  /// Writes the first `bytes` of the region (clamped to its size), so that the pages are resident before a timed
  /// run: for a caller that learns how far its runs can reach only after mapping (fit_compare generates each
  /// workload's trace in turn). Memory written before is written again, which changes nothing but the time taken.
  void write_first(std::size_t bytes) {
    if (const std::size_t n = std::min(bytes, size_); n != 0) std::memset(data_, 0, n);
  }
  /// The first `bytes` of the region (precondition: bytes <= size()).
  std::span<std::byte> first(std::size_t bytes) const { return {data_, bytes}; }
  /// The whole region's size in bytes (0 once moved from).
  std::size_t size() const { return size_; }

 private:
  /// Owns the mapping `data` of `bytes`; with HugePages::kAdvise advises huge pages, before anything touches it.
  MappedRegion(std::byte* data, std::size_t bytes, HugePages huge) : data_(data), size_(bytes) {
    if (huge == HugePages::kAdvise) ::madvise(data_, size_, MADV_HUGEPAGE);  // a hint: failure leaves 4 KiB pages
  }

  std::byte* data_;
  std::size_t size_;
};

}  // namespace nostd::bench
