// tests/corruption_check.h — issue 10, cases 1 and 2, framework-free: the two reproducers as drivers that
// return what broke, so that the GoogleTest suite (tests/heap_corruption_test.cc, which has many more corruption
// cases) and the bare-metal check program (tests/corruption_checks.cc, which rv32 runs) share them.
//
// - Case 1: a write through a dangling pointer puts junk (0x10, ~0, pointers into live blocks, the region header)
//   in a free block's list links; validate() must report kCorrupted and never follow the junk (it used to SIGSEGV).
// - Case 2, the unlink attack: a use-after-free write steers free block b's `next` link into live block c, where a
//   forged header of 512 bytes waits; a legitimate free of a merges with b. Under BasicChecks the unlink must be
//   refused with kCorrupted (safe unlinking) and the heap left as it was; the next allocation used to land in c.
//
// validate() runs after every heap operation that is not itself the corruption under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "alloc/alloc.h"
#include "alloc/internal/memory_tools.h"
#include "alloc/internal/tag_word.h"
#include "tests/fault_jump.h"

namespace nostd::test {

/// What a reproducer saw: `failure` is null when every step held.
struct CorruptionReport {
  const char* failure = nullptr;
  /// True when every step held.
  bool ok() const noexcept { return failure == nullptr; }
};

namespace corruption_detail {

/// The pointer stored at `at` (a list link), read as a stray read would: the bytes are exposed to memory tools.
inline const void* read_ptr(const void* at) {
  const void* p = nullptr;
  internal::tool_permit(at, sizeof p);
  std::memcpy(&p, at, sizeof p);
  return p;
}
/// Stores `value` at `at`, as a write through a dangling pointer would.
inline void write_ptr(void* at, const void* value) {
  internal::tool_permit(at, sizeof value);
  std::memcpy(at, &value, sizeof value);
}
/// True when validate() reports kCorrupted at `where`.
template <class Heap>
bool reports_corruption_at(const Heap& heap, const void* where) {
  ValidateResult r = heap.validate();
  return !r && r.error().error == AllocError::kCorrupted && r.error().where == where;
}

/// A reproducer's heap over a 4 KiB buffer of its own (per Heap type: the reproducers do not nest), and its report:
/// step() keeps the first failure.
template <class Heap>
struct Bench {
  alignas(64) static inline std::byte buf[4096];
  Heap heap{std::span<std::byte>(buf)};
  CorruptionReport report;
  /// Records `what` unless `ok` or an earlier step failed.
  void step(bool ok, const char* what) {
    if (!ok && report.ok()) report.failure = what;
  }
  /// Records `what` unless validate() passes.
  void valid(const char* what) { step(static_cast<bool>(heap.validate()), what); }
};

}  // namespace corruption_detail

/// Case 1 on `Heap` (any fit, tags and check level up to BasicChecks, over RegionSource): junk in each of free
/// block b's two links, one value at a time, is reported by validate() at b; restored, the heap validates again.
template <class Heap>
CorruptionReport check_validate_reports_dangling_links() {
  using namespace corruption_detail;
  Bench<Heap> bench;
  Heap& heap = bench.heap;
  Result<void*> ra = heap.allocate(64);
  Result<void*> rb = heap.allocate(64);
  Result<void*> rc = heap.allocate(64);
  if (!ra || !rb || !rc) return {"the reproducer's three allocations failed"};
  std::byte* const a = static_cast<std::byte*>(*ra);
  std::byte* const b = static_cast<std::byte*>(*rb);
  std::byte* const c = static_cast<std::byte*>(*rc);
  // c's data: a junk link below points at c + 16, where validate() reads c's second word as that block's header.
  std::memset(c, 0, 64);
  bench.valid("validate() failed after the allocations");
  heap.deallocate(b);
  heap.flush_cache();  // with a cache policy, b onto the fit index: the case is about free-list links
  bench.valid("validate() failed after b was freed");
  std::byte* const links[] = {b, b + sizeof(void*)};  // `next`, `prev`
  const void* const bad[] = {reinterpret_cast<const void*>(std::uintptr_t{0x10}),
                             reinterpret_cast<const void*>(~std::uintptr_t{0}),
                             a,                 // a live block
                             a + 8,             // misaligned, inside the heap
                             c + 16,            // inside a live block
                             Bench<Heap>::buf,  // the region header
                             b};                // itself
  for (std::byte* link : links) {
    const void* const saved = read_ptr(link);
    for (const void* value : bad) {
      write_ptr(link, value);
      bench.step(reports_corruption_at(heap, b), "validate() did not report junk in a free block's link at the block");
    }
    write_ptr(link, saved);
    bench.valid("validate() failed after the link was restored");
  }
  heap.deallocate(a);
  bench.valid("validate() failed after a was freed");
  heap.deallocate(c);
  bench.valid("validate() failed after c was freed");
  bench.step(heap.stats().live_allocations == 0, "blocks left live at the end");
  return bench.report;
}

/// Case 2 on `Heap`, whose check policy is BasicChecks<testing::RecordingHandler> or above, with NullLock: the
/// forged `next` link makes the free of a report kCorrupted at b and change nothing; with the link restored, a is
/// freed and an allocation of 300 bytes lands outside live block c, whose contents are unchanged.
template <class Heap>
CorruptionReport check_unlink_attack_is_refused() {
  using namespace corruption_detail;
  using Tags = typename Heap::Tags;
  Bench<Heap> bench;
  // With a cache policy, b's free keeps b aside (its neighbours are used): flushing the cache makes it the free block
  // the attack needs, and a, next to a free block now, is declined by the cache and merges at once (the inline free's
  // release_declined path). Cached blocks' own links and keys are attacked in tests/quick_cache_test.cc.
  Heap& heap = bench.heap;
  Result<void*> ra = heap.allocate(64);
  Result<void*> rb = heap.allocate(64);
  Result<void*> rc = heap.allocate(200);
  Result<void*> rd = heap.allocate(64);
  if (!ra || !rb || !rc || !rd) return {"the reproducer's four allocations failed"};
  std::byte* const a = static_cast<std::byte*>(*ra);
  std::byte* const b = static_cast<std::byte*>(*rb);
  std::byte* const c = static_cast<std::byte*>(*rc);
  std::memset(c, 0, 200);
  std::byte* const fake = c + 64;
  internal::store_word<typename Tags::word_type>(fake - Tags::kHeaderSize, 512);  // live data in c: a forged header
  std::byte c_before[200];
  std::memcpy(c_before, c, sizeof c_before);
  bench.valid("validate() failed after the allocations");
  heap.deallocate(b);
  bench.valid("validate() failed after b was freed");
  if constexpr (Heap::kCaching) {
    heap.flush_cache();
    bench.valid("validate() failed after the cache was flushed");
  }
  // Counted before the forged link, which stats() refuses to follow (kCorrupted at b): the heap is compared with it
  // once the link is repaired.
  const std::size_t free_blocks = heap.stats().free_blocks;
  const void* const b_next = read_ptr(b);
  write_ptr(b, fake);  // use after free: b's `next` link into c
  bench.step(testing::faults_with([&] { heap.deallocate(a); }, AllocError::kCorrupted, b),
             "the free of a merged with b through the forged link without a kCorrupted report at b");
  bench.step(reports_corruption_at(heap, b), "validate() did not report the forged link at b");
  write_ptr(b, b_next);
  bench.valid("validate() failed after the link was restored");
  bench.step(heap.stats().live_allocations == 3 && heap.stats().free_blocks == free_blocks,
             "the refused free changed the heap");
  heap.deallocate(a);
  bench.valid("validate() failed after a was freed");
  Result<void*> big = heap.allocate(300);
  bench.step(big.has_value(), "allocate(300) failed after the link was restored");
  if (big) {
    auto* const p = static_cast<std::byte*>(*big);
    bench.step(p + 300 <= c || p >= c + 200, "allocate(300) returned memory inside live block c");
    bench.valid("validate() failed after allocate(300)");
    heap.deallocate(p);
  }
  bench.step(std::memcmp(c, c_before, sizeof c_before) == 0, "live block c's contents changed");
  heap.deallocate(c);
  heap.deallocate(*rd);
  bench.step(static_cast<bool>(heap.validate()) && heap.stats().live_allocations == 0,
             "the heap is not empty and valid");
  return bench.report;
}

}  // namespace nostd::test
