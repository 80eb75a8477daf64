#include "live/journey_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "engine/shard.h"
#include "live/journey_records.h"
#include "model/config_loader.h"
#include "store/state_store.h"
#include "store/store_test_util.h"

namespace waymark::live {
namespace {

using store::StateStore;
using store::testing::TempDir;

// ---- configs and documents ----

const char kHead[] = R"(settings:
  history_limit: 500
segments:
  - id: shoppers
    name: Shoppers
    condition: 'count("Product Viewed", within: 7d) >= 3'
templates:
  - id: welcome_email
    subject: "Welcome {{ profile.first_name | default: 'there' }}"
    text: "Hello"
)";

const char kHeadWithoutSegments[] = R"(settings:
  history_limit: 500
templates:
  - id: welcome_email
    subject: "Welcome {{ profile.first_name | default: 'there' }}"
    text: "Hello"
)";

const char kCartTemplate[] = R"(  - id: cart_email
    subject: "Your cart"
    text: "You left {{ event.product_id }}"
)";

const char kWelcome[] = R"(  - id: welcome
    name: Welcome series
    stage: onboarding
    version: 1
    trigger: { event: Signed Up }
    steps:
      - id: hello
        send: { channel: email, template: welcome_email }
      - wait: 1d
      - id: check
        branch:
          - if: 'count("Order Completed") > 0'
            next: end
          - else: tips
      - id: tips
        send: { channel: [email, sms], template: welcome_email }
)";

// kWelcome with `version: 2` and a shorter wait.
const char kWelcomeBumped[] = R"(  - id: welcome
    name: Welcome series
    stage: onboarding
    version: 2
    trigger: { event: Signed Up }
    steps:
      - id: hello
        send: { channel: email, template: welcome_email }
      - wait: 12h
)";

const char kCart[] = R"(  - id: cart
    name: Abandoned cart
    stage: conversion
    version: 2
    trigger: { event: Product Added, where: 'event.price > 0' }
    steps:
      - wait: 1h
      - id: remind
        send: { channel: email, template: cart_email }
)";

const char kExtra[] = R"(  - id: extra
    trigger: { event: Extra }
    steps: [{ wait: 1h }]
)";

std::string FullConfig() {
  return std::string(kHead) + kCartTemplate + "journeys:\n" + kWelcome + kCart;
}

// Documents as the admin API receives them.
const char kWelcomeV2[] = R"(id: welcome
name: Welcome series
stage: onboarding
trigger: { event: Signed Up }
steps:
  - id: hello
    send: { channel: email, template: welcome_email }
  - wait: 2d
  - id: again
    wait_for: { event: Page Viewed, where: 'count("Page Viewed", within: 1d) > 2', timeout: 1d }
)";

const char kWinback[] = R"(id: winback
name: Win back
trigger: { segment_enter: shoppers }
steps:
  - id: nudge
    send: { channel: email, template: welcome_email }
)";

const char kBadWelcome[] = R"(id: welcome
trigger: { event: Signed Up }
steps:
  - id: remind
    send: { channel: email, template: nope }
  - wiat: 1h
)";

const char kBadWelcomeErrors[] =
    "journey:5:39: unknown template 'nope'\n"
    "journey:6:5: unknown step type 'wiat' (did you mean 'wait'?)";

std::shared_ptr<const Config> Disk(const std::string& text) {
  Result<std::shared_ptr<const Config>> config = LoadConfigText(text, "disk.yaml");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : nullptr;
}

// Journeys with versions and statuses, retained versions and history names of `c`, as one line.
std::string Shape(const std::shared_ptr<const Config>& config) {
  if (config == nullptr) return "(no config)";
  const Config& c = *config;
  std::string out;
  for (size_t i = 0; i < c.journeys.size(); ++i) {
    out += c.journeys[i]->id + "@" + std::to_string(c.journeys[i]->version) + ":" +
           std::string(JourneyStatusName(c.StatusOf(i))) + " ";
  }
  std::vector<std::string> retained, history;
  for (const auto& j : c.retained_versions) {
    retained.push_back(j->id + "@" + std::to_string(j->version));
  }
  for (const HistoryPolicy::Rule& r : c.history.rules) history.push_back(r.name);
  std::sort(retained.begin(), retained.end());
  std::sort(history.begin(), history.end());
  out += "| retained";
  for (const std::string& r : retained) out += " " + r;
  out += " | history";
  for (const std::string& h : history) out += " " + h;
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  lines.push_back(text.substr(start));
  return lines;
}

// The value at `path` ("versions.1.state", "0.status") of a List() or Get() answer: strings as
// they are, anything else as JSON, and a marker when it is missing (so a test fails, not crashes).
std::string At(const Value& v, std::string_view path) {
  const Value* found = v.FindPath(path);
  if (found == nullptr) return "(missing " + std::string(path) + ")";
  return found->is_string() ? found->as_string() : found->ToJson();
}
std::string At(const std::optional<Value>& v, std::string_view path) {
  return v ? At(*v, path) : "(no such journey)";
}

class JourneyRegistryTest : public ::testing::Test {
 protected:
  JourneyRegistryTest() : clock_(*ParseIsoTime("2026-03-01T10:00:00Z")) {}

  void SetUp() override { OpenStore(); }

  void OpenStore() {
    registry_.reset();
    store_.reset();
    Result<std::unique_ptr<StateStore>> s = StateStore::Open(dir_.path(), store::StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }

  Result<std::unique_ptr<JourneyRegistry>> TryOpen(const std::string& text,
                                                   std::vector<std::string>* notes = nullptr) {
    return JourneyRegistry::Open(Disk(text), store_.get(), &clock_, notes);
  }

  // Opens registry_ over store_ from the config `text`; registry_ is null when that fails.
  void Open(const std::string& text = FullConfig(), std::vector<std::string>* notes = nullptr) {
    registry_.reset();
    Result<std::unique_ptr<JourneyRegistry>> r = TryOpen(text, notes);
    ASSERT_TRUE(r.ok()) << r.status().message();
    registry_ = std::move(*r);
    swapped_.clear();
    registry_->SetChangeListener(
        [this](const std::shared_ptr<const Config>& c) { swapped_.push_back(c); });
  }

  // A process restart: the registry and the store closed and opened again.
  void Restart(const std::string& text = FullConfig(), std::vector<std::string>* notes = nullptr) {
    OpenStore();
    Open(text, notes);
  }

  std::shared_ptr<const Config> MustPublish(std::string_view id, uint32_t version) {
    Result<std::shared_ptr<const Config>> c = registry_->Publish(id, version);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : nullptr;
  }

  uint32_t MustCreate(std::string_view text) {
    Result<uint32_t> v = registry_->CreateVersion(text);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : 0;
  }

  std::string GetJson(std::string_view id) {
    std::optional<Value> v = registry_->Get(id);
    return v ? v->ToJson() : "(none)";
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<JourneyRegistry> registry_;
  std::vector<std::shared_ptr<const Config>> swapped_;  // what the listener received
};

// ---- Open ----

TEST_F(JourneyRegistryTest, OpenStoresAndPublishesTheDiskJourneys) {
  std::vector<std::string> notes;
  ASSERT_NO_FATAL_FAILURE(Open(FullConfig(), &notes));
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "journey 'welcome' version 1 from the config file stored and published",
                       "journey 'cart' version 2 from the config file stored and published"}));
  for (const std::string& n : notes) EXPECT_FALSE(JourneyRegistry::NoteIsWarning(n)) << n;

  std::shared_ptr<const Config> c = registry_->config();
  EXPECT_EQ(Shape(c),
            "welcome@1:active cart@2:active | retained | history Order Completed "
            "Product Viewed");
  EXPECT_EQ(c->journey_status.size(), 2u);
  EXPECT_EQ(c->segments.size(), 1u);
  EXPECT_EQ(c->templates.size(), 2u);
  EXPECT_EQ(c->settings.history_limit, 500u);
  EXPECT_EQ(c->history.max_entries, 500u);
  for (const HistoryPolicy::Rule& r : c->history.rules) {
    EXPECT_FALSE(r.interned.empty()) << r.name;
    EXPECT_NE(r.interned.data(), r.name.data()) << r.name;
  }
  EXPECT_TRUE(swapped_.empty());
}

TEST_F(JourneyRegistryTest, ListShowsTheJourneysInConfigOrder) {
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(registry_->List().ToJson(),
            R"([{"id":"welcome","name":"Welcome series","stage":"onboarding","status":"active",)"
            R"("version":1,"latest_version":1,"versions":1,"trigger":{"event":"Signed Up"}},)"
            R"({"id":"cart","name":"Abandoned cart","stage":"conversion","status":"active",)"
            R"("version":2,"latest_version":2,"versions":1,)"
            R"("trigger":{"event":"Product Added","where":"event.price > 0"}}])");
}

TEST_F(JourneyRegistryTest, GetShowsEveryVersionWithItsSteps) {
  ASSERT_NO_FATAL_FAILURE(Open());
  std::optional<Value> got = registry_->Get("welcome");
  EXPECT_EQ(At(got, "versions.1"), "(missing versions.1)");  // just one
  EXPECT_EQ(At(got, "versions.0.version"), "1");
  EXPECT_EQ(At(got, "versions.0.state"), "published");
  EXPECT_EQ(At(got, "versions.0.origin"), "file");
  EXPECT_EQ(At(got, "versions.0.created_at"), "2026-03-01T10:00:00Z");
  EXPECT_EQ(At(got, "versions.0.published_at"), "2026-03-01T10:00:00Z");
  EXPECT_EQ(At(got, "versions.0.name"), "Welcome series");
  EXPECT_EQ(At(got, "versions.0.source"), Disk(FullConfig())->journeys[0]->source);
  EXPECT_EQ(At(got, "versions.0.errors"), "(missing versions.0.errors)");
  EXPECT_EQ(At(got, "versions.0.steps"),
            R"([{"id":"hello","type":"send","channels":["email"],"template":"welcome_email",)"
            R"("next":"2"},{"id":"2","type":"wait","wait":"1d","next":"check"},)"
            R"({"id":"check","type":"branch","branches":[)"
            R"({"if":"count(\"Order Completed\") > 0","next":"end"},{"if":null,"next":"tips"}]},)"
            R"({"id":"tips","type":"send","channels":["email","sms"],"template":"welcome_email",)"
            R"("next":"end"}])");
  EXPECT_EQ(At(got, "status"), "active");
  EXPECT_FALSE(registry_->Get("nope").has_value());
}

// ---- drafts ----

TEST_F(JourneyRegistryTest, CreateVersionStoresDraftsWithoutChangingTheConfig) {
  ASSERT_NO_FATAL_FAILURE(Open());
  std::shared_ptr<const Config> before = registry_->config();
  EXPECT_EQ(MustCreate(kWelcomeV2), 2u);
  // A `version:` in the document is ignored: one more than the highest stored.
  EXPECT_EQ(MustCreate("id: cart\nversion: 9\ntrigger: { event: Product Added }\n"
                       "steps: [{ wait: 1h }]\n"),
            3u);
  EXPECT_EQ(MustCreate(kWinback), 1u);
  EXPECT_EQ(MustCreate(kWelcomeV2), 3u);

  EXPECT_EQ(registry_->config(), before);
  EXPECT_TRUE(swapped_.empty());
  Value list = registry_->List();
  EXPECT_EQ(At(list, "3"), "(missing 3)");
  EXPECT_EQ(At(list, "0.latest_version"), "3");
  EXPECT_EQ(At(list, "0.version"), "1");
  EXPECT_EQ(At(list, "2"),
            R"({"id":"winback","name":"Win back","stage":"","status":"draft","version":null,)"
            R"("latest_version":1,"versions":1,"trigger":{"segment_enter":"shoppers"}})");

  std::optional<Value> welcome = registry_->Get("welcome");
  EXPECT_EQ(At(welcome, "versions.1.state"), "draft");
  EXPECT_EQ(At(welcome, "versions.1.origin"), "api");
  EXPECT_EQ(At(welcome, "versions.1.published_at"), "null");
  EXPECT_EQ(At(welcome, "versions.1.source"), kWelcomeV2);
  EXPECT_EQ(At(welcome, "versions.1.steps.2"),
            R"({"id":"again","type":"wait_for","event":"Page Viewed",)"
            R"("where":"count(\"Page Viewed\", within: 1d) > 2","timeout":"1d",)"
            R"("on_event":"end","on_timeout":"end"})");
}

TEST_F(JourneyRegistryTest, CreateVersionRefusesAnInvalidDocumentWithItsErrorLines) {
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::string> errors;
  Result<uint32_t> v = registry_->CreateVersion(kBadWelcome, &errors);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(v.status().message(), kBadWelcomeErrors);
  EXPECT_EQ(errors, Lines(kBadWelcomeErrors));
  EXPECT_EQ(registry_->CreateVersion("id: [").status().message().substr(0, 10), "journey:1:");

  // Nothing stored, also after a restart.
  EXPECT_EQ(At(registry_->Get("welcome"), "latest_version"), "1");
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(At(registry_->Get("welcome"), "latest_version"), "1");
  EXPECT_EQ(MustCreate(kWelcomeV2), 2u);
}

TEST_F(JourneyRegistryTest, ValidateReturnsLineAndColumnErrors) {
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_TRUE(registry_->Validate(kWelcomeV2).empty());
  EXPECT_TRUE(registry_->Validate(std::string(kWelcomeV2) + "version: 99\n").empty());
  EXPECT_EQ(registry_->Validate(kBadWelcome), Lines(kBadWelcomeErrors));
  EXPECT_EQ(
      registry_->Validate("- a\n- b\n"),
      (std::vector<std::string>{"journey:1:1: a journey is a mapping with id, trigger and steps"}));
  // Templates and segments are the disk config's.
  EXPECT_EQ(registry_->Validate("id: x\ntrigger: { segment_exit: vips }\nsteps: [{wait: 1h}]\n"),
            (std::vector<std::string>{"journey:2:26: unknown segment 'vips'"}));
}

// ---- publish ----

TEST_F(JourneyRegistryTest, PublishMakesTheVersionCurrentAndRetainsTheOldOne) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(MustCreate(kWelcomeV2), 2u);
  std::shared_ptr<const Config> c = MustPublish("welcome", 2);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Shape(c),
            "welcome@2:active cart@2:active | retained welcome@1 | history "
            "Order Completed Page Viewed Product Viewed");
  ASSERT_EQ(swapped_.size(), 1u);
  EXPECT_EQ(swapped_[0], c);
  EXPECT_EQ(registry_->config(), c);
  std::shared_ptr<const JourneyDef> old = c->FindJourneyVersion("welcome", 1);
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->steps.size(), 4u);
  EXPECT_EQ(c->FindJourneyVersion("welcome", 2)->steps.size(), 3u);

  // The same version again changes nothing.
  EXPECT_EQ(MustPublish("welcome", 2), c);
  EXPECT_EQ(swapped_.size(), 1u);

  EXPECT_EQ(At(registry_->Get("welcome"), "versions.0.state"), "retired");
  EXPECT_EQ(At(registry_->Get("welcome"), "versions.1.state"), "published");

  // Back to version 1: version 2 is retired for the instances that entered it.
  clock_.Advance(std::chrono::hours(1));
  std::shared_ptr<const Config> back = MustPublish("welcome", 1);
  EXPECT_EQ(Shape(back),
            "welcome@1:active cart@2:active | retained welcome@2 | history "
            "Order Completed Page Viewed Product Viewed");
  EXPECT_EQ(At(registry_->Get("welcome"), "versions.0.published_at"), "2026-03-01T11:00:00Z");

  // A journey published for the first time goes after the others.
  ASSERT_EQ(MustCreate(kWinback), 1u);
  std::shared_ptr<const Config> appended = MustPublish("winback", 1);
  EXPECT_EQ(Shape(appended).substr(0, 48), "welcome@1:active cart@2:active winback@1:active ");
  EXPECT_EQ(swapped_, (std::vector<std::shared_ptr<const Config>>{c, back, appended}));
}

TEST_F(JourneyRegistryTest, PublishRefusesUnknownIdsAndVersionsThatDoNotLoad) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Result<std::shared_ptr<const Config>> r = registry_->Publish("nope", 1);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r.status().message(), "unknown journey 'nope'");
  r = registry_->Publish("welcome", 9);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r.status().message(), "journey 'welcome' has no version 9");
  EXPECT_EQ(registry_->Pause("nope").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(registry_->Resume("nope").status().message(), "unknown journey 'nope'");
  EXPECT_EQ(registry_->Archive("nope").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(swapped_.empty());
}

// ---- pause, resume, archive ----

TEST_F(JourneyRegistryTest, PauseAndResumeChangeOnlyTheStatus) {
  ASSERT_NO_FATAL_FAILURE(Open());
  std::shared_ptr<const Config> paused = *registry_->Pause("cart");
  EXPECT_EQ(Shape(paused).substr(0, 30), "welcome@1:active cart@2:paused");
  EXPECT_EQ(At(registry_->List(), "1.status"), "paused");
  EXPECT_EQ(*registry_->Pause("cart"), paused);  // no-op
  ASSERT_EQ(swapped_.size(), 1u);

  // A new version published while paused stays paused.
  ASSERT_EQ(MustCreate("id: cart\ntrigger: { event: Product Added }\nsteps: [{wait: 2h}]\n"), 3u);
  EXPECT_EQ(Shape(MustPublish("cart", 3)).substr(0, 30), "welcome@1:active cart@3:paused");

  std::shared_ptr<const Config> resumed = *registry_->Resume("cart");
  EXPECT_EQ(Shape(resumed).substr(0, 30), "welcome@1:active cart@3:active");
  EXPECT_EQ(*registry_->Resume("cart"), resumed);  // no-op
  EXPECT_EQ(swapped_.size(), 3u);

  // A journey with drafts only has nothing to pause or resume.
  ASSERT_EQ(MustCreate(kWinback), 1u);
  Result<std::shared_ptr<const Config>> r = registry_->Pause("winback");
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "journey 'winback' was never published and cannot be paused");
  EXPECT_EQ(registry_->Resume("winback").status().message(),
            "journey 'winback' was never published and cannot be resumed");
}

TEST_F(JourneyRegistryTest, ArchiveHidesTheJourneyAndRefusesItsOldVersions) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(MustCreate(kWelcomeV2), 2u);  // a draft that exists when archived
  ASSERT_TRUE(registry_->Pause("welcome").ok());
  std::shared_ptr<const Config> archived = *registry_->Archive("welcome");
  // It keeps its position and version: instances in flight run on.
  EXPECT_EQ(Shape(archived).substr(0, 32), "welcome@1:archived cart@2:active");
  EXPECT_EQ(*registry_->Archive("welcome"), archived);  // no-op
  EXPECT_EQ(swapped_.size(), 2u);

  EXPECT_EQ(registry_->List().ToJson().find("welcome"), std::string::npos);
  EXPECT_EQ(At(registry_->List(true), "0.status"), "archived");
  EXPECT_EQ(At(registry_->Get("welcome"), "status"), "archived");

  EXPECT_EQ(registry_->Pause("welcome").status().message(),
            "journey 'welcome' is archived and cannot be paused");
  EXPECT_EQ(registry_->Resume("welcome").status().message(),
            "journey 'welcome' is archived; publish a version created afterwards to bring it "
            "back");
  for (uint32_t version : {1u, 2u}) {
    Result<std::shared_ptr<const Config>> r = registry_->Publish("welcome", version);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              "journey 'welcome' version " + std::to_string(version) +
                  " existed when the journey was archived (at version 2); only a version "
                  "created afterwards can be published");
  }
  EXPECT_EQ(registry_->config(), archived);
  EXPECT_EQ(swapped_.size(), 2u);
}

TEST_F(JourneyRegistryTest, PublishingAVersionCreatedAfterArchiveRevivesTheJourney) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(registry_->Archive("welcome").ok());
  ASSERT_EQ(MustCreate(kWelcomeV2), 2u);
  std::shared_ptr<const Config> c = MustPublish("welcome", 2);
  EXPECT_EQ(Shape(c).substr(0, 30), "welcome@2:active cart@2:active");
  EXPECT_EQ(At(registry_->List(), "0.status"), "active");
  // Once active again, older versions may be published as for any journey.
  EXPECT_TRUE(registry_->Publish("welcome", 1).ok());
}

TEST_F(JourneyRegistryTest, ArchivingADraftOnlyJourneyChangesNoConfig) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(MustCreate(kWinback), 1u);
  std::shared_ptr<const Config> before = registry_->config();
  EXPECT_EQ(*registry_->Archive("winback"), before);
  EXPECT_TRUE(swapped_.empty());
  EXPECT_EQ(registry_->List().as_list().size(), 2u);
  EXPECT_EQ(At(registry_->List(true), "2.status"), "archived");
  EXPECT_FALSE(registry_->Publish("winback", 1).ok());
  ASSERT_EQ(MustCreate(kWinback), 2u);
  EXPECT_EQ(Shape(MustPublish("winback", 2)).substr(0, 48),
            "welcome@1:active cart@2:active winback@2:active ");
}

// ---- restart ----

TEST_F(JourneyRegistryTest, RestartGivesTheSameEffectiveConfig) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(MustCreate(kWinback), 1u);  // only through the API
  ASSERT_EQ(MustCreate(kWelcomeV2), 2u);
  ASSERT_NE(MustPublish("winback", 1), nullptr);
  ASSERT_NE(MustPublish("welcome", 2), nullptr);
  ASSERT_TRUE(registry_->Pause("winback").ok());
  ASSERT_EQ(MustCreate("id: cart\ntrigger: { event: Product Added }\nsteps: [{wait: 2h}]\n"), 3u);
  ASSERT_EQ(MustCreate("id: later\ntrigger: { event: Later }\nsteps: [{wait: 2h}]\n"), 1u);
  const std::string shape = Shape(registry_->config());
  EXPECT_EQ(shape,
            "welcome@2:active cart@2:active winback@1:paused | retained welcome@1 | "
            "history Order Completed Page Viewed Product Viewed");
  const std::string list = registry_->List(true).ToJson();
  const std::string welcome = GetJson("welcome"), cart = GetJson("cart");

  clock_.Advance(std::chrono::hours(48));
  std::vector<std::string> notes;
  ASSERT_NO_FATAL_FAILURE(Restart(FullConfig(), &notes));
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "journey 'welcome': the config file's version 1 is not used: version 2 is "
                       "published and the stored versions win; give the file a `version:` above "
                       "2 to publish it"}));
  EXPECT_EQ(Shape(registry_->config()), shape);
  EXPECT_EQ(registry_->List(true).ToJson(), list);
  EXPECT_EQ(GetJson("welcome"), welcome);
  EXPECT_EQ(GetJson("cart"), cart);
  EXPECT_TRUE(swapped_.empty());
  // Numbering goes on from the stored versions.
  EXPECT_EQ(MustCreate(kWinback), 2u);
  EXPECT_EQ(MustCreate("id: later\ntrigger: { event: Later }\nsteps: [{wait: 3h}]\n"), 2u);
}

TEST_F(JourneyRegistryTest, ADiskVersionBumpIsPublishedAtReopen) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(registry_->Pause("welcome").ok());
  std::vector<std::string> notes;
  const std::string bumped =
      std::string(kHead) + kCartTemplate + "journeys:\n" + kCart + kWelcomeBumped;
  ASSERT_NO_FATAL_FAILURE(Restart(bumped, &notes));
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "journey 'welcome' version 2 from the config file published, replacing "
                       "version 1; the journey stays paused"}));
  // Positions stay as stored, whatever the file's order.
  EXPECT_EQ(Shape(registry_->config()),
            "welcome@2:paused cart@2:active | retained welcome@1 | "
            "history Order Completed Product Viewed");
  EXPECT_EQ(At(registry_->Get("welcome"), "versions.1.origin"), "file");
  EXPECT_EQ(At(registry_->Get("welcome"), "versions.1.state"), "published");

  notes.clear();
  ASSERT_NO_FATAL_FAILURE(Restart(bumped, &notes));
  EXPECT_TRUE(notes.empty()) << notes[0];
  EXPECT_EQ(registry_->config()->journeys[0]->version, 2u);
}

TEST_F(JourneyRegistryTest, StoredVersionsWinOverAFileVersionThatIsNotHigher) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(MustCreate(kWelcomeV2), 2u);  // a draft numbered 2
  std::vector<std::string> notes;
  const std::string file = std::string(kHead) + kCartTemplate + "journeys:\n" + kWelcomeBumped;
  ASSERT_NO_FATAL_FAILURE(Restart(file, &notes));
  EXPECT_EQ(notes,
            (std::vector<std::string>{
                "journey 'welcome': the config file's version 2 differs from the stored "
                "version 2, and the stored versions win; give the file a `version:` above 2 to "
                "publish it",
                "journey 'cart' is no longer in the config file; its stored version 2 stays "
                "published (archive it to stop new entries)"}));
  for (const std::string& n : notes) EXPECT_TRUE(JourneyRegistry::NoteIsWarning(n)) << n;
  EXPECT_EQ(Shape(registry_->config()).substr(0, 30), "welcome@1:active cart@2:active");

  ASSERT_TRUE(registry_->Archive("welcome").ok());
  notes.clear();
  ASSERT_NO_FATAL_FAILURE(Restart(FullConfig(), &notes));
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "journey 'welcome' is archived; the config file's version 1 is not used; "
                       "give the file a `version:` above 2 to publish it"}));
}

TEST_F(JourneyRegistryTest, OpenFailsWhenAStoredPublishedVersionNoLongerLoads) {
  ASSERT_NO_FATAL_FAILURE(Open());
  // The file drops cart and its template, and adds a journey.
  const std::string file = std::string(kHead) + "journeys:\n" + kWelcome + kExtra;
  Result<std::unique_ptr<JourneyRegistry>> r = TryOpen(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  std::vector<std::string> lines = Lines(r.status().message());
  ASSERT_EQ(lines.size(), 2u) << r.status().message();
  EXPECT_EQ(lines[0], "published journey versions no longer load against the config:");
  EXPECT_EQ(lines[1].substr(0, 35), "journey 'cart' version 2: journey:1");
  const std::string tail = "unknown template 'cart_email'";
  EXPECT_EQ(lines[1].substr(lines[1].size() - tail.size()), tail);

  // The failed open wrote nothing: no trace of the journey it would have added.
  std::vector<std::string> notes;
  ASSERT_NO_FATAL_FAILURE(Restart(FullConfig(), &notes));
  EXPECT_TRUE(notes.empty());
  EXPECT_FALSE(registry_->Get("extra").has_value());
}

TEST_F(JourneyRegistryTest, RetiredAndDraftVersionsThatNoLongerLoadAreNoted) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(
      MustCreate("id: welcome\ntrigger: { event: Signed Up, where: 'in_segment(\"shoppers\")' }"
                 "\nsteps: [{wait: 1h}]\n"),
      2u);
  ASSERT_NE(MustPublish("welcome", 2), nullptr);
  ASSERT_NE(MustPublish("welcome", 1), nullptr);  // 2 is retired
  ASSERT_EQ(MustCreate(kWinback), 1u);            // a draft on the segment

  std::vector<std::string> notes;
  const std::string file =
      std::string(kHeadWithoutSegments) + kCartTemplate + "journeys:\n" + kWelcome + kCart;
  ASSERT_NO_FATAL_FAILURE(Restart(file, &notes));
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "journey 'welcome' version 2 (retired) no longer loads; instances still "
                       "on it will be dropped: journey:2:49: unknown segment 'shoppers'",
                       "journey 'winback' version 1 (draft) no longer loads and cannot be "
                       "published: journey:3:27: unknown segment 'shoppers'"}));
  EXPECT_EQ(Shape(registry_->config()),
            "welcome@1:active cart@2:active | retained | history Order Completed");

  Result<std::shared_ptr<const Config>> r = registry_->Publish("winback", 1);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "journey 'winback' version 1 does not load:\njourney:3:27: unknown segment 'shoppers'");
  std::optional<Value> winback = registry_->Get("winback");
  EXPECT_EQ(At(winback, "versions.0.errors"), R"(["journey:3:27: unknown segment 'shoppers'"])");
  EXPECT_EQ(At(winback, "versions.0.name"), "null");
  EXPECT_EQ(At(winback, "versions.0.steps"), "[]");
  EXPECT_EQ(At(registry_->List(), "2.name"), "winback");
}

TEST_F(JourneyRegistryTest, OpenRefusesMalformedStoredValuesNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(Open());
  registry_.reset();
  ASSERT_TRUE(store_->PutMeta(JourneyRecordName("cart"), "\x01\x02").ok());
  Result<std::unique_ptr<JourneyRegistry>> r = TryOpen(FullConfig());
  EXPECT_EQ(r.status().code(), Status::Code::kParseError);
  EXPECT_EQ(r.status().message(), "meta/journeys/r/cart: journey.status at byte 2: truncated");

  ASSERT_TRUE(store_->PutMeta(JourneyIndexName(), "\x02").ok());
  r = TryOpen(FullConfig());
  EXPECT_EQ(r.status().message(),
            "meta/journeys: index.version at byte 0: format version 2, expected 1");

  std::string index;
  EncodeJourneyIndex({"welcome", "ghost"}, &index);
  ASSERT_TRUE(store_->PutMeta(JourneyIndexName(), index).ok());
  r = TryOpen(FullConfig());
  EXPECT_EQ(r.status().message(),
            "meta/journeys/r/ghost: missing, but meta/journeys lists journey 'ghost'");
}

// ---- the engine ----

Event SignUp(const std::string& user, Time t) {
  Event e;
  e.name = "Signed Up";
  e.user_id = user;
  e.timestamp = t;
  e.properties = Value::EmptyObject();
  return e;
}

TEST_F(JourneyRegistryTest, ConfigsSwapIntoAShardBuiltFromThePreviousOne) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Shard shard(registry_->config(), ShardOptions{});
  shard.HandleEvent(SignUp("ann", clock_.Now()), "ann", nullptr);

  ASSERT_EQ(MustCreate(kWelcomeV2), 2u);
  std::shared_ptr<const Config> v2 = MustPublish("welcome", 2);
  ASSERT_TRUE(shard.SwapConfig(v2).ok());
  shard.HandleEvent(SignUp("bob", clock_.Now()), "bob", nullptr);
  ASSERT_NE(shard.Find("ann"), nullptr);
  ASSERT_NE(shard.Find("bob"), nullptr);
  ASSERT_EQ(shard.Find("ann")->instances.size(), 1u);
  EXPECT_EQ(shard.Find("ann")->instances[0].journey->version, 1u);  // stays on what it entered
  ASSERT_EQ(shard.Find("bob")->instances.size(), 1u);
  EXPECT_EQ(shard.Find("bob")->instances[0].journey->version, 2u);

  ASSERT_TRUE(shard.SwapConfig(*registry_->Pause("welcome")).ok());
  shard.HandleEvent(SignUp("cy", clock_.Now()), "cy", nullptr);
  ASSERT_NE(shard.Find("cy"), nullptr);
  EXPECT_TRUE(shard.Find("cy")->instances.empty());

  ASSERT_EQ(MustCreate(kWinback), 1u);
  ASSERT_TRUE(shard.SwapConfig(MustPublish("winback", 1)).ok());
  ASSERT_TRUE(shard.SwapConfig(*registry_->Archive("cart")).ok());
  EXPECT_EQ(shard.config(), registry_->config());

  // The check is real: a config from another disk config is refused.
  EXPECT_FALSE(shard.SwapConfig(Disk(std::string(kHeadWithoutSegments) + kCartTemplate)).ok());
}

// A welcome version whose first step is new and whose send moved to second place.
const char kWelcomeReordered[] = R"(id: welcome
name: Welcome series
trigger: { event: Signed Up }
steps:
  - { id: intro, wait: 30m }
  - id: hello
    send: { channel: email, template: welcome_email }
)";

TEST_F(JourneyRegistryTest, StepCountersFollowStepIdsAcrossVersions) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Shard shard(registry_->config(), ShardOptions{});
  shard.HandleEvent(SignUp("ann", clock_.Now()), "ann", nullptr);  // v1: hello, then the wait

  ASSERT_EQ(MustCreate(kWelcomeReordered), 2u);
  ASSERT_TRUE(shard.SwapConfig(MustPublish("welcome", 2)).ok());
  shard.HandleEvent(SignUp("bob", clock_.Now()), "bob", nullptr);  // v2: intro waits

  const Config& c = *shard.config();
  JourneyStats stats = shard.LiveStats()[size_t(c.JourneyIndex("welcome"))];
  ASSERT_NE(stats.FindStep("intro"), nullptr);
  EXPECT_EQ(stats.FindStep("intro")->entered, 1u);  // bob only, not v1's first step
  EXPECT_EQ(stats.FindStep("hello")->entered, 1u);  // ann only
  EXPECT_EQ(stats.FindStep("hello")->sent.at("email"), 1u);
  EXPECT_EQ(stats.FindStep("check")->entered, 0u);  // v1's, not reached yet

  // Bob's wait ends: his send counts on `hello` too, whatever its position in his version.
  shard.AdvanceTo(clock_.Now() + std::chrono::minutes(31));
  stats = shard.LiveStats()[size_t(c.JourneyIndex("welcome"))];
  EXPECT_EQ(stats.FindStep("hello")->entered, 2u);
  EXPECT_EQ(stats.FindStep("hello")->sent.at("email"), 2u);
  EXPECT_EQ(stats.FindStep("intro")->entered, 1u);
}

// ---- threads ----

TEST_F(JourneyRegistryTest, ConcurrentChangesAreSerialized) {
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::vector<uint32_t>> created(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        Result<uint32_t> v = registry_->CreateVersion(kWelcomeV2);
        created[t].push_back(v.ok() ? *v : 0);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<uint32_t> numbers;
  for (const auto& list : created) numbers.insert(list.begin(), list.end());
  EXPECT_EQ(numbers.size(), 20u);
  EXPECT_EQ(*numbers.begin(), 2u);
  EXPECT_EQ(*numbers.rbegin(), 21u);

  threads.clear();
  std::vector<std::vector<std::shared_ptr<const Config>>> published(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t v : created[t]) {
        Result<std::shared_ptr<const Config>> c = registry_->Publish("welcome", v);
        published[t].push_back(c.ok() ? *c : nullptr);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Every change reached the listener once; the last one it saw is the registry's.
  std::set<std::shared_ptr<const Config>> returned;
  for (const auto& list : published) returned.insert(list.begin(), list.end());
  EXPECT_EQ(returned.size(), 20u);
  ASSERT_EQ(swapped_.size(), 20u);
  EXPECT_EQ(std::set<std::shared_ptr<const Config>>(swapped_.begin(), swapped_.end()), returned);
  EXPECT_EQ(swapped_.back(), registry_->config());
  EXPECT_EQ(registry_->config()->retained_versions.size(), 20u);
}

}  // namespace
}  // namespace waymark::live
