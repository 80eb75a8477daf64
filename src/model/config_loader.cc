// YAML -> Config with validation. Every problem is collected (not just the first) and reported as
// "file:line:col: message" with 1-based positions; positions inside a condition or template point
// at the offending character within the YAML scalar.

#include "model/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace waymark {

namespace {

namespace fs = std::filesystem;

struct Source {
  std::string name;
  std::vector<std::string> lines;
};

// Edit distance, for "did you mean" hints on misspelled names.
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean 'wait'?)" when one candidate is close to `word`, else "".
template <typename Names>
std::string DidYouMean(std::string_view word, const Names& candidates) {
  std::string best;
  size_t best_distance = 3;  // at most two edits
  for (const auto& c : candidates) {
    std::string_view name(c);
    size_t d = Distance(word, name);
    if (d < best_distance && d < name.size()) {
      best_distance = d;
      best = std::string(name);
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

struct Located {
  const Source* src;
  YAML::Node node;
};

void AppendQuoted(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      *out += "\\u00";
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

Value ScalarValue(const YAML::Node& node);

// `node` as YAML flow text that loads back to the same node: strings double-quoted (JSON
// escapes), plain scalars that read as numbers or booleans written as they were (ScalarValue
// tells them apart from quoted ones), null as null.
void AppendFlow(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      *out += "null";
      return;
    case YAML::NodeType::Scalar:
      if (ScalarValue(node).is_string()) {
        AppendQuoted(node.Scalar(), out);
      } else {
        *out += node.Scalar();
      }
      return;
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : node) {
        if (!first) out->push_back(',');
        first = false;
        AppendFlow(item, out);
      }
      out->push_back(']');
      return;
    }
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out->push_back(',');
        first = false;
        AppendQuoted(kv.first.Scalar(), out);
        *out += ": ";
        AppendFlow(kv.second, out);
      }
      out->push_back('}');
      return;
    }
  }
}

class Loader {
 public:
  explicit Loader(Config* config) : config_(config) {}

  void AddText(const std::string& text, const std::string& name);
  void Build();
  // One journey document compiled against what config_ already holds (LoadJourneyText).
  void BuildJourney(const std::string& text, const std::string& name);
  std::vector<std::string>& errors() { return errors_; }

 private:
  // ---- error reporting ----
  void ErrorAt(const Source& src, int line0, int col0, const std::string& msg) {
    errors_.push_back(src.name + ":" + std::to_string(line0 + 1) + ":" + std::to_string(col0 + 1) +
                      ": " + msg);
  }
  void Error(const Source& src, const YAML::Node& node, const std::string& msg) {
    YAML::Mark m = node.Mark();
    ErrorAt(src, std::max(m.line, 0), std::max(m.column, 0), msg);
  }
  // Reports `msg` at byte `offset` inside the scalar `node`.
  void ErrorInScalar(const Source& src, const YAML::Node& node, size_t offset,
                     const std::string& msg);

  // Runs `load`; a yaml-cpp exception from a shape the readers did not anticipate becomes an
  // error at `node` instead of escaping.
  template <typename F>
  void Guarded(const Source& src, const YAML::Node& node, F&& load) {
    try {
      load();
    } catch (const YAML::Exception& e) {
      Error(src, node, "malformed entry: " + e.msg);
    }
  }

  // ---- typed readers; each reports its own errors and returns false on failure ----
  bool CheckKeys(const Source& src, const YAML::Node& map, std::initializer_list<const char*> keys,
                 const char* what);
  bool GetString(const Source& src, const YAML::Node& node, std::string* out, const char* what);
  // A string usable as an id: non-empty ASCII letters, digits, _ - and . (errors otherwise).
  bool GetId(const Source& src, const YAML::Node& node, std::string* out, const char* what);
  bool GetDuration(const Source& src, const YAML::Node& node, Duration* out);
  bool CompileExpr(const Source& src, const YAML::Node& node, const expr::CompileEnv& env,
                   expr::Expr* out);
  std::optional<Template> ParseTemplate(const Source& src, const YAML::Node& node);

  void LoadSettings(const Located& l);
  void LoadDelivery(const Located& l);
  void LoadChannels();
  void LoadPolicies(const Located& l);
  void LoadCap(const Source& src, const YAML::Node& node);
  std::vector<int> ChannelList(const Source& src, const YAML::Node& node);
  void LoadSegment(const Source& src, const YAML::Node& node);
  void LoadTemplate(const Source& src, const YAML::Node& node);
  void LoadJourney(const Source& src, const YAML::Node& node);
  bool LoadTrigger(const Source& src, const YAML::Node& node, JourneyDef* j);
  void LoadGoal(const Source& src, const YAML::Node& goal, JourneyDef* j);
  void LoadStep(const Source& src, const YAML::Node& node, JourneyDef* j, StepDef* step,
                std::vector<std::pair<YAML::Node, int*>>* refs);
  void LoadSendStep(const Source& src, const YAML::Node& body, const JourneyDef& j, StepDef* s);
  void LoadWaitUntil(const Source& src, const YAML::Node& body, StepDef* s);
  void CheckGraph(const Source& src, const YAML::Node& steps_node, const JourneyDef& j);
  void ComputeTriggerNeeds(JourneyDef* j);
  void NoteHistory(const expr::Expr& e);

  expr::CompileEnv SegmentEnv() const;
  expr::CompileEnv JourneyEnv(bool with_event) const;

  Config* config_;
  std::vector<std::string> errors_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::map<std::string, std::vector<Located>> sections_;
};

void Loader::AddText(const std::string& text, const std::string& name) {
  auto src = std::make_unique<Source>();
  src->name = name;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    src->lines.push_back(line);
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    ErrorAt(*src, std::max(e.mark.line, 0), std::max(e.mark.column, 0), e.msg);
    sources_.push_back(std::move(src));
    return;
  }
  if (root.IsNull()) {
    sources_.push_back(std::move(src));
    return;
  }
  if (!root.IsMap()) {
    Error(*src, root,
          "a config file is a mapping of sections (journeys, segments, templates, "
          "channels, policies, settings)");
  } else {
    static const std::set<std::string> kSections = {"journeys", "segments", "templates", "channels",
                                                    "policies", "settings", "delivery"};
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (kSections.count(key) == 0) {
        Error(*src, kv.first,
              "unknown section '" + key +
                  "' (expected journeys, segments, templates, channels, "
                  "policies, settings or delivery)");
        continue;
      }
      sections_[key].push_back(Located{src.get(), kv.second});
    }
  }
  sources_.push_back(std::move(src));
}

void Loader::ErrorInScalar(const Source& src, const YAML::Node& node, size_t offset,
                           const std::string& msg) {
  YAML::Mark m = node.Mark();
  int line = std::max(m.line, 0), col = std::max(m.column, 0);
  std::string text = node.Scalar();
  size_t newlines = std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n');
  char first = line < int(src.lines.size()) && col < int(src.lines[line].size())
                   ? src.lines[line][col]
                   : ' ';
  if (first == '|' || first == '>') {
    // Block scalar: content starts on the next line at its indentation.
    int content = line + 1 + int(newlines);
    int indent = 0;
    if (line + 1 < int(src.lines.size())) {
      const std::string& l = src.lines[line + 1];
      while (indent < int(l.size()) && l[indent] == ' ') ++indent;
    }
    size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
    size_t in_line =
        line_start == std::string::npos || newlines == 0 ? offset : offset - line_start - 1;
    ErrorAt(src, content, indent + int(in_line), msg);
    return;
  }
  if (newlines == 0) {
    int quote = (first == '"' || first == '\'') ? 1 : 0;
    ErrorAt(src, line, col + quote + int(offset), msg);
    return;
  }
  ErrorAt(src, line + int(newlines), 0, msg);
}

bool Loader::CheckKeys(const Source& src, const YAML::Node& map,
                       std::initializer_list<const char*> keys, const char* what) {
  if (!map.IsMap()) {
    Error(src, map, std::string(what) + " must be a mapping");
    return false;
  }
  bool ok = true;
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    bool known = std::any_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; });
    if (!known) {
      std::string hint = DidYouMean(key, keys);
      if (hint.empty()) {
        std::string list;
        for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
        hint = " (known: " + list + ")";
      }
      Error(src, kv.first, "unknown key '" + key + "' in " + what + hint);
      ok = false;
    }
  }
  return ok;
}

bool Loader::GetString(const Source& src, const YAML::Node& node, std::string* out,
                       const char* what) {
  if (!node || !node.IsScalar()) {
    Error(src, node, std::string(what) + " must be a string");
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool Loader::GetId(const Source& src, const YAML::Node& node, std::string* out, const char* what) {
  if (!GetString(src, node, out, what)) return false;
  if (out->empty()) {
    Error(src, node, std::string(what) + " must not be empty");
    return false;
  }
  // Ids go into URL paths (the admin API), message ids and report keys.
  for (char c : *out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      Error(src, node,
            std::string(what) + " '" + *out +
                "' may hold only ASCII letters, digits, '_', '-' and '.'");
      return false;
    }
  }
  return true;
}

bool Loader::GetDuration(const Source& src, const YAML::Node& node, Duration* out) {
  if (!node.IsScalar()) {
    Error(src, node, "expected a duration such as 30m, 1h or 7d");
    return false;
  }
  auto d = ParseDuration(node.Scalar());
  if (!d.ok()) {
    Error(src, node, d.status().message());
    return false;
  }
  if (d->count() < 0) {
    Error(src, node, "duration must not be negative");
    return false;
  }
  *out = *d;
  return true;
}

bool Loader::CompileExpr(const Source& src, const YAML::Node& node, const expr::CompileEnv& env,
                         expr::Expr* out) {
  if (!node.IsScalar()) {
    Error(src, node, "a condition is written as text, e.g. 'event.price > 100'");
    return false;
  }
  expr::CompileError err;
  auto e = expr::Expr::Compile(node.Scalar(), env, &err);
  if (!e.ok()) {
    ErrorInScalar(src, node, err.offset, err.message);
    return false;
  }
  NoteHistory(*e);
  *out = std::move(e).value();
  return true;
}

std::optional<Template> Loader::ParseTemplate(const Source& src, const YAML::Node& node) {
  if (!node.IsScalar()) {
    Error(src, node, "template text must be a string");
    return std::nullopt;
  }
  TemplateError err;
  auto t = Template::Parse(node.Scalar(), &err);
  if (!t.ok()) {
    // Convert the template's line/col back into an offset within the scalar.
    const std::string& text = node.Scalar();
    size_t offset = 0;
    for (int l = 1; l < err.line && offset < text.size(); ++l) {
      size_t nl = text.find('\n', offset);
      offset = nl == std::string::npos ? text.size() : nl + 1;
    }
    offset += std::max(err.col - 1, 0);
    ErrorInScalar(src, node, offset, "template: " + err.message);
    return std::nullopt;
  }
  return std::move(t).value();
}

Value ScalarValue(const YAML::Node& node) {
  if (node.IsNull()) return Value();
  if (node.IsSequence()) {
    Value::List list;
    for (const auto& item : node) list.push_back(ScalarValue(item));
    return Value(std::move(list));
  }
  if (node.IsMap()) {
    Value obj = Value::EmptyObject();
    for (const auto& kv : node) obj.Set(kv.first.Scalar(), ScalarValue(kv.second));
    return obj;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return Value(s);  // quoted: always a string
  if (s == "true") return Value(true);
  if (s == "false") return Value(false);
  double d;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return Value(d);
  return Value(s);
}

void Loader::NoteHistory(const expr::Expr& e) {
  for (const HistoryPolicy::Rule& need : e.history_needs()) config_->history.Add(need);
}

expr::CompileEnv Loader::SegmentEnv() const {
  expr::CompileEnv env;
  env.allow_event = false;
  env.segment_names = &config_->segment_names;
  return env;
}

expr::CompileEnv Loader::JourneyEnv(bool with_event) const {
  expr::CompileEnv env;
  env.allow_event = with_event;
  env.allow_trigger = true;
  env.allow_entry = true;
  env.segment_names = &config_->segment_names;
  return env;
}

// ---- settings, channels, policies ----

void Loader::LoadSettings(const Located& l) {
  const Source& src = *l.src;
  if (!CheckKeys(src, l.node,
                 {"default_timezone", "purchase_event", "revenue_properties", "history_limit"},
                 "settings"))
    return;
  if (auto tz = l.node["default_timezone"]) {
    std::string name;
    if (GetString(src, tz, &name, "default_timezone")) {
      const TimeZone* zone = FindTimeZone(name);
      if (zone == nullptr) {
        Error(src, tz, "unknown time zone '" + name + "' (use an IANA name like Europe/Berlin)");
      } else {
        config_->settings.default_timezone = zone;
        config_->settings.default_timezone_name = name;
      }
    }
  }
  if (auto pe = l.node["purchase_event"]) {
    GetString(src, pe, &config_->settings.purchase.event, "purchase_event");
  }
  if (auto rp = l.node["revenue_properties"]) {
    if (!rp.IsSequence()) {
      Error(src, rp, "revenue_properties must be a list of property names");
    } else {
      config_->settings.purchase.revenue_properties.clear();
      for (const auto& p : rp) config_->settings.purchase.revenue_properties.push_back(p.Scalar());
    }
  }
  if (auto hl = l.node["history_limit"]) {
    try {
      config_->settings.history_limit = hl.as<size_t>();
    } catch (const YAML::Exception&) {
      Error(src, hl, "history_limit must be a whole number");
    }
  }
}

// "Name <address>" or a bare address.
bool ParseMailbox(std::string_view text, DeliverySettings::Mailbox* out) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
  };
  text = trim(text);
  std::string_view address = text, name;
  if (!text.empty() && text.back() == '>') {
    size_t open = text.rfind('<');
    if (open == std::string_view::npos) return false;
    name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    address = text.substr(open + 1, text.size() - open - 2);
  }
  size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() ||
      address.find_first_of(" <>,;\"") != std::string_view::npos) {
    return false;
  }
  out->name = std::string(name);
  out->address = std::string(address);
  return true;
}

void Loader::LoadDelivery(const Located& l) {
  const Source& src = *l.src;
  DeliverySettings& d = config_->delivery;
  if (!CheckKeys(src, l.node, {"email", "links", "inbox", "retry"}, "delivery")) return;
  if (YAML::Node email = l.node["email"]) {
    if (CheckKeys(src, email, {"from", "reply_to"}, "delivery.email")) {
      for (auto [key, mailbox] :
           {std::pair{"from", &d.email_from}, std::pair{"reply_to", &d.email_reply_to}}) {
        std::string text;
        if (!email[key] || !GetString(src, email[key], &text, key)) continue;
        if (!ParseMailbox(text, mailbox)) {
          Error(src, email[key],
                std::string(key) + " must be an address or \"Name <address>\", got '" + text + "'");
        }
      }
    }
  }
  if (YAML::Node links = l.node["links"]) {
    if (CheckKeys(src, links, {"track", "open_pixel", "ttl", "safe_url", "utm_source", "params"},
                  "delivery.links")) {
      auto flag = [&](const char* key, bool* out) {
        if (!links[key]) return;
        try {
          *out = links[key].as<bool>();
        } catch (const YAML::Exception&) {
          Error(src, links[key], std::string(key) + " must be true or false");
        }
      };
      flag("track", &d.track_links);
      flag("open_pixel", &d.open_pixel);
      if (links["ttl"]) GetDuration(src, links["ttl"], &d.link_ttl);
      if (links["utm_source"]) GetString(src, links["utm_source"], &d.utm_source, "utm_source");
      if (links["safe_url"] && GetString(src, links["safe_url"], &d.safe_url, "safe_url") &&
          d.safe_url.rfind("https://", 0) != 0 && d.safe_url.rfind("http://", 0) != 0) {
        Error(src, links["safe_url"], "safe_url must be an http:// or https:// URL");
      }
      if (YAML::Node params = links["params"]) {
        if (CheckKeys(src, params, {"source", "medium", "campaign", "content", "promo", "landing"},
                      "delivery.links.params")) {
          for (auto [key, out] :
               {std::pair{"source", &d.source_param}, std::pair{"medium", &d.medium_param},
                std::pair{"campaign", &d.campaign_param}, std::pair{"content", &d.content_param},
                std::pair{"promo", &d.promo_param}, std::pair{"landing", &d.landing_param}}) {
            if (params[key]) GetString(src, params[key], out, key);
          }
        }
      }
    }
  }
  if (YAML::Node inbox = l.node["inbox"]) {
    if (CheckKeys(src, inbox, {"ttl"}, "delivery.inbox") && inbox["ttl"]) {
      GetDuration(src, inbox["ttl"], &d.inbox_ttl);
    }
  }
  if (YAML::Node retry = l.node["retry"]) {
    if (!CheckKeys(src, retry, {"max_attempts", "base_delay", "max_delay"}, "delivery.retry")) {
      return;
    }
    if (YAML::Node n = retry["max_attempts"]) {
      int v = 0;
      try {
        v = n.as<int>();
      } catch (const YAML::Exception&) {
        v = 0;
      }
      if (v < 1 || v > 100) {
        Error(src, n,
              "max_attempts must be a whole number from 1 to 100, got '" + n.Scalar() + "'");
      } else {
        d.retry_max_attempts = v;
      }
    }
    bool base_ok =
        !retry["base_delay"] || GetDuration(src, retry["base_delay"], &d.retry_base_delay);
    bool max_ok = !retry["max_delay"] || GetDuration(src, retry["max_delay"], &d.retry_max_delay);
    if (base_ok && retry["base_delay"] && d.retry_base_delay <= Duration::zero()) {
      Error(src, retry["base_delay"], "base_delay must be longer than 0");
    } else if (base_ok && max_ok && d.retry_max_delay < d.retry_base_delay) {
      Error(src, retry["max_delay"] ? retry["max_delay"] : retry["base_delay"],
            "max_delay must not be shorter than base_delay");
    }
  }
}

void Loader::LoadChannels() {
  // Built-in channels; a `channels:` section may change their contact trait or add more.
  config_->channels = {
      {"email", ChannelKind::kEmail, "email"},    {"sms", ChannelKind::kSms, "phone"},
      {"push", ChannelKind::kPush, "push_token"}, {"in_app", ChannelKind::kInApp, ""},
      {"webhook", ChannelKind::kWebhook, ""},
  };
  for (const Located& l : sections_["channels"]) {
    const Source& src = *l.src;
    if (!l.node.IsMap()) {
      Error(src, l.node, "channels must be a mapping of channel id to settings");
      continue;
    }
    for (const auto& kv : l.node) {
      std::string id = kv.first.Scalar();
      if (!CheckKeys(src, kv.second, {"type", "contact"}, "channel")) continue;
      ChannelDef def;
      def.id = id;
      std::string type = kv.second["type"] ? kv.second["type"].Scalar() : id;
      bool known = false;
      for (ChannelKind k : {ChannelKind::kEmail, ChannelKind::kSms, ChannelKind::kPush,
                            ChannelKind::kInApp, ChannelKind::kWebhook}) {
        if (ChannelKindName(k) == type) {
          def.kind = k;
          known = true;
        }
      }
      if (!known) {
        Error(src, kv.second["type"] ? kv.second["type"] : kv.first,
              "unknown channel type '" + type + "' (email, sms, push, in_app or webhook)");
        continue;
      }
      int existing = config_->ChannelIndex(id);
      def.contact_trait = existing >= 0 ? config_->channels[existing].contact_trait : "";
      if (auto c = kv.second["contact"]) def.contact_trait = c.Scalar();
      if (existing >= 0) {
        config_->channels[existing] = def;
      } else {
        config_->channels.push_back(def);
      }
    }
  }
}

std::vector<int> Loader::ChannelList(const Source& src, const YAML::Node& node) {
  std::vector<int> out;
  auto add = [&](const YAML::Node& n) {
    int idx = config_->ChannelIndex(n.Scalar());
    if (idx < 0) {
      Error(src, n, "unknown channel '" + n.Scalar() + "'");
    } else {
      out.push_back(idx);
    }
  };
  if (node.IsScalar()) {
    if (node.Scalar() == "all") return out;
    add(node);
  } else if (node.IsSequence()) {
    for (const auto& n : node) add(n);
  } else {
    Error(src, node, "expected a channel or a list of channels");
  }
  return out;
}

void Loader::LoadCap(const Source& src, const YAML::Node& node) {
  if (!CheckKeys(src, node, {"channels", "channel", "max", "per"}, "frequency cap")) return;
  CapRule cap;
  if (auto c = node["channels"] ? node["channels"] : node["channel"])
    cap.channels = ChannelList(src, c);
  if (!node["max"] || !node["per"]) {
    Error(src, node, "a frequency cap needs max and per (e.g. max: 2, per: 1d)");
    return;
  }
  try {
    cap.max = node["max"].as<uint32_t>();
  } catch (const YAML::Exception&) {
    Error(src, node["max"], "max must be a whole number");
    return;
  }
  std::string per = node["per"].Scalar();
  if (per == "local_day" || per == "day") {
    cap.local_day = true;
  } else if (!GetDuration(src, node["per"], &cap.per)) {
    return;
  }
  std::string scope = "all channels";
  if (!cap.channels.empty()) {
    scope.clear();
    for (int c : cap.channels) scope += (scope.empty() ? "" : "+") + config_->channels[c].id;
  }
  cap.label = std::to_string(cap.max) + " per " +
              (cap.local_day ? std::string("local day") : FormatDuration(cap.per)) + " (" + scope +
              ")";
  config_->policies.caps.push_back(cap);
}

void Loader::LoadPolicies(const Located& l) {
  const Source& src = *l.src;
  if (!CheckKeys(src, l.node, {"frequency_caps", "quiet_hours"}, "policies")) return;
  if (auto caps = l.node["frequency_caps"]) {
    if (!caps.IsSequence()) {
      Error(src, caps, "frequency_caps must be a list");
    } else {
      for (const auto& c : caps) LoadCap(src, c);
    }
  }
  if (auto q = l.node["quiet_hours"]) {
    if (!CheckKeys(src, q, {"start", "end", "action", "channels"}, "quiet_hours")) return;
    QuietHours& qh = config_->policies.quiet_hours;
    auto start = ParseClockTime(q["start"].Scalar());
    auto end = ParseClockTime(q["end"].Scalar());
    if (!start) Error(src, q["start"] ? q["start"] : q, "quiet_hours start must be HH:MM");
    if (!end) Error(src, q["end"] ? q["end"] : q, "quiet_hours end must be HH:MM");
    if (!start || !end) return;
    qh.enabled = true;
    qh.start_minute = *start;
    qh.end_minute = *end;
    if (auto a = q["action"]) {
      if (a.Scalar() != "defer" && a.Scalar() != "drop") {
        Error(src, a, "quiet_hours action must be defer or drop");
      }
      qh.defer = a.Scalar() != "drop";
    }
    if (auto c = q["channels"]) qh.channels = ChannelList(src, c);
  }
}

// ---- segments and templates ----

void Loader::LoadSegment(const Source& src, const YAML::Node& node) {
  if (!CheckKeys(src, node, {"id", "name", "description", "condition"}, "segment")) return;
  SegmentDef seg;
  if (!GetId(src, node["id"], &seg.id, "segment id")) return;
  seg.name = node["name"] ? node["name"].Scalar() : seg.id;
  if (!node["condition"]) {
    Error(src, node, "segment '" + seg.id + "' needs a condition");
    return;
  }
  int index = config_->SegmentIndex(seg.id);
  if (!CompileExpr(src, node["condition"], SegmentEnv(), &seg.condition)) return;
  config_->segments[index] = std::move(seg);
}

void Loader::LoadTemplate(const Source& src, const YAML::Node& node) {
  if (!CheckKeys(src, node, {"id", "description", "subject", "text", "html", "body", "title"},
                 "template"))
    return;
  TemplateDef def;
  if (!GetId(src, node["id"], &def.id, "template id")) return;
  if (config_->TemplateIndex(def.id) >= 0) {
    Error(src, node["id"], "duplicate template id '" + def.id + "'");
    return;
  }
  bool any_part = false;
  for (const char* part : {"subject", "title", "text", "html", "body"}) {
    if (auto p = node[part]) {
      any_part = true;
      if (auto t = ParseTemplate(src, p)) {
        for (const std::string& var : t->variables()) {
          std::string_view path = var;
          size_t dot = path.find('.');
          std::string_view root = path.substr(0, dot);
          VariableNeeds* needs = root == "profile"   ? &def.profile
                                 : root == "event"   ? &def.event
                                 : root == "message" ? &def.message
                                 : root == "journey" ? &def.journey
                                                     : nullptr;
          if (needs == nullptr) {
            Error(src, p,
                  "template " + std::string(part) + " reads unknown variable '" +
                      std::string(root) + "' (known: profile, event, message, journey)");
            continue;
          }
          needs->any = true;
          if (dot == std::string_view::npos) {
            needs->all = true;
            continue;
          }
          std::string_view rest = path.substr(dot + 1);
          std::string member(rest.substr(0, rest.find('.')));
          static const std::vector<std::string> kMessage = {"id", "channel", "promo_code",
                                                            "unsubscribe_url"};
          static const std::vector<std::string> kJourney = {"id", "name", "version", "step"};
          const std::vector<std::string>* known = needs == &def.message   ? &kMessage
                                                  : needs == &def.journey ? &kJourney
                                                                          : nullptr;
          if (known != nullptr && std::find(known->begin(), known->end(), member) == known->end()) {
            std::string list;
            for (const std::string& k : *known) list += (list.empty() ? "" : ", ") + k;
            Error(src, p,
                  "template " + std::string(part) + " reads unknown variable '" +
                      std::string(root) + "." + member + "' (known: " + list + ")");
            continue;
          }
          if (!needs->Wants(member)) needs->members.push_back(std::move(member));
        }
        def.parts.emplace_back(part, std::move(*t));
      }
    }
  }
  if (!any_part) {
    Error(src, node,
          "template '" + def.id +
              "' has no content (subject, text, html, body or "
              "title)");
  }
  config_->templates.push_back(std::move(def));
}

// ---- journeys ----

bool ParseWeekdays(const YAML::Node& node, uint8_t* mask, std::string* bad) {
  static const std::pair<const char*, uint8_t> kDays[] = {{"sun", 1},
                                                          {"mon", 2},
                                                          {"tue", 4},
                                                          {"wed", 8},
                                                          {"thu", 16},
                                                          {"fri", 32},
                                                          {"sat", 64},
                                                          {"weekdays", 0b0111110},
                                                          {"weekends", 0b1000001}};
  auto one = [&](const std::string& s) {
    std::string low = s.substr(0, std::min<size_t>(s.size(), 3));
    for (auto& c : low) c = char(std::tolower(c));
    if (s == "weekdays" || s == "weekends") low = s;
    for (const auto& [name, bits] : kDays) {
      if (low == name) {
        *mask |= bits;
        return true;
      }
    }
    *bad = s;
    return false;
  };
  if (node.IsScalar()) return one(node.Scalar());
  for (const auto& d : node)
    if (!one(d.Scalar())) return false;
  return true;
}

void Loader::LoadWaitUntil(const Source& src, const YAML::Node& body, StepDef* s) {
  YAML::Node time_node = body.IsMap() ? body["time"] : body;
  if (body.IsMap() && !CheckKeys(src, body, {"time", "days"}, "wait_until")) return;
  auto minute = time_node ? ParseClockTime(time_node.Scalar()) : std::nullopt;
  if (!minute) {
    Error(src, time_node ? time_node : body, "wait_until needs a local time as HH:MM");
    return;
  }
  s->local_minute = *minute;
  if (body.IsMap() && body["days"]) {
    std::string bad;
    if (!ParseWeekdays(body["days"], &s->weekday_mask, &bad)) {
      Error(src, body["days"], "unknown day '" + bad + "' (mon..sun, weekdays, weekends)");
    }
  }
}

void Loader::LoadSendStep(const Source& src, const YAML::Node& body, const JourneyDef& j,
                          StepDef* s) {
  (void)j;
  if (!CheckKeys(src, body,
                 {"channel", "channels", "template", "promo_code", "promo", "max_lateness"},
                 "send"))
    return;
  YAML::Node ch = body["channel"] ? body["channel"] : body["channels"];
  if (!ch) {
    Error(src, body, "send needs a channel (or an ordered list of channels)");
  } else {
    s->channels = ChannelList(src, ch);
    if (s->channels.empty() && ch.IsScalar() && ch.Scalar() == "all") {
      Error(src, ch, "send needs named channels, not 'all'");
    }
  }
  std::string tpl;
  if (GetString(src, body["template"], &tpl, "send template")) {
    s->template_index = config_->TemplateIndex(tpl);
    if (s->template_index < 0) Error(src, body["template"], "unknown template '" + tpl + "'");
  }
  if (auto p = body["promo_code"]) s->promo_code = p.Scalar();
  if (auto p = body["promo"]) {
    if (CheckKeys(src, p, {"prefix"}, "promo")) {
      s->promo_prefix = p["prefix"] ? p["prefix"].Scalar() : "";
    }
  }
  if (auto ml = body["max_lateness"]) {
    Duration d;
    if (GetDuration(src, ml, &d)) s->max_lateness = d;
  }
}

void Loader::LoadStep(const Source& src, const YAML::Node& node, JourneyDef* j, StepDef* s,
                      std::vector<std::pair<YAML::Node, int*>>* refs) {
  static const std::pair<const char*, StepKind> kKinds[] = {
      {"wait", StepKind::kWait},        {"wait_until", StepKind::kWaitUntil},
      {"wait_for", StepKind::kWaitFor}, {"branch", StepKind::kBranch},
      {"split", StepKind::kSplit},      {"holdout", StepKind::kHoldout},
      {"send", StepKind::kSend},        {"update_profile", StepKind::kUpdateProfile},
      {"webhook", StepKind::kWebhook},  {"exit", StepKind::kExit}};
  YAML::Node body;
  bool found = false;
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (key == "id" || key == "next" || key == "on_event" || key == "on_timeout" ||
        key == "description")
      continue;
    bool known = false;
    for (const auto& [name, kind] : kKinds) {
      if (key == name) {
        known = true;
        if (found) {
          Error(src, kv.first,
                "step '" + s->id + "' has two types ('" + std::string(StepKindName(s->kind)) +
                    "' and '" + key + "')");
        }
        found = true;
        s->kind = kind;
        body = kv.second;
      }
    }
    if (!known) {
      std::vector<std::string_view> names;
      for (const auto& k : kKinds) names.push_back(k.first);
      std::string hint = DidYouMean(key, names);
      Error(src, kv.first,
            "unknown step type '" + key + "'" +
                (hint.empty() ? " (wait, wait_until, wait_for, branch, split, "
                                "holdout, send, update_profile, webhook, exit)"
                              : hint));
      return;
    }
  }
  if (!found) {
    Error(src, node, "step '" + s->id + "' has no type");
    return;
  }
  if (node["next"] && s->kind == StepKind::kExit) {
    Error(src, node["next"],
          "step '" + s->id + "' is an exit: it ends the instance and takes no next");
  } else if (node["next"]) {
    refs->emplace_back(node["next"], &s->next);
  }
  expr::CompileEnv env = JourneyEnv(/*with_event=*/false);

  switch (s->kind) {
    case StepKind::kWait:
      GetDuration(src, body, &s->wait);
      break;
    case StepKind::kWaitUntil:
      LoadWaitUntil(src, body, s);
      break;
    case StepKind::kWaitFor: {
      if (!CheckKeys(src, body, {"event", "where", "timeout"}, "wait_for")) break;
      GetString(src, body["event"], &s->wait_event, "wait_for event");
      if (body["where"]) CompileExpr(src, body["where"], JourneyEnv(true), &s->wait_filter);
      if (!body["timeout"]) {
        Error(src, body, "wait_for needs a timeout");
      } else {
        GetDuration(src, body["timeout"], &s->wait);
      }
      if (node["on_event"]) refs->emplace_back(node["on_event"], &s->on_event);
      if (node["on_timeout"]) refs->emplace_back(node["on_timeout"], &s->on_timeout);
      break;
    }
    case StepKind::kBranch: {
      if (!body.IsSequence()) {
        Error(src, body,
              "branch is a list of {if: condition, next: step} ending with {else: step}");
        break;
      }
      s->branches.reserve(body.size());
      for (const auto& b : body) {
        StepDef::Branch br;
        s->branches.push_back(std::move(br));
        StepDef::Branch& added = s->branches.back();
        if (b["else"]) {
          if (!CheckKeys(src, b, {"else"}, "branch else")) continue;
          refs->emplace_back(b["else"], &added.next);
        } else {
          if (!CheckKeys(src, b, {"if", "next"}, "branch")) continue;
          if (!b["if"] || !b["next"]) {
            Error(src, b, "each branch needs if: and next:");
            continue;
          }
          CompileExpr(src, b["if"], env, &added.condition);
          refs->emplace_back(b["next"], &added.next);
        }
      }
      break;
    }
    case StepKind::kSplit: {
      if (!body.IsSequence() || body.size() < 2) {
        Error(src, body, "split is a list of at least two {weight: N, next: step}");
        break;
      }
      s->arms.reserve(body.size());
      for (const auto& a : body) {
        if (!CheckKeys(src, a, {"weight", "next", "label"}, "split arm")) continue;
        s->arms.emplace_back();
        StepDef::Arm& arm = s->arms.back();
        try {
          arm.weight = a["weight"].as<uint32_t>();
        } catch (const YAML::Exception&) {
          Error(src, a["weight"] ? a["weight"] : a, "split weight must be a whole number");
        }
        arm.label = a["label"] ? a["label"].Scalar() : "";
        if (a["next"]) refs->emplace_back(a["next"], &arm.next);
      }
      break;
    }
    case StepKind::kHoldout: {
      std::string text = body.IsMap() && body["percent"] ? body["percent"].Scalar() : body.Scalar();
      if (!text.empty() && text.back() == '%') text.pop_back();
      double pct = -1;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pct);
      if (ec != std::errc() || ptr != text.data() + text.size() || pct < 0 || pct > 100) {
        Error(src, body, "holdout is a percentage between 0 and 100, e.g. 10%");
      } else {
        s->holdout_basis_points = uint32_t(pct * 100 + 0.5);
      }
      break;
    }
    case StepKind::kSend:
      LoadSendStep(src, body, *j, s);
      break;
    case StepKind::kUpdateProfile: {
      if (!CheckKeys(src, body, {"set", "unset"}, "update_profile")) break;
      if (auto set = body["set"]) {
        if (!set.IsMap()) {
          Error(src, set, "set is a mapping of trait names to values");
        } else {
          for (const auto& kv : set) {
            s->set_traits.emplace_back(kv.first.Scalar(), ScalarValue(kv.second));
          }
        }
      }
      if (auto unset = body["unset"]) {
        if (!unset.IsSequence()) {
          Error(src, unset, "unset is a list of trait names");
        } else {
          for (const auto& k : unset) s->unset_traits.push_back(k.Scalar());
        }
      }
      break;
    }
    case StepKind::kWebhook: {
      if (!CheckKeys(src, body, {"url", "template"}, "webhook")) break;
      GetString(src, body["url"], &s->webhook_url, "webhook url");
      std::string tpl;
      if (GetString(src, body["template"], &tpl, "webhook template")) {
        s->template_index = config_->TemplateIndex(tpl);
        if (s->template_index < 0) Error(src, body["template"], "unknown template '" + tpl + "'");
      }
      break;
    }
    case StepKind::kExit:
      s->exit_reason = body.IsScalar() && !body.Scalar().empty() ? body.Scalar() : "exit step";
      break;
  }
}

bool Loader::LoadTrigger(const Source& src, const YAML::Node& node, JourneyDef* j) {
  if (!CheckKeys(src, node, {"event", "segment_enter", "segment_exit", "trait_change", "where"},
                 "trigger"))
    return false;
  int kinds = 0;
  if (auto e = node["event"]) {
    j->trigger_kind = TriggerKind::kEvent;
    j->trigger_event = e.Scalar();
    ++kinds;
  }
  for (auto [key, kind] : {std::pair{"segment_enter", TriggerKind::kSegmentEnter},
                           std::pair{"segment_exit", TriggerKind::kSegmentExit}}) {
    if (auto s = node[key]) {
      j->trigger_kind = kind;
      j->trigger_segment = config_->SegmentIndex(s.Scalar());
      if (j->trigger_segment < 0) Error(src, s, "unknown segment '" + s.Scalar() + "'");
      ++kinds;
    }
  }
  if (auto t = node["trait_change"]) {
    j->trigger_kind = TriggerKind::kTraitChange;
    j->trigger_trait = t.Scalar();
    ++kinds;
  }
  if (kinds != 1) {
    Error(src, node,
          "a trigger names exactly one of event, segment_enter, segment_exit or "
          "trait_change");
    return false;
  }
  if (auto w = node["where"]) {
    expr::CompileEnv env = JourneyEnv(j->trigger_kind == TriggerKind::kEvent ||
                                      j->trigger_kind == TriggerKind::kTraitChange);
    env.allow_trigger = false;
    env.allow_entry = false;
    CompileExpr(src, w, env, &j->entry_filter);
  }
  return true;
}

void Loader::ComputeTriggerNeeds(JourneyDef* j) {
  VariableNeeds& needs = j->trigger_needs;
  needs.any = true;
  auto from_expr = [&](const expr::Expr& e) {
    e.CollectTriggerProperties(&needs.members, &needs.all);
  };
  for (const JourneyDef::ExitRule& x : j->exits) from_expr(x.filter);
  from_expr(j->goal_filter);
  for (const StepDef& s : j->steps) {
    from_expr(s.wait_filter);
    for (const StepDef::Branch& b : s.branches) from_expr(b.condition);
    if (s.template_index >= 0) {
      const VariableNeeds& t = config_->templates[s.template_index].event;
      needs.all |= t.all || t.Wants("properties");
      for (const std::string& m : t.members) {
        if (!needs.Wants(m)) needs.members.push_back(m);
      }
    }
  }
}

void Loader::LoadGoal(const Source& src, const YAML::Node& g, JourneyDef* j) {
  if (!CheckKeys(src, g, {"event", "where", "within", "attribution", "click_window"}, "goal") ||
      !GetString(src, g["event"], &j->goal_event, "goal event")) {
    return;
  }
  j->has_goal = true;
  if (g["where"]) CompileExpr(src, g["where"], JourneyEnv(true), &j->goal_filter);
  bool within_ok = false;
  if (!g["within"]) {
    Error(src, g, "goal needs within: (how long after entry a conversion counts)");
  } else {
    within_ok = GetDuration(src, g["within"], &j->goal_window);
  }
  if (auto a = g["attribution"]) {
    std::string model = a.IsScalar() ? a.Scalar() : "";
    if (model == "view" || model == "click") {
      j->attribution =
          model == "click" ? JourneyDef::Attribution::kClick : JourneyDef::Attribution::kView;
    } else {
      Error(src, a,
            "goal attribution is view (last click, else last send) or click (clicks only)" +
                DidYouMean(model, std::vector<std::string_view>{"view", "click"}));
    }
  }
  if (auto w = g["click_window"]) {
    Duration d{};
    if (!GetDuration(src, w, &d)) return;
    if (within_ok && d > j->goal_window) {
      Error(src, w,
            "click_window " + FormatDuration(d) + " is longer than the goal window " +
                FormatDuration(j->goal_window) +
                " (every click of an instance is within the goal window already)");
      return;
    }
    j->click_window = d;
  }
}

void Loader::LoadJourney(const Source& src, const YAML::Node& node) {
  if (!CheckKeys(src, node,
                 {"id", "name", "description", "stage", "version", "trigger", "key", "reentry",
                  "exit_on", "goal", "steps"},
                 "journey"))
    return;
  auto j = std::make_shared<JourneyDef>();
  if (!GetId(src, node["id"], &j->id, "journey id")) return;
  AppendFlow(node, &j->source);
  for (const auto& other : config_->journeys) {
    if (other->id == j->id) {
      Error(src, node["id"], "duplicate journey id '" + j->id + "'");
      return;
    }
  }
  j->name = node["name"] ? node["name"].Scalar() : j->id;
  j->stage = node["stage"] ? node["stage"].Scalar() : "";
  if (auto v = node["version"]) {
    try {
      j->version = v.as<uint32_t>();
    } catch (const YAML::Exception&) {
      Error(src, v, "version must be a whole number");
    }
  }
  if (!node["trigger"]) {
    Error(src, node, "journey '" + j->id + "' needs a trigger");
  } else {
    LoadTrigger(src, node["trigger"], j.get());
  }
  if (auto k = node["key"]) CompileExpr(src, k, JourneyEnv(true), &j->key);
  if (auto r = node["reentry"]) {
    if (r.IsScalar() && (r.Scalar() == "never" || r.Scalar() == "always")) {
      j->reentry =
          r.Scalar() == "never" ? JourneyDef::Reentry::kNever : JourneyDef::Reentry::kAlways;
    } else if (r.IsMap() && r["cooldown"] && CheckKeys(src, r, {"cooldown"}, "reentry")) {
      j->reentry = JourneyDef::Reentry::kCooldown;
      GetDuration(src, r["cooldown"], &j->cooldown);
    } else {
      Error(src, r, "reentry is never, always, or {cooldown: DURATION}");
    }
  }
  if (auto exits = node["exit_on"]) {
    if (!exits.IsSequence()) {
      Error(src, exits, "exit_on is a list of {event: NAME, where: CONDITION, reason: TEXT}");
      return;
    }
    for (const auto& x : exits) {
      if (!CheckKeys(src, x, {"event", "where", "reason"}, "exit_on")) continue;
      JourneyDef::ExitRule rule;
      if (!GetString(src, x["event"], &rule.event, "exit_on event")) continue;
      if (x["where"]) CompileExpr(src, x["where"], JourneyEnv(true), &rule.filter);
      rule.reason = x["reason"] ? x["reason"].Scalar() : rule.event;
      j->exits.push_back(std::move(rule));
    }
  }
  if (auto g = node["goal"]) LoadGoal(src, g, j.get());

  YAML::Node steps = node["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    Error(src, steps ? steps : node, "journey '" + j->id + "' needs a non-empty list of steps");
    return;
  }
  j->steps.resize(steps.size());
  std::set<std::string> ids;
  for (size_t i = 0; i < steps.size(); ++i) {
    StepDef& s = j->steps[i];
    if (!steps[i].IsMap()) {
      Error(src, steps[i], "a step is a mapping such as {id: remind, send: {...}}");
      continue;
    }
    s.id = std::to_string(i + 1);
    if (steps[i]["id"]) {
      GetId(src, steps[i]["id"], &s.id, "step id");
      if (s.id == "end") Error(src, steps[i]["id"], "step id 'end' is reserved (next: end)");
    }
    if (!ids.insert(s.id).second) Error(src, steps[i], "duplicate step id '" + s.id + "'");
    s.next = i + 1 < steps.size() ? int(i + 1) : kEnd;
  }
  std::vector<std::pair<YAML::Node, int*>> refs;
  size_t errors_before = errors_.size();
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].IsMap()) LoadStep(src, steps[i], j.get(), &j->steps[i], &refs);
  }
  for (auto& [ref, target] : refs) {
    std::string name = ref.Scalar();
    if (name == "end") {
      *target = kEnd;
      continue;
    }
    int idx = j->StepIndex(name);
    if (idx < 0) {
      Error(src, ref, "no step '" + name + "' in journey '" + j->id + "'");
    } else {
      *target = idx;
    }
  }
  ComputeTriggerNeeds(j.get());
  // A step that failed to load has no edges; graph errors would only repeat that problem.
  if (errors_.size() == errors_before) CheckGraph(src, steps, *j);
  config_->journeys.push_back(std::move(j));
}

std::vector<int> Successors(const StepDef& s) {
  std::vector<int> out;
  switch (s.kind) {
    case StepKind::kWaitFor:
      out = {s.on_event, s.on_timeout};
      break;
    case StepKind::kBranch:
      for (const auto& b : s.branches) out.push_back(b.next);
      break;
    case StepKind::kSplit:
      for (const auto& a : s.arms) out.push_back(a.next);
      break;
    case StepKind::kExit:
      break;
    default:
      out = {s.next};
  }
  std::erase(out, kEnd);
  return out;
}

bool IsWait(StepKind k) {
  return k == StepKind::kWait || k == StepKind::kWaitUntil || k == StepKind::kWaitFor;
}

void Loader::CheckGraph(const Source& src, const YAML::Node& steps_node, const JourneyDef& j) {
  size_t n = j.steps.size();
  if (j.steps[0].kind == StepKind::kWaitFor && j.steps[0].on_event == kEnd &&
      j.steps[0].on_timeout == kEnd) {
    // Harmless; nothing to check.
  }
  // Reachability from the entry step.
  std::vector<bool> seen(n, false);
  std::vector<int> stack = {0};
  seen[0] = true;
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    for (int next : Successors(j.steps[i])) {
      if (!seen[next]) {
        seen[next] = true;
        stack.push_back(next);
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!seen[i]) Error(src, steps_node[i], "step '" + j.steps[i].id + "' is unreachable");
  }
  // A cycle must pass through a wait, or an instance would spin forever at one instant.
  std::vector<int> color(n, 0);  // 0 new, 1 on stack, 2 done
  std::function<bool(int)> visit = [&](int i) -> bool {
    color[i] = 1;
    if (!IsWait(j.steps[i].kind)) {
      for (int next : Successors(j.steps[i])) {
        if (color[next] == 1) {
          Error(src, steps_node[next],
                "steps from '" + j.steps[next].id +
                    "' back to itself "
                    "form a cycle without a wait");
          return true;
        }
        if (color[next] == 0 && visit(next)) return true;
      }
    }
    color[i] = 2;
    return false;
  };
  for (size_t i = 0; i < n; ++i) {
    if (color[i] == 0 && visit(int(i))) break;
  }
}

void Loader::Build() {
  for (const Located& l : sections_["settings"]) Guarded(*l.src, l.node, [&] { LoadSettings(l); });
  for (const Located& l : sections_["delivery"]) Guarded(*l.src, l.node, [&] { LoadDelivery(l); });
  if (config_->settings.default_timezone == nullptr) config_->settings.default_timezone = UtcZone();
  config_->history.max_entries = config_->settings.history_limit;
  try {
    LoadChannels();
  } catch (const YAML::Exception& e) {
    errors_.push_back("channels: malformed section: " + e.msg);
  }
  for (const Located& l : sections_["policies"]) Guarded(*l.src, l.node, [&] { LoadPolicies(l); });

  // Segment names first, so conditions may refer to segments defined later.
  std::vector<std::pair<const Source*, YAML::Node>> seg_nodes;
  for (const Located& l : sections_["segments"]) {
    if (!l.node.IsSequence()) {
      Error(*l.src, l.node, "segments must be a list");
      continue;
    }
    for (const auto& s : l.node) {
      std::string id = s.IsMap() && s["id"] ? s["id"].Scalar() : "";
      if (std::find(config_->segment_names.begin(), config_->segment_names.end(), id) !=
          config_->segment_names.end()) {
        Error(*l.src, s, "duplicate segment id '" + id + "'");
        continue;
      }
      config_->segment_names.push_back(id);
      config_->segments.emplace_back();
      config_->segments.back().id = id;
      seg_nodes.emplace_back(l.src, s);
    }
  }
  for (auto& entry : seg_nodes) {
    Guarded(*entry.first, entry.second, [&] { LoadSegment(*entry.first, entry.second); });
  }

  for (const Located& l : sections_["templates"]) {
    if (!l.node.IsSequence()) {
      Error(*l.src, l.node, "templates must be a list");
      continue;
    }
    for (const auto& t : l.node) Guarded(*l.src, t, [&] { LoadTemplate(*l.src, t); });
  }
  for (const Located& l : sections_["journeys"]) {
    if (!l.node.IsSequence()) {
      Error(*l.src, l.node, "journeys must be a list");
      continue;
    }
    for (const auto& j : l.node) Guarded(*l.src, j, [&] { LoadJourney(*l.src, j); });
  }
}

void Loader::BuildJourney(const std::string& text, const std::string& name) {
  auto owned = std::make_unique<Source>();
  Source& src = *owned;
  src.name = name;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    src.lines.push_back(line);
  }
  sources_.push_back(std::move(owned));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    ErrorAt(src, std::max(e.mark.line, 0), std::max(e.mark.column, 0), e.msg);
    return;
  }
  if (!root.IsMap()) {
    Error(src, root, "a journey is a mapping with id, trigger and steps");
    return;
  }
  // A config file holding just one journey is accepted too.
  if (root["journeys"]) {
    if (root.size() != 1 || !root["journeys"].IsSequence() || root["journeys"].size() != 1) {
      Error(src, root, "expected one journey (a mapping with id, trigger and steps)");
      return;
    }
    root = root["journeys"][0];
  }
  Guarded(src, root, [&] { LoadJourney(src, root); });
}

Result<std::shared_ptr<const Config>> Finish(Loader* loader, std::shared_ptr<Config> config,
                                             std::vector<std::string>* errors) {
  if (errors != nullptr) *errors = loader->errors();
  config->history.InternNames();
  if (loader->errors().empty()) return std::shared_ptr<const Config>(std::move(config));
  std::string all;
  for (const std::string& e : loader->errors()) all += (all.empty() ? "" : "\n") + e;
  return Status::Invalid(all);
}

}  // namespace

Result<std::shared_ptr<const Config>> LoadConfigText(const std::string& text,
                                                     const std::string& name,
                                                     std::vector<std::string>* errors) {
  auto config = std::make_shared<Config>();
  Loader loader(config.get());
  loader.AddText(text, name);
  loader.Build();
  return Finish(&loader, std::move(config), errors);
}

Result<std::shared_ptr<JourneyDef>> LoadJourneyText(const Config& base, const std::string& text,
                                                    const std::string& name,
                                                    std::vector<std::string>* errors) {
  // The loader resolves names against the config it builds: give it base's segments, templates
  // and channels, and none of its journeys (an id may repeat: that is a new version).
  Config scratch;
  scratch.settings = base.settings;
  scratch.channels = base.channels;
  scratch.segments = base.segments;
  scratch.segment_names = base.segment_names;
  scratch.templates = base.templates;
  Loader loader(&scratch);
  loader.BuildJourney(text, name);
  if (errors != nullptr) *errors = loader.errors();
  if (!loader.errors().empty()) {
    std::string all;
    for (const std::string& e : loader.errors()) all += (all.empty() ? "" : "\n") + e;
    return Status::Invalid(all);
  }
  if (scratch.journeys.empty()) return Status::Internal(name + ": no journey loaded");
  return std::const_pointer_cast<JourneyDef>(scratch.journeys.back());
}

Result<std::shared_ptr<const Config>> LoadConfig(const std::string& path,
                                                 std::vector<std::string>* errors) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
      std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
        files.push_back(entry.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return Status::Invalid(path + ": no .yaml, .yml or .json files");
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return Status::Io(path + ": no such file or directory");
  }
  auto config = std::make_shared<Config>();
  Loader loader(config.get());
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return Status::Io(f + ": cannot read");
    std::stringstream buf;
    buf << in.rdbuf();
    loader.AddText(buf.str(), f);
  }
  loader.Build();
  return Finish(&loader, std::move(config), errors);
}

}  // namespace waymark
