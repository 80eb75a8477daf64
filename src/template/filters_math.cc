// Number filters. Arguments become numbers as liquidjs's toNumber makes them (a non-number is 0),
// except that dividing by zero is a render error here, where liquidjs prints Infinity or NaN.
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
  std::string text;
  AppendJsNumber(n, &text);
  size_t e = text.find('e');
  double power = 0;
  if (e != std::string::npos) {
    std::string_view p(text);
    p.remove_prefix(e + 1);
    if (!p.empty() && p.front() == '+') p.remove_prefix(1);
    std::from_chars(p.data(), p.data() + p.size(), power);
    text.resize(e);
  }
  double shifted_power = power + exponent;
  if (shifted_power != std::trunc(shifted_power)) return NAN;
  text.push_back('e');
  text.append(std::to_string(static_cast<int64_t>(shifted_power)));
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) return std::stod(text);
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

// Our money filter: two decimals, rounded half away from zero in decimal, with an optional symbol
// before the digits and the sign before the symbol ("-€3.50").
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
  double rounded = Round(v, 2);
  std::string* s = env.arena->NewString();
  if (rounded < 0) s->push_back('-');
  s->append(Stringify(args.at(0), env.arena));
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.2f", std::fabs(rounded));
  s->append(buf, n > 0 ? static_cast<size_t>(n) : 0);
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
    case FilterId::kAbs: r = std::fabs(v); break;
    case FilterId::kAtLeast: r = std::max(v, a); break;
    case FilterId::kAtMost: r = std::min(v, a); break;
    case FilterId::kCeil: r = std::ceil(v); break;
    case FilterId::kFloor: r = std::floor(v); break;
    case FilterId::kPlus: r = v + a; break;
    case FilterId::kMinus: r = v - a; break;
    case FilterId::kTimes: r = v * a; break;
    case FilterId::kRound: r = Round(v, a); break;
    case FilterId::kDividedBy:
      if (a == 0) return Status::Invalid("divided_by: division by zero");
      r = v / a;
      if (args.at(1).truthy()) r = std::floor(r);  // integer arithmetic, liquidjs's third argument
      break;
    case FilterId::kModulo:
      if (a == 0) return Status::Invalid("modulo: division by zero");
      r = std::fmod(std::fmod(v, a) + a, a);
      break;
    default: return Status::Internal("filter is not a number filter");
  }
  *result = Datum::Number(r);
  return Status::Ok();
}

}  // namespace waymark::tmpl
