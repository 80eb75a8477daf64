#include "scenario.h"

#include <yaml-cpp/yaml.h>

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

void ParseExpectations(const YAML::Node& x, Scenario* s) {
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
  if (x["trace"]) {
    for (const auto& id : x["trace"]["profiles"]) s->trace_ids.push_back(id.Scalar());
    for (const auto& line : x["trace"]["contains"]) s->trace_contains.push_back(line.Scalar());
  }
}

}  // namespace

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
    for (const auto& n : root["events"]) {
      Event e;
      WAYMARK_RETURN_IF_ERROR(ParseEvent(n, i++, &e));
      s.events.push_back(std::move(e));
    }
    auto until = ParseIsoTime(Str(root, "until"));
    if (!until) return Status::Invalid(path + ": needs until (ISO time the timers run to)");
    s.until = *until;
    if (root["shards"]) {
      s.shard_counts.clear();
      for (const auto& n : root["shards"]) s.shard_counts.push_back(n.as<int>());
    }
    if (root["expect"]) ParseExpectations(root["expect"], &s);
  } catch (const YAML::Exception& e) {
    return Status::Parse(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return s;
}

}  // namespace waymark::testing
