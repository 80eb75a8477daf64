// Number filters. Arguments become numbers as liquidjs's toNumber makes them (a non-number is 0),
// except that dividing by zero is a render error here, where liquidjs prints Infinity or NaN.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "template/filters.h"

namespace waymark::tmpl {

namespace {

// Number(`${mantissa}e${power + exponent}`) over String(n): moves the decimal point without
// binary rounding error, as liquidjs's round does.
double ShiftDecimal(double n, double exponent) {
  char text[kJsNumberMax + 24];
  size_t len = FormatJsNumber(n, text);
  std::string_view t(text, len);
  size_t e = t.find('e');
  double power = 0;
  if (e != std::string_view::npos) {
    const char* p = text + e + 1;
    if (*p == '+') ++p;
    std::from_chars(p, text + len, power);
    len = e;
  }
  double shifted = power + exponent;
  if (shifted != std::trunc(shifted) || std::fabs(shifted) > 1e6) return NAN;
  text[len++] = 'e';
  len = std::to_chars(text + len, text + sizeof(text), static_cast<int64_t>(shifted)).ptr - text;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text, text + len, v);
  if (ec == std::errc::result_out_of_range) return shifted > 0 ? INFINITY : 0;
  return v;
}

double JsRound(double x) {
  double f = std::floor(x);
  return (x - f >= 0.5) ? f + 1 : f;
}

double Round(double v, double digits) {
  double scaled = ShiftDecimal(std::fabs(v), digits);
  if (!(scaled <= 9007199254740991.0)) return v;
  double rounded = ShiftDecimal(JsRound(scaled), -digits);
  return v < 0 ? -rounded : rounded;
}

// The money filter's text for |v|: exactly two decimals, rounding half up on the shortest decimal
// form of v (so 2.675 gives 2.68, as a person would expect, not the 2.67 its binary value would
// round to). Writes to `buf`, which must hold kFixed2Max bytes, and returns the length.
constexpr size_t kFixed2Max = 400;  // The longest fixed form of a double is about 330 characters.

// The common case, without printing the shortest form: when v is the double nearest to a whole
// number of cents c, its shortest form is c / 100 (below 1e13 no other number with at most two
// decimals rounds to v, and none with fewer significant digits does either). Returns 0 when v is
// not such a double.
size_t FormatCents(double v, char* buf) {
  if (!(v < 1e13)) return 0;
  // Rounding half up rather than with nearbyint (a libm call) finds the same c whenever one
  // exists: v * 100 is then within an ulp of c, far from a half.
  auto c = static_cast<int64_t>(v * 100 + 0.5);
  if (static_cast<double>(c) / 100 != v) return 0;
  char* end = std::to_chars(buf, buf + kFixed2Max, c / 100).ptr;
  *end++ = '.';
  *end++ = static_cast<char>('0' + c % 100 / 10);
  *end++ = static_cast<char>('0' + c % 10);
  return static_cast<size_t>(end - buf);
}

size_t FormatFixed2(double v, char* buf) {
  v = std::fabs(v);
  if (size_t n = FormatCents(v, buf)) return n;
  char* end = std::to_chars(buf + 1, buf + kFixed2Max, v, std::chars_format::fixed).ptr;
  buf[0] = '0';  // room for a carry
  char* dot = std::find(buf + 1, end, '.');
  if (dot == end) *end++ = '.';
  while (end - dot < 4) *end++ = '0';
  bool round_up = dot[3] >= '5';
  end = dot + 3;
  for (ptrdiff_t i = end - buf - 1; round_up && i >= 0; --i) {
    if (buf[i] == '.') continue;
    round_up = buf[i] == '9';
    buf[i] = round_up ? '0' : static_cast<char>(buf[i] + 1);
  }
  size_t skip = buf[0] == '0' ? 1 : 0;
  size_t len = static_cast<size_t>(end - buf) - skip;
  std::memmove(buf, buf + skip, len);
  return len;
}

}  // namespace

Status AppendMoney(const Datum& input, const FilterArgs& args, FilterEnv& env, std::string* out) {
  if (input.is_nil()) return Status::Ok();
  double v = JsToNumber(input);
  if (std::isnan(v) || std::isinf(v) || input.kind == Datum::Kind::kBool) {
    std::string shown;
    AppendJsString(input, &shown);
    return Status::Invalid("money: '" + shown + "' is not a number");
  }
  char digits[kFixed2Max];
  std::string_view text(digits, FormatFixed2(v, digits));
  if (v < 0 && text.find_first_not_of("0.") != std::string_view::npos) {
    out->push_back('-');  // No "-0.00".
  }
  out->append(Stringify(args.at(0), env.arena));
  out->append(text);
  return Status::Ok();
}

Status ApplyMathFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                       Datum* result) {
  if (id == FilterId::kMoney) {
    *result = Datum::Nil();
    if (input.is_nil()) return Status::Ok();
    std::string* s = env.arena->NewString();
    WAYMARK_RETURN_IF_ERROR(AppendMoney(input, args, env, s));
    *result = Datum::String(*s);
    return Status::Ok();
  }
  double v = ToNumberOr0(input);
  double a = ToNumberOr0(args.at(0));
  double r = 0;
  switch (id) {
    case FilterId::kAbs:
      r = std::fabs(v);
      break;
    case FilterId::kAtLeast:
      r = std::max(v, a);
      break;
    case FilterId::kAtMost:
      r = std::min(v, a);
      break;
    case FilterId::kCeil:
      r = std::ceil(v);
      break;
    case FilterId::kFloor:
      r = std::floor(v);
      break;
    case FilterId::kPlus:
      r = v + a;
      break;
    case FilterId::kMinus:
      r = v - a;
      break;
    case FilterId::kTimes:
      r = v * a;
      break;
    case FilterId::kRound:
      r = Round(v, a);
      break;
    case FilterId::kDividedBy:
      if (a == 0) return Status::Invalid("divided_by: division by zero");
      r = v / a;
      if (args.at(1).truthy()) r = std::floor(r);  // integer arithmetic, liquidjs's third argument
      break;
    case FilterId::kModulo:
      if (a == 0) return Status::Invalid("modulo: division by zero");
      r = std::fmod(std::fmod(v, a) + a, a);
      break;
    default:
      return Status::Internal("filter is not a number filter");
  }
  *result = Datum::Number(r);
  return Status::Ok();
}

}  // namespace waymark::tmpl
