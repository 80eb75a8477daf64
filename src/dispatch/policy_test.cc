#include "dispatch/policy.h"

#include <gtest/gtest.h>

#include "model/config_loader.h"

namespace waymark {
namespace {

Time At(const char* iso) { return *ParseIsoTime(iso); }

std::shared_ptr<const Config> Load(const std::string& policies) {
  auto c = LoadConfigText(policies, "p.yaml");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = Load(R"(policies:
  frequency_caps:
    - { channels: all, max: 2, per: 1d }
    - { channels: [email], max: 1, per: local_day }
  quiet_hours: { start: "21:00", end: "08:00", action: defer, channels: [sms, push] }
)");
    email_ = config_->ChannelIndex("email");
    push_ = config_->ChannelIndex("push");
    sms_ = config_->ChannelIndex("sms");
    profile_.traits.Set("email", "a@example.com");
    profile_.traits.Set("push_token", "tok");
    profile_.tz = FindTimeZone("America/New_York");
  }

  std::shared_ptr<const Config> config_;
  Profile profile_;
  SendLog log_;
  int email_ = -1, push_ = -1, sms_ = -1;
};

TEST_F(PolicyTest, CapAcrossChannelsFallsBackThenSuppresses) {
  PolicyEngine engine(*config_, false);
  Time noon = At("2026-06-01T16:00:00Z");  // 12:00 in New York
  log_.Add(noon - std::chrono::hours(2), email_);
  auto d = engine.Decide(profile_, log_, {email_, push_}, noon);
  // Email hit its one-per-local-day cap, push is still allowed.
  ASSERT_EQ(d.kind, DispatchDecision::Kind::kSend);
  EXPECT_EQ(d.channel, push_);
  EXPECT_EQ(d.checks[0].reason, SuppressReason::kFrequencyCap);
  log_.Add(noon, push_);
  d = engine.Decide(profile_, log_, {email_, push_}, noon + std::chrono::hours(1));
  ASSERT_EQ(d.kind, DispatchDecision::Kind::kSuppress);
  EXPECT_EQ(d.reason, SuppressReason::kFrequencyCap);
  EXPECT_EQ(d.checks[1].detail, "cap 2 per 1d (all channels) reached");
}

TEST_F(PolicyTest, LocalDayCapResetsAtLocalMidnight) {
  PolicyEngine engine(*config_, false);
  log_.Add(At("2026-06-02T03:30:00Z"), email_);  // 23:30 on June 1 in New York
  auto d = engine.Decide(profile_, log_, {email_}, At("2026-06-02T03:50:00Z"));  // 23:50
  EXPECT_EQ(d.kind, DispatchDecision::Kind::kSuppress);
  d = engine.Decide(profile_, log_, {email_}, At("2026-06-02T04:10:00Z"));  // 00:10 next day
  EXPECT_EQ(d.kind, DispatchDecision::Kind::kSend);
}

TEST_F(PolicyTest, QuietHoursDeferOnlyCoveredChannels) {
  PolicyEngine engine(*config_, false);
  Time late = At("2026-06-02T02:00:00Z");  // 22:00 in New York
  auto d = engine.Decide(profile_, log_, {push_}, late);
  ASSERT_EQ(d.kind, DispatchDecision::Kind::kDefer);
  EXPECT_EQ(FormatIsoTime(d.defer_until), "2026-06-02T12:00:00Z");  // 08:00 EDT
  d = engine.Decide(profile_, log_, {email_}, late);
  EXPECT_EQ(d.kind, DispatchDecision::Kind::kSend);
}

TEST_F(PolicyTest, ConsentAndContact) {
  PolicyEngine strict(*config_, false);
  Time t = At("2026-06-01T16:00:00Z");
  auto d = strict.Decide(profile_, log_, {sms_}, t);
  EXPECT_EQ(d.reason, SuppressReason::kNoContact);
  PolicyEngine replay(*config_, true);
  d = replay.Decide(profile_, log_, {sms_}, t);
  EXPECT_EQ(d.kind, DispatchDecision::Kind::kSend);
  EXPECT_EQ(d.to, "(assumed)");
  profile_.traits.Set("phone", Value());  // the data says: no phone
  EXPECT_EQ(replay.Decide(profile_, log_, {sms_}, t).reason, SuppressReason::kNoContact);

  Value consent = Value::EmptyObject();
  consent.Set("email", false);
  profile_.traits.Set("consent", consent);
  d = strict.Decide(profile_, log_, {email_, push_}, t);
  EXPECT_EQ(d.channel, push_);
  EXPECT_EQ(d.checks[0].reason, SuppressReason::kConsent);
  profile_.traits.Set("unsubscribed", true);
  EXPECT_EQ(strict.Decide(profile_, log_, {push_}, t).reason, SuppressReason::kConsent);
}

}  // namespace
}  // namespace waymark
