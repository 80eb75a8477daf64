#include "ingest/time_format.h"

namespace waymark::ingest {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads between `min_digits` and `max_digits` digits at `*pos`.
bool ReadNumber(std::string_view text, size_t* pos, int min_digits, int max_digits, int* out) {
  int value = 0;
  int n = 0;
  while (n < max_digits && *pos < text.size() && IsDigit(text[*pos])) {
    value = value * 10 + (text[*pos] - '0');
    ++*pos;
    ++n;
  }
  *out = value;
  return n >= min_digits;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool InRange(const CivilTime& t) {
  if (t.month < 1 || t.month > 12) return false;
  if (t.day < 1 || t.day > DaysInMonth(t.year, t.month)) return false;
  return t.hour <= 23 && t.minute <= 59 && t.second <= 60;
}

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  // Howard Hinnant's days_from_civil algorithm.
  int64_t y = int64_t(year) - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Result<TimeFormat> TimeFormat::Compile(std::string_view pattern) {
  TimeFormat f;
  f.pattern_ = std::string(pattern);
  auto fail = [&](std::string_view reason) {
    return Status::Invalid("format '" + f.pattern_ + "': " + std::string(reason));
  };
  bool seen_y = false, seen_m = false, seen_d = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%' || (i + 1 < pattern.size() && pattern[i + 1] == '%')) {
      if (f.pieces_.empty() || f.pieces_.back().conversion != 0) f.pieces_.push_back({0, ""});
      f.pieces_.back().literal.push_back(c);
      if (c == '%') ++i;
      continue;
    }
    if (i + 1 == pattern.size()) return fail("ends with a lone '%'");
    char conv = pattern[++i];
    if (std::string_view("YmdHMSf").find(conv) == std::string_view::npos) {
      return fail(std::string("unsupported conversion '%") + conv +
                  "' (supported: %Y %m %d %H %M %S %f %%)");
    }
    seen_y |= conv == 'Y';
    seen_m |= conv == 'm';
    seen_d |= conv == 'd';
    f.pieces_.push_back({conv, ""});
  }
  if (!seen_y || !seen_m || !seen_d) return fail("needs %Y, %m and %d");
  return f;
}

bool TimeFormat::Parse(std::string_view text, CivilTime* out) const {
  CivilTime t;
  size_t pos = 0;
  for (const Piece& piece : pieces_) {
    bool ok = true;
    switch (piece.conversion) {
      case 0: {
        // Literals are a character or a few ("-", " UTC"): compared in place rather than through
        // substr and memcmp.
        size_t len = piece.literal.size();
        ok = text.size() - pos >= len;
        for (size_t i = 0; ok && i < len; ++i) ok = text[pos + i] == piece.literal[i];
        pos += len;
        break;
      }
      case 'Y':
        ok = ReadNumber(text, &pos, 4, 4, &t.year);
        break;
      case 'm':
        ok = ReadNumber(text, &pos, 1, 2, &t.month);
        break;
      case 'd':
        ok = ReadNumber(text, &pos, 1, 2, &t.day);
        break;
      case 'H':
        ok = ReadNumber(text, &pos, 1, 2, &t.hour);
        break;
      case 'M':
        ok = ReadNumber(text, &pos, 1, 2, &t.minute);
        break;
      case 'S':
        ok = ReadNumber(text, &pos, 1, 2, &t.second);
        break;
      case 'f': {
        size_t start = pos;
        ok = ReadNumber(text, &pos, 1, 3, &t.millis);
        for (size_t n = pos - start; n < 3; ++n) t.millis *= 10;
        while (pos < text.size() && IsDigit(text[pos]) && pos - start < 9) ++pos;
        break;
      }
    }
    if (!ok) return false;
  }
  if (pos != text.size() || !InRange(t)) return false;
  *out = t;
  return true;
}

Time LocalTimeConverter::ToUtc(const CivilTime& t) {
  int64_t day = DaysFromCivil(t.year, t.month, t.day);
  int64_t ms_of_day = ((t.hour * 60LL + t.minute) * 60 + t.second) * 1000 + t.millis;
  if (zone_ == nullptr) return FromMillis(day * 86'400'000LL + ms_of_day);

  if (day != cached_day_) {
    // A day whose start and end are exactly 24 hours apart has no offset change inside it
    // (a transition and its reversal on one day does not occur in tzdata).
    cached_day_ = day;
    cached_day_start_ = LocalToUtc(day, 0, zone_);
    Time next_start = LocalToUtc(day + 1, 0, zone_);
    cached_day_uniform_ = next_start - cached_day_start_ == std::chrono::hours(24);
  }
  if (cached_day_uniform_) return cached_day_start_ + Duration(ms_of_day);
  int minute_of_day = t.hour * 60 + t.minute;
  return LocalToUtc(day, minute_of_day, zone_) + Duration(t.second * 1000LL + t.millis);
}

}  // namespace waymark::ingest
