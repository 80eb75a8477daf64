// The loaded, validated configuration: channels, policies, segments, templates and journeys.
//
// Produced by LoadConfig() (config_loader.h) from YAML or JSON files. Everything here is immutable
// after loading and shared read-only by all engine shards; conditions and templates are compiled.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/local_time.h"
#include "core/time.h"
#include "expr/expr.h"
#include "model/profile.h"
#include "template/template.h"

namespace waymark {

enum class ChannelKind : uint8_t { kEmail, kSms, kPush, kInApp, kWebhook };
std::string_view ChannelKindName(ChannelKind k);

struct ChannelDef {
  std::string id;  // "email", "sms", ...
  ChannelKind kind = ChannelKind::kEmail;
  std::string contact_trait;  // trait holding the address ("email", "phone"); empty = none needed
};

struct CapRule {
  std::vector<int> channels;  // channel indices; empty = every channel
  uint32_t max = 0;
  Duration per{};          // sliding window, when !local_day
  bool local_day = false;  // per calendar day in the profile's time zone
  std::string label;       // "2 per 1d across all channels", for reports
};

struct QuietHours {
  bool enabled = false;
  int start_minute = 0;       // local, inclusive
  int end_minute = 0;         // local, exclusive; wraps midnight when < start
  bool defer = true;          // false = drop the send
  std::vector<int> channels;  // empty = every channel
};

struct Policies {
  std::vector<CapRule> caps;
  QuietHours quiet_hours;
};

struct SegmentDef {
  std::string id;
  std::string name;
  expr::Expr condition;
};

// A message template: named parts ("subject", "text", "html", "body") rendered at send time.
// What a template reads of one top-level variable: nothing, some members, or all of it.
struct VariableNeeds {
  bool any = false;
  bool all = false;                  // the variable itself is used (dumped, indexed dynamically)
  std::vector<std::string> members;  // first-level member names read ("first_name", "items")

  bool Wants(std::string_view member) const;
};

struct TemplateDef {
  std::string id;
  std::vector<std::pair<std::string, Template>> parts;
  // What the parts read, so a send builds only those variables.
  VariableNeeds profile, event, message, journey;
};

enum class StepKind : uint8_t {
  kWait,
  kWaitUntil,
  kWaitFor,
  kBranch,
  kSplit,
  kHoldout,
  kSend,
  kUpdateProfile,
  kWebhook,
  kExit,
};
std::string_view StepKindName(StepKind k);

inline constexpr int kEnd = -1;  // "next" of the last step: the journey is complete

struct StepDef {
  std::string id;
  StepKind kind = StepKind::kExit;
  int next = kEnd;

  Duration wait{};           // kWait; kWaitFor timeout
  int local_minute = 0;      // kWaitUntil
  uint8_t weekday_mask = 0;  // kWaitUntil; 0 = any day

  std::string wait_event;  // kWaitFor
  expr::Expr wait_filter;  // kWaitFor
  int on_event = kEnd;     // kWaitFor
  int on_timeout = kEnd;   // kWaitFor

  struct Branch {
    expr::Expr condition;  // empty = else
    int next = kEnd;
  };
  std::vector<Branch> branches;  // kBranch (ordered, else last)

  struct Arm {
    uint32_t weight = 0;
    int next = kEnd;
    std::string label;
  };
  std::vector<Arm> arms;              // kSplit
  uint32_t holdout_basis_points = 0;  // kHoldout: control share in 1/10000

  std::vector<int> channels;             // kSend: ordered preference
  int template_index = -1;               // kSend, kWebhook (body)
  std::string promo_code;                // kSend: fixed code
  std::string promo_prefix;              // kSend: generated code = prefix + hash of the message id
  std::optional<Duration> max_lateness;  // kSend: skip when this late (server restarts)

  std::vector<std::pair<std::string, Value>> set_traits;  // kUpdateProfile
  std::vector<std::string> unset_traits;                  // kUpdateProfile
  std::string webhook_url;                                // kWebhook

  std::string exit_reason;  // kExit
};

enum class TriggerKind : uint8_t { kEvent, kSegmentEnter, kSegmentExit, kTraitChange };

struct JourneyDef {
  std::string id;
  std::string name;
  std::string stage;  // lifecycle stage label, informational
  uint32_t version = 1;

  TriggerKind trigger_kind = TriggerKind::kEvent;
  std::string trigger_event;  // kEvent
  int trigger_segment = -1;   // kSegmentEnter / kSegmentExit
  std::string trigger_trait;  // kTraitChange
  expr::Expr entry_filter;
  expr::Expr key;  // empty = one instance per profile

  enum class Reentry : uint8_t { kNever, kCooldown, kAlways };
  Reentry reentry = Reentry::kAlways;
  Duration cooldown{};

  struct ExitRule {
    std::string event;
    expr::Expr filter;
    std::string reason;
  };
  std::vector<ExitRule> exits;

  bool has_goal = false;
  std::string goal_event;
  expr::Expr goal_filter;
  Duration goal_window{};
  // Which step a conversion is credited to (last touch). kView: the instance's most recently
  // clicked message when the click is at most `click_window` before the goal, else its most
  // recently sent one (view-through); kClick: only such a click, else no step.
  enum class Attribution : uint8_t { kView, kClick };
  Attribution attribution = Attribution::kView;
  // `click_window:`; unset means goal_window. Clicks come after entry and the goal at most
  // goal_window after it, so at goal_window every click of the instance counts.
  std::optional<Duration> click_window;
  Duration ClickWindow() const { return click_window.value_or(goal_window); }

  std::vector<StepDef> steps;  // steps[0] is the entry step
  int StepIndex(std::string_view step_id) const;

  // What instances must keep of their trigger's properties: what the journey's conditions read
  // as trigger.* and its templates as event.* (computed by the loader).
  VariableNeeds trigger_needs;

  // The journey's document as the loader read it, re-written as YAML flow text (JSON for all
  // ordinary values): loading it again gives the same journey. The journey registry stores it.
  std::string source;
};

// "view" or "click", as written in `goal: { attribution: ... }`.
std::string_view AttributionName(JourneyDef::Attribution a);

// Adds what `journey`'s conditions count (filters, key, exits, goal, wait_for and branch
// conditions) to `policy`.
void AddJourneyHistory(const JourneyDef& journey, HistoryPolicy* policy);

// Whether a journey admits new entries. Instances already in a journey run to their end in every
// status; only entries are refused.
enum class JourneyStatus : uint8_t {
  kActive,
  kPaused,    // no new entries until resumed
  kArchived,  // no new entries; only a new version, once published, makes it active again
};
std::string_view JourneyStatusName(JourneyStatus s);

struct Settings {
  const TimeZone* default_timezone = nullptr;  // UTC unless set
  std::string default_timezone_name = "UTC";
  PurchaseSpec purchase;
  size_t history_limit = 1000;
};

// How `waymark serve` delivers and tracks messages: the `delivery:` section. Replay reads none of
// it. Where to connect (SMTP relay, public URL) and secrets are the server's command line and
// environment, not the config.
struct DeliverySettings {
  struct Mailbox {
    std::string name;     // display name, may be empty
    std::string address;  // addr-spec; empty: not set
  };
  Mailbox email_from;  // required to send email
  Mailbox email_reply_to;

  // Links in messages become signed /c/{token} links (when the server has link keys).
  bool track_links = true;
  bool open_pixel = true;  // HTML email gets a 1x1 /o/{token} image
  Duration link_ttl = std::chrono::hours(24 * 30);
  std::string safe_url;  // where a forged or expired link goes; required to track
  // Query parameters a click adds to its destination; an empty name leaves one out.
  std::string utm_source = "waymark";  // the value of the source parameter
  std::string source_param = "utm_source";
  std::string medium_param = "utm_medium";      // the channel
  std::string campaign_param = "utm_campaign";  // the journey id
  std::string content_param = "utm_content";    // the step id
  std::string promo_param = "promo";            // the message's promo code
  std::string landing_param = "wm_t";           // a token the landing page trades for the offer

  Duration inbox_ttl = std::chrono::hours(24 * 30);  // in-app messages expire after this

  // Transient failures are retried with exponential backoff and full jitter: the wait before
  // attempt n+1 is drawn from [0, min(retry_max_delay, retry_base_delay * 2^(n-1))].
  int retry_max_attempts = 8;  // including the first; then the send is a dead letter
  Duration retry_base_delay = std::chrono::seconds(30);
  Duration retry_max_delay = std::chrono::hours(6);
};

struct Config {
  Settings settings;
  DeliverySettings delivery;
  std::vector<ChannelDef> channels;
  Policies policies;
  std::vector<SegmentDef> segments;
  std::vector<std::string> segment_names;  // ids, by index, for in_segment()
  std::vector<TemplateDef> templates;
  // The current version of each journey; new entries use it. A config that replaces another
  // under live profiles (Shard::SwapConfig) keeps every journey id at its position and appends
  // new ids, so journey indices held by instances and re-entry memories stay valid.
  std::vector<std::shared_ptr<const JourneyDef>> journeys;
  // Parallel to `journeys`; empty (what LoadConfig produces) or shorter means active.
  std::vector<JourneyStatus> journey_status;
  // Earlier versions of journeys in `journeys` that in-flight instances may still be on. They are
  // never entered; an instance on one runs its steps and counts under its journey's index.
  std::vector<std::shared_ptr<const JourneyDef>> retained_versions;
  // Union of every condition's needs: segments, current and retained journey versions.
  HistoryPolicy history;

  int ChannelIndex(std::string_view id) const;
  int TemplateIndex(std::string_view id) const;
  int SegmentIndex(std::string_view id) const;
  // Position of journey `id` in `journeys`, or -1.
  int JourneyIndex(std::string_view id) const;
  JourneyStatus StatusOf(size_t journey_index) const {
    return journey_index < journey_status.size() ? journey_status[journey_index]
                                                 : JourneyStatus::kActive;
  }
  // Journey `id` at `version`: the current version or a retained one; null when neither is here.
  std::shared_ptr<const JourneyDef> FindJourneyVersion(std::string_view id, uint32_t version) const;
};

}  // namespace waymark
