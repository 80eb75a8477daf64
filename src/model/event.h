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

// Delivery and engagement events: ordinary track events that the delivery side (SMTP, click
// tracking, inbox) sends back into the engine, documented in docs/configuration.md ("Delivery and
// engagement events"). Each carries the properties below, copied from the outbox message it is
// about; a click also carries `url`, a failure `reason`.
inline constexpr std::string_view kMessageSentEvent = "Message Sent";
inline constexpr std::string_view kMessageFailedEvent = "Message Failed";
inline constexpr std::string_view kMessageOpenedEvent = "Message Opened";
inline constexpr std::string_view kMessageClickedEvent = "Message Clicked";
inline constexpr std::string_view kUnsubscribedEvent = "Unsubscribed";
inline constexpr std::string_view kMessageIdProperty = "message_id";
inline constexpr std::string_view kJourneyProperty = "journey";
inline constexpr std::string_view kStepProperty = "step";
inline constexpr std::string_view kChannelProperty = "channel";

// What `{{ message.unsubscribe_url }}` renders as in the engine, which cannot sign links: the
// live server's delivery replaces it with the message's signed /u/{token} link (docs/templates.md).
// A reserved .invalid host, so a message that escaped unreplaced links nowhere.
inline constexpr std::string_view kUnsubscribeUrlPlaceholder =
    "https://unsubscribe.waymark.invalid/";

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
