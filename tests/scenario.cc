#include "scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "core/json.h"
#include "model/config_loader.h"

namespace waymark::testing {

namespace {

Value ToValue(const YAML::Node& n) {
  if (!n || n.IsNull()) return Value();
  if (n.IsSequence()) {
    Value::List l;
    for (const auto& i : n) l.push_back(ToValue(i));
    return Value(std::move(l));
  }
  if (n.IsMap()) {
    Value o = Value::EmptyObject();
    for (const auto& kv : n) o.Set(kv.first.Scalar(), ToValue(kv.second));
    return o;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return Value(s);
  if (s == "true") return Value(true);
  if (s == "false") return Value(false);
  if (s == "null" || s == "~") return Value();
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
  return Value(s);
}

std::string Str(const YAML::Node& n, const char* key) {
  return n[key] ? n[key].Scalar() : std::string();
}

std::optional<std::string> Opt(const YAML::Node& n, const char* key) {
  if (!n[key]) return std::nullopt;
  return n[key].Scalar();
}

std::optional<uint64_t> OptNum(const YAML::Node& n, const char* key) {
  if (!n[key]) return std::nullopt;
  return n[key].as<uint64_t>();
}

// A delivery event's `message_of: { journey, step, profile }`: which earlier send it is about.
struct MessageRef {
  size_t event = 0;  // index into Scenario::events once sorted
  std::string profile, journey, step;
};

Status ParseEvent(const YAML::Node& n, size_t index, Event* e) {
  std::string where = "events[" + std::to_string(index) + "]";
  auto t = ParseIsoTime(Str(n, "at"));
  if (!t) return Status::Invalid(where + ": 'at' must be an ISO time");
  e->timestamp = *t;
  std::string type = n["type"] ? n["type"].Scalar() : "track";
  if (!ParseEventType(type, &e->type)) return Status::Invalid(where + ": unknown type " + type);
  e->name = Str(n, "event");
  e->user_id = Str(n, "user");
  e->anonymous_id = Str(n, "anonymous");
  e->previous_id = Str(n, "previous");
  e->message_id = n["message_id"] ? n["message_id"].Scalar() : "scenario-" + std::to_string(index);
  e->timezone = Str(n, "timezone");
  e->properties = n["properties"] ? ToValue(n["properties"]) : Value::EmptyObject();
  if (n["traits"]) e->traits = ToValue(n["traits"]);
  e->source = where;
  if (e->user_id.empty() && e->anonymous_id.empty())
    return Status::Invalid(where + ": needs user or anonymous");
  return Status::Ok();
}

std::optional<double> OptDouble(const YAML::Node& n, const char* key) {
  if (!n[key]) return std::nullopt;
  return n[key].as<double>();
}

std::vector<std::pair<std::string, uint64_t>> CountList(const YAML::Node& n) {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (n && n.IsMap()) {
    for (const auto& e : n) out.emplace_back(e.first.Scalar(), e.second.as<uint64_t>());
  }
  return out;
}

// An expectation with a misspelled key would check nothing; refuse it instead.
Status CheckKeys(const YAML::Node& n, std::initializer_list<const char*> keys,
                 const std::string& where) {
  if (!n.IsMap()) return Status::Invalid(where + ": expected a mapping");
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; })) {
      return Status::Invalid(where + ": unknown key '" + key + "'");
    }
  }
  return Status::Ok();
}

ExpectedStep ParseStep(const std::string& id, const YAML::Node& n) {
  ExpectedStep st;
  st.id = id;
  st.entered = OptNum(n, "entered");
  if (n["sent"] && n["sent"].IsMap()) {
    st.sent_by_channel = CountList(n["sent"]);
  } else {
    st.sent = OptNum(n, "sent");
  }
  st.held_out = OptNum(n, "held_out");
  st.opened = OptNum(n, "opened");
  st.clicked = OptNum(n, "clicked");
  st.unique_opened = OptNum(n, "unique_opened");
  st.unique_clicked = OptNum(n, "unique_clicked");
  st.converted = OptNum(n, "converted");
  st.revenue = OptDouble(n, "revenue");
  st.suppressed = CountList(n["suppressed"]);
  st.exited = CountList(n["exited"]);
  return st;
}

Status ParseExpectations(const YAML::Node& x, Scenario* s) {
  if (x["sends"]) {
    s->sends.emplace();
    for (const auto& n : x["sends"]) {
      s->sends->push_back(ExpectedSend{
          Str(n, "at"), Str(n, "profile"), Str(n, "journey"), Str(n, "step"), Str(n, "channel"),
          Opt(n, "promo_code"), Opt(n, "subject"), Opt(n, "text"), Opt(n, "body"), Opt(n, "to")});
    }
  }
  if (x["suppressions"]) {
    s->suppressions.emplace();
    for (const auto& n : x["suppressions"]) {
      s->suppressions->push_back(ExpectedSuppression{
          Str(n, "at"), Str(n, "profile"), Str(n, "journey"), Str(n, "step"), Str(n, "reason")});
    }
  }
  if (x["journeys"]) {
    for (const auto& kv : x["journeys"]) {
      ExpectedJourney j;
      j.id = kv.first.Scalar();
      const YAML::Node& n = kv.second;
      WAYMARK_RETURN_IF_ERROR(
          CheckKeys(n,
                    {"entered", "control", "active", "completed", "converted", "converted_control",
                     "customers", "customers_control", "customers_converted",
                     "customers_converted_control", "exits", "not_entered", "attributed",
                     "unattributed", "engagement_unmatched", "revenue", "steps"},
                    s->path + ": expect.journeys." + j.id));
      j.entered = OptNum(n, "entered");
      j.control = OptNum(n, "control");
      j.active = OptNum(n, "active");
      j.completed = OptNum(n, "completed");
      j.converted = OptNum(n, "converted");
      j.converted_control = OptNum(n, "converted_control");
      j.customers = OptNum(n, "customers");
      j.customers_control = OptNum(n, "customers_control");
      j.customers_converted = OptNum(n, "customers_converted");
      j.customers_converted_control = OptNum(n, "customers_converted_control");
      j.attributed = OptNum(n, "attributed");
      j.unattributed = OptNum(n, "unattributed");
      j.engagement_unmatched = OptNum(n, "engagement_unmatched");
      j.revenue = OptDouble(n, "revenue");
      if (n["steps"]) {
        for (const auto& st : n["steps"]) {
          WAYMARK_RETURN_IF_ERROR(
              CheckKeys(st.second,
                        {"entered", "sent", "held_out", "opened", "clicked", "unique_opened",
                         "unique_clicked", "converted", "revenue", "suppressed", "exited"},
                        s->path + ": expect.journeys." + j.id + ".steps." + st.first.Scalar()));
          j.steps.push_back(ParseStep(st.first.Scalar(), st.second));
        }
      }
      if (n["exits"])
        for (const auto& e : n["exits"])
          j.exits.emplace_back(e.first.Scalar(), e.second.as<uint64_t>());
      if (n["not_entered"])
        for (const auto& e : n["not_entered"])
          j.skipped.emplace_back(e.first.Scalar(), e.second.as<uint64_t>());
      s->journeys.push_back(std::move(j));
    }
  }
  s->duplicates = OptNum(x, "duplicates");
  s->profiles = OptNum(x, "profiles");
  s->merges = OptNum(x, "merges");
  s->engagement_unmatched = OptNum(x, "engagement_unmatched");
  if (x["trace"]) {
    for (const auto& id : x["trace"]["profiles"]) s->trace_ids.push_back(id.Scalar());
    for (const auto& line : x["trace"]["contains"]) s->trace_contains.push_back(line.Scalar());
  }
  return Status::Ok();
}

// Fills a delivery event's message_id, journey, step and channel (those its properties do not
// set already) from the newest send to the profile on that journey step before the event.
Status ResolveMessageRef(const Scenario& s, const MessageRef& ref, Event* e) {
  std::string profile = ref.profile.empty() ? e->ProfileKey() : ref.profile;
  EngineResults before = RunScenario(s, 1, ref.event, e->timestamp);
  const Value* found = nullptr;
  Value match;
  for (const OutboxRecord& rec : before.outbox) {
    Result<Value> v = ParseJson(rec.json);
    if (!v.ok()) return v.status();
    auto is = [&](const char* key, const std::string& want) {
      const Value* f = v->Find(key);
      return f != nullptr && f->is_string() && f->as_string() == want;
    };
    if (is("profile", profile) && is("journey", ref.journey) && is("step", ref.step)) {
      match = std::move(v).value();
      found = &match;
    }
  }
  if (found == nullptr) {
    return Status::Invalid(s.path + ": " + e->source + ": message_of: no send to " + profile +
                           " on journey " + ref.journey + " step " + ref.step + " before " +
                           FormatIsoTime(e->timestamp));
  }
  if (!e->properties.is_object()) e->properties = Value::EmptyObject();
  for (const char* key : {"id", "journey", "step", "channel"}) {
    std::string property = std::string(key) == "id" ? "message_id" : key;
    if (e->properties.Find(property) == nullptr) e->properties.Set(property, *found->Find(key));
  }
  return Status::Ok();
}

}  // namespace

EngineResults RunScenario(const Scenario& s, int shards, size_t count, std::optional<Time> until) {
  EngineOptions o;
  o.shards = shards;
  o.assume_reachable = false;
  o.trace.ids = s.trace_ids;
  Engine engine(s.config, o);
  for (size_t i = 0; i < s.events.size() && i < count; ++i) {
    Event e = s.events[i];
    engine.Submit(std::move(e));
  }
  return engine.Finish(until.value_or(s.until));
}

Result<Scenario> LoadScenario(const std::string& path) {
  Scenario s;
  s.path = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::Parse(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  try {
    s.description = Str(root, "description");
    if (!root["config"]) return Status::Invalid(path + ": needs config");
    std::vector<std::string> errors;
    auto config = LoadConfigText(root["config"].Scalar(), path + " (config)", &errors);
    if (!config.ok()) return config.status();
    s.config = *config;
    size_t i = 0;
    std::vector<MessageRef> refs;
    for (const auto& n : root["events"]) {
      Event e;
      WAYMARK_RETURN_IF_ERROR(ParseEvent(n, i, &e));
      e.seq = i;
      if (const YAML::Node& m = n["message_of"]) {
        refs.push_back(MessageRef{i, Str(m, "profile"), Str(m, "journey"), Str(m, "step")});
        if (refs.back().journey.empty() || refs.back().step.empty()) {
          return Status::Invalid(path + ": events[" + std::to_string(i) +
                                 "]: message_of needs journey and step");
        }
      }
      s.events.push_back(std::move(e));
      ++i;
    }
    std::stable_sort(s.events.begin(), s.events.end(),
                     [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
    for (MessageRef& ref : refs) {
      auto at = std::find_if(s.events.begin(), s.events.end(),
                             [&](const Event& e) { return e.seq == ref.event; });
      ref.event = size_t(at - s.events.begin());
    }
    auto until = ParseIsoTime(Str(root, "until"));
    if (!until) return Status::Invalid(path + ": needs until (ISO time the timers run to)");
    s.until = *until;
    if (root["shards"]) {
      s.shard_counts.clear();
      for (const auto& n : root["shards"]) s.shard_counts.push_back(n.as<int>());
    }
    if (root["expect"]) WAYMARK_RETURN_IF_ERROR(ParseExpectations(root["expect"], &s));
    // In time order, so that a reference sees the events before it already resolved.
    std::sort(refs.begin(), refs.end(),
              [](const MessageRef& a, const MessageRef& b) { return a.event < b.event; });
    for (const MessageRef& ref : refs) {
      WAYMARK_RETURN_IF_ERROR(ResolveMessageRef(s, ref, &s.events[ref.event]));
    }
  } catch (const YAML::Exception& e) {
    return Status::Parse(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return s;
}

}  // namespace waymark::testing
