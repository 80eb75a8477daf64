#include "engine/stats.h"

namespace waymark {

namespace {
void AddMap(Counts* to, const Counts& from) {
  for (const auto& [k, v] : from) Bump(to, k, v);
}
}  // namespace

void StepStats::Add(const StepStats& o) {
  entered += o.entered;
  AddMap(&sent, o.sent);
  AddMap(&suppressed, o.suppressed);
  held_out += o.held_out;
  deferred += o.deferred;
  AddMap(&arms, o.arms);
  AddMap(&exited, o.exited);
  opened += o.opened;
  clicked += o.clicked;
  unique_opened += o.unique_opened;
  unique_clicked += o.unique_clicked;
  converted += o.converted;
  revenue += o.revenue;
}

void JourneyStats::Add(const JourneyStats& o) {
  entered += o.entered;
  entered_control += o.entered_control;
  completed += o.completed;
  active += o.active;
  converted += o.converted;
  converted_control += o.converted_control;
  customers += o.customers;
  customers_control += o.customers_control;
  customers_converted += o.customers_converted;
  customers_converted_control += o.customers_converted_control;
  sent_after_data += o.sent_after_data;
  goal_unobserved += o.goal_unobserved;
  revenue += o.revenue;
  revenue_control += o.revenue_control;
  attributed += o.attributed;
  engagement_unmatched += o.engagement_unmatched;
  AddMap(&exits, o.exits);
  AddMap(&skipped, o.skipped);
  for (size_t i = 0; i < o.steps.size(); ++i) steps[StepSlot(o.step_ids[i])].Add(o.steps[i]);
}

size_t JourneyStats::StepSlot(std::string_view id) {
  for (size_t i = 0; i < step_ids.size(); ++i) {
    if (step_ids[i] == id) return i;
  }
  step_ids.emplace_back(id);
  steps.emplace_back();
  return steps.size() - 1;
}

const StepStats* JourneyStats::FindStep(std::string_view id) const {
  for (size_t i = 0; i < step_ids.size(); ++i) {
    if (step_ids[i] == id) return &steps[i];
  }
  return nullptr;
}

void EngineCounters::Add(const EngineCounters& o) {
  events += o.events;
  duplicates += o.duplicates;
  profiles += o.profiles;
  merges += o.merges;
  absorbed += o.absorbed;
  timers_fired += o.timers_fired;
  messages += o.messages;
  segment_entries += o.segment_entries;
  segment_exits += o.segment_exits;
  engagement_unmatched += o.engagement_unmatched;
}

namespace {

template <typename T>
struct Field {
  const char* name;
  uint64_t T::*member;
};

constexpr Field<StepStats> kStepFields[] = {
    {"entered", &StepStats::entered},
    {"held_out", &StepStats::held_out},
    {"deferred", &StepStats::deferred},
    {"opened", &StepStats::opened},
    {"clicked", &StepStats::clicked},
    {"unique_opened", &StepStats::unique_opened},
    {"unique_clicked", &StepStats::unique_clicked},
    {"converted", &StepStats::converted},
};
constexpr std::pair<const char*, double StepStats::*> kStepAmounts[] = {
    {"revenue", &StepStats::revenue},
};
constexpr std::pair<const char*, Counts StepStats::*> kStepMaps[] = {
    {"sent", &StepStats::sent},
    {"suppressed", &StepStats::suppressed},
    {"arms", &StepStats::arms},
    {"exited", &StepStats::exited},
};
constexpr Field<JourneyStats> kJourneyFields[] = {
    {"entered", &JourneyStats::entered},
    {"entered_control", &JourneyStats::entered_control},
    {"completed", &JourneyStats::completed},
    {"converted", &JourneyStats::converted},
    {"converted_control", &JourneyStats::converted_control},
    {"attributed", &JourneyStats::attributed},
    {"engagement_unmatched", &JourneyStats::engagement_unmatched},
};
constexpr std::pair<const char*, double JourneyStats::*> kJourneyAmounts[] = {
    {"revenue", &JourneyStats::revenue},
    {"revenue_control", &JourneyStats::revenue_control},
};
constexpr std::pair<const char*, Counts JourneyStats::*> kJourneyMaps[] = {
    {"exits", &JourneyStats::exits},
    {"skipped", &JourneyStats::skipped},
};
constexpr Field<EngineCounters> kCounterFields[] = {
    {"events", &EngineCounters::events},
    {"duplicates", &EngineCounters::duplicates},
    {"merges", &EngineCounters::merges},
    {"absorbed", &EngineCounters::absorbed},
    {"timers_fired", &EngineCounters::timers_fired},
    {"messages", &EngineCounters::messages},
    {"segment_entries", &EngineCounters::segment_entries},
    {"segment_exits", &EngineCounters::segment_exits},
    {"engagement_unmatched", &EngineCounters::engagement_unmatched},
};

Value CountsToValue(const Counts& c) {
  Value v = Value::EmptyObject();
  for (const auto& [k, n] : c) v.as_object().emplace_back(k, Value(int64_t(n)));
  return v;
}

template <typename T, size_t N>
void PutFields(const T& from, const Field<T> (&fields)[N], Value* out) {
  for (const Field<T>& f : fields) out->Set(f.name, Value(int64_t(from.*f.member)));
}

// A counter: a non-negative integer below 2^53 (what a double holds exactly).
Status ReadCount(const Value* v, std::string_view field, uint64_t* out) {
  if (v == nullptr) return Status::Ok();
  if (!v->is_number() || v->as_number() < 0 || v->as_number() > 9007199254740992.0 ||
      v->as_number() != double(uint64_t(v->as_number()))) {
    return Status::Parse("stats: field '" + std::string(field) + "' is not a count");
  }
  *out += uint64_t(v->as_number());
  return Status::Ok();
}

Status AddCounts(const Value* v, std::string_view field, Counts* out) {
  if (v == nullptr) return Status::Ok();
  if (!v->is_object())
    return Status::Parse("stats: field '" + std::string(field) + "' is not an object");
  for (const auto& [k, n] : v->as_object()) {
    uint64_t add = 0;
    WAYMARK_RETURN_IF_ERROR(ReadCount(&n, std::string(field) + "." + k, &add));
    Bump(out, k, add);
  }
  return Status::Ok();
}

template <typename T, size_t N>
Status AddFields(const Value& v, const Field<T> (&fields)[N], T* out) {
  for (const Field<T>& f : fields) {
    WAYMARK_RETURN_IF_ERROR(ReadCount(v.Find(f.name), f.name, &(out->*f.member)));
  }
  return Status::Ok();
}

template <typename T, size_t N>
Status AddAmounts(const Value& v, const std::pair<const char*, double T::*> (&amounts)[N], T* out) {
  for (const auto& [name, member] : amounts) {
    const Value* amount = v.Find(name);
    if (amount == nullptr) continue;
    if (!amount->is_number())
      return Status::Parse("stats: field '" + std::string(name) + "' is not a number");
    out->*member += amount->as_number();
  }
  return Status::Ok();
}

}  // namespace

Value JourneyStatsToValue(const JourneyStats& s) {
  Value v = Value::EmptyObject();
  PutFields(s, kJourneyFields, &v);
  for (const auto& [name, member] : kJourneyAmounts) v.Set(name, Value(s.*member));
  for (const auto& [name, member] : kJourneyMaps) v.Set(name, CountsToValue(s.*member));
  Value::List steps;
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const StepStats& st = s.steps[i];
    Value step = Value::EmptyObject();
    step.Set("id", s.step_ids[i]);
    PutFields(st, kStepFields, &step);
    for (const auto& [name, member] : kStepAmounts) step.Set(name, Value(st.*member));
    for (const auto& [name, member] : kStepMaps) step.Set(name, CountsToValue(st.*member));
    steps.push_back(std::move(step));
  }
  v.Set("steps", Value(std::move(steps)));
  return v;
}

Status AddJourneyStatsFromValue(const Value& v, JourneyStats* out) {
  if (!v.is_object()) return Status::Parse("stats: journey counters are not an object");
  WAYMARK_RETURN_IF_ERROR(AddFields(v, kJourneyFields, out));
  WAYMARK_RETURN_IF_ERROR(AddAmounts(v, kJourneyAmounts, out));
  for (const auto& [name, member] : kJourneyMaps) {
    WAYMARK_RETURN_IF_ERROR(AddCounts(v.Find(name), name, &(out->*member)));
  }
  const Value* steps = v.Find("steps");
  if (steps == nullptr) return Status::Ok();
  if (!steps->is_list()) return Status::Parse("stats: field 'steps' is not a list");
  const Value::List& list = steps->as_list();
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object())
      return Status::Parse("stats: step " + std::to_string(i) + " is not an object");
    const Value* id = list[i].Find("id");
    if (id != nullptr && (!id->is_string() || id->as_string().empty())) {
      return Status::Parse("stats: step " + std::to_string(i) + " has a bad id");
    }
    StepStats& into =
        out->steps[out->StepSlot(id != nullptr ? id->as_string() : "#" + std::to_string(i))];
    WAYMARK_RETURN_IF_ERROR(AddFields(list[i], kStepFields, &into));
    WAYMARK_RETURN_IF_ERROR(AddAmounts(list[i], kStepAmounts, &into));
    for (const auto& [name, member] : kStepMaps) {
      WAYMARK_RETURN_IF_ERROR(AddCounts(list[i].Find(name), name, &(into.*member)));
    }
  }
  return Status::Ok();
}

void NamePositionalSteps(const std::vector<std::string>& ids, JourneyStats* s) {
  JourneyStats named;
  for (size_t i = 0; i < s->steps.size(); ++i) {
    std::string_view id = s->step_ids[i];
    if (!id.empty() && id[0] == '#') {
      size_t position = std::stoul(std::string(id.substr(1)));
      if (position >= ids.size()) continue;
      id = ids[position];
    }
    named.steps[named.StepSlot(id)].Add(s->steps[i]);
  }
  s->step_ids = std::move(named.step_ids);
  s->steps = std::move(named.steps);
}

Value EngineCountersToValue(const EngineCounters& c) {
  Value v = Value::EmptyObject();
  PutFields(c, kCounterFields, &v);
  return v;
}

Status AddEngineCountersFromValue(const Value& v, EngineCounters* out) {
  if (!v.is_object()) return Status::Parse("stats: engine counters are not an object");
  return AddFields(v, kCounterFields, out);
}

}  // namespace waymark
