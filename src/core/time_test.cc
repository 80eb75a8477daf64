#include "core/time.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

TEST(DurationTest, ParsesCompoundUnits) {
  EXPECT_EQ(ParseDuration("1h30m").value(), std::chrono::minutes(90));
  EXPECT_EQ(ParseDuration("7d").value(), std::chrono::hours(168));
  EXPECT_EQ(ParseDuration("2w").value(), std::chrono::hours(336));
  EXPECT_EQ(ParseDuration("250ms").value(), Duration(250));
  EXPECT_EQ(ParseDuration("45s").value(), std::chrono::seconds(45));
}

TEST(DurationTest, RejectsMissingUnitAndGarbage) {
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("1x").ok());
  EXPECT_FALSE(ParseDuration("h").ok());
  EXPECT_NE(ParseDuration("3 days").status().message().find("'3 days'"), std::string::npos);
}

TEST(DurationTest, FormatsShortestForm) {
  EXPECT_EQ(FormatDuration(std::chrono::minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(std::chrono::hours(48)), "2d");
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(Duration(1500)), "1s500ms");
}

TEST(IsoTimeTest, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ToMillis(*ParseIsoTime("1970-01-01T00:00:01Z")), 1000);
  EXPECT_EQ(ToMillis(*ParseIsoTime("1970-01-01T01:00:00+01:00")), 0);
  EXPECT_EQ(ToMillis(*ParseIsoTime("1970-01-01T00:00:00.5Z")), 500);
  EXPECT_EQ(ToMillis(*ParseIsoTime("1970-01-02")), 86'400'000);
  EXPECT_EQ(ToMillis(*ParseIsoTime("2019-10-01 00:00:04 UTC")),
            ToMillis(*ParseIsoTime("2019-10-01T00:00:04Z")));
}

TEST(IsoTimeTest, RejectsInvalidDates) {
  EXPECT_FALSE(ParseIsoTime("2026-02-30T00:00:00Z").has_value());
  EXPECT_FALSE(ParseIsoTime("2026-13-01").has_value());
  EXPECT_FALSE(ParseIsoTime("yesterday").has_value());
  EXPECT_FALSE(ParseIsoTime("2026-01-01T25:00:00Z").has_value());
}

TEST(IsoTimeTest, RoundTrips) {
  Time t = *ParseIsoTime("2026-11-01T05:59:59.250Z");
  EXPECT_EQ(FormatIsoTime(t), "2026-11-01T05:59:59.250Z");
  EXPECT_EQ(FormatIsoTime(*ParseIsoTime("2026-03-08T07:00:00Z")), "2026-03-08T07:00:00Z");
}

}  // namespace
}  // namespace waymark

namespace waymark {
namespace {

// Found by fuzz/config_fuzz: a huge count times the unit overflowed int64.
TEST(DurationTest, RejectsOverflow) {
  auto d = ParseDuration("1743101306969265857w");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "duration '1743101306969265857w' is too long");
  EXPECT_FALSE(ParseDuration("9000000000000d9000000000000d").ok());
}

}  // namespace
}  // namespace waymark
