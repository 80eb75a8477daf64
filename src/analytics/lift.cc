#include "analytics/lift.h"

#include <cmath>

namespace waymark {

Interval WilsonInterval(uint64_t successes, uint64_t trials, double z) {
  if (trials == 0) return Interval{0, 1};
  double n = double(trials);
  double p = double(successes) / n;
  double z2 = z * z;
  double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return Interval{std::max(0.0, center - half), std::min(1.0, center + half)};
}

Lift ComputeLift(uint64_t treated_conversions, uint64_t treated, uint64_t control_conversions,
                 uint64_t control) {
  Lift lift;
  lift.treated_rate = treated == 0 ? 0 : double(treated_conversions) / double(treated);
  lift.control_rate = control == 0 ? 0 : double(control_conversions) / double(control);
  lift.difference = lift.treated_rate - lift.control_rate;
  lift.has_control = control > 0 && treated > 0;
  if (!lift.has_control) return lift;
  Interval t = WilsonInterval(treated_conversions, treated);
  Interval c = WilsonInterval(control_conversions, control);
  double p1 = lift.treated_rate, p2 = lift.control_rate;
  lift.difference_ci.low =
      lift.difference - std::sqrt((p1 - t.low) * (p1 - t.low) + (c.high - p2) * (c.high - p2));
  lift.difference_ci.high =
      lift.difference + std::sqrt((t.high - p1) * (t.high - p1) + (p2 - c.low) * (p2 - c.low));
  return lift;
}

}  // namespace waymark
