#include "model/profile.h"

#include <date/tz.h>

#include <algorithm>
#include <mutex>
#include <set>

namespace waymark {

std::string_view Profile::HistoryName(const Event& e) {
  if (e.type == EventType::kTrack) return e.name;
  return EventTypeName(e.type);
}

namespace {

void AddAnonymousId(std::vector<std::string>* ids, const std::string& id) {
  if (id.empty()) return;
  if (std::find(ids->begin(), ids->end(), id) == ids->end()) ids->push_back(id);
}

double RevenueOf(const Event& e, const PurchaseSpec& purchase) {
  for (const std::string& prop : purchase.revenue_properties) {
    const Value* v = e.properties.Find(prop);
    if (v != nullptr && v->is_number()) return v->as_number();
  }
  return 0;
}

}  // namespace

void HistoryPolicy::Add(const Rule& need) {
  for (Rule& r : rules) {
    if (r.name == need.name) {
      r.horizon = std::max(r.horizon, need.horizon);
      r.properties |= need.properties;
      return;
    }
  }
  rules.push_back(Rule{need.name, need.horizon, need.properties});
}

void HistoryPolicy::InternNames() {
  // A node-based set: element addresses, and so the views into them, never move.
  static std::mutex mu;
  static std::set<std::string, std::less<>>* names = new std::set<std::string, std::less<>>();
  std::lock_guard<std::mutex> lock(mu);
  for (Rule& r : rules) r.interned = *names->emplace(r.name).first;
}

bool Profile::SetTrait(std::string_view name, const Value& value) {
  const Value* old = traits.Find(name);
  if (old != nullptr && *old == value) return false;
  traits.Set(name, value);
  if (name == "timezone" && value.is_string()) {
    if (const TimeZone* zone = FindTimeZone(value.as_string())) tz = zone;
  }
  return true;
}

bool Profile::UnsetTrait(std::string_view name) { return traits.Erase(name); }

bool IsDeliveryReport(const Event& e) {
  return e.type == EventType::kTrack && (e.name == "Message Sent" || e.name == "Message Failed");
}

bool Profile::ApplyEvent(const Event& e, const HistoryPolicy& history_policy,
                         const PurchaseSpec& purchase, std::vector<std::string>* changed_traits) {
  if (!e.user_id.empty() && user_id.empty()) user_id = e.user_id;
  AddAnonymousId(&anonymous_ids, e.anonymous_id);
  if (e.type == EventType::kAlias) AddAnonymousId(&anonymous_ids, e.previous_id);

  bool traits_changed = false;
  if (e.traits.is_object() && e.type != EventType::kGroup) {
    for (const Value::Member& m : e.traits.as_object()) {
      const Value* old = traits.Find(m.first);
      if (old == nullptr || !(*old == m.second)) {
        traits.Set(m.first, m.second);
        traits_changed = true;
        if (changed_traits != nullptr) changed_traits->push_back(m.first);
      }
    }
  }
  const Value* tz_trait = traits.Find("timezone");
  if (tz_trait != nullptr && tz_trait->is_string()) {
    if (const TimeZone* zone = FindTimeZone(tz_trait->as_string())) tz = zone;
  } else if (!e.timezone.empty() && (tz == nullptr || tz->name() != e.timezone)) {
    // The newest context.timezone wins; an unknown name keeps what we had.
    if (const TimeZone* zone = FindTimeZone(e.timezone)) tz = zone;
  }

  // What Waymark itself reports about a send is not the customer's doing: it does not make a
  // lapsed customer "seen" again.
  if (!IsDeliveryReport(e)) {
    first_seen = std::min(first_seen, e.timestamp);
    last_seen = std::max(last_seen, e.timestamp);
    ++event_count;
  }
  if (e.type == EventType::kTrack && e.name == purchase.event) {
    ++order_count;
    revenue += RevenueOf(e, purchase);
    last_order_at = std::max(last_order_at, e.timestamp);
  }

  std::string_view name = HistoryName(e);
  if (const HistoryPolicy::Rule* rule = history_policy.Find(name)) {
    HistoryEntry entry{e.timestamp, rule->entry_name(),
                       rule->properties ? std::make_shared<const Value>(e.properties) : nullptr};
    // Expired entries at the front go first; a long-horizon entry there keeps the rest a while.
    while (!history.empty()) {
      const HistoryPolicy::Rule* front = history_policy.Find(history.front().name);
      if (front == nullptr || (front->horizon != Duration::max() &&
                               history.front().time + front->horizon < e.timestamp)) {
        history.erase(history.begin());
      } else {
        break;
      }
    }
    // Input is time-ordered per profile, so this is an append in all but merge paths.
    auto pos = std::upper_bound(history.begin(), history.end(), e.timestamp,
                                [](Time t, const HistoryEntry& h) { return t < h.time; });
    history.insert(pos, std::move(entry));
    if (history.size() > history_policy.max_entries) {
      history.erase(history.begin(), history.end() - history_policy.max_entries);
    }
  }
  return traits_changed;
}

void Profile::PruneHistory(Time now, const HistoryPolicy& history_policy) {
  // Entries are time-ordered but names interleave; drop expired ones wherever they are.
  std::erase_if(history, [&](const HistoryEntry& h) {
    const HistoryPolicy::Rule* rule = history_policy.Find(h.name);
    if (rule == nullptr) return true;
    return rule->horizon != Duration::max() && h.time + rule->horizon < now;
  });
}

void Profile::MergeFrom(Profile&& other, const HistoryPolicy& history_policy) {
  if (user_id.empty()) user_id = other.user_id;
  if (!other.key.empty() && other.key != key) AddAnonymousId(&anonymous_ids, other.key);
  for (const std::string& id : other.anonymous_ids) AddAnonymousId(&anonymous_ids, id);
  if (other.traits.is_object()) {
    for (Value::Member& m : other.traits.as_object()) {
      if (traits.Find(m.first) == nullptr) traits.Set(m.first, std::move(m.second));
    }
  }
  if (tz == nullptr) tz = other.tz;
  first_seen = std::min(first_seen, other.first_seen);
  last_seen = std::max(last_seen, other.last_seen);
  event_count += other.event_count;
  order_count += other.order_count;
  revenue += other.revenue;
  last_order_at = std::max(last_order_at, other.last_order_at);

  std::vector<HistoryEntry> merged;
  merged.reserve(history.size() + other.history.size());
  std::merge(std::make_move_iterator(history.begin()), std::make_move_iterator(history.end()),
             std::make_move_iterator(other.history.begin()),
             std::make_move_iterator(other.history.end()), std::back_inserter(merged),
             [](const HistoryEntry& a, const HistoryEntry& b) { return a.time < b.time; });
  history = std::move(merged);
  if (history.size() > history_policy.max_entries) {
    history.erase(history.begin(), history.end() - history_policy.max_entries);
  }
}

}  // namespace waymark
