// waymark_ingest_server: the ingest server with a JSON Lines file sink, for tests and load runs.
// Runs until SIGINT or SIGTERM, then stops gracefully.
//
//   waymark_ingest_server --listen 127.0.0.1:0 --write-key KEY --out events.jsonl
//                         [--port-file F] [--threads N] [--admin-token T] [--fsync] ...
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "server/file_sink.h"
#include "server/ingest_server.h"
#include "server/log.h"

using waymark::server::IngestServer;
using waymark::server::JsonLinesFileSink;
using waymark::server::ServerOptions;

int main(int argc, char** argv) {
  CLI::App app{"Segment-compatible ingest server writing accepted events to a JSON Lines file"};
  ServerOptions options;
  std::string listen = "127.0.0.1:8080", out, port_file, log_level = "info";
  std::vector<std::string> keys;
  bool fsync = false;
  int64_t request_timeout_ms = options.request_timeout.count();
  int64_t idle_timeout_ms = options.idle_timeout.count();
  app.add_option("--listen", listen, "address:port; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--write-key", keys, "accepted write key (repeatable)")->required();
  app.add_option("--out", out, "JSON Lines file the accepted events are appended to")->required();
  app.add_option("--port-file", port_file, "write the bound port here once listening");
  app.add_option("--threads", options.threads)->capture_default_str();
  app.add_option("--admin-token", options.admin_token, "Bearer token for /metrics");
  app.add_option("--max-in-flight", options.max_in_flight)->capture_default_str();
  app.add_option("--request-timeout-ms", request_timeout_ms)->capture_default_str();
  app.add_option("--idle-timeout-ms", idle_timeout_ms)->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_flag("--fsync", fsync, "fdatasync the file before answering");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(log_level));
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "waymark_ingest_server: --listen must be address:port\n";
    return 2;
  }
  options.listen_address = listen.substr(0, colon);
  options.port = static_cast<uint16_t>(std::stoi(listen.substr(colon + 1)));
  options.write_keys.insert(keys.begin(), keys.end());
  options.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(idle_timeout_ms);

  auto sink = JsonLinesFileSink::Open(out, fsync);
  if (!sink.ok()) {
    std::cerr << "waymark_ingest_server: " << sink.status().message() << "\n";
    return 1;
  }
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  waymark::SystemClock clock;
  IngestServer server(options, sink->get(), &clock);
  if (waymark::Status st = server.Start(); !st.ok()) {
    std::cerr << "waymark_ingest_server: " << st.message() << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  waymark::server::Log().info("signal received signal={}", sig);
  server.Stop();
  return 0;
}
