// bench/heap_map.h — the heap map: a picture of an arena over a replay (address against time, used and free
// blocks in different colours) and a snapshot of it at the trace's peak, drawn as PNG with gnuplot.
//
// Method: a replay (the shared replay_step loop, untimed) pauses at `shape.columns` evenly spaced operation
// indices and walks the heap; every block adds its bytes to the rows of the picture it covers (a row is
// `span / rows` bytes of address). A pixel's colour mixes the used colour and the free colour in proportion to
// the bytes of each it covers; the free block that runs to the end of the arena (never yet carved) is drawn
// as background, so holes left by frees stand out from space that was never touched. The peak snapshot lays the
// arena out line by line, left to right and top to bottom, at the operation where live bytes peak.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alloc/basic_heap.h"
#include "bench/bench_allocator.h"
#include "bench/replay_passes.h"

namespace nostd::bench {

/// Adapters whose blocks can be listed in address order, with the arena's base address.
template <class A>
concept HasWalk = requires(const A& a) {
  a.walk([](const BlockInfo&) {});
  { a.base() } -> std::convertible_to<std::uintptr_t>;
};

/// The size of the pictures and the address range they show.
struct HeapMapShape {
  std::uint32_t columns = 400;    ///< time samples (picture width)
  std::uint32_t rows = 300;       ///< address rows (picture height)
  std::uint32_t peak_side = 200;  ///< the peak snapshot is peak_side × peak_side pixels
  std::size_t span = 0;           ///< bytes of arena shown, from its base (rounded up to whole pixels)
  double cap_seconds = 30;        ///< replay time cap (a slow composition leaves the rest of its map empty)

  /// Bytes of address one row of the time picture covers (at least 1).
  std::size_t row_bytes() const { return std::max<std::size_t>(1, (span + rows - 1) / rows); }
  /// Bytes of address one pixel of the peak snapshot covers (at least 1).
  std::size_t peak_pixel_bytes() const {
    const std::size_t n = std::size_t{peak_side} * peak_side;
    return std::max<std::size_t>(1, (span + n - 1) / n);
  }
};

/// Bytes of each kind a pixel covers.
struct PixelBytes {
  std::uint32_t used = 0;  ///< bytes of used blocks (tags included)
  std::uint32_t free = 0;  ///< bytes of free blocks that are not the untouched tail
};

/// The two pictures of one composition, as byte counts per pixel (row-major, row 0 = lowest address).
struct HeapMap {
  std::uint32_t columns = 0;          ///< width of the time picture
  std::uint32_t rows = 0;             ///< height of the time picture
  std::vector<PixelBytes> over_time;  ///< columns × rows
  std::uint32_t peak_side = 0;        ///< side of the peak snapshot
  std::vector<PixelBytes> at_peak;    ///< peak_side × peak_side
  std::uint64_t calls = 0;            ///< operations replayed (fewer than the trace has when capped)
  std::uint64_t failed = 0;           ///< failed allocations during the replay
  bool capped = false;                ///< the time cap stopped the replay; later columns stay empty
};

namespace internal {

/// Adds the bytes [begin, end) (offsets from the base) of kind `used` to `pixels`, whose entries each cover
/// `bytes_per_pixel` bytes; bytes at or beyond `pixels.size() * bytes_per_pixel` are clipped. Integer arithmetic:
/// every step ends exactly on a pixel boundary, so the loop always advances.
inline void add_span(std::span<PixelBytes> pixels, std::size_t bytes_per_pixel, std::size_t begin, std::size_t end,
                     bool used) {
  const std::size_t limit = pixels.size() * bytes_per_pixel;
  end = std::min(end, limit);
  for (std::size_t b = begin; b < end;) {
    const std::size_t px = b / bytes_per_pixel;
    const std::size_t px_end = std::min(end, (px + 1) * bytes_per_pixel);
    const auto n = static_cast<std::uint32_t>(px_end - b);
    if (used) {
      pixels[px].used += n;
    } else {
      pixels[px].free += n;
    }
    b = px_end;
  }
}

/// Walks `a` and adds every block except the untouched tail to `pixels`.
template <class A>
void paint(const A& a, std::span<PixelBytes> pixels, std::size_t bytes_per_pixel) {
  // The last free block before the end sentinel is the untouched tail only if nothing used lies after it: it
  // is, by construction of the walk, the last block with size > 0.
  struct Block {
    std::size_t begin, end;
    bool used;
  };
  Block pending{0, 0, true};
  bool have = false;
  a.walk([&](const BlockInfo& b) {
    if (b.size == 0) return;
    if (have) add_span(pixels, bytes_per_pixel, pending.begin, pending.end, pending.used);
    const std::size_t begin = reinterpret_cast<std::uintptr_t>(b.payload) - a.base();
    pending = Block{begin, begin + b.size, b.used};
    have = true;
  });
  if (have && pending.used) add_span(pixels, bytes_per_pixel, pending.begin, pending.end, true);
}

}  // namespace internal

/// Replays `trace` against a fresh `A` over `arena` and samples the heap map (see the file comment); the peak
/// snapshot is taken just before operation `peak_index` (== trace.size(): after the last). Untimed; stops after
/// `shape.cap_seconds`, leaving the columns after that point empty.
template <BenchAllocator A>
HeapMap replay_map(std::span<std::byte> arena, const Trace& trace, std::uint64_t peak_index, SlotTable& slots,
                   const HeapMapShape& shape) {
  A a(arena);
  NoHooks hooks;
  HeapMap map;
  map.columns = shape.columns;
  map.rows = shape.rows;
  map.peak_side = shape.peak_side;
  map.over_time.resize(std::size_t{shape.columns} * shape.rows);
  map.at_peak.resize(std::size_t{shape.peak_side} * shape.peak_side);
  const std::size_t row_bytes = shape.row_bytes();
  const std::size_t peak_bytes = shape.peak_pixel_bytes();
  Slot* const table = slots.data();
  const std::size_t n = trace.size();
  std::uint32_t column = 0;
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t i = 0;
  for (; i <= n; ++i) {
    if (i % kChunk == 0 && i > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > shape.cap_seconds) {
      map.capped = true;
      break;
    }
    if (i == peak_index) internal::paint(a, std::span(map.at_peak), peak_bytes);
    // Column c shows the heap after operation ceil((c + 1) * n / columns) - 1.
    while (column < shape.columns && (std::uint64_t{column} + 1) * n <= std::uint64_t{i} * shape.columns) {
      internal::paint(a, std::span(map.over_time).subspan(std::size_t{column} * shape.rows, shape.rows), row_bytes);
      ++column;
    }
    if (i == n) break;
    if (!replay_step(a, table, trace[i], hooks)) ++map.failed;
  }
  map.calls = std::min(i, n);
  internal::free_remaining(a, slots);
  return map;
}

/// One composition's pictures with its panel title.
struct HeapMapPanel {
  std::string title;  ///< the composition, e.g. "best/compact"
  HeapMap map;        ///< the pictures
  std::string note;   ///< a second title line, e.g. "touched 1.31 × peak" (empty: none)
};

namespace internal {

/// `text` as a gnuplot string literal: single-quoted (no escapes are read inside), a quote doubled, so that any
/// trace name or title reaches the picture as it is.
inline std::string gnuplot_quote(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

/// A panel's title for gnuplot's `set title`: the composition on the first line, its note under it. A panel is
/// 230 pixels wide, so "seg/compact32+cache: touched 1.02× peak" on one line ran into the next panel's title.
inline std::string panel_title(const HeapMapPanel& panel) {
  if (panel.note.empty()) return gnuplot_quote(panel.title);
  return gnuplot_quote(panel.title) + ".\"\\n\"." + gnuplot_quote(panel.note);
}

/// The step between labelled ticks of a panel's call axis for a trace of `calls` calls: the smallest 1-2-5 step
/// (1, 2, 5, 10, 20, ...) that leaves at most four labels (0 and at most three more). A panel's axis is about 130
/// pixels wide; the largest step under a third of the calls, as before, gave 1,120 calls ticks every 200, six labels
/// that ran together ("0 200400600800 1k").
inline double call_tick_step(std::uint64_t calls) {
  double step = 1;
  for (int k = 0;; ++k) {
    if (static_cast<double>(calls) / step < 4) return step;
    step *= k % 3 == 1 ? 2.5 : 2;  // 1 -> 2 -> 5 -> 10 -> 20 -> 50 -> ...
  }
}

/// The colour of a pixel: used (dark blue) and free (orange) mixed by their bytes; background (light grey) for
/// bytes of neither (untouched tail, or beyond the arena's blocks).
inline void colour(const PixelBytes& p, double pixel_bytes, unsigned char rgb[3]) {
  constexpr double kUsed[3] = {31, 78, 156};
  constexpr double kFree[3] = {242, 142, 43};
  constexpr double kNone[3] = {238, 238, 238};
  const double u = std::min(1.0, p.used / pixel_bytes);
  const double f = std::min(1.0 - u, p.free / pixel_bytes);
  for (int k = 0; k < 3; ++k) {
    rgb[k] = static_cast<unsigned char>(u * kUsed[k] + f * kFree[k] + (1 - u - f) * kNone[k] + 0.5);
  }
}

/// Writes `pixels` (width × height, column-major when `column_major`) as raw RGB rows for gnuplot's
/// `binary array=(width,height) format='%uchar%uchar%uchar'`, bottom row first.
inline bool write_rgb(const std::string& path, const std::vector<PixelBytes>& pixels, std::uint32_t width,
                      std::uint32_t height, bool column_major, double pixel_bytes, bool top_down) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::vector<unsigned char> line(std::size_t{width} * 3);
  for (std::uint32_t y = 0; y < height; ++y) {
    const std::uint32_t row = top_down ? height - 1 - y : y;
    for (std::uint32_t x = 0; x < width; ++x) {
      const PixelBytes& p = column_major ? pixels[std::size_t{x} * height + row] : pixels[std::size_t{row} * width + x];
      colour(p, pixel_bytes, &line[std::size_t{x} * 3]);
    }
    std::fwrite(line.data(), 1, line.size(), f);
  }
  return std::fclose(f) == 0;
}

/// True when the file at `path` ends as a whole PNG does, with the IEND chunk (its 12 bytes: length 0, "IEND", CRC):
/// gnuplot exits 0 when its pngcairo terminal could not write the whole image (a full disk), so its status alone
/// does not say the image was drawn.
inline bool png_complete(const std::string& path) {
  static constexpr unsigned char kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) return false;
  unsigned char tail[sizeof kIend] = {};
  const bool whole = std::fseek(f, -static_cast<long>(sizeof tail), SEEK_END) == 0 &&
                     std::fread(tail, 1, sizeof tail, f) == sizeof tail && std::memcmp(tail, kIend, sizeof tail) == 0;
  std::fclose(f);
  return whole;
}

}  // namespace internal

/// Draws `panels` side by side with gnuplot: `out_over_time` (address against time) and `out_peak` (the arena at
/// the peak). `span` is the address range the maps cover, `calls` the trace length, `work_dir` a directory for
/// the raw images. Returns an empty string on success, otherwise what went wrong.
inline std::string draw_heap_maps(const std::vector<HeapMapPanel>& panels, std::size_t span, std::uint64_t calls,
                                  const std::string& work_dir, const std::string& out_over_time,
                                  const std::string& out_peak, const std::string& caption) {
  if (panels.empty()) return "no heap to draw";
  const HeapMapShape s{panels[0].map.columns, panels[0].map.rows, panels[0].map.peak_side, span};
  const auto row_bytes = static_cast<double>(s.row_bytes());
  const auto peak_bytes = static_cast<double>(s.peak_pixel_bytes());
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const std::string base = work_dir + "/map" + std::to_string(k);
    if (!internal::write_rgb(base + ".rgb", panels[k].map.over_time, s.columns, s.rows, true, row_bytes, false) ||
        !internal::write_rgb(base + "_peak.rgb", panels[k].map.at_peak, s.peak_side, s.peak_side, false, peak_bytes,
                             true)) {
      return "cannot write " + base + ".rgb";
    }
  }
  // noenhanced: titles are plain text (a trace named a_b.trace must not print b as a subscript).
  // gnuplot's standard output goes nowhere: where it cannot open an output file it writes the image there instead,
  // and a caller's standard output is its report (replay > report.md). Its errors still reach standard error.
  std::FILE* gp = popen("exec gnuplot >/dev/null", "w");
  if (gp == nullptr) return "cannot run gnuplot (apt-get install gnuplot-nox, or run through ./bazelw)";
  const std::size_t n = panels.size();
  const double kib = static_cast<double>(s.row_bytes() * s.rows) / 1024;
  std::fprintf(gp, "set terminal pngcairo noenhanced size %zu,420 font 'DejaVu Sans,9'\n", 90 + 230 * n);
  std::fprintf(gp, "set output %s\n", internal::gnuplot_quote(out_over_time).c_str());
  std::fprintf(gp, "set multiplot layout 1,%zu title %s.\"\\nused: blue, free: orange, never carved: grey\"\n", n,
               internal::gnuplot_quote(caption).c_str());
  // At most four labelled ticks per panel (a 1-2-5 step): gnuplot's own choice crowds the narrow panels.
  const double step = internal::call_tick_step(calls);
  std::fprintf(gp, "set xlabel 'operation'\nunset key\nset tics out\nset format x '%%.0s%%c'\nset xtics %g\n", step);
  for (std::size_t k = 0; k < n; ++k) {
    std::fprintf(gp, "set title %s\n", internal::panel_title(panels[k]).c_str());
    std::fprintf(gp, "%s\n", k == 0 ? "set ylabel 'address, KiB from arena start'" : "unset ylabel");
    std::fprintf(gp, "set xrange [0:%llu]\nset yrange [0:%g]\n", static_cast<unsigned long long>(calls), kib);
    std::fprintf(gp,
                 "plot '%s/map%zu.rgb' binary array=(%u,%u) dx=%g dy=%g format='%%uchar%%uchar%%uchar' "
                 "with rgbimage\n",
                 work_dir.c_str(), k, s.columns, s.rows, static_cast<double>(calls) / s.columns, kib / s.rows);
  }
  std::fprintf(gp, "unset multiplot\n");
  std::fprintf(gp, "set terminal pngcairo noenhanced size %zu,330 font 'DejaVu Sans,9'\n", 40 + 230 * n);
  std::fprintf(gp, "set output %s\n", internal::gnuplot_quote(out_peak).c_str());
  std::fprintf(gp,
               "set multiplot layout 1,%zu title %s.\": the arena at the peak of live bytes (%.0f KiB shown, left to "
               "right, top to bottom)\"\n",
               n, internal::gnuplot_quote(caption).c_str(),
               static_cast<double>(s.peak_pixel_bytes()) * s.peak_side * s.peak_side / 1024);
  std::fprintf(gp, "unset xlabel\nunset ylabel\nunset tics\nunset border\nset size ratio -1\n");
  std::fprintf(gp, "set xrange [0:%u]\nset yrange [0:%u]\n", s.peak_side, s.peak_side);
  for (std::size_t k = 0; k < n; ++k) {
    std::fprintf(gp, "set title %s\n", internal::panel_title(panels[k]).c_str());
    std::fprintf(gp, "plot '%s/map%zu_peak.rgb' binary array=(%u,%u) format='%%uchar%%uchar%%uchar' with rgbimage\n",
                 work_dir.c_str(), k, s.peak_side, s.peak_side);
  }
  std::fprintf(gp, "unset multiplot\n");
  const int status = pclose(gp);
  if (status != 0) return "gnuplot failed (exit status " + std::to_string(status) + ")";
  if (!internal::png_complete(out_over_time) || !internal::png_complete(out_peak)) {
    return "gnuplot did not write whole images (a full disk?)";
  }
  return {};
}

}  // namespace nostd::bench
