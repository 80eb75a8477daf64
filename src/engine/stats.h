// Counters a shard keeps while it runs; summed across shards for the report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/value.h"

namespace waymark {

// Named counters. The transparent comparator lets Bump() find existing keys without building a
// std::string each time.
using Counts = std::map<std::string, uint64_t, std::less<>>;

inline void Bump(Counts* counts, std::string_view key, uint64_t n = 1) {
  auto it = counts->find(key);
  if (it == counts->end()) it = counts->emplace(std::string(key), 0).first;
  it->second += n;
}

struct StepStats {
  uint64_t entered = 0;
  Counts sent;            // by channel
  Counts suppressed;      // by reason
  uint64_t held_out = 0;  // sends skipped because the instance is control
  uint64_t deferred = 0;  // quiet-hours deferrals
  Counts arms;            // branch/split: taken next step -> count
  // Engagement with this step's messages, from `Message Opened` / `Message Clicked` events:
  // every event, and each message once (per profile, see EngagedMessage).
  uint64_t opened = 0, clicked = 0;
  uint64_t unique_opened = 0, unique_clicked = 0;
  // Treated conversions credited to this step (JourneyDef::Attribution) and their revenue.
  uint64_t converted = 0;
  double revenue = 0;

  void Add(const StepStats& o);
  bool operator==(const StepStats&) const = default;
};

struct JourneyStats {
  uint64_t entered = 0;
  uint64_t entered_control = 0;
  uint64_t completed = 0;
  uint64_t active = 0;             // filled at the end of a run
  uint64_t converted = 0;          // treated instances that reached the goal
  uint64_t converted_control = 0;  // control instances that reached the goal
  // The same per customer (a profile counts once per journey however often it entered):
  // the unit the lift interval is computed on, since instances of one customer are not
  // independent.
  uint64_t customers = 0, customers_control = 0;
  uint64_t customers_converted = 0, customers_converted_control = 0;
  // Replay only: what happened after the last input event, which the data cannot confirm.
  uint64_t sent_after_data = 0;  // messages sent while timers drained past the last event
  uint64_t goal_unobserved = 0;  // goal windows still open at the last event
  double revenue = 0;            // goal events' revenue, treated
  double revenue_control = 0;
  uint64_t attributed = 0;  // of `converted`, those credited to a step (the rest: unattributed)
  // Open and click events naming this journey but a step it does not have (or a message of a
  // step whose id no version has).
  uint64_t engagement_unmatched = 0;
  Counts exits;    // reason -> count (includes "goal")
  Counts skipped;  // entry not taken: reason -> count
  std::vector<StepStats> steps;

  void Add(const JourneyStats& o);
  bool operator==(const JourneyStats&) const = default;
};

struct EngineCounters {
  uint64_t events = 0;
  uint64_t duplicates = 0;
  uint64_t profiles = 0;
  uint64_t merges = 0;    // anonymous profiles linked to a user id
  uint64_t absorbed = 0;  // of those, merged into an existing profile (two became one)
  uint64_t timers_fired = 0;
  uint64_t messages = 0;
  uint64_t segment_entries = 0;
  uint64_t segment_exits = 0;
  // Open and click events that name no configured journey (or none at all): engagement with
  // messages Waymark did not send, or of journeys since removed.
  uint64_t engagement_unmatched = 0;

  void Add(const EngineCounters& o);
};

// Counters as a Value tree and back, for storing them (the live server keeps them across
// restarts). Fields go by name, steps by position, so counters written by a build with fewer
// fields read back with the missing ones at zero; an unknown field is ignored. `active` and the
// per-customer counts are not written: they are derived from the profiles held.
Value JourneyStatsToValue(const JourneyStats& s);
// Adds what `v` holds to `out`; kParseError naming the field when `v` is not such a tree.
Status AddJourneyStatsFromValue(const Value& v, JourneyStats* out);
Value EngineCountersToValue(const EngineCounters& c);
Status AddEngineCountersFromValue(const Value& v, EngineCounters* out);

}  // namespace waymark
