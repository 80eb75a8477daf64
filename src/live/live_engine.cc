#include "live/live_engine.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <future>
#include <map>

#include "analytics/report.h"
#include "core/hash.h"
#include "core/json.h"
#include "live/log.h"

namespace waymark::live {

using SteadyClock = std::chrono::steady_clock;

namespace {

// Commands a shard takes per round at most, so that one round's write stays bounded.
constexpr size_t kMaxRound = 4096;

constexpr std::string_view kStatsMeta = "stats/";

std::string_view InstanceStateName(Instance::State s) {
  switch (s) {
    case Instance::State::kRunning:
      return "running";
    case Instance::State::kWaiting:
      return "waiting";
    case Instance::State::kWaitingEvent:
      return "waiting_event";
    case Instance::State::kDeferredSend:
      return "deferred_send";
    case Instance::State::kAwaitingGoal:
      return "awaiting_goal";
    case Instance::State::kEnded:
      return "ended";
  }
  return "?";
}

Value TimeValue(Time t) {
  if (t == kTimeMin || t == kTimeMax) return Value();
  return Value(FormatIsoTime(t));
}

Value InstanceView(const Instance& inst, const Config& config) {
  const JourneyDef& j = *inst.journey;
  Value v = Value::EmptyObject();
  v.Set("id", HexId(inst.id));
  v.Set("journey", j.id);
  v.Set("version", int64_t(j.version));
  bool at_step = inst.step >= 0 && size_t(inst.step) < j.steps.size();
  v.Set("step", at_step ? Value(j.steps[inst.step].id) : Value());
  v.Set("state", InstanceStateName(inst.state));
  v.Set("entered_at", TimeValue(inst.entered_at));
  if (!inst.key.empty()) v.Set("key", inst.key);
  v.Set("control", inst.control);
  v.Set("converted", inst.converted);
  if (inst.state != Instance::State::kRunning && inst.state != Instance::State::kEnded) {
    v.Set("timer_due", TimeValue(inst.timer_due));
  }
  // Quiet hours are the only reason a send waits (it is decided again at timer_due).
  if (inst.state == Instance::State::kDeferredSend) v.Set("deferred_by", "quiet_hours");
  // What attribution would credit: the newest send, and the newest click on one of its messages.
  auto step_id = [&](int step) {
    return step >= 0 && size_t(step) < j.steps.size() ? Value(j.steps[step].id) : Value();
  };
  if (inst.last_sent.step >= 0) {
    Value sent = Value::EmptyObject();
    sent.Set("id", inst.last_sent.id);
    sent.Set("step", step_id(inst.last_sent.step));
    bool known =
        inst.last_sent.channel >= 0 && size_t(inst.last_sent.channel) < config.channels.size();
    sent.Set("channel", known ? Value(config.channels[inst.last_sent.channel].id) : Value());
    sent.Set("sent_at", TimeValue(inst.last_sent.at));
    v.Set("last_message", std::move(sent));
  }
  if (inst.last_click_step >= 0) {
    Value click = Value::EmptyObject();
    click.Set("step", step_id(inst.last_click_step));
    click.Set("at", TimeValue(inst.last_click_at));
    v.Set("last_click", std::move(click));
  }
  return v;
}

Value ProfileStateView(const ProfileState& ps, const Config& config) {
  const Profile& p = ps.profile;
  Value v = Value::EmptyObject();
  v.Set("id", p.key);
  v.Set("user_id", p.user_id.empty() ? Value() : Value(p.user_id));
  Value::List anonymous;
  for (const std::string& id : p.anonymous_ids) anonymous.emplace_back(id);
  v.Set("anonymous_ids", Value(std::move(anonymous)));
  v.Set("traits", p.traits);
  v.Set("timezone", p.tz != nullptr ? Value(std::string(p.tz->name())) : Value());
  v.Set("first_seen", TimeValue(p.first_seen));
  v.Set("last_seen", TimeValue(p.last_seen));
  v.Set("event_count", int64_t(p.event_count));
  v.Set("order_count", int64_t(p.order_count));
  v.Set("revenue", p.revenue);
  v.Set("last_order_at", TimeValue(p.last_order_at));

  Value::List segments;
  for (size_t i = 0; i < ps.segments.size() && i < config.segments.size(); ++i) {
    if (ps.segments[i] != 0) segments.emplace_back(config.segments[i].id);
  }
  v.Set("segments", Value(std::move(segments)));
  Value::List instances;
  for (const Instance& inst : ps.instances) instances.push_back(InstanceView(inst, config));
  v.Set("instances", Value(std::move(instances)));

  // Newest first, as a person reading a timeline expects.
  Value::List events, messages;
  for (auto it = ps.activity.rbegin(); it != ps.activity.rend(); ++it) {
    Value a = Value::EmptyObject();
    a.Set("time", TimeValue(it->time));
    if (it->kind == ActivityEntry::Kind::kEvent) {
      a.Set("event", it->what);
      if (!it->id.empty()) a.Set("message_id", it->id);
      events.push_back(std::move(a));
      continue;
    }
    a.Set("id", it->id);
    a.Set("journey", it->journey);
    a.Set("step", it->step);
    if (it->kind == ActivityEntry::Kind::kSent) {
      a.Set("outcome", "sent");
      a.Set("channel", it->what);
    } else {
      a.Set("outcome", "suppressed");
      a.Set("reason", it->what);
      a.Set("detail", it->detail);
    }
    messages.push_back(std::move(a));
  }
  v.Set("recent_events", Value(std::move(events)));
  v.Set("messages", Value(std::move(messages)));
  return v;
}

}  // namespace

// ---- plumbing ----

struct LiveEngine::Request {
  std::vector<Event> events;
  SteadyClock::time_point accepted;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
};

// Hands an extracted profile from the shard that owned it to the shard that absorbs it.
struct LiveEngine::MergeSlot {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::unique_ptr<ProfileState> state;

  void Put(std::unique_ptr<ProfileState> s) {
    std::lock_guard<std::mutex> lock(mu);
    state = std::move(s);
    ready = true;
    cv.notify_all();
  }
  std::unique_ptr<ProfileState> Take() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready; });
    return std::move(state);
  }
};

struct LiveEngine::Command {
  enum class Kind : uint8_t { kEvent, kExtract, kCall };
  Kind kind = Kind::kEvent;
  Event event;      // kEvent
  std::string key;  // kEvent: the profile key; kExtract: the profile to hand over
  std::shared_ptr<MergeSlot> merge;
  // kEvent: the anonymous profile it absorbs (its p/ key is deleted) and new aliases to store.
  std::string merged_from;
  std::vector<std::pair<std::string, std::string>> aliases;
  SteadyClock::time_point accepted;
  std::function<void(Worker&)> call;  // kCall
  std::shared_ptr<std::promise<void>> done;
};

struct LiveEngine::Routed {
  size_t shard = 0;
  Command event;
  std::optional<Command> extract;
  size_t extract_shard = 0;
};

struct LiveEngine::Worker {
  Worker(LiveEngine* e, size_t i, std::shared_ptr<const Config> config, const ShardOptions& so)
      : engine(e), index(i), shard(std::move(config), so) {}

  void Push(Command c) {
    std::lock_guard<std::mutex> lock(mu);
    queue.push_back(std::move(c));
    cv.notify_one();
  }
  // Queues `commands` in order with one lock and one wake-up.
  void PushAll(std::vector<Command>& commands) {
    if (commands.empty()) return;
    std::lock_guard<std::mutex> lock(mu);
    for (Command& c : commands) queue.push_back(std::move(c));
    cv.notify_one();
  }

  void Loop();
  void Round(std::vector<Command>& commands);
  void Apply(Command& c);
  // Adds what changed since the last call to `batch` and returns the new outbox entries;
  // `force` writes the counters even when nothing else changed.
  std::vector<store::OutboxEntry> Collect(store::WriteBatch* batch, bool force);
  // Collects and commits; hands the new sends to delivery. A failed write stops the engine
  // from taking events (the state in memory is ahead of the disk).
  void Commit();
  // A WARN line for each step whose templates failed to render since the last call: the count
  // and where (the failure itself is in the profile's activity, which may hold personal data).
  // `quiet` only takes the counts as the baseline (counters restored at start-up).
  void LogRenderErrors(bool quiet = false) {
    const ShardResults& results = shard.results();
    auto total = results.suppressed.find("render_error");
    uint64_t now_total = total == results.suppressed.end() ? 0 : total->second;
    if (now_total == render_errors_logged) return;
    render_errors_logged = now_total;
    const Config& config = *shard.config();
    for (size_t j = 0; j < results.journeys.size() && j < config.journeys.size(); ++j) {
      for (size_t k = 0; k < results.journeys[j].steps.size(); ++k) {
        const Counts& suppressed = results.journeys[j].steps[k].suppressed;
        auto it = suppressed.find("render_error");
        if (it == suppressed.end()) continue;
        uint64_t& seen = render_errors_seen[{j, k}];
        if (it->second == seen) continue;
        std::string_view step = results.journeys[j].step_ids[k];
        if (!quiet) {
          Log().warn(
              "templates failed to render, nothing sent journey={} step={} count={} total={}",
              config.journeys[j]->id, step, it->second - seen, it->second);
        }
        seen = it->second;
      }
    }
  }

  void UpdateGauges() {
    profiles.store(shard.profile_count(), std::memory_order_relaxed);
    timers.store(shard.pending_timers(), std::memory_order_relaxed);
  }

  LiveEngine* engine;
  size_t index;
  Shard shard;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Command> queue;
  bool stopping = false;
  std::thread thread;

  // Applied since the last commit: journal sequences, profiles merged away, aliases, and when
  // each event was accepted.
  std::vector<uint64_t> applied;
  std::vector<std::string> merged_away;
  std::vector<std::pair<std::string, std::string>> aliases;
  std::vector<SteadyClock::time_point> accepted;
  std::vector<std::string> written_stats;  // each journey's counters as last written
  std::vector<std::optional<JourneyStats>> written_journeys;  // ... and as they were then
  uint64_t render_errors_logged = 0;  // total render errors when last logged
  std::map<std::pair<size_t, size_t>, uint64_t> render_errors_seen;  // (journey, step) -> count
  uint64_t applied_through = 0;   // the highest journal sequence this shard applied
  store::WriteBatch round_batch;  // Commit()'s, reused: a round's write is tens of kilobytes
  SteadyClock::time_point journal_trimmed_at;

  std::atomic<uint64_t> profiles{0}, timers{0};
};

void LiveEngine::Worker::Loop() {
  std::vector<Command> round;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu);
      while (queue.empty() && !stopping) {
        Time due = shard.next_timer_due();
        Time now = engine->clock_->Now();
        if (due <= now) break;
        // Real time and the clock's time agree in production; under a test's manual clock a
        // bounded wait keeps timers moving (WaitIdle wakes the shards too).
        Duration wait = std::min<Duration>(due - now, std::chrono::seconds(1));
        cv.wait_for(lock, wait);
      }
      if (queue.empty() && stopping) break;
      size_t n = std::min(queue.size(), kMaxRound);
      for (size_t i = 0; i < n; ++i) {
        round.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    Round(round);
    round.clear();
  }
  Commit();
}

void LiveEngine::Worker::Round(std::vector<Command>& commands) {
  Time now = engine->clock_->Now();
  shard.SetNow(now);
  shard.AdvanceTo(now);
  std::vector<std::shared_ptr<std::promise<void>>> calls;
  for (Command& c : commands) {
    switch (c.kind) {
      case Command::Kind::kEvent:
        Apply(c);
        break;
      case Command::Kind::kExtract:
        // The profile leaves with everything applied to it so far already on disk: the shard
        // absorbing it deletes its key in the same write as the merge.
        Commit();
        c.merge->Put(shard.Extract(c.key));
        break;
      case Command::Kind::kCall:
        c.call(*this);
        calls.push_back(std::move(c.done));
        break;
    }
  }
  Commit();
  UpdateGauges();
  for (auto& done : calls) done->set_value();
}

void LiveEngine::Worker::Apply(Command& c) {
  std::unique_ptr<ProfileState> absorbed;
  if (c.merge) absorbed = c.merge->Take();
  shard.HandleEvent(c.event, c.key, std::move(absorbed));
  applied.push_back(c.event.seq);
  if (!c.merged_from.empty()) merged_away.push_back(std::move(c.merged_from));
  for (auto& a : c.aliases) aliases.push_back(std::move(a));
  accepted.push_back(c.accepted);
}

std::vector<store::OutboxEntry> LiveEngine::Worker::Collect(store::WriteBatch* batch, bool force) {
  std::vector<store::OutboxEntry> sends;
  std::vector<ProfileState*> changed = shard.TakeChanged();
  ShardResults& results = shard.results();
  bool any = force || !changed.empty() || !applied.empty() || !merged_away.empty() ||
             !results.outbox.empty();
  if (!any) return sends;

  const Config& config = *shard.config();
  // TODO(perf): a changed profile is written whole (about 600 bytes once it holds 20 recent
  // events), so under steady traffic every event costs one profile encoding and one memtable
  // insert, about 40% of the server's CPU. Keeping the activity list (most of those bytes) under
  // keys of its own, appended per event, would make the per-event write small.
  for (const ProfileState* ps : changed) batch->PutProfile(*ps, config);
  for (const std::string& key : merged_away) batch->DeleteProfile(key);
  for (const auto& [anonymous, key] : aliases) batch->PutAlias(anonymous, key);
  for (OutboxRecord& r : results.outbox) {
    store::OutboxEntry e;
    e.time = r.time;
    e.id = std::move(r.id);
    e.json = std::move(r.json);
    batch->PutOutbox(e);
    sends.push_back(std::move(e));
  }
  results.outbox.clear();
  results.suppressions.clear();
  if (!applied.empty()) {
    // A shard applies its journal entries in sequence order: one watermark covers them all,
    // and the entries themselves are deleted in one range now and then.
    applied_through = applied.back();
    batch->PutApplied(uint32_t(index), applied_through);
    SteadyClock::time_point now = SteadyClock::now();
    if (now - journal_trimmed_at >= std::chrono::seconds(1)) {
      batch->DeleteJournalThrough(uint32_t(index), applied_through);
      journal_trimmed_at = now;
    }
  }

  // Counters by journey id, so that they survive a config whose journeys moved; only those that
  // changed since the last write are written again.
  std::string prefix = std::string(kStatsMeta) + std::to_string(index) + "/";
  if (written_stats.size() < config.journeys.size()) {
    written_stats.resize(config.journeys.size());
    written_journeys.resize(config.journeys.size());
  }
  for (size_t i = 0; i < results.journeys.size() && i < config.journeys.size(); ++i) {
    // Most rounds leave most journeys' counters alone: compare before formatting.
    if (written_journeys[i] && *written_journeys[i] == results.journeys[i]) continue;
    written_journeys[i] = results.journeys[i];
    std::string json = JourneyStatsToValue(results.journeys[i]).ToJson();
    if (json == written_stats[i]) continue;
    batch->PutMeta(prefix + "j/" + config.journeys[i]->id, json);
    written_stats[i] = std::move(json);
  }
  Value engine_stats = Value::EmptyObject();
  engine_stats.Set("counters", EngineCountersToValue(results.counters));
  Value suppressed = Value::EmptyObject();
  for (const auto& [reason, n] : results.suppressed) suppressed.Set(reason, Value(int64_t(n)));
  engine_stats.Set("suppressed", std::move(suppressed));
  batch->PutMeta(prefix + "engine", engine_stats.ToJson());

  applied.clear();
  merged_away.clear();
  aliases.clear();
  return sends;
}

void LiveEngine::Worker::Commit() {
  // `round_batch` is empty here (Commit clears it) and keeps its buffer from round to round.
  std::vector<store::OutboxEntry> sends = Collect(&round_batch, /*force=*/false);
  if (round_batch.count() == 0) return;
  if (Status s = engine->store_->Commit(round_batch, /*sync=*/false); !s.ok()) {
    engine->failed_.store(true);
    Log().error("shard write failed, not taking events until restarted shard={} error=\"{}\"",
                index, s.message());
    return;
  }
  engine->delivery_->Enqueue(std::move(sends));
  LogRenderErrors();
  SteadyClock::time_point now = SteadyClock::now();
  for (SteadyClock::time_point t : accepted) engine->decision_latency_.Record(now - t);
  engine->pending_events_.fetch_sub(int64_t(accepted.size()));
  accepted.clear();
}

// ---- life cycle ----

LiveEngine::LiveEngine(std::shared_ptr<const Config> config, store::StateStore* store,
                       const LiveOptions& options, const Clock* clock)
    : config_(std::move(config)),
      options_(options),
      clock_(clock),
      store_(store),
      deduper_(options.dedupe_window) {
  options_.shards = std::max(1, options_.shards);
  ShardOptions so;
  so.assume_reachable = options_.assume_reachable;
  so.keep_outbox = true;
  so.keep_suppressions = false;
  so.track_changes = true;
  so.activity_limit = options_.activity_limit;
  for (int i = 0; i < options_.shards; ++i) {
    workers_.push_back(std::make_unique<Worker>(this, size_t(i), config_, so));
  }
}

Result<std::unique_ptr<LiveEngine>> LiveEngine::Open(std::shared_ptr<const Config> config,
                                                     const std::string& data_dir,
                                                     const LiveOptions& options,
                                                     const Clock* clock) {
  store::StoreOptions so;
  so.sync_every_write = false;  // the engine decides which writes are synced
  Result<std::unique_ptr<store::StateStore>> store = store::StateStore::Open(data_dir, so);
  if (!store.ok()) return store.status();
  Result<std::unique_ptr<LiveEngine>> engine =
      Open(std::move(config), store->get(), options, clock);
  if (engine.ok()) (*engine)->owned_store_ = std::move(*store);
  return engine;
}

Result<std::unique_ptr<LiveEngine>> LiveEngine::Open(std::shared_ptr<const Config> config,
                                                     store::StateStore* store,
                                                     const LiveOptions& options,
                                                     const Clock* clock) {
  std::unique_ptr<LiveEngine> engine(new LiveEngine(std::move(config), store, options, clock));
  Result<std::unique_ptr<Delivery>> delivery = Delivery::Create(
      store, options.delivery, clock, /*sync_before_send=*/options.sync == SyncPolicy::kSync);
  if (!delivery.ok()) return delivery.status();
  engine->delivery_ = std::move(*delivery);
  engine->delivery_->SetConfig(engine->config_);
  LiveEngine* raw = engine.get();
  engine->delivery_->SetOutcomeSink(
      [raw](std::vector<Event> events) { return raw->Accept(std::move(events)); });
  WAYMARK_RETURN_IF_ERROR(engine->Recover());
  engine->Start();
  return engine;
}

LiveEngine::~LiveEngine() { Stop(); }

Status LiveEngine::RecoverCounters(store::WriteBatch* batch) {
  // meta/stats/<shard>/j/<journey id> and meta/stats/<shard>/engine, as shards wrote them. All
  // of it is added into shard 0 and deleted; the shards write their keys anew.
  ShardResults& into = workers_[0]->shard.results();
  const Config& config = *config_;
  uint64_t orphaned = 0;
  Status s = store_->ScanMeta(kStatsMeta, [&](std::string_view name, std::string_view value) {
    std::string where = "meta/" + std::string(name) + ": ";
    std::string_view rest = name.substr(kStatsMeta.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return Status::Parse(where + "not a shard's counters");
    rest.remove_prefix(slash + 1);
    Result<Value> v = ParseJson(value);
    if (!v.ok()) return v.status().WithPrefix(where);
    if (rest.substr(0, 2) == "j/") {
      int journey = config.JourneyIndex(rest.substr(2));
      if (journey < 0) {
        ++orphaned;
      } else {
        WAYMARK_RETURN_IF_ERROR(
            AddJourneyStatsFromValue(*v, &into.journeys[journey]).WithPrefix(where));
      }
    } else if (rest == "engine") {
      if (const Value* counters = v->Find("counters"); counters != nullptr) {
        WAYMARK_RETURN_IF_ERROR(
            AddEngineCountersFromValue(*counters, &into.counters).WithPrefix(where));
      }
      if (const Value* suppressed = v->Find("suppressed");
          suppressed != nullptr && suppressed->is_object()) {
        for (const auto& [reason, n] : suppressed->as_object()) {
          if (n.is_number() && n.as_number() >= 0) {
            Bump(&into.suppressed, reason, uint64_t(n.as_number()));
          }
        }
      }
    } else {
      return Status::Parse(where + "not a shard's counters");
    }
    batch->DeleteMeta(name);
    return Status::Ok();
  });
  if (orphaned > 0) {
    Log().warn("counters of journeys no longer configured dropped journeys={}", orphaned);
  }
  for (size_t j = 0; j < config.journeys.size() && j < into.journeys.size(); ++j) {
    std::vector<std::string> ids;
    for (const StepDef& step : config.journeys[j]->steps) ids.push_back(step.id);
    NamePositionalSteps(ids, &into.journeys[j]);
  }
  workers_[0]->shard.IndexStepSlots();
  return s;
}

Status LiveEngine::Recover() {
  Time now = clock_->Now();
  store::WriteBatch batch;

  WAYMARK_RETURN_IF_ERROR(
      store_->ScanAliases([&](std::string_view anonymous, std::string_view key) {
        identity_.AddAlias(std::string(anonymous), std::string(key));
        ++recovery_.aliases;
      }));
  // Ids are remembered for at most two dedupe windows; older records are deleted.
  Time seen_from = now - 2 * deduper_.window();
  WAYMARK_RETURN_IF_ERROR(store_->ScanSeenMessages(seen_from, [&](uint64_t hash, Time t) {
    recovery_.seen_messages += deduper_.Restore(hash, t, now) ? 1 : 0;
  }));
  batch.DeleteSeenMessagesBefore(seen_from);
  seen_expired_at_ = now;
  WAYMARK_RETURN_IF_ERROR(store_->LoadProfiles(
      *config_, [&](std::unique_ptr<ProfileState> ps, const store::DecodeReport& report) {
        recovery_.dropped_instances += report.dropped_instances.size();
        for (const auto& d : report.dropped_instances) {
          Log().warn("instance dropped at start-up instance={} journey={} version={} reason=\"{}\"",
                     HexId(d.instance_id), d.journey_id, d.version, d.reason);
        }
        if (ps->profile.user_id.empty()) identity_.AddAnonymousProfile(ps->profile.key);
        for (const Instance& inst : ps->instances) {
          recovery_.timers +=
              inst.state != Instance::State::kRunning && inst.state != Instance::State::kEnded;
        }
        ++recovery_.profiles;
        // Every profile is rewritten below only when something changes it.
        workers_[ShardOf(ps->profile.key)]->shard.Load(std::move(ps));
        return Status::Ok();
      }));
  WAYMARK_RETURN_IF_ERROR(RecoverCounters(&batch));

  // Timers that came due while the server was down fire now, in due order per shard.
  for (auto& w : workers_) {
    uint64_t before = w->shard.results().counters.timers_fired;
    w->shard.SetNow(now);
    w->shard.AdvanceTo(now);
    recovery_.timers_fired += w->shard.results().counters.timers_fired - before;
  }

  // Acknowledged events that were not applied before the restart.
  // Acknowledged events that were not applied before the restart: journal entries above their
  // partition's applied sequence, applied again in sequence order (the shard count may have
  // changed, so they are routed anew).
  Result<std::optional<uint64_t>> last_seq = store_->GetIngestSequence();
  if (!last_seq.ok()) return last_seq.status();
  Result<std::vector<std::pair<uint32_t, uint64_t>>> applied = store_->GetApplied();
  if (!applied.ok()) return applied.status();
  std::vector<Event> unapplied;
  uint64_t max_seq = last_seq->value_or(0);
  WAYMARK_RETURN_IF_ERROR(store_->ScanJournal([&](uint32_t partition, uint64_t seq, Event e) {
    max_seq = std::max(max_seq, seq);
    for (const auto& [p, through] : *applied) {
      if (p == partition && seq <= through) return Status::Ok();
    }
    unapplied.push_back(std::move(e));
    return Status::Ok();
  }));
  std::sort(unapplied.begin(), unapplied.end(),
            [](const Event& a, const Event& b) { return a.seq < b.seq; });
  recovery_.journal_events = unapplied.size();
  pending_events_.fetch_add(int64_t(unapplied.size()));
  std::vector<Routed> routed;
  routed.reserve(unapplied.size());
  for (Event& e : unapplied) routed.push_back(Resolve(std::move(e), SteadyClock::now()));
  Dispatch(routed);
  unapplied.clear();
  next_seq_ = max_seq + 1;
  recovery_.next_sequence = next_seq_;
  // The shards are not running yet: apply what Route queued right here. A merge's extraction
  // is always queued before the event that absorbs it, so one pass in shard order would block;
  // instead take commands one at a time from whichever shard has its next one ready.
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& w : workers_) {
      while (!w->queue.empty()) {
        Command& c = w->queue.front();
        if (c.kind == Command::Kind::kEvent && c.merge != nullptr) {
          std::lock_guard<std::mutex> lock(c.merge->mu);
          if (!c.merge->ready) break;  // its extraction sits on another shard
        }
        if (c.kind == Command::Kind::kExtract) {
          c.merge->Put(w->shard.Extract(c.key));
        } else {
          w->Apply(c);
        }
        w->queue.pop_front();
        progress = true;
      }
    }
  }

  // One write for all of it: a crash during recovery leaves the directory as it was. The
  // journal starts empty, with no partition's applied sequence left to mislead the next start.
  for (auto& w : workers_) {
    w->Collect(&batch, /*force=*/true);
    w->applied_through = 0;
    w->accepted.clear();
    w->UpdateGauges();
    w->LogRenderErrors(/*quiet=*/true);
  }
  batch.DeleteAllJournal();
  for (const auto& [partition, seq] : *applied) {
    batch.DeleteMeta("applied/" + std::to_string(partition));
  }
  batch.PutIngestSequence(next_seq_ - 1);
  WAYMARK_RETURN_IF_ERROR(store_->Commit(batch, /*sync=*/true));
  pending_events_.store(0);

  Result<uint64_t> outbox = delivery_->Recover();
  if (!outbox.ok()) return outbox.status();
  recovery_.pending_outbox = *outbox;
  return Status::Ok();
}

void LiveEngine::Start() {
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([raw] {
      pthread_setname_np(pthread_self(), ("wm-shard-" + std::to_string(raw->index)).c_str());
      raw->Loop();
    });
  }
  delivery_->Start();
  commit_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wm-commit");
    CommitLoop();
  });
  accepting_.store(true);
}

void LiveEngine::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  accepting_.store(false);
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    stopping_ = true;
    commit_cv_.notify_all();
  }
  if (commit_thread_.joinable()) commit_thread_.join();
  // The shards drain what the commit thread routed, then commit once more.
  for (auto& w : workers_) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->stopping = true;
    w->cv.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (delivery_ != nullptr) delivery_->Stop();
  if (Status s = store_->Sync(); !s.ok())
    Log().error("final sync failed error=\"{}\"", s.message());
}

// ---- ingest ----

Status LiveEngine::Accept(std::vector<Event> events) {
  if (failed_.load()) return Status::Io("the state store failed; see the server log");
  size_t pending = size_t(std::max<int64_t>(0, pending_events_.load()));
  if (pending + events.size() > options_.max_pending_events) {
    return Status::Io("overloaded: " + std::to_string(pending) +
                      " events waiting to be applied (max_pending_events " +
                      std::to_string(options_.max_pending_events) + ")");
  }
  if (events.empty()) return Status::Ok();
  Request r;
  r.events = std::move(events);
  r.accepted = SteadyClock::now();
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    if (stopping_ || !accepting_.load()) return Status::Io("the server is shutting down");
    commit_queue_.push_back(&r);
    ++requests_open_;
    commit_cv_.notify_all();
  }
  std::unique_lock<std::mutex> lock(r.mu);
  r.cv.wait(lock, [&] { return r.done; });
  return r.status;
}

bool LiveEngine::Ready() const {
  return accepting_.load() && !failed_.load() &&
         size_t(std::max<int64_t>(0, pending_events_.load())) < options_.max_pending_events;
}

void LiveEngine::CommitLoop() {
  std::deque<Request*> requests;
  store::WriteBatch batch;  // reused (Commit clears it): a group's write is tens of kilobytes
  while (true) {
    {
      std::unique_lock<std::mutex> lock(commit_mu_);
      commit_cv_.wait(lock, [&] { return !commit_queue_.empty() || stopping_; });
      if (commit_queue_.empty()) return;
      requests.swap(commit_queue_);
    }
    SteadyClock::time_point started = SteadyClock::now();
    Time now = clock_->Now();
    std::vector<Routed> fresh;
    std::vector<uint64_t> seen;
    uint64_t duplicates = 0;
    uint64_t group = next_seq_;
    for (Request* r : requests) {
      for (Event& e : r->events) {
        if (deduper_.SeenBefore(e.message_id, now)) {
          ++duplicates;
          continue;
        }
        e.seq = next_seq_++;
        if (e.timestamp > now) e.timestamp = now;
        if (!e.message_id.empty()) seen.push_back(Hash64(e.message_id));
        // Routed before it is journaled: the entry goes under the shard that applies it.
        Routed routed = Resolve(std::move(e), r->accepted);
        batch.PutJournal(uint32_t(routed.shard), routed.event.event.seq, routed.event.event);
        fresh.push_back(std::move(routed));
      }
    }
    if (!seen.empty()) batch.PutSeenMessages(now, group, seen);
    if (now - seen_expired_at_ >= std::chrono::minutes(1)) {
      // The deduper forgets ids after one to two windows; their records can go after two.
      batch.DeleteSeenMessagesBefore(now - 2 * deduper_.window());
      seen_expired_at_ = now;
    }
    batch.PutIngestSequence(next_seq_ - 1);
    // Written unsynced, then synced apart: a synced RocksDB write makes the shard writes that
    // join its write group wait for the disk too; SyncWAL syncs outside the write queue.
    Status s = store_->Commit(batch, /*sync=*/false);
    if (s.ok() && options_.sync == SyncPolicy::kSync) s = store_->Sync();
    journal_latency_.Record(SteadyClock::now() - started);
    journal_commits_.fetch_add(1, std::memory_order_relaxed);
    if (s.ok()) {
      accepted_.fetch_add(fresh.size(), std::memory_order_relaxed);
      duplicates_.fetch_add(duplicates, std::memory_order_relaxed);
      pending_events_.fetch_add(int64_t(fresh.size()));
      Dispatch(fresh);
    } else {
      // The ids above count as seen although nothing was written: a retry would be dropped.
      // Nothing else is safe but to stop taking events until an operator restarts.
      failed_.store(true);
      Log().error("journal write failed, not taking events until restarted error=\"{}\"",
                  s.message());
    }
    size_t answered = requests.size();
    for (Request* r : requests) {
      std::lock_guard<std::mutex> lock(r->mu);
      r->status = s;
      r->done = true;
      r->cv.notify_one();
    }
    requests.clear();
    std::lock_guard<std::mutex> lock(commit_mu_);
    requests_open_ -= answered;
    commit_cv_.notify_all();
  }
}

size_t LiveEngine::ShardOf(std::string_view key) const {
  return Hash64(key, 0x7a11) % workers_.size();
}

LiveEngine::Routed LiveEngine::Resolve(Event&& e, SteadyClock::time_point accepted) {
  IdentityResolver::Decision d;
  {
    std::lock_guard<std::mutex> lock(identity_mu_);
    d = identity_.Resolve(e);
  }
  Routed r;
  Command& c = r.event;
  c.key = d.key.empty() ? e.ProfileKey() : std::move(d.key);
  if (!d.merge_from.empty()) {
    // The anonymous profile moves to the known profile's shard and is merged there.
    c.merge = std::make_shared<MergeSlot>();
    r.extract.emplace();
    r.extract->kind = Command::Kind::kExtract;
    r.extract->key = d.merge_from;
    r.extract->merge = c.merge;
    r.extract_shard = ShardOf(d.merge_from);
    c.merged_from = std::move(d.merge_from);
  }
  c.event = std::move(e);
  c.aliases = std::move(d.new_aliases);
  c.accepted = accepted;
  r.shard = ShardOf(c.key);
  return r;
}

void LiveEngine::Dispatch(std::vector<Routed>& routed) {
  // Each shard gets its commands in resolution order, so every wait of an absorbing event is
  // for an extraction queued before it; the extraction goes first where both share a shard.
  std::vector<std::vector<Command>> by_shard(workers_.size());
  for (Routed& r : routed) {
    if (r.extract) by_shard[r.extract_shard].push_back(std::move(*r.extract));
    by_shard[r.shard].push_back(std::move(r.event));
  }
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->PushAll(by_shard[i]);
}

void LiveEngine::RunOnShard(size_t shard, std::function<void(Worker&)> fn) {
  Command c;
  c.kind = Command::Kind::kCall;
  c.call = std::move(fn);
  c.done = std::make_shared<std::promise<void>>();
  std::future<void> done = c.done->get_future();
  workers_[shard]->Push(std::move(c));
  done.wait();
}

void LiveEngine::RunOnEveryShard(const std::function<void(Worker&)>& fn) {
  std::vector<std::future<void>> pending;
  for (auto& w : workers_) {
    Command c;
    c.kind = Command::Kind::kCall;
    c.call = fn;
    c.done = std::make_shared<std::promise<void>>();
    pending.push_back(c.done->get_future());
    w->Push(std::move(c));
  }
  for (auto& f : pending) f.wait();
}

void LiveEngine::WaitIdle() {
  // Delivery reports its outcomes as events, which shards apply, which may decide new sends:
  // repeat until a pass accepts nothing new.
  for (;;) {
    uint64_t journaled = accepted_.load();
    // The commit thread routes a request's events before answering it, so once no request is
    // open every accepted event sits in a shard's queue, and a round after it has applied it.
    {
      std::unique_lock<std::mutex> lock(commit_mu_);
      commit_cv_.wait(lock, [&] { return requests_open_ == 0 || stopping_; });
    }
    while (pending_events_.load() > 0 && !failed_.load()) {
      RunOnEveryShard([](Worker&) {});
    }
    RunOnEveryShard([](Worker&) {});
    delivery_->WaitIdle();
    if (accepted_.load() == journaled || failed_.load() || stopping_) return;
  }
}

// ---- inspection ----

std::shared_ptr<const Config> LiveEngine::config() const {
  std::lock_guard<std::mutex> lock(config_mu_);
  return config_;
}

Status LiveEngine::SwapConfig(std::shared_ptr<const Config> config) {
  // Shards accept or refuse the same config alike (SwapConfig checks only the configs), so the
  // first one's answer stands for all.
  Status first;
  RunOnShard(0, [&](Worker& w) { first = w.shard.SwapConfig(config); });
  if (!first.ok()) return first;
  RunOnEveryShard([&](Worker& w) {
    if (w.index == 0) return;
    if (Status s = w.shard.SwapConfig(config); !s.ok()) {
      Log().error("shard refused a config the first shard took shard={} error=\"{}\"", w.index,
                  s.message());
    }
  });
  std::lock_guard<std::mutex> lock(config_mu_);
  config_ = std::move(config);
  return Status::Ok();
}

std::string LiveEngine::ProfileKeyOf(std::string_view id) const {
  std::lock_guard<std::mutex> lock(identity_mu_);
  return identity_.KeyOf(id);
}

Result<Value> LiveEngine::ProfileView(std::string_view id) {
  std::string key = ProfileKeyOf(id);
  std::optional<Value> view;
  RunOnShard(ShardOf(key), [&](Worker& w) {
    const ProfileState* ps = w.shard.Find(key);
    if (ps != nullptr) view = ProfileStateView(*ps, *w.shard.config());
  });
  if (!view) return Status::NotFound("no profile has id '" + std::string(id) + "'");
  return std::move(*view);
}

Result<Value> LiveEngine::StatsView(std::optional<std::string_view> journey_id) {
  std::shared_ptr<const Config> config = this->config();
  std::mutex mu;
  std::vector<JourneyStats> journeys(config->journeys.size());
  EngineCounters counters;
  Counts suppressed;
  uint64_t profiles = 0;
  RunOnEveryShard([&](Worker& w) {
    std::vector<JourneyStats> mine = w.shard.LiveStats();
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < mine.size() && i < journeys.size(); ++i) journeys[i].Add(mine[i]);
    counters.Add(w.shard.results().counters);
    for (const auto& [reason, n] : w.shard.results().suppressed) Bump(&suppressed, reason, n);
    profiles += w.shard.profile_count();
  });
  std::string json;
  AppendJourneysJson(*config, journeys, &json);
  Result<Value> list = ParseJson(json);
  if (!list.ok()) return Status::Internal("stats: " + list.status().message());
  if (journey_id) {
    for (const Value& j : list->as_list()) {
      const Value* id = j.Find("id");
      if (id != nullptr && id->is_string() && id->as_string() == *journey_id) return j;
    }
    return Status::NotFound("unknown journey '" + std::string(*journey_id) + "'");
  }
  // Engine counters are kept with the state; the commit thread's only since this process started.
  Value totals = EngineCountersToValue(counters);
  totals.Erase("duplicates");
  totals.Set("profiles", int64_t(profiles));
  totals.Set("journaled_since_start", int64_t(accepted_.load()));
  totals.Set("duplicates_since_start", int64_t(duplicates_.load()));
  Value by_reason = Value::EmptyObject();
  for (const auto& [reason, n] : suppressed) by_reason.Set(reason, Value(int64_t(n)));
  totals.Set("suppressed", std::move(by_reason));
  Value out = Value::EmptyObject();
  out.Set("totals", std::move(totals));
  out.Set("journeys", std::move(*list));
  return out;
}

Result<Value> LiveEngine::OutboxView(store::DeliveryStatus status, size_t limit) {
  std::deque<store::OutboxEntry> newest;
  Status s = store_->ScanOutbox(kTimeMin, [&](const store::OutboxEntry& e) {
    if (e.status != status) return true;
    newest.push_back(e);
    if (newest.size() > limit) newest.pop_front();
    return true;
  });
  if (!s.ok()) return s;
  Value::List list;
  for (auto it = newest.rbegin(); it != newest.rend(); ++it) {
    Value v = Value::EmptyObject();
    v.Set("id", it->id);
    v.Set("time", TimeValue(it->time));
    v.Set("status", store::DeliveryStatusName(it->status));
    v.Set("attempts", int64_t(it->attempts));
    if (it->status == store::DeliveryStatus::kPending && it->attempts > 0) {
      v.Set("next_attempt", TimeValue(it->next_attempt));
    }
    v.Set("detail", it->detail);
    Result<Value> message = ParseJson(it->json);
    v.Set("message", message.ok() ? std::move(*message) : Value(it->json));
    list.push_back(std::move(v));
  }
  return Value(std::move(list));
}

std::string LiveEngine::RenderMetrics() {
  uint64_t profiles = 0, timers = 0, instances = 0;
  std::mutex mu;
  RunOnEveryShard([&](Worker& w) {
    size_t n = w.shard.instance_count();
    std::lock_guard<std::mutex> lock(mu);
    instances += n;
  });
  for (auto& w : workers_) {
    profiles += w->profiles.load(std::memory_order_relaxed);
    timers += w->timers.load(std::memory_order_relaxed);
  }
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help,
                    uint64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("waymark_engine_events_journaled_total", "counter",
         "Events written to the journal (acknowledged).", accepted_.load());
  metric("waymark_engine_events_duplicate_total", "counter",
         "Events dropped as a repeated messageId.", duplicates_.load());
  metric("waymark_engine_events_pending", "gauge", "Journaled events not yet applied.",
         uint64_t(std::max<int64_t>(0, pending_events_.load())));
  metric("waymark_engine_journal_writes_total", "counter", "Journal writes (group commits).",
         journal_commits_.load());
  metric("waymark_engine_profiles", "gauge", "Profiles held.", profiles);
  metric("waymark_engine_instances", "gauge",
         "Journey instances held (running or watching for their goal).", instances);
  metric("waymark_engine_timers_pending", "gauge", "Timers waiting to fire.", timers);
  metric("waymark_engine_ready", "gauge", "1 when the engine takes events.", Ready() ? 1 : 0);
  decision_latency_.Render("waymark_engine_decision_latency_seconds",
                           "From an event's acceptance to its effects being committed.", &out);
  journal_latency_.Render("waymark_engine_journal_write_seconds",
                          "One journal write including its sync.", &out);
  delivery_->RenderMetrics(&out);
  return out;
}

}  // namespace waymark::live
