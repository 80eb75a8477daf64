#include "engine/shard.h"

#include <date/tz.h>

#include <algorithm>
#include <utility>

#include "core/hash.h"
#include "core/local_time.h"
#include "engine/quote.h"

// Trace lines are built only for traced profiles: the text expressions are not evaluated otherwise.
#define WM_TRACE(ps, text)                 \
  do {                                     \
    if ((ps)->traced) TraceLine(ps, text); \
  } while (0)
#define WM_TRACE_CONDITION(ps, what, expr, ctx, held)                \
  do {                                                               \
    if ((ps)->traced) TraceConditionLine(ps, what, expr, ctx, held); \
  } while (0)

namespace waymark {

namespace {

// "journey <id>", plus the instance's key for keyed journeys (one instance per cart), so that a
// trace tells apart the lines of instances running side by side.
std::string JourneyLabel(const Instance& inst) {
  return "journey " + inst.journey->id + (inst.key.empty() ? "" : " [" + inst.key + "]");
}

// Deterministic 0..n-1 bucket for a profile at a step (splits and holdouts).
uint64_t Bucket(std::string_view profile_key, const JourneyDef& j, const StepDef& s, uint64_t n) {
  uint64_t h = Hash64(profile_key, 0x5eed);
  h = HashCombine(h, Hash64(j.id));
  h = HashCombine(h, Hash64(s.id));
  return n == 0 ? 0 : h % n;
}

using engine_internal::Quote;

}  // namespace

bool TraceFilter::Matches(const Profile& p) const {
  for (const std::string& id : ids) {
    if (id == p.key || id == p.user_id) return true;
    for (const std::string& anon : p.anonymous_ids)
      if (id == anon) return true;
  }
  return false;
}

Shard::Shard(std::shared_ptr<const Config> config, const ShardOptions& options)
    : config_(std::move(config)),
      base_config_(config_),
      cfg_(*base_config_),
      options_(options),
      policy_(cfg_, options.assume_reachable) {
  IndexJourneys();
  segment_always_.resize(cfg_.segments.size());
  for (uint32_t i = 0; i < cfg_.segments.size(); ++i) {
    const expr::Expr& c = cfg_.segments[i].condition;
    segment_always_[i] = c.reads_profile() || c.reads_segments();
  }
}

Shard::~Shard() = default;

Status Shard::SwapConfig(std::shared_ptr<const Config> config) {
  if (config == nullptr) return Status::Invalid("SwapConfig: no config");
  const Config& next = *config;
  auto same_ids = [](const auto& a, const auto& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].id != b[i].id) return false;
    return true;
  };
  if (!same_ids(next.segments, cfg_.segments) || !same_ids(next.channels, cfg_.channels) ||
      !same_ids(next.templates, cfg_.templates)) {
    return Status::Invalid("SwapConfig: segments, channels and templates must not change");
  }
  if (next.journeys.size() < config_->journeys.size()) {
    return Status::Invalid("SwapConfig: journeys must not be removed");
  }
  for (size_t i = 0; i < config_->journeys.size(); ++i) {
    if (next.journeys[i]->id != config_->journeys[i]->id) {
      return Status::Invalid("SwapConfig: journey '" + config_->journeys[i]->id +
                             "' must keep position " + std::to_string(i));
    }
  }
  for (const HistoryPolicy::Rule& r : next.history.rules) {
    // History entries point at rule names; only interned ones outlive the config.
    if (r.interned.empty()) return Status::Invalid("SwapConfig: history names are not interned");
  }
  config_ = std::move(config);
  IndexJourneys();
  return Status::Ok();
}

void Shard::IndexStepSlots() {
  // Counters stay by journey index (positions are kept for good) and step id, so a new
  // version's steps count apart from the old version's steps that sat at the same positions.
  const Config& c = *config_;
  if (results_.journeys.size() < c.journeys.size()) results_.journeys.resize(c.journeys.size());
  step_slots_.clear();
  auto index = [&](size_t i, const JourneyDef& j) {
    std::vector<uint32_t>& slots = step_slots_[&j];
    slots.clear();
    for (const StepDef& s : j.steps) slots.push_back(uint32_t(results_.journeys[i].StepSlot(s.id)));
  };
  for (uint32_t i = 0; i < c.journeys.size(); ++i) index(i, *c.journeys[i]);
  for (const auto& old : c.retained_versions) {
    int i = c.JourneyIndex(old->id);
    if (i >= 0) index(size_t(i), *old);
  }
}

StepStats& Shard::StepStatsOf(const Instance& inst, int step) {
  JourneyStats& stats = results_.journeys[inst.journey_index];
  auto it = step_slots_.find(inst.journey.get());
  if (it == step_slots_.end()) {
    std::vector<uint32_t> slots;
    for (const StepDef& s : inst.journey->steps) slots.push_back(uint32_t(stats.StepSlot(s.id)));
    it = step_slots_.emplace(inst.journey.get(), std::move(slots)).first;
  }
  return stats.steps[it->second[size_t(step)]];
}

void Shard::IndexJourneys() {
  const Config& c = *config_;
  by_event_.clear();
  by_trait_.clear();
  by_segment_enter_.assign(c.segments.size(), {});
  by_segment_exit_.assign(c.segments.size(), {});
  IndexStepSlots();
  for (uint32_t i = 0; i < c.journeys.size(); ++i) {
    const JourneyDef& j = *c.journeys[i];
    switch (j.trigger_kind) {
      case TriggerKind::kEvent:
        by_event_[j.trigger_event].push_back(i);
        break;
      case TriggerKind::kSegmentEnter:
        by_segment_enter_[j.trigger_segment].push_back(i);
        break;
      case TriggerKind::kSegmentExit:
        by_segment_exit_[j.trigger_segment].push_back(i);
        break;
      case TriggerKind::kTraitChange:
        by_trait_.emplace_back(j.trigger_trait, i);
        break;
    }
  }
}

// ---- profiles ----

ProfileState* Shard::Lookup(const std::string& key) {
  auto it = index_.find(absl::string_view(key.data(), key.size()));
  return it == index_.end() ? nullptr : it->second;
}

ProfileState* Shard::Create(const std::string& key) {
  auto ps = std::make_unique<ProfileState>();
  ps->profile.key = key;
  ps->segments.assign(cfg_.segments.size(), 0);
  ++results_.counters.profiles;
  ProfileState* raw = ps.get();
  Adopt(key, std::move(ps));
  return raw;
}

void Shard::Adopt(const std::string& key, std::unique_ptr<ProfileState> state) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = uint32_t(slots_.size());
    slots_.emplace_back();
  }
  uint32_t generation = next_generation_++;
  state->slot = slot;
  state->generation = generation;
  ProfileState* ps = state.get();
  slots_[slot] = std::move(state);
  index_[key] = ps;
  // Timers belong to the shard: re-arm the ones this state was waiting on.
  for (Instance& inst : ps->instances) {
    if (inst.state == Instance::State::kWaiting || inst.state == Instance::State::kWaitingEvent ||
        inst.state == Instance::State::kDeferredSend ||
        inst.state == Instance::State::kAwaitingGoal) {
      Schedule(ps, &inst, inst.timer_due);
    }
  }
  if (ps->segment_due != kTimeMax) ScheduleSegments(ps, ps->segment_due);
}

std::unique_ptr<ProfileState> Shard::Extract(const std::string& key) {
  auto it = index_.find(absl::string_view(key.data(), key.size()));
  if (it == index_.end()) return nullptr;
  uint32_t slot = it->second->slot;
  index_.erase(it);
  std::unique_ptr<ProfileState> ps = std::move(slots_[slot]);
  free_slots_.push_back(slot);
  if (ps->changed) {
    changed_.erase(std::find(changed_.begin(), changed_.end(), ps.get()));
    ps->changed = false;
  }
  return ps;
}

void Shard::Load(std::unique_ptr<ProfileState> state) {
  ++results_.counters.profiles;
  std::string key = state->profile.key;
  Adopt(key, std::move(state));
}

std::vector<ProfileState*> Shard::TakeChanged() {
  for (ProfileState* ps : changed_) ps->changed = false;
  return std::exchange(changed_, {});
}

void Shard::Absorb(ProfileState* ps, std::unique_ptr<ProfileState> other) {
  ++results_.counters.merges;
  ++results_.counters.absorbed;
  WM_TRACE(
      ps, "merge: profile " + Quote(other->profile.key) + " merged into " + Quote(ps->profile.key));
  ps->profile.MergeFrom(std::move(other->profile), config_->history);
  ps->sends.MergeFrom(other->sends);
  MergeEngaged(ps, other->engaged);
  for (const JourneyMemory& m : other->journeys) {
    JourneyMemory* mine = ps->Memory(m.journey_index, m.key);
    mine->entries += m.entries;
    mine->last_entered = std::max(mine->last_entered, m.last_entered);
    mine->control |= m.control;
    mine->converted |= m.converted;
  }
  for (Instance& inst : other->instances) {
    bool duplicate = false;
    for (const Instance& mine : ps->instances) {
      duplicate |= mine.active() && inst.active() && mine.journey->id == inst.journey->id &&
                   mine.key == inst.key;
    }
    if (duplicate) {
      // Both identities were already in this journey: keep the known profile's instance only.
      Bump(&StatsOf(inst).exits, "merged");
      WM_TRACE(ps, JourneyLabel(inst) + ": instance " + HexId(inst.id) +
                       " from the merged profile ends (already in this journey)");
      continue;
    }
    ps->instances.push_back(std::move(inst));
    Instance& moved = ps->instances.back();
    if (moved.state != Instance::State::kEnded && moved.state != Instance::State::kRunning) {
      Schedule(ps, &moved, moved.timer_due);
    }
  }
  if (ps->traced || other->traced || (options_.trace && options_.trace->Matches(ps->profile))) {
    std::vector<TraceEntry> merged;
    std::merge(other->trace.begin(), other->trace.end(), ps->trace.begin(), ps->trace.end(),
               std::back_inserter(merged),
               [](const TraceEntry& a, const TraceEntry& b) { return a.time < b.time; });
    ps->trace = std::move(merged);
    ps->traced = true;
  }
}

// ---- timers ----

void Shard::Schedule(ProfileState* ps, Instance* inst, Time due) {
  inst->timer_token = next_token_++;
  inst->timer_due = due;
  timers_.Push(due, ps->slot, ps->generation, inst->timer_token, Timer::Kind::kInstance);
}

void Shard::ScheduleSegments(ProfileState* ps, Time due) {
  ps->segment_token = next_token_++;
  ps->segment_due = due;
  timers_.Push(due, ps->slot, ps->generation, ps->segment_token, Timer::Kind::kSegments);
}

void Shard::AdvanceTo(Time t) {
  while (!timers_.empty() && timers_.next_due() <= t) {
    Timer timer = timers_.Pop();
    now_ = std::max(now_, timer.due);
    FireTimer(timer);
  }
  now_ = std::max(now_, t);
}

void Shard::FireTimer(const Timer& timer) {
  if (timer.slot >= slots_.size()) return;
  ProfileState* ps = slots_[timer.slot].get();
  if (ps == nullptr || ps->generation != timer.generation) return;  // moved or gone
  MarkChanged(ps);
  if (timer.kind == Timer::Kind::kSegments) {
    if (ps->segment_token != timer.token) return;
    ps->segment_due = kTimeMax;
    ++results_.counters.timers_fired;
    EvaluateSegments(ps, nullptr, /*all=*/true);
    RemoveEnded(ps);
    return;
  }
  for (size_t i = 0; i < ps->instances.size(); ++i) {
    Instance& inst = ps->instances[i];
    if (inst.timer_token != timer.token) continue;
    ++results_.counters.timers_fired;
    inst.timer_token = 0;
    const StepDef* step = inst.step >= 0 ? &inst.journey->steps[inst.step] : nullptr;
    switch (inst.state) {
      case Instance::State::kWaiting:
        WM_TRACE(ps, JourneyLabel(inst) + ": wait at " + Quote(step->id) + " is over");
        inst.step = step->next;
        break;
      case Instance::State::kWaitingEvent:
        WM_TRACE(ps, JourneyLabel(inst) + ": no " + Quote(step->wait_event) + " within " +
                         FormatDuration(step->wait) + " at " + Quote(step->id) + ", timed out");
        inst.step = step->on_timeout;
        break;
      case Instance::State::kDeferredSend:
        break;  // re-run the same send step
      case Instance::State::kAwaitingGoal:
        inst.state = Instance::State::kEnded;
        RemoveEnded(ps);
        return;
      default:
        return;
    }
    Instance::State prior = inst.state;
    inst.state = Instance::State::kRunning;
    if (prior == Instance::State::kDeferredSend) {
      // Resume the deferred send without counting a second visit of the step.
      if (!ExecuteSend(ps, &inst, *step, timer.due)) {
        RemoveEnded(ps);
        return;
      }
      inst.step = step->next;
    }
    Run(ps, i, timer.due);
    RemoveEnded(ps);
    return;
  }
}

// ---- events ----

void Shard::HandleEvent(const Event& e, const std::string& key,
                        std::unique_ptr<ProfileState> absorbed) {
  AdvanceTo(e.timestamp);
  ++results_.counters.events;
  ProfileState* ps = Lookup(key);
  if (absorbed != nullptr) {
    if (ps == nullptr) {
      Profile& p = absorbed->profile;
      if (std::find(p.anonymous_ids.begin(), p.anonymous_ids.end(), p.key) ==
          p.anonymous_ids.end()) {
        p.anonymous_ids.push_back(p.key);
      }
      p.key = key;
      ++results_.counters.merges;
      Adopt(key, std::move(absorbed));
      ps = Lookup(key);
    } else {
      Absorb(ps, std::move(absorbed));
    }
  }
  if (ps == nullptr) ps = Create(key);
  MarkChanged(ps);

  std::vector<std::string> changed;
  ps->profile.ApplyEvent(e, config_->history, cfg_.settings.purchase, &changed);
  if (!ps->traced && options_.trace != nullptr) ps->traced = options_.trace->Matches(ps->profile);
  if (ps->traced) {
    std::string what;
    switch (e.type) {
      case EventType::kIdentify:
        what = e.traits.ToJson();
        break;
      case EventType::kAlias:
        what = Quote(e.previous_id) + " -> " + Quote(e.user_id);
        break;
      case EventType::kGroup:
        what = Quote(e.group_id) + " " + e.traits.ToJson();
        break;
      default:
        what = e.properties.ToJson();
    }
    TraceLine(ps, "event " + std::string(EventTypeName(e.type)) +
                      (e.name.empty() ? "" : " " + Quote(e.name)) + " " + what +
                      (e.source.empty() ? "" : " (" + e.source + ")"));
  }

  if (options_.activity_limit > 0) {
    ActivityEntry a;
    a.time = e.timestamp;
    std::string_view type = EventTypeName(e.type);
    a.what.reserve(type.size() + 1 + e.name.size());
    a.what = type;
    if (!e.name.empty()) a.what.append(" ").append(e.name);
    a.id = e.message_id;
    NoteActivity(ps, std::move(a));
  }

  ApplyDeliveryEvent(ps, e, &changed);
  CheckInstances(ps, e);
  EvaluateSegments(ps, &e, /*all=*/!changed.empty());
  EnterOnEvent(ps, e, changed);
  RemoveEnded(ps);
}

void Shard::CheckInstances(ProfileState* ps, const Event& e) {
  std::string_view name = Profile::HistoryName(e);
  for (size_t i = 0; i < ps->instances.size(); ++i) {
    Instance* inst = &ps->instances[i];
    if (inst->state == Instance::State::kEnded) continue;
    const JourneyDef& j = *inst->journey;
    expr::EvalContext ctx = Context(*ps, &e, inst);

    if (j.has_goal && !inst->converted && name == j.goal_event &&
        e.timestamp <= inst->entered_at + j.goal_window) {
      bool held = j.goal_filter.Test(ctx);
      WM_TRACE_CONDITION(ps, (JourneyLabel(*inst) + ": goal filter"), j.goal_filter, ctx, held);
      if (held) {
        Convert(ps, inst, e);
        continue;
      }
    }
    if (!inst->active()) continue;
    bool exited = false;
    for (const JourneyDef::ExitRule& rule : j.exits) {
      if (name != rule.event) continue;
      bool held = rule.filter.Test(ctx);
      WM_TRACE_CONDITION(ps, (JourneyLabel(*inst) + ": exit rule " + Quote(rule.reason)),
                         rule.filter, ctx, held);
      if (held) {
        End(ps, inst, rule.reason);
        exited = true;
        break;
      }
    }
    if (exited) continue;
    if (inst->state == Instance::State::kWaitingEvent) {
      const StepDef& step = j.steps[inst->step];
      if (name != step.wait_event) continue;
      bool held = step.wait_filter.Test(ctx);
      WM_TRACE_CONDITION(ps, (JourneyLabel(*inst) + ": wait_for " + Quote(step.id) + " filter"),
                         step.wait_filter, ctx, held);
      if (!held) continue;
      inst->timer_token = 0;  // cancels the timeout
      inst->step = step.on_event;
      inst->state = Instance::State::kRunning;
      WM_TRACE(ps, JourneyLabel(*inst) + ": " + Quote(step.wait_event) + " arrived at " +
                       Quote(step.id));
      Run(ps, i, now_);
    }
  }
}

void Shard::EvaluateSegments(ProfileState* ps, const Event* e, bool all) {
  if (cfg_.segments.empty()) return;
  std::string_view name = e != nullptr ? Profile::HistoryName(*e) : std::string_view();
  auto affected = [&](uint32_t i) {
    if (all || e == nullptr || segment_always_[i]) return true;
    for (const HistoryPolicy::Rule& r : cfg_.segments[i].condition.history_needs()) {
      if (r.name == name) return true;
    }
    return false;
  };

  Time next = kTimeMax;
  std::shared_ptr<const Event> shared;
  for (uint32_t i = 0; i < cfg_.segments.size(); ++i) {
    if (!affected(i)) continue;
    const SegmentDef& seg = cfg_.segments[i];
    expr::EvalContext ctx = Context(*ps, nullptr, nullptr);
    ctx.next_change = &next;
    bool in = seg.condition.Test(ctx);
    if (in == (ps->segments[i] != 0)) continue;
    ps->segments[i] = in ? 1 : 0;
    if (in) {
      ++results_.counters.segment_entries;
    } else {
      ++results_.counters.segment_exits;
    }
    if (ps->traced) {
      // Explaining evaluates again, parts Test skipped among them: it must not move the
      // re-check time, or tracing a profile would change what the run does.
      expr::EvalContext explain = ctx;
      explain.next_change = nullptr;
      WM_TRACE(ps, std::string("segment ") + Quote(seg.id) + (in ? " entered" : " left") + " (" +
                       seg.condition.Explain(explain) + ")");
    }
    for (uint32_t j : in ? by_segment_enter_[i] : by_segment_exit_[i]) {
      TryEnter(ps, j, e, &shared);
    }
  }
  // Segment results that depend on time are re-checked when they next could change.
  if (next > now_ && next < ps->segment_due) ScheduleSegments(ps, next);
}

void Shard::EnterOnEvent(ProfileState* ps, const Event& e, const std::vector<std::string>& traits) {
  std::shared_ptr<const Event> shared;
  std::string_view name = Profile::HistoryName(e);
  auto it = by_event_.find(absl::string_view(name.data(), name.size()));
  if (it != by_event_.end()) {
    for (uint32_t j : it->second) TryEnter(ps, j, &e, &shared);
  }
  for (const std::string& t : traits) {
    for (const auto& [trait, j] : by_trait_) {
      if (trait == t) TryEnter(ps, j, &e, &shared);
    }
  }
}

void Shard::TryEnter(ProfileState* ps, uint32_t journey_index, const Event* trigger,
                     std::shared_ptr<const Event>* shared) {
  const std::shared_ptr<const JourneyDef>& jp = config_->journeys[journey_index];
  const JourneyDef& j = *jp;
  JourneyStats& stats = results_.journeys[journey_index];
  expr::EvalContext ctx = Context(*ps, trigger, nullptr);
  // `reason` is the report's category; `detail()` only goes to the trace, so it is called for
  // traced profiles only (skips are common: most events of a profile in a journey are one).
  auto skip = [&](const char* reason, const auto& detail) {
    Bump(&stats.skipped, reason);
    WM_TRACE(ps, "journey " + j.id + ": not entered, " + detail());
  };
  // Paused and archived journeys take no new entries; their running instances go on.
  switch (config_->StatusOf(journey_index)) {
    case JourneyStatus::kActive:
      break;
    case JourneyStatus::kPaused:
      return skip("paused", [] { return "the journey is paused"; });
    case JourneyStatus::kArchived:
      return skip("archived", [] { return "the journey is archived"; });
  }

  if (!j.entry_filter.empty()) {
    bool held = j.entry_filter.Test(ctx);
    WM_TRACE_CONDITION(ps, ("journey " + j.id + ": entry filter"), j.entry_filter, ctx, held);
    if (!held) {
      Bump(&stats.skipped, "filter");
      return;
    }
  }
  std::string key;
  if (!j.key.empty()) {
    key = j.key.EvalText(ctx);
    if (key.empty()) {
      return skip("no key", [&] { return "key " + Quote(j.key.text()) + " is missing"; });
    }
  }
  for (const Instance& inst : ps->instances) {
    if (inst.active() && inst.journey->id == j.id && inst.key == key) {
      return skip("already active", [&] {
        return "already active" + (key.empty() ? std::string() : " for key " + Quote(key));
      });
    }
  }
  JourneyMemory* mem = ps->Memory(journey_index, key);
  if (j.reentry == JourneyDef::Reentry::kNever && mem->entries > 0) {
    return skip("re-entry never",
                [] { return "re-entry is never and the profile entered before"; });
  }
  if (j.reentry == JourneyDef::Reentry::kCooldown && mem->entries > 0 &&
      now_ < mem->last_entered + j.cooldown) {
    return skip("re-entry cooldown", [&] {
      return "in re-entry cooldown until " + FormatIsoTime(mem->last_entered + j.cooldown);
    });
  }

  Instance inst;
  uint64_t id = Hash64(j.id, j.version);
  id = HashCombine(id, Hash64(ps->profile.key));
  id = HashCombine(id, Hash64(key));
  id = HashCombine(id, mem->entries);
  inst.id = id;
  inst.journey = jp;
  inst.journey_index = journey_index;
  inst.key = key;
  if (trigger != nullptr) {
    if (*shared == nullptr || !j.trigger_needs.all) {
      // Instances keep what conditions and templates can read of the trigger: its fields, and
      // of its properties only those the journey reads (all of them if any reader needs that).
      auto slim = std::make_shared<Event>();
      slim->type = trigger->type;
      slim->name = trigger->name;
      slim->user_id = trigger->user_id;
      slim->anonymous_id = trigger->anonymous_id;
      slim->message_id = trigger->message_id;
      slim->timestamp = trigger->timestamp;
      if (j.trigger_needs.all) {
        slim->properties = trigger->properties;
        slim->traits = trigger->traits;
      } else if (trigger->properties.is_object()) {
        slim->properties = Value::EmptyObject();
        for (const Value::Member& m : trigger->properties.as_object()) {
          if (j.trigger_needs.Wants(m.first)) slim->properties.Set(m.first, m.second);
        }
      }
      if (j.trigger_needs.all) {
        *shared = std::move(slim);
      } else {
        inst.trigger = std::move(slim);
      }
    }
    if (inst.trigger == nullptr) inst.trigger = *shared;
  }
  inst.entered_at = now_;
  mem->entries++;
  mem->last_entered = now_;
  stats.entered++;
  WM_TRACE(ps, "journey " + j.id + " v" + std::to_string(j.version) + ": entered" +
                   (key.empty() ? "" : " with key " + Quote(key)) + " (instance " + HexId(id) +
                   ")");
  ps->instances.push_back(std::move(inst));
  Run(ps, ps->instances.size() - 1, now_);
}

// ---- the step machine ----

void Shard::Run(ProfileState* ps, size_t instance_index, Time scheduled) {
  // Validation rejects cycles without a wait; the bound is a second line of defence.
  for (int guard = 0; guard < 10'000; ++guard) {
    Instance* inst = &ps->instances[instance_index];
    if (inst->state != Instance::State::kRunning) return;
    if (inst->step == kEnd) {
      Complete(ps, inst);
      return;
    }
    if (!Step(ps, inst, scheduled)) return;
    scheduled = now_;
  }
  Instance* inst = &ps->instances[instance_index];
  End(ps, inst, "step limit");
}

bool Shard::Step(ProfileState* ps, Instance* inst, Time scheduled) {
  const JourneyDef& j = *inst->journey;
  const StepDef& s = j.steps[inst->step];
  JourneyStats& stats = StatsOf(*inst);
  StepStats& ss = StepStatsOf(*inst, inst->step);
  ++inst->visits;
  ++ss.entered;
  const TimeZone* tz = ps->profile.tz ? ps->profile.tz : cfg_.settings.default_timezone;

  switch (s.kind) {
    case StepKind::kWait:
      inst->state = Instance::State::kWaiting;
      Schedule(ps, inst, now_ + s.wait);
      WM_TRACE(ps, JourneyLabel(*inst) + ": " + Quote(s.id) + " waits " + FormatDuration(s.wait) +
                       " until " + FormatIsoTime(inst->timer_due));
      return false;
    case StepKind::kWaitUntil: {
      inst->state = Instance::State::kWaiting;
      Schedule(ps, inst, NextLocalTime(now_, tz, s.local_minute, s.weekday_mask));
      WM_TRACE(ps, JourneyLabel(*inst) + ": " + Quote(s.id) + " waits until " +
                       FormatIsoTime(inst->timer_due) + " (local time in " +
                       std::string(tz->name()) + ")");
      return false;
    }
    case StepKind::kWaitFor:
      inst->state = Instance::State::kWaitingEvent;
      Schedule(ps, inst, now_ + s.wait);
      WM_TRACE(ps, JourneyLabel(*inst) + ": " + Quote(s.id) + " waits for " + Quote(s.wait_event) +
                       " until " + FormatIsoTime(inst->timer_due));
      return false;
    case StepKind::kBranch: {
      expr::EvalContext ctx = Context(*ps, nullptr, inst);
      int next = kEnd;
      std::string taken = "end";
      for (size_t b = 0; b < s.branches.size(); ++b) {
        const StepDef::Branch& br = s.branches[b];
        bool held = br.condition.Test(ctx);
        if (!br.condition.empty()) {
          WM_TRACE_CONDITION(ps, (JourneyLabel(*inst) + ": branch " + Quote(s.id) + " if"),
                             br.condition, ctx, held);
        }
        if (held) {
          next = br.next;
          taken = next == kEnd ? "end" : j.steps[next].id;
          break;
        }
      }
      Bump(&ss.arms, taken);
      WM_TRACE(ps, JourneyLabel(*inst) + ": branch " + Quote(s.id) + " -> " + Quote(taken));
      inst->step = next;
      return true;
    }
    case StepKind::kSplit: {
      uint64_t total = 0;
      for (const StepDef::Arm& a : s.arms) total += a.weight;
      uint64_t b = Bucket(ps->profile.key, j, s, total);
      int next = kEnd;
      std::string label;
      for (const StepDef::Arm& a : s.arms) {
        if (b < a.weight) {
          next = a.next;
          label = !a.label.empty() ? a.label : next == kEnd ? "end" : j.steps[next].id;
          break;
        }
        b -= a.weight;
      }
      Bump(&ss.arms, label);
      WM_TRACE(ps, JourneyLabel(*inst) + ": split " + Quote(s.id) + " -> " + Quote(label));
      inst->step = next;
      return true;
    }
    case StepKind::kHoldout: {
      bool control = Bucket(ps->profile.key, j, s, 10'000) < s.holdout_basis_points;
      if (control && !inst->control) {
        inst->control = true;
        ps->Memory(inst->journey_index, inst->key)->control = true;
        stats.entered_control++;
      }
      Bump(&ss.arms, control ? "control" : "treated");
      WM_TRACE(ps, JourneyLabel(*inst) + ": holdout " + Quote(s.id) + " -> " +
                       (control ? "control group (no messages)" : "treated"));
      inst->step = s.next;
      return true;
    }
    case StepKind::kSend:
      if (!ExecuteSend(ps, inst, s, scheduled)) return false;
      inst->step = s.next;
      return true;
    case StepKind::kUpdateProfile: {
      // TODO(journeys): traits set here do not fire trait_change triggers or re-evaluate
      // segments until the profile's next event; doing it here needs a guard against loops.
      for (const auto& [name, value] : s.set_traits) ps->profile.SetTrait(name, value);
      for (const std::string& name : s.unset_traits) ps->profile.UnsetTrait(name);
      WM_TRACE(ps, JourneyLabel(*inst) + ": " + Quote(s.id) + " updated the profile");
      inst->step = s.next;
      return true;
    }
    case StepKind::kWebhook: {
      if (inst->control) {
        ss.held_out++;
      } else {
        int webhook = cfg_.ChannelIndex("webhook");
        EmitMessage(ps, inst, s, webhook, s.webhook_url, now_);
      }
      inst->step = s.next;
      return true;
    }
    case StepKind::kExit:
      End(ps, inst, s.exit_reason);
      return false;
  }
  return false;
}

bool Shard::ExecuteSend(ProfileState* ps, Instance* inst, const StepDef& s, Time scheduled) {
  StepStats& ss = StepStatsOf(*inst, inst->step);
  if (inst->control) {
    ss.held_out++;
    WM_TRACE(ps, JourneyLabel(*inst) + ": send " + Quote(s.id) + " held out (control group)");
    return true;
  }
  if (s.max_lateness && now_ - scheduled > *s.max_lateness) {
    Suppress(ps, inst, s, SuppressReason::kTooLate,
             FormatDuration(now_ - scheduled) + " late, more than max_lateness " +
                 FormatDuration(*s.max_lateness));
    return true;
  }
  DispatchDecision d = policy_.Decide(ps->profile, ps->sends, s.channels, now_);
  if (ps->traced) {
    for (const ChannelCheck& c : d.checks) {
      if (c.reason != SuppressReason::kNone) {
        WM_TRACE(ps, JourneyLabel(*inst) + ": send " + Quote(s.id) + " channel " +
                         cfg_.channels[c.channel].id + " not usable: " +
                         std::string(SuppressReasonName(c.reason)) + " (" + c.detail + ")");
      }
    }
  }
  switch (d.kind) {
    case DispatchDecision::Kind::kDefer:
      ss.deferred++;
      inst->state = Instance::State::kDeferredSend;
      Schedule(ps, inst, d.defer_until);
      WM_TRACE(ps,
               JourneyLabel(*inst) + ": send " + Quote(s.id) + " deferred by quiet hours until " +
                   FormatIsoTime(d.defer_until) + " (end of quiet hours in " +
                   std::string(
                       (ps->profile.tz ? ps->profile.tz : cfg_.settings.default_timezone)->name()) +
                   ")");
      return false;
    case DispatchDecision::Kind::kSuppress:
      Suppress(ps, inst, s, d.reason, d.checks.empty() ? std::string() : d.checks.front().detail);
      return true;
    case DispatchDecision::Kind::kSend:
      EmitMessage(ps, inst, s, d.channel, d.to, now_);
      return true;
  }
  return true;
}

void Shard::EmitMessage(ProfileState* ps, Instance* inst, const StepDef& s, int channel,
                        const std::string& to, Time now) {
  const JourneyDef& j = *inst->journey;
  StepStats& ss = StepStatsOf(*inst, inst->step);
  uint64_t mid = HashCombine(HashCombine(inst->id, uint64_t(inst->step)), inst->visits);
  std::string id = HexId(mid);
  std::string promo = s.promo_code;
  if (!s.promo_prefix.empty()) {
    std::string code = HexId(Hash64(id, 0x9e3779b9)).substr(0, 8);
    for (char& c : code) c = char(std::toupper(static_cast<unsigned char>(c)));
    promo = s.promo_prefix + code;
  }
  const std::string& channel_id = cfg_.channels[channel].id;

  // Render every part first: a failure sends nothing. Without an outbox the text is only
  // checked, so it goes to a buffer reused from one send to the next.
  std::vector<std::pair<std::string, std::string>> parts;
  if (s.template_index >= 0) {
    const TemplateDef& tpl = cfg_.templates[s.template_index];
    Value vars = RenderVars(tpl, *ps, *inst, s, id, promo, channel);
    RenderOptions opts;
    opts.tz = ps->profile.tz ? ps->profile.tz : cfg_.settings.default_timezone;
    opts.now = now;
    thread_local std::string unkept;
    if (options_.keep_outbox) parts.reserve(tpl.parts.size());
    for (const auto& [name, t] : tpl.parts) {
      std::string kept;
      std::string& out = options_.keep_outbox ? kept : unkept;
      out.clear();
      Status st = t.Render(vars, opts, &out);
      if (!st.ok()) {
        Suppress(ps, inst, s, SuppressReason::kRenderError,
                 "template " + Quote(tpl.id) + " part " + name + ": " + st.message());
        return;
      }
      if (options_.keep_outbox) parts.emplace_back(name, std::move(kept));
    }
  }

  ps->sends.Add(now, channel);
  ps->sends.Prune(now, policy_.LongestCapWindow());
  Bump(&ss.sent, channel_id);
  if (s.kind == StepKind::kSend) inst->last_sent = SentMessage{inst->step, channel, id, now};
  ++results_.counters.messages;
  if (draining_) StatsOf(*inst).sent_after_data++;
  WM_TRACE(ps, JourneyLabel(*inst) + ": sent " + Quote(s.id) + " on " + channel_id + " (message " +
                   id + (promo.empty() ? "" : ", promo " + promo) + ")");
  if (options_.activity_limit > 0) {
    NoteActivity(ps,
                 ActivityEntry{ActivityEntry::Kind::kSent, now, channel_id, id, j.id, s.id, ""});
  }
  if (!options_.keep_outbox) return;

  std::string json = "{\"id\":\"" + id + "\",\"time\":\"" + FormatIsoTime(now) + "\",\"profile\":";
  AppendJsonString(ps->profile.key, &json);
  // Delivery and tracking address the profile by user id, or by anonymous id when it has none.
  if (ps->profile.user_id.empty()) json += ",\"anonymous\":true";
  json += ",\"journey\":";
  AppendJsonString(j.id, &json);
  json += ",\"version\":" + std::to_string(j.version) + ",\"step\":";
  AppendJsonString(s.id, &json);
  json += ",\"channel\":";
  AppendJsonString(channel_id, &json);
  if (!to.empty()) {
    json += s.kind == StepKind::kWebhook ? ",\"url\":" : ",\"to\":";
    AppendJsonString(to, &json);
  }
  if (s.template_index >= 0) {
    json += ",\"template\":";
    AppendJsonString(cfg_.templates[s.template_index].id, &json);
  }
  if (!promo.empty()) {
    json += ",\"promo_code\":";
    AppendJsonString(promo, &json);
  }
  for (const auto& [name, text] : parts) {
    json += ",";
    AppendJsonString(name, &json);
    json += ":";
    AppendJsonString(text, &json);
  }
  json += "}";
  results_.outbox.push_back(OutboxRecord{now, std::move(id), std::move(json)});
}

void Shard::Suppress(ProfileState* ps, Instance* inst, const StepDef& s, SuppressReason reason,
                     const std::string& detail) {
  const JourneyDef& j = *inst->journey;
  std::string_view name = SuppressReasonName(reason);
  Bump(&StepStatsOf(*inst, inst->step).suppressed, name);
  Bump(&results_.suppressed, name);
  WM_TRACE(ps, JourneyLabel(*inst) + ": send " + Quote(s.id) + " suppressed: " + std::string(name) +
                   (detail.empty() ? "" : " (" + detail + ")"));
  if (options_.activity_limit == 0 && !options_.keep_suppressions) return;
  std::string id = HexId(HashCombine(HashCombine(inst->id, uint64_t(inst->step)), inst->visits));
  if (options_.activity_limit > 0) {
    NoteActivity(ps, ActivityEntry{ActivityEntry::Kind::kSuppressed, now_, std::string(name), id,
                                   j.id, s.id, detail});
  }
  if (!options_.keep_suppressions) return;
  std::string json = "{\"time\":\"" + FormatIsoTime(now_) + "\",\"profile\":";
  AppendJsonString(ps->profile.key, &json);
  json += ",\"journey\":";
  AppendJsonString(j.id, &json);
  json += ",\"step\":";
  AppendJsonString(s.id, &json);
  json += ",\"reason\":\"";
  json += name;
  json += "\",\"detail\":";
  AppendJsonString(detail, &json);
  json += "}";
  results_.suppressions.push_back(OutboxRecord{now_, std::move(id), std::move(json)});
}

void Shard::Complete(ProfileState* ps, Instance* inst) {
  const JourneyDef& j = *inst->journey;
  StatsOf(*inst).completed++;
  Time deadline = inst->entered_at + j.goal_window;
  if (j.has_goal && !inst->converted && deadline >= now_) {
    inst->state = Instance::State::kAwaitingGoal;
    // The window includes its last instant: a goal event exactly at the deadline still counts,
    // and timers due at an instant fire before that instant's events.
    Schedule(ps, inst, deadline + Duration(1));
    WM_TRACE(ps, JourneyLabel(*inst) + ": completed; watching for goal " + Quote(j.goal_event) +
                     " until " + FormatIsoTime(deadline));
    return;
  }
  inst->state = Instance::State::kEnded;
  WM_TRACE(ps, JourneyLabel(*inst) + ": completed");
}

void Shard::End(ProfileState* ps, Instance* inst, const std::string& reason) {
  Bump(&StatsOf(*inst).exits, reason);
  if (inst->step >= 0 && size_t(inst->step) < inst->journey->steps.size()) {
    Bump(&StepStatsOf(*inst, inst->step).exited, reason);
  }
  inst->state = Instance::State::kEnded;
  inst->timer_token = 0;
  WM_TRACE(ps, JourneyLabel(*inst) + ": exited (" + reason + ")");
}

void Shard::Convert(ProfileState* ps, Instance* inst, const Event& goal) {
  JourneyStats& stats = StatsOf(*inst);
  inst->converted = true;
  ps->Memory(inst->journey_index, inst->key)->converted = true;
  double revenue = 0;
  for (const std::string& prop : cfg_.settings.purchase.revenue_properties) {
    const Value* v = goal.properties.Find(prop);
    if (v != nullptr && v->is_number()) {
      revenue = v->as_number();
      break;
    }
  }
  std::string why = "control group: it sent nothing";
  int credited = kEnd;
  if (inst->control) {
    stats.converted_control++;
    stats.revenue_control += revenue;
  } else {
    stats.converted++;
    stats.revenue += revenue;
    credited = Attribute(*inst, goal.timestamp, &why);
  }
  if (credited != kEnd && size_t(credited) < inst->journey->steps.size()) {
    stats.attributed++;
    StepStats& ss = StepStatsOf(*inst, credited);
    ss.converted++;
    ss.revenue += revenue;
  }
  WM_TRACE(ps, JourneyLabel(*inst) + ": goal " + Quote(inst->journey->goal_event) + " reached" +
                   (inst->control ? " (control group)" : ""));
  WM_TRACE(ps, JourneyLabel(*inst) + ": conversion credited to " +
                   (credited == kEnd ? std::string("no step")
                                     : "step " + Quote(inst->journey->steps[credited].id)) +
                   " (" + why + ")");
  if (inst->active()) {
    End(ps, inst, "goal");
  } else {
    inst->state = Instance::State::kEnded;
    inst->timer_token = 0;
  }
}

void Shard::RemoveEnded(ProfileState* ps) {
  std::erase_if(ps->instances,
                [](const Instance& i) { return i.state == Instance::State::kEnded; });
  // Most profiles go quiet once their journeys end; their empty instance buffers (120 bytes an
  // instance) were a fifth of the memory of a long replay.
  if (ps->instances.empty() && ps->instances.capacity() > 0) {
    std::vector<Instance>().swap(ps->instances);
  }
}

void Shard::Finish(Time until, Time data_end) {
  AdvanceTo(std::min(until, data_end));
  for (const auto& slot : slots_) {
    if (slot == nullptr) continue;
    for (const Instance& inst : slot->instances) {
      const JourneyDef& j = *inst.journey;
      if (inst.state != Instance::State::kEnded && j.has_goal && !inst.converted &&
          inst.entered_at + j.goal_window > data_end) {
        results_.journeys[inst.journey_index].goal_unobserved++;
      }
    }
  }
  draining_ = true;
  AdvanceTo(until);
  for (const auto& slot : slots_) {
    if (slot == nullptr) continue;
    for (const Instance& inst : slot->instances) {
      if (inst.active()) results_.journeys[inst.journey_index].active++;
    }
    CountCustomers(*slot, &results_.journeys);
    if (slot->traced) results_.traces.emplace_back(slot->profile.key, slot->trace);
  }
}

// ---- helpers ----

std::vector<JourneyStats> Shard::LiveStats() const {
  std::vector<JourneyStats> out = results_.journeys;
  for (const auto& slot : slots_) {
    if (slot == nullptr) continue;
    for (const Instance& inst : slot->instances) {
      if (inst.active()) out[inst.journey_index].active++;
    }
    CountCustomers(*slot, &out);
  }
  return out;
}

size_t Shard::instance_count() const {
  size_t n = 0;
  for (const auto& slot : slots_) {
    if (slot != nullptr) n += slot->instances.size();
  }
  return n;
}

void Shard::NoteActivity(ProfileState* ps, ActivityEntry entry) {
  bool is_event = entry.kind == ActivityEntry::Kind::kEvent;
  size_t same = 0;
  for (const ActivityEntry& a : ps->activity)
    same += (a.kind == ActivityEntry::Kind::kEvent) == is_event;
  if (same >= options_.activity_limit) {
    auto oldest =
        std::find_if(ps->activity.begin(), ps->activity.end(), [&](const ActivityEntry& a) {
          return (a.kind == ActivityEntry::Kind::kEvent) == is_event;
        });
    if (oldest != ps->activity.end()) ps->activity.erase(oldest);
  }
  ps->activity.push_back(std::move(entry));
}

void Shard::CountCustomers(const ProfileState& ps, std::vector<JourneyStats>* journeys) {
  // A profile counts once per journey: in control if any of its entries was, converted if any
  // of its entries reached the goal. Memories are few per profile; a quadratic scan is fine.
  for (size_t i = 0; i < ps.journeys.size(); ++i) {
    uint32_t journey = ps.journeys[i].journey_index;
    bool first = true;
    for (size_t k = 0; k < i; ++k) first &= ps.journeys[k].journey_index != journey;
    if (!first) continue;
    bool control = false, converted = false;
    for (const JourneyMemory& m : ps.journeys) {
      if (m.journey_index != journey) continue;
      control |= m.control;
      converted |= m.converted;
    }
    JourneyStats& st = (*journeys)[journey];
    if (control) {
      st.customers_control++;
      st.customers_converted_control += converted ? 1 : 0;
    } else {
      st.customers++;
      st.customers_converted += converted ? 1 : 0;
    }
  }
}

expr::EvalContext Shard::Context(const ProfileState& ps, const Event* e,
                                 const Instance* inst) const {
  expr::EvalContext ctx;
  ctx.profile = &ps.profile;
  ctx.event = e;
  ctx.now = now_;
  ctx.segments = &ps.segments;
  if (inst != nullptr) {
    ctx.trigger = inst->trigger.get();
    ctx.entered_at = inst->entered_at;
    ctx.last_message = LastMessageView(*inst);
  }
  return ctx;
}

Value Shard::RenderVars(const TemplateDef& tpl, const ProfileState& ps, const Instance& inst,
                        const StepDef& step, const std::string& message_id,
                        const std::string& promo, int channel) const {
  Value vars = Value::EmptyObject();
  vars.as_object().reserve(4);  // profile, event, message, journey
  if (tpl.profile.any) vars.Set("profile", ProfileVars(ps.profile, tpl.profile));
  if (tpl.event.any) vars.Set("event", EventVars(inst.trigger.get(), tpl.event));
  if (tpl.message.any) {
    Value message = Value::EmptyObject();
    message.Set("id", message_id);
    message.Set("channel", cfg_.channels[channel].id);
    if (!promo.empty()) message.Set("promo_code", promo);
    if (tpl.message.Wants("unsubscribe_url")) {
      message.Set("unsubscribe_url", std::string(kUnsubscribeUrlPlaceholder));
    }
    vars.Set("message", std::move(message));
  }
  if (tpl.journey.any) {
    Value journey = Value::EmptyObject();
    journey.Set("id", inst.journey->id);
    journey.Set("name", inst.journey->name);
    journey.Set("version", double(inst.journey->version));
    journey.Set("step", step.id);
    vars.Set("journey", std::move(journey));
  }
  return vars;
}

Value Shard::ProfileVars(const Profile& p, const VariableNeeds& needs) {
  // Traits first, then computed attributes over them (as conditions see profile.<name>).
  Value profile = Value::EmptyObject();
  if (needs.all) {
    profile = p.traits;
  } else if (p.traits.is_object()) {
    for (const Value::Member& m : p.traits.as_object()) {
      if (needs.Wants(m.first)) profile.Set(m.first, m.second);
    }
  }
  auto set = [&](std::string_view name, auto make) {
    if (needs.Wants(name)) profile.Set(name, make());
  };
  set("id", [&] { return Value(p.key); });
  if (!p.user_id.empty()) set("user_id", [&] { return Value(p.user_id); });
  set("event_count", [&] { return Value(double(p.event_count)); });
  set("order_count", [&] { return Value(double(p.order_count)); });
  set("revenue", [&] { return Value(p.revenue); });
  if (p.first_seen != kTimeMax)
    set("first_seen", [&] { return Value(FormatIsoTime(p.first_seen)); });
  if (p.last_seen != kTimeMin) set("last_seen", [&] { return Value(FormatIsoTime(p.last_seen)); });
  if (p.last_order_at != kTimeMin) {
    set("last_order_at", [&] { return Value(FormatIsoTime(p.last_order_at)); });
  }
  return profile;
}

Value Shard::EventVars(const Event* trigger, const VariableNeeds& needs) {
  Value event = Value::EmptyObject();
  if (trigger == nullptr) return event;
  const Value& props = trigger->properties;
  if (needs.all) {
    if (props.is_object()) event = props;
  } else if (props.is_object()) {
    for (const Value::Member& m : props.as_object()) {
      if (needs.Wants(m.first)) event.Set(m.first, m.second);
    }
  }
  if (needs.Wants("name")) event.Set("name", trigger->name);
  if (needs.Wants("timestamp")) event.Set("timestamp", FormatIsoTime(trigger->timestamp));
  if (needs.Wants("properties")) {
    event.Set("properties", props.is_object() ? props : Value::EmptyObject());
  }
  return event;
}

void Shard::TraceLine(ProfileState* ps, std::string text) {
  if (!ps->traced) return;
  ps->trace.push_back(TraceEntry{now_, std::move(text)});
}

void Shard::TraceConditionLine(ProfileState* ps, const std::string& what, const expr::Expr& e,
                               const expr::EvalContext& ctx, bool held) {
  if (!ps->traced || e.empty()) return;
  WM_TRACE(ps, std::string(what) + " `" + e.text() + "` " + (held ? "held" : "failed") + " (" +
                   e.Explain(ctx) + ")");
}

}  // namespace waymark
