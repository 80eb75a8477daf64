#include "model/event.h"

namespace waymark {

namespace {
constexpr std::string_view kNames[] = {"track", "identify", "page", "screen", "alias", "group"};
}

std::string_view EventTypeName(EventType t) { return kNames[static_cast<int>(t)]; }

bool ParseEventType(std::string_view s, EventType* out) {
  for (int i = 0; i < 6; ++i) {
    if (kNames[i] == s) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

}  // namespace waymark
