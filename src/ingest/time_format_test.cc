#include "ingest/time_format.h"

#include <gtest/gtest.h>

namespace waymark::ingest {
namespace {

Time Iso(const char* text) { return *ParseIsoTime(text); }

TEST(TimeFormatTest, ParsesDateAndTimeWithLiteralSuffix) {
  Result<TimeFormat> f = TimeFormat::Compile("%Y-%m-%d %H:%M:%S UTC");
  ASSERT_TRUE(f.ok()) << f.status().message();
  CivilTime t;
  ASSERT_TRUE(f->Parse("2019-10-01 00:02:14 UTC", &t));
  EXPECT_EQ(t.year, 2019);
  EXPECT_EQ(t.month, 10);
  EXPECT_EQ(t.day, 1);
  EXPECT_EQ(t.minute, 2);
  EXPECT_EQ(t.second, 14);
}

TEST(TimeFormatTest, ParsesCompactDate) {
  Result<TimeFormat> f = TimeFormat::Compile("%Y%m%d");
  ASSERT_TRUE(f.ok());
  CivilTime t;
  ASSERT_TRUE(f->Parse("19970325", &t));
  EXPECT_EQ(t.month, 3);
  EXPECT_EQ(t.day, 25);
}

TEST(TimeFormatTest, AcceptsOneDigitFieldsAndFractions) {
  Result<TimeFormat> f = TimeFormat::Compile("%d/%m/%Y %H:%M:%S.%f");
  ASSERT_TRUE(f.ok());
  CivilTime t;
  ASSERT_TRUE(f->Parse("5/3/2016 7:04:09.25", &t));
  EXPECT_EQ(t.day, 5);
  EXPECT_EQ(t.hour, 7);
  EXPECT_EQ(t.millis, 250);
}

TEST(TimeFormatTest, RejectsTrailingTextAndOutOfRangeParts) {
  Result<TimeFormat> f = TimeFormat::Compile("%Y-%m-%d");
  ASSERT_TRUE(f.ok());
  CivilTime t;
  EXPECT_FALSE(f->Parse("2019-10-01x", &t));
  EXPECT_FALSE(f->Parse("2019-13-01", &t));
  EXPECT_FALSE(f->Parse("2019-02-29", &t));
  EXPECT_TRUE(f->Parse("2020-02-29", &t));
  EXPECT_FALSE(f->Parse("19-10-01", &t));
  EXPECT_FALSE(f->Parse("", &t));
}

TEST(TimeFormatTest, LiteralPercent) {
  Result<TimeFormat> f = TimeFormat::Compile("%Y-%m-%d 100%%");
  ASSERT_TRUE(f.ok());
  CivilTime t;
  EXPECT_TRUE(f->Parse("2019-10-01 100%", &t));
}

TEST(TimeFormatTest, CompileErrorsNameThePattern) {
  EXPECT_EQ(TimeFormat::Compile("%Y-%m-%d %Z").status().message(),
            "format '%Y-%m-%d %Z': unsupported conversion '%Z' (supported: %Y %m %d %H %M %S %f "
            "%%)");
  EXPECT_EQ(TimeFormat::Compile("%H:%M").status().message(), "format '%H:%M': needs %Y, %m and %d");
  EXPECT_EQ(TimeFormat::Compile("%Y%m%d%").status().message(),
            "format '%Y%m%d%': ends with a lone '%'");
}

TEST(TimeFormatTest, DaysFromCivilMatchesKnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
}

TEST(LocalTimeConverterTest, UtcWhenNoZone) {
  LocalTimeConverter c(nullptr);
  EXPECT_EQ(c.ToUtc({2019, 10, 1, 0, 2, 14, 0}), Iso("2019-10-01T00:02:14Z"));
}

TEST(LocalTimeConverterTest, ConvertsShanghaiWallTime) {
  LocalTimeConverter c(FindTimeZone("Asia/Shanghai"));
  EXPECT_EQ(c.ToUtc({2015, 11, 11, 0, 0, 0, 0}), Iso("2015-11-10T16:00:00Z"));
  EXPECT_EQ(c.ToUtc({2015, 11, 11, 23, 59, 59, 0}), Iso("2015-11-11T15:59:59Z"));
}

TEST(LocalTimeConverterTest, FollowsDstGapAndOverlapRules) {
  LocalTimeConverter c(FindTimeZone("America/New_York"));
  // 02:30 does not exist on 2026-03-08: the end of the gap (03:00 EDT) is used.
  EXPECT_EQ(c.ToUtc({2026, 3, 8, 2, 30, 0, 0}), Iso("2026-03-08T07:00:00Z"));
  EXPECT_EQ(c.ToUtc({2026, 3, 8, 4, 0, 5, 0}), Iso("2026-03-08T08:00:05Z"));
  // 01:30 happens twice on 2026-11-01: the first (EDT) is used.
  EXPECT_EQ(c.ToUtc({2026, 11, 1, 1, 30, 0, 0}), Iso("2026-11-01T05:30:00Z"));
  EXPECT_EQ(c.ToUtc({2026, 11, 2, 1, 30, 0, 0}), Iso("2026-11-02T06:30:00Z"));
}

}  // namespace
}  // namespace waymark::ingest
