#include "core/hash.h"

namespace waymark {

std::string HexId(uint64_t v) {
  // By hand rather than snprintf: every message and instance id goes through here.
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[size_t(i)] = kDigits[v & 15];
  return out;
}

}  // namespace waymark
