// The replay report: what each journey did, in text for a marketer and JSON for tools.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"
#include "engine/engine.h"
#include "model/config.h"

namespace waymark {

struct RunInfo {
  std::vector<std::string> inputs;  // event files
  std::string mapping;              // mapping file, empty for JSON Lines
  uint64_t rows = 0;                // data rows read
  uint64_t events_read = 0;         // good events handed to the engine (before dedupe)
  uint64_t bad_rows = 0;
  std::vector<std::string> bad_examples;  // "file:line:col: message", the first few
  uint64_t late = 0;                      // rejected as later than the reorder window
  std::string ordering;                   // "sorted" or "stream, reorder window 1h"
  int shards = 1;
  double wall_seconds = 0;
  Time first_event = kTimeMax;
  Time last_event = kTimeMin;
  Time until = kTimeMin;  // timers ran up to here
};

std::string FormatReportText(const Config& config, const EngineResults& results,
                             const RunInfo& run);
std::string FormatReportJson(const Config& config, const EngineResults& results,
                             const RunInfo& run);

// The report's "journeys" list alone: one object per journey of `config` with its counters from
// `journeys` (by index; missing ones count as zero), goal conversion treated vs control with the
// difference and its 95% interval, and per-step counters. Appended to `out`.
void AppendJourneysJson(const Config& config, const std::vector<JourneyStats>& journeys,
                        std::string* out);

}  // namespace waymark
