#include "core/json.h"

#include <boost/json.hpp>

namespace waymark {

namespace {

Value FromBoost(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return Value();
    case boost::json::kind::bool_:
      return Value(v.get_bool());
    case boost::json::kind::int64:
      return Value(static_cast<double>(v.get_int64()));
    case boost::json::kind::uint64:
      return Value(static_cast<double>(v.get_uint64()));
    case boost::json::kind::double_:
      return Value(v.get_double());
    case boost::json::kind::string:
      return Value(std::string_view(v.get_string()));
    case boost::json::kind::array: {
      Value::List list;
      list.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) list.push_back(FromBoost(e));
      return Value(std::move(list));
    }
    case boost::json::kind::object: {
      Value::Object obj;
      obj.reserve(v.get_object().size());
      for (const auto& kv : v.get_object()) {
        obj.emplace_back(std::string(kv.key()), FromBoost(kv.value()));
      }
      return Value(std::move(obj));
    }
  }
  return Value();
}

}  // namespace

Result<Value> ParseJson(std::string_view text) {
  // The parsed tree only lives until it is converted: bump allocation from a buffer, freed at
  // once, instead of one heap allocation per string, array and object.
  unsigned char initial[4096];
  boost::json::monotonic_resource resource(initial, sizeof(initial));
  boost::json::stream_parser parser(&resource);
  parser.reset(&resource);
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
    consumed = text.size();
  }
  if (ec) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status::Parse("line " + std::to_string(line) + ", column " + std::to_string(col) +
                         ": invalid JSON: " + ec.message());
  }
  return FromBoost(parser.release());
}

}  // namespace waymark
