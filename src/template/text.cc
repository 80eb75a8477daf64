#include "template/text.h"

#include <cstring>

namespace waymark::tmpl {

size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t* cp) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(pos);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || pos + len > s.size()) {
    *cp = c;
    return 1;
  }
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t i = 1; i < len; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) {
      *cp = c;
      return 1;
    }
    v = (v << 6) | (byte(pos + i) & 0x3F);
  }
  *cp = v;
  return len;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Whether the 8 bytes at s[pos] are all ASCII (each one code point and one UTF-16 unit).
bool AsciiWord(std::string_view s, size_t pos) {
  uint64_t w;
  std::memcpy(&w, s.data() + pos, sizeof(w));
  return (w & 0x8080808080808080u) == 0;
}

}  // namespace

size_t Utf16Length(std::string_view s) {
  size_t n = 0, i = 0;
  for (; i + 8 <= s.size() && AsciiWord(s, i); i += 8) n += 8;
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) ++n;  // Each lead byte starts a code point...
    if ((c & 0xF8) == 0xF0) ++n;  // ...and four-byte ones need a surrogate pair.
  }
  return n;
}

size_t CodePointLength(std::string_view s) {
  size_t n = 0, i = 0;
  for (; i + 8 <= s.size() && AsciiWord(s, i); i += 8) n += 8;
  for (; i < s.size(); ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  return n;
}

size_t AdvanceCodePoints(std::string_view s, size_t from, size_t count) {
  size_t pos = from;
  while (count >= 8 && pos + 8 <= s.size() && AsciiWord(s, pos)) {
    pos += 8;
    count -= 8;
  }
  uint32_t cp;
  for (; count > 0 && pos < s.size(); --count) {
    pos += static_cast<unsigned char>(s[pos]) < 0x80 ? 1 : DecodeUtf8(s, pos, &cp);
  }
  return pos;
}

namespace {

bool IsJsSpace(uint32_t cp) {
  if (cp <= 0x20) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  if (cp < 0xA0) return false;
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

// Pairs laid out as (upper, lower) alternating from `first` to `last` inclusive.
bool InPairRange(uint32_t cp, uint32_t first, uint32_t last) { return cp >= first && cp <= last; }

uint32_t PairUpper(uint32_t cp, uint32_t first) { return ((cp - first) & 1) ? cp - 1 : cp; }
uint32_t PairLower(uint32_t cp, uint32_t first) { return ((cp - first) & 1) ? cp : cp + 1; }

struct PairRange {
  uint32_t first, last;
};
constexpr PairRange kPairRanges[] = {
    {0x100, 0x12F}, {0x132, 0x137},   {0x139, 0x148},   {0x14A, 0x177},
    {0x179, 0x17E}, {0x460, 0x481},   {0x48A, 0x4BF},   {0x4C1, 0x4CE},
    {0x4D0, 0x52F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF},
};

}  // namespace

uint32_t ToUpper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  if (cp == 0xB5) return 0x39C;
  if (cp == 0xFF) return 0x178;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
  if (cp == 0x131) return 'I';
  if (cp == 0x17F) return 'S';
  for (const PairRange& r : kPairRanges) {
    if (InPairRange(cp, r.first, r.last)) return PairUpper(cp, r.first);
  }
  if ((cp >= 0x3B1 && cp <= 0x3C1) || (cp >= 0x3C3 && cp <= 0x3CB)) return cp - 32;
  if (cp == 0x3C2) return 0x3A3;
  if (cp == 0x3AC) return 0x386;
  if (cp >= 0x3AD && cp <= 0x3AF) return cp - 37;
  if (cp == 0x3CC) return 0x38C;
  if (cp == 0x3CD || cp == 0x3CE) return cp - 63;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 80;
  return cp;
}

uint32_t ToLower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp == 0x178) return 0xFF;
  for (const PairRange& r : kPairRanges) {
    if (InPairRange(cp, r.first, r.last)) return PairLower(cp, r.first);
  }
  if ((cp >= 0x391 && cp <= 0x3A1) || (cp >= 0x3A3 && cp <= 0x3AB)) return cp + 32;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
  if (cp == 0x38C) return 0x3CC;
  if (cp == 0x38E || cp == 0x38F) return cp + 63;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

size_t JsSpaceAt(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  uint32_t cp;
  size_t len = DecodeUtf8(s, pos, &cp);
  return IsJsSpace(cp) ? len : 0;
}

size_t JsSpaceBefore(std::string_view s, size_t end) {
  if (end == 0) return 0;
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  uint32_t cp;
  size_t len = DecodeUtf8(s, start, &cp);
  return (start + len == end && IsJsSpace(cp)) ? len : 0;
}

std::string_view JsTrim(std::string_view s, bool left, bool right) {
  size_t begin = 0, end = s.size();
  while (left && begin < end) {
    size_t n = JsSpaceAt(s, begin);
    if (n == 0) break;
    begin += n;
  }
  while (right && end > begin) {
    size_t n = JsSpaceBefore(s, end);
    if (n == 0) break;
    end -= n;
  }
  return s.substr(begin, end - begin);
}

namespace {

// Appends s[begin, end), all ASCII, with `map` applied to each byte, writing in place rather than
// one push_back at a time.
template <typename Map>
void AppendAsciiMapped(std::string_view s, size_t begin, size_t end, Map map, std::string* out) {
  size_t at = out->size();
  out->resize(at + (end - begin));
  char* dst = out->data() + at;
  for (size_t i = begin; i < end; ++i) *dst++ = map(s[i]);
}

size_t AsciiRunEnd(std::string_view s, size_t from) {
  while (from < s.size() && static_cast<unsigned char>(s[from]) < 0x80) ++from;
  return from;
}

char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

void AppendUpper(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size();) {
    size_t ascii_end = AsciiRunEnd(s, i);
    if (ascii_end > i) {
      AppendAsciiMapped(s, i, ascii_end, AsciiUpper, out);
      i = ascii_end;
      continue;
    }
    uint32_t cp;
    i += DecodeUtf8(s, i, &cp);
    if (cp == 0xDF) {
      out->append("SS");
    } else {
      AppendUtf8(ToUpper(cp), out);
    }
  }
}

void AppendLower(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size();) {
    size_t ascii_end = AsciiRunEnd(s, i);
    if (ascii_end > i) {
      AppendAsciiMapped(s, i, ascii_end, AsciiLower, out);
      i = ascii_end;
      continue;
    }
    uint32_t cp;
    i += DecodeUtf8(s, i, &cp);
    if (cp == 0x130) {
      out->append("i\xCC\x87");  // JavaScript lowers İ to i followed by a combining dot above.
    } else {
      AppendUtf8(ToLower(cp), out);
    }
  }
}

}  // namespace waymark::tmpl
