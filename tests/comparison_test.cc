// tests/comparison_test.cc — the figures bench/comparison.h derives from a row (fit_compare's and replay's tables,
// fit_compare's --json): a row whose allocations failed gives no touched ÷ peak live and its fragmentation figures are
// null in JSON, with the count of failures beside them; a row that replayed the whole trace gives them all.
#include "bench/comparison.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace nostd::bench {
namespace {

/// A heap row's latency pass over a trace of 1000 calls: 4096 bytes touched at a peak of 2048 live.
Row heap_row() {
  Row r;
  r.detail.calls = 1000;
  r.detail.peak_live_bytes = 2048;
  r.detail.footprint = 4096;
  r.detail.reached_churn_end = true;
  r.detail.free_at_churn_end = FreeSpace{512, 1024};
  r.detail.overhead_per_block = 16.5;
  r.runs.push_back(ThroughputRun{});
  return r;
}

TEST(Comparison, WholeTraceGivesEveryFigure) {
  const Row r = heap_row();
  EXPECT_TRUE(trace_fitted(r));
  ASSERT_TRUE(touched_ratio(r).has_value());
  EXPECT_DOUBLE_EQ(*touched_ratio(r), 2.0);
  EXPECT_EQ(fragmentation_json(r),
            ", \"failed_allocations\": 0, \"peak_live_bytes\": 2048, \"footprint_bytes\": 4096, "
            "\"largest_free_block\": 512, \"bytes_free\": 1024, \"overhead_bytes_per_block\": 16.50");
}

TEST(Comparison, FailedAllocationsInTheLatencyPassWithholdTheFigures) {
  // The peak counts only the blocks the arena could hold: 4096 ÷ 2048 is not the trace's ratio.
  Row r = heap_row();
  r.detail.failed = 7;
  EXPECT_FALSE(trace_fitted(r));
  EXPECT_FALSE(touched_ratio(r).has_value());
  EXPECT_EQ(fragmentation_json(r),
            ", \"failed_allocations\": 7, \"peak_live_bytes\": null, \"footprint_bytes\": null, "
            "\"largest_free_block\": null, \"bytes_free\": null, \"overhead_bytes_per_block\": null");
}

TEST(Comparison, AWithheldFigureIsNullEvenWhenItIsZero) {
  Row r = heap_row();
  r.detail.failed = 1;
  r.detail.free_at_churn_end = FreeSpace{0, 0};  // the arena filled up: no free byte left
  EXPECT_EQ(fragmentation_json(r),
            ", \"failed_allocations\": 1, \"peak_live_bytes\": null, \"footprint_bytes\": null, "
            "\"largest_free_block\": null, \"bytes_free\": null, \"overhead_bytes_per_block\": null");
}

TEST(Comparison, FailedAllocationsInAThroughputRunWithholdTheFigures) {
  // The latency pass capped before the arena filled, a throughput run did not: the row did not replay the trace.
  Row r = heap_row();
  r.runs.back().failed = 3;
  EXPECT_FALSE(trace_fitted(r));
  EXPECT_FALSE(touched_ratio(r).has_value());
  EXPECT_EQ(fragmentation_json(r).substr(0, 50), ", \"failed_allocations\": 3, \"peak_live_bytes\": null");
}

TEST(Comparison, FiguresAnAllocatorDoesNotShowStayAbsent) {
  // pmr's row: no free space or per-block overhead to observe, with or without failures (null is for withheld ones).
  Row r = heap_row();
  r.detail.free_at_churn_end.reset();
  r.detail.overhead_per_block.reset();
  EXPECT_EQ(fragmentation_json(r), ", \"failed_allocations\": 0, \"peak_live_bytes\": 2048, \"footprint_bytes\": 4096");
  r.detail.failed = 1;
  EXPECT_EQ(fragmentation_json(r), ", \"failed_allocations\": 1, \"peak_live_bytes\": null, \"footprint_bytes\": null");
}

TEST(Comparison, NoTouchedRatioWithoutAFootprintOrAPeak) {
  Row r = heap_row();
  r.detail.footprint.reset();
  EXPECT_FALSE(touched_ratio(r).has_value());
  r = heap_row();
  r.detail.peak_live_bytes = 0;  // a trace that never allocated: no ratio rather than a division by zero
  EXPECT_FALSE(touched_ratio(r).has_value());
}

TEST(Comparison, MedianAndHumanBytes) {
  EXPECT_EQ(internal::median({3, 1, 2}), 2.0);
  EXPECT_EQ(internal::median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(internal::median({7}), 7.0);
  EXPECT_EQ(human_bytes(64u << 20), "64 MiB");
  EXPECT_EQ(human_bytes(3u << 19), "1536 KiB");  // 1.5 MiB: not a whole number of MiB
  EXPECT_EQ(human_bytes(1024), "1 KiB");
  EXPECT_EQ(human_bytes(1000), "1000 B");
  EXPECT_EQ(human_bytes((1u << 20) + 1), "1048577 B");
}

/// The table line print_rows writes for the row of `name` (empty when there is none).
std::string table_line(const std::string& table, const std::string& name) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("| " + name + " |")) return line;
  }
  return "";
}

TEST(Comparison, TableMarksWithheldFiguresAndSaysWhy) {
  const AllocatorEntry first{kFirstFitBaseline, nullptr, nullptr, nullptr, nullptr};
  const AllocatorEntry glibc{kGlibcBaseline, nullptr, nullptr, nullptr, nullptr};
  const AllocatorEntry failed{"best/full", nullptr, nullptr, nullptr, nullptr};
  const AllocatorEntry capped{"next/full", nullptr, nullptr, nullptr, nullptr};
  const AllocatorEntry empty{"seg/compact", nullptr, nullptr, nullptr, nullptr};
  std::vector<Row> rows(5, heap_row());
  rows[0].allocator = &first;
  rows[0].median_mcalls = 10;
  rows[1].allocator = &glibc;  // its median is 0: no ratio to it
  rows[1].detail.free_at_churn_end.reset();
  rows[1].detail.overhead_per_block.reset();
  rows[2].allocator = &failed;
  rows[2].median_mcalls = 5;
  rows[2].runs.back().failed = 4;  // in a throughput run only
  rows[3].allocator = &capped;
  rows[3].median_mcalls = 20;
  rows[3].capped = true;
  rows[3].runs.back().calls = 600;
  rows[3].detail.failed = 2;
  rows[3].detail.free_at_churn_end.reset();
  rows[3].detail.reached_churn_end = false;
  rows[4].allocator = &empty;
  rows[4].median_mcalls = 10;
  rows[4].detail.free_at_churn_end = FreeSpace{0, 0};  // no free bytes: no ratio
  testing::internal::CaptureStdout();
  print_rows(rows, 15, 1.0);
  const std::string table = testing::internal::GetCapturedStdout();
  EXPECT_EQ(table_line(table, "first/compact"),
            "| first/compact | 10.00 | 1 | 0% | 1.00 | — | 0 / 0 / 0 | 0 / 0 / 0 | 2.00 | 0.50 | 16.5 |  |");
  EXPECT_EQ(table_line(table, "glibc"),
            "| glibc | 0.00 | 1 | 0% | 0.00 | — | 0 / 0 / 0 | 0 / 0 / 0 | 2.00 | n/a | n/a |  |");
  EXPECT_EQ(
      table_line(table, "best/full"),
      "| best/full | 5.00 | 1 | 0% | 0.50 | — | 0 / 0 / 0 | 0 / 0 / 0 | — | — | — | 4 failed allocations: the trace "
      "does not fit the arena |");
  EXPECT_EQ(
      table_line(table, "next/full"),
      "| next/full | 20.00 | 1 | 0% | 2.00 | — | 0 / 0 / 0 | 0 / 0 / 0 | — | — | — | capped after 600 calls (15 s); "
      "2 failed allocations: the trace does not fit the arena |");
  EXPECT_EQ(table_line(table, "seg/compact"),
            "| seg/compact | 10.00 | 1 | 0% | 1.00 | — | 0 / 0 / 0 | 0 / 0 / 0 | 2.00 | — | 16.5 |  |");
}

}  // namespace
}  // namespace nostd::bench
