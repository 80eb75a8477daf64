// Engine: routes events to N shards, each on its own thread, and gathers their results.
//
// The caller (one thread) submits events in non-decreasing timestamp order. The router drops
// duplicates by messageId, resolves identity (anonymous id -> user id) and sends each event to the
// shard that owns its profile key. When an event links an anonymous profile to a user id, the
// router moves the anonymous profile to the user's shard, where it is merged before the event.
//
// Output does not depend on the number of shards: every decision depends only on one profile's
// own history, message ids are derived from (journey, version, profile, key, entry, step, visit),
// and results are sorted by (time, id).
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/router.h"
#include "engine/shard.h"

namespace waymark {

struct EngineOptions {
  int shards = 1;
  bool assume_reachable = true;
  bool keep_outbox = true;        // results.outbox holds every send as a JSON line
  bool keep_suppressions = true;  // results.suppressions likewise
  TraceFilter trace;              // empty: no tracing
  // Events handed to a shard thread at once, and batches queued for a shard before Submit waits.
  // Few events in flight keep their memory (recycled batches, event strings) in cache: with
  // 64 batches of 512 the router's share of a replay took a third more CPU.
  size_t batch_size = 256;
  size_t queue_batches = 4;
  // A messageId seen within this much event time before is a duplicate. Ids older than between
  // one and two windows are forgotten, which bounds memory (as Segment's own dedupe does).
  Duration dedupe_window = std::chrono::hours(24);
};

struct EngineResults {
  std::vector<OutboxRecord> outbox;        // sorted by (time, id)
  std::vector<OutboxRecord> suppressions;  // sorted by (time, id)
  std::vector<JourneyStats> journeys;      // by Config::journeys index
  Counts suppressed;
  EngineCounters counters;
  std::vector<std::pair<std::string, std::vector<TraceEntry>>> traces;  // sorted by profile key
};

class Engine {
 public:
  Engine(std::shared_ptr<const Config> config, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Routes one event. Returns false (and drops it) when its messageId was seen before.
  bool Submit(Event&& e);

  // Lets timers run up to `until`, stops the shard threads and returns the merged results.
  // Sends and open goal windows after the last submitted event are counted separately.
  // Call once; Submit must not be called afterwards.
  EngineResults Finish(Time until);

 private:
  struct Worker;
  struct MergeSlot;

  void Route(Event&& e, std::string key, std::shared_ptr<MergeSlot> merge);
  void Flush(size_t shard);
  size_t ShardOf(const std::string& key) const;

  std::shared_ptr<const Config> config_;
  EngineOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;

  MessageDeduper deduper_;
  IdentityResolver identity_;
  uint64_t duplicates_ = 0;
  Time last_event_ = kTimeMin;
  uint64_t next_seq_ = 0;
};

}  // namespace waymark
