// Delimited text (CSV, TSV, whitespace-separated) to events through a Mapping.
#pragma once

#include <string_view>

#include "core/status.h"
#include "ingest/mapping.h"
#include "ingest/read.h"

namespace waymark::ingest {

// Reads `data`, named `path` in messages, sources and ids, with the contract of ReadEventsFile
// in read.h. The first record is the header when `mapping.header` is true; the mapping's columns
// are resolved against it once, before any row is read.
Status ReadCsv(std::string_view data, std::string_view path, const Mapping& mapping,
               const ReadOptions& options, const EventSink& sink, ReadStats* stats);

}  // namespace waymark::ingest
