#include "server/event_json.h"

namespace waymark::server {

namespace {

void AppendField(std::string_view key, std::string_view value, std::string* out) {
  out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
  AppendJsonString(value, out);
}

void AppendFieldIfSet(std::string_view key, std::string_view value, std::string* out) {
  if (!value.empty()) AppendField(key, value, out);
}

}  // namespace

void AppendEventJson(const Event& event, std::string* out) {
  out->append("{\"type\":");
  AppendJsonString(EventTypeName(event.type), out);
  if (event.type == EventType::kTrack) {
    AppendField("event", event.name, out);
  } else {
    AppendFieldIfSet("name", event.name, out);
  }
  AppendFieldIfSet("userId", event.user_id, out);
  AppendFieldIfSet("anonymousId", event.anonymous_id, out);
  AppendFieldIfSet("previousId", event.previous_id, out);
  AppendFieldIfSet("groupId", event.group_id, out);
  AppendField("messageId", event.message_id, out);
  AppendField("timestamp", FormatIsoTime(event.timestamp), out);
  if (event.properties.is_object()) {
    out->append(",\"properties\":");
    event.properties.AppendJson(out);
  }
  if (event.traits.is_object()) {
    out->append(",\"traits\":");
    event.traits.AppendJson(out);
  }
  if (!event.timezone.empty()) {
    out->append(",\"context\":{\"timezone\":");
    AppendJsonString(event.timezone, out);
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace waymark::server
