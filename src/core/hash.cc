#include "core/hash.h"

#include <cstdio>

namespace waymark {

std::string HexId(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return std::string(buf, 16);
}

}  // namespace waymark
