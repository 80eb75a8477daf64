#include "engine/stats.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace waymark {
namespace {

JourneyStats Sample() {
  JourneyStats s;
  s.entered = 10;
  s.entered_control = 2;
  s.completed = 7;
  s.converted = 4;
  s.converted_control = 1;
  s.revenue = 120.5;
  s.revenue_control = 30;
  s.attributed = 3;
  s.engagement_unmatched = 2;
  Bump(&s.exits, "goal", 4);
  Bump(&s.skipped, "filter", 5);
  s.StepSlot("wait");
  StepStats& send = s.steps[s.StepSlot("send")];
  send.entered = 8;
  Bump(&send.sent, "email", 6);
  Bump(&send.suppressed, "consent", 2);
  send.held_out = 2;
  send.deferred = 1;
  send.opened = 9;
  send.clicked = 4;
  send.unique_opened = 5;
  send.unique_clicked = 3;
  send.converted = 3;
  send.revenue = 99.25;
  return s;
}

TEST(JourneyStatsTest, RoundTripsEveryStoredCounter) {
  JourneyStats s = Sample();
  JourneyStats back;
  Status st = AddJourneyStatsFromValue(JourneyStatsToValue(s), &back);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(JourneyStatsToValue(back).ToJson(), JourneyStatsToValue(s).ToJson());
  EXPECT_EQ(back.attributed, 3u);
  EXPECT_EQ(back.engagement_unmatched, 2u);
  ASSERT_EQ(back.step_ids, (std::vector<std::string>{"wait", "send"}));
  EXPECT_EQ(back.steps[1].opened, 9u);
  EXPECT_EQ(back.steps[1].clicked, 4u);
  EXPECT_EQ(back.steps[1].unique_opened, 5u);
  EXPECT_EQ(back.steps[1].unique_clicked, 3u);
  EXPECT_EQ(back.steps[1].converted, 3u);
  EXPECT_DOUBLE_EQ(back.steps[1].revenue, 99.25);
}

TEST(JourneyStatsTest, AddsToWhatIsThereAndReadsOlderValuesWithZeros) {
  JourneyStats s = Sample();
  JourneyStats twice = Sample();
  ASSERT_TRUE(AddJourneyStatsFromValue(JourneyStatsToValue(s), &twice).ok());
  EXPECT_EQ(twice.steps[1].clicked, 8u);
  EXPECT_DOUBLE_EQ(twice.steps[1].revenue, 198.5);

  // Counters written before engagement and attribution existed, and steps kept by position.
  Value old = ParseJson(R"({"entered": 3, "converted": 1, "revenue": 5,
                            "steps": [{"entered": 3, "sent": {"email": 3}}]})")
                  .value();
  JourneyStats back;
  ASSERT_TRUE(AddJourneyStatsFromValue(old, &back).ok());
  EXPECT_EQ(back.converted, 1u);
  EXPECT_EQ(back.attributed, 0u);
  EXPECT_EQ(back.step_ids, (std::vector<std::string>{"#0"}));
  EXPECT_EQ(back.steps[0].opened, 0u);
  EXPECT_DOUBLE_EQ(back.steps[0].revenue, 0);
}

TEST(JourneyStatsTest, StepsAddByIdWhateverTheirPosition) {
  // Version 1 had steps (wait, send); version 2 (first, wait): the counters follow the ids.
  JourneyStats a;
  a.steps[a.StepSlot("wait")].entered = 5;
  a.steps[a.StepSlot("send")].entered = 4;
  JourneyStats b;
  b.steps[b.StepSlot("first")].entered = 2;
  b.steps[b.StepSlot("wait")].entered = 1;
  a.Add(b);
  ASSERT_EQ(a.step_ids, (std::vector<std::string>{"wait", "send", "first"}));
  EXPECT_EQ(a.steps[0].entered, 6u);
  EXPECT_EQ(a.steps[1].entered, 4u);
  EXPECT_EQ(a.steps[2].entered, 2u);
  EXPECT_EQ(a.FindStep("first")->entered, 2u);
  EXPECT_EQ(a.FindStep("nope"), nullptr);
}

TEST(JourneyStatsTest, PositionalStepsTakeTheCurrentStepsIds) {
  Value old = ParseJson(R"({"steps": [{"entered": 3}, {"entered": 2}, {"entered": 1}]})").value();
  JourneyStats s;
  s.steps[s.StepSlot("second")].entered = 10;
  ASSERT_TRUE(AddJourneyStatsFromValue(old, &s).ok());
  NamePositionalSteps({"first", "second"}, &s);
  ASSERT_EQ(s.step_ids, (std::vector<std::string>{"second", "first"}));
  EXPECT_EQ(s.steps[0].entered, 12u);
  EXPECT_EQ(s.steps[1].entered, 3u);  // the third positional step has no current step: dropped
}

TEST(JourneyStatsTest, RejectsAStepRevenueThatIsNoNumber) {
  Value bad = ParseJson(R"({"steps": [{"id": "send", "revenue": "lots"}]})").value();
  JourneyStats back;
  Status st = AddJourneyStatsFromValue(bad, &back);
  EXPECT_EQ(st.code(), Status::Code::kParseError);
  EXPECT_EQ(st.message(), "stats: field 'revenue' is not a number");
}

TEST(EngineCountersTest, RoundTripsEngagementUnmatched) {
  EngineCounters c;
  c.events = 5;
  c.engagement_unmatched = 2;
  EngineCounters back;
  ASSERT_TRUE(AddEngineCountersFromValue(EngineCountersToValue(c), &back).ok());
  EXPECT_EQ(back.events, 5u);
  EXPECT_EQ(back.engagement_unmatched, 2u);
}

}  // namespace
}  // namespace waymark
