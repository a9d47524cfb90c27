// tests/heap_map_test.cc — the heap map's gnuplot script (bench/heap_map.h): strings reach gnuplot quoted whatever
// they hold, a panel's title puts its note on a second line, and (where gnuplot is installed) a map whose caption,
// titles and output paths hold quotes and backslashes is drawn to both PNG files.
#include "bench/heap_map.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/heap_map_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
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
