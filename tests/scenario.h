// Scenario files: a config, timed events, and the sends, suppressions and journey counts they
// must produce. The format is documented in docs/scenarios.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/engine.h"
#include "model/config.h"

namespace waymark::testing {

struct ExpectedSend {
  std::string at, profile, journey, step, channel;
  std::optional<std::string> promo_code, subject, text, body, to;
};

struct ExpectedSuppression {
  std::string at, profile, journey, step, reason;
};

// Counters of one step; only those given are checked.
struct ExpectedStep {
  std::string id;
  std::optional<uint64_t> entered, sent, held_out, opened, clicked, unique_opened, unique_clicked,
      converted;
  std::optional<double> revenue;
  std::vector<std::pair<std::string, uint64_t>> sent_by_channel;  // `sent: { email: 1 }`
  std::vector<std::pair<std::string, uint64_t>> suppressed;       // reason -> count
  std::vector<std::pair<std::string, uint64_t>> exited;           // reason -> count
};

struct ExpectedJourney {
  std::string id;
  std::optional<uint64_t> entered, control, active, completed, converted, converted_control;
  std::optional<uint64_t> customers, customers_control, customers_converted,
      customers_converted_control;
  std::optional<uint64_t> attributed, unattributed, engagement_unmatched;
  std::optional<double> revenue;
  std::vector<std::pair<std::string, uint64_t>> exits;    // reason -> count
  std::vector<std::pair<std::string, uint64_t>> skipped;  // reason -> count
  std::vector<ExpectedStep> steps;
};

struct Scenario {
  std::string path;
  std::string description;
  std::shared_ptr<const Config> config;
  std::vector<Event> events;  // sorted by time (ties keep file order), message_of resolved
  Time until{};
  std::vector<int> shard_counts = {1, 3};
  std::optional<std::vector<ExpectedSend>> sends;  // when set, the exact list in order
  std::optional<std::vector<ExpectedSuppression>> suppressions;
  std::vector<ExpectedJourney> journeys;
  std::optional<uint64_t> duplicates, profiles, merges, engagement_unmatched;
  std::vector<std::string> trace_ids;
  std::vector<std::string> trace_contains;  // lines that must appear in the trace
};

// Reads a scenario file. Events are sorted by time; an event's `message_of:` is resolved by
// running the events before it (see docs/scenarios.md), which fails when no such send exists.
Result<Scenario> LoadScenario(const std::string& path);

// Runs the first `count` events of `s` (all of them by default) with `shards` shards and lets
// timers run to `until` (the scenario's own by default). Contact is required, as documented.
EngineResults RunScenario(const Scenario& s, int shards, size_t count = SIZE_MAX,
                          std::optional<Time> until = std::nullopt);

}  // namespace waymark::testing
