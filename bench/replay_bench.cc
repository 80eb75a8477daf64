// End-to-end replay benchmark: the REES46 slice repeated with shifted user ids and times until it
// reaches --events, pushed through the retail example journeys with --shards engine shards.
//
//   replay_bench --config examples/retail --data ../shared/data --events 10000000 --shards 2
//
// Prints the raw read/parse rate of the same bytes (the ceiling: ingest alone), the rate of
// building the scaled events alone, and the end-to-end engine rate, plus peak memory.

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/engine.h"
#include "ingest/mapping.h"
#include "ingest/read.h"
#include "model/config_loader.h"

namespace waymark {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU seconds (user + system) of the whole process, or of the calling thread only.
double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  auto sec = [](timeval t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Yields copy `k` of a base event: user ids get a suffix, times shift by k spans.
void Shift(const Event& base, uint64_t k, Duration span, Event* out) {
  *out = base;
  if (k > 0) {
    std::string suffix = "-" + std::to_string(k);
    out->user_id += suffix;
    out->message_id += suffix;
    out->timestamp += span * int64_t(k);
  }
}

int Main(int argc, char** argv) {
  std::string config_path = "examples/retail", data = "../shared/data";
  uint64_t target = 10'000'000;
  int shards = 1;
  int read_threads = 1;
  EngineOptions eo;
  bool parse_only = false;
  CLI::App app{"Waymark end-to-end replay benchmark"};
  app.add_option("--config", config_path);
  app.add_option("--data", data);
  app.add_option("--events", target);
  app.add_option("--shards", shards);
  app.add_option("--read-threads", read_threads, "threads for the parse ceiling (default 1)");
  app.add_option("--batch-size", eo.batch_size, "events handed to a shard at once");
  app.add_option("--queue-batches", eo.queue_batches, "batches queued per shard");
  app.add_flag("--parse-only", parse_only, "measure reading and parsing only");
  CLI11_PARSE(app, argc, argv);

  std::string csv = data + "/rees46-multicategory-2019-oct-head/2019-Oct.csv";
  auto mapping = ingest::LoadMapping("mappings/rees46.yaml");
  if (!mapping.ok()) {
    std::fprintf(stderr, "%s\n", mapping.status().message().c_str());
    return 1;
  }
  std::ifstream in(csv, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string bytes = buf.str();
  if (bytes.empty()) {
    std::fprintf(stderr, "cannot read %s\n", csv.c_str());
    return 1;
  }

  // 1. The ceiling: read and parse the raw bytes into events, nothing else. With several
  // threads the file is cut into chunks small enough for each thread to get some.
  std::vector<Event> base;
  ingest::ReadStats stats;
  ingest::ReadOptions read_options;
  read_options.threads = std::max(1, read_threads);
  if (read_threads > 1) read_options.chunk_bytes = bytes.size() / (4 * size_t(read_threads)) + 1;
  auto t0 = Clock::now();
  uint64_t parsed = 0;
  size_t passes = 0;
  while (parsed < std::min<uint64_t>(target, 2'000'000)) {
    ingest::ReadStats s;
    Status st = ingest::ReadEventsBuffer(
        bytes, csv, &*mapping, read_options,
        [&](Event&& e) {
          if (passes == 0) base.push_back(std::move(e));
        },
        &s);
    if (!st.ok()) return 1;
    parsed += s.events;
    ++passes;
  }
  double parse_s = Seconds(t0);
  std::printf("parse   %zu passes over %zu bytes: %.0f events/s, %.1f MB/s (%d thread(s))\n",
              passes, bytes.size(), parsed / parse_s, passes * bytes.size() / parse_s / 1e6,
              read_options.threads);
  if (parse_only) return 0;

  Time first = base.front().timestamp, last = base.back().timestamp;
  Duration span = (last - first) + std::chrono::hours(1);

  // 2. Building the scaled events alone (the router thread's share of the work below).
  t0 = Clock::now();
  Event e;
  for (uint64_t i = 0; i < std::min<uint64_t>(target, 2'000'000); ++i) {
    Shift(base[i % base.size()], i / base.size(), span, &e);
  }
  double gen_s = Seconds(t0);
  std::printf("build   %.0f events/s (copying and re-keying base events)\n",
              std::min<uint64_t>(target, 2'000'000) / gen_s);

  // 3. End to end through the engine.
  auto config = LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  long rss_before = PeakRssKb();
  eo.shards = shards;
  eo.keep_outbox = false;  // rendered and counted, not kept: memory is the engine's state
  eo.keep_suppressions = false;
  Engine engine(*config, eo);
  t0 = Clock::now();
  double cpu0 = CpuSeconds(RUSAGE_SELF), router0 = CpuSeconds(RUSAGE_THREAD);
  uint64_t copies = (target + base.size() - 1) / base.size();
  for (uint64_t i = 0; i < target; ++i) {
    Event ev;
    Shift(base[i % base.size()], i / base.size(), span, &ev);
    engine.Submit(std::move(ev));
  }
  EngineResults r = engine.Finish(last + span * int64_t(copies) + std::chrono::hours(24 * 30));
  double run_s = Seconds(t0);
  double cpu_s = CpuSeconds(RUSAGE_SELF) - cpu0, router_s = CpuSeconds(RUSAGE_THREAD) - router0;
  long rss_after = PeakRssKb();
  std::printf("replay  %llu events, %d shard(s): %.2f s, %.0f events/s\n",
              (unsigned long long)r.counters.events, shards, run_s, r.counters.events / run_s);
  // On a shared machine wall time varies with the load; CPU time per event much less.
  double per_event_us = 1e6 / double(std::max<uint64_t>(1, r.counters.events));
  std::printf("cpu     %.2f us per event: router %.2f, shards %.2f (user + system)\n",
              cpu_s * per_event_us, router_s * per_event_us, (cpu_s - router_s) * per_event_us);
  std::printf("        %llu profiles, %llu messages, %llu timers fired\n",
              (unsigned long long)r.counters.profiles, (unsigned long long)r.counters.messages,
              (unsigned long long)r.counters.timers_fired);
  std::printf(
      "memory  peak RSS %.0f MB (%.0f MB above the parsed base), %.0f MB per million "
      "profiles\n",
      rss_after / 1024.0, (rss_after - rss_before) / 1024.0,
      (rss_after - rss_before) / 1024.0 / (r.counters.profiles / 1e6));
  return 0;
}

}  // namespace
}  // namespace waymark

int main(int argc, char** argv) { return waymark::Main(argc, argv); }
