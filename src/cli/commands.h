// The `waymark` subcommands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace waymark::cli {

// Exit codes shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the run failed (I/O, strict-mode bad row)
inline constexpr int kExitInvalid = 2;  // the configuration or a mapping is invalid

int Validate(const std::string& path);

struct ReplayOptions {
  std::string config;
  std::vector<std::string> events;
  std::string mapping;
  int shards = 1;
  int read_threads = 0;  // threads converting input rows; 0: one per core
  std::string outbox;
  std::string suppressions;
  std::string report;                       // JSON report file
  std::vector<std::string> trace;           // profile ids
  std::string trace_file;                   // where to write the trace; stdout when empty
  std::vector<std::string> trace_journeys;  // only these journeys' lines (and the events)
  bool strict = false;
  std::string order = "sort";  // sort | stream
  std::string reorder_window = "1h";
  std::string drain = "30d";  // timers keep running this long after the last event
  std::string dedupe_window = "24h";
  std::string until;  // or up to this ISO time
  bool assume_reachable = true;
  bool quiet = false;  // no progress lines
};

int Replay(const ReplayOptions& options);

}  // namespace waymark::cli
