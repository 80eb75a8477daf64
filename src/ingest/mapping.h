// A mapping: how the rows of one delimited text file become events. It is written in YAML by a
// data engineer (reference: docs/ingest.md) and loaded once; readers then resolve its column
// names against each file's header with BindColumns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/local_time.h"
#include "core/status.h"
#include "ingest/csv_split.h"
#include "ingest/time_format.h"
#include "model/event.h"

namespace waymark::ingest {

// 1-based position in the mapping file.
struct MappingPos {
  int line = 1;
  int col = 1;
};

// A column the mapping reads, by its name in the header (or in `columns:`).
struct ColumnRef {
  std::string name;
  MappingPos pos;
};

// One piece of a value: literal text, or the text of a column.
struct ValuePart {
  std::string literal;
  int column = -1;  // index into Mapping::column_refs; -1 for literal text
};

enum class ValueKind : uint8_t { kString, kNumber, kInteger, kBoolean };

// Where one value of an event comes from: a constant, a column, or a template over columns,
// then an optional rename map, a default and values that skip the row.
struct ValueSpec {
  std::vector<ValuePart> parts;  // empty when the mapping does not set this value
  std::string label;             // for messages: "column 'price'", "template '{a}-{b}'"
  bool has_map = false;
  absl::flat_hash_map<std::string, std::string> map;
  std::optional<std::string> default_value;  // for a missing value or one not in `map`
  absl::flat_hash_set<std::string> skip;     // raw values whose rows are skipped, not events
  ValueKind kind = ValueKind::kString;       // properties and traits only

  bool is_set() const { return !parts.empty(); }
};

struct TimestampSpec {
  enum class Encoding : uint8_t { kIso, kEpochSeconds, kEpochMillis, kFormat };

  ValueSpec value;
  Encoding encoding = Encoding::kIso;
  TimeFormat format;               // kFormat only
  const TimeZone* zone = nullptr;  // kFormat only; null means UTC
  std::string zone_name;           // as written, empty for UTC
  ValueSpec plus;                  // an integer offset added to the time, when set
  int64_t plus_unit_millis = 1;
  // Rows whose time falls outside [from, until) are bad rows (a data set's known window).
  Time from = kTimeMin;
  Time until = kTimeMax;
};

enum class MessageIdSource : uint8_t {
  kLine,     // hash of the file's base name and line number (the default)
  kRowHash,  // hash of the row's bytes: identical rows get identical ids
  kValue,    // from `message_id: {column: ...}` (or a template)
};

struct Mapping {
  std::string path;  // the mapping file, for messages

  CsvDialect dialect;
  bool header = true;
  std::vector<std::string> columns;  // names from `columns:`; empty when the header names them
  MappingPos columns_pos;
  std::vector<std::string> null_values = {""};

  std::vector<ColumnRef> column_refs;  // every column reference, in mapping order

  std::optional<EventType> constant_type;  // set unless `type` comes from a column
  ValueSpec type;
  ValueSpec event;
  ValueSpec user_id;
  ValueSpec anonymous_id;
  ValueSpec previous_id;
  ValueSpec group_id;
  TimestampSpec timestamp;
  std::vector<std::pair<std::string, ValueSpec>> properties;
  std::vector<std::pair<std::string, ValueSpec>> traits;
  std::string timezone;  // context.timezone for every event; empty when not set
  MessageIdSource message_id_source = MessageIdSource::kLine;
  ValueSpec message_id;
};

// Loads and checks a mapping file. Errors read "mapping.yaml:line:col: message" (1-based).
Result<Mapping> LoadMapping(const std::string& path);

// As LoadMapping, from text; `path` names it in messages.
Result<Mapping> ParseMapping(std::string_view yaml, std::string_view path);

// Resolves the mapping's column references against a file's column names: element i of the
// result is the field index of column_refs[i]. `source` says where the names came from, for the
// message ("the header of data.csv"). Errors read "mapping.yaml:line:col: column 'x' is not in
// <source>".
Result<std::vector<int>> BindColumns(const Mapping& mapping,
                                     const std::vector<std::string_view>& names,
                                     std::string_view source);

}  // namespace waymark::ingest
