#include "core/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace waymark {

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const Member& m : as_object()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->Find(key));
}

const Value* Value::FindPath(std::string_view dotted) const {
  const Value* cur = this;
  while (cur != nullptr) {
    size_t dot = dotted.find('.');
    std::string_view part = dotted.substr(0, dot);
    if (cur->is_list()) {
      size_t index = 0;
      auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
      if (ec != std::errc() || ptr != part.data() + part.size() || index >= cur->as_list().size())
        return nullptr;
      cur = &cur->as_list()[index];
    } else {
      cur = cur->Find(part);
    }
    if (dot == std::string_view::npos) return cur;
    dotted.remove_prefix(dot + 1);
  }
  return nullptr;
}

void Value::Set(std::string_view key, Value v) {
  if (!is_object()) v_ = Object{};
  if (Value* existing = Find(key)) {
    *existing = std::move(v);
    return;
  }
  as_object().emplace_back(std::string(key), std::move(v));
}

bool Value::Erase(std::string_view key) {
  if (!is_object()) return false;
  Object& o = as_object();
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it->first == key) {
      o.erase(it);
      return true;
    }
  }
  return false;
}

void Value::MergeFrom(const Value& other) {
  if (!other.is_object()) return;
  for (const Member& m : other.as_object()) Set(m.first, m.second);
}

std::string FormatNumber(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) {
    char buf[32];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(d));
    return std::string(buf, ptr);
  }
  if (!std::isfinite(d)) return "null";
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.15g", d);
  return std::string(buf, n);
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void Value::AppendJson(std::string* out) const {
  switch (type()) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(as_bool() ? "true" : "false");
      break;
    case Type::kNumber:
      out->append(FormatNumber(as_number()));
      break;
    case Type::kString:
      AppendJsonString(as_string(), out);
      break;
    case Type::kList: {
      out->push_back('[');
      bool first = true;
      for (const Value& v : as_list()) {
        if (!first) out->push_back(',');
        first = false;
        v.AppendJson(out);
      }
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Member& m : as_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(m.first, out);
        out->push_back(':');
        m.second.AppendJson(out);
      }
      out->push_back('}');
      break;
    }
  }
}

std::string Value::ToJson() const {
  std::string out;
  AppendJson(&out);
  return out;
}

std::string Value::ToText() const {
  switch (type()) {
    case Type::kNull:
      return "";
    case Type::kBool:
      return as_bool() ? "true" : "false";
    case Type::kNumber:
      return FormatNumber(as_number());
    case Type::kString:
      return as_string();
    default:
      return ToJson();
  }
}

}  // namespace waymark
