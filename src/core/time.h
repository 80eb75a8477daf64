// Time points, durations and their text forms.
//
// Time is UTC milliseconds since the Unix epoch. Durations are written the way marketers write
// them: "30m", "1h30m", "7d", "2w", "500ms", "45s". Local wall-clock arithmetic (time zones, DST)
// lives in core/local_time.h on top of the date/tz library.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace waymark {

using Duration = std::chrono::milliseconds;
using Time = std::chrono::sys_time<Duration>;

inline constexpr Time kTimeMin = Time(Duration(INT64_MIN / 2));
inline constexpr Time kTimeMax = Time(Duration(INT64_MAX / 2));

inline int64_t ToMillis(Time t) { return t.time_since_epoch().count(); }
inline Time FromMillis(int64_t ms) { return Time(Duration(ms)); }

// Parses "90s", "1h30m", "7d", "2w", "250ms". A bare number is rejected (the unit is required).
// Errors name the offending text.
Result<Duration> ParseDuration(std::string_view text);

// Shortest exact form: "1d2h", "30m", "0s".
std::string FormatDuration(Duration d);

// Parses ISO 8601 / RFC 3339: "2026-03-08T10:00:00Z", "2026-03-08T10:00:00.123+01:00",
// "2026-03-08 10:00:00" (UTC assumed without an offset), "2026-03-08" (midnight UTC).
// Does not allocate. Returns nullopt when the text is not a timestamp.
std::optional<Time> ParseIsoTime(std::string_view text);

// "2026-03-08T10:00:00.000Z"; milliseconds are omitted when zero.
std::string FormatIsoTime(Time t);

}  // namespace waymark
