// bench/scaling_bench.cc — `./bazelw run //bench:scaling_bench`: how allocate and free latency grow with the arena
// and with the number of free blocks, SegregatedFit beside FirstFit.
//
// Method. For every arena size (64 KiB .. 1 GiB) and free-block count N (10 .. 100,000) that the arena can hold,
// a fresh BasicHeap<Fit, CompactTags, RegionSource> (default checks) is filled with blocks of 16..1024 bytes
// (log-uniform, seeded) until less than 1/16 of the arena is left, and then every k-th block is freed so that N
// holes are spread evenly over the whole arena (the rest of the arena stays one free block at the end, so there
// are N + 1 free blocks). Then R rounds each allocate one block and free it at once, timing both calls with the
// TSC. The request sizes are those of the holes, drawn at random, so every request fits some hole but usually not
// the first one a list walk meets; allocate-then-free leaves the free-block count unchanged (the carved block
// merges back into its hole). The table reports the 99.9th percentile of each call's latency (timer cost
// included) and the sample count; a cell that hits the time cap stops early and says so.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alloc/alloc.h"
#include "bench/mapped_memory.h"
#include "bench/trace.h"
#include "bench/tsc_timer.h"

namespace nostd::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kArenas[] = {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{16} << 20,
                                   std::size_t{256} << 20, std::size_t{1} << 30};
constexpr std::size_t kFreeBlocks[] = {10, 100, 1'000, 10'000, 100'000};

/// Latency percentiles of one cell, in ticks.
struct Cell {
  bool feasible = false;         ///< the arena holds 2 N blocks
  bool capped = false;           ///< the time cap stopped the rounds early
  std::size_t samples = 0;       ///< rounds timed
  std::size_t free_blocks = 0;   ///< free blocks during the rounds (stats().free_blocks)
  std::uint64_t alloc_p999 = 0;  ///< allocate latency, 99.9th percentile
  std::uint64_t free_p999 = 0;   ///< free latency, 99.9th percentile
  std::uint64_t alloc_p50 = 0;   ///< allocate latency, median
  std::uint64_t free_p50 = 0;    ///< free latency, median
};

std::uint64_t percentile(std::vector<std::uint32_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(static_cast<double>(v.size() - 1) * q);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

/// A payload size of 16..1024 bytes, log-uniform (as many per octave).
std::size_t draw_size(SplitMix64& rng) {
  const unsigned octave = static_cast<unsigned>(rng.range(4, 9));
  const std::size_t base = std::size_t{1} << octave;
  return base + static_cast<std::size_t>(rng.range(0, base - 1));
}

/// One cell: `Fit` over the first `arena_bytes` of `arena` with `holes` free blocks, `rounds` timed rounds.
template <class Fit>
Cell run_cell(std::span<std::byte> arena, std::size_t holes, std::size_t rounds, double cap_seconds) {
  using Heap = BasicHeap<Fit, CompactTags, RegionSource>;
  Cell cell;
  auto heap = std::make_unique<Heap>(arena);
  SplitMix64 rng(0x5CA1E + holes);
  std::vector<void*> blocks;
  std::vector<std::size_t> sizes;
  const std::size_t reserve = arena.size() / 16;
  while (heap->stats().largest_free_block > reserve + 1024 + Heap::kMinBlockSize) {
    const std::size_t size = draw_size(rng);
    Result<void*> p = heap->allocate(size);
    if (!p) break;
    blocks.push_back(*p);
    sizes.push_back(size);
  }
  if (blocks.size() < 2 * holes) return cell;
  cell.feasible = true;
  const std::size_t step = blocks.size() / holes;
  std::vector<std::size_t> hole_sizes;
  for (std::size_t i = 0; i < holes; ++i) {
    heap->deallocate(blocks[i * step]);
    hole_sizes.push_back(sizes[i * step]);
  }
  cell.free_blocks = heap->stats().free_blocks;
  std::vector<std::uint32_t> alloc_ticks, free_ticks;
  alloc_ticks.reserve(rounds);
  free_ticks.reserve(rounds);
  const auto start = Clock::now();
  for (std::size_t r = 0; r < rounds; ++r) {
    const std::size_t size = hole_sizes[static_cast<std::size_t>(rng.range(0, holes - 1))];
    const std::uint64_t t0 = tsc_begin();
    Result<void*> p = heap->allocate(size);
    const std::uint64_t t1 = tsc_end();
    if (!p) {
      std::fprintf(stderr, "scaling_bench: allocate(%zu) failed with %zu holes\n", size, holes);
      std::abort();
    }
    static_cast<unsigned char*>(*p)[size - 1] = 1;  // the block is really there
    const std::uint64_t t2 = tsc_begin();
    heap->deallocate(*p);
    const std::uint64_t t3 = tsc_end();
    alloc_ticks.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(t1 - t0, UINT32_MAX)));
    free_ticks.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(t3 - t2, UINT32_MAX)));
    if ((r & 255) == 255 && std::chrono::duration<double>(Clock::now() - start).count() > cap_seconds) {
      cell.capped = true;
      break;
    }
  }
  if (heap->stats().free_blocks != cell.free_blocks) {
    std::fprintf(stderr, "scaling_bench: the free-block count drifted (%zu -> %zu)\n", cell.free_blocks,
                 heap->stats().free_blocks);
    std::abort();
  }
  cell.samples = alloc_ticks.size();
  cell.alloc_p999 = percentile(alloc_ticks, 0.999);
  cell.free_p999 = percentile(free_ticks, 0.999);
  cell.alloc_p50 = percentile(alloc_ticks, 0.5);
  cell.free_p50 = percentile(free_ticks, 0.5);
  return cell;
}

std::string size_name(std::size_t bytes) {
  char buf[32];
  if (bytes >= (std::size_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%zu GiB", bytes >> 30);
  } else if (bytes >= (std::size_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%zu MiB", bytes >> 20);
  } else {
    std::snprintf(buf, sizeof buf, "%zu KiB", bytes >> 10);
  }
  return buf;
}

struct Options {
  bool quick = false;
  std::string plot_data;
};

int run(const Options& opt) {
  const double tpn = calibrate_ticks_per_ns();
  const double timer_ns = static_cast<double>(timer_cost_ticks()) / tpn;
  const std::size_t rounds = opt.quick ? 2'000 : 20'000;
  const double cap = opt.quick ? 0.5 : 4.0;
  std::printf("scaling_bench: %zu rounds per cell (cap %.1f s), TSC %.3f ticks/ns, timer cost %.1f ns%s\n\n", rounds,
              cap, tpn, timer_ns,
#ifdef __OPTIMIZE__
              ", optimised"
#else
              ", NOT optimised"
#endif
  );
  constexpr std::size_t kA = std::size(kArenas), kN = std::size(kFreeBlocks);
  static Cell seg[kA][kN], first[kA][kN];
  const MappedRegion region(kArenas[kA - 1]);
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      const std::span<std::byte> arena = region.first(kArenas[a]);
      seg[a][n] = run_cell<SegregatedFit<>>(arena, kFreeBlocks[n], rounds, cap);
      first[a][n] = run_cell<FirstFit>(arena, kFreeBlocks[n], rounds, cap);
      std::fprintf(stderr, ".");
    }
  }
  std::fprintf(stderr, "\n");
  auto ns = [tpn](std::uint64_t ticks) { return static_cast<double>(ticks) / tpn; };
  for (int kind = 0; kind < 2; ++kind) {
    std::printf("#### %s latency p99.9, ns: SegregatedFit / FirstFit\n\n| arena \\ free blocks |",
                kind == 0 ? "allocate" : "free");
    for (std::size_t n : kFreeBlocks) std::printf(" %zu |", n);
    std::printf("\n|---|");
    for (std::size_t n = 0; n < kN; ++n) std::printf("--:|");
    std::printf("\n");
    for (std::size_t a = 0; a < kA; ++a) {
      std::printf("| %s |", size_name(kArenas[a]).c_str());
      for (std::size_t n = 0; n < kN; ++n) {
        const Cell& s = seg[a][n];
        const Cell& f = first[a][n];
        if (!s.feasible) {
          std::printf(" — |");
          continue;
        }
        std::printf(" %.0f / %.0f%s |", ns(kind == 0 ? s.alloc_p999 : s.free_p999),
                    ns(kind == 0 ? f.alloc_p999 : f.free_p999), f.capped ? " (capped)" : "");
      }
      std::printf("\n");
    }
    std::printf("\n");
  }
  // The target: SegregatedFit's p99.9 across the grid within 1.5x of its smallest value.
  for (int kind = 0; kind < 2; ++kind) {
    double lo = 1e300, hi = 0;
    for (std::size_t a = 0; a < kA; ++a) {
      for (std::size_t n = 0; n < kN; ++n) {
        if (!seg[a][n].feasible) continue;
        const double v = ns(kind == 0 ? seg[a][n].alloc_p999 : seg[a][n].free_p999);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    std::printf("SegregatedFit %s p99.9: %.0f .. %.0f ns, largest / smallest = %.2f\n", kind == 0 ? "allocate" : "free",
                lo, hi, hi / lo);
  }
  std::printf("\nsamples per cell (seg / first): ");
  for (std::size_t a = 0; a < kA; ++a) {
    for (std::size_t n = 0; n < kN; ++n) {
      if (seg[a][n].feasible) std::printf("%zu/%zu ", seg[a][n].samples, first[a][n].samples);
    }
  }
  std::printf("\n");
  if (!opt.plot_data.empty()) {
    // gnuplot data: one block per arena; columns free blocks, seg alloc, first alloc, seg free, first free (ns).
    std::FILE* f = std::fopen(opt.plot_data.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "scaling_bench: cannot write %s\n", opt.plot_data.c_str());
      return 1;
    }
    for (std::size_t a = 0; a < kA; ++a) {
      std::fprintf(f, "# arena %s\n", size_name(kArenas[a]).c_str());
      for (std::size_t n = 0; n < kN; ++n) {
        if (!seg[a][n].feasible) continue;
        std::fprintf(f, "%zu %.1f %.1f %.1f %.1f\n", kFreeBlocks[n], ns(seg[a][n].alloc_p999),
                     ns(first[a][n].alloc_p999), ns(seg[a][n].free_p999), ns(first[a][n].free_p999));
      }
      std::fprintf(f, "\n\n");
    }
    std::fclose(f);
  }
  return 0;
}

}  // namespace
}  // namespace nostd::bench

int main(int argc, char** argv) {
  nostd::bench::Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      opt.quick = true;
    } else if (arg.substr(0, 12) == "--plot_data=") {
      opt.plot_data = std::string(arg.substr(12));
    } else {
      std::fprintf(stderr,
                   "usage: scaling_bench [--quick] [--plot_data=FILE]\n"
                   "  --quick            2,000 rounds per cell instead of 20,000, 0.5 s cap instead of 4 s\n"
                   "  --plot_data=FILE   also write gnuplot data (used by //bench:scaling_chart)\n");
      return 2;
    }
  }
  return nostd::bench::run(opt);
}
