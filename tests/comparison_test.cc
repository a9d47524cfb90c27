// tests/comparison_test.cc — the figures bench/comparison.h derives from a row (fit_compare's and replay's tables,
// fit_compare's --json): a row whose allocations failed gives no touched ÷ peak live and its fragmentation figures are
// null in JSON, with the count of failures beside them; a row that replayed the whole trace gives them all.
#include "bench/comparison.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace nostd::bench
