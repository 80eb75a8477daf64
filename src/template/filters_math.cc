// Number filters. Arguments become numbers as liquidjs's toNumber makes them (a non-number is 0),
// except that dividing by zero is a render error here, where liquidjs prints Infinity or NaN.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
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

// Appends |v| with exactly two decimals, rounding half up on its shortest decimal form (so 2.675
// gives 2.68, as a person would expect, not the 2.67 its binary value would round to).
void AppendFixed2(double v, std::string* out) {
  char buf[400];  // The longest fixed form of a double is about 330 characters.
  char* end = std::to_chars(buf + 1, buf + sizeof(buf), std::fabs(v), std::chars_format::fixed).ptr;
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
  const char* begin = buf[0] == '0' ? buf + 1 : buf;
  out->append(begin, static_cast<size_t>(end - begin));
}

// Our money filter: two decimals, with an optional symbol before the digits and the sign before
// the symbol ("-€3.50").
Status Money(const Datum& input, const FilterArgs& args, FilterEnv& env, Datum* result) {
  if (input.is_nil()) {
    *result = Datum::Nil();
    return Status::Ok();
  }
  double v = JsToNumber(input);
  if (std::isnan(v) || std::isinf(v) || input.kind == Datum::Kind::kBool) {
    std::string shown;
    AppendJsString(input, &shown);
    return Status::Invalid("money: '" + shown + "' is not a number");
  }
  std::string* s = env.arena->NewString();
  size_t sign_at = s->size();
  s->append(Stringify(args.at(0), env.arena));
  size_t digits_at = s->size();
  AppendFixed2(v, s);
  if (v < 0 && s->find_first_not_of("0.", digits_at) != std::string::npos) {
    s->insert(sign_at, 1, '-');  // No "-0.00".
  }
  *result = Datum::String(*s);
  return Status::Ok();
}

}  // namespace

Status ApplyMathFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                       Datum* result) {
  if (id == FilterId::kMoney) return Money(input, args, env, result);
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
