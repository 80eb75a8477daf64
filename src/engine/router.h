// Router pieces shared by the replay engine and the live server: messageId dedupe and identity
// resolution. Both are driven by one thread in event order and hold no locks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/time.h"
#include "model/event.h"

namespace waymark {

// Drops repeated messageIds within a window of event time. Two generations of id hashes: ids go
// into `current`; at each window boundary `current` becomes `previous` and the old previous is
// dropped, so an id is remembered for between one and two windows (as Segment's own dedupe does).
class MessageDeduper {
 public:
  explicit MessageDeduper(Duration window) : window_(window) {}

  // Whether `message_id` was seen before (and is then a duplicate); records it otherwise. `t`
  // must not decrease by more than a window between calls. An empty id is never a duplicate.
  bool SeenBefore(std::string_view message_id, Time t);
  // Records an id hash seen at `t` (restoring state from storage); ids older than two windows
  // before `now` are ignored. Returns whether it was kept.
  bool Restore(uint64_t hash, Time t, Time now);

  Duration window() const { return window_; }

 private:
  void Rotate(Time t);

  Duration window_;
  absl::flat_hash_set<uint64_t> current_, previous_;
  Time rotate_at_ = kTimeMin;
};

// Maps every id an event carries to the profile key it belongs to. An event linking an anonymous
// id to a user id makes the anonymous profile (if any) move into the known one.
class IdentityResolver {
 public:
  struct Decision {
    // The profile key the event applies to; empty when it is the event's own ProfileKey().
    std::string key;
    // An anonymous profile to extract from wherever it lives and merge into `key` first.
    std::string merge_from;
    // Aliases recorded by this event: anonymous id -> profile key.
    std::vector<std::pair<std::string, std::string>> new_aliases;
  };

  Decision Resolve(const Event& e);

  // Restores state from storage.
  void AddAlias(std::string anonymous_id, std::string key) {
    aliases_[std::move(anonymous_id)] = std::move(key);
  }
  void AddAnonymousProfile(std::string key) { anonymous_profiles_.insert(std::move(key)); }

  // The profile key `id` resolves to (itself when it is no alias).
  std::string KeyOf(std::string_view id) const;

 private:
  const std::string* AliasOf(const std::string& id) const {
    if (aliases_.empty()) return nullptr;
    auto it = aliases_.find(absl::string_view(id.data(), id.size()));
    return it == aliases_.end() ? nullptr : &it->second;
  }

  absl::flat_hash_map<std::string, std::string> aliases_;  // id -> canonical profile key
  absl::flat_hash_set<std::string> anonymous_profiles_;    // anonymous keys with a profile
};

}  // namespace waymark
