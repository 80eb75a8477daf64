// Quote: a value in single quotes, for trace lines and messages of the engine.
#pragma once

#include <string>
#include <string_view>

namespace waymark::engine_internal {

inline std::string Quote(std::string_view s) {
  // Built by appends: GCC 12 at -O2 warns falsely (-Wrestrict) on "'" + std::string(s).
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

}  // namespace waymark::engine_internal
