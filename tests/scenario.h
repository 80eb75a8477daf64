// Scenario files: a config, timed events, and the sends, suppressions and journey counts they
// must produce. The format is documented in docs/scenarios.md.
#pragma once

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

struct ExpectedJourney {
  std::string id;
  std::optional<uint64_t> entered, control, active, completed, converted, converted_control;
  std::optional<uint64_t> customers, customers_control, customers_converted,
      customers_converted_control;
  std::vector<std::pair<std::string, uint64_t>> exits;    // reason -> count
  std::vector<std::pair<std::string, uint64_t>> skipped;  // reason -> count
};

struct Scenario {
  std::string path;
  std::string description;
  std::shared_ptr<const Config> config;
  std::vector<Event> events;
  Time until{};
  std::vector<int> shard_counts = {1, 3};
  std::optional<std::vector<ExpectedSend>> sends;  // when set, the exact list in order
  std::optional<std::vector<ExpectedSuppression>> suppressions;
  std::vector<ExpectedJourney> journeys;
  std::optional<uint64_t> duplicates, profiles, merges;
  std::vector<std::string> trace_ids;
  std::vector<std::string> trace_contains;  // lines that must appear in the trace
};

Result<Scenario> LoadScenario(const std::string& path);

}  // namespace waymark::testing
