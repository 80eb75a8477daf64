#include "template/datum.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "template/text.h"

namespace waymark::tmpl {

Datum Datum::Range(int64_t lo, int64_t hi) {
  Datum d;
  d.kind = Kind::kRange;
  d.number = static_cast<double>(lo);
  d.range_end = hi;
  return d;
}

size_t Seq::size() const {
  if (d_.is_listlike()) return ListSize(d_);
  return d_.is_nil() ? 0 : 1;
}

Datum Seq::operator[](size_t i) const { return d_.is_listlike() ? ListAt(d_, i) : d_; }

// ---------------------------------------------------------------------------------------------
// Arena

std::string* Arena::NewString() {
  if (strings_used_ == strings_.size()) strings_.push_back(std::make_unique<std::string>());
  std::string* s = strings_[strings_used_++].get();
  strings_peak_ = std::max(strings_peak_, strings_used_);
  s->clear();
  return s;
}

DatumList* Arena::NewList() {
  if (lists_used_ == lists_.size()) lists_.push_back(std::make_unique<DatumList>());
  DatumList* l = lists_[lists_used_++].get();
  lists_peak_ = std::max(lists_peak_, lists_used_);
  l->clear();
  return l;
}

Forloop* Arena::NewForloop() {
  if (loops_used_ == loops_.size()) loops_.push_back(std::make_unique<Forloop>());
  Forloop* f = loops_[loops_used_++].get();
  *f = Forloop();
  return f;
}

std::string_view Arena::Keep(std::string_view s) {
  std::string* copy = NewString();
  copy->assign(s);
  return *copy;
}

void Arena::Reset() {
  constexpr size_t kKeep = 16;
  constexpr size_t kMaxKeptCapacity = 1 << 16;
  if (strings_.size() > kKeep) strings_.resize(kKeep);
  if (lists_.size() > kKeep) lists_.resize(kKeep);
  if (loops_.size() > kKeep) loops_.resize(kKeep);
  // Only buffers handed out since the last reset can have grown.
  for (size_t i = 0; i < std::min(strings_peak_, strings_.size()); ++i) {
    if (strings_[i]->capacity() > kMaxKeptCapacity) *strings_[i] = std::string();
  }
  for (size_t i = 0; i < std::min(lists_peak_, lists_.size()); ++i) {
    if (lists_[i]->capacity() > kMaxKeptCapacity) *lists_[i] = DatumList();
  }
  strings_used_ = lists_used_ = loops_used_ = 0;
  strings_peak_ = lists_peak_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Text

size_t FormatJsNumber(double n, char* buf) {
  auto put = [&](std::string_view text) {
    text.copy(buf, text.size());
    return text.size();
  };
  if (std::isnan(n)) return put("NaN");
  if (std::isinf(n)) return put(n < 0 ? "-Infinity" : "Infinity");
  if (n == 0) return put("0");
  if (n == std::trunc(n) && std::fabs(n) < 9.007199254740992e15) {
    return std::to_chars(buf, buf + kJsNumberMax, static_cast<int64_t>(n)).ptr - buf;
  }
  // Shortest round-trip digits, then JavaScript's layout rules (ECMA-262 Number::toString).
  char sci[32];
  char* sci_end =
      std::to_chars(sci, sci + sizeof(sci), std::fabs(n), std::chars_format::scientific).ptr;
  char digits[24];
  int k = 0;
  const char* p = sci;
  for (; *p != 'e'; ++p) {
    if (*p != '.') digits[k++] = *p;
  }
  int exp = 0;
  ++p;
  if (*p == '+') ++p;
  std::from_chars(p, sci_end, exp);
  size_t len = 0;
  if (n < 0) buf[len++] = '-';
  auto append = [&](const char* s, size_t count) {
    std::memcpy(buf + len, s, count);
    len += count;
  };
  auto zeros = [&](int count) {
    std::memset(buf + len, '0', count);
    len += count;
  };
  int point = exp + 1;  // Digits before the decimal point.
  if (k <= point && point <= 21) {
    append(digits, k);
    zeros(point - k);
  } else if (0 < point && point <= 21) {
    append(digits, point);
    buf[len++] = '.';
    append(digits + point, k - point);
  } else if (-6 < point && point <= 0) {
    append("0.", 2);
    zeros(-point);
    append(digits, k);
  } else {
    buf[len++] = digits[0];
    if (k > 1) {
      buf[len++] = '.';
      append(digits + 1, k - 1);
    }
    buf[len++] = 'e';
    buf[len++] = point - 1 < 0 ? '-' : '+';
    len = std::to_chars(buf + len, buf + kJsNumberMax, std::abs(point - 1)).ptr - buf;
  }
  return len;
}

void AppendJsNumber(double n, std::string* out) {
  char buf[kJsNumberMax];
  out->append(buf, FormatJsNumber(n, buf));
}

namespace {

void AppendForloopJson(const Forloop& f, std::string* out) {
  // liquidjs prints a forloop as JSON of its fields; we print the documented ones.
  out->append("{\"i\":");
  AppendJsNumber(static_cast<double>(f.index0), out);
  out->append(",\"length\":");
  AppendJsNumber(static_cast<double>(f.length), out);
  out->push_back('}');
}

}  // namespace

void AppendText(const Datum& d, std::string* out) {
  switch (d.kind) {
    case Datum::Kind::kNil:
    case Datum::Kind::kNull:
    case Datum::Kind::kNilLiteral:
    case Datum::Kind::kEmpty:
    case Datum::Kind::kBlank:
      return;
    case Datum::Kind::kBool:
      out->append(d.boolean ? "true" : "false");
      return;
    case Datum::Kind::kNumber:
      AppendJsNumber(d.number, out);
      return;
    case Datum::Kind::kString:
      out->append(d.str);
      return;
    case Datum::Kind::kObject:
      out->append("[object Object]");
      return;
    case Datum::Kind::kForloop:
      AppendForloopJson(*d.forloop, out);
      return;
    case Datum::Kind::kList:
    case Datum::Kind::kArray:
    case Datum::Kind::kRange: {
      size_t n = ListSize(d);
      for (size_t i = 0; i < n; ++i) AppendText(ListAt(d, i), out);
      return;
    }
  }
}

void AppendJsString(const Datum& d, std::string* out) {
  switch (d.kind) {
    case Datum::Kind::kNil:
      out->append("undefined");
      return;
    case Datum::Kind::kNull:
    case Datum::Kind::kNilLiteral:
      out->append("null");
      return;
    case Datum::Kind::kEmpty:
    case Datum::Kind::kBlank:
      return;
    case Datum::Kind::kForloop:
      out->append("[object Object]");
      return;
    case Datum::Kind::kList:
    case Datum::Kind::kArray:
    case Datum::Kind::kRange: {
      size_t n = ListSize(d);
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) out->push_back(',');
        Datum e = ListAt(d, i);
        if (!e.is_nil()) AppendJsString(e, out);
      }
      return;
    }
    default:
      AppendText(d, out);
  }
}

namespace {

double ParseJsNumber(std::string_view s) {
  s = JsTrim(s, true, true);
  if (s.empty()) return 0;
  bool negative = false;
  std::string_view body = s;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body == "Infinity") return negative ? -INFINITY : INFINITY;
  if (body.size() > 2 && body[0] == '0' && s.size() == body.size()) {
    int base = (body[1] | 0x20) == 'x'   ? 16
               : (body[1] | 0x20) == 'o' ? 8
               : (body[1] | 0x20) == 'b' ? 2
                                         : 0;
    if (base != 0) {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(body.data() + 2, body.data() + body.size(), v, base);
      return (ec == std::errc() && p == body.data() + body.size()) ? double(v) : NAN;
    }
  }
  for (char c : body) {
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    if (!ok) return NAN;
  }
  if (body.empty() || body.front() == '+' || body.front() == '-') return NAN;
  double v = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (p != body.data() + body.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
    return NAN;
  return negative ? -v : v;
}

}  // namespace

double JsToNumber(const Datum& d) {
  switch (d.kind) {
    case Datum::Kind::kNil:
      return NAN;
    case Datum::Kind::kNull:
    case Datum::Kind::kNilLiteral:
      return 0;
    case Datum::Kind::kBool:
      return d.boolean ? 1 : 0;
    case Datum::Kind::kNumber:
      return d.number;
    case Datum::Kind::kString:
      return ParseJsNumber(d.str);
    case Datum::Kind::kList:
    case Datum::Kind::kArray:
    case Datum::Kind::kRange: {
      std::string s;
      AppendJsString(d, &s);
      return ParseJsNumber(s);
    }
    default:
      return NAN;
  }
}

double ToNumberOr0(const Datum& d) {
  double n = JsToNumber(d);
  return std::isnan(n) ? 0 : n;
}

// ---------------------------------------------------------------------------------------------
// Comparison

namespace {

bool IsDrop(const Datum& d) {
  return d.kind == Datum::Kind::kNilLiteral || d.kind == Datum::Kind::kEmpty ||
         d.kind == Datum::Kind::kBlank;
}

// EmptyDrop.equals: an empty string, list or object (never another empty or blank).
bool EqualsEmpty(const Datum& v) {
  switch (v.kind) {
    case Datum::Kind::kString:
      return v.str.empty();
    case Datum::Kind::kObject:
      return v.value->as_object().empty();
    case Datum::Kind::kList:
    case Datum::Kind::kArray:
    case Datum::Kind::kRange:
      return ListSize(v) == 0;
    default:
      return false;
  }
}

// liquidjs's `drop.equals(v)` for the nil literal, empty and blank.
bool DropEquals(const Datum& drop, const Datum& v) {
  switch (drop.kind) {
    case Datum::Kind::kNilLiteral:
      return v.is_nil();
    case Datum::Kind::kEmpty:
      return EqualsEmpty(v);
    case Datum::Kind::kBlank:
      if (v.is_nil() || (v.kind == Datum::Kind::kBool && !v.boolean)) return true;
      if (v.is_string()) return JsTrim(v.str, true, false).empty();
      return EqualsEmpty(v);
    default:
      return false;
  }
}

bool SameIdentity(const Datum& a, const Datum& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Datum::Kind::kObject:
      return a.value == b.value;
    case Datum::Kind::kForloop:
      return a.forloop == b.forloop;
    default:
      return false;
  }
}

// UTF-16 code unit order; differs from UTF-8 byte order only between astral characters and
// U+E000..U+FFFF, which never matters for the templates we render but costs little to get right.
int CompareUtf16(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    uint32_t ca, cb;
    size_t la = DecodeUtf8(a, i, &ca), lb = DecodeUtf8(b, j, &cb);
    if (ca != cb) {
      auto unit = [](uint32_t c) { return c >= 0x10000 ? 0xD800 + ((c - 0x10000) >> 10) : c; };
      return unit(ca) < unit(cb) ? -1 : 1;
    }
    i += la;
    j += lb;
  }
  return (i < a.size()) - (j < b.size());
}

}  // namespace

bool LiquidEquals(const Datum& a, const Datum& b) {
  if (IsDrop(a)) return DropEquals(a, b);
  if (IsDrop(b)) return DropEquals(b, a);
  if (a.kind == Datum::Kind::kNil || a.kind == Datum::Kind::kNull) return a.kind == b.kind;
  if (a.is_listlike()) {
    if (!b.is_listlike() || ListSize(a) != ListSize(b)) return false;
    for (size_t i = 0, n = ListSize(a); i < n; ++i) {
      if (!LiquidEquals(ListAt(a, i), ListAt(b, i))) return false;
    }
    return true;
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Datum::Kind::kBool:
      return a.boolean == b.boolean;
    case Datum::Kind::kNumber:
      return a.number == b.number;
    case Datum::Kind::kString:
      return a.str == b.str;
    default:
      return SameIdentity(a, b);
  }
}

bool LiquidCompare(const Datum& a, const Datum& b, char op) {
  // The nil literal and undefined variables never order (NaN in JavaScript); empty/blank neither.
  auto unordered = [](const Datum& d) { return d.kind == Datum::Kind::kNil || IsDrop(d); };
  if (unordered(a) || unordered(b)) return false;
  int c = 0;
  bool a_str = a.is_string() || a.kind == Datum::Kind::kObject || a.kind == Datum::Kind::kForloop;
  bool b_str = b.is_string() || b.kind == Datum::Kind::kObject || b.kind == Datum::Kind::kForloop;
  if (a.is_listlike()) a_str = true;
  if (b.is_listlike()) b_str = true;
  if (a.is_string() && b.is_string()) {
    c = CompareUtf16(a.str, b.str);  // String(s) is s: no copies, which may allocate
  } else if (a_str && b_str) {
    std::string sa, sb;
    AppendJsString(a, &sa);
    AppendJsString(b, &sb);
    c = CompareUtf16(sa, sb);
  } else {
    double x = JsToNumber(a), y = JsToNumber(b);
    if (std::isnan(x) || std::isnan(y)) return false;
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  switch (op) {
    case '<':
      return c < 0;
    case '>':
      return c > 0;
    case 'l':
      return c <= 0;
    case 'g':
      return c >= 0;
    default:
      return false;
  }
}

bool LiquidContains(const Datum& a, const Datum& b) {
  if (a.is_listlike()) {
    for (size_t i = 0, n = ListSize(a); i < n; ++i) {
      if (LiquidEquals(ListAt(a, i), b)) return true;
    }
    return false;
  }
  if (!a.is_string()) return false;
  if (b.is_string()) return a.str.find(b.str) != std::string_view::npos;
  std::string needle;
  AppendJsString(b, &needle);
  return a.str.find(needle) != std::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Property access

namespace {

Datum StringUnit(std::string_view s, double index) {
  // JavaScript indexes strings by UTF-16 unit; we index by code point, which agrees on the
  // Basic Multilingual Plane.
  if (index < 0 || index != std::trunc(index)) return Datum::Nil();
  size_t begin = AdvanceCodePoints(s, 0, static_cast<size_t>(index));
  if (begin >= s.size()) return Datum::Nil();
  size_t end = AdvanceCodePoints(s, begin, 1);
  return Datum::String(s.substr(begin, end - begin));
}

Datum ForloopKey(const Forloop& f, std::string_view key) {
  auto num = [](int64_t v) { return Datum::Number(static_cast<double>(v)); };
  if (key == "index") return num(f.index0 + 1);
  if (key == "index0") return num(f.index0);
  if (key == "rindex") return num(f.length - f.index0);
  if (key == "rindex0") return num(f.length - f.index0 - 1);
  if (key == "first") return Datum::Bool(f.index0 == 0);
  if (key == "last") return Datum::Bool(f.index0 == f.length - 1);
  if (key == "length") return num(f.length);
  if (key == "parentloop" && f.parent != nullptr) {
    Datum d;
    d.kind = Datum::Kind::kForloop;
    d.forloop = f.parent;
    return d;
  }
  return Datum::Nil();
}

}  // namespace

Datum GetKey(const Datum& d, std::string_view key, Arena* arena) {
  switch (d.kind) {
    case Datum::Kind::kObject: {
      if (const Value* member = FindMember(*d.value, key)) return Datum::Of(*member);
      if (key == "size") return Datum::Number(static_cast<double>(d.value->as_object().size()));
      return Datum::Nil();
    }
    case Datum::Kind::kForloop:
      return ForloopKey(*d.forloop, key);
    case Datum::Kind::kList:
    case Datum::Kind::kArray:
    case Datum::Kind::kRange: {
      size_t n = ListSize(d);
      if (key == "size") return Datum::Number(static_cast<double>(n));
      if (key == "first") return n > 0 ? ListAt(d, 0) : Datum::Nil();
      if (key == "last") return n > 0 ? ListAt(d, n - 1) : Datum::Nil();
      double index = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      bool whole = ec == std::errc() && p == key.data() + key.size();
      if (whole && index >= 0) return GetIndex(d, index, arena);
      return Datum::Nil();
    }
    case Datum::Kind::kString:
      if (key == "size") return Datum::Number(static_cast<double>(Utf16Length(d.str)));
      return Datum::Nil();
    default:
      return Datum::Nil();
  }
}

Datum GetIndex(const Datum& d, double index, Arena* arena) {
  if (d.is_string()) return StringUnit(d.str, index);
  if (!d.is_listlike()) {
    if (d.kind != Datum::Kind::kObject) return Datum::Nil();
    std::string* key = arena->NewString();
    AppendJsNumber(index, key);
    return GetKey(d, *key, arena);
  }
  if (index != std::trunc(index)) return Datum::Nil();
  double n = static_cast<double>(ListSize(d));
  if (index < 0) index += n;
  if (index < 0 || index >= n) return Datum::Nil();
  return ListAt(d, static_cast<size_t>(index));
}

Datum GetComputed(const Datum& d, const Datum& key, Arena* arena) {
  if (key.is_number()) return GetIndex(d, key.number, arena);
  if (key.is_string()) return GetKey(d, key.str, arena);
  if (key.is_nil()) return Datum::Nil();
  std::string* text = arena->NewString();
  AppendJsString(key, text);
  return GetKey(d, *text, arena);
}

}  // namespace waymark::tmpl
