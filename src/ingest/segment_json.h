// Segment-spec JSON (the HTTP Tracking API's message objects) to events.
#pragma once

#include <optional>
#include <string_view>

#include "core/status.h"
#include "core/value.h"
#include "ingest/read.h"
#include "model/event.h"

namespace waymark::ingest {

// Converts one Segment message object. `default_type` is the type implied by the endpoint
// (/v1/track ...): it stands in for a missing `type`, and a `type` that disagrees with it is an
// error. Rules:
//  - `type` is required without a default; track needs a non-empty `event`;
//  - every message needs `userId` or `anonymousId` (strings, or numbers, which become their
//    decimal text); alias needs `previousId` and `userId`; group needs `groupId`;
//  - `timestamp` (ISO-8601) falls back to `receivedAt`; `sentAt` is checked but not used;
//  - `properties`, `traits`, `context` and `context.traits` must be objects when present;
//    identify's and group's `traits` become Event::traits, and `context.traits` adds the keys
//    they do not already have, for every type; `context.timezone` becomes Event::timezone;
//  - JSON null counts as absent; fields not listed here are ignored.
// `messageId` is kept as given (empty when absent); `source` is left empty. Errors name the
// field: "field 'properties': expected an object, got string".
Result<Event> EventFromSegment(const Value& obj,
                               std::optional<EventType> default_type = std::nullopt);
// The same, moving the ids and bags out of `obj` instead of copying them (what is left of `obj`
// is unspecified, also on error).
Result<Event> EventFromSegment(Value&& obj, std::optional<EventType> default_type = std::nullopt);

// Reads JSON Lines: one Segment message object per line; blank lines are skipped. Events without
// a messageId get LineMessageId(path, line); Event::source is "path:line". Contract otherwise as
// ReadEventsFile in read.h. A line that is not valid JSON is reported at the byte column where
// parsing failed; other errors at column 1.
Status ReadJsonLines(std::string_view data, std::string_view path, const ReadOptions& options,
                     const EventSink& sink, ReadStats* stats);

}  // namespace waymark::ingest
