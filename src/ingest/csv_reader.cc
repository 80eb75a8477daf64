#include "ingest/csv_reader.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "core/hash.h"
#include "ingest/chunked_read.h"

namespace waymark::ingest {

namespace {

// A rejected row: what is wrong, and the byte it points at (null: the start of the row).
struct RowError {
  const char* at = nullptr;
  std::string message;
};

enum class Outcome { kEvent, kSkip, kBad };

// Result of looking a value up in a row.
enum class Lookup { kPresent, kAbsent, kSkip, kUnmapped };

// "'text'". Built by appending: GCC 12 gives a false -Wrestrict for "'" + std::string(...).
std::string Quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  out.append(text);
  out.push_back('\'');
  return out;
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

bool ParseDouble(std::string_view text, double* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() &&
         std::isfinite(*out);
}

// Turns one split record into an event. Holds per-file state: bound column indices, the
// time-zone cache and scratch buffers, so it is used by one thread for one file.
class RowConverter {
 public:
  RowConverter(const Mapping& mapping, std::vector<int> bound, std::string_view path)
      : m_(mapping),
        bound_(std::move(bound)),
        path_(path),
        source_prefix_(std::string(path) + ":"),
        zone_(mapping.timestamp.zone) {
    std::string_view base = path.substr(path.find_last_of('/') + 1);
    line_id_seed_ = Hash64(base);
  }

  Outcome Convert(const CsvRecord& record, Event* event, RowError* error);

 private:
  bool IsNull(std::string_view text) const {
    for (const std::string& n : m_.null_values) {
      if (text == n) return true;
    }
    return false;
  }
  const CsvField& Field(const CsvRecord& record, const ValuePart& part) const {
    return record.fields[size_t(bound_[size_t(part.column)])];
  }
  // The first byte of the first column a value reads; null for constants.
  const char* Anchor(const ValueSpec& spec, const CsvRecord& record) const;

  Lookup Get(const ValueSpec& spec, const CsvRecord& record, std::string* scratch,
             std::string_view* out) const;
  bool GetId(const ValueSpec& spec, const CsvRecord& record, std::string* out, Outcome* outcome,
             RowError* error);
  Outcome ConvertNames(const CsvRecord& record, Event* event, RowError* error);
  Outcome ConvertIds(const CsvRecord& record, Event* event, RowError* error);
  bool ConvertTime(const CsvRecord& record, Time* out, RowError* error);
  Outcome ConvertValues(const std::vector<std::pair<std::string, ValueSpec>>& specs,
                        const CsvRecord& record, Value* out, RowError* error);
  bool TypedValue(const ValueSpec& spec, std::string_view text, const CsvRecord& record, Value* out,
                  RowError* error) const;
  void SetMessageId(const CsvRecord& record, Event* event);
  Outcome Fail(const ValueSpec& spec, const CsvRecord& record, std::string message,
               RowError* error) const;

  const Mapping& m_;
  std::vector<int> bound_;
  std::string_view path_;
  std::string source_prefix_;
  uint64_t line_id_seed_;
  LocalTimeConverter zone_;
  std::string scratch_;
};

const char* RowConverter::Anchor(const ValueSpec& spec, const CsvRecord& record) const {
  for (const ValuePart& part : spec.parts) {
    if (part.column >= 0) return Field(record, part).start;
  }
  return nullptr;
}

Outcome RowConverter::Fail(const ValueSpec& spec, const CsvRecord& record, std::string message,
                           RowError* error) const {
  error->at = Anchor(spec, record);
  error->message = spec.label.empty() ? std::move(message) : spec.label + ": " + message;
  return Outcome::kBad;
}

// Reads a value's raw text (a view into the row, the mapping or `scratch`), then applies its
// skip list, rename map and default.
Lookup RowConverter::Get(const ValueSpec& spec, const CsvRecord& record, std::string* scratch,
                         std::string_view* out) const {
  bool present = true;
  if (spec.parts.size() == 1) {
    const ValuePart& part = spec.parts[0];
    *out = part.column < 0 ? std::string_view(part.literal) : Field(record, part).text;
    present = part.column < 0 || !IsNull(*out);
  } else {
    scratch->clear();
    for (const ValuePart& part : spec.parts) {
      std::string_view text = part.column < 0 ? part.literal : Field(record, part).text;
      if (part.column >= 0 && IsNull(text)) present = false;
      scratch->append(text);
    }
    *out = *scratch;
  }

  if (present && !spec.skip.empty() &&
      spec.skip.contains(absl::string_view(out->data(), out->size()))) {
    return Lookup::kSkip;
  }
  if (present && spec.has_map) {
    auto it = spec.map.find(absl::string_view(out->data(), out->size()));
    if (it != spec.map.end()) {
      *out = it->second;
      return Lookup::kPresent;
    }
  }
  if ((!present || spec.has_map) && spec.default_value) {
    *out = *spec.default_value;
    return Lookup::kPresent;
  }
  if (!present) return Lookup::kAbsent;
  return spec.has_map ? Lookup::kUnmapped : Lookup::kPresent;
}

Outcome RowConverter::Convert(const CsvRecord& record, Event* event, RowError* error) {
  Outcome outcome = ConvertNames(record, event, error);
  if (outcome != Outcome::kEvent) return outcome;
  outcome = ConvertIds(record, event, error);
  if (outcome != Outcome::kEvent) return outcome;
  if (!ConvertTime(record, &event->timestamp, error)) return Outcome::kBad;

  bool has_properties = event->type == EventType::kTrack || event->type == EventType::kPage ||
                        event->type == EventType::kScreen;
  if (has_properties) {
    outcome = ConvertValues(m_.properties, record, &event->properties, error);
    if (outcome != Outcome::kEvent) return outcome;
  }
  if (!m_.traits.empty()) {
    outcome = ConvertValues(m_.traits, record, &event->traits, error);
    if (outcome != Outcome::kEvent) return outcome;
  } else if (event->type == EventType::kIdentify || event->type == EventType::kGroup) {
    event->traits = Value::EmptyObject();
  }

  SetMessageId(record, event);
  event->timezone = m_.timezone;
  event->source.reserve(source_prefix_.size() + 20);
  event->source = source_prefix_;
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), record.line).ptr;
  event->source.append(digits, end);
  return Outcome::kEvent;
}

// Type and name: read first so that `skip:` values drop a row before anything else can fail.
Outcome RowConverter::ConvertNames(const CsvRecord& record, Event* event, RowError* error) {
  std::string_view text;
  if (m_.constant_type) {
    event->type = *m_.constant_type;
  } else {
    switch (Get(m_.type, record, &scratch_, &text)) {
      case Lookup::kSkip:
        return Outcome::kSkip;
      case Lookup::kAbsent:
        return Fail(m_.type, record, "missing event type", error);
      case Lookup::kUnmapped:
        return Fail(m_.type, record, "value " + Quote(text) + " is not in the map", error);
      case Lookup::kPresent:
        break;
    }
    if (!ParseEventType(text, &event->type)) {
      return Fail(m_.type, record, Quote(text) + " is not an event type", error);
    }
  }
  if (!m_.event.is_set()) return Outcome::kEvent;

  switch (Get(m_.event, record, &scratch_, &text)) {
    case Lookup::kSkip:
      return Outcome::kSkip;
    case Lookup::kUnmapped:
      return Fail(m_.event, record, "value " + Quote(text) + " is not in the map", error);
    case Lookup::kAbsent:
      if (event->type != EventType::kTrack) return Outcome::kEvent;
      return Fail(m_.event, record, "missing event name (required for track)", error);
    case Lookup::kPresent:
      break;
  }
  event->name.assign(text);
  return Outcome::kEvent;
}

// Reads an optional id into `out`. False when the row is done with (skipped or bad).
bool RowConverter::GetId(const ValueSpec& spec, const CsvRecord& record, std::string* out,
                         Outcome* outcome, RowError* error) {
  if (!spec.is_set()) return true;
  std::string_view text;
  switch (Get(spec, record, &scratch_, &text)) {
    case Lookup::kSkip:
      *outcome = Outcome::kSkip;
      return false;
    case Lookup::kUnmapped:
      *outcome = Fail(spec, record, "value " + Quote(text) + " is not in the map", error);
      return false;
    case Lookup::kAbsent:
      return true;
    case Lookup::kPresent:
      out->assign(text);
      return true;
  }
  return true;
}

Outcome RowConverter::ConvertIds(const CsvRecord& record, Event* event, RowError* error) {
  Outcome outcome = Outcome::kEvent;
  if (!GetId(m_.user_id, record, &event->user_id, &outcome, error) ||
      !GetId(m_.anonymous_id, record, &event->anonymous_id, &outcome, error) ||
      !GetId(m_.previous_id, record, &event->previous_id, &outcome, error) ||
      !GetId(m_.group_id, record, &event->group_id, &outcome, error)) {
    return outcome;
  }
  if (event->user_id.empty() && event->anonymous_id.empty()) {
    const ValueSpec& named = m_.user_id.is_set() ? m_.user_id : m_.anonymous_id;
    error->at = Anchor(named, record);
    error->message = "no user id or anonymous id";
    return Outcome::kBad;
  }
  if (event->type == EventType::kAlias && event->previous_id.empty()) {
    return Fail(m_.previous_id, record, "missing previous id (required for alias)", error);
  }
  if (event->type == EventType::kAlias && event->user_id.empty()) {
    return Fail(m_.user_id, record, "missing user id (required for alias)", error);
  }
  if (event->type == EventType::kGroup && event->group_id.empty()) {
    return Fail(m_.group_id, record, "missing group id (required for group)", error);
  }
  return Outcome::kEvent;
}

bool RowConverter::ConvertTime(const CsvRecord& record, Time* out, RowError* error) {
  using Encoding = TimestampSpec::Encoding;
  const TimestampSpec& ts = m_.timestamp;
  std::string_view text;
  Lookup got = Get(ts.value, record, &scratch_, &text);
  if (got != Lookup::kPresent) {
    Fail(ts.value, record, "missing timestamp", error);
    return false;
  }
  bool ok = false;
  int64_t n = 0;
  const char* expected = "";
  switch (ts.encoding) {
    case Encoding::kIso: {
      std::optional<Time> t = ParseIsoTime(text);
      ok = t.has_value();
      if (ok) *out = *t;
      expected = "is not an ISO-8601 time";
      break;
    }
    case Encoding::kEpochSeconds:
      ok = ParseInt(text, &n) && std::abs(n) < INT64_MAX / 2000;
      *out = FromMillis(n * 1000);
      expected = "is not a whole number of seconds since the epoch";
      break;
    case Encoding::kEpochMillis:
      ok = ParseInt(text, &n) && std::abs(n) < INT64_MAX / 2;
      *out = FromMillis(n);
      expected = "is not a whole number of milliseconds since the epoch";
      break;
    case Encoding::kFormat: {
      CivilTime civil;
      ok = ts.format.Parse(text, &civil);
      if (ok) *out = zone_.ToUtc(civil);
      break;
    }
  }
  if (!ok) {
    std::string why = ts.encoding == Encoding::kFormat
                          ? "does not match format '" + ts.format.pattern() + "'"
                          : std::string(expected);
    Fail(ts.value, record, Quote(text) + " " + why, error);
    return false;
  }
  if (ts.plus.is_set()) {
    if (Get(ts.plus, record, &scratch_, &text) != Lookup::kPresent) {
      Fail(ts.plus, record, "missing time offset", error);
      return false;
    }
    if (!ParseInt(text, &n) || std::abs(n) > INT64_MAX / 4000) {
      Fail(ts.plus, record, Quote(text) + " is not an integer", error);
      return false;
    }
    *out += Duration(n * ts.plus_unit_millis);
  }
  if (*out < ts.from || *out >= ts.until) {
    Fail(ts.value, record,
         "time " + FormatIsoTime(*out) + " is outside the mapping's window [" +
             (ts.from == kTimeMin ? std::string("...") : FormatIsoTime(ts.from)) + ", " +
             (ts.until == kTimeMax ? std::string("...") : FormatIsoTime(ts.until)) + ")",
         error);
    return false;
  }
  return true;
}

Outcome RowConverter::ConvertValues(const std::vector<std::pair<std::string, ValueSpec>>& specs,
                                    const CsvRecord& record, Value* out, RowError* error) {
  Value::Object object;
  object.reserve(specs.size());
  std::string_view text;
  for (const auto& [name, spec] : specs) {
    switch (Get(spec, record, &scratch_, &text)) {
      case Lookup::kSkip:
        return Outcome::kSkip;
      case Lookup::kAbsent:
        continue;
      case Lookup::kUnmapped:
        return Fail(spec, record, "value " + Quote(text) + " is not in the map", error);
      case Lookup::kPresent:
        break;
    }
    // Converted in place: a Value built aside and moved in costs a construction, a move and a
    // destruction more per property.
    Value& value = object.emplace_back(name, Value()).second;
    if (!TypedValue(spec, text, record, &value, error)) return Outcome::kBad;
  }
  *out = Value(std::move(object));
  return Outcome::kEvent;
}

bool RowConverter::TypedValue(const ValueSpec& spec, std::string_view text, const CsvRecord& record,
                              Value* out, RowError* error) const {
  constexpr int64_t kMaxExact = int64_t(1) << 53;  // larger integers do not survive a double
  double d = 0;
  int64_t n = 0;
  switch (spec.kind) {
    case ValueKind::kString:
      *out = Value(text);
      return true;
    case ValueKind::kNumber:
      if (ParseDouble(text, &d)) {
        *out = Value(d);
        return true;
      }
      Fail(spec, record, Quote(text) + " is not a number", error);
      return false;
    case ValueKind::kInteger:
      if (!ParseInt(text, &n)) {
        Fail(spec, record, Quote(text) + " is not an integer", error);
        return false;
      }
      if (n > kMaxExact || n < -kMaxExact) {
        Fail(spec, record,
             Quote(text) +
                 " is too large to keep exactly; use "
                 "type: string",
             error);
        return false;
      }
      *out = Value(n);
      return true;
    case ValueKind::kBoolean:
      if (text == "true" || text == "1") {
        *out = Value(true);
      } else if (text == "false" || text == "0") {
        *out = Value(false);
      } else {
        Fail(spec, record, Quote(text) + " is not a boolean (true, false, 1 or 0)", error);
        return false;
      }
      return true;
  }
  return false;
}

void RowConverter::SetMessageId(const CsvRecord& record, Event* event) {
  std::string_view text;
  switch (m_.message_id_source) {
    case MessageIdSource::kRowHash:
      event->message_id = HexMessageId(Hash64(record.raw));
      return;
    case MessageIdSource::kValue:
      if (Get(m_.message_id, record, &scratch_, &text) == Lookup::kPresent) {
        event->message_id.assign(text);
        return;
      }
      break;
    case MessageIdSource::kLine:
      break;
  }
  event->message_id = HexMessageId(HashCombine(line_id_seed_, record.line));
}

// The column names the mapping is bound against; the header record is consumed if there is one.
Result<std::vector<std::string>> ColumnNames(const Mapping& mapping, std::string_view path,
                                             CsvSplitter* splitter, CsvRecord* record) {
  if (!mapping.header) return mapping.columns;
  if (!splitter->Next(record)) return std::vector<std::string>();
  if (!record->error.empty()) {
    auto [line, col] = PositionIn(*record, record->error_at);
    return Status::Parse(Where(path, line, col) + ": header: " + std::string(record->error));
  }
  if (!mapping.columns.empty()) return mapping.columns;
  std::vector<std::string> names;
  for (const CsvField& f : record->fields) names.emplace_back(f.text);
  return names;
}

std::string FieldCountMessage(size_t want, size_t got) {
  return "expected " + std::to_string(want) + " fields, got " + std::to_string(got);
}

// Converts the records `splitter` yields, after the header, into events for `sink`.
Status ReadRows(CsvSplitter* splitter, std::string_view path, size_t columns,
                RowConverter* converter, const ReadOptions& options, const EventSink& sink,
                ReadStats* stats) {
  CsvRecord record;
  RowError error;
  while (splitter->Next(&record)) {
    ++stats->rows;
    error.at = record.error_at;
    error.message.assign(record.error);
    Outcome outcome = Outcome::kBad;
    Event event;
    if (!record.error.empty()) {
      outcome = Outcome::kBad;
    } else if (record.fields.size() != columns) {
      bool short_row = record.fields.size() < columns;
      error.at = short_row ? record.raw.data() + record.raw.size() : record.fields[columns].start;
      error.message = FieldCountMessage(columns, record.fields.size());
    } else {
      outcome = converter->Convert(record, &event, &error);
    }

    if (outcome == Outcome::kEvent) {
      ++stats->events;
      sink(std::move(event));
    } else if (outcome == Outcome::kSkip) {
      ++stats->skipped;
    } else {
      auto [line, col] = PositionIn(record, error.at ? error.at : record.raw.data());
      Status st = ReportBadRow(options, Where(path, line, col), std::move(error.message), stats);
      if (!st.ok()) return st;
    }
  }
  return Status::Ok();
}

}  // namespace

Status ReadCsv(std::string_view data, std::string_view path, const Mapping& mapping,
               const ReadOptions& options, const EventSink& sink, ReadStats* stats) {
  CsvSplitter splitter(data, mapping.dialect);
  CsvRecord record;
  Result<std::vector<std::string>> names = ColumnNames(mapping, path, &splitter, &record);
  stats->lines = splitter.lines();
  if (!names.ok()) return names.status();
  if (names->empty()) return Status::Ok();  // an empty file

  std::vector<std::string_view> views(names->begin(), names->end());
  std::string source = mapping.header && mapping.columns.empty()
                           ? "the header of " + std::string(path)
                           : "'columns'";
  Result<std::vector<int>> bound = BindColumns(mapping, views, source);
  if (!bound.ok()) return bound.status();

  // Rows after the header may be cut into chunks at line breaks unless a quoted field could
  // hold one.
  std::string_view rows = data.substr(splitter.position());
  bool parallel = options.threads > 1 && !options.strict && rows.size() > options.chunk_bytes &&
                  (!mapping.dialect.quoting || mapping.dialect.whitespace ||
                   rows.find(mapping.dialect.quote) == std::string_view::npos);
  if (!parallel) {
    RowConverter converter(mapping, std::move(bound).value(), path);
    Status st = ReadRows(&splitter, path, views.size(), &converter, options, sink, stats);
    stats->lines = splitter.lines();
    return st;
  }
  std::vector<LineChunk> chunks = CutAtLines(rows, options.chunk_bytes, splitter.lines());
  auto read = [&](const LineChunk& chunk, const EventSink& chunk_sink, ReadStats* chunk_stats) {
    CsvSplitter chunk_splitter(chunk.data, mapping.dialect, chunk.lines_before);
    RowConverter converter(mapping, *bound, path);
    Status st = ReadRows(&chunk_splitter, path, views.size(), &converter, options, chunk_sink,
                         chunk_stats);
    chunk_stats->lines = chunk_splitter.lines() - chunk.lines_before;
    return st;
  };
  return ReadChunks(chunks, options.threads, read, sink, stats);
}

}  // namespace waymark::ingest
