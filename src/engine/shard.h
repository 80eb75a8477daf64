// Shard: owns a disjoint set of profiles and runs every journey rule for them on one thread.
//
// A shard is driven by its owner (one thread at a time): HandleEvent() for each routed event in
// time order, Extract() when the router moves a profile to another shard (identity merge), and
// Finish() at the end. Timers due at or before an event's time fire before that event. Nothing
// here reads the system clock or takes a lock.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/status.h"
#include "dispatch/policy.h"
#include "engine/instance.h"
#include "engine/stats.h"
#include "engine/timer_queue.h"
#include "model/config.h"

namespace waymark {

struct OutboxRecord {
  Time time;
  std::string id;
  std::string json;  // one JSON line, no newline
};

// Which profiles to trace: any profile whose key, user id or anonymous ids match.
struct TraceFilter {
  std::vector<std::string> ids;
  bool Matches(const Profile& p) const;
};

struct ShardOptions {
  bool assume_reachable = true;
  // Keep every send / suppression as a JSON line in the results. Off, only counters are kept.
  bool keep_outbox = true;
  bool keep_suppressions = true;
  const TraceFilter* trace = nullptr;  // null: no tracing
  // Remember which profiles each call changed (TakeChanged), for a caller that persists them.
  bool track_changes = false;
  // Keep each profile's last this many events and as many sends and suppressions
  // (ProfileState::activity, for the admin API). 0: none.
  size_t activity_limit = 0;
};

struct ShardResults {
  std::vector<OutboxRecord> outbox;
  std::vector<OutboxRecord> suppressions;
  std::vector<JourneyStats> journeys;  // by Config::journeys index
  Counts suppressed;                   // reason -> count, all journeys
  EngineCounters counters;
  // Traced profiles' lines by profile key, filled by Finish().
  std::vector<std::pair<std::string, std::vector<TraceEntry>>> traces;
};

class Shard {
 public:
  Shard(std::shared_ptr<const Config> config, const ShardOptions& options);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Processes one event for the profile stored under `key`. When `absorbed` is set, that state
  // (an anonymous profile extracted from some shard) is merged into the profile first.
  void HandleEvent(const Event& event, const std::string& key,
                   std::unique_ptr<ProfileState> absorbed);

  // Removes and returns the profile stored under `key` (null when absent), for a merge elsewhere.
  std::unique_ptr<ProfileState> Extract(const std::string& key);

  // Fires every timer due at or before `t`.
  void AdvanceTo(Time t);

  // Replaces the journeys between two calls (a journey published, paused, resumed, archived):
  // new entries use `config`'s current versions and statuses, instances keep the JourneyDef they
  // entered. `config` must keep every journey id of the current config at its position (new ids
  // are appended), have the same segments, channels and templates, and interned history names
  // (HistoryPolicy::InternNames); its settings and policies are not read (those of the config
  // the shard was built with stay in force). Refused with kInvalidArgument otherwise, leaving
  // the shard as it was. Rebuilds the trigger indices and grows the per-journey and per-step
  // counters (kept by journey index and step position). Takes time linear in the journeys only.
  Status SwapConfig(std::shared_ptr<const Config> config);
  // The current config: the one to encode this shard's profiles with (journey indices).
  const std::shared_ptr<const Config>& config() const { return config_; }

  // Fires timers up to `until`, then counts still-active instances and gathers traces. Work
  // after `data_end` (the last input event) is counted separately: the input cannot confirm it.
  void Finish(Time until, Time data_end);

  // Adds a profile loaded from storage (its key is profile.key) and re-arms its timers. The key
  // must not be present yet.
  void Load(std::unique_ptr<ProfileState> state);

  // With ShardOptions::track_changes: the profiles changed since the last call, each once. The
  // pointers stay valid until the next HandleEvent, AdvanceTo or Extract.
  std::vector<ProfileState*> TakeChanged();

  // The profile stored under `key`, or null. For read-only inspection on the shard's thread.
  const ProfileState* Find(const std::string& key) { return Lookup(key); }

  // Starts loading the memory a coming HandleEvent or Extract for `key` will look up (a hint,
  // no effect on results): the profile index is too large for the cache, and a caller holding a
  // batch of events can hide the misses behind the events before.
  void Prefetch(const std::string& key) const {
    index_.prefetch(absl::string_view(key.data(), key.size()));
  }
  // The next step for a key Prefetch() was called for a few commands before: finds its profile
  // (the index entry is in cache by then) and starts loading the profile's first cache lines,
  // which hold what every event reads (identity, traits, counters).
  void PrefetchProfile(const std::string& key) const {
    auto it = index_.find(absl::string_view(key.data(), key.size()));
    if (it == index_.end()) return;
    const char* p = reinterpret_cast<const char*>(it->second);
    for (int line = 0; line < 4; ++line) __builtin_prefetch(p + 64 * line);
  }

  // Moves the shard's clock to `t` (never back) without firing timers: timers that a later
  // AdvanceTo(t) fires then run at `t`, so a send step's max_lateness sees how late they are.
  // The live server calls it with the wall clock before each round.
  void SetNow(Time t) { now_ = std::max(now_, t); }

  // Every journey's counters with `active` and the per-customer counts filled in from the
  // profiles held now (what Finish() adds at the end of a replay). Takes time linear in the
  // profiles.
  std::vector<JourneyStats> LiveStats() const;
  // Journey instances held now (active ones and those watching for their goal).
  size_t instance_count() const;

  // When the earliest pending timer is due; kTimeMax when none is.
  Time next_timer_due() const { return timers_.empty() ? kTimeMax : timers_.top().due; }
  Time now() const { return now_; }

  ShardResults& results() { return results_; }
  // Call after changing results() from outside (the live server adds stored counters at
  // start-up): step counters are found through a table of their positions.
  void IndexStepSlots();
  size_t profile_count() const { return index_.size(); }
  size_t pending_timers() const { return timers_.size(); }

 private:
  ProfileState* Lookup(const std::string& key);
  ProfileState* Create(const std::string& key);
  void Adopt(const std::string& key, std::unique_ptr<ProfileState> state);
  void Absorb(ProfileState* ps, std::unique_ptr<ProfileState> other);
  void MarkChanged(ProfileState* ps) {
    if (options_.track_changes && !ps->changed) {
      ps->changed = true;
      changed_.push_back(ps);
    }
  }

  // Trigger indices and counter sizes for config_.
  void IndexJourneys();

  void FireTimer(const Timer& timer);
  void Schedule(ProfileState* ps, Instance* inst, Time due);
  void ScheduleSegments(ProfileState* ps, Time due);

  void CheckInstances(ProfileState* ps, const Event& e);
  void EvaluateSegments(ProfileState* ps, const Event* e, bool all);
  void EnterOnEvent(ProfileState* ps, const Event& e, const std::vector<std::string>& traits);
  // `shared` caches one shared copy of `trigger` across the journeys it starts.
  void TryEnter(ProfileState* ps, uint32_t journey_index, const Event* trigger,
                std::shared_ptr<const Event>* shared);

  // Executes steps until the instance waits or ends. `scheduled` is when the timer that resumed it
  // was due (for lateness); equal to now otherwise.
  void Run(ProfileState* ps, size_t instance_index, Time scheduled);
  // One step; returns false when the instance stopped (waits or ended).
  bool Step(ProfileState* ps, Instance* inst, Time scheduled);
  bool ExecuteSend(ProfileState* ps, Instance* inst, const StepDef& step, Time scheduled);
  void EmitMessage(ProfileState* ps, Instance* inst, const StepDef& step, int channel,
                   const std::string& to, Time now);
  void Suppress(ProfileState* ps, Instance* inst, const StepDef& step, SuppressReason reason,
                const std::string& detail);
  void Complete(ProfileState* ps, Instance* inst);
  void End(ProfileState* ps, Instance* inst, const std::string& reason);
  void Convert(ProfileState* ps, Instance* inst, const Event& goal);

  // Delivery and engagement events (engagement.cc, docs/configuration.md): `Unsubscribed`
  // withdraws consent, `Message Opened` / `Message Clicked` count on the step they name and a
  // click is noted on the instance that sent the message. Runs after the profile took the event
  // and before any journey sees it; names of traits it changed are appended to `changed`.
  void ApplyDeliveryEvent(ProfileState* ps, const Event& e, std::vector<std::string>* changed);
  void ApplyUnsubscribe(ProfileState* ps, const Event& e, std::vector<std::string>* changed);
  void CountEngagement(ProfileState* ps, const Event& e, bool click);
  // The held instance of journey `journey_id` whose step `step_id` produced `message_id` (the
  // engine's message ids hash instance, step and visit), with that step's position in the
  // instance's version in `*step`; null when no instance of the profile did.
  static Instance* FindSender(ProfileState* ps, std::string_view journey_id,
                              std::string_view step_id, std::string_view message_id, int* step);
  // The step a conversion of `inst` by a goal at `at` is credited to, or kEnd for none; `why`
  // gets the reason in words, for the trace.
  static int Attribute(const Instance& inst, Time at, std::string* why);
  static void MergeEngaged(ProfileState* ps, const std::vector<EngagedMessage>& other);
  expr::MessageView LastMessageView(const Instance& inst) const;
  void RemoveEnded(ProfileState* ps);
  static void CountCustomers(const ProfileState& ps, std::vector<JourneyStats>* journeys);
  void NoteActivity(ProfileState* ps, ActivityEntry entry);

  expr::EvalContext Context(const ProfileState& ps, const Event* e, const Instance* inst) const;
  Value RenderVars(const TemplateDef& tpl, const ProfileState& ps, const Instance& inst,
                   const StepDef& step, const std::string& message_id, const std::string& promo,
                   int channel) const;

  static Value ProfileVars(const Profile& p, const VariableNeeds& needs);
  static Value EventVars(const Event* trigger, const VariableNeeds& needs);

  // Use through WM_TRACE / WM_TRACE_CONDITION (shard.cc), which skip untraced profiles.
  void TraceLine(ProfileState* ps, std::string text);
  void TraceConditionLine(ProfileState* ps, const std::string& what, const expr::Expr& e,
                          const expr::EvalContext& ctx, bool held);
  JourneyStats& StatsOf(const Instance& inst) { return results_.journeys[inst.journey_index]; }
  // The counters of step `step` (a position in inst.journey's steps), kept by step id.
  StepStats& StepStatsOf(const Instance& inst, int step);

  // Journeys (current versions, statuses, retained versions) and the history policy come from
  // the current config, which SwapConfig() replaces.
  std::shared_ptr<const Config> config_;
  // Segments, channels, templates, policies and settings come from the config the shard was
  // built with, which every later config shares (SwapConfig checks what it can). policy_ holds
  // a reference to it as well.
  std::shared_ptr<const Config> base_config_;
  const Config& cfg_;
  ShardOptions options_;
  PolicyEngine policy_;
  Time now_ = kTimeMin;
  bool draining_ = false;  // past the last input event

  std::vector<std::unique_ptr<ProfileState>> slots_;
  std::vector<uint32_t> free_slots_;
  // Key -> profile (owned by slots_[profile->slot]): one memory access less than a slot index.
  absl::flat_hash_map<std::string, ProfileState*> index_;
  TimerQueue timers_;
  uint64_t next_token_ = 1;
  uint32_t next_generation_ = 1;

  // Journeys by trigger: event name -> journey indices; segment -> journeys; trait -> journeys.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> by_event_;
  std::vector<std::vector<uint32_t>> by_segment_enter_, by_segment_exit_;
  std::vector<std::pair<std::string, uint32_t>> by_trait_;
  // Segments that read the profile are re-evaluated on every event; the others only on the
  // events they count.
  std::vector<bool> segment_always_;

  ShardResults results_;
  // Journey version -> for each of its steps, the position of its counters in
  // results_.journeys[...].steps. Built for the config's versions by IndexStepSlots; others (a
  // version kept alive only by its instances) are added when first used.
  absl::flat_hash_map<const JourneyDef*, std::vector<uint32_t>> step_slots_;
  std::vector<ProfileState*> changed_;  // with track_changes
};

}  // namespace waymark
