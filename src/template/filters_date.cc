// The date filter: strftime formatting as liquidjs does it, in RenderOptions::tz.
//
// Inputs: "now"/"today" (RenderOptions::now), a number or a string of digits (seconds since the
// epoch), or an ISO 8601 timestamp (core/time.h's ParseIsoTime). nil gives nil; anything else is a
// render error, where liquidjs would print the input unchanged.
#include <date/date.h>
#include <date/tz.h>

#include <cassert>
#include <charconv>
#include <cmath>
#include <string>

#include "core/time.h"
#include "template/filters.h"
#include "template/text.h"

namespace waymark::tmpl {

namespace {

constexpr std::string_view kDefaultFormat = "%A, %B %-e, %Y at %-l:%M %P %z";
constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
constexpr std::string_view kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};

struct Fields {
  int64_t epoch_ms;
  int year, month, day, hour, minute, second, millis, weekday, yday;
  int offset_minutes;  // local minus UTC
  std::string_view zone;
};

Fields Breakdown(Time t, const TimeZone* tz) {
  Duration offset{0};
  if (tz != UtcZone()) offset = tz->get_info(std::chrono::floor<std::chrono::seconds>(t)).offset;
  auto local = t + offset;
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
  f.offset_minutes = int(std::chrono::duration_cast<std::chrono::minutes>(offset).count());
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

// Scratch space for one conversion's text.
struct Piece {
  char buf[32];
  std::string nested;  // for conversions that expand to a whole format ("%D")

  std::string_view Num(int64_t v) {
    if (v >= 0 && v < 100) {  // days, months, hours, minutes, seconds
      size_t n = v < 10 ? 1 : 2;
      buf[0] = static_cast<char>(n == 1 ? '0' + v : '0' + v / 10);
      buf[1] = static_cast<char>('0' + v % 10);
      return {buf, n};
    }
    return {buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), v).ptr - buf)};
  }
};

void Format(const Fields& f, std::string_view format, std::string* out);

std::string_view Nested(const Fields& f, std::string_view format, Piece* piece) {
  piece->nested.clear();
  Format(f, format, &piece->nested);
  return piece->nested;
}

std::string_view Offset(const Fields& f, bool colon, Piece* piece) {
  int m = std::abs(f.offset_minutes);
  char* p = piece->buf;
  *p++ = f.offset_minutes < 0 ? '-' : '+';
  *p++ = static_cast<char>('0' + m / 600);
  *p++ = static_cast<char>('0' + m / 60 % 10);
  if (colon) *p++ = ':';
  *p++ = static_cast<char>('0' + m % 60 / 10);
  *p++ = static_cast<char>('0' + m % 10);
  return {piece->buf, static_cast<size_t>(p - piece->buf)};
}

std::string_view Ordinal(int d) {
  if (d == 11 || d == 12 || d == 13) return "th";
  return d % 10 == 1 ? "st" : d % 10 == 2 ? "nd" : d % 10 == 3 ? "rd" : "th";
}

std::string_view Fraction(const Fields& f, std::string_view width, Piece* piece) {
  size_t w = 9;
  if (!width.empty()) std::from_chars(width.data(), width.data() + width.size(), w);
  if (w == 0) w = 9;
  char ms[3] = {char('0' + f.millis / 100), char('0' + f.millis / 10 % 10),
                char('0' + f.millis % 10)};
  piece->nested.assign(ms, std::min<size_t>(w, 3));
  if (w > 3) piece->nested.append(w - 3, '0');
  return piece->nested;
}

// The text of conversion `c` before padding; false when `c` is not a conversion.
bool Convert(const Fields& f, char c, bool colon, std::string_view width, Piece* piece,
             std::string_view* text) {
  auto week_of_year = [&](int start) {
    int since = (f.weekday - start + 7) % 7;
    return piece->Num((f.yday - 1 - since + 7) / 7);
  };
  auto iso = [&](bool year) {
    int iso_year = 0, iso_week = 0;
    IsoWeek(f, &iso_year, &iso_week);
    return year ? iso_year : iso_week;
  };
  auto hour12 = [&] { return f.hour % 12 == 0 ? 12 : f.hour % 12; };
  switch (c) {
    case 'a':
      *text = kDays[f.weekday].substr(0, 3);
      return true;
    case 'A':
      *text = kDays[f.weekday];
      return true;
    case 'b':
    case 'h':
      *text = kMonths[f.month - 1].substr(0, 3);
      return true;
    case 'B':
      *text = kMonths[f.month - 1];
      return true;
    case 'c':
      *text = Nested(f, "%-m/%-d/%Y, %-I:%M:%S %p", piece);
      return true;
    case 'C':
      *text = piece->Num(f.year / 100);
      return true;
    case 'd':
    case 'e':
      *text = piece->Num(f.day);
      return true;
    case 'g':
      *text = piece->Num((iso(true) % 100 + 100) % 100);
      return true;
    case 'G':
      *text = piece->Num(iso(true));
      return true;
    case 'H':
    case 'k':
      *text = piece->Num(f.hour);
      return true;
    case 'I':
    case 'l':
      *text = piece->Num(hour12());
      return true;
    case 'j':
      *text = piece->Num(f.yday);
      return true;
    case 'L':
      *text = piece->Num(f.millis);
      return true;
    case 'm':
      *text = piece->Num(f.month);
      return true;
    case 'M':
      *text = piece->Num(f.minute);
      return true;
    case 'N':
      *text = Fraction(f, width, piece);
      return true;
    case 'p':
      *text = f.hour < 12 ? "AM" : "PM";
      return true;
    case 'P':
      *text = f.hour < 12 ? "am" : "pm";
      return true;
    case 'q':
      *text = Ordinal(f.day);
      return true;
    case 's':
      *text = piece->Num(static_cast<int64_t>(std::floor(double(f.epoch_ms) / 1000.0)));
      return true;
    case 'S':
      *text = piece->Num(f.second);
      return true;
    case 'u':
      *text = piece->Num(f.weekday == 0 ? 7 : f.weekday);
      return true;
    case 'U':
      *text = week_of_year(0);
      return true;
    case 'V':
      *text = piece->Num(iso(false));
      return true;
    case 'w':
      *text = piece->Num(f.weekday);
      return true;
    case 'W':
      *text = week_of_year(1);
      return true;
    case 'x':
      *text = Nested(f, "%-m/%-d/%Y", piece);
      return true;
    case 'X':
      *text = Nested(f, "%-I:%M:%S %p", piece);
      return true;
    case 'y':
      *text = piece->Num((f.year % 100 + 100) % 100);
      return true;
    case 'Y':
      *text = piece->Num(f.year);
      return true;
    case 'z':
      *text = Offset(f, colon, piece);
      return true;
    case 'Z':
      *text = f.zone;
      return true;
    case 't':
      *text = "\t";
      return true;
    case 'n':
      *text = "\n";
      return true;
    case '%':
      *text = "%";
      return true;
    case 'D':
      *text = Nested(f, "%m/%d/%y", piece);
      return true;
    case 'F':
      *text = Nested(f, "%Y-%m-%d", piece);
      return true;
    case 'r':
      *text = Nested(f, "%I:%M:%S %p", piece);
      return true;
    case 'R':
      *text = Nested(f, "%H:%M", piece);
      return true;
    case 'T':
      *text = Nested(f, "%H:%M:%S", piece);
      return true;
    default:
      return false;
  }
}

size_t DefaultWidth(char c) {
  switch (c) {
    case 'C':
    case 'd':
    case 'e':
    case 'g':
    case 'H':
    case 'I':
    case 'k':
    case 'l':
    case 'm':
    case 'M':
    case 'S':
    case 'U':
    case 'V':
    case 'W':
    case 'y':
      return 2;
    case 'j':
    case 'L':
      return 3;
    case 'G':
    case 'Y':
      return 4;
    default:
      return 0;
  }
}

// The flags of one conversion ("-_0^#:"), as a set of bits.
enum Flag : unsigned {
  kNoPad = 1,      // -
  kSpacePad = 2,   // _
  kZeroPad = 4,    // 0
  kUpper = 8,      // ^
  kSwapCase = 16,  // #
  kColon = 32,     // :
};

unsigned FlagBit(char c) {
  switch (c) {
    case '-':
      return kNoPad;
    case '_':
      return kSpacePad;
    case '0':
      return kZeroPad;
    case '^':
      return kUpper;
    case '#':
      return kSwapCase;
    case ':':
      return kColon;
    default:
      return 0;
  }
}

bool PadsWithSpace(char c) {
  switch (c) {
    case 'a':
    case 'A':
    case 'b':
    case 'B':
    case 'c':
    case 'e':
    case 'k':
    case 'l':
    case 'p':
    case 'P':
    case 'D':
    case 'F':
    case 'r':
    case 'R':
    case 'T':
      return true;
    default:
      return false;
  }
}

// One conversion as written: %[flags][width][E|O]c.
struct Spec {
  unsigned flags = 0;
  std::string_view width;  // the digits as written, for %N
  size_t min_width = 0;    // 0 when absent
  char c = 0;
};

// Appends conversion `spec` with its flags and width; false when spec.c is not a conversion.
bool AppendConversion(const Fields& f, const Spec& spec, std::string* out) {
  Piece piece;
  std::string_view text;
  if (!Convert(f, spec.c, (spec.flags & kColon) != 0, spec.width, &piece, &text)) return false;
  std::string cased;
  if ((spec.flags & (kUpper | kSwapCase)) != 0) {
    bool has_lower = false;
    for (char ch : text) has_lower = has_lower || (ch >= 'a' && ch <= 'z');
    if ((spec.flags & kUpper) != 0 || has_lower) {
      AppendUpper(text, &cased);
    } else {
      AppendLower(text, &cased);
    }
    text = cased;
  }
  size_t w = spec.min_width != 0 ? spec.min_width : DefaultWidth(spec.c);
  if ((spec.flags & kNoPad) != 0) w = 0;
  if (w == 0) {
    out->append(text);
    return true;
  }
  char pad = PadsWithSpace(spec.c) ? ' ' : '0';
  if ((spec.flags & kSpacePad) != 0) {
    pad = ' ';
  } else if ((spec.flags & kZeroPad) != 0) {
    pad = '0';
  }
  // Every conversion's text is ASCII (English names, digits, signs, zone names), so its length
  // in UTF-16 units, which padding counts, is its size.
  size_t len = text.size();
  assert(len == Utf16Length(text));
  if (pad == '0' && !text.empty() && text[0] == '-') {
    out->push_back('-');
    text.remove_prefix(1);
    --len;
    --w;
  }
  if (len < w) out->append(w - len, pad);
  out->append(text);
  return true;
}

// Conversions look like %[flags][width][E|O]c with flags from "-_0^#:".
void Format(const Fields& f, std::string_view format, std::string* out) {
  size_t i = 0;
  while (i < format.size()) {
    size_t pct = format.find('%', i);
    if (pct == std::string_view::npos || pct + 1 >= format.size()) break;
    size_t p = pct + 1;
    Spec spec;
    while (p < format.size() && FlagBit(format[p]) != 0) spec.flags |= FlagBit(format[p++]);
    size_t width_begin = p;
    while (p < format.size() && format[p] >= '0' && format[p] <= '9') ++p;
    spec.width = format.substr(width_begin, p - width_begin);
    if (!spec.width.empty()) {
      std::from_chars(spec.width.data(), spec.width.data() + spec.width.size(), spec.min_width);
    }
    if (p < format.size() && (format[p] == 'E' || format[p] == 'O') && p + 1 < format.size() &&
        format[p + 1] != '\n') {
      ++p;
    }
    if (p >= format.size() || format[p] == '\n') {
      out->append(format.substr(i, p - i));
      i = p;
      continue;
    }
    if (pct > i) out->append(format.substr(i, pct - i));
    spec.c = format[p];
    i = static_cast<unsigned char>(spec.c) < 0x80 ? p + 1 : AdvanceCodePoints(format, p, 1);
    if (!AppendConversion(f, spec, out)) {
      out->append(format.substr(pct, i - pct));  // Unknown conversions stay as written.
    }
  }
  out->append(format.substr(std::min(i, format.size())));
}

}  // namespace

Status AppendDate(const Datum& input, const FilterArgs& args, FilterEnv& env, std::string* out) {
  if (input.is_nil()) return Status::Ok();
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
  Format(Breakdown(*t, tz), format, out);
  return Status::Ok();
}

Status ApplyDateFilter(const Datum& input, const FilterArgs& args, FilterEnv& env, Datum* result) {
  *result = Datum::Nil();
  if (input.is_nil()) return Status::Ok();
  std::string* s = env.arena->NewString();
  WAYMARK_RETURN_IF_ERROR(AppendDate(input, args, env, s));
  *result = Datum::String(*s);
  return Status::Ok();
}

}  // namespace waymark::tmpl
