// Fixtures shared by the store's tests, benchmark and fuzz target: a small config, typical
// profile states, a canonical text dump for comparing states, and a scratch directory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/instance.h"
#include "model/config.h"

namespace waymark::store::testing {

// Channels email, sms, push; segments vip, cart_abandoner, newsletter; journeys welcome (v1,
// 3 steps), abandoned_cart (v2, keyed, 4 steps); history rules for "Order Completed" (with
// properties), "Product Viewed" (no properties) and "identify" (unbounded).
std::shared_ptr<Config> MakeTestConfig();

// A profile with traits (including non-ASCII text), `history_entries` history entries, one
// instance per Instance::State sharing two trigger events, re-entry memories, sends and
// segment memberships. Deterministic for a given `seed`.
ProfileState MakeProfileState(const Config& config, const std::string& key, int history_entries,
                              uint64_t seed);

// Every stored field of `ps` as text, one per line, resolving indices to ids through `config`.
std::string Dump(const ProfileState& ps, const Config& config);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace waymark::store::testing
