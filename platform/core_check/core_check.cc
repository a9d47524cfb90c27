// platform/core_check/core_check.cc — the portable heap core, exercised without GoogleTest, for every platform
// including the compile-only ones.
//
// On Cortex-M0+ (armv6-m) and Cortex-M33 this program is only compiled and linked (--config=cortex_m0,
// --config=cortex_m33): linking fails if the core, with a lock that needs no atomics, calls an atomic helper
// (`__atomic_*`, `__sync_*`: armv6-m has no compare-and-swap and there is no libatomic), and compiling fails if
// it relies on anything the Arm toolchain lacks. Where tests run (host, Cortex-M4 under QEMU, riscv64) it also
// runs and checks results: exit status 0 when every check passes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "alloc/alloc.h"

#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#include "platform/interrupt_lock.h"
#define NOSTD_HAVE_INTERRUPT_LOCK 1
#endif

namespace {

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
  CHECK(heap.stats().free_blocks == 1);
  CHECK(heap.allocate(heap.stats().capacity + 1).error() == nostd::AllocError::kOutOfMemory);
}

template <class... Policies>
using Static = nostd::BasicHeap<Policies..., nostd::StaticArraySource<8 * 1024>>;

// Representative compositions, constant-initialised as an embedded user would write them.
constinit Static<nostd::FirstFit, nostd::CompactTags, nostd::NoChecks> first_fit_unchecked;
constinit Static<nostd::NextFit, nostd::FullTags, nostd::BasicChecks<>> next_fit_checked;
constinit Static<nostd::BestFit, nostd::CompactTags> best_fit;
#ifdef NOSTD_HAVE_INTERRUPT_LOCK
constinit Static<nostd::FirstFit, nostd::InterruptLock> interrupt_locked;
#endif
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_4
// Only where compare-and-swap exists: on armv6-m SpinLock is a compile error by design
// (platform:spin_lock_without_cas_test checks that).
constinit Static<nostd::FirstFit, nostd::SpinLock> spin_locked;
#endif

alignas(64) std::byte region[8 * 1024];

}  // namespace

int main() {
  exercise(first_fit_unchecked);
  exercise(next_fit_checked);
  exercise(best_fit);
#ifdef NOSTD_HAVE_INTERRUPT_LOCK
  exercise(interrupt_locked);
#endif
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_4
  exercise(spin_locked);
#endif
  nostd::BasicHeap<nostd::BestFit, nostd::FullTags, nostd::RegionSource> region_heap{std::span<std::byte>(region)};
  exercise(region_heap);
  std::printf("core_check: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
