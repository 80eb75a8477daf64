// Treated-versus-control conversion statistics.
//
// Intervals are Wilson score intervals for each rate and Newcombe's hybrid score interval
// (method 10 of Newcombe 1998) for their difference; unlike the textbook Wald interval they stay
// inside [0, 1] and behave at small counts and at rates near 0, which journeys' control groups
// routinely have.
#pragma once

#include <cstdint>

namespace waymark {

struct Interval {
  double low = 0;
  double high = 0;
};

// Wilson score interval for `successes` out of `trials` at the given z (1.96 for 95%).
// With no trials, the interval is [0, 1].
Interval WilsonInterval(uint64_t successes, uint64_t trials, double z = 1.959964);

struct Lift {
  double treated_rate = 0;
  double control_rate = 0;
  double difference = 0;     // treated - control, in rate units (0.025 = 2.5 points)
  Interval difference_ci;    // 95%
  bool has_control = false;  // false when the control group is empty: no comparison possible
};

Lift ComputeLift(uint64_t treated_conversions, uint64_t treated, uint64_t control_conversions,
                 uint64_t control);

}  // namespace waymark
