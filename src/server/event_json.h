// Event -> Segment-spec JSON, the inverse of ingest::EventFromSegment for the fields an Event
// keeps. Lines written this way read back with ingest::ReadJsonLines (and `waymark replay`).
#pragma once

#include <string>

#include "model/event.h"

namespace waymark::server {

// Appends one compact JSON object: type, event (track) or name (page, screen, when set), the ids
// that are set, messageId, timestamp (ISO-8601 UTC), properties and traits when they are objects,
// and context.timezone when set.
void AppendEventJson(const Event& event, std::string* out);

}  // namespace waymark::server
