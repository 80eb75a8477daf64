// Profile: one customer as the engine knows them.
//
// A profile is owned by exactly one engine shard at a time and is only touched from that shard's
// thread. Computed attributes are maintained by ApplyEvent() as events arrive; `history` keeps the
// events that some condition in the config may ask about (see HistoryPolicy), oldest first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/local_time.h"
#include "core/time.h"
#include "core/value.h"
#include "model/event.h"

namespace waymark {

struct HistoryEntry {
  Time time;
  // The track event name ("identify", "page", ... for other calls). Points at the rule's
  // entry_name(): into the config's HistoryPolicy, or into process-lifetime storage once the
  // policy's names are interned (configs that can be swapped while profiles live, see
  // HistoryPolicy::InternNames).
  std::string_view name;
  // Kept only when some condition filters this event by property (`where:`); null otherwise.
  std::shared_ptr<const Value> properties;
};

// Which events a profile must remember, derived from the config: a name is retained when a
// condition counts it, for the longest window any condition uses (unbounded when a condition asks
// "since entry" or has no window). `max_entries` bounds memory per profile.
struct HistoryPolicy {
  struct Rule {
    std::string name;
    Duration horizon;         // Duration::max() for unbounded
    bool properties = false;  // a `where:` reads the event's properties
    // `name` in process-lifetime storage, set by InternNames(); empty before.
    std::string_view interned;

    // What history entries point at: the interned name when there is one, else `name`.
    std::string_view entry_name() const {
      return interned.empty() ? std::string_view(name) : interned;
    }
  };
  std::vector<Rule> rules;
  size_t max_entries = 1000;

  const Rule* Find(std::string_view name) const {
    for (const Rule& r : rules)
      if (r.name == name) return &r;
    return nullptr;
  }

  // Merges one condition's need into the rules: the longest horizon wins, properties are kept
  // when any reader needs them.
  void Add(const Rule& need);

  // Points every rule's entry_name() at process-lifetime storage, so that history entries stay
  // valid after this policy (and its config) is gone: needed when a config is swapped under live
  // profiles (journey versions, see Config). Thread-safe; call at load time, not per event. The
  // storage grows by each distinct name once and is never freed (names are few).
  void InternNames();
};

// What counts as a purchase for the revenue attributes.
struct PurchaseSpec {
  std::string event = "Order Completed";
  std::vector<std::string> revenue_properties = {"revenue", "total", "price"};
};

// Whether `e` is one of the events delivery reports about a send (track Message Sent, Message
// Failed). Journeys can use them like any event, but they are not the customer's activity:
// they leave first_seen, last_seen and event_count alone.
bool IsDeliveryReport(const Event& e);

struct Profile {
  std::string key;      // routing and storage key: user id when known, else the anonymous id
  std::string user_id;  // empty while anonymous
  std::vector<std::string> anonymous_ids;
  Value traits = Value::EmptyObject();
  const TimeZone* tz = nullptr;  // from trait `timezone` or context.timezone; null = default

  // Computed attributes (delivery reports, see IsDeliveryReport, do not count).
  Time first_seen = kTimeMax;
  Time last_seen = kTimeMin;
  uint64_t event_count = 0;
  uint64_t order_count = 0;
  double revenue = 0;
  Time last_order_at = kTimeMin;  // kTimeMin = never

  std::vector<HistoryEntry> history;  // time-ordered; a vector: most profiles keep none

  // Folds one event into traits, identity, time zone, counters and history. Returns true when
  // traits changed (identify / context.traits); their names are appended to `changed_traits`.
  bool ApplyEvent(const Event& e, const HistoryPolicy& history_policy, const PurchaseSpec& purchase,
                  std::vector<std::string>* changed_traits = nullptr);

  // Sets or removes one trait; returns whether the value changed.
  bool SetTrait(std::string_view name, const Value& value);
  bool UnsetTrait(std::string_view name);

  // Drops history entries older than their rule's horizon as of `now`.
  void PruneHistory(Time now, const HistoryPolicy& history_policy);

  // Absorbs `other` (an anonymous profile being merged into this one): this profile's traits win,
  // counters add up, histories interleave by time, anonymous ids are united.
  void MergeFrom(Profile&& other, const HistoryPolicy& history_policy);

  // The history name an event is filed under.
  static std::string_view HistoryName(const Event& e);
};

}  // namespace waymark
