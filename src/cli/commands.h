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

struct ServeOptions {
  std::string config;
  std::string data_dir;
  std::string listen = "127.0.0.1:8080";
  int shards = 1;
  int threads = 2;                      // HTTP I/O threads
  int workers = 32;                     // HTTP threads that wait for the journal (group commit)
  std::vector<std::string> write_keys;  // accepted Segment write keys
  std::string admin_token;              // empty: admin API disabled
  std::string sync = "always";          // always | none
  std::string dedupe_window = "24h";
  size_t max_pending = 200'000;
  bool assume_reachable = false;
  std::string outbox;  // JSON Lines record of every send
  std::string relay_url;
  std::string webhook_secret;
  int delivery_lanes = 4;  // concurrent delivery threads
  std::string port_file;  // the bound port is written here once listening
  // Delivery and tracking.
  std::string public_url;  // how customers reach /c/, /o/, /u/; default http://<listen>
  std::string smtp;        // host:port of the SMTP relay; empty: email goes to the relay URL
  std::string smtp_tls = "starttls";  // none | starttls | tls
  std::string smtp_user;
  std::string smtp_password;
  bool insecure_tls = false;  // skip certificate checks (tests against local servers)
  std::string link_keys;      // Keyring spec; empty: links are not tracked
  std::string inbox_secret;   // empty: no in-app inbox API
  std::string log_level = "info";
};

int Serve(const ServeOptions& options);

}  // namespace waymark::cli
