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
  // Instances that ended while at this step (waiting, or holding a deferred send), by the
  // journey exit's reason: with them a step's entries add up.
  Counts exited;
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
  // Per step id: versions of the journey that share a step id count into the same entry, so a
  // new version's counters never land on another step that sat at the same position.
  std::vector<std::string> step_ids;  // parallel to `steps`, in order of first use
  std::vector<StepStats> steps;

  // The position of step `id` in `steps`, added (zeroed) when missing.
  size_t StepSlot(std::string_view id);
  // The counters of step `id`; null when it has none.
  const StepStats* FindStep(std::string_view id) const;
  // Adds `o`'s counters, steps matched by id.
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
// restarts). Fields go by name, steps by id, so counters written by a build with fewer fields
// read back with the missing ones at zero; an unknown field is ignored. Steps written without an
// id (by builds that kept them by position) read back as "#0", "#1", ...: see
// NamePositionalSteps. `active` and the per-customer counts are not written: they are derived
// from the profiles held.
Value JourneyStatsToValue(const JourneyStats& s);
// Adds what `v` holds to `out`; kParseError naming the field when `v` is not such a tree.
Status AddJourneyStatsFromValue(const Value& v, JourneyStats* out);
// Moves the counters of positional steps ("#N") to the id of step N in `ids` (a journey's
// current steps), adding into that step's entry; ones beyond `ids` are dropped.
void NamePositionalSteps(const std::vector<std::string>& ids, JourneyStats* s);
Value EngineCountersToValue(const EngineCounters& c);
Status AddEngineCountersFromValue(const Value& v, EngineCounters* out);

}  // namespace waymark
