#include "core/local_time.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <random>

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

// Conversions take cached offsets; they must agree with the date library everywhere, across
// transitions too. The references below ask the library directly.
LocalParts ReferenceLocal(Time t, const TimeZone* tz) {
  auto local = tz->to_local(t);
  auto day = std::chrono::floor<date::days>(local);
  date::year_month_day ymd(day);
  return LocalParts{int(ymd.year()),
                    int(unsigned(ymd.month())),
                    int(unsigned(ymd.day())),
                    int(date::weekday(day).c_encoding()),
                    int(std::chrono::floor<std::chrono::minutes>(local - day).count()),
                    day.time_since_epoch().count()};
}

Time ReferenceUtc(int64_t day_number, int minute_of_day, const TimeZone* tz) {
  auto local = date::local_days(date::days(day_number)) + std::chrono::minutes(minute_of_day);
  auto info = tz->get_info(local);
  if (info.result == date::local_info::nonexistent) {
    return std::chrono::time_point_cast<Duration>(info.second.begin);
  }
  return Time(std::chrono::duration_cast<Duration>(local.time_since_epoch() - info.first.offset));
}

TEST(LocalTimeTest, CachedOffsetsAgreeWithTheLibrary) {
  // Zones with DST, half-hour DST (Lord Howe), a skipped day (Apia, 2011), odd offsets.
  const char* zones[] = {"UTC",           "America/New_York", "Europe/Berlin",
                         "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kathmandu",
                         "America/Sao_Paulo"};
  std::mt19937_64 rng(7);
  const int64_t from = ToMillis(At("2009-01-01T00:00:00Z"));
  const int64_t span = ToMillis(At("2030-01-01T00:00:00Z")) - from;
  for (const char* name : zones) {
    const TimeZone* tz = FindTimeZone(name);
    ASSERT_NE(tz, nullptr) << name;
    // Random walks in small steps cross transitions with a warm cache; jumps make it miss.
    int64_t t = from;
    for (int i = 0; i < 20'000; ++i) {
      t = i % 100 == 0 ? from + int64_t(rng() % uint64_t(span))
                       : t + int64_t(rng() % (7 * 3'600'000ull)) - 3 * 3'600'000;
      Time at = Time(Duration(t));
      LocalParts got = ToLocal(at, tz), want = ReferenceLocal(at, tz);
      ASSERT_EQ(got.day_number, want.day_number) << name << " " << FormatIsoTime(at);
      ASSERT_EQ(got.minute_of_day, want.minute_of_day) << name << " " << FormatIsoTime(at);
      ASSERT_EQ(got.year, want.year);
      ASSERT_EQ(got.month, want.month);
      ASSERT_EQ(got.day, want.day);
      ASSERT_EQ(got.weekday, want.weekday);
      int minute = int(rng() % 1440);
      ASSERT_EQ(LocalToUtc(want.day_number, minute, tz), ReferenceUtc(want.day_number, minute, tz))
          << name << " day " << want.day_number << " minute " << minute;
    }
  }
}

TEST(LocalTimeTest, ParsesClockTimes) {
  EXPECT_EQ(ParseClockTime("08:05"), 485);
  EXPECT_FALSE(ParseClockTime("8:05").has_value());
  EXPECT_FALSE(ParseClockTime("24:00").has_value());
}

}  // namespace
}  // namespace waymark
