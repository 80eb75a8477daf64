#include "ingest/csv_split.h"

#include <algorithm>
#include <cstring>

namespace waymark::ingest {

namespace {

const char* Find(const char* p, const char* end, char c) {
  const void* hit = std::memchr(p, c, size_t(end - p));
  return hit == nullptr ? end : static_cast<const char*>(hit);
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::pair<uint64_t, uint64_t> PositionIn(const CsvRecord& record, const char* p) {
  const char* begin = record.raw.data();
  uint64_t line = record.line + uint64_t(std::count(begin, p, '\n'));
  const char* line_start = begin;
  for (const char* q = p; q > begin; --q) {
    if (q[-1] == '\n') {
      line_start = q;
      break;
    }
  }
  return {line, uint64_t(p - line_start) + 1};
}

bool CsvSplitter::Next(CsvRecord* record) {
  const char* base = data_.data();
  const char* end = base + data_.size();
  while (pos_ < data_.size()) {
    const char* begin = base + pos_;
    const char* newline = Find(begin, end, '\n');
    const char* content_end = newline;
    if (content_end > begin && content_end[-1] == '\r') --content_end;
    record->line = lines_ + 1;
    record->fields.clear();
    record->error = {};
    record->error_at = nullptr;

    bool blank =
        dialect_.whitespace ? std::all_of(begin, content_end, IsBlank) : begin == content_end;
    bool quoted = dialect_.quoting && !dialect_.whitespace &&
                  Find(begin, content_end, dialect_.quote) != content_end;
    if (quoted && !blank) {
      const char* next = SplitQuoted(begin, record);
      lines_ += uint64_t(std::count(begin, next, '\n'));
      if (next == end && next[-1] != '\n') ++lines_;
      pos_ = size_t(next - base);
      return true;
    }

    ++lines_;
    pos_ = newline == end ? data_.size() : size_t(newline + 1 - base);
    if (blank) continue;
    record->raw = std::string_view(begin, size_t(content_end - begin));
    if (dialect_.whitespace) {
      SplitWhitespace(begin, content_end, record);
    } else {
      SplitSimple(begin, content_end, record);
    }
    return true;
  }
  return false;
}

void CsvSplitter::SplitSimple(const char* begin, const char* end, CsvRecord* record) {
  const char* p = begin;
  while (true) {
    const char* delim = Find(p, end, dialect_.delimiter);
    record->fields.push_back({std::string_view(p, size_t(delim - p)), p});
    if (delim == end) return;
    p = delim + 1;
  }
}

void CsvSplitter::SplitWhitespace(const char* begin, const char* end, CsvRecord* record) {
  const char* p = begin;
  while (true) {
    while (p < end && IsBlank(*p)) ++p;
    if (p == end) return;
    const char* start = p;
    while (p < end && !IsBlank(*p)) ++p;
    record->fields.push_back({std::string_view(start, size_t(p - start)), start});
  }
}

// Returns the position just past the record's line terminator (or the end of input).
const char* CsvSplitter::SplitQuoted(const char* begin, CsvRecord* record) {
  const char* end = data_.data() + data_.size();
  const char quote = dialect_.quote;
  unescaped_.clear();
  fixups_.clear();

  auto finish = [&](const char* content_end, const char* next) {
    if (content_end > begin && content_end[-1] == '\r') --content_end;
    record->raw = std::string_view(begin, size_t(content_end - begin));
    for (const Fixup& f : fixups_) {
      record->fields[f.field].text = std::string_view(unescaped_.data() + f.offset, f.size);
    }
    return next;
  };

  const char* p = begin;
  while (true) {
    const char* field_start = p;
    if (p < end && *p == quote) {
      // Quoted: runs to the next quote that is not doubled.
      const char* segment = p + 1;
      size_t offset = unescaped_.size();
      bool escaped = false;
      const char* close = Find(segment, end, quote);
      while (close != end && close + 1 < end && close[1] == quote) {
        escaped = true;
        unescaped_.append(segment, size_t(close + 1 - segment));
        segment = close + 2;
        close = Find(segment, end, quote);
      }
      if (close == end) {
        record->error = "unterminated quoted field";
        record->error_at = field_start;
        return finish(end, end);
      }
      std::string_view text(p + 1, size_t(close - p - 1));
      if (escaped) {
        unescaped_.append(segment, size_t(close - segment));
        fixups_.push_back({record->fields.size(), offset, unescaped_.size() - offset});
      }
      record->fields.push_back({text, field_start});
      p = close + 1;
    } else {
      const char* q = p;
      while (q < end && *q != dialect_.delimiter && *q != '\n') ++q;
      const char* text_end = q;
      if (text_end > p && text_end[-1] == '\r' && (q == end || *q == '\n')) --text_end;
      record->fields.push_back({std::string_view(p, size_t(text_end - p)), field_start});
      p = q;
    }

    if (p == end) return finish(end, end);
    if (*p == dialect_.delimiter) {
      ++p;
      continue;
    }
    if (*p == '\n') return finish(p, p + 1);
    if (*p == '\r' && (p + 1 == end || p[1] == '\n')) return finish(p, p + 1 == end ? end : p + 2);
    record->error = "unexpected text after closing quote";
    record->error_at = p;
    const char* newline = Find(p, end, '\n');
    return finish(newline, newline == end ? end : newline + 1);
  }
}

}  // namespace waymark::ingest
