#include "ingest/mapping.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>

namespace waymark::ingest {

namespace {

using KeyList = std::span<const std::string_view>;

constexpr std::string_view kTopKeys[] = {
    "format",    "delimiter",  "header",  "columns",      "quote",       "null_values",
    "type",      "event",      "user_id", "anonymous_id", "previous_id", "group_id",
    "timestamp", "properties", "traits",  "context",      "message_id"};
constexpr std::string_view kValueKeys[] = {"column", "value",   "template", "prefix",
                                           "map",    "default", "skip"};
constexpr std::string_view kTypedValueKeys[] = {"column", "value",   "template", "prefix",
                                                "map",    "default", "skip",     "type"};
constexpr std::string_view kTimestampKeys[] = {"column",   "template", "unit", "format",
                                               "timezone", "plus",     "from", "until"};
constexpr std::string_view kPlusKeys[] = {"column", "unit"};
constexpr std::string_view kContextKeys[] = {"timezone"};

std::string JoinKeys(KeyList keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// Builds a Mapping from a YAML document, remembering positions for messages.
class Loader {
 public:
  Loader(std::string_view path, Mapping* mapping) : path_(path), m_(mapping) {}

  Status Load(const YAML::Node& root);

 private:
  Status Error(const YAML::Node& node, std::string_view message) const {
    return Error(Pos(node), message);
  }
  Status Error(MappingPos pos, std::string_view message) const {
    return Status::Invalid(path_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.col) +
                           ": " + std::string(message));
  }
  static MappingPos Pos(const YAML::Node& node) {
    YAML::Mark mark = node.Mark();
    return {mark.line < 0 ? 1 : mark.line + 1, mark.column < 0 ? 1 : mark.column + 1};
  }

  Status CheckKeys(const YAML::Node& map, KeyList allowed, std::string_view where) const;
  Status Scalar(const YAML::Node& node, std::string_view what, std::string* out) const;
  Status Bool(const YAML::Node& node, std::string_view what, bool* out) const;
  Status ScalarList(const YAML::Node& node, std::string_view what,
                    std::vector<std::string>* out) const;

  Status LoadDialect(const YAML::Node& root);
  Status LoadType(const YAML::Node& root);
  Status LoadValue(const YAML::Node& node, std::string_view what, bool typed, ValueSpec* out);
  Status LoadValueMap(const YAML::Node& node, std::string_view what, ValueSpec* out);
  Status LoadTemplate(const YAML::Node& node, std::string_view what, ValueSpec* out);
  Status LoadTimestamp(const YAML::Node& node);
  Status LoadPlus(const YAML::Node& node);
  Status LoadNamedValues(const YAML::Node& node, std::string_view what,
                         std::vector<std::pair<std::string, ValueSpec>>* out);
  Status LoadContext(const YAML::Node& node);
  Status LoadMessageId(const YAML::Node& node);
  Status CheckRequired(const YAML::Node& root) const;
  Status CheckDeclaredColumns() const;

  void AddColumn(const std::string& name, MappingPos pos, ValueSpec* out) {
    out->parts.push_back({"", int(m_->column_refs.size())});
    m_->column_refs.push_back({name, pos});
  }

  std::string path_;
  Mapping* m_;
};

Status Loader::CheckKeys(const YAML::Node& map, KeyList allowed, std::string_view where) const {
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    bool known = false;
    for (std::string_view k : allowed) known |= k == key;
    if (!known) {
      std::string in = where.empty() ? "" : " in '" + std::string(where) + "'";
      return Error(it->first,
                   "unknown key '" + key + "'" + in + "; expected one of: " + JoinKeys(allowed));
    }
  }
  return Status::Ok();
}

Status Loader::Scalar(const YAML::Node& node, std::string_view what, std::string* out) const {
  if (!node.IsScalar()) return Error(node, std::string(what) + ": expected a single value");
  *out = node.Scalar();
  return Status::Ok();
}

Status Loader::Bool(const YAML::Node& node, std::string_view what, bool* out) const {
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, *out)) {
    return Error(node, std::string(what) + ": expected true or false");
  }
  return Status::Ok();
}

Status Loader::ScalarList(const YAML::Node& node, std::string_view what,
                          std::vector<std::string>* out) const {
  if (!node.IsSequence()) return Error(node, std::string(what) + ": expected a list");
  out->clear();
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      return Error(item, std::string(what) + ": expected a list of single values");
    }
    out->push_back(item.Scalar());
  }
  return Status::Ok();
}

Status Loader::Load(const YAML::Node& root) {
  if (!root.IsMap()) return Error(root, "expected a map of mapping keys at the top level");
  WAYMARK_RETURN_IF_ERROR(CheckKeys(root, kTopKeys, ""));
  WAYMARK_RETURN_IF_ERROR(LoadDialect(root));
  WAYMARK_RETURN_IF_ERROR(LoadType(root));

  struct Named {
    const char* key;
    ValueSpec* spec;
  };
  for (Named n : {Named{"event", &m_->event}, Named{"user_id", &m_->user_id},
                  Named{"anonymous_id", &m_->anonymous_id}, Named{"previous_id", &m_->previous_id},
                  Named{"group_id", &m_->group_id}}) {
    if (!root[n.key]) continue;
    bool allow_constant = std::string_view(n.key) == "event";
    if (!allow_constant && root[n.key].IsScalar()) {
      return Error(root[n.key], std::string(n.key) +
                                    ": expected {column: ...}, {value: ...} or "
                                    "{template: ...}, got '" +
                                    root[n.key].Scalar() + "'");
    }
    WAYMARK_RETURN_IF_ERROR(LoadValue(root[n.key], n.key, false, n.spec));
  }
  if (root["timestamp"]) WAYMARK_RETURN_IF_ERROR(LoadTimestamp(root["timestamp"]));
  if (root["properties"]) {
    WAYMARK_RETURN_IF_ERROR(LoadNamedValues(root["properties"], "properties", &m_->properties));
  }
  if (root["traits"]) {
    WAYMARK_RETURN_IF_ERROR(LoadNamedValues(root["traits"], "traits", &m_->traits));
  }
  if (root["context"]) WAYMARK_RETURN_IF_ERROR(LoadContext(root["context"]));
  if (root["message_id"]) WAYMARK_RETURN_IF_ERROR(LoadMessageId(root["message_id"]));
  WAYMARK_RETURN_IF_ERROR(CheckRequired(root));
  return CheckDeclaredColumns();
}

Status Loader::LoadDialect(const YAML::Node& root) {
  std::string text;
  if (const YAML::Node n = root["format"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "format", &text));
    if (text != "csv") return Error(n, "format: unsupported format '" + text + "'; use 'csv'");
  }
  if (const YAML::Node n = root["delimiter"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "delimiter", &text));
    if (text == "whitespace") {
      m_->dialect.whitespace = true;
      m_->dialect.quoting = false;
    } else if (text.size() == 1 && text[0] != '\n' && text[0] != '\r') {
      m_->dialect.delimiter = text[0];
    } else if (text == "\\t") {
      m_->dialect.delimiter = '\t';
    } else {
      return Error(n, "delimiter: expected one character or 'whitespace', got '" + text + "'");
    }
  }
  if (const YAML::Node n = root["quote"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "quote", &text));
    if (m_->dialect.whitespace) {
      return Error(n, "quote: not available with 'delimiter: whitespace'");
    }
    if (text == "none") {
      m_->dialect.quoting = false;
    } else if (text.size() == 1 && text[0] != m_->dialect.delimiter) {
      m_->dialect.quote = text[0];
    } else {
      return Error(n, "quote: expected one character other than the delimiter, or 'none', got '" +
                          text + "'");
    }
  }
  if (const YAML::Node n = root["header"]) WAYMARK_RETURN_IF_ERROR(Bool(n, "header", &m_->header));
  if (const YAML::Node n = root["columns"]) {
    WAYMARK_RETURN_IF_ERROR(ScalarList(n, "columns", &m_->columns));
    m_->columns_pos = Pos(n);
  }
  if (const YAML::Node n = root["null_values"]) {
    WAYMARK_RETURN_IF_ERROR(ScalarList(n, "null_values", &m_->null_values));
  }
  if (!m_->header && m_->columns.empty()) {
    return Error(root, "columns: required when 'header' is false");
  }
  return Status::Ok();
}

Status Loader::LoadType(const YAML::Node& root) {
  m_->constant_type = EventType::kTrack;
  const YAML::Node n = root["type"];
  if (!n) return Status::Ok();
  WAYMARK_RETURN_IF_ERROR(LoadValue(n, "type", false, &m_->type));
  const ValueSpec& t = m_->type;
  bool constant = t.parts.size() == 1 && t.parts[0].column < 0;
  if (!constant) {
    m_->constant_type.reset();
    return Status::Ok();
  }
  EventType type;
  if (!ParseEventType(t.parts[0].literal, &type)) {
    return Error(n, "type: unknown event type '" + t.parts[0].literal +
                        "'; expected track, identify, page, screen, alias or group");
  }
  m_->constant_type = type;
  return Status::Ok();
}

Status Loader::LoadValue(const YAML::Node& node, std::string_view what, bool typed,
                         ValueSpec* out) {
  if (node.IsScalar()) {
    out->parts.push_back({node.Scalar(), -1});
    out->label = "value '" + node.Scalar() + "'";
    return Status::Ok();
  }
  if (!node.IsMap()) {
    return Error(node, std::string(what) +
                           ": expected a value or a map with 'column', 'value' "
                           "or 'template'");
  }
  WAYMARK_RETURN_IF_ERROR(
      CheckKeys(node, typed ? KeyList(kTypedValueKeys) : KeyList(kValueKeys), what));
  int sources = (node["column"] ? 1 : 0) + (node["value"] ? 1 : 0) + (node["template"] ? 1 : 0);
  if (sources != 1) {
    return Error(node, std::string(what) +
                           ": needs exactly one of 'column', 'value' or "
                           "'template'");
  }
  std::string text;
  if (const YAML::Node n = node["prefix"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, std::string(what) + ".prefix", &text));
    out->parts.push_back({text, -1});
  }
  if (const YAML::Node n = node["column"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, std::string(what) + ".column", &text));
    AddColumn(text, Pos(n), out);
    out->label = "column '" + text + "'";
  } else if (const YAML::Node v = node["value"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(v, std::string(what) + ".value", &text));
    out->parts.push_back({text, -1});
    out->label = "value '" + text + "'";
  } else {
    WAYMARK_RETURN_IF_ERROR(LoadTemplate(node["template"], what, out));
  }
  return LoadValueMap(node, what, out);
}

// The optional map, default, skip and type of a value.
Status Loader::LoadValueMap(const YAML::Node& node, std::string_view what, ValueSpec* out) {
  std::string w(what);
  if (const YAML::Node n = node["map"]) {
    if (!n.IsMap()) return Error(n, w + ".map: expected a map of 'from: to' values");
    out->has_map = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        return Error(it->first, w + ".map: expected single values on both sides");
      }
      out->map.insert_or_assign(it->first.Scalar(), it->second.Scalar());
    }
  }
  if (const YAML::Node n = node["default"]) {
    std::string text;
    WAYMARK_RETURN_IF_ERROR(Scalar(n, w + ".default", &text));
    out->default_value = text;
  }
  if (const YAML::Node n = node["skip"]) {
    std::vector<std::string> values;
    if (n.IsScalar()) {
      values.push_back(n.Scalar());
    } else {
      WAYMARK_RETURN_IF_ERROR(ScalarList(n, w + ".skip", &values));
    }
    out->skip.insert(values.begin(), values.end());
  }
  if (const YAML::Node n = node["type"]) {
    std::string text;
    WAYMARK_RETURN_IF_ERROR(Scalar(n, w + ".type", &text));
    if (text == "string") {
      out->kind = ValueKind::kString;
    } else if (text == "number") {
      out->kind = ValueKind::kNumber;
    } else if (text == "integer") {
      out->kind = ValueKind::kInteger;
    } else if (text == "boolean") {
      out->kind = ValueKind::kBoolean;
    } else {
      return Error(
          n, w + ".type: unknown type '" + text + "'; expected string, number, integer or boolean");
    }
  }
  return Status::Ok();
}

// "2015-{month}-{day}": text in braces names a column; "{{" and "}}" stand for literal braces.
Status Loader::LoadTemplate(const YAML::Node& node, std::string_view what, ValueSpec* out) {
  std::string text;
  WAYMARK_RETURN_IF_ERROR(Scalar(node, std::string(what) + ".template", &text));
  out->label = "template '" + text + "'";
  std::string literal;
  bool has_column = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (c == '}') return Error(node, std::string(what) + ": template has an unmatched '}'");
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) {
      return Error(node, std::string(what) + ": template has an unclosed '{'");
    }
    if (close == i + 1) return Error(node, std::string(what) + ": template has an empty '{}'");
    if (!literal.empty()) out->parts.push_back({std::move(literal), -1});
    literal.clear();
    AddColumn(text.substr(i + 1, close - i - 1), Pos(node), out);
    has_column = true;
    i = close;
  }
  if (!literal.empty()) out->parts.push_back({std::move(literal), -1});
  if (!has_column) {
    return Error(node, std::string(what) +
                           ": template names no column; use 'value' for a "
                           "constant");
  }
  return Status::Ok();
}

Status Loader::LoadTimestamp(const YAML::Node& node) {
  if (!node.IsMap()) return Error(node, "timestamp: expected a map with 'column' or 'template'");
  WAYMARK_RETURN_IF_ERROR(CheckKeys(node, kTimestampKeys, "timestamp"));
  TimestampSpec& ts = m_->timestamp;
  std::string text;
  if (node["column"] && node["template"]) {
    return Error(node, "timestamp: 'column' and 'template' cannot be used together");
  }
  if (const YAML::Node n = node["column"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "timestamp.column", &text));
    AddColumn(text, Pos(n), &ts.value);
    ts.value.label = "column '" + text + "'";
  } else if (const YAML::Node t = node["template"]) {
    WAYMARK_RETURN_IF_ERROR(LoadTemplate(t, "timestamp", &ts.value));
  } else {
    return Error(node, "timestamp: needs 'column' or 'template'");
  }

  if (node["unit"] && node["format"]) {
    return Error(node["format"], "timestamp: 'unit' and 'format' cannot be used together");
  }
  if (const YAML::Node n = node["unit"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "timestamp.unit", &text));
    if (text != "s" && text != "ms") {
      return Error(n, "timestamp.unit: expected 's' or 'ms', got '" + text + "'");
    }
    ts.encoding = text == "s" ? TimestampSpec::Encoding::kEpochSeconds
                              : TimestampSpec::Encoding::kEpochMillis;
  }
  if (const YAML::Node n = node["format"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "timestamp.format", &text));
    Result<TimeFormat> format = TimeFormat::Compile(text);
    if (!format.ok()) return Error(n, "timestamp." + format.status().message());
    ts.format = std::move(format).value();
    ts.encoding = TimestampSpec::Encoding::kFormat;
  }
  if (const YAML::Node n = node["timezone"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "timestamp.timezone", &text));
    if (ts.encoding != TimestampSpec::Encoding::kFormat) {
      return Error(n,
                   "timestamp.timezone: only used with 'format' (epoch and ISO-8601 times "
                   "are absolute)");
    }
    ts.zone = FindTimeZone(text);
    if (ts.zone == nullptr) return Error(n, "timestamp.timezone: unknown time zone '" + text + "'");
    ts.zone_name = text;
  }
  if (const YAML::Node n = node["plus"]) WAYMARK_RETURN_IF_ERROR(LoadPlus(n));
  for (auto [key, out] : {std::pair{"from", &ts.from}, std::pair{"until", &ts.until}}) {
    const YAML::Node n = node[key];
    if (!n) continue;
    WAYMARK_RETURN_IF_ERROR(Scalar(n, std::string("timestamp.") + key, &text));
    std::optional<Time> t = ParseIsoTime(text);
    if (!t) {
      return Error(n, std::string("timestamp.") + key + ": '" + text +
                          "' is not an ISO-8601 time (e.g. 2017-11-25T00:00:00+08:00)");
    }
    *out = *t;
  }
  if (ts.from >= ts.until) {
    return Error(node["until"], "timestamp.until: must be later than timestamp.from");
  }
  return Status::Ok();
}

Status Loader::LoadPlus(const YAML::Node& node) {
  if (!node.IsMap()) return Error(node, "timestamp.plus: expected a map with 'column' and 'unit'");
  WAYMARK_RETURN_IF_ERROR(CheckKeys(node, kPlusKeys, "timestamp.plus"));
  if (!node["column"] || !node["unit"]) {
    return Error(node, "timestamp.plus: needs 'column' and 'unit'");
  }
  TimestampSpec& ts = m_->timestamp;
  std::string text;
  WAYMARK_RETURN_IF_ERROR(Scalar(node["column"], "timestamp.plus.column", &text));
  AddColumn(text, Pos(node["column"]), &ts.plus);
  ts.plus.label = "column '" + text + "'";
  WAYMARK_RETURN_IF_ERROR(Scalar(node["unit"], "timestamp.plus.unit", &text));
  if (text != "s" && text != "ms") {
    return Error(node["unit"], "timestamp.plus.unit: expected 's' or 'ms', got '" + text + "'");
  }
  ts.plus_unit_millis = text == "s" ? 1000 : 1;
  return Status::Ok();
}

Status Loader::LoadNamedValues(const YAML::Node& node, std::string_view what,
                               std::vector<std::pair<std::string, ValueSpec>>* out) {
  if (!node.IsMap()) return Error(node, std::string(what) + ": expected a map of names");
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string name;
    WAYMARK_RETURN_IF_ERROR(Scalar(it->first, what, &name));
    std::string path = std::string(what) + "." + name;
    if (it->second.IsScalar()) {
      return Error(it->second, path +
                                   ": expected {column: ...}, {value: ...} or "
                                   "{template: ...}, got '" +
                                   it->second.Scalar() + "'");
    }
    ValueSpec spec;
    WAYMARK_RETURN_IF_ERROR(LoadValue(it->second, path, true, &spec));
    out->emplace_back(std::move(name), std::move(spec));
  }
  return Status::Ok();
}

Status Loader::LoadContext(const YAML::Node& node) {
  if (!node.IsMap()) return Error(node, "context: expected a map");
  WAYMARK_RETURN_IF_ERROR(CheckKeys(node, kContextKeys, "context"));
  if (const YAML::Node n = node["timezone"]) {
    WAYMARK_RETURN_IF_ERROR(Scalar(n, "context.timezone", &m_->timezone));
    if (FindTimeZone(m_->timezone) == nullptr) {
      return Error(n, "context.timezone: unknown time zone '" + m_->timezone + "'");
    }
  }
  return Status::Ok();
}

Status Loader::LoadMessageId(const YAML::Node& node) {
  if (node.IsScalar()) {
    if (node.Scalar() == "row_hash") {
      m_->message_id_source = MessageIdSource::kRowHash;
    } else if (node.Scalar() == "line") {
      m_->message_id_source = MessageIdSource::kLine;
    } else {
      return Error(node, "message_id: expected 'row_hash', 'line' or {column: ...}, got '" +
                             node.Scalar() + "'");
    }
    return Status::Ok();
  }
  m_->message_id_source = MessageIdSource::kValue;
  return LoadValue(node, "message_id", false, &m_->message_id);
}

Status Loader::CheckRequired(const YAML::Node& root) const {
  if (!m_->timestamp.value.is_set()) return Error(root, "missing required key 'timestamp'");
  if (!m_->user_id.is_set() && !m_->anonymous_id.is_set()) {
    return Error(root, "needs 'user_id' or 'anonymous_id' (or both)");
  }
  if (m_->constant_type == EventType::kTrack && !m_->event.is_set()) {
    return Error(root, "missing required key 'event' (track events need a name)");
  }
  if (m_->constant_type == EventType::kAlias && !m_->previous_id.is_set()) {
    return Error(root, "missing required key 'previous_id' (alias events need one)");
  }
  return Status::Ok();
}

Status Loader::CheckDeclaredColumns() const {
  if (m_->columns.empty()) return Status::Ok();
  std::vector<std::string_view> names(m_->columns.begin(), m_->columns.end());
  Result<std::vector<int>> bound = BindColumns(*m_, names, "'columns'");
  return bound.ok() ? Status::Ok() : bound.status();
}

}  // namespace

Result<Mapping> ParseMapping(std::string_view yaml, std::string_view path) {
  Mapping mapping;
  mapping.path = std::string(path);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    Loader loader(path, &mapping);
    WAYMARK_RETURN_IF_ERROR(loader.Load(root));
  } catch (const YAML::Exception& e) {
    return Status::Invalid(std::string(path) + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  return mapping;
}

Result<Mapping> LoadMapping(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot open mapping '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::Io("cannot read mapping '" + path + "'");
  return ParseMapping(text.str(), path);
}

Result<std::vector<int>> BindColumns(const Mapping& mapping,
                                     const std::vector<std::string_view>& names,
                                     std::string_view source) {
  std::vector<int> indices;
  indices.reserve(mapping.column_refs.size());
  for (const ColumnRef& ref : mapping.column_refs) {
    int found = -1;
    for (size_t i = 0; i < names.size() && found < 0; ++i) {
      if (names[i] == ref.name) found = int(i);
    }
    if (found < 0) {
      return Status::Invalid(mapping.path + ":" + std::to_string(ref.pos.line) + ":" +
                             std::to_string(ref.pos.col) + ": column '" + ref.name +
                             "' is not in " + std::string(source));
    }
    indices.push_back(found);
  }
  return indices;
}

}  // namespace waymark::ingest
