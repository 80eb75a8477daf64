// Splitting delimited text into records and fields without copying: fields are views into the
// input, except quoted fields with doubled quotes, which are unescaped into a per-record buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waymark::ingest {

struct CsvDialect {
  char delimiter = ',';
  // Fields are separated by runs of spaces and tabs; leading and trailing blanks are ignored.
  // Quoting is not available in this mode.
  bool whitespace = false;
  char quote = '"';
  bool quoting = true;
};

struct CsvField {
  std::string_view text;  // the contents, without quotes
  const char* start;      // first byte of the field in the input (its opening quote, if quoted)
};

struct CsvRecord {
  std::string_view raw;  // the record's bytes, without its line terminator
  uint64_t line = 0;     // 1-based physical line of the record's first byte
  std::vector<CsvField> fields;
  // Set when the record could not be split: what went wrong and the byte it points at.
  std::string_view error;
  const char* error_at = nullptr;
};

// The 1-based physical line and byte column of `p`, a pointer into `record.raw` or one past it.
std::pair<uint64_t, uint64_t> PositionIn(const CsvRecord& record, const char* p);

// Reads records from a buffer it does not own, following RFC 4180: a field that starts with the
// quote character is quoted; inside it, delimiters and line breaks are data and a doubled quote
// stands for one. Records end at LF or CRLF; a missing final line break is fine. Blank lines are
// skipped. A quote inside an unquoted field is kept as data.
class CsvSplitter {
 public:
  // `lines_before` counts the physical lines that precede `data` in its file (when `data` is a
  // piece of it that starts a line), so that records carry their line in the file.
  CsvSplitter(std::string_view data, CsvDialect dialect, uint64_t lines_before = 0)
      : data_(data), dialect_(dialect), lines_(lines_before) {}

  // Fills `record` with the next record; false at the end of input. Views in `record` stay valid
  // until the next call. A record that fails to split comes back with `error` set and is skipped
  // up to the end of its physical line.
  bool Next(CsvRecord* record);

  // Physical lines consumed so far (a final line without a line break counts), `lines_before`
  // included.
  uint64_t lines() const { return lines_; }
  // Bytes of `data` consumed so far: where the next record starts.
  size_t position() const { return pos_; }

 private:
  void SplitSimple(const char* begin, const char* end, CsvRecord* record);
  void SplitWhitespace(const char* begin, const char* end, CsvRecord* record);
  const char* SplitQuoted(const char* begin, CsvRecord* record);

  std::string_view data_;
  CsvDialect dialect_;
  size_t pos_ = 0;
  uint64_t lines_ = 0;
  std::string unescaped_;  // holds fields that contained doubled quotes
  struct Fixup {
    size_t field, offset, size;
  };
  std::vector<Fixup> fixups_;  // fields whose text lives in unescaped_
};

}  // namespace waymark::ingest
