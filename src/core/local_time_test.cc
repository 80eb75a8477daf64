#include "core/local_time.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

Time At(const char* iso) { return *ParseIsoTime(iso); }

TEST(LocalTimeTest, UnknownZoneIsNull) {
  EXPECT_EQ(FindTimeZone("Mars/Olympus"), nullptr);
  EXPECT_NE(FindTimeZone("America/New_York"), nullptr);
}

TEST(LocalTimeTest, SkippedHourResolvesToEndOfGap) {
  const TimeZone* ny = FindTimeZone("America/New_York");
  // 2026-03-08 02:30 does not exist in New York; the gap ends at 03:00 EDT = 07:00Z.
  Time t = NextLocalTime(At("2026-03-08T05:00:00Z"), ny, 2 * 60 + 30, 0);
  EXPECT_EQ(FormatIsoTime(t), "2026-03-08T07:00:00Z");
}

TEST(LocalTimeTest, RepeatedHourTakesFirstOccurrence) {
  const TimeZone* ny = FindTimeZone("America/New_York");
  // 2026-11-01 01:30 happens twice; the first is EDT (UTC-4) = 05:30Z.
  Time t = NextLocalTime(At("2026-11-01T03:00:00Z"), ny, 90, 0);
  EXPECT_EQ(FormatIsoTime(t), "2026-11-01T05:30:00Z");
}

TEST(LocalTimeTest, WeekdayMaskSkipsWeekend) {
  const TimeZone* tokyo = FindTimeZone("Asia/Tokyo");
  // Friday 2026-12-04 11:00 JST = 02:00Z; next weekday 10:00 is Monday 12-07 10:00 JST = 01:00Z.
  uint8_t weekdays = 0b0111110;
  Time t = NextLocalTime(At("2026-12-04T02:00:00Z"), tokyo, 600, weekdays);
  EXPECT_EQ(FormatIsoTime(t), "2026-12-07T01:00:00Z");
}

TEST(LocalTimeTest, LocalDayStartAcrossDst) {
  const TimeZone* berlin = FindTimeZone("Europe/Berlin");
  // 2026-03-29 is 23 hours long in Berlin; it starts at 00:00 CET = 2026-03-28T23:00Z.
  EXPECT_EQ(FormatIsoTime(LocalDayStart(At("2026-03-29T12:00:00Z"), berlin)),
            "2026-03-28T23:00:00Z");
  EXPECT_EQ(FormatIsoTime(LocalDayStart(At("2026-03-30T12:00:00Z"), berlin)),
            "2026-03-29T22:00:00Z");
}

TEST(LocalTimeTest, QuietHoursWrapMidnight) {
  const TimeZone* berlin = FindTimeZone("Europe/Berlin");
  int start = 21 * 60, end = 8 * 60;
  // 22:30 CEST on 2026-10-24 -> quiet until 08:00 CET on 10-25 (after the fall-back) = 07:00Z.
  Time t = At("2026-10-24T20:30:00Z");
  EXPECT_EQ(FormatIsoTime(QuietHoursEnd(t, berlin, start, end)), "2026-10-25T07:00:00Z");
  // 12:00 local is outside.
  Time noon = At("2026-10-24T10:00:00Z");
  EXPECT_EQ(QuietHoursEnd(noon, berlin, start, end), noon);
  // 03:00 local is inside and ends the same day.
  EXPECT_EQ(FormatIsoTime(QuietHoursEnd(At("2026-06-01T01:00:00Z"), berlin, start, end)),
            "2026-06-01T06:00:00Z");
}

TEST(LocalTimeTest, ParsesClockTimes) {
  EXPECT_EQ(ParseClockTime("08:05"), 485);
  EXPECT_FALSE(ParseClockTime("8:05").has_value());
  EXPECT_FALSE(ParseClockTime("24:00").has_value());
}

}  // namespace
}  // namespace waymark
