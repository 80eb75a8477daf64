#include "core/local_time.h"

#include <date/tz.h>

#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace waymark {

namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

date::local_days LocalDay(int64_t day_number) { return date::local_days(date::days(day_number)); }

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// A span of UTC time over which a zone keeps one offset: [begin, end) in milliseconds.
struct Period {
  const TimeZone* tz = nullptr;
  int64_t begin = 0, end = 0;
  int64_t offset = 0;  // local minus UTC, milliseconds
};

// The last periods looked up on this thread, by zone. Offsets change a few times a year, so
// nearly every conversion hits; the date library's lookup (a search of the zone's transitions
// and a sys_info with a string) then runs only when time crosses a transition.
Period& CachedPeriod(const TimeZone* tz) {
  thread_local Period cache[8];
  return cache[(reinterpret_cast<uintptr_t>(tz) >> 4) % 8];
}

int64_t Millis(date::sys_seconds s) {
  // Periods at the ends of time start or end at +-32767 years, which fits in milliseconds.
  return int64_t(s.time_since_epoch().count()) * 1000;
}

void Remember(const TimeZone* tz, const date::sys_info& info) {
  Period& p = CachedPeriod(tz);
  p.tz = tz;
  p.begin = Millis(info.begin);
  p.end = Millis(info.end);
  p.offset = int64_t(info.offset.count()) * 1000;
}

// The offset in force at UTC time `t` (milliseconds).
int64_t OffsetAt(int64_t t, const TimeZone* tz) {
  const Period& p = CachedPeriod(tz);
  if (p.tz == tz && t >= p.begin && t < p.end) return p.offset;
  date::sys_info info = tz->get_info(Time(Duration(t)));
  Remember(tz, info);
  return int64_t(info.offset.count()) * 1000;
}

// Local time `local` (milliseconds) as UTC when it lies well inside the cached period of `tz`:
// more than two days from either end, where no other period can map to the same local time
// (offsets differ by at most 26 hours), so it is unique. False when the caller must ask the
// library.
bool FastLocalToUtc(int64_t local, const TimeZone* tz, int64_t* out) {
  constexpr int64_t kMargin = 2 * kMillisPerDay;
  const Period& p = CachedPeriod(tz);
  if (p.tz != tz) return false;
  int64_t utc = local - p.offset;
  if (utc - p.begin < kMargin || p.end - utc <= kMargin) return false;
  *out = utc;
  return true;
}

}  // namespace

const TimeZone* FindTimeZone(std::string_view name) {
  // locate_zone walks the database each time; cache results (including misses) by name.
  static std::mutex mu;
  static auto* cache = new absl::flat_hash_map<std::string, const TimeZone*>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(absl::string_view(name.data(), name.size()));
  if (it != cache->end()) return it->second;
  const TimeZone* tz = nullptr;
  try {
    tz = date::locate_zone(name);
  } catch (const std::exception&) {
    tz = nullptr;
  }
  cache->emplace(std::string(name), tz);
  return tz;
}

const TimeZone* UtcZone() {
  static const TimeZone* utc = FindTimeZone("UTC");
  return utc;
}

LocalParts ToLocal(Time t, const TimeZone* tz) {
  int64_t local = ToMillis(t) + OffsetAt(ToMillis(t), tz);
  int64_t day_number = FloorDiv(local, kMillisPerDay);
  date::local_days day = LocalDay(day_number);
  date::year_month_day ymd(day);
  date::weekday wd(day);
  int64_t minutes = (local - day_number * kMillisPerDay) / 60'000;
  return LocalParts{int(ymd.year()),
                    int(unsigned(ymd.month())),
                    int(unsigned(ymd.day())),
                    int(wd.c_encoding()),
                    int(minutes),
                    day_number};
}

Time LocalToUtc(int64_t day_number, int minute_of_day, const TimeZone* tz) {
  int64_t fast = 0;
  if (FastLocalToUtc(day_number * kMillisPerDay + int64_t(minute_of_day) * 60'000, tz, &fast)) {
    return Time(Duration(fast));
  }
  auto local = LocalDay(day_number) + std::chrono::minutes(minute_of_day);
  auto info = tz->get_info(local);
  Remember(tz, info.first);
  if (info.result == date::local_info::nonexistent) {
    // The wanted wall time was skipped: the gap ends where the second offset's period begins.
    return std::chrono::time_point_cast<Duration>(info.second.begin);
  }
  // Unique, or ambiguous (take the first occurrence, which uses the earlier offset).
  auto sys = local.time_since_epoch() - info.first.offset;
  return Time(std::chrono::duration_cast<Duration>(sys));
}

Time LocalDayStart(Time t, const TimeZone* tz) {
  return LocalToUtc(ToLocal(t, tz).day_number, 0, tz);
}

Time NextLocalTime(Time t, const TimeZone* tz, int minute_of_day, uint8_t weekday_mask) {
  LocalParts now = ToLocal(t, tz);
  // Eight days always reach an allowed weekday; the extra day covers today's time having passed.
  for (int64_t day = now.day_number; day <= now.day_number + 8; ++day) {
    int weekday = int((day % 7 + 7 + 4) % 7);  // 1970-01-01 was a Thursday.
    if (weekday_mask != 0 && (weekday_mask & (1u << weekday)) == 0) continue;
    Time candidate = LocalToUtc(day, minute_of_day, tz);
    if (candidate > t) return candidate;
  }
  return t + std::chrono::hours(24 * 8);  // Unreachable with a valid mask.
}

Time QuietHoursEnd(Time t, const TimeZone* tz, int start_minute, int end_minute) {
  if (start_minute == end_minute) return t;
  LocalParts local = ToLocal(t, tz);
  int m = local.minute_of_day;
  bool wraps = start_minute > end_minute;
  bool inside =
      wraps ? (m >= start_minute || m < end_minute) : (m >= start_minute && m < end_minute);
  if (!inside) return t;
  int64_t end_day = local.day_number;
  if (wraps && m >= start_minute) ++end_day;
  Time end = LocalToUtc(end_day, end_minute, tz);
  return end > t ? end : t;
}

std::optional<int> ParseClockTime(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -1; };
  int h1 = digit(0), h2 = digit(1), m1 = digit(3), m2 = digit(4);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) return std::nullopt;
  int h = h1 * 10 + h2, m = m1 * 10 + m2;
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

}  // namespace waymark
