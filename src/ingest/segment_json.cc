#include "ingest/segment_json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "core/json.h"
#include "ingest/chunked_read.h"

namespace waymark::ingest {

namespace {

std::string_view TypeName(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "boolean";
    case Value::Type::kNumber:
      return "number";
    case Value::Type::kString:
      return "string";
    case Value::Type::kList:
      return "array";
    case Value::Type::kObject:
      return "object";
  }
  return "unknown";
}

Status FieldError(std::string_view field, std::string_view message) {
  return Status::Invalid("field '" + std::string(field) + "': " + std::string(message));
}

Status WrongType(std::string_view field, std::string_view expected, const Value& got) {
  return FieldError(field,
                    "expected " + std::string(expected) + ", got " + std::string(TypeName(got)));
}

// The member `key` of `obj`, or null when it is absent or JSON null.
const Value* Member(const Value& obj, std::string_view key) {
  const Value* v = obj.Find(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

Status GetString(const Value& obj, std::string_view key, std::string* out) {
  const Value* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return WrongType(key, "a string", *v);
  *out = v->as_string();
  return Status::Ok();
}

// An id: a string, or a number written as its decimal text.
Status GetId(const Value& obj, std::string_view key, std::string* out) {
  const Value* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (v->is_string()) {
    *out = v->as_string();
  } else if (v->is_number()) {
    // Numbers arrive as doubles: only whole numbers up to 2^53 are exact. Anything else would
    // silently turn into a different id (12345678901234567890 -> 1.23456789012346e+19).
    double d = v->as_number();
    if (d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
      return Status::Invalid("field '" + std::string(key) +
                             "': numeric id is not a whole number below 2^53; send it as a string");
    }
    *out = FormatNumber(d);
  } else {
    return WrongType(key, "a string or a number", *v);
  }
  return Status::Ok();
}

Status GetObject(const Value& obj, std::string_view key, std::string_view field,
                 const Value** out) {
  const Value* v = Member(obj, key);
  if (v != nullptr && !v->is_object()) return WrongType(field, "an object", *v);
  *out = v;
  return Status::Ok();
}

Status GetTime(const Value& obj, std::string_view key, std::optional<Time>* out) {
  const Value* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return WrongType(key, "an ISO-8601 string", *v);
  *out = ParseIsoTime(v->as_string());
  if (!*out) return FieldError(key, "'" + v->as_string() + "' is not an ISO-8601 time");
  return Status::Ok();
}

Status GetType(const Value& obj, std::optional<EventType> default_type, EventType* out) {
  std::string text;
  WAYMARK_RETURN_IF_ERROR(GetString(obj, "type", &text));
  if (text.empty()) {
    if (!default_type) return FieldError("type", "required");
    *out = *default_type;
    return Status::Ok();
  }
  if (!ParseEventType(text, out)) return FieldError("type", "unknown event type '" + text + "'");
  if (default_type && *out != *default_type) {
    return FieldError("type", "'" + text + "' does not match the endpoint's type '" +
                                  std::string(EventTypeName(*default_type)) + "'");
  }
  return Status::Ok();
}

Status GetIds(const Value& obj, Event* e) {
  WAYMARK_RETURN_IF_ERROR(GetId(obj, "userId", &e->user_id));
  WAYMARK_RETURN_IF_ERROR(GetId(obj, "anonymousId", &e->anonymous_id));
  WAYMARK_RETURN_IF_ERROR(GetId(obj, "previousId", &e->previous_id));
  WAYMARK_RETURN_IF_ERROR(GetId(obj, "groupId", &e->group_id));
  WAYMARK_RETURN_IF_ERROR(GetId(obj, "messageId", &e->message_id));
  if (e->type == EventType::kAlias) {
    if (e->previous_id.empty()) return FieldError("previousId", "required for alias");
    if (e->user_id.empty()) return FieldError("userId", "required for alias");
  }
  if (e->type == EventType::kGroup && e->group_id.empty()) {
    return FieldError("groupId", "required for group");
  }
  if (e->user_id.empty() && e->anonymous_id.empty()) {
    return FieldError("userId", "userId or anonymousId is required");
  }
  return Status::Ok();
}

Status GetName(const Value& obj, Event* e) {
  if (e->type == EventType::kTrack) {
    WAYMARK_RETURN_IF_ERROR(GetString(obj, "event", &e->name));
    if (e->name.empty()) return FieldError("event", "required for track");
  } else if (e->type == EventType::kPage || e->type == EventType::kScreen) {
    WAYMARK_RETURN_IF_ERROR(GetString(obj, "name", &e->name));
  }
  return Status::Ok();
}

Status GetTimestamp(const Value& obj, Event* e) {
  std::optional<Time> timestamp, received, sent;
  WAYMARK_RETURN_IF_ERROR(GetTime(obj, "timestamp", &timestamp));
  WAYMARK_RETURN_IF_ERROR(GetTime(obj, "receivedAt", &received));
  WAYMARK_RETURN_IF_ERROR(GetTime(obj, "sentAt", &sent));
  if (!timestamp) timestamp = received;
  if (!timestamp) return FieldError("timestamp", "required (or receivedAt)");
  e->timestamp = *timestamp;
  return Status::Ok();
}

// With `owned` (the mutable `obj`), the bags are moved out of it instead of copied.
Status GetBags(const Value& obj, Event* e, Value* owned) {
  const Value* properties = nullptr;
  const Value* traits = nullptr;
  const Value* context = nullptr;
  const Value* context_traits = nullptr;
  WAYMARK_RETURN_IF_ERROR(GetObject(obj, "properties", "properties", &properties));
  WAYMARK_RETURN_IF_ERROR(GetObject(obj, "traits", "traits", &traits));
  WAYMARK_RETURN_IF_ERROR(GetObject(obj, "context", "context", &context));
  if (context != nullptr) {
    WAYMARK_RETURN_IF_ERROR(GetObject(*context, "traits", "context.traits", &context_traits));
    const Value* tz = Member(*context, "timezone");
    if (tz != nullptr && !tz->is_string()) return WrongType("context.timezone", "a string", *tz);
    if (tz != nullptr) e->timezone = tz->as_string();
  }

  auto take = [&](const Value* v, std::string_view key) {
    if (v == nullptr) return Value::EmptyObject();
    return owned != nullptr ? std::move(*owned->Find(key)) : *v;
  };
  if (e->type == EventType::kTrack || e->type == EventType::kPage ||
      e->type == EventType::kScreen) {
    e->properties = take(properties, "properties");
  }
  if (e->type == EventType::kIdentify || e->type == EventType::kGroup) {
    e->traits = take(traits, "traits");
  }
  if (context_traits != nullptr) {
    if (!e->traits.is_object()) e->traits = Value::EmptyObject();
    for (const Value::Member& m : context_traits->as_object()) {
      if (e->traits.Find(m.first) == nullptr) e->traits.as_object().push_back(m);
    }
  }
  return Status::Ok();
}

// Splits ParseJson's "line L, column C: reason" into C and the reason.
void SplitJsonError(const std::string& message, uint64_t* col, std::string* reason) {
  *col = 1;
  *reason = message;
  size_t at = message.find(", column ");
  if (at == std::string::npos) return;
  const char* begin = message.data() + at + 9;
  const char* end = message.data() + message.size();
  auto [ptr, ec] = std::from_chars(begin, end, *col);
  if (ec != std::errc() || end - ptr < 2 || ptr[0] != ':') return;
  *reason = std::string(ptr + 2, end);
}

bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

Result<Event> FromSegment(const Value& obj, std::optional<EventType> default_type, Value* owned) {
  if (!obj.is_object()) {
    return Status::Invalid("expected a JSON object, got " + std::string(TypeName(obj)));
  }
  Event e;
  WAYMARK_RETURN_IF_ERROR(GetType(obj, default_type, &e.type));
  WAYMARK_RETURN_IF_ERROR(GetName(obj, &e));
  WAYMARK_RETURN_IF_ERROR(GetIds(obj, &e));
  WAYMARK_RETURN_IF_ERROR(GetTimestamp(obj, &e));
  WAYMARK_RETURN_IF_ERROR(GetBags(obj, &e, owned));
  return e;
}

}  // namespace

Result<Event> EventFromSegment(const Value& obj, std::optional<EventType> default_type) {
  return FromSegment(obj, default_type, nullptr);
}

Result<Event> EventFromSegment(Value&& obj, std::optional<EventType> default_type) {
  return FromSegment(obj, default_type, &obj);
}

namespace {

// Reads the lines of `data`, which starts `lines_before` lines into the file.
Status ReadLines(std::string_view data, uint64_t lines_before, std::string_view path,
                 const ReadOptions& options, const EventSink& sink, ReadStats* stats) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t newline = data.find('\n', pos);
    if (newline == std::string_view::npos) newline = data.size();
    std::string_view line = data.substr(pos, newline - pos);
    pos = newline + 1;
    uint64_t line_number = lines_before + ++stats->lines;
    if (IsBlankLine(line)) continue;
    ++stats->rows;

    uint64_t col = 1;
    std::string message;
    Result<Value> parsed = ParseJson(line);
    if (!parsed.ok()) {
      SplitJsonError(parsed.status().message(), &col, &message);
    } else {
      Result<Event> event = EventFromSegment(*parsed);
      if (event.ok()) {
        if (event->message_id.empty()) event->message_id = LineMessageId(path, line_number);
        event->source = std::string(path) + ":" + std::to_string(line_number);
        ++stats->events;
        sink(std::move(event).value());
        continue;
      }
      message = event.status().message();
    }
    WAYMARK_RETURN_IF_ERROR(ReportBadRow(options, Where(path, line_number, col), message, stats));
  }
  return Status::Ok();
}

}  // namespace

Status ReadJsonLines(std::string_view data, std::string_view path, const ReadOptions& options,
                     const EventSink& sink, ReadStats* stats) {
  if (options.threads <= 1 || options.strict || data.size() <= options.chunk_bytes) {
    return ReadLines(data, 0, path, options, sink, stats);
  }
  // A JSON text cannot hold a raw line break, so lines are records and chunks can be read alone.
  auto read = [&](const LineChunk& chunk, const EventSink& chunk_sink, ReadStats* chunk_stats) {
    return ReadLines(chunk.data, chunk.lines_before, path, options, chunk_sink, chunk_stats);
  };
  return ReadChunks(CutAtLines(data, options.chunk_bytes, 0), options.threads, read, sink, stats);
}

}  // namespace waymark::ingest
