// Stable 64-bit hashing (XXH3). Values are part of stored and emitted ids, so the function and
// seeds must never change.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace waymark {

inline uint64_t Hash64(std::string_view data, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

// Combines a hash with another value; order matters.
inline uint64_t HashCombine(uint64_t h, uint64_t v) {
  return XXH3_64bits_withSeed(&v, sizeof(v), h);
}

// 16 lowercase hex digits.
std::string HexId(uint64_t v);

}  // namespace waymark
