#include "analytics/report.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "model/config_loader.h"

namespace waymark {
namespace {

std::shared_ptr<const Config> TwoStepConfig() {
  auto config = LoadConfigText(R"(
templates:
  - { id: t, subject: "Hi" }
journeys:
  - id: cart
    trigger: { event: Cart Abandoned }
    goal: { event: Order Completed, within: 3d, attribution: click, click_window: 1d }
    steps:
      - { id: first, send: { channel: email, template: t } }
      - { id: second, send: { channel: email, template: t } }
)",
                               "report_test.yaml");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return *config;
}

EngineResults Results() {
  EngineResults r;
  r.counters.engagement_unmatched = 3;
  JourneyStats st;
  st.entered = 10;
  st.converted = 4;
  st.revenue = 150;
  st.attributed = 3;
  st.engagement_unmatched = 2;
  st.StepSlot("first");
  st.StepSlot("second");
  Bump(&st.steps[0].sent, "email", 10);
  st.steps[0].opened = 7;
  st.steps[0].unique_opened = 5;
  st.steps[0].clicked = 4;
  st.steps[0].unique_clicked = 3;
  st.steps[0].converted = 2;
  st.steps[0].revenue = 100;
  st.steps[1].converted = 1;
  st.steps[1].revenue = 25.5;
  r.journeys.push_back(st);
  return r;
}

TEST(ReportTest, JsonHasEngagementAndAttributionPerStepAndJourney) {
  auto config = TwoStepConfig();
  Result<Value> v = ParseJson(FormatReportJson(*config, Results(), RunInfo{}));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Find("run")->Find("engagement_unmatched")->as_number(), 3);
  const Value& cart = v->Find("journeys")->as_list()[0];
  EXPECT_EQ(cart.Find("engagement_unmatched")->as_number(), 2);
  const Value& goal = *cart.Find("goal");
  EXPECT_EQ(goal.Find("attribution")->as_string(), "click");
  EXPECT_EQ(goal.Find("click_window")->as_string(), "1d");
  EXPECT_EQ(goal.Find("attributed")->as_number(), 3);
  EXPECT_EQ(goal.Find("unattributed")->as_number(), 1);
  EXPECT_EQ(goal.Find("treated_conversions")->as_number(), 4);  // kept as it was
  const Value& first = cart.Find("steps")->as_list()[0];
  EXPECT_EQ(first.Find("sent")->Find("email")->as_number(), 10);
  EXPECT_EQ(first.Find("opened")->as_number(), 7);
  EXPECT_EQ(first.Find("unique_opened")->as_number(), 5);
  EXPECT_EQ(first.Find("clicked")->as_number(), 4);
  EXPECT_EQ(first.Find("unique_clicked")->as_number(), 3);
  EXPECT_EQ(first.Find("converted")->as_number(), 2);
  EXPECT_EQ(first.Find("revenue")->as_number(), 100);
  const Value& second = cart.Find("steps")->as_list()[1];
  EXPECT_EQ(second.Find("opened")->as_number(), 0);
  EXPECT_EQ(second.Find("revenue")->as_number(), 25.5);
}

TEST(ReportTest, CountsAgreeWithTheirNouns) {
  auto config = TwoStepConfig();
  EngineResults r = Results();
  r.counters.duplicates = 1;
  RunInfo run;
  run.rows = 1;
  run.bad_rows = 1;
  std::string text = FormatReportText(*config, r, run);
  EXPECT_NE(text.find("read from 1 row, 1 duplicate dropped, 1 bad row\n"), std::string::npos)
      << text;
  r.counters.duplicates = 2;
  text = FormatReportText(*config, r, run);
  EXPECT_NE(text.find(", 2 duplicates dropped, "), std::string::npos) << text;
}

TEST(ReportTest, TextShowsEngagementCreditAndUnmatched) {
  auto config = TwoStepConfig();
  std::string text = FormatReportText(*config, Results(), RunInfo{});
  EXPECT_NE(text.find("sent email 10; opened 7 (5 unique); clicked 4 (3 unique); credited 2 "
                      "conversions, revenue 100.00\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("credited 1 conversion, revenue 25.50\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    credit   3 attributed to a step, 1 unattributed (attribution click, "
                      "clicks within 1d)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  2 opens and clicks named a step this journey does not have\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  engagement 3 opens and clicks named no configured journey"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace waymark
