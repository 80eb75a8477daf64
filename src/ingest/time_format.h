// Parsing wall-clock times out of CSV fields: a small strftime-like pattern language and the
// conversion of a local wall time in an IANA zone to UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/local_time.h"
#include "core/status.h"
#include "core/time.h"

namespace waymark::ingest {

// A calendar date and time of day with no zone attached.
struct CivilTime {
  int year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..60
  int millis = 0;  // 0..999
};

// Days since 1970-01-01 of a proleptic Gregorian date; the date must be valid.
int64_t DaysFromCivil(int year, int month, int day);

// A compiled time pattern. Conversions: %Y (exactly 4 digits), %m %d %H %M %S (1 or 2 digits,
// greedy), %f (1 to 9 digits of fraction of a second; milliseconds are kept), %% (a literal
// percent sign). Any other character matches itself. The pattern must contain %Y, %m and %d.
class TimeFormat {
 public:
  TimeFormat() = default;

  // Errors read "format '<pattern>': <reason>".
  static Result<TimeFormat> Compile(std::string_view pattern);

  // Matches the whole of `text`; false when it does not match or a part is out of range
  // (month 13, 31 April, hour 24, ...). Does not allocate.
  bool Parse(std::string_view text, CivilTime* out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Piece {
    char conversion;  // 'Y', 'm', 'd', 'H', 'M', 'S', 'f', or 0 for literal text
    std::string literal;
  };

  std::string pattern_;
  std::vector<Piece> pieces_;
};

// Converts local wall times in one zone to UTC with the rules of core/local_time.h (a time in a
// spring-forward gap resolves to the end of the gap, a repeated time to its first occurrence).
// Caches the last day seen, so runs of rows on the same day cost no zone lookups. Not thread-safe;
// use one per reader.
class LocalTimeConverter {
 public:
  // `zone` null means UTC.
  explicit LocalTimeConverter(const TimeZone* zone) : zone_(zone) {}

  Time ToUtc(const CivilTime& t);

 private:
  const TimeZone* zone_;
  int64_t cached_day_ = INT64_MIN;
  bool cached_day_uniform_ = false;  // the cached day has one UTC offset throughout
  Time cached_day_start_{};
};

}  // namespace waymark::ingest
