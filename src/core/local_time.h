// Wall-clock arithmetic in a customer's own time zone, on top of Howard Hinnant's date/tz over the
// system tzdata. DST is always the library's business: nothing here adds fixed offsets.
//
// Rules for local times that do not exist or exist twice:
//  - a local time inside a spring-forward gap (02:30 on 2026-03-08 in America/New_York) resolves to
//    the first instant after the gap (03:00 EDT);
//  - a local time that occurs twice in a fall-back overlap resolves to its first occurrence.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/time.h"

namespace date {
class time_zone;
}

namespace waymark {

using TimeZone = date::time_zone;

// The zone for an IANA name ("Europe/Berlin"), or nullptr when the name is unknown. Thread-safe.
const TimeZone* FindTimeZone(std::string_view name);

// The UTC zone; never null.
const TimeZone* UtcZone();

struct LocalParts {
  int year;
  int month;           // 1..12
  int day;             // 1..31
  int weekday;         // 0 = Sunday .. 6 = Saturday
  int minute_of_day;   // 0..1439
  int64_t day_number;  // days since 1970-01-01 of the local date
};

LocalParts ToLocal(Time t, const TimeZone* tz);

// The instant at which the local calendar day containing `t` starts (local midnight, or the first
// instant of that day when midnight itself is skipped).
Time LocalDayStart(Time t, const TimeZone* tz);

// The instant of local `minute_of_day` on local day `day_number`, with the gap/overlap rules above.
Time LocalToUtc(int64_t day_number, int minute_of_day, const TimeZone* tz);

// The first instant strictly after `t` whose local time is `minute_of_day` on a weekday allowed by
// `weekday_mask` (bit 0 = Sunday .. bit 6 = Saturday; 0 means every day). When the wanted local
// time falls in a DST gap on a day, that day's instant is the end of the gap.
Time NextLocalTime(Time t, const TimeZone* tz, int minute_of_day, uint8_t weekday_mask);

// Quiet hours are the local interval [start, end), which wraps midnight when start > end (21:00 to
// 08:00). Returns the instant quiet hours end if `t` lies inside them, or `t` itself otherwise.
Time QuietHoursEnd(Time t, const TimeZone* tz, int start_minute, int end_minute);

// Parses "HH:MM" (24-hour) into minutes since midnight; nullopt on bad input.
std::optional<int> ParseClockTime(std::string_view text);

}  // namespace waymark
