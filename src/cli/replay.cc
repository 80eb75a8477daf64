#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <queue>
#include <thread>

#include "analytics/report.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "ingest/mapping.h"
#include "ingest/read.h"
#include "model/config_loader.h"

namespace waymark::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Prints "replay: N events, R events/s[, P%]" to stderr at most once a second.
class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), start_(Clock::now()), last_(start_) {}

  void Tick(uint64_t done, uint64_t total) {
    if (quiet_ || (done & 0x3fff) != 0) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    if (total > 0) {
      std::fprintf(stderr, "replay: %llu/%llu events (%.0f%%), %.0f events/s\n",
                   (unsigned long long)done, (unsigned long long)total,
                   100.0 * double(done) / double(total), double(done) / secs);
    } else {
      std::fprintf(stderr, "replay: %llu events, %.0f events/s\n", (unsigned long long)done,
                   double(done) / secs);
    }
  }

 private:
  bool quiet_;
  Clock::time_point start_, last_;
};

// Holds events until they are at least `window` older than the newest seen, then releases them
// in (timestamp, input order). An event older than what was already released is late.
class Reorderer {
 public:
  explicit Reorderer(Duration window) : window_(window) {}

  // Returns false when `e` is late.
  template <typename Sink>
  bool Push(Event&& e, const Sink& sink) {
    if (released_any_ && e.timestamp < released_) return false;
    newest_ = std::max(newest_, e.timestamp);
    e.seq = next_seq_++;
    heap_.push(std::move(e));
    while (!heap_.empty() && heap_.top().timestamp + window_ <= newest_) Release(sink);
    return true;
  }

  template <typename Sink>
  void Drain(const Sink& sink) {
    while (!heap_.empty()) Release(sink);
  }

 private:
  template <typename Sink>
  void Release(const Sink& sink) {
    Event e = std::move(const_cast<Event&>(heap_.top()));
    heap_.pop();
    released_ = e.timestamp;
    released_any_ = true;
    sink(std::move(e));
  }

  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.seq > b.seq;
    }
  };
  Duration window_;
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  Time newest_ = kTimeMin;
  Time released_ = kTimeMin;
  bool released_any_ = false;
  uint64_t next_seq_ = 0;
};

bool WriteLines(const std::string& path, const std::vector<OutboxRecord>& records) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "waymark: cannot write %s\n", path.c_str());
    return false;
  }
  std::string buf;
  for (const OutboxRecord& r : records) {
    buf += r.json;
    buf += '\n';
    if (buf.size() > (1 << 20)) {
      out << buf;
      buf.clear();
    }
  }
  out << buf;
  return bool(out);
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) std::fprintf(stderr, "waymark: cannot write %s\n", path.c_str());
  return bool(out);
}

// True when a trace line belongs in a trace narrowed to `journeys` (empty: everything).
bool KeepTraceLine(const std::string& text, const std::vector<std::string>& journeys) {
  if (journeys.empty() || text.rfind("event ", 0) == 0 || text.rfind("merge", 0) == 0) return true;
  for (const std::string& j : journeys) {
    // "journey <id>: ...", "journey <id> v<N>: entered ..." or "journey <id> [<key>]: ...".
    if (text.rfind("journey " + j + ":", 0) == 0 || text.rfind("journey " + j + " v", 0) == 0 ||
        text.rfind("journey " + j + " [", 0) == 0) {
      return true;
    }
  }
  return false;
}

std::string FormatTrace(const EngineResults& r, const std::vector<std::string>& ids,
                        const std::vector<std::string>& journeys) {
  std::string out;
  if (r.traces.empty()) {
    for (const std::string& id : ids) out += "trace " + id + ": no such profile in the input\n";
    return out;
  }
  for (const auto& [key, lines] : r.traces) {
    out += "trace of profile " + key + " (" + std::to_string(lines.size()) + " lines)\n";
    for (const TraceEntry& t : lines) {
      if (KeepTraceLine(t.text, journeys)) {
        out += "  " + FormatIsoTime(t.time) + "  " + t.text + "\n";
      }
    }
  }
  return out;
}

// Every event read, in input order, in blocks that never move: one growing vector would move
// each event (about 360 bytes) again at every doubling and touch twice the memory.
class EventStore {
 public:
  void Add(Event&& e) {
    if (blocks_.empty() || blocks_.back().size() == kBlock) {
      blocks_.emplace_back();
      blocks_.back().reserve(kBlock);
    }
    blocks_.back().push_back(std::move(e));
    ++size_;
  }
  size_t size() const { return size_; }
  Event& operator[](size_t i) { return blocks_[i / kBlock][i % kBlock]; }

  // Positions in timestamp order, ties in input order. Sorts (time, position) keys rather than
  // the events, and not at all when the input is in order already.
  std::vector<size_t> SortedByTime() {
    std::vector<std::pair<Time, size_t>> keys;
    keys.reserve(size_);
    for (size_t i = 0; i < size_; ++i) keys.emplace_back((*this)[i].timestamp, i);
    if (!std::is_sorted(keys.begin(), keys.end())) std::sort(keys.begin(), keys.end());
    std::vector<size_t> order;
    order.reserve(size_);
    for (const auto& key : keys) order.push_back(key.second);
    return order;
  }

  // Marks event `i` as used (moved out); a block whose events are all used is freed, so that
  // input in time order is released as the replay goes.
  void Used(size_t i) {
    if (unused_.empty()) {
      for (const auto& block : blocks_) unused_.push_back(uint32_t(block.size()));
    }
    if (--unused_[i / kBlock] == 0) std::vector<Event>().swap(blocks_[i / kBlock]);
  }

 private:
  static constexpr size_t kBlock = 1 << 16;
  std::vector<std::vector<Event>> blocks_;
  std::vector<uint32_t> unused_;  // by block, once Used() is first called
  size_t size_ = 0;
};

}  // namespace

int Replay(const ReplayOptions& o) {
  auto start = Clock::now();
  std::vector<std::string> errors;
  auto config = LoadConfig(o.config, &errors);
  if (!config.ok()) {
    if (errors.empty()) errors.push_back(config.status().message());
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    return kExitInvalid;
  }
  std::optional<ingest::Mapping> mapping;
  if (!o.mapping.empty()) {
    auto m = ingest::LoadMapping(o.mapping);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().message().c_str());
      return kExitInvalid;
    }
    mapping = std::move(m).value();
  }
  auto window = ParseDuration(o.reorder_window);
  auto drain = ParseDuration(o.drain);
  auto dedupe = ParseDuration(o.dedupe_window);
  for (const Result<Duration>* d : {&window, &drain, &dedupe}) {
    if (!d->ok()) {
      std::fprintf(stderr, "waymark: %s\n", d->status().message().c_str());
      return kExitInvalid;
    }
  }
  if (*dedupe <= Duration(0)) {
    std::fprintf(stderr, "waymark: --dedupe-window must be positive\n");
    return kExitInvalid;
  }
  std::optional<Time> until;
  if (!o.until.empty()) {
    until = ParseIsoTime(o.until);
    if (!until) {
      std::fprintf(stderr, "waymark: --until '%s' is not an ISO 8601 time\n", o.until.c_str());
      return kExitInvalid;
    }
  }
  if (o.order != "sort" && o.order != "stream") {
    std::fprintf(stderr, "waymark: --order must be sort or stream\n");
    return kExitInvalid;
  }

  for (const std::string& j : o.trace_journeys) {
    if ((*config)->JourneyIndex(j) < 0) {
      std::string known;
      for (const auto& def : (*config)->journeys) known += (known.empty() ? "" : ", ") + def->id;
      std::fprintf(stderr, "waymark: --trace-journey '%s' is not a journey of the config (%s)\n",
                   j.c_str(), known.c_str());
      return kExitInvalid;
    }
  }

  EngineOptions eo;
  eo.shards = o.shards;
  eo.dedupe_window = *dedupe;
  eo.assume_reachable = o.assume_reachable;
  eo.keep_outbox = !o.outbox.empty();
  eo.keep_suppressions = !o.suppressions.empty();
  eo.trace.ids = o.trace;
  Engine engine(*config, eo);
  RunInfo run;
  run.inputs = o.events;
  run.mapping = o.mapping;
  run.shards = o.shards;
  Progress progress(o.quiet);
  uint64_t submitted = 0;
  auto submit = [&](Event&& e) {
    run.first_event = std::min(run.first_event, e.timestamp);
    run.last_event = std::max(run.last_event, e.timestamp);
    engine.Submit(std::move(e));
    progress.Tick(++submitted, 0);
  };

  // Rows are converted on worker threads, chunk by chunk, and arrive here in file order.
  ingest::ReadOptions ro;
  ro.strict = o.strict;
  ro.threads = o.read_threads > 0 ? o.read_threads
                                  : int(std::max(1u, std::thread::hardware_concurrency()));
  EventStore all;
  Reorderer reorder(*window);
  for (const std::string& path : o.events) {
    ingest::ReadStats stats;
    Status st;
    if (o.order == "sort") {
      st = ingest::ReadEventsFile(
          path, mapping ? &*mapping : nullptr, ro, [&](Event&& e) { all.Add(std::move(e)); },
          &stats);
    } else {
      st = ingest::ReadEventsFile(
          path, mapping ? &*mapping : nullptr, ro,
          [&](Event&& e) {
            if (!reorder.Push(std::move(e), submit)) ++run.late;
          },
          &stats);
    }
    run.rows += stats.rows;
    run.events_read += stats.events;
    run.bad_rows += stats.bad_rows;
    for (const auto& bad : stats.first_bad) {
      if (run.bad_examples.size() < 10) run.bad_examples.push_back(bad.ToString());
    }
    if (!st.ok()) {
      std::fprintf(stderr, "waymark: %s\n", st.message().c_str());
      return kExitFailure;
    }
    if (stats.rows > 0 && stats.events == 0) {
      // Every row was bad: almost always the wrong format, not bad data.
      for (size_t i = 0; i < stats.first_bad.size() && i < 3; ++i) {
        std::fprintf(stderr, "%s\n", stats.first_bad[i].ToString().c_str());
      }
      std::fprintf(stderr, "waymark: no event could be read from %s (%llu bad rows)%s\n",
                   path.c_str(), (unsigned long long)stats.bad_rows,
                   mapping ? "; check the mapping against the file"
                           : "; for CSV files pass --mapping (see docs/ingest.md)");
      return kExitFailure;
    }
  }
  if (o.order == "sort") {
    run.ordering = "sorted by timestamp (ties keep input order)";
    uint64_t total = all.size();
    for (size_t i : all.SortedByTime()) {
      Event& e = all[i];
      run.first_event = std::min(run.first_event, e.timestamp);
      run.last_event = std::max(run.last_event, e.timestamp);
      engine.Submit(std::move(e));
      all.Used(i);
      progress.Tick(++submitted, total);
    }
    all = EventStore();
  } else {
    run.ordering = "streamed with a reorder window of " + FormatDuration(*window);
    reorder.Drain(submit);
  }

  if (until && run.last_event != kTimeMin && *until < run.last_event) {
    std::fprintf(stderr, "waymark: --until %s is before the last event (%s)\n", o.until.c_str(),
                 FormatIsoTime(run.last_event).c_str());
    return kExitInvalid;
  }
  run.until = until ? *until : (run.last_event == kTimeMin ? kTimeMin : run.last_event + *drain);
  EngineResults results = engine.Finish(run.until);
  run.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  if (!o.outbox.empty() && !WriteLines(o.outbox, results.outbox)) return kExitFailure;
  if (!o.suppressions.empty() && !WriteLines(o.suppressions, results.suppressions))
    return kExitFailure;
  if (!o.report.empty() && !WriteText(o.report, FormatReportJson(**config, results, run)))
    return kExitFailure;
  std::fputs(FormatReportText(**config, results, run).c_str(), stdout);
  if (!o.trace.empty()) {
    std::string trace = FormatTrace(results, o.trace, o.trace_journeys);
    if (o.trace_file.empty()) {
      std::fputs(("\n" + trace).c_str(), stdout);
    } else if (!WriteText(o.trace_file, trace)) {
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace waymark::cli
