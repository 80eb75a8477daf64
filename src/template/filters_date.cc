// The date filter: strftime formatting as liquidjs does it, in RenderOptions::tz.
//
// Inputs: "now"/"today" (RenderOptions::now), a number or a string of digits (seconds since the
// epoch), or an ISO 8601 timestamp (core/time.h's ParseIsoTime). nil gives nil; anything else is a
// render error, where liquidjs would print the input unchanged.
#include <date/date.h>
#include <date/tz.h>

#include <cmath>
#include <string>

#include "core/time.h"
#include "template/filters.h"
#include "template/text.h"

namespace waymark::tmpl {

namespace {

constexpr std::string_view kDefaultFormat = "%A, %B %-e, %Y at %-l:%M %P %z";
constexpr std::string_view kMonths[] = {"January", "February", "March",     "April",
                                        "May",     "June",     "July",      "August",
                                        "September", "October", "November", "December"};
constexpr std::string_view kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};

struct Fields {
  int64_t epoch_ms;
  int year, month, day, hour, minute, second, millis, weekday, yday;
  int offset_minutes;  // local minus UTC
  std::string_view zone;
};

Fields Breakdown(Time t, const TimeZone* tz) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  date::sys_info info = tz->get_info(secs);
  auto local = t + info.offset;
  auto day = std::chrono::floor<date::days>(local);
  date::year_month_day ymd(day);
  date::hh_mm_ss<Duration> hms(local - day);
  Fields f;
  f.epoch_ms = ToMillis(t);
  f.year = int(ymd.year());
  f.month = int(unsigned(ymd.month()));
  f.day = int(unsigned(ymd.day()));
  f.hour = int(hms.hours().count());
  f.minute = int(hms.minutes().count());
  f.second = int(hms.seconds().count());
  f.millis = int(hms.subseconds().count());
  f.weekday = int(date::weekday(day).c_encoding());
  date::sys_days jan1 = date::sys_days(date::year_month_day(ymd.year() / 1 / 1));
  f.yday = int((date::sys_days(day.time_since_epoch()) - jan1).count()) + 1;
  f.offset_minutes = int(std::chrono::duration_cast<std::chrono::minutes>(info.offset).count());
  f.zone = tz->name();
  return f;
}

int IsoWeeksInYear(int y) {
  auto p = [](int x) { return ((x + x / 4 - x / 100 + x / 400) % 7 + 7) % 7; };
  return p(y) == 4 || p(y - 1) == 3 ? 53 : 52;
}

void IsoWeek(const Fields& f, int* year, int* week) {
  *year = f.year;
  *week = (f.yday - (f.weekday == 0 ? 7 : f.weekday) + 10) / 7;
  if (*week < 1) {
    *year -= 1;
    *week = IsoWeeksInYear(*year);
  } else if (*week > IsoWeeksInYear(*year)) {
    *year += 1;
    *week = 1;
  }
}

std::string Num(int64_t v) { return std::to_string(v); }

std::string Offset(const Fields& f, bool colon) {
  int m = std::abs(f.offset_minutes);
  std::string s(1, f.offset_minutes < 0 ? '-' : '+');
  auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  return s + two(m / 60) + (colon ? ":" : "") + two(m % 60);
}

std::string Hour12(const Fields& f) { return Num(f.hour % 12 == 0 ? 12 : f.hour % 12); }

std::string Format(const Fields& f, std::string_view format);

// The text of one conversion before padding; false when `c` is not a conversion.
bool Convert(const Fields& f, char c, bool colon, const std::string& width, std::string* out) {
  auto week_of_year = [&](int start) {
    int since = (f.weekday - start + 7) % 7;
    return Num((f.yday - 1 - since + 7) / 7);
  };
  int iso_year, iso_week;
  switch (c) {
    case 'a': *out = kDays[f.weekday].substr(0, 3); return true;
    case 'A': *out = kDays[f.weekday]; return true;
    case 'b':
    case 'h': *out = kMonths[f.month - 1].substr(0, 3); return true;
    case 'B': *out = kMonths[f.month - 1]; return true;
    case 'c': *out = Format(f, "%-m/%-d/%Y, %-I:%M:%S %p"); return true;
    case 'C': *out = Num(f.year / 100); return true;
    case 'd':
    case 'e': *out = Num(f.day); return true;
    case 'g': IsoWeek(f, &iso_year, &iso_week); *out = Num((iso_year % 100 + 100) % 100); return true;
    case 'G': IsoWeek(f, &iso_year, &iso_week); *out = Num(iso_year); return true;
    case 'H':
    case 'k': *out = Num(f.hour); return true;
    case 'I':
    case 'l': *out = Hour12(f); return true;
    case 'j': *out = Num(f.yday); return true;
    case 'L': *out = Num(f.millis); return true;
    case 'm': *out = Num(f.month); return true;
    case 'M': *out = Num(f.minute); return true;
    case 'N': {
      size_t w = width.empty() ? 9 : std::stoul(width);
      std::string ms = (f.millis < 100 ? (f.millis < 10 ? "00" : "0") : "") + Num(f.millis);
      *out = ms.substr(0, std::min<size_t>(w, 3)) + std::string(w > 3 ? w - 3 : 0, '0');
      return true;
    }
    case 'p': *out = f.hour < 12 ? "AM" : "PM"; return true;
    case 'P': *out = f.hour < 12 ? "am" : "pm"; return true;
    case 'q': {
      int d = f.day;
      *out = (d == 11 || d == 12 || d == 13) ? "th"
             : d % 10 == 1                   ? "st"
             : d % 10 == 2                   ? "nd"
             : d % 10 == 3                   ? "rd"
                                             : "th";
      return true;
    }
    case 's': *out = Num(static_cast<int64_t>(std::floor(f.epoch_ms / 1000.0))); return true;
    case 'S': *out = Num(f.second); return true;
    case 'u': *out = Num(f.weekday == 0 ? 7 : f.weekday); return true;
    case 'U': *out = week_of_year(0); return true;
    case 'V': IsoWeek(f, &iso_year, &iso_week); *out = Num(iso_week); return true;
    case 'w': *out = Num(f.weekday); return true;
    case 'W': *out = week_of_year(1); return true;
    case 'x': *out = Format(f, "%-m/%-d/%Y"); return true;
    case 'X': *out = Format(f, "%-I:%M:%S %p"); return true;
    case 'y': *out = Num((f.year % 100 + 100) % 100); return true;
    case 'Y': *out = Num(f.year); return true;
    case 'z': *out = Offset(f, colon); return true;
    case 'Z': *out = f.zone; return true;
    case 't': *out = "\t"; return true;
    case 'n': *out = "\n"; return true;
    case '%': *out = "%"; return true;
    case 'D': *out = Format(f, "%m/%d/%y"); return true;
    case 'F': *out = Format(f, "%Y-%m-%d"); return true;
    case 'r': *out = Format(f, "%I:%M:%S %p"); return true;
    case 'R': *out = Format(f, "%H:%M"); return true;
    case 'T': *out = Format(f, "%H:%M:%S"); return true;
    default: return false;
  }
}

int DefaultWidth(char c) {
  switch (c) {
    case 'C': case 'd': case 'e': case 'g': case 'H': case 'I': case 'k': case 'l': case 'm':
    case 'M': case 'S': case 'U': case 'V': case 'W': case 'y': return 2;
    case 'j': case 'L': return 3;
    case 'G': case 'Y': return 4;
    default: return 0;
  }
}

bool PadsWithSpace(char c) { return std::string_view("aAbBceklpPDFrRT").find(c) != std::string_view::npos; }

// Appends conversion `c` with its flags and width; false when `c` is not a conversion.
bool AppendConversion(const Fields& f, std::string_view flags, const std::string& width, char c,
                      std::string* out) {
  std::string text;
  if (!Convert(f, c, flags.find(':') != std::string_view::npos, width, &text)) return false;
  if (flags.find('^') != std::string_view::npos) {
    std::string up;
    AppendUpper(text, &up);
    text = up;
  } else if (flags.find('#') != std::string_view::npos) {
    bool has_lower = text.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos;
    std::string changed;
    if (has_lower) AppendUpper(text, &changed); else AppendLower(text, &changed);
    text = changed;
  }
  char pad = PadsWithSpace(c) ? ' ' : '0';
  size_t w = width.empty() || std::stoul(width) == 0 ? DefaultWidth(c) : std::stoul(width);
  if (flags.find('_') != std::string_view::npos) {
    pad = ' ';
  } else if (flags.find('0') != std::string_view::npos) {
    pad = '0';
  }
  if (flags.find('-') != std::string_view::npos) w = 0;
  size_t len = Utf16Length(text);
  if (pad == '0' && !text.empty() && text[0] == '-') {
    out->push_back('-');
    text.erase(0, 1);
    --len;
    if (w > 0) --w;
  }
  if (len < w) out->append(w - len, pad);
  out->append(text);
  return true;
}

// Conversions look like %[flags][width][E|O]c with flags from "-_0^#:".
std::string Format(const Fields& f, std::string_view format) {
  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    size_t pct = format.find('%', i);
    if (pct == std::string_view::npos || pct + 1 >= format.size()) break;
    size_t p = pct + 1;
    size_t flags_begin = p;
    while (p < format.size() && std::string_view("-_0^#:").find(format[p]) != std::string_view::npos) ++p;
    std::string_view flags = format.substr(flags_begin, p - flags_begin);
    size_t width_begin = p;
    while (p < format.size() && format[p] >= '0' && format[p] <= '9') ++p;
    std::string width(format.substr(width_begin, p - width_begin));
    if (p < format.size() && (format[p] == 'E' || format[p] == 'O') && p + 1 < format.size() &&
        format[p + 1] != '\n') {
      ++p;
    }
    if (p >= format.size() || format[p] == '\n') {
      out.append(format.substr(i, p - i));
      i = p;
      continue;
    }
    out.append(format.substr(i, pct - i));
    i = AdvanceCodePoints(format, p, 1);
    if (!AppendConversion(f, flags, width, format[p], &out)) {
      out.append(format.substr(pct, i - pct));  // Unknown conversions stay as written.
    }
  }
  out.append(format.substr(std::min(i, format.size())));
  return out;
}

}  // namespace

Status ApplyDateFilter(const Datum& input, const FilterArgs& args, FilterEnv& env,
                       Datum* result) {
  if (input.is_nil()) {
    *result = Datum::Nil();
    return Status::Ok();
  }
  std::optional<Time> t;
  if (input.is_number() && std::isfinite(input.number)) {
    t = FromMillis(static_cast<int64_t>(std::llround(input.number * 1000)));
  } else if (input.is_string() && (input.str == "now" || input.str == "today")) {
    t = env.opts->now;
  } else if (input.is_string() && !input.str.empty() &&
             input.str.find_first_not_of("0123456789") == std::string_view::npos &&
             input.str.size() < 16) {
    t = FromMillis(std::stoll(std::string(input.str)) * 1000);
  } else if (input.is_string()) {
    t = ParseIsoTime(input.str);
  }
  if (!t) {
    std::string shown;
    AppendJsString(input, &shown);
    return Status::Invalid("date: '" + shown + "' is not a date");
  }
  const TimeZone* tz = env.opts->tz != nullptr ? env.opts->tz : UtcZone();
  Datum format_arg = args.at(0);
  std::string_view format = format_arg.is_nil() ? kDefaultFormat : Stringify(format_arg, env.arena);
  std::string* s = env.arena->NewString();
  s->append(Format(Breakdown(*t, tz), format));
  *result = Datum::String(*s);
  return Status::Ok();
}

}  // namespace waymark::tmpl
