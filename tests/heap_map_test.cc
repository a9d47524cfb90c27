// tests/heap_map_test.cc — the heap map's gnuplot script (bench/heap_map.h): strings reach gnuplot quoted whatever
// they hold, a panel's title puts its note on a second line, and (where gnuplot is installed) a map whose caption,
// titles and output paths hold quotes and backslashes is drawn to both PNG files.
#include "bench/heap_map.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "alloc/alloc.h"
#include "bench/heap_adapter.h"
#include "bench/mapped_memory.h"
#include "bench/trace.h"

namespace nostd::bench {
namespace {

TEST(HeapMap, GnuplotQuoteDoublesSingleQuotesAndLeavesTheRest) {
  EXPECT_EQ(internal::gnuplot_quote("seg/compact"), "'seg/compact'");
  EXPECT_EQ(internal::gnuplot_quote(""), "''");
  EXPECT_EQ(internal::gnuplot_quote("it's"), "'it''s'");
  // Inside single quotes gnuplot reads no escapes: a backslash and a double quote stay as they are.
  EXPECT_EQ(internal::gnuplot_quote("a\"b\\n"), "'a\"b\\n'");
}

TEST(HeapMap, CallAxisHasAtMostFourLabels) {
  // 0, step, 2 step, ... up to the last call: at most four labels on a panel's narrow axis (1,120 calls had six).
  for (std::uint64_t calls : {1ull, 3ull, 9ull, 100ull, 1120ull, 344950ull, 3868244ull, 4000000ull}) {
    const double step = internal::call_tick_step(calls);
    EXPECT_LT(static_cast<double>(calls) / step, 4.0) << calls;
  }
  EXPECT_EQ(internal::call_tick_step(3), 1);
  EXPECT_EQ(internal::call_tick_step(1120), 500);
  EXPECT_EQ(internal::call_tick_step(344950), 100000);
  EXPECT_EQ(internal::call_tick_step(3868244), 1000000);
  // Four calls by steps of 1 would be five labels (0 to 4).
  EXPECT_EQ(internal::call_tick_step(4), 2);
  EXPECT_EQ(internal::call_tick_step(7), 2);  // steps go 1, 2, 5, 10: never 2.5
  EXPECT_EQ(internal::call_tick_step(9), 5);
  EXPECT_EQ(internal::call_tick_step(40), 20);
}

TEST(HeapMap, SpansAreSplitOnPixelsAndClippedAtTheEnd) {
  std::vector<PixelBytes> pixels(6);
  const std::span<PixelBytes> shown = std::span(pixels).first(4);  // 4 pixels of 10 bytes: 40 bytes shown
  internal::add_span(shown, 10, 5, 27, true);
  internal::add_span(shown, 10, 35, 100, false);
  const std::vector<std::uint32_t> used = {pixels[0].used, pixels[1].used, pixels[2].used, pixels[3].used};
  const std::vector<std::uint32_t> free = {pixels[0].free, pixels[1].free, pixels[2].free, pixels[3].free};
  EXPECT_EQ(used, (std::vector<std::uint32_t>{5, 10, 7, 0}));
  EXPECT_EQ(free, (std::vector<std::uint32_t>{0, 0, 0, 5}));
  EXPECT_EQ(pixels[4].used + pixels[4].free + pixels[5].used + pixels[5].free, 0u);  // nothing past the last pixel
}

/// Blocks to walk, as a heap's walk lists them (the end sentinel last, of size 0).
struct FakeHeap {
  std::uintptr_t base_ = 0x1000;
  std::vector<BlockInfo> blocks;
  std::uintptr_t base() const { return base_; }
  template <class F>
  void walk(F&& f) const {
    for (const BlockInfo& b : blocks) f(b);
  }
  void add(std::size_t offset, std::size_t size, bool used) {
    blocks.push_back(BlockInfo{reinterpret_cast<const void*>(base_ + offset), size, used});
  }
};

TEST(HeapMap, TheUntouchedTailIsNotPainted) {
  FakeHeap heap;
  heap.add(0, 32, true);
  heap.add(32, 16, false);  // a hole: painted as free
  heap.add(48, 16, true);
  heap.add(64, 64, false);  // the tail, never carved: left as background
  heap.add(128, 0, true);   // the end sentinel
  std::vector<PixelBytes> pixels(16);
  internal::paint(heap, std::span(pixels), 8);
  for (std::size_t k = 0; k < 16; ++k) {
    const bool used = k < 4 || k == 6 || k == 7;
    EXPECT_EQ(pixels[k].used, used ? 8u : 0u) << k;
    EXPECT_EQ(pixels[k].free, k == 4 || k == 5 ? 8u : 0u) << k;
  }
  // A used last block is painted.
  heap.blocks.clear();
  heap.add(0, 64, false);
  heap.add(64, 64, true);
  heap.add(128, 0, true);
  std::vector<PixelBytes> full(16);
  internal::paint(heap, std::span(full), 8);
  EXPECT_EQ(full[0].free, 8u);
  EXPECT_EQ(full[15].used, 8u);
}

TEST(HeapMap, PixelColoursMixUsedAndFreeByTheirBytes) {
  auto rgb = [](PixelBytes p) {
    unsigned char c[3];
    internal::colour(p, 16, c);
    return std::vector<int>{c[0], c[1], c[2]};
  };
  EXPECT_EQ(rgb({16, 0}), (std::vector<int>{31, 78, 156}));
  EXPECT_EQ(rgb({0, 16}), (std::vector<int>{242, 142, 43}));
  EXPECT_EQ(rgb({0, 0}), (std::vector<int>{238, 238, 238}));
  EXPECT_EQ(rgb({8, 8}), (std::vector<int>{137, 110, 100}));  // rounded to the nearest
  EXPECT_EQ(rgb({12, 12}), (std::vector<int>{84, 94, 128}));  // more than the pixel holds: used first, free the rest
}

/// The used and free bytes of a picture's column `c` (`rows` pixels from c × rows).
PixelBytes column_total(const std::vector<PixelBytes>& pixels, std::size_t c, std::size_t rows) {
  PixelBytes total;
  for (std::size_t r = 0; r < rows; ++r) {
    total.used += pixels[c * rows + r].used;
    total.free += pixels[c * rows + r].free;
  }
  return total;
}

TEST(HeapMap, ColumnsShowTheHeapAfterTheirOperationAndThePeakBeforeItsOwn) {
  // Four operations in four columns: column c shows the heap after operation c.
  Trace trace;
  trace.push_back(Op{OpKind::kAllocate, 0, 0, 200});
  trace.push_back(Op{OpKind::kAllocate, 0, 1, 200});
  trace.push_back(Op{OpKind::kFree, 0, 0, 200});
  trace.push_back(Op{OpKind::kFree, 0, 1, 200});
  SlotTable slots(2);
  const MappedRegion region(1 << 16);
  const HeapMapShape shape{4, 16, 8, 4096, 30};
  const HeapMap map = replay_map<HeapAdapter<FirstFit, CompactTags>>(region.first(4096), trace, 2, slots, shape);
  EXPECT_EQ(map.calls, 4u);
  EXPECT_EQ(map.failed, 0u);
  const PixelBytes one = column_total(map.over_time, 0, 16);
  EXPECT_GE(one.used, 200u);
  EXPECT_EQ(one.free, 0u);  // the rest of the arena is the untouched tail
  EXPECT_EQ(column_total(map.over_time, 1, 16).used, 2 * one.used);
  EXPECT_EQ(column_total(map.over_time, 2, 16).used, one.used);  // the first block freed: a hole below the second
  EXPECT_EQ(column_total(map.over_time, 2, 16).free, one.used);
  EXPECT_EQ(column_total(map.over_time, 3, 16).used + column_total(map.over_time, 3, 16).free, 0u);  // all tail
  // The peak snapshot, before operation 2: both blocks.
  std::uint32_t peak_used = 0;
  for (const PixelBytes& p : map.at_peak) peak_used += p.used;
  EXPECT_EQ(peak_used, 2 * one.used);
}

/// The bytes of the file at `path`.
std::vector<unsigned char> file_bytes(const std::string& path) {
  std::vector<unsigned char> bytes;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return bytes;
  for (int c = std::fgetc(f); c != EOF; c = std::fgetc(f)) bytes.push_back(static_cast<unsigned char>(c));
  std::fclose(f);
  return bytes;
}

/// A fresh directory under the test's temporary one; empty (the caller asserts) when it cannot be made.
std::string temp_dir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/heap_map_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return {};
  return dir;
}

TEST(HeapMap, RawImagesAreWrittenRowByRowInTheOrderAsked) {
  const std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/map.rgb";
  // Pixel k is used in its first k × 4 bytes of 16: its red byte tells which pixel it is.
  std::vector<PixelBytes> pixels;
  for (std::uint32_t k = 0; k < 4; ++k) pixels.push_back(PixelBytes{k * 4, 0});
  auto reds = [&] {
    const std::vector<unsigned char> bytes = file_bytes(path);
    std::vector<int> red;
    for (std::size_t k = 0; k < bytes.size(); k += 3) red.push_back(bytes[k]);
    return red;
  };
  const int p0 = 238, p1 = 186, p2 = 135, p3 = 83;                         // 0, 1/4, 1/2 and 3/4 used
  ASSERT_TRUE(internal::write_rgb(path, pixels, 2, 2, false, 16, false));  // row-major, bottom row first
  EXPECT_EQ(reds(), (std::vector<int>{p0, p1, p2, p3}));
  ASSERT_TRUE(internal::write_rgb(path, pixels, 2, 2, false, 16, true));  // top row first
  EXPECT_EQ(reds(), (std::vector<int>{p2, p3, p0, p1}));
  ASSERT_TRUE(internal::write_rgb(path, pixels, 2, 2, true, 16, false));  // column-major
  EXPECT_EQ(reds(), (std::vector<int>{p0, p2, p1, p3}));
}

TEST(HeapMap, APngIsCompleteOnlyWithItsEndChunk) {
  const std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  const std::vector<unsigned char> iend = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  auto put = [&](const std::string& name, const std::vector<unsigned char>& bytes) {
    std::FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  };
  std::vector<unsigned char> whole = {0x89, 'P', 'N', 'G', 1, 2, 3};
  whole.insert(whole.end(), iend.begin(), iend.end());
  put("whole.png", whole);
  put("cut.png", std::vector<unsigned char>(whole.begin(), whole.end() - 1));
  put("short.png", std::vector<unsigned char>(iend.begin() + 1, iend.end()));
  EXPECT_TRUE(internal::png_complete(dir + "/whole.png"));
  EXPECT_FALSE(internal::png_complete(dir + "/cut.png"));
  EXPECT_FALSE(internal::png_complete(dir + "/short.png"));
  EXPECT_FALSE(internal::png_complete(dir + "/missing.png"));
}

TEST(HeapMap, PanelTitlePutsTheNoteOnASecondLine) {
  HeapMapPanel panel{"seg/compact32+cache", {}, "touched 1.02× peak"};
  EXPECT_EQ(internal::panel_title(panel), "'seg/compact32+cache'.\"\\n\".'touched 1.02× peak'");
  panel.note.clear();
  EXPECT_EQ(internal::panel_title(panel), "'seg/compact32+cache'");
}

// A 4 × 4 map with used, free and untouched pixels.
HeapMap small_map() {
  HeapMap map;
  map.columns = 4;
  map.rows = 4;
  map.peak_side = 4;
  map.over_time.resize(16);
  map.at_peak.resize(16);
  for (std::size_t i = 0; i < 16; ++i) {
    map.over_time[i] = PixelBytes{i % 3 == 0 ? 16u : 0u, i % 3 == 1 ? 16u : 0u};
    map.at_peak[i] = map.over_time[15 - i];
  }
  map.calls = 100;
  return map;
}

bool file_has_bytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  const bool has = std::fgetc(f) != EOF;
  std::fclose(f);
  return has;
}

TEST(HeapMap, DrawsWhateverTheCaptionAndTitlesHold) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot is not installed";
  const std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  const HeapMapShape shape{4, 4, 4, 16 * 16, 1};
  const std::vector<HeapMapPanel> panels = {{"first/compact", small_map(), "touched 1.54× peak"},
                                            {"a 'quoted' \"name\\", small_map(), ""}};
  const std::string out = dir + "/it's a map.png";  // --heap_map=PREFIX is the user's path, quotes and all
  const std::string peak = dir + "/it's a map_peak.png";
  const std::string err =
      draw_heap_maps(panels, shape.span, 100, dir, out, peak, "heap map of it's \"a\\b\".trace (100 calls)");
  EXPECT_EQ(err, "");
  EXPECT_TRUE(file_has_bytes(out));
  EXPECT_TRUE(file_has_bytes(peak));
}

}  // namespace
}  // namespace nostd::bench
