// platform/core_check/core_check.cc — the portable heap core, exercised without GoogleTest, for every platform
// including the compile-only ones.
//
// On Cortex-M0+ (armv6-m) and Cortex-M33 this program is only compiled and linked (--config=cortex_m0,
// --config=cortex_m33): linking fails if the core, with a lock that needs no atomics, calls an atomic helper
// (`__atomic_*`, `__sync_*`: armv6-m has no compare-and-swap and there is no libatomic), and compiling fails if
// it relies on anything the Arm toolchain lacks. Where tests run (host, Cortex-M4 under QEMU, riscv64, bare-metal
// rv32imac under QEMU) it also runs and checks results: exit status 0 when every check passes.
//
// Unaligned access: armv6-m faults on any unaligned word or halfword access, but QEMU's Cortex-M0 model does not
// enforce it and the compiler cannot see it. So on Cortex-M4 (armv7-m, which has the same trap as an option,
// CCR.UNALIGN_TRP) the heaps below run every operation under UnalignedTrapLock, which turns the trap on while
// the heap holds its lock: an unaligned access by the core is a UsageFault and fails the test (exit 139). The
// trap is not on outside heap operations because newlib's own string functions use unaligned accesses.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "alloc/alloc.h"

#if (defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M') || \
    (defined(__riscv) && !defined(__linux__))
#include "platform/interrupt_lock.h"
#define NOSTD_HAVE_INTERRUPT_LOCK 1
#endif

namespace {

#if defined(NOSTD_HAVE_INTERRUPT_LOCK) && defined(__arm__) && __ARM_ARCH >= 7
#define NOSTD_HAVE_UNALIGNED_TRAP 1
}  // namespace

// The heap calls memcpy and memmove, which belong to the C library, not to the core. newlib's armv7-m memcpy
// copies an odd tail as a byte and then a halfword at an odd address: legal on armv7-m, a fault under the trap,
// and never done by newlib's armv6-m build. So this program brings alignment-safe versions (whole words only
// when both pointers are word-aligned); the trap then judges the core's own accesses. optimize(...) keeps GCC
// from turning the loops back into calls to memcpy.
extern "C" {
using AliasingWord [[gnu::may_alias]] = std::uint32_t;

[[gnu::optimize("no-tree-loop-distribute-patterns")]] void* memmove(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  const bool words = ((reinterpret_cast<std::uintptr_t>(d) | reinterpret_cast<std::uintptr_t>(s)) & 3U) == 0;
  if (d < s || d >= s + n) {
    std::size_t i = 0;
    if (words) {
      for (; i + 4 <= n; i += 4)
        *reinterpret_cast<AliasingWord*>(d + i) = *reinterpret_cast<const AliasingWord*>(s + i);
    }
    for (; i < n; ++i) d[i] = s[i];
  } else {
    for (std::size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
  }
  return dst;
}
[[gnu::optimize("no-tree-loop-distribute-patterns")]] void* memcpy(void* dst, const void* src, std::size_t n) {
  return memmove(dst, src, n);
}
}  // extern "C"

namespace {
/// A LockPolicy for this check: while held, unaligned word and halfword accesses fault (CCR.UNALIGN_TRP), as
/// they always do on armv6-m. Not nestable; single core.
struct UnalignedTrapLock {
  using policy_role = nostd::role::Lock;
  static volatile std::uint32_t& ccr() { return *reinterpret_cast<volatile std::uint32_t*>(0xE000ED14); }
  static constexpr std::uint32_t kUnalignTrap = 1U << 3;
  void lock() noexcept {
    ccr() = ccr() | kUnalignTrap;
    __asm__ volatile("dsb\n isb" ::: "memory");
  }
  void unlock() noexcept {
    __asm__ volatile("" ::: "memory");
    ccr() = ccr() & ~kUnalignTrap;
    __asm__ volatile("dsb\n isb" ::: "memory");
  }
};
using CheckLock = UnalignedTrapLock;
#else
using CheckLock = nostd::NullLock;
#endif

int failures = 0;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::printf("core_check.cc:%d: check failed: %s\n", line, what);
    ++failures;
  }
}
#define CHECK(expr) check((expr), #expr, __LINE__)

/// Allocates, fills, reallocates and frees on `heap` with several sizes and alignments; validates throughout.
template <class Heap>
void exercise(Heap& heap) {
  CHECK(heap.validate().has_value());
  void* blocks[16] = {};
  for (std::size_t i = 0; i < 16; ++i) {
    const std::size_t size = 1 + i * 37;
    const std::size_t align = std::size_t{1} << (i % 8);  // 1 .. 128
    nostd::Result<nostd::Layout> layout = nostd::Layout::from(size, align);
    CHECK(layout.has_value());
    nostd::Result<void*> p = heap.allocate(*layout);
    CHECK(p.has_value());
    if (!p) continue;
    CHECK(reinterpret_cast<std::uintptr_t>(*p) % align == 0);
    std::memset(*p, static_cast<int>(i), size);
    blocks[i] = *p;
    CHECK(heap.validate().has_value());
  }
  for (std::size_t i = 0; i < 16; i += 2) {
    nostd::Result<void*> q = heap.reallocate(blocks[i], 300);
    CHECK(q.has_value());
    if (q) blocks[i] = *q;
    CHECK(heap.validate().has_value());
  }
  std::size_t walked = 0;
  heap.walk([&](const nostd::BlockInfo& info) { walked += info.size; });
  CHECK(walked == heap.stats().capacity);
  for (void* p : blocks) {
    heap.deallocate(p);
    CHECK(heap.validate().has_value());
  }
  CHECK(heap.stats().live_allocations == 0);
  heap.flush_cache();  // a QuickCache keeps small freed blocks aside until then (no-op without one)
  CHECK(heap.validate().has_value());
  CHECK(heap.stats().free_blocks == 1);
  CHECK(heap.allocate(heap.stats().capacity + 1).error() == nostd::AllocError::kOutOfMemory);
}

template <class... Policies>
using Static = nostd::BasicHeap<Policies..., nostd::StaticArraySource<8 * 1024>>;

// Representative compositions, constant-initialised as an embedded user would write them.
constinit Static<nostd::FirstFit, nostd::CompactTags, nostd::NoChecks, CheckLock> first_fit_unchecked;
constinit Static<nostd::NextFit, nostd::FullTags, nostd::BasicChecks<>, CheckLock> next_fit_checked;
constinit Static<nostd::BestFit, nostd::CompactTags, CheckLock> best_fit;
constinit Static<nostd::FirstFit, nostd::BasicCompactTags<std::uint16_t>, CheckLock> first_fit_narrow_tags;
constinit Static<nostd::SegregatedFit<>, CheckLock> segregated_fit;
constinit Static<nostd::SegregatedFit<>, nostd::QuickCache<>, CheckLock> segregated_fit_cached;
constinit Static<> default_heap;  // every policy at its default
#ifdef NOSTD_HAVE_INTERRUPT_LOCK
constinit Static<nostd::FirstFit, nostd::InterruptLock> interrupt_locked;
#endif
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_4
// Only where compare-and-swap exists: on armv6-m SpinLock is a compile error by design
// (platform:spin_lock_without_cas_test checks that).
constinit Static<nostd::FirstFit, nostd::SpinLock> spin_locked;
#endif

alignas(64) std::byte region[8 * 1024];

// The bounds of .bss, from each platform's linker script: GNU ld's default on hosted Linux (x86_64, riscv64),
// platform/mps2_an386/mps2_an386.ld on Cortex-M4 (and GNU ld's armelf default, which names them alike, on the
// compile-only M0+ and M33), picolibc.ld on bare-metal rv32imac.
#if defined(__linux__)
extern "C" char __bss_start[], _end[];
const char* const kBssBegin = __bss_start;
const char* const kBssEnd = _end;
#elif defined(__arm__)
extern "C" char __bss_start__[], __bss_end__[];
const char* const kBssBegin = __bss_start__;
const char* const kBssEnd = __bss_end__;
#else
extern "C" char __bss_start[], __bss_end[];
const char* const kBssBegin = __bss_start;
const char* const kBssEnd = __bss_end;
#endif

/// Whether `object` lies wholly in .bss: zero-initialised, no bytes of it in the image (README, "Policies": a
/// `constinit` heap over StaticArraySource; a non-zero initial byte anywhere in it would move it to .data).
template <class T>
bool in_bss(const T& object) {
  const auto* const begin = reinterpret_cast<const char*>(&object);
  return begin >= kBssBegin && begin + sizeof(T) <= kBssEnd;
}

int data_word = 1;  // in .data: in_bss's own check, that the bounds above do not take in everything

}  // namespace

int main() {
  CHECK(!in_bss(data_word));
  CHECK(in_bss(first_fit_unchecked));
  CHECK(in_bss(next_fit_checked));
  CHECK(in_bss(best_fit));
  CHECK(in_bss(first_fit_narrow_tags));
  CHECK(in_bss(segregated_fit));
  CHECK(in_bss(segregated_fit_cached));
  CHECK(in_bss(default_heap));
#ifdef NOSTD_HAVE_INTERRUPT_LOCK
  CHECK(in_bss(interrupt_locked));
#endif
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_4
  CHECK(in_bss(spin_locked));
#endif
  exercise(first_fit_unchecked);
  exercise(next_fit_checked);
  exercise(best_fit);
  exercise(first_fit_narrow_tags);
  exercise(segregated_fit);
  exercise(segregated_fit_cached);
  exercise(default_heap);
#ifdef NOSTD_HAVE_INTERRUPT_LOCK
  exercise(interrupt_locked);
#endif
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_4
  exercise(spin_locked);
#endif
  nostd::BasicHeap<nostd::BestFit, nostd::FullTags, nostd::RegionSource, CheckLock> region_heap{
      std::span<std::byte>(region)};
  exercise(region_heap);
  std::printf("core_check: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
