#include "engine/router.h"

#include "core/hash.h"

namespace waymark {

// ---- MessageDeduper ----

void MessageDeduper::Rotate(Time t) {
  if (rotate_at_ == kTimeMin) rotate_at_ = t + window_;
  while (t >= rotate_at_) {
    previous_ = std::move(current_);
    current_ = absl::flat_hash_set<uint64_t>();
    // The next window most likely sees as many ids as the last one: size the table once rather
    // than growing it through a dozen rehashes.
    current_.reserve(previous_.size());
    rotate_at_ += window_;
    if (previous_.empty() && t >= rotate_at_) {
      // A long gap in time: jump ahead rather than rotating window by window.
      rotate_at_ = t + window_;
    }
  }
}

bool MessageDeduper::SeenBefore(std::string_view message_id, Time t) {
  if (message_id.empty()) return false;
  Rotate(t);
  uint64_t h = Hash64(message_id);
  if (previous_.contains(h)) return true;
  return !current_.insert(h).second;
}

bool MessageDeduper::Restore(uint64_t hash, Time t, Time now) {
  if (t < now - 2 * window_) return false;
  // Restored ids all go to the current generation: they are then remembered for at least one
  // more window, never less than before the restart.
  Rotate(now);
  current_.insert(hash);
  return true;
}

// ---- IdentityResolver ----

std::string IdentityResolver::KeyOf(std::string_view id) const {
  std::string s(id);
  const std::string* alias = AliasOf(s);
  return alias == nullptr ? s : *alias;
}

IdentityResolver::Decision IdentityResolver::Resolve(const Event& e) {
  Decision d;
  if (e.user_id.empty()) {
    const std::string* alias = AliasOf(e.anonymous_id);
    if (alias == nullptr) {
      anonymous_profiles_.insert(e.anonymous_id);
    } else {
      d.key = *alias;
    }
    return d;
  }
  if (e.anonymous_id.empty() && e.previous_id.empty()) {
    const std::string* alias = AliasOf(e.user_id);
    if (alias != nullptr) d.key = *alias;
    return d;
  }
  const std::string* alias = AliasOf(e.user_id);
  std::string key = alias == nullptr ? e.user_id : *alias;
  for (const std::string* anon : {&e.anonymous_id, &e.previous_id}) {
    if (anon->empty() || *anon == key) continue;
    auto it = anonymous_profiles_.find(absl::string_view(anon->data(), anon->size()));
    if (it != anonymous_profiles_.end() && d.merge_from.empty()) {
      // The anonymous profile moves into the known one.
      anonymous_profiles_.erase(it);
      d.merge_from = *anon;
      aliases_[*anon] = key;
      d.new_aliases.emplace_back(*anon, key);
    } else if (AliasOf(*anon) == nullptr) {
      aliases_[*anon] = key;
      d.new_aliases.emplace_back(*anon, key);
    }
    // TODO(identity): an anonymous id already linked to another user id stays with the first;
    // known profiles are never merged with each other (alias of two user ids).
  }
  if (key != e.ProfileKey()) d.key = std::move(key);
  return d;
}

}  // namespace waymark
