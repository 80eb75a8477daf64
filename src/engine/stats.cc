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
  AddMap(&exits, o.exits);
  AddMap(&skipped, o.skipped);
  if (steps.size() < o.steps.size()) steps.resize(o.steps.size());
  for (size_t i = 0; i < o.steps.size(); ++i) steps[i].Add(o.steps[i]);
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
}

}  // namespace waymark
