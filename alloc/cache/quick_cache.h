// alloc/cache/quick_cache.h — QuickCache: freed small blocks kept aside per exact size and reused whole.
#pragma once

#include <cstddef>

#include "alloc/concepts/role.h"

namespace nostd {

/// Deferred coalescing for small blocks (glibc's tcache, TLSF-based allocators' "quick lists"): a freed block of
/// at most `MaxBlock` bytes (tags included) whose neighbours are both in use goes onto a LIFO bin of blocks of exactly
/// its size, still tagged used, up to `Depth` blocks per size; an allocation whose block size has a cached block
/// takes it whole. When its own bin is empty, it takes the first cached block of the next few sizes whole, if that
/// block is at most 1/SlackShare larger than its own (TLSF's good fit, applied to the cache; at most 8 bins past its
/// own): medium blocks rarely meet their exact size again. A block with a free neighbour merges at once (deferring
/// that merge is what would fragment). Neither writes a neighbour's tags or touches the fit index (the free reads the
/// next header only), so churn of small blocks skips the split, merge and list bookkeeping and most branches on the
/// neighbours' state (`./bazelw run //bench:fit_compare`: the `+cache` rows).
///
/// What it costs:
///   - memory: at most Depth blocks per size are kept; they serve requests of their own size. An allocation that
///     finds no free block first takes the smallest larger cached block (split down to the request), else flushes
///     the cache (coalesces every cached block) and searches again; so does one whose block would end past the
///     highest block end handed out so far in the newest region (its high-water mark: memory not yet touched), once
///     the cache holds at least the request's bytes and 1/GiveWayShare of the memory touched so far (a sixteenth
///     by default). The heap grows past what it has touched while the cache holds blocks back only when they are
///     under that share or fewer bytes than the request. `flush_cache()` flushes on demand. Bound: Depth x the sum
///     of the bin sizes (260 KiB for the default on 64-bit). A larger GiveWayShare holds less memory back from a
///     growing heap and flushes more often: `QuickCache<8, 8192, 256>` caches workload b's medium blocks too
///     (README, issue 11's targets).
///   - control block: one pointer and one byte per size (MaxBlock / granule bins), and seven words (the key that
///     seals a cached block's link, the newest region's bounds and the inline free's window in it, which the inline
///     free checks a pointer against, the hull of all regions, and the high-water mark); the heap also keeps a
///     free-byte counter, which a heap without a cache derives. The window is used only under BasicChecks in speed
///     builds; a free in the region's last MaxBlock bytes takes the full path.
///   - slack: a block taken from a larger bin keeps its size, so the caller gets up to 1/SlackShare of the block
///     more than it asked for (`usable_size` says how much). Measured on workload b with `QuickCache<8, 8192, 256>`
///     (`./bazelw run //bench:fit_compare -- --workloads=a,b,e`): a SlackShare of 32 took b from 1.9-2.2x to
///     2.8-3.1x glibc's throughput and its touched / peak live from 1.045 to 1.0375 (36 % of b's allocations had
///     found their exact size); e, whose blocks are under 32 granules, takes no slack at 32, and a almost none (its
///     requests of 489-512 bytes; README, issue 11's targets, and docs/segregated_fit_log.md, "Before and after the
///     slack"). 0 keeps the exact sizes only.
///   - time bound: allocate's worst case adds a scan of the bins and the flush, Depth x bins frees (a constant, but
///     larger than the fit's own bound): choose NoCache where the worst case matters more than the average. Measured
///     with `QuickCache<8, 8192, 256>` on workload b: a flush per about 7,300 allocations, 7 us on average (before
///     the slack one per 1,900, 25 us on average and 129 us at most; docs/segregated_fit_log.md, issue 11's p99.9
///     target: b's allocate p99.9 read 290-330 ns, 200-250 ns without a cache). Flushing a few blocks per allocation
///     instead raised b's touched / peak live to 1.13-1.15.
/// Active at NoChecks and BasicChecks (BasicChecks keeps catching double frees of cached blocks and writes over a
/// cached block's links). Not active under HardenedChecks and above, nor in builds with ASan or Valgrind hooks:
/// those poison and seal every freed block at once, which a cached block would escape.
template <std::size_t Depth = 8, std::size_t MaxBlock = 1024, std::size_t GiveWayShare = 16,
          std::size_t SlackShare = 32>
struct QuickCache {
  using policy_role = role::Cache;
  /// Blocks kept per size.
  static constexpr std::size_t kDepth = Depth;
  /// The largest block size (bytes, tags included) that is cached.
  static constexpr std::size_t kMaxBlock = MaxBlock;
  /// Before the heap grows past its high-water mark, the cache gives way once it holds 1/kGiveWayShare of the
  /// memory touched so far in the newest region (and at least the request's bytes).
  static constexpr std::size_t kGiveWayShare = GiveWayShare;
  /// A request whose own bin is empty takes a cached block at most 1/kSlackShare larger than its own, whole (0:
  /// its own size only).
  static constexpr std::size_t kSlackShare = SlackShare;

  static_assert(Depth >= 1 && Depth <= 255,
                "QuickCache: Depth must be 1..255 (a bin's count is one byte; use NoCache for none)");
  static_assert(MaxBlock >= 32 && MaxBlock <= 64 * 1024,
                "QuickCache: MaxBlock must be 32 bytes .. 64 KiB (one bin per granule step up to it; larger blocks "
                "are better merged at once)");
  static_assert(GiveWayShare >= 1 && GiveWayShare <= 65536,
                "QuickCache: GiveWayShare must be 1..65536 (the cache gives way at 1/GiveWayShare of the touched "
                "memory; 1: only when it holds all of it)");
  static_assert(SlackShare == 0 || (SlackShare >= 2 && SlackShare <= 65536),
                "QuickCache: SlackShare must be 0 (exact sizes only) or 2..65536 (a request takes a cached block at "
                "most 1/SlackShare larger than its own; 1 would hand out blocks twice the request)");
};

/// The medium-block cache: bins up to 8 KiB (511 on 64-bit, about 4.6 KB of control block and at most 16.03 MiB held
/// unmerged), giving way to growth at 1/256 of the touched memory, with the default slack. The cache of issue 11's
/// cache composition (fit_compare's and op_count's `+cache8k` rows) and of the drop-in malloc's arenas
/// (`malloc_door::MallocCache`): workload b's medium blocks are cached too (README, issue 11's targets).
using MediumQuickCache = QuickCache<8, 8192, 256>;

}  // namespace nostd
