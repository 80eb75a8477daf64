#include "model/config_loader.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace waymark {
namespace {

// Loads `yaml` as "c.yaml" and returns the error lines (empty when it loads).
std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> errors;
  auto r = LoadConfigText(yaml, "c.yaml", &errors);
  EXPECT_EQ(r.ok(), errors.empty());
  return errors;
}

const char* kTemplates = R"(
templates:
  - id: t1
    subject: "Hi {{ profile.first_name }}"
    text: "Your cart: {{ event.product_id }}"
)";

TEST(ConfigLoaderTest, LoadsACompleteJourney) {
  std::string yaml = std::string(kTemplates) + R"(
settings:
  default_timezone: Europe/Berlin
policies:
  frequency_caps:
    - { channels: all, max: 2, per: 1d }
    - { channels: [email], max: 1, per: local_day }
  quiet_hours: { start: "21:00", end: "08:00", action: defer }
segments:
  - id: shoppers
    condition: 'count("Product Viewed", within: 7d) >= 3'
journeys:
  - id: cart
    name: Abandoned cart
    trigger: { event: Product Added, where: 'event.price > 0' }
    key: event.product_id
    reentry: { cooldown: 1d }
    exit_on:
      - { event: Order Completed, where: 'event.product_id == trigger.product_id' }
    goal: { event: Order Completed, within: 3d }
    steps:
      - id: hold
        holdout: 10%
      - id: wait
        wait: 1h
      - id: remind
        send: { channel: [email, push], template: t1, promo: { prefix: CART- } }
      - id: later
        wait_until: { time: "10:00", days: weekdays }
      - id: check
        branch:
          - if: 'in_segment("shoppers")'
            next: remind2
          - else: end
      - id: remind2
        send: { channel: email, template: t1 }
)";
  std::vector<std::string> errors;
  auto config = LoadConfigText(yaml, "c.yaml", &errors);
  ASSERT_TRUE(config.ok()) << config.status().message();
  const Config& c = **config;
  ASSERT_EQ(c.journeys.size(), 1u);
  const JourneyDef& j = *c.journeys[0];
  EXPECT_EQ(j.steps.size(), 6u);
  EXPECT_EQ(j.steps[0].holdout_basis_points, 1000u);
  EXPECT_EQ(j.steps[2].channels.size(), 2u);
  EXPECT_EQ(j.steps[3].weekday_mask, 0b0111110);
  EXPECT_EQ(j.steps[4].branches[1].next, kEnd);
  EXPECT_EQ(j.reentry, JourneyDef::Reentry::kCooldown);
  EXPECT_EQ(c.policies.caps.size(), 2u);
  EXPECT_TRUE(c.policies.caps[1].local_day);
  EXPECT_EQ(c.policies.caps[0].label, "2 per 1d (all channels)");
  ASSERT_EQ(c.history.rules.size(), 1u);
  EXPECT_EQ(c.history.rules[0].name, "Product Viewed");
}

TEST(ConfigLoaderTest, UnknownStepTypeNamesThePlace) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - id: s1
        wiat: 1h
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "c.yaml:6:9: unknown step type 'wiat' (did you mean 'wait'?)");
  errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - { id: s1, fax: 1h }
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "c.yaml:5:19: unknown step type 'fax' (wait, wait_until, wait_for, branch, "
            "split, holdout, send, update_profile, webhook, exit)");
}

TEST(ConfigLoaderTest, DanglingAndUnreachableSteps) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - { id: a, wait: 1h, next: nowhere }
      - { id: b, exit: done }
      - { id: c, wait: 1h, next: b }
)");
  // The graph is checked once its references resolve: an unreachable step found while a
  // reference is broken may only be a consequence of it.
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "c.yaml:5:34: no step 'nowhere' in journey 'j'");
  errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - { id: a, wait: 1h, next: b }
      - { id: b, exit: done }
      - { id: c, wait: 1h, next: b }
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "c.yaml:7:9: step 'c' is unreachable");
}

TEST(ConfigLoaderTest, BadDurationAndTimeZone) {
  auto errors = Errors(R"(settings:
  default_timezone: Mars/Base
journeys:
  - id: j
    trigger: { event: A }
    steps:
      - wait: 3 days
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0],
            "c.yaml:2:21: unknown time zone 'Mars/Base' (use an IANA name like "
            "Europe/Berlin)");
  EXPECT_EQ(errors[1],
            "c.yaml:7:15: bad duration '3 days' (missing or unknown unit; use ms, s, "
            "m, h, d or w)");
}

TEST(ConfigLoaderTest, ConditionErrorsPointInsideTheScalar) {
  auto errors = Errors(R"(segments:
  - id: s
    condition: 'profile.revenue > "a lot"'
  - id: t
    condition: profile.country === "DE"
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "c.yaml:3:33: cannot compare number with string");
  EXPECT_EQ(errors[1], "c.yaml:5:34: use '==' to compare");
}

TEST(ConfigLoaderTest, TemplateSyntaxErrorsPointInsideTheTemplate) {
  auto errors = Errors(R"(templates:
  - id: t
    subject: "Hello {{ profile.name "
    text: |
      line one
      {% if x %}never closed
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "c.yaml:3:21: template: output '{{' is not closed with '}}'");
  EXPECT_EQ(errors[1], "c.yaml:6:7: template: tag 'if' is not closed");
}

TEST(ConfigLoaderTest, CycleWithoutWaitIsRejected) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - id: a
        branch:
          - if: 'profile.x == 1'
            next: b
          - else: end
      - id: b
        update_profile: { set: { x: 2 } }
        next: a
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "c.yaml:5:9: steps from 'a' back to itself form a cycle without a wait");
}

TEST(ConfigLoaderTest, CycleThroughAWaitIsFine) {
  EXPECT_TRUE(Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - { id: a, wait: 1d }
      - id: b
        branch:
          - { if: 'profile.x == 1', next: a }
          - else: end
)")
                  .empty());
}

TEST(ConfigLoaderTest, UnknownReferencesAndKeys) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    tigger: oops
    steps:
      - send: { channel: fax, template: nope }
)");
  ASSERT_EQ(errors.size(), 1u);  // unknown key stops the journey before its steps
  EXPECT_EQ(errors[0], "c.yaml:4:5: unknown key 'tigger' in journey (did you mean 'trigger'?)");

  errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - send: { channel: fax, template: nope }
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "c.yaml:5:26: unknown channel 'fax'");
  EXPECT_EQ(errors[1], "c.yaml:5:41: unknown template 'nope'");
}

TEST(ConfigLoaderTest, EventIsNotAvailableInBranches) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - branch:
          - { if: 'event.price > 3', next: end }
          - else: end
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("c.yaml:6:20: 'event' is not available here", 0), 0u) << errors[0];
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasPosition) {
  auto errors = Errors("journeys:\n  - id: [unclosed\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("c.yaml:", 0), 0u);
}

TEST(ConfigLoaderTest, JsonIsAccepted) {
  EXPECT_TRUE(Errors(R"({"journeys": [{"id": "j", "trigger": {"event": "A"},
                         "steps": [{"wait": "1h"}, {"exit": "done"}]}]})")
                  .empty());
}

}  // namespace
}  // namespace waymark

namespace waymark {
namespace {

// Found by fuzz/config_fuzz: a mapping where a list was expected made yaml-cpp throw.
TEST(ConfigLoaderTest, WrongShapesAreErrorsNotCrashes) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    exit_on:
      send: { channel: email }
    steps:
      - { wait: 1h }
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "c.yaml:5:7: exit_on is a list of {event: NAME, where: CONDITION, "
            "reason: TEXT}");
  errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    steps:
      - update_profile: { set: [a, b], unset: x }
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "c.yaml:5:32: set is a mapping of trait names to values");
  EXPECT_EQ(errors[1], "c.yaml:5:47: unset is a list of trait names");
}

}  // namespace
}  // namespace waymark

namespace waymark {
namespace {

// Reported by a first user: typos in template variables passed validation and rendered empty.
TEST(ConfigLoaderTest, TemplateVariableTyposAreRejected) {
  auto errors = Errors(R"(templates:
  - id: t
    subject: "{{ evnt.product_id }} {{ message.links.cart }} {{ journey.name }}"
    text: "{% assign x = 1 %}{{ x }} {{ profile.anything }} {{ event.whatever }}"
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0],
            "c.yaml:3:14: template subject reads unknown variable 'evnt' (known: "
            "profile, event, message, journey)");
  EXPECT_EQ(errors[1],
            "c.yaml:3:14: template subject reads unknown variable 'message.links' "
            "(known: id, channel, promo_code, unsubscribe_url)");
}

// ---- one journey document (the admin API's journeys) ----

std::shared_ptr<const Config> BaseConfig() {
  auto base = LoadConfigText(std::string(kTemplates) + R"(
segments:
  - id: shoppers
    condition: 'count("Product Viewed", within: 7d) >= 3'
)",
                             "base.yaml");
  EXPECT_TRUE(base.ok()) << base.status().message();
  return *base;
}

TEST(ConfigLoaderTest, LoadsOneJourneyDocumentAgainstABaseConfig) {
  auto base = BaseConfig();
  std::vector<std::string> errors;
  auto j = LoadJourneyText(*base, R"(
id: cart
trigger: { event: Product Added, where: 'count("Product Added", within: 1d) > 1' }
steps:
  - id: remind
    send: { channel: email, template: t1 }
  - branch:
      - if: 'in_segment("shoppers")'
        next: end
)",
                           "api", &errors);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ((*j)->id, "cart");
  EXPECT_EQ((*j)->steps.size(), 2u);
  EXPECT_EQ((*j)->steps[0].template_index, 0);
  HistoryPolicy history;
  AddJourneyHistory(**j, &history);
  ASSERT_EQ(history.rules.size(), 1u);
  EXPECT_EQ(history.rules[0].name, "Product Added");
}

TEST(ConfigLoaderTest, AcceptsAJourneysListOfOneAndJson) {
  auto base = BaseConfig();
  auto listed = LoadJourneyText(*base,
                                "journeys:\n  - id: a\n    trigger: {event: X}\n"
                                "    steps: [{wait: 1h}]\n",
                                "api");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  auto json = LoadJourneyText(
      *base, R"({"id": "b", "trigger": {"event": "X"}, "steps": [{"exit": "done"}]})", "api");
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_EQ((*json)->steps[0].exit_reason, "done");
}

TEST(ConfigLoaderTest, ReportsJourneyDocumentErrorsWithLineAndColumn) {
  auto base = BaseConfig();
  std::vector<std::string> errors;
  auto j = LoadJourneyText(*base, R"(id: cart
trigger: { event: Product Added }
steps:
  - id: remind
    send: { channel: email, template: nope }
  - wiat: 1h
)",
                           "journey", &errors);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), Status::Code::kInvalidArgument);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "journey:5:39: unknown template 'nope'");
  EXPECT_EQ(errors[1], "journey:6:5: unknown step type 'wiat' (did you mean 'wait'?)");

  EXPECT_EQ(LoadJourneyText(*base, "- a\n- b\n", "journey").status().message(),
            "journey:1:1: a journey is a mapping with id, trigger and steps");
  EXPECT_EQ(LoadJourneyText(*base, "id: [", "journey").status().message().substr(0, 10),
            "journey:1:");
  EXPECT_EQ(LoadJourneyText(*base, "journeys: []\n", "journey").status().message(),
            "journey:1:1: expected one journey (a mapping with id, trigger and steps)");
}

TEST(ConfigLoaderTest, JourneySourceLoadsBackToTheSameJourney) {
  auto base = BaseConfig();
  auto j = LoadJourneyText(*base, R"(
id: "q.uote"
name: Über "cart"
trigger: { event: Product Added }
steps:
  - id: mark
    update_profile:
      set: { plain_number: 007, quoted_number: "007", flag: true, quoted_flag: "true",
             nothing: null, text: hello world, list: [1, "2", x] }
  - wait: 90m
)",
                           "api");
  ASSERT_TRUE(j.ok()) << j.status().message();
  auto again = LoadJourneyText(*base, (*j)->source, "source");
  ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << (*j)->source;
  EXPECT_EQ((*again)->source, (*j)->source);
  EXPECT_EQ((*again)->id, "q.uote");
  EXPECT_EQ((*again)->name, "Über \"cart\"");
  const auto& set = (*again)->steps[0].set_traits;
  ASSERT_EQ(set.size(), 7u);
  for (size_t i = 0; i < set.size(); ++i) {
    EXPECT_EQ(set[i].first, (*j)->steps[0].set_traits[i].first);
    EXPECT_EQ(set[i].second, (*j)->steps[0].set_traits[i].second) << set[i].first;
  }
  EXPECT_TRUE(set[0].second.is_number());
  EXPECT_TRUE(set[1].second.is_string());
  EXPECT_EQ((*again)->steps[1].wait, (*j)->steps[1].wait);
}

TEST(ConfigLoaderTest, LoadConfigInternsHistoryNames) {
  auto base = BaseConfig();
  ASSERT_EQ(base->history.rules.size(), 1u);
  std::string_view name = base->history.rules[0].entry_name();
  EXPECT_EQ(name, "Product Viewed");
  EXPECT_NE(name.data(), base->history.rules[0].name.data());
  EXPECT_EQ(BaseConfig()->history.rules[0].entry_name().data(), name.data());
}

TEST(ConfigLoaderTest, GoalAttributionDefaultsToViewThroughOverTheGoalWindow) {
  auto config = LoadConfigText(R"(journeys:
  - id: a
    trigger: { event: A }
    goal: { event: Order Completed, within: 3d }
    steps: [{ wait: 1h }]
  - id: b
    trigger: { event: A }
    goal: { event: Order Completed, within: 3d, attribution: click, click_window: 1d }
    steps: [{ wait: 1h }]
)",
                               "c.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const JourneyDef& a = *(*config)->journeys[0];
  EXPECT_EQ(a.attribution, JourneyDef::Attribution::kView);
  EXPECT_FALSE(a.click_window.has_value());
  EXPECT_EQ(a.ClickWindow(), std::chrono::hours(72));
  const JourneyDef& b = *(*config)->journeys[1];
  EXPECT_EQ(b.attribution, JourneyDef::Attribution::kClick);
  EXPECT_EQ(b.ClickWindow(), std::chrono::hours(24));
  EXPECT_EQ(AttributionName(b.attribution), "click");
}

TEST(ConfigLoaderTest, GoalAttributionErrorsNameThePlace) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A }
    goal: { event: Order Completed, within: 3d, attribution: clicks }
    steps: [{ wait: 1h }]
  - id: k
    trigger: { event: A }
    goal: { event: Order Completed, within: 1d, click_window: 2d }
    steps: [{ wait: 1h }]
  - id: l
    trigger: { event: A }
    goal: { event: Order Completed, within: 1d, atribution: view }
    steps: [{ wait: 1h }]
)");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0],
            "c.yaml:4:62: goal attribution is view (last click, else last send) or click "
            "(clicks only) (did you mean 'click'?)");
  EXPECT_EQ(errors[1],
            "c.yaml:8:63: click_window 2d is longer than the goal window 1d (every click of an "
            "instance is within the goal window already)");
  EXPECT_EQ(errors[2],
            "c.yaml:12:49: unknown key 'atribution' in goal (did you mean 'attribution'?)");
}

TEST(ConfigLoaderTest, LastMessageIsAvailableInJourneyConditionsOnly) {
  auto errors = Errors(R"(journeys:
  - id: j
    trigger: { event: A, where: 'last_message.channel == "email"' }
    steps:
      - wait_for: { event: Message Opened, where: 'event.message_id == last_message.id',
                    timeout: 1d }
segments:
  - { id: s, condition: 'last_message.step == "x"' }
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "c.yaml:8:26: 'last_message' is only available inside a journey");
  EXPECT_EQ(errors[1], "c.yaml:3:34: 'last_message' is only available inside a journey");
}

}  // namespace
}  // namespace waymark

namespace waymark {
namespace {

TEST(ConfigLoaderTest, LoadsTheDeliverySection) {
  auto config = LoadConfigText(R"(
delivery:
  email:
    from: '"Shop Team" <news@shop.example>'
    reply_to: care@shop.example
  links:
    open_pixel: false
    ttl: 14d
    safe_url: https://shop.example/
    utm_source: newsletter
    params: { promo: coupon, content: "" }
  inbox: { ttl: 7d }
  retry: { max_attempts: 3, base_delay: 10s, max_delay: 1h }
)",
                               "c.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const DeliverySettings& d = (*config)->delivery;
  EXPECT_EQ(d.email_from.name, "Shop Team");
  EXPECT_EQ(d.email_from.address, "news@shop.example");
  EXPECT_EQ(d.email_reply_to.name, "");
  EXPECT_EQ(d.email_reply_to.address, "care@shop.example");
  EXPECT_TRUE(d.track_links);
  EXPECT_FALSE(d.open_pixel);
  EXPECT_EQ(d.link_ttl, std::chrono::hours(24 * 14));
  EXPECT_EQ(d.safe_url, "https://shop.example/");
  EXPECT_EQ(d.utm_source, "newsletter");
  EXPECT_EQ(d.promo_param, "coupon");
  EXPECT_EQ(d.content_param, "");
  EXPECT_EQ(d.medium_param, "utm_medium");
  EXPECT_EQ(d.inbox_ttl, std::chrono::hours(24 * 7));
  EXPECT_EQ(d.retry_max_attempts, 3);
  EXPECT_EQ(d.retry_base_delay, std::chrono::seconds(10));
  EXPECT_EQ(d.retry_max_delay, std::chrono::hours(1));
}

TEST(ConfigLoaderTest, RetryDefaultsAndErrors) {
  auto config = LoadConfigText("delivery: { inbox: { ttl: 1d } }\n", "c.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ((*config)->delivery.retry_max_attempts, 8);
  EXPECT_EQ((*config)->delivery.retry_base_delay, std::chrono::seconds(30));
  EXPECT_EQ((*config)->delivery.retry_max_delay, std::chrono::hours(6));

  EXPECT_EQ(Errors("delivery:\n  retry: { max_attempts: 0 }\n"),
            (std::vector<std::string>{
                "c.yaml:2:26: max_attempts must be a whole number from 1 to 100, got '0'"}));
  EXPECT_EQ(Errors("delivery:\n  retry: { max_attempts: two }\n"),
            (std::vector<std::string>{
                "c.yaml:2:26: max_attempts must be a whole number from 1 to 100, got 'two'"}));
  EXPECT_EQ(Errors("delivery:\n  retry: { base_delay: 0s }\n"),
            (std::vector<std::string>{"c.yaml:2:24: base_delay must be longer than 0"}));
  EXPECT_EQ(
      Errors("delivery:\n  retry: { base_delay: 1h, max_delay: 1m }\n"),
      (std::vector<std::string>{"c.yaml:2:39: max_delay must not be shorter than base_delay"}));
  EXPECT_EQ(Errors("delivery:\n  retry: { attempts: 3 }\n"),
            (std::vector<std::string>{"c.yaml:2:12: unknown key 'attempts' in delivery.retry "
                                      "(known: max_attempts, base_delay, max_delay)"}));
}

TEST(ConfigLoaderTest, DeliveryErrorsNameThePlace) {
  auto errors = Errors(R"(
delivery:
  email:
    from: "Shop <not an address>"
  links:
    safe_url: ftp://shop.example/
    ttl: soon
    open_pixel: maybe
  inbox: { ttl: 1d, size: 5 }
)");
  std::sort(errors.begin(), errors.end());
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "c.yaml:4:11: from must be an address or \"Name <address>\", got 'Shop "
                        "<not an address>'",
                        "c.yaml:6:15: safe_url must be an http:// or https:// URL",
                        "c.yaml:7:10: bad duration 'soon' (expected a number followed by ms, s, "
                        "m, h, d or w)",
                        "c.yaml:8:17: open_pixel must be true or false",
                        "c.yaml:9:21: unknown key 'size' in delivery.inbox (known: ttl)",
                    }));
}

TEST(ConfigLoaderTest, IdsMustBeNonEmptyAndUrlSafe) {
  const std::string journey = R"(
journeys:
  - id: JID
    trigger: { event: Signed Up }
    steps:
      - { id: SID, wait: 1h }
)";
  auto with = [&](std::string jid, std::string sid) {
    std::string text = journey;
    text.replace(text.find("JID"), 3, jid);
    text.replace(text.find("SID"), 3, sid);
    return Errors(text);
  };
  EXPECT_TRUE(with("welcome-v2.b", "wait_1h").empty());
  EXPECT_EQ(with("''", "w"),
            (std::vector<std::string>{"c.yaml:3:9: journey id must not be empty"}));
  EXPECT_EQ(with("a/b", "w"),
            (std::vector<std::string>{"c.yaml:3:9: journey id 'a/b' may hold only ASCII letters, "
                                      "digits, '_', '-' and '.'"}));
  EXPECT_EQ(with("j", "''"), (std::vector<std::string>{"c.yaml:6:15: step id must not be empty"}));
  EXPECT_EQ(with("j", "'#1'"),
            (std::vector<std::string>{"c.yaml:6:15: step id '#1' may hold only ASCII letters, "
                                      "digits, '_', '-' and '.'"}));
  EXPECT_EQ(with("j", "end"),
            (std::vector<std::string>{"c.yaml:6:15: step id 'end' is reserved (next: end)"}));
}

TEST(ConfigLoaderTest, AnExitStepTakesNoNext) {
  EXPECT_EQ(Errors(R"(
journeys:
  - id: j
    trigger: { event: Signed Up }
    steps:
      - { id: stop, exit: done, next: later }
      - { id: later, wait: 1h }
)"),
            (std::vector<std::string>{
                "c.yaml:6:39: step 'stop' is an exit: it ends the instance and takes no next"}));
}

}  // namespace
}  // namespace waymark
