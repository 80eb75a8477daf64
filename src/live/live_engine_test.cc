#include "live/live_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/hash.h"
#include "live/inbox.h"
#include "model/config_loader.h"

namespace waymark::live {
namespace {

namespace fs = std::filesystem;

constexpr char kConfig[] = R"(
templates:
  - id: reminder
    subject: "Still thinking about {{ event.product_id }}?"
    text: "Hi {{ profile.first_name | default: 'there' }}"
journeys:
  - id: cart
    trigger: { event: Product Added }
    goal: { event: Order Completed, within: 3d }
    steps:
      - { id: wait_1h, wait: 1h }
      - id: remind
        send: { channel: email, template: reminder, max_lateness: 30m }
)";

Time T(const char* iso) { return *ParseIsoTime(iso); }

Event Identify(std::string user, std::string email, std::string message_id) {
  Event e;
  e.type = EventType::kIdentify;
  e.user_id = std::move(user);
  e.traits = Value::EmptyObject();
  e.traits.Set("email", std::move(email));
  e.message_id = std::move(message_id);
  return e;
}

Event Track(std::string name, std::string user, std::string anonymous, std::string message_id) {
  Event e;
  e.type = EventType::kTrack;
  e.name = std::move(name);
  e.user_id = std::move(user);
  e.anonymous_id = std::move(anonymous);
  e.properties = Value::EmptyObject();
  e.properties.Set("product_id", "sku-1");
  e.message_id = std::move(message_id);
  return e;
}

class LiveEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("waymark_live_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto config = LoadConfigText(kConfig, "test.yaml");
    ASSERT_TRUE(config.ok()) << config.status().message();
    config_ = *config;
    options_.delivery.outbox_file = (dir_ / "outbox.jsonl").string();
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }

  void Open() {
    auto engine = LiveEngine::Open(config_, (dir_ / "data").string(), options_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    engine_ = std::move(*engine);
  }

  // Accepts events stamped with the clock's time, as the HTTP front does.
  void Send(std::vector<Event> events) {
    for (Event& e : events) e.timestamp = clock_.Now();
    Status s = engine_->Accept(std::move(events));
    ASSERT_TRUE(s.ok()) << s.message();
  }

  std::vector<std::string> OutboxLines() {
    std::vector<std::string> lines;
    std::ifstream in(options_.delivery.outbox_file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  Value Profile(std::string_view id) {
    Result<Value> v = engine_->ProfileView(id);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : Value();
  }

  fs::path dir_;
  std::shared_ptr<const Config> config_;
  LiveOptions options_;
  ManualClock clock_{T("2026-03-02T12:00:00Z")};
  std::unique_ptr<LiveEngine> engine_;
};

TEST_F(LiveEngineTest, AppliesAcceptedEventsAndSendsWhenTheWaitIsOver) {
  Open();
  Send({Identify("u1", "u1@example.com", "m1"), Track("Product Added", "u1", "", "m2")});
  engine_->WaitIdle();
  Value p = Profile("u1");
  EXPECT_EQ(p.Find("event_count")->as_number(), 2);
  ASSERT_EQ(p.Find("instances")->as_list().size(), 1u);
  const Value& inst = p.Find("instances")->as_list()[0];
  EXPECT_EQ(inst.Find("state")->as_string(), "waiting");
  EXPECT_EQ(inst.Find("step")->as_string(), "wait_1h");
  EXPECT_EQ(inst.Find("timer_due")->as_string(), "2026-03-02T13:00:00Z");
  EXPECT_TRUE(OutboxLines().empty());

  clock_.Advance(std::chrono::minutes(59));
  engine_->WaitIdle();
  EXPECT_TRUE(OutboxLines().empty());
  clock_.Advance(std::chrono::minutes(1));
  engine_->WaitIdle();
  std::vector<std::string> lines = OutboxLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"to\":\"u1@example.com\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("Still thinking about sku-1?"), std::string::npos) << lines[0];

  p = Profile("u1");
  const Value& sent = *p.Find("instances")->as_list()[0].Find("last_message");
  EXPECT_EQ(sent.Find("step")->as_string(), "remind");
  EXPECT_EQ(sent.Find("channel")->as_string(), "email");
  EXPECT_EQ(sent.Find("sent_at")->as_string(), "2026-03-02T13:00:00Z");
  const Value::List& messages = p.Find("messages")->as_list();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].Find("outcome")->as_string(), "sent");
  EXPECT_EQ(messages[0].Find("channel")->as_string(), "email");
  EXPECT_EQ(messages[0].Find("time")->as_string(), "2026-03-02T13:00:00Z");
  // Newest first; delivery reported the send back as an event.
  const Value::List& events = p.Find("recent_events")->as_list();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].Find("event")->as_string(), "track Message Sent");
  EXPECT_EQ(events[1].Find("event")->as_string(), "track Product Added");
  EXPECT_EQ(events[2].Find("event")->as_string(), "identify");
  EXPECT_EQ(p.Find("event_count")->as_number(), 2);  // a delivery report is not the customer's

  Result<Value> delivered = engine_->OutboxView(store::DeliveryStatus::kDelivered, 10);
  ASSERT_TRUE(delivered.ok());
  ASSERT_EQ(delivered->as_list().size(), 1u);
  EXPECT_EQ(delivered->as_list()[0].Find("message")->Find("step")->as_string(), "remind");
}

TEST_F(LiveEngineTest, DropsARepeatedMessageIdEvenAfterARestart) {
  Open();
  Send({Identify("u1", "u1@example.com", "m1"), Identify("u1", "u1@example.com", "m1")});
  engine_->WaitIdle();
  EXPECT_EQ(Profile("u1").Find("event_count")->as_number(), 1);
  engine_.reset();
  Open();
  EXPECT_EQ(engine_->recovery().seen_messages, 1u);
  Send({Identify("u1", "u1@example.com", "m1")});
  engine_->WaitIdle();
  EXPECT_EQ(Profile("u1").Find("event_count")->as_number(), 1);
}

TEST_F(LiveEngineTest, RestartFiresTimersThatCameDueAndSendsOnce) {
  Open();
  Send({Identify("u1", "u1@example.com", "m1"), Track("Product Added", "u1", "", "m2")});
  engine_->WaitIdle();
  engine_.reset();                           // a clean stop
  clock_.Advance(std::chrono::minutes(70));  // down past the wait, within max_lateness
  Open();
  EXPECT_EQ(engine_->recovery().profiles, 1u);
  EXPECT_EQ(engine_->recovery().timers, 1u);
  EXPECT_EQ(engine_->recovery().timers_fired, 1u);
  engine_->WaitIdle();
  std::vector<std::string> lines = OutboxLines();
  ASSERT_EQ(lines.size(), 1u);
  // Sent at start-up, not at the due time it missed.
  EXPECT_NE(lines[0].find("\"time\":\"2026-03-02T13:10:00Z\""), std::string::npos) << lines[0];

  engine_.reset();
  clock_.Advance(std::chrono::hours(1));
  Open();
  engine_->WaitIdle();
  EXPECT_EQ(OutboxLines().size(), 1u);
}

TEST_F(LiveEngineTest, RestartSkipsASendLaterThanItsMaxLateness) {
  Open();
  Send({Identify("u1", "u1@example.com", "m1"), Track("Product Added", "u1", "", "m2")});
  engine_->WaitIdle();
  engine_.reset();
  clock_.Advance(std::chrono::hours(3));  // 2 h late: more than max_lateness 30m
  Open();
  engine_->WaitIdle();
  EXPECT_TRUE(OutboxLines().empty());
  Value p = Profile("u1");
  const Value::List& messages = p.Find("messages")->as_list();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].Find("outcome")->as_string(), "suppressed");
  EXPECT_EQ(messages[0].Find("reason")->as_string(), "too_late");
  Result<Value> stats = engine_->StatsView("cart");
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->Find("steps")->as_list()[1].Find("suppressed")->Find("too_late")->as_number(),
            1);
}

TEST_F(LiveEngineTest, AppliesJournaledEventsThatWereNotAppliedBeforeACrash) {
  // What a crash between the journal write and the shard's write leaves behind: journal
  // entries and their dedupe marks, no profile.
  {
    store::StoreOptions so;
    auto store = store::StateStore::Open((dir_ / "data").string(), so);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store::WriteBatch batch;
    uint64_t seq = 1;
    std::vector<uint64_t> seen;
    for (Event e :
         {Identify("u1", "u1@example.com", "m1"), Track("Product Added", "u1", "", "m2")}) {
      e.timestamp = clock_.Now();
      e.seq = seq;
      batch.PutJournal(0, seq++, e);
      seen.push_back(Hash64(e.message_id));
    }
    batch.PutSeenMessages(clock_.Now(), 1, seen);
    batch.PutIngestSequence(2);
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  Open();
  EXPECT_EQ(engine_->recovery().journal_events, 2u);
  EXPECT_EQ(engine_->recovery().next_sequence, 3u);
  Value p = Profile("u1");
  EXPECT_EQ(p.Find("event_count")->as_number(), 2);
  EXPECT_EQ(p.Find("instances")->as_list().size(), 1u);

  // Applied once: a second restart finds an empty journal.
  engine_.reset();
  Open();
  EXPECT_EQ(engine_->recovery().journal_events, 0u);
  EXPECT_EQ(Profile("u1").Find("event_count")->as_number(), 2);
}

TEST_F(LiveEngineTest, MergesAnAnonymousProfileFromAnotherShard) {
  options_.shards = 4;
  Open();
  // An anonymous id that lives on another shard than the user's (the engine's routing hash).
  auto shard_of = [](std::string_view key) { return Hash64(key, 0x7a11) % 4; };
  std::string anon = "anon-0";
  for (int i = 1; shard_of(anon) == shard_of("u1"); ++i) anon = "anon-" + std::to_string(i);
  Send({Track("Product Added", "", anon, "m1"), Track("Product Viewed", "", "anon-b", "m2")});
  engine_->WaitIdle();
  Send({Identify("u1", "u1@example.com", "m3")});
  Event link = Track("Product Viewed", "u1", anon, "m4");
  Send({std::move(link)});
  engine_->WaitIdle();

  Value p = Profile(anon);  // resolves through the alias
  EXPECT_EQ(p.Find("id")->as_string(), "u1");
  EXPECT_EQ(p.Find("event_count")->as_number(), 3);
  ASSERT_EQ(p.Find("instances")->as_list().size(), 1u);  // the cart instance moved along
  EXPECT_EQ(Profile("anon-b").Find("id")->as_string(), "anon-b");

  engine_.reset();
  Open();
  EXPECT_EQ(engine_->recovery().aliases, 1u);
  EXPECT_EQ(engine_->recovery().profiles, 2u);  // u1 and anon-b; the merged key was deleted
  EXPECT_EQ(Profile(anon).Find("event_count")->as_number(), 3);
  // Later anonymous events follow the alias.
  Send({Track("Product Viewed", "", anon, "m5")});
  engine_->WaitIdle();
  EXPECT_EQ(Profile("u1").Find("event_count")->as_number(), 4);
}

TEST_F(LiveEngineTest, RefusesEventsBeyondThePendingLimit) {
  options_.max_pending_events = 2;
  Open();
  std::vector<Event> three = {Identify("a", "a@x", "1"), Identify("b", "b@x", "2"),
                              Identify("c", "c@x", "3")};
  Status s = engine_->Accept(three);
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.message(), "overloaded: 0 events waiting to be applied (max_pending_events 2)");
  EXPECT_TRUE(engine_->Accept({Identify("a", "a@x", "1")}).ok());
}

TEST_F(LiveEngineTest, KeepsCountersAcrossRestartsAndShardCounts) {
  options_.shards = 3;
  Open();
  for (int i = 0; i < 6; ++i) {
    std::string u = "u" + std::to_string(i);
    Send({Identify(u, u + "@example.com", "i" + u), Track("Product Added", u, "", "t" + u)});
  }
  engine_->WaitIdle();
  engine_.reset();
  options_.shards = 2;
  Open();
  Result<Value> stats = engine_->StatsView(std::nullopt);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  const Value& cart = stats->Find("journeys")->as_list()[0];
  EXPECT_EQ(cart.Find("entered")->as_number(), 6);
  EXPECT_EQ(cart.Find("active")->as_number(), 6);
  EXPECT_EQ(stats->Find("totals")->Find("events")->as_number(), 12);
  EXPECT_EQ(stats->Find("totals")->Find("profiles")->as_number(), 6);
  EXPECT_EQ(engine_->StatsView("nope").status().code(), Status::Code::kNotFound);
}

TEST_F(LiveEngineTest, APausedJourneyTakesNoNewEntries) {
  Open();
  auto paused = std::make_shared<Config>(*config_);
  paused->journey_status = {JourneyStatus::kPaused};
  paused->history.InternNames();
  ASSERT_TRUE(engine_->SwapConfig(paused).ok());
  Send({Identify("u1", "u1@example.com", "m1"), Track("Product Added", "u1", "", "m2")});
  engine_->WaitIdle();
  EXPECT_TRUE(Profile("u1").Find("instances")->as_list().empty());
  Result<Value> stats = engine_->StatsView("cart");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->Find("not_entered")->Find("paused")->as_number(), 1);
}

TEST_F(LiveEngineTest, UnknownProfileIsNotFound) {
  Open();
  Result<Value> v = engine_->ProfileView("nobody");
  EXPECT_EQ(v.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(v.status().message(), "no profile has id 'nobody'");
}

TEST_F(LiveEngineTest, MetricsNameTheEngineGauges) {
  Open();
  Send({Identify("u1", "u1@example.com", "m1"), Track("Product Added", "u1", "", "m2")});
  engine_->WaitIdle();
  std::string m = engine_->RenderMetrics();
  EXPECT_NE(m.find("waymark_engine_events_journaled_total 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("waymark_engine_instances 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("waymark_engine_timers_pending 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("waymark_engine_decision_latency_seconds_count 2\n"), std::string::npos) << m;
}

TEST_F(LiveEngineTest, InAppSendsWaitInTheInboxUntilTheyExpire) {
  auto config = LoadConfigText(R"(
delivery:
  inbox: { ttl: 2d }
templates:
  - id: hello
    title: "Hi {{ profile.first_name }}"
    body: "Welcome aboard"
journeys:
  - id: welcome
    trigger: { event: identify }
    steps:
      - { id: hello, send: { channel: in_app, template: hello } }
)",
                               "inbox.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  config_ = *config;
  Open();
  Event id = Identify("u1", "u1@example.com", "m1");
  id.traits.Set("first_name", "Ann");
  Send({std::move(id)});
  engine_->WaitIdle();

  LiveInbox inbox(engine_.get());
  Result<Value> list = inbox.List("u1", clock_.Now());
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->as_list().size(), 1u);
  const Value& m = list->as_list()[0];
  EXPECT_EQ(m.Find("title")->as_string(), "Hi Ann");
  EXPECT_EQ(m.Find("body")->as_string(), "Welcome aboard");
  EXPECT_EQ(m.Find("read")->as_bool(), false);
  EXPECT_EQ(m.Find("expires_at")->as_string(), "2026-03-04T12:00:00Z");
  std::string message_id = m.Find("id")->as_string();

  Result<Value> read = inbox.MarkRead("u1", message_id, clock_.Now());
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->Find("read")->as_bool(), true);
  engine_->WaitIdle();
  Value p = Profile("u1");
  EXPECT_EQ(p.Find("recent_events")->as_list()[0].Find("event")->as_string(),
            "track Message Opened");
  EXPECT_EQ(inbox.MarkRead("u1", "nope", clock_.Now()).status().code(), Status::Code::kNotFound);

  clock_.Advance(std::chrono::hours(48));
  list = inbox.List("u1", clock_.Now());
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->as_list().empty());
  EXPECT_TRUE(inbox.List("nobody", clock_.Now())->as_list().empty());
}

TEST_F(LiveEngineTest, AProfileShowsASendHeldByQuietHours) {
  auto config = LoadConfigText(R"(
policies:
  quiet_hours: { start: "08:00", end: "20:00", action: defer }
templates:
  - { id: hello, subject: "Hi", text: "Hi" }
journeys:
  - id: welcome
    trigger: { event: identify }
    steps:
      - { id: hello, send: { channel: email, template: hello } }
)",
                               "quiet.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  config_ = *config;
  Open();
  Send({Identify("u1", "u1@example.com", "m1")});  // 12:00Z, inside quiet hours (UTC)
  engine_->WaitIdle();
  Value p = Profile("u1");
  ASSERT_NE(p.Find("instances"), nullptr) << p.ToJson();
  ASSERT_EQ(p.Find("instances")->as_list().size(), 1u) << p.ToJson();
  const Value& inst = p.Find("instances")->as_list()[0];
  EXPECT_EQ(inst.Find("state")->as_string(), "deferred_send");
  EXPECT_EQ(inst.Find("deferred_by")->as_string(), "quiet_hours");
  EXPECT_EQ(inst.Find("timer_due")->as_string(), "2026-03-02T20:00:00Z");
}

}  // namespace
}  // namespace waymark::live
