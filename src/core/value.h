// Value: a JSON-shaped datum (null, bool, number, string, list, object) used for event properties,
// profile traits and template variables.
//
// Objects keep insertion order in a small vector: property bags are short, a linear scan over a
// few keys beats hashing, and iteration order is stable for deterministic output. Lookups return
// a pointer that is null when the key is absent ("missing" is distinct from a JSON null).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace waymark {

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kList, kObject };
  using List = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Object = std::vector<Member>;

  Value() = default;
  Value(std::nullptr_t) {}                           // NOLINT
  Value(bool b) : v_(b) {}                           // NOLINT
  Value(double d) : v_(d) {}                         // NOLINT
  Value(int i) : v_(double(i)) {}                    // NOLINT
  Value(int64_t i) : v_(double(i)) {}                // NOLINT
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT
  Value(List l) : v_(std::move(l)) {}                // NOLINT
  Value(Object o) : v_(std::move(o)) {}              // NOLINT

  static Value EmptyObject() { return Value(Object{}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_object() const { return type() == Type::kObject; }

  bool as_bool() const { return std::get<bool>(v_); }
  double as_number() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  List& as_list() { return std::get<List>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  // Object member lookup; null when this is not an object or the key is absent.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);

  // Follows a dotted path ("items.0.price"); list elements are addressed by index.
  const Value* FindPath(std::string_view dotted) const;

  // Sets an object member, replacing an existing one. Turns a null value into an object first.
  void Set(std::string_view key, Value v);
  // Removes an object member; returns whether it existed.
  bool Erase(std::string_view key);
  // Copies every member of `other` (an object) into this object, replacing same-named members.
  void MergeFrom(const Value& other);

  // Compact JSON text with keys in stored order.
  std::string ToJson() const;
  void AppendJson(std::string* out) const;

  // Text as a template prints it: strings bare, numbers without a trailing ".0", null empty.
  std::string ToText() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::monostate, bool, double, std::string, List, Object> v_;
};

// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string_view s, std::string* out);

// Formats a number the way JSON and templates show it: integers without a fraction, others with
// up to 15 significant digits.
std::string FormatNumber(double d);

}  // namespace waymark
