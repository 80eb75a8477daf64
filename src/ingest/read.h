// Reading event files: JSON Lines of Segment-spec objects, or delimited text through a mapping.
//
// Bad rows are never dropped silently: each is counted, and the first kMaxBadRowMessages are kept
// as "file:line:col: message" (1-based physical line and byte column of the offending field).
// In strict mode the first bad row ends the read with its message as the error instead.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/event.h"

namespace waymark::ingest {

struct Mapping;

inline constexpr size_t kMaxBadRowMessages = 100;

struct BadRow {
  std::string where;  // "file:line:col"
  std::string message;

  std::string ToString() const { return where + ": " + message; }
};

struct ReadStats {
  uint64_t lines = 0;     // physical lines read, the header and blank lines included
  uint64_t rows = 0;      // data records (JSON objects or CSV rows): events + skipped + bad_rows
  uint64_t events = 0;    // events handed to the sink
  uint64_t skipped = 0;   // rows whose value is listed under a mapping's `skip:`
  uint64_t bad_rows = 0;  // rows rejected with a message
  std::vector<BadRow> first_bad;  // the first kMaxBadRowMessages of them, in file order
};

struct ReadOptions {
  bool strict = false;  // stop at the first bad row and return it as the error
  // Threads that convert rows. With more than one, input larger than `chunk_bytes` is cut at
  // line breaks into chunks of about that size, converted on that many worker threads and handed
  // to the sink in input order on the calling thread: events, ids, sources, statistics and bad
  // row messages are the same as with one thread. Strict mode, and delimited text that contains
  // its quote character anywhere (a quoted field may span lines), are read on the calling thread.
  int threads = 1;
  size_t chunk_bytes = size_t(4) << 20;
};

using EventSink = std::function<void(Event&&)>;

// Reads the file at `path` and calls `sink` for each good row, in file order. `mapping` null
// means JSON Lines. Returns non-OK on an I/O error, when the mapping does not fit the file
// (a column missing from its header: "mapping.yaml:line:col: message"), or, in strict mode, on
// the first bad row ("file:line:col: message"). `stats` is filled in either case. The mapping
// must outlive the call; nothing is retained afterwards.
Status ReadEventsFile(const std::string& path, const Mapping* mapping, const ReadOptions& options,
                      const EventSink& sink, ReadStats* stats);

// As ReadEventsFile, on text already in memory; `path` names it in messages, sources and ids.
Status ReadEventsBuffer(std::string_view data, std::string_view path, const Mapping* mapping,
                        const ReadOptions& options, const EventSink& sink, ReadStats* stats);

// For readers: records one bad row. Returns the error to stop with in strict mode, else OK.
Status ReportBadRow(const ReadOptions& options, std::string where, std::string message,
                    ReadStats* stats);

// "path:line:col".
std::string Where(std::string_view path, uint64_t line, uint64_t col);

// 16 lowercase hex digits: the same text as HexId in core/hash.h, without going through printf,
// since every row without its own id needs one.
std::string HexMessageId(uint64_t hash);

// The messageId given to a row that has none: 16 hex digits of a hash of the file's base name
// and the 1-based line number, so re-reading the same file gives the same ids wherever it lives.
std::string LineMessageId(std::string_view path, uint64_t line);

}  // namespace waymark::ingest
