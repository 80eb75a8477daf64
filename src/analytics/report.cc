#include "analytics/report.h"

#include <cstdio>

#include "analytics/lift.h"

namespace waymark {

namespace {

std::string Num(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

std::string Pct(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", rate * 100);
  return buf;
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return Num(n) + " " + (n == 1 ? one : many);
}

std::string Money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  size_t dot = s.find('.');
  int start = s[0] == '-' ? 1 : 0;
  for (int i = int(dot) - 3; i > start; i -= 3) s.insert(size_t(i), ",");
  return s;
}

bool HasHoldout(const JourneyDef& j) {
  for (const StepDef& s : j.steps)
    if (s.kind == StepKind::kHoldout) return true;
  return false;
}

// Treated conversions no step was credited with. Counters read back from storage could in
// principle disagree; never wrap around.
uint64_t Unattributed(const JourneyStats& st) {
  return st.converted > st.attributed ? st.converted - st.attributed : 0;
}

std::string Rate(uint64_t n, uint64_t d) {
  return Num(n) + " / " + Num(d) + " = " +
         (d == 0 ? std::string("n/a") : Pct(double(n) / double(d)));
}

std::string Points(double diff) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%+.1f pp", diff * 100);
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string CountsText(const Counts& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k + " " + Num(v);
  return out.empty() ? "none" : out;
}

void AppendStep(const StepDef& s, const StepStats& st, std::string* out) {
  char head[160];
  std::snprintf(head, sizeof(head), "    %-22s %-14s entered %s", s.id.c_str(),
                std::string(StepKindName(s.kind)).c_str(), Num(st.entered).c_str());
  *out += head;
  if (!st.sent.empty()) *out += "; sent " + CountsText(st.sent);
  if (!st.suppressed.empty()) *out += "; suppressed " + CountsText(st.suppressed);
  if (st.held_out > 0) *out += "; held out " + Num(st.held_out);
  if (st.deferred > 0) *out += "; deferred by quiet hours " + Num(st.deferred);
  if (!st.arms.empty()) *out += "; -> " + CountsText(st.arms);
  if (!st.exited.empty()) *out += "; exited here " + CountsText(st.exited);
  if (st.opened > 0)
    *out += "; opened " + Num(st.opened) + " (" + Num(st.unique_opened) + " unique)";
  if (st.clicked > 0) {
    *out += "; clicked " + Num(st.clicked) + " (" + Num(st.unique_clicked) + " unique)";
  }
  if (st.converted > 0) {
    *out += "; credited " + Plural(st.converted, "conversion", "conversions");
    if (st.revenue != 0) *out += ", revenue " + Money(st.revenue);
  }
  *out += "\n";
}

void AppendGoal(const JourneyDef& j, const JourneyStats& st, std::string* out) {
  if (!j.has_goal) return;
  uint64_t treated = st.entered - st.entered_control;
  *out += "  goal: " + j.goal_event + " within " + FormatDuration(j.goal_window) + " of entry\n";
  *out += "    treated  instances " + Rate(st.converted, treated) + "; customers " +
          Rate(st.customers_converted, st.customers);
  if (st.revenue > 0) *out += "; revenue " + Money(st.revenue);
  *out += "\n";
  *out += "    credit   " + Num(st.attributed) + " attributed to a step, " + Num(Unattributed(st)) +
          " unattributed (attribution " + std::string(AttributionName(j.attribution)) +
          ", clicks within " + FormatDuration(j.ClickWindow()) + ")\n";
  if (!HasHoldout(j)) {
    *out += "    control  none (add a holdout step to measure lift)\n";
    return;
  }
  *out += "    control  instances " + Rate(st.converted_control, st.entered_control) +
          "; customers " + Rate(st.customers_converted_control, st.customers_control);
  if (st.revenue_control > 0) *out += "; revenue " + Money(st.revenue_control);
  *out += "\n";
  // Customers are the independent unit: one customer's repeated entries share their behaviour.
  Lift lift = ComputeLift(st.customers_converted, st.customers, st.customers_converted_control,
                          st.customers_control);
  if (lift.has_control) {
    *out += "    difference " + Points(lift.difference) + " per customer (95% CI " +
            Points(lift.difference_ci.low) + " to " + Points(lift.difference_ci.high) + ")\n";
  } else {
    *out += "    difference n/a (needs customers in both groups)\n";
  }
  if (st.goal_unobserved > 0) {
    *out += "    " + Plural(st.goal_unobserved, "goal window was", "goal windows were") +
            " still open at the last event: the data cannot show those conversions\n";
  }
}

}  // namespace

std::string FormatReportText(const Config& config, const EngineResults& r, const RunInfo& run) {
  std::string out = "Waymark replay report\n";
  for (const std::string& in : run.inputs) out += "  input      " + in + "\n";
  if (!run.mapping.empty()) out += "  mapping    " + run.mapping + "\n";
  out += "  events     " + Num(run.events_read) + " read from " + Plural(run.rows, "row", "rows") +
         ", " + Plural(r.counters.duplicates, "duplicate", "duplicates") + " dropped, " +
         Plural(run.bad_rows, "bad row", "bad rows") +
         (run.late > 0 ? ", " + Num(run.late) + " late (dropped: older than the reorder window)"
                       : "") +
         "\n";
  for (const std::string& bad : run.bad_examples) out += "             bad row " + bad + "\n";
  if (run.bad_rows > run.bad_examples.size()) {
    out += "             (the first " + Num(run.bad_examples.size()) + " of " + Num(run.bad_rows) +
           " shown)\n";
  }
  out += "  profiles   " + Num(r.counters.profiles) + " (" +
         Plural(r.counters.merges, "anonymous profile", "anonymous profiles") +
         " linked to a user id)\n";
  if (run.first_event != kTimeMax) {
    out += "  time span  " + FormatIsoTime(run.first_event) + " to " +
           FormatIsoTime(run.last_event) + "; timers ran to " + FormatIsoTime(run.until) + "\n";
  }
  out += "  order      " + run.ordering + "\n";
  out +=
      "  note       a replay shows what the journeys would have sent; the customers' later\n"
      "             behaviour is history that never saw those messages, so treated vs control\n"
      "             here checks the split (expect no real difference) rather than measuring\n"
      "             what the messages earned; view-through credit to a step likewise\n"
      "             credits messages nobody received\n";
  double eps = run.wall_seconds > 0 ? double(r.counters.events) / run.wall_seconds : 0;
  out += "  run        " + std::to_string(run.shards) + " shard(s), " + Fixed(run.wall_seconds, 3) +
         " s wall, " + Num(uint64_t(eps)) + " events/s\n";

  for (size_t i = 0; i < config.journeys.size(); ++i) {
    const JourneyDef& j = *config.journeys[i];
    const JourneyStats& st = r.journeys[i];
    out += "\nJourney " + j.name + " (" + j.id + " v" + std::to_string(j.version) +
           (j.stage.empty() ? "" : ", " + j.stage) + ")\n";
    out += "  entered " + Num(st.entered) + " (control " + Num(st.entered_control) + "), active " +
           Num(st.active) + ", completed " + Num(st.completed) + "\n";
    out += "  exited: " + CountsText(st.exits) + "\n";
    if (!st.skipped.empty()) {
      out += "  trigger events that did not start an instance: " + CountsText(st.skipped) + "\n";
    }
    if (st.engagement_unmatched > 0) {
      out += "  " + Plural(st.engagement_unmatched, "open or click", "opens and clicks") +
             " named a step this journey does not have\n";
    }
    if (st.sent_after_data > 0) {
      out += "  " + Plural(st.sent_after_data, "message", "messages") +
             " sent after the last input event (timers kept running to " +
             FormatIsoTime(run.until) + ")\n";
    }
    AppendGoal(j, st, &out);
    out += "  steps:\n";
    for (const StepDef& step : j.steps) {
      const StepStats* ss = st.FindStep(step.id);
      AppendStep(step, ss != nullptr ? *ss : StepStats{}, &out);
    }
  }

  Counts by_channel;
  for (const JourneyStats& st : r.journeys) {
    for (const StepStats& s : st.steps) {
      for (const auto& [ch, n] : s.sent) Bump(&by_channel, ch, n);
    }
  }
  out += "\nTotals\n";
  out += "  messages   " + Num(r.counters.messages) + " (" + CountsText(by_channel) + ")\n";
  out += "  suppressed " + CountsText(r.suppressed) + "\n";
  out += "  segments   " + Num(r.counters.segment_entries) + " entries, " +
         Num(r.counters.segment_exits) + " exits\n";
  out += "  timers     " + Num(r.counters.timers_fired) + " fired\n";
  if (r.counters.engagement_unmatched > 0) {
    out += "  engagement " +
           Plural(r.counters.engagement_unmatched, "open or click", "opens and clicks") +
           " named no configured journey (not counted on any step)\n";
  }
  return out;
}

namespace {

void Key(std::string* out, const char* k) {
  AppendJsonString(k, out);
  out->push_back(':');
}

void MapJson(const Counts& m, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(k, out);
    *out += ":" + std::to_string(v);
  }
  out->push_back('}');
}

}  // namespace

std::string FormatReportJson(const Config& config, const EngineResults& r, const RunInfo& run) {
  std::string out = "{";
  Key(&out, "run");
  out += "{";
  Key(&out, "inputs");
  out += "[";
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    if (i) out += ",";
    AppendJsonString(run.inputs[i], &out);
  }
  out += "],";
  Key(&out, "rows");
  out += std::to_string(run.rows) + ",";
  Key(&out, "events_read");
  out += std::to_string(run.events_read) + ",";
  Key(&out, "events_processed");
  out += std::to_string(r.counters.events) + ",";
  Key(&out, "duplicates");
  out += std::to_string(r.counters.duplicates) + ",";
  Key(&out, "bad_rows");
  out += std::to_string(run.bad_rows) + ",";
  Key(&out, "bad_row_examples");
  out += "[";
  for (size_t i = 0; i < run.bad_examples.size(); ++i) {
    if (i) out += ",";
    AppendJsonString(run.bad_examples[i], &out);
  }
  out += "],";
  Key(&out, "late");
  out += std::to_string(run.late) + ",";
  Key(&out, "profiles");
  out += std::to_string(r.counters.profiles) + ",";
  Key(&out, "merges");
  out += std::to_string(r.counters.merges) + ",";
  Key(&out, "shards");
  out += std::to_string(run.shards) + ",";
  Key(&out, "wall_seconds");
  out += Fixed(run.wall_seconds, 6) + ",";
  Key(&out, "events_per_second");
  out += Fixed(run.wall_seconds > 0 ? double(r.counters.events) / run.wall_seconds : 0, 0) + ",";
  Key(&out, "messages");
  out += std::to_string(r.counters.messages) + ",";
  Key(&out, "suppressed");
  MapJson(r.suppressed, &out);
  out += ",";
  Key(&out, "engagement_unmatched");
  out += std::to_string(r.counters.engagement_unmatched);
  out += "},";

  Key(&out, "journeys");
  AppendJourneysJson(config, r.journeys, &out);
  out += "}\n";
  return out;
}

void AppendJourneysJson(const Config& config, const std::vector<JourneyStats>& journeys,
                        std::string* out_ptr) {
  std::string& out = *out_ptr;
  out += "[";
  static const JourneyStats kNone;
  for (size_t i = 0; i < config.journeys.size(); ++i) {
    const JourneyDef& j = *config.journeys[i];
    const JourneyStats& st = i < journeys.size() ? journeys[i] : kNone;
    if (i) out += ",";
    out += "{";
    Key(&out, "id");
    AppendJsonString(j.id, &out);
    out += ",";
    Key(&out, "name");
    AppendJsonString(j.name, &out);
    out += ",\"version\":" + std::to_string(j.version);
    out += ",\"entered\":" + std::to_string(st.entered);
    out += ",\"entered_control\":" + std::to_string(st.entered_control);
    out += ",\"active\":" + std::to_string(st.active);
    out += ",\"completed\":" + std::to_string(st.completed) + ",";
    Key(&out, "exits");
    MapJson(st.exits, &out);
    out += ",";
    Key(&out, "not_entered");
    MapJson(st.skipped, &out);
    out += ",\"engagement_unmatched\":" + std::to_string(st.engagement_unmatched);
    if (j.has_goal) {
      uint64_t treated = st.entered - st.entered_control;
      Lift lift = ComputeLift(st.converted, treated, st.converted_control, st.entered_control);
      out += ",\"goal\":{\"event\":";
      AppendJsonString(j.goal_event, &out);
      out += ",\"treated\":" + std::to_string(treated) +
             ",\"treated_conversions\":" + std::to_string(st.converted) +
             ",\"control\":" + std::to_string(st.entered_control) +
             ",\"control_conversions\":" + std::to_string(st.converted_control) +
             ",\"treated_rate\":" + Fixed(lift.treated_rate, 6) +
             ",\"control_rate\":" + Fixed(lift.control_rate, 6) +
             ",\"customers\":" + std::to_string(st.customers) +
             ",\"customers_converted\":" + std::to_string(st.customers_converted) +
             ",\"customers_control\":" + std::to_string(st.customers_control) +
             ",\"customers_converted_control\":" + std::to_string(st.customers_converted_control) +
             ",\"goal_windows_unobserved\":" + std::to_string(st.goal_unobserved) +
             ",\"revenue\":" + Fixed(st.revenue, 2) +
             ",\"revenue_control\":" + Fixed(st.revenue_control, 2) + ",\"attribution\":\"" +
             std::string(AttributionName(j.attribution)) + "\"" + ",\"click_window\":\"" +
             FormatDuration(j.ClickWindow()) + "\"" +
             ",\"attributed\":" + std::to_string(st.attributed) +
             ",\"unattributed\":" + std::to_string(Unattributed(st));
      // The interval is per customer (see AppendGoal).
      Lift per_customer = ComputeLift(st.customers_converted, st.customers,
                                      st.customers_converted_control, st.customers_control);
      if (per_customer.has_control) {
        out += ",\"customer_difference\":" + Fixed(per_customer.difference, 6) +
               ",\"customer_difference_ci95\":[" + Fixed(per_customer.difference_ci.low, 6) + "," +
               Fixed(per_customer.difference_ci.high, 6) + "]";
      }
      if (lift.has_control) {
        out += ",\"difference\":" + Fixed(lift.difference, 6) + ",\"difference_ci95\":[" +
               Fixed(lift.difference_ci.low, 6) + "," + Fixed(lift.difference_ci.high, 6) + "]";
      }
      out += "}";
    }
    // The current version's steps in order, then steps only earlier versions have that still
    // hold counters (counters go by step id across versions).
    std::vector<std::pair<std::string_view, const StepDef*>> rows;
    for (const StepDef& step : j.steps) rows.emplace_back(step.id, &step);
    for (const std::string& id : st.step_ids) {
      if (j.StepIndex(id) >= 0) continue;
      const StepDef* def = nullptr;
      for (const auto& old : config.retained_versions) {
        if (old->id != j.id || def != nullptr) continue;
        if (int k = old->StepIndex(id); k >= 0) def = &old->steps[size_t(k)];
      }
      rows.emplace_back(id, def);
    }
    static const StepStats kNoStep;
    out += ",\"steps\":[";
    for (size_t s = 0; s < rows.size(); ++s) {
      const StepStats* found = st.FindStep(rows[s].first);
      const StepStats& ss = found != nullptr ? *found : kNoStep;
      if (s) out += ",";
      out += "{\"id\":";
      AppendJsonString(rows[s].first, &out);
      out += ",\"type\":\"" +
             std::string(rows[s].second != nullptr ? StepKindName(rows[s].second->kind)
                                                   : std::string_view("unknown")) +
             "\"";
      if (j.StepIndex(rows[s].first) < 0) out += ",\"current\":false";
      out += ",\"entered\":" + std::to_string(ss.entered) + ",\"sent\":";
      MapJson(ss.sent, &out);
      out += ",\"suppressed\":";
      MapJson(ss.suppressed, &out);
      out += ",\"held_out\":" + std::to_string(ss.held_out);
      out += ",\"deferred\":" + std::to_string(ss.deferred) + ",\"next\":";
      MapJson(ss.arms, &out);
      out += ",\"exited\":";
      MapJson(ss.exited, &out);
      out += ",\"opened\":" + std::to_string(ss.opened) +
             ",\"unique_opened\":" + std::to_string(ss.unique_opened) +
             ",\"clicked\":" + std::to_string(ss.clicked) +
             ",\"unique_clicked\":" + std::to_string(ss.unique_clicked) +
             ",\"converted\":" + std::to_string(ss.converted) +
             ",\"revenue\":" + Fixed(ss.revenue, 2);
      out += "}";
    }
    out += "]}";
  }
  out += "]";
}

}  // namespace waymark
