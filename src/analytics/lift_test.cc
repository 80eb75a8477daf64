#include "analytics/lift.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

// Reference values from Newcombe (1998), Statistics in Medicine 17:873-890, Table II.
TEST(LiftTest, WilsonMatchesNewcombeTable) {
  Interval i = WilsonInterval(81, 263);
  EXPECT_NEAR(i.low, 0.2553, 5e-4);
  EXPECT_NEAR(i.high, 0.3662, 5e-4);
  i = WilsonInterval(0, 10);
  EXPECT_NEAR(i.low, 0.0, 1e-9);
  EXPECT_NEAR(i.high, 0.2775, 5e-4);
}

TEST(LiftTest, NewcombeDifferenceMatchesPublishedExample) {
  // Example (a) of Newcombe's Table II: 56/70 vs 48/80 -> 0.2000, 95% CI 0.0524 to 0.3339.
  Lift l = ComputeLift(56, 70, 48, 80);
  EXPECT_NEAR(l.difference, 0.2, 1e-9);
  EXPECT_NEAR(l.difference_ci.low, 0.0524, 5e-4);
  EXPECT_NEAR(l.difference_ci.high, 0.3339, 5e-4);
}

TEST(LiftTest, ZeroCountsStayBounded) {
  // Example (h): 0/10 vs 0/20 -> 0, CI -0.1611 to 0.2775.
  Lift l = ComputeLift(0, 10, 0, 20);
  EXPECT_NEAR(l.difference_ci.low, -0.1611, 5e-4);
  EXPECT_NEAR(l.difference_ci.high, 0.2775, 5e-4);
}

TEST(LiftTest, NoControlMeansNoComparison) {
  Lift l = ComputeLift(5, 100, 0, 0);
  EXPECT_FALSE(l.has_control);
  EXPECT_DOUBLE_EQ(l.treated_rate, 0.05);
}

}  // namespace
}  // namespace waymark
