// LiveEngine: the journey engine on wall-clock time over a durable state store — the core of
// `waymark serve` (docs/server.md has the operator's view, docs/storage.md the key layout).
//
// Flow of one event:
//   1. IngestSink::Accept (any server worker thread) queues the request's events and waits.
//   2. The commit thread takes every queued request at once (group commit), drops repeated
//      messageIds, writes the rest to the journal (j/<seq>) with their dedupe marks in one write,
//      syncs it per the sync policy, and only then answers the requests: a 200 means journaled.
//   3. The same thread resolves identity and routes each event to the shard owning its profile.
//   4. A shard thread applies events in order, fires due timers on the wall clock, and writes
//      everything a round of events and timers changed — profiles, new outbox entries, aliases,
//      counters, and the deletion of the applied journal entries — as one atomic write. An event
//      is therefore applied exactly once: its journal entry disappears in the same write that
//      records its effects, and at start-up every remaining journal entry is applied again.
//   5. Committed outbox entries go to the Delivery lanes (delivery.h).
//
// Time: the engine runs at the clock's time. An event is applied at the time its shard takes it
// (its own timestamp, corrected for clock skew by ingest, stays in the profile's history); a
// timestamp in the future is clamped to its arrival. Timers fire when the clock reaches them.
//
// Restart: profiles (with their instances and timer due times), aliases, dedupe marks, counters
// and the outbox are loaded; timers that came due while the server was down fire first, at the
// start-up time and in due order (a send step's max_lateness decides whether a late send still
// goes out); then the journal is applied. All of that is committed in one write before the
// server takes requests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/value.h"
#include "engine/router.h"
#include "engine/shard.h"
#include "live/delivery.h"
#include "live/latency.h"
#include "model/config.h"
#include "server/ingest_server.h"
#include "store/state_store.h"

namespace waymark::live {

// When a 200 is answered relative to the disk.
enum class SyncPolicy : uint8_t {
  kSync,  // the journal write is synced (fdatasync, grouped across concurrent requests): an
          // acknowledged event survives a power loss. The default.
  kNone,  // the journal write reaches the OS only: survives a crash of the process, not of
          // the machine.
};

struct LiveOptions {
  int shards = 1;
  SyncPolicy sync = SyncPolicy::kSync;
  // A repeated messageId within this much time of its first arrival is dropped.
  Duration dedupe_window = std::chrono::hours(24);
  // Whether a profile without a contact trait is reachable (replay's default is yes; a live
  // server needs the address).
  bool assume_reachable = false;
  // Journaled events not yet applied by the shards; above this Accept fails (503, Retry-After)
  // and /ready says not ready, instead of the queue growing without bound.
  size_t max_pending_events = 200'000;
  // Events and sends each profile remembers for the admin API.
  size_t activity_limit = 20;
  DeliveryOptions delivery;
};

// What Open() found in the data directory.
struct RecoveryInfo {
  uint64_t profiles = 0;
  uint64_t aliases = 0;
  uint64_t seen_messages = 0;
  uint64_t journal_events = 0;     // acknowledged before the restart, applied now
  uint64_t pending_outbox = 0;     // to deliver (again)
  uint64_t timers = 0;             // pending timers re-armed
  uint64_t timers_fired = 0;       // of those, due while the server was down
  uint64_t dropped_instances = 0;  // instances on journeys or versions no longer configured
  uint64_t next_sequence = 0;
};

class LiveEngine final : public server::IngestSink {
 public:
  // Opens (creating when missing) the state store in `data_dir`, recovers, and starts the
  // threads. `clock` must outlive the engine.
  static Result<std::unique_ptr<LiveEngine>> Open(std::shared_ptr<const Config> config,
                                                  const std::string& data_dir,
                                                  const LiveOptions& options, const Clock* clock);
  // Takes an open store instead (the journey registry shares it). `store` must outlive the
  // engine.
  static Result<std::unique_ptr<LiveEngine>> Open(std::shared_ptr<const Config> config,
                                                  store::StateStore* store,
                                                  const LiveOptions& options, const Clock* clock);
  ~LiveEngine() override;  // calls Stop()
  LiveEngine(const LiveEngine&) = delete;
  LiveEngine& operator=(const LiveEngine&) = delete;

  // IngestSink. OK once the events are journaled (and synced under SyncPolicy::kSync); kIoError
  // when overloaded (more than max_pending_events waiting), stopped, or the store failed.
  Status Accept(std::vector<Event> events) override;
  bool Ready() const override;

  // Stops taking events, applies everything journaled, commits, stops delivery and the threads.
  // Safe to call more than once.
  void Stop();

  // Blocks until every event accepted so far has been applied, every shard has fired the timers
  // due at the clock's current time and committed, and delivery has nothing in progress (tests,
  // tools; with a ManualClock, call it after moving the clock).
  void WaitIdle();

  const RecoveryInfo& recovery() const { return recovery_; }

  // ---- inspection (admin API); each may block briefly while the shards answer ----

  // The profile `id` (a user id or an anonymous id) names, as a JSON-ready Value: id, user_id,
  // anonymous_ids, traits, timezone, computed attributes, segments, instances, recent events
  // and messages. kNotFound when no profile has it.
  Result<Value> ProfileView(std::string_view id);
  // Counters per journey and step since the data directory was created, with treated vs
  // control conversion and lift (the replay report's JSON layout). `journey_id` narrows it to
  // one journey (kNotFound when not configured).
  Result<Value> StatsView(std::optional<std::string_view> journey_id);
  // Outbox entries with the given status, newest first, at most `limit`.
  Result<Value> OutboxView(store::DeliveryStatus status, size_t limit);
  // Prometheus text: engine counters and gauges, delivery outcomes.
  std::string RenderMetrics();

  // The profile key `id` (a user or anonymous id) resolves to: the known profile an anonymous id
  // was merged into, else `id` itself.
  std::string ProfileKeyOf(std::string_view id) const;

  std::shared_ptr<const Config> config() const;
  // Hands a new config to every shard (journey versions, pause, resume; see JourneyRegistry).
  // Returns once every shard uses it; fails (leaving the shards as they were) when a shard
  // refuses it (Shard::SwapConfig).
  Status SwapConfig(std::shared_ptr<const Config> config);

  store::StateStore* store() { return store_; }

 private:
  struct Request;
  struct Command;
  struct Worker;
  struct MergeSlot;

  LiveEngine(std::shared_ptr<const Config> config, store::StateStore* store,
             const LiveOptions& options, const Clock* clock);
  Status Recover();
  Status RecoverCounters(store::WriteBatch* batch);
  void Start();

  void CommitLoop();
  // An event with its identity resolved: the command for the shard that applies it, and the
  // extraction of the profile it merges, for the shard that holds that one.
  struct Routed;
  // Resolves identity (which updates the alias map): commit thread, or Recover() before the
  // shards run. Dispatch then queues the commands (moved from `routed`), in the order events
  // were resolved, each shard's with one lock.
  Routed Resolve(Event&& e, std::chrono::steady_clock::time_point accepted);
  void Dispatch(std::vector<Routed>& routed);
  size_t ShardOf(std::string_view key) const;

  // Runs `fn` on the thread of shard `shard` after its current round and waits for it.
  void RunOnShard(size_t shard, std::function<void(Worker&)> fn);
  void RunOnEveryShard(const std::function<void(Worker&)>& fn);

  std::shared_ptr<const Config> config_;
  mutable std::mutex config_mu_;
  LiveOptions options_;
  const Clock* clock_;
  std::unique_ptr<store::StateStore> owned_store_;
  store::StateStore* store_;
  std::unique_ptr<Delivery> delivery_;
  RecoveryInfo recovery_;

  // Requests waiting for the commit thread.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::deque<Request*> commit_queue_;
  size_t requests_open_ = 0;  // queued or being committed and routed
  bool stopping_ = false;
  std::thread commit_thread_;

  // Owned by the commit thread (and Recover before it starts); `identity_mu_` lets admin
  // lookups read the identity map.
  MessageDeduper deduper_;
  mutable std::mutex identity_mu_;
  IdentityResolver identity_;
  uint64_t next_seq_ = 1;
  Time seen_expired_at_ = kTimeMin;  // when old m/ records were last deleted

  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<int64_t> pending_events_{0};  // journaled or queued, not yet applied
  std::atomic<bool> failed_{false};         // a write to the store failed: not ready
  std::atomic<bool> accepting_{false};
  std::atomic<uint64_t> accepted_{0}, duplicates_{0}, journal_commits_{0};
  LatencyHistogram decision_latency_;  // accepted -> applied and committed, per event
  LatencyHistogram journal_latency_;   // one journal write and sync
  bool stopped_ = false;
  std::mutex stop_mu_;
};

}  // namespace waymark::live
