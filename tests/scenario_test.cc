// Runs every tests/scenarios/*.yaml file through the engine with each configured shard count and
// checks the expectations. Output must not depend on the shard count.

#include "scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/json.h"

namespace waymark::testing {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(WAYMARK_SCENARIO_DIR)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Field(const Value& v, const char* key) {
  const Value* f = v.Find(key);
  return f == nullptr ? "(none)" : f->ToText();
}

std::string Describe(const Value& v) {
  return Field(v, "time") + " " + Field(v, "profile") + " " + Field(v, "journey") + "/" +
         Field(v, "step") + " " + Field(v, "channel");
}

void CheckSends(const Scenario& s, const EngineResults& r) {
  if (!s.sends) return;
  std::string actual_list;
  for (const OutboxRecord& rec : r.outbox)
    actual_list += "  " + Describe(*ParseJson(rec.json)) + "\n";
  ASSERT_EQ(r.outbox.size(), s.sends->size()) << "sends were:\n" << actual_list;
  for (size_t i = 0; i < r.outbox.size(); ++i) {
    Value v = *ParseJson(r.outbox[i].json);
    const ExpectedSend& x = (*s.sends)[i];
    SCOPED_TRACE("send #" + std::to_string(i) + ": " + Describe(v) + "\nsends were:\n" +
                 actual_list);
    EXPECT_EQ(FormatIsoTime(*ParseIsoTime(x.at)), Field(v, "time"));
    EXPECT_EQ(x.profile, Field(v, "profile"));
    EXPECT_EQ(x.journey, Field(v, "journey"));
    EXPECT_EQ(x.step, Field(v, "step"));
    EXPECT_EQ(x.channel, Field(v, "channel"));
    if (x.promo_code) {
      EXPECT_EQ(*x.promo_code, Field(v, "promo_code"));
    }
    if (x.subject) {
      EXPECT_EQ(*x.subject, Field(v, "subject"));
    }
    if (x.text) {
      EXPECT_EQ(*x.text, Field(v, "text"));
    }
    if (x.body) {
      EXPECT_EQ(*x.body, Field(v, "body"));
    }
    if (x.to) {
      EXPECT_EQ(*x.to, Field(v, "to"));
    }
  }
}

void CheckSuppressions(const Scenario& s, const EngineResults& r) {
  if (!s.suppressions) return;
  std::string actual_list;
  for (const OutboxRecord& rec : r.suppressions) actual_list += "  " + rec.json + "\n";
  ASSERT_EQ(r.suppressions.size(), s.suppressions->size()) << "suppressions were:\n" << actual_list;
  for (size_t i = 0; i < r.suppressions.size(); ++i) {
    Value v = *ParseJson(r.suppressions[i].json);
    const ExpectedSuppression& x = (*s.suppressions)[i];
    SCOPED_TRACE("suppression #" + std::to_string(i) + ": " + r.suppressions[i].json);
    EXPECT_EQ(FormatIsoTime(*ParseIsoTime(x.at)), Field(v, "time"));
    EXPECT_EQ(x.profile, Field(v, "profile"));
    EXPECT_EQ(x.journey, Field(v, "journey"));
    EXPECT_EQ(x.step, Field(v, "step"));
    EXPECT_EQ(x.reason, Field(v, "reason"));
  }
}

uint64_t CountOf(const Counts& counts, const std::string& key) {
  auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

void CheckSteps(const JourneyDef& j, const ExpectedJourney& x, const JourneyStats& st) {
  for (const ExpectedStep& want : x.steps) {
    int index = j.StepIndex(want.id);
    ASSERT_GE(index, 0) << "journey " << x.id << " has no step " << want.id;
    const StepStats* found = st.FindStep(want.id);
    const StepStats& got = found != nullptr ? *found : StepStats{};
    SCOPED_TRACE("step " + want.id);
    auto check = [&](const std::optional<uint64_t>& w, uint64_t g, const char* name) {
      if (w) {
        EXPECT_EQ(*w, g) << name;
      }
    };
    uint64_t sent = 0;
    for (const auto& [channel, n] : got.sent) sent += n;
    check(want.entered, got.entered, "entered");
    check(want.sent, sent, "sent");
    check(want.held_out, got.held_out, "held_out");
    check(want.opened, got.opened, "opened");
    check(want.clicked, got.clicked, "clicked");
    check(want.unique_opened, got.unique_opened, "unique_opened");
    check(want.unique_clicked, got.unique_clicked, "unique_clicked");
    check(want.converted, got.converted, "converted");
    if (want.revenue) {
      EXPECT_DOUBLE_EQ(*want.revenue, got.revenue) << "revenue";
    }
    for (const auto& [channel, n] : want.sent_by_channel) {
      EXPECT_EQ(n, CountOf(got.sent, channel)) << "sent[" << channel << "]";
    }
    for (const auto& [reason, n] : want.suppressed) {
      EXPECT_EQ(n, CountOf(got.suppressed, reason)) << "suppressed[" << reason << "]";
    }
    for (const auto& [reason, n] : want.exited) {
      EXPECT_EQ(n, CountOf(got.exited, reason)) << "exited[" << reason << "]";
    }
  }
}

void CheckJourneys(const Scenario& s, const EngineResults& r) {
  for (const ExpectedJourney& x : s.journeys) {
    int index = -1;
    for (size_t i = 0; i < s.config->journeys.size(); ++i) {
      if (s.config->journeys[i]->id == x.id) index = int(i);
    }
    ASSERT_GE(index, 0) << "no journey " << x.id;
    const JourneyStats& st = r.journeys[index];
    SCOPED_TRACE("journey " + x.id);
    if (x.entered) {
      EXPECT_EQ(*x.entered, st.entered);
    }
    if (x.control) {
      EXPECT_EQ(*x.control, st.entered_control);
    }
    if (x.active) {
      EXPECT_EQ(*x.active, st.active);
    }
    if (x.completed) {
      EXPECT_EQ(*x.completed, st.completed);
    }
    if (x.converted) {
      EXPECT_EQ(*x.converted, st.converted);
    }
    if (x.customers) {
      EXPECT_EQ(*x.customers, st.customers);
    }
    if (x.customers_control) {
      EXPECT_EQ(*x.customers_control, st.customers_control);
    }
    if (x.customers_converted) {
      EXPECT_EQ(*x.customers_converted, st.customers_converted);
    }
    if (x.customers_converted_control) {
      EXPECT_EQ(*x.customers_converted_control, st.customers_converted_control);
    }
    if (x.converted_control) {
      EXPECT_EQ(*x.converted_control, st.converted_control);
    }
    for (const auto& [reason, n] : x.exits) {
      auto it = st.exits.find(reason);
      EXPECT_EQ(n, it == st.exits.end() ? 0 : it->second) << "exits[" << reason << "]";
    }
    for (const auto& [reason, n] : x.skipped) {
      auto it = st.skipped.find(reason);
      EXPECT_EQ(n, it == st.skipped.end() ? 0 : it->second) << "not_entered[" << reason << "]";
    }
    if (x.attributed) {
      EXPECT_EQ(*x.attributed, st.attributed);
    }
    if (x.unattributed) {
      EXPECT_EQ(*x.unattributed, st.converted - st.attributed);
    }
    if (x.engagement_unmatched) {
      EXPECT_EQ(*x.engagement_unmatched, st.engagement_unmatched);
    }
    if (x.revenue) {
      EXPECT_DOUBLE_EQ(*x.revenue, st.revenue);
    }
    CheckSteps(*s.config->journeys[index], x, st);
  }
}

void CheckTrace(const Scenario& s, const EngineResults& r) {
  std::string all;
  for (const auto& [key, lines] : r.traces) {
    for (const TraceEntry& t : lines) all += FormatIsoTime(t.time) + "  " + t.text + "\n";
  }
  for (const std::string& want : s.trace_contains) {
    EXPECT_NE(all.find(want), std::string::npos) << "trace lacks: " << want << "\ntrace:\n" << all;
  }
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, ProducesExpectedDecisions) {
  auto loaded = LoadScenario(GetParam());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Scenario& s = *loaded;
  std::vector<std::string> first_outbox;
  for (int shards : s.shard_counts) {
    SCOPED_TRACE("shards=" + std::to_string(shards));
    EngineResults r = RunScenario(s, shards);
    CheckSends(s, r);
    CheckSuppressions(s, r);
    CheckJourneys(s, r);
    CheckTrace(s, r);
    if (s.duplicates) {
      EXPECT_EQ(*s.duplicates, r.counters.duplicates);
    }
    if (s.profiles) {
      EXPECT_EQ(*s.profiles, r.counters.profiles);
    }
    if (s.merges) {
      EXPECT_EQ(*s.merges, r.counters.merges);
    }
    if (s.engagement_unmatched) {
      EXPECT_EQ(*s.engagement_unmatched, r.counters.engagement_unmatched);
    }
    std::vector<std::string> outbox;
    for (const OutboxRecord& rec : r.outbox) outbox.push_back(rec.json);
    if (first_outbox.empty()) {
      first_outbox = outbox;
    } else {
      EXPECT_EQ(first_outbox, outbox) << "outbox differs between shard counts";
    }
  }
}

std::string NameOf(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()), NameOf);

}  // namespace
}  // namespace waymark::testing
