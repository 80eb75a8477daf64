// Event: one Segment-spec call (track, identify, page, screen, alias, group) after ingest.
//
// Ingest fills every field it can; the engine never sees raw JSON. For `track`, `name` is the
// event name ("Order Completed"); for `page`/`screen` it is the page name; for identify, alias and
// group it is empty. Conditions address fields as `event.name`, `event.userId`, ... and properties
// as `event.<key>` or `event.properties.<key>`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.h"
#include "core/value.h"

namespace waymark {

enum class EventType : uint8_t { kTrack, kIdentify, kPage, kScreen, kAlias, kGroup };

std::string_view EventTypeName(EventType t);
// "track" -> kTrack ...; false when unknown.
bool ParseEventType(std::string_view s, EventType* out);

// TODO(perf): an event owns its strings and property bag: about 6 heap allocations per REES46 CSV
// row (messageId and source are past the 15-byte inline size, the bag and three of its values),
// 360 bytes to move, and copying or moving one is most of the router's work per event in a
// replay. Allocating a batch's events in one arena with interned property keys, and a source
// kept as (file, line), would remove most of it; the live server builds on these field types.
struct Event {
  EventType type = EventType::kTrack;
  std::string name;
  std::string user_id;       // empty when anonymous
  std::string anonymous_id;  // empty when not given
  std::string previous_id;   // alias only: the id being merged into user_id
  std::string group_id;      // group only
  std::string message_id;    // dedupe key; ingest synthesizes one when the source has none
  std::string timezone;      // context.timezone (IANA), empty when not given
  Time timestamp{};
  Value properties;  // object for track/page/screen; null otherwise
  Value traits;      // object for identify/group (and context.traits); null otherwise

  // Where the event came from, for error messages and traces: "file.csv:123". Empty for HTTP.
  std::string source;
  // Position in the input after ordering; ties in timestamp keep this order.
  uint64_t seq = 0;

  // The key the engine routes and stores the event's profile by: user_id when present, else
  // anonymous_id. Empty for an event that names nobody (rejected by ingest).
  const std::string& ProfileKey() const { return user_id.empty() ? anonymous_id : user_id; }
};

}  // namespace waymark
