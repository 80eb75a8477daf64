#include "core/time.h"

#include <date/date.h>

#include <charconv>

#include "core/clock.h"

namespace waymark {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};

// Longest suffixes first so "ms" wins over "m".
constexpr Unit kUnits[] = {
    {"ms", 1},          {"w", 7 * 86'400'000LL}, {"d", 86'400'000LL},
    {"h", 3'600'000LL}, {"m", 60'000LL},         {"s", 1000LL},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `*pos`; advances `*pos`.
bool ReadDigits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Status::Parse("empty duration");
  size_t pos = 0;
  int64_t total = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    pos = 1;
  }
  if (pos == text.size()) return Status::Parse("bad duration '" + std::string(text) + "'");
  while (pos < text.size()) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
    if (ec != std::errc() || ptr == text.data() + pos) {
      return Status::Parse("bad duration '" + std::string(text) +
                           "' (expected a number followed by ms, s, m, h, d or w)");
    }
    pos = ptr - text.data();
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(pos, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return Status::Parse("bad duration '" + std::string(text) +
                           "' (missing or unknown unit; use ms, s, m, h, d or w)");
    }
    pos += unit->suffix.size();
    // Anything past ~290 years is a typo, and would overflow the millisecond count.
    constexpr int64_t kMaxMillis = int64_t(9'000'000'000'000'000);
    if (n > kMaxMillis / unit->millis || total > kMaxMillis - n * unit->millis) {
      return Status::Parse("duration '" + std::string(text) + "' is too long");
    }
    total += n * unit->millis;
  }
  return Duration(negative ? -total : total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : {kUnits[2], kUnits[3], kUnits[4], kUnits[5], kUnits[0]}) {
    if (ms >= u.millis) {
      out += std::to_string(ms / u.millis);
      out += u.suffix;
      ms %= u.millis;
    }
  }
  return out;
}

std::optional<Time> ParseIsoTime(std::string_view s) {
  size_t pos = 0;
  int y, mo, d;
  if (!ReadDigits(s, &pos, 4, &y) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!ReadDigits(s, &pos, 2, &mo) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!ReadDigits(s, &pos, 2, &d)) return std::nullopt;
  date::year_month_day ymd{date::year(y), date::month(mo), date::day(d)};
  if (!ymd.ok()) return std::nullopt;
  int64_t ms = date::sys_days(ymd).time_since_epoch().count() * 86'400'000LL;
  if (pos == s.size()) return FromMillis(ms);

  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  int hh, mm, ss = 0;
  if (!ReadDigits(s, &pos, 2, &hh) || pos >= s.size() || s[pos++] != ':') return std::nullopt;
  if (!ReadDigits(s, &pos, 2, &mm)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!ReadDigits(s, &pos, 2, &ss)) return std::nullopt;
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  ms += (hh * 3600LL + mm * 60LL + ss) * 1000LL;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int64_t frac = 0;
    int digits = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (digits < 3) frac = frac * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) frac *= 10;
    ms += frac;
  }
  if (pos == s.size()) return FromMillis(ms);
  if (s[pos] == 'Z' || s[pos] == 'z') {
    return pos + 1 == s.size() ? std::optional<Time>(FromMillis(ms)) : std::nullopt;
  }
  if (s[pos] == ' ' && s.substr(pos) == " UTC") return FromMillis(ms);
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  int sign = s[pos++] == '+' ? 1 : -1;
  int oh, om = 0;
  if (!ReadDigits(s, &pos, 2, &oh)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') ++pos;
  if (pos < s.size() && !ReadDigits(s, &pos, 2, &om)) return std::nullopt;
  if (pos != s.size()) return std::nullopt;
  ms -= sign * (oh * 3600LL + om * 60LL) * 1000LL;
  return FromMillis(ms);
}

std::string FormatIsoTime(Time t) {
  // Hand-rolled: this runs for every outbox line, and snprintf showed up in profiles.
  auto day = std::chrono::floor<date::days>(t);
  date::year_month_day ymd(day);
  int64_t ms = (t - day).count();
  int hh = int(ms / 3'600'000), mi = int(ms / 60'000 % 60), ss = int(ms / 1000 % 60);
  int frac = int(ms % 1000);
  int year = int(ymd.year());
  if (year < 0 || year > 9999) return "invalid-time";
  char buf[24] = "0000-00-00T00:00:00.000";
  auto put = [&](int pos, int value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[pos + i] = char('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, int(unsigned(ymd.month())), 2);
  put(8, int(unsigned(ymd.day())), 2);
  put(11, hh, 2);
  put(14, mi, 2);
  put(17, ss, 2);
  std::string out;
  if (frac != 0) {
    put(20, frac, 3);
    out.assign(buf, 23);
  } else {
    out.assign(buf, 19);
  }
  out += 'Z';
  return out;
}

Time SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace waymark
