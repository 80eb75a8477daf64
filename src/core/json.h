// JSON text <-> Value, on Boost.JSON.
#pragma once

#include <string_view>

#include "core/status.h"
#include "core/value.h"

namespace waymark {

// Parses one JSON document. Errors read "line L, column C: <reason>" (1-based) so callers can
// prefix a file name.
Result<Value> ParseJson(std::string_view text);

}  // namespace waymark
