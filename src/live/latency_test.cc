#include "live/latency.h"

#include <gtest/gtest.h>

namespace waymark::live {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogramTest, QuantilesLandInTheBucketOfTheirSample) {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i) h.Record(microseconds(100));
  for (int i = 0; i < 10; ++i) h.Record(milliseconds(10));
  LatencyHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.total, 1000u);
  // Buckets are about 19% wide: a quantile is the upper edge of its sample's bucket.
  EXPECT_GE(s.Quantile(0.5), 100e-6);
  EXPECT_LT(s.Quantile(0.5), 120e-6);
  EXPECT_LT(s.Quantile(0.99), 120e-6);
  EXPECT_GE(s.Quantile(0.995), 10e-3);
  EXPECT_LT(s.Quantile(0.995), 12e-3);
  EXPECT_NEAR(s.sum_seconds, 990 * 100e-6 + 10 * 10e-3, 1e-9);
}

TEST(LatencyHistogramTest, EmptyAndExtremeDurations) {
  LatencyHistogram h;
  EXPECT_EQ(h.Read().Quantile(0.99), 0);
  h.Record(std::chrono::nanoseconds(10));  // under 1 us: bucket 0
  h.Record(std::chrono::hours(1));         // past the last edge: the last bucket
  h.Record(std::chrono::nanoseconds(-5));  // a clock step backwards counts as 0
  LatencyHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.counts[0], 2u);
  EXPECT_EQ(s.counts[LatencyHistogram::kBuckets - 1], 1u);
  EXPECT_EQ(s.Quantile(0.5), LatencyHistogram::UpperSeconds(0));
}

TEST(LatencyHistogramTest, RendersCumulativePrometheusBuckets) {
  LatencyHistogram h;
  h.Record(microseconds(3));
  h.Record(microseconds(3));
  h.Record(microseconds(50));
  std::string out;
  h.Render("x_seconds", "help text", &out);
  EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"3.36358566e-06\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count 3\n"), std::string::npos) << out;
  // No bucket past the highest non-empty one.
  EXPECT_EQ(out.find("le=\"0.0001"), std::string::npos) << out;
}

}  // namespace
}  // namespace waymark::live
