// Datum: the value an expression evaluates to while a template renders.
//
// A Datum never owns memory: strings are views into the template source, into the variables being
// rendered or into the render's Arena; lists and objects point at a Value, at an Arena list, or
// describe an integer range. This keeps evaluation free of allocations on the common paths.
// Conversions follow JavaScript semantics, since liquidjs (our reference) inherits them.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/value.h"

namespace waymark::tmpl {

struct Forloop;
struct Datum;
using DatumList = std::vector<Datum>;

struct Datum {
  // Three nils, as liquidjs has them: kNil is an undefined variable (JavaScript undefined), kNull a
  // JSON null from the variables, kNilLiteral the `nil` literal (liquidjs's NullDrop). They print
  // alike and are all falsy; they differ in `==` and ordering comparisons.
  enum class Kind : uint8_t {
    kNil,
    kNull,
    kNilLiteral,
    kBool,
    kNumber,
    kString,
    kEmpty,
    kBlank,
    kList,     // value: a Value list
    kObject,   // value: a Value object
    kArray,    // array: a list made while rendering
    kRange,    // integers number..range_end, inclusive
    kForloop,  // forloop
  };

  Kind kind = Kind::kNil;
  bool boolean = false;
  double number = 0;
  std::string_view str;
  union {
    const Value* value = nullptr;
    const DatumList* array;
    const Forloop* forloop;
    int64_t range_end;
  };

  static Datum Nil() { return Datum(); }
  static Datum Bool(bool b) {
    Datum d;
    d.kind = Kind::kBool;
    d.boolean = b;
    return d;
  }
  static Datum Number(double n) {
    Datum d;
    d.kind = Kind::kNumber;
    d.number = n;
    return d;
  }
  static Datum String(std::string_view s) {
    Datum d;
    d.kind = Kind::kString;
    d.str = s;
    return d;
  }
  static Datum Array(const DatumList* a) {
    Datum d;
    d.kind = Kind::kArray;
    d.array = a;
    return d;
  }
  static Datum Range(int64_t lo, int64_t hi);
  static Datum Of(const Value& v);

  bool is_nil() const {
    return kind == Kind::kNil || kind == Kind::kNull || kind == Kind::kNilLiteral;
  }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_listlike() const {
    return kind == Kind::kList || kind == Kind::kArray || kind == Kind::kRange;
  }
  bool truthy() const { return !is_nil() && !(kind == Kind::kBool && !boolean); }
};

// Makes *d the Datum of `v`, writing its kind and the field that goes with it in place; the other
// fields keep what they held, which is fine since code reads only the fields of a Datum's kind.
// On the hot paths this beats `*d = Datum::Of(v)`: a temporary written field by field and then
// copied as a whole is read back wider than it was written, which stalls x86's store forwarding.
inline void AssignValue(const Value& v, Datum* d) {
  switch (v.type()) {
    case Value::Type::kNull:
      d->kind = Datum::Kind::kNull;
      break;
    case Value::Type::kBool:
      d->kind = Datum::Kind::kBool;
      d->boolean = v.as_bool();
      break;
    case Value::Type::kNumber:
      d->kind = Datum::Kind::kNumber;
      d->number = v.as_number();
      break;
    case Value::Type::kString:
      d->kind = Datum::Kind::kString;
      d->str = v.as_string();
      break;
    case Value::Type::kList:
      d->kind = Datum::Kind::kList;
      d->value = &v;
      break;
    case Value::Type::kObject:
      d->kind = Datum::Kind::kObject;
      d->value = &v;
      break;
  }
}

inline Datum Datum::Of(const Value& v) {
  Datum d;
  AssignValue(v, &d);
  return d;
}

// The state behind the `forloop` object of one for loop.
struct Forloop {
  int64_t index0 = 0;
  int64_t length = 0;
  const Forloop* parent = nullptr;
};

// Whether two names are equal; an inline test that beats a call to memcmp for the short keys of
// template paths (it reads each name as at most two overlapping words).
inline bool SameName(std::string_view a, std::string_view b) {
  size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  auto word = [](const char* s) {
    uint64_t w;
    std::memcpy(&w, s, sizeof(w));
    return w;
  };
  auto half = [](const char* s) {
    uint32_t w;
    std::memcpy(&w, s, sizeof(w));
    return w;
  };
  if (n >= 8) {
    if (word(p) != word(q)) return false;
    if (n <= 16) return word(p + n - 8) == word(q + n - 8);
    return std::memcmp(p + 8, q + 8, n - 8) == 0;
  }
  if (n >= 4) return half(p) == half(q) && half(p + n - 4) == half(q + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

// The first member of `object` called `key`, or null.
inline const Value* FindMember(const Value& object, std::string_view key) {
  for (const Value::Member& m : object.as_object()) {
    if (SameName(m.first, key)) return &m.second;
  }
  return nullptr;
}

// Size and elements of a list-like Datum (kList, kArray, kRange).
inline size_t ListSize(const Datum& d) {
  switch (d.kind) {
    case Datum::Kind::kList:
      return d.value->as_list().size();
    case Datum::Kind::kArray:
      return d.array->size();
    case Datum::Kind::kRange: {
      int64_t lo = static_cast<int64_t>(d.number);
      return d.range_end >= lo ? static_cast<size_t>(d.range_end - lo + 1) : 0;
    }
    default:
      return 0;
  }
}

inline Datum ListAt(const Datum& d, size_t i) {
  switch (d.kind) {
    case Datum::Kind::kList:
      return Datum::Of(d.value->as_list()[i]);
    case Datum::Kind::kArray:
      return (*d.array)[i];
    case Datum::Kind::kRange:
      return Datum::Number(d.number + static_cast<double>(i));
    default:
      return Datum::Nil();
  }
}

// A Datum seen as a sequence the way liquidjs's toArray does: nil is empty, list-likes are their
// elements, anything else is a one-element sequence.
class Seq {
 public:
  explicit Seq(const Datum& d) : d_(d) {}
  size_t size() const;
  Datum operator[](size_t i) const;

 private:
  const Datum& d_;
};

// Owns what filters create during one render: strings, lists and loop states. Mark/Release let
// an output statement hand back what it made once its text has been appended.
class Arena {
 public:
  std::string* NewString();
  DatumList* NewList();
  Forloop* NewForloop();
  std::string_view Keep(std::string_view s);  // A copy of `s` that lives as long as the render.

  struct Mark {
    size_t strings, lists, loops;
  };
  Mark mark() const { return {strings_used_, lists_used_, loops_used_}; }
  void Release(Mark m) {
    strings_used_ = m.strings;
    lists_used_ = m.lists;
    loops_used_ = m.loops;
  }
  // Drops everything; keeps at most a few buffers for the next render.
  void Reset();

 private:
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<std::unique_ptr<DatumList>> lists_;
  std::vector<std::unique_ptr<Forloop>> loops_;
  size_t strings_used_ = 0, lists_used_ = 0, loops_used_ = 0;
  size_t strings_peak_ = 0, lists_peak_ = 0;  // since the last Reset
};

// Appends the text Liquid prints for `d` ({{ d }}): nil and null print nothing, numbers as
// JavaScript prints them, lists as the concatenation of their elements.
void AppendText(const Datum& d, std::string* out);

// JavaScript's String(d): lists join their elements with ",", nil is "undefined".
void AppendJsString(const Datum& d, std::string* out);

// Appends `n` as JavaScript's Number.prototype.toString does ("2.5", "1e+21", "0.1", "-0" -> "0").
void AppendJsNumber(double n, std::string* out);
// The same text written to `buf`, which must hold kJsNumberMax bytes; returns the length.
inline constexpr size_t kJsNumberMax = 40;
size_t FormatJsNumber(double n, char* buf);

// JavaScript's unary plus: strings are parsed ("  12 " -> 12, "abc" -> NaN), null is 0,
// undefined NaN, booleans 0/1.
double JsToNumber(const Datum& d);
// liquidjs's toNumber: JsToNumber with NaN turned into 0.
double ToNumberOr0(const Datum& d);

// liquidjs's `==` (strict for scalars, element-wise for lists, empty/blank as special values).
bool LiquidEquals(const Datum& a, const Datum& b);
// liquidjs's `<` and friends; `op` is one of '<', '>', 'l' (<=), 'g' (>=).
bool LiquidCompare(const Datum& a, const Datum& b, char op);
// liquidjs's `contains`.
bool LiquidContains(const Datum& a, const Datum& b);

// Property access as liquidjs reads it: object members, list indexes (negative from the end),
// string indexes, and the `size`, `first`, `last` pseudo-properties; nil when absent.
Datum GetKey(const Datum& d, std::string_view key, Arena* arena);
Datum GetIndex(const Datum& d, double index, Arena* arena);
// Member access with a computed key (numbers index, strings name a member).
Datum GetComputed(const Datum& d, const Datum& key, Arena* arena);

}  // namespace waymark::tmpl
