#include "store/codec.h"

#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace waymark::store {
namespace {

// ---- writing ----

void PutByte(uint8_t b, std::string* out) { out->push_back(static_cast<char>(b)); }

// Built in a local buffer and appended once: std::string::push_back is an out-of-line call per
// byte, and encoding a profile is mostly small integers.
void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void PutSigned(int64_t v, std::string* out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

void PutFixed64(uint64_t v, std::string* out) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 8);
}

void PutDouble(double d, std::string* out) { PutFixed64(std::bit_cast<uint64_t>(d), out); }
void PutTime(Time t, std::string* out) { PutSigned(ToMillis(t), out); }

enum ValueTag : uint8_t { kNull, kFalse, kTrue, kNumber, kString, kList, kObject };

void PutValue(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      PutByte(kNull, out);
      return;
    case Value::Type::kBool:
      PutByte(v.as_bool() ? kTrue : kFalse, out);
      return;
    case Value::Type::kNumber:
      PutByte(kNumber, out);
      PutDouble(v.as_number(), out);
      return;
    case Value::Type::kString:
      PutByte(kString, out);
      PutString(v.as_string(), out);
      return;
    case Value::Type::kList:
      PutByte(kList, out);
      PutVarint(v.as_list().size(), out);
      for (const Value& item : v.as_list()) PutValue(item, out);
      return;
    case Value::Type::kObject:
      PutByte(kObject, out);
      PutVarint(v.as_object().size(), out);
      for (const auto& [name, member] : v.as_object()) {
        PutString(name, out);
        PutValue(member, out);
      }
      return;
  }
}

// ---- reading ----

// A cursor over untrusted bytes. Every read names the field it reads; the first failure is kept
// as a Status ("instance.step_id: truncated at byte 57") and every later read fails too.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

  bool Fail(std::string_view field, std::string_view what) {
    if (status_.ok()) {
      status_ = Status::Parse(std::string(field) + ": " + std::string(what) + " at byte " +
                              std::to_string(pos_));
    }
    return false;
  }

  bool Byte(std::string_view field, uint8_t* out) {
    if (!ok()) return false;
    if (remaining() < 1) return Fail(field, "truncated");
    *out = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  bool Varint(std::string_view field, uint64_t* out) {
    if (!ok()) return false;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (remaining() < 1) return Fail(field, "truncated varint");
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return Fail(field, "varint overflows 64 bits");
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return Fail(field, "varint longer than 10 bytes");
  }

  bool Varint32(std::string_view field, uint32_t* out) {
    uint64_t v = 0;
    if (!Varint(field, &v)) return false;
    if (v > UINT32_MAX) return Fail(field, "value exceeds 32 bits");
    *out = static_cast<uint32_t>(v);
    return true;
  }

  bool Signed(std::string_view field, int64_t* out) {
    uint64_t v = 0;
    if (!Varint(field, &v)) return false;
    *out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
    return true;
  }

  // A count of items that each take at least `min_item_bytes`: bounds reservations by the input.
  bool Count(std::string_view field, size_t min_item_bytes, size_t* out) {
    uint64_t n = 0;
    if (!Varint(field, &n)) return false;
    if (n > remaining() / std::max<size_t>(min_item_bytes, 1)) {
      return Fail(field, "count " + std::to_string(n) + " exceeds the remaining bytes");
    }
    *out = static_cast<size_t>(n);
    return true;
  }

  bool StringView(std::string_view field, std::string_view* out) {
    size_t n = 0;
    if (!Count(field, 1, &n)) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool String(std::string_view field, std::string* out) {
    std::string_view v;
    if (!StringView(field, &v)) return false;
    out->assign(v);
    return true;
  }

  bool Fixed64(std::string_view field, uint64_t* out) {
    if (!ok()) return false;
    if (remaining() < 8) return Fail(field, "truncated");
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    *out = v;
    return true;
  }

  bool Double(std::string_view field, double* out) {
    uint64_t bits = 0;
    if (!Fixed64(field, &bits)) return false;
    *out = std::bit_cast<double>(bits);
    return true;
  }

  bool TimeAt(std::string_view field, Time* out) {
    int64_t ms = 0;
    if (!Signed(field, &ms)) return false;
    *out = FromMillis(ms);
    return true;
  }

  bool Bool(std::string_view field, bool* out) {
    uint8_t b = 0;
    if (!Byte(field, &b)) return false;
    if (b > 1) return Fail(field, "boolean byte " + std::to_string(b));
    *out = b == 1;
    return true;
  }

  bool Value(std::string_view field, waymark::Value* out, int depth = 0);

  // Reads and checks the version byte.
  bool Version(std::string_view what) {
    uint8_t v = 0;
    if (!Byte(what, &v)) return false;
    if (v < kOldestCodecVersion || v > kCodecVersion) {
      pos_ = 0;
      return Fail(what, "format version " + std::to_string(v) + ", expected " +
                            std::to_string(kOldestCodecVersion) + " to " +
                            std::to_string(kCodecVersion));
    }
    version_ = v;
    return true;
  }

  // The version byte Version() read.
  uint8_t version() const { return version_; }

  bool End(std::string_view what) {
    if (!ok()) return false;
    if (!at_end()) return Fail(what, std::to_string(remaining()) + " trailing bytes");
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  uint8_t version_ = 0;
  Status status_;
};

bool Reader::Value(std::string_view field, waymark::Value* out, int depth) {
  if (depth > kMaxValueDepth) return Fail(field, "value nested too deep");
  uint8_t tag = 0;
  if (!Byte(field, &tag)) return false;
  switch (tag) {
    case kNull:
      *out = waymark::Value();
      return true;
    case kFalse:
    case kTrue:
      *out = waymark::Value(tag == kTrue);
      return true;
    case kNumber: {
      double d = 0;
      if (!Double(field, &d)) return false;
      *out = waymark::Value(d);
      return true;
    }
    case kString: {
      std::string s;
      if (!String(field, &s)) return false;
      *out = waymark::Value(std::move(s));
      return true;
    }
    case kList: {
      size_t n = 0;
      if (!Count(field, 1, &n)) return false;
      waymark::Value::List list(n);
      for (waymark::Value& item : list) {
        if (!Value(field, &item, depth + 1)) return false;
      }
      *out = waymark::Value(std::move(list));
      return true;
    }
    case kObject: {
      size_t n = 0;
      if (!Count(field, 2, &n)) return false;
      waymark::Value::Object object(n);
      for (auto& [name, member] : object) {
        if (!String(field, &name) || !Value(field, &member, depth + 1)) return false;
      }
      *out = waymark::Value(std::move(object));
      return true;
    }
    default:
      return Fail(field, "unknown value tag " + std::to_string(tag));
  }
}

// ---- profile state: encoding ----

void PutEvent(const Event& e, std::string* out) {
  PutByte(static_cast<uint8_t>(e.type), out);
  PutString(e.name, out);
  PutString(e.user_id, out);
  PutString(e.anonymous_id, out);
  PutString(e.previous_id, out);
  PutString(e.group_id, out);
  PutString(e.message_id, out);
  PutString(e.timezone, out);
  PutTime(e.timestamp, out);
  PutValue(e.properties, out);
  PutValue(e.traits, out);
}

// Strings a profile state repeats — history event names, activity texts, journey and step ids —
// written once at the front of a version 2 value and referred to by position. Profiles repeat
// a handful of them: a linear search beats hashing.
class NameTable {
 public:
  uint64_t Index(std::string_view s) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == s) return i;
    }
    names_.push_back(s);
    return names_.size() - 1;
  }
  const std::vector<std::string_view>& names() const { return names_; }

 private:
  std::vector<std::string_view> names_;
};

// A step id by position, "" when out of range.
std::string_view StepId(const Instance& inst, int step) {
  if (!inst.journey || step < 0 || size_t(step) >= inst.journey->steps.size()) return "";
  return inst.journey->steps[step].id;
}

// A channel id by index, "" when out of range.
std::string_view ChannelId(const Config& config, int channel) {
  if (channel < 0 || size_t(channel) >= config.channels.size()) return "";
  return config.channels[channel].id;
}

NameTable NamesOf(const ProfileState& ps, const Config& config) {
  NameTable t;
  for (const HistoryEntry& h : ps.profile.history) t.Index(h.name);
  for (const Instance& inst : ps.instances) {
    if (!StepId(inst, inst.last_sent.step).empty()) {
      t.Index(StepId(inst, inst.last_sent.step));
      if (!ChannelId(config, inst.last_sent.channel).empty()) {
        t.Index(ChannelId(config, inst.last_sent.channel));
      }
    }
    if (!StepId(inst, inst.last_click_step).empty()) t.Index(StepId(inst, inst.last_click_step));
  }
  for (const ActivityEntry& a : ps.activity) {
    t.Index(a.what);
    t.Index(a.journey);
    t.Index(a.step);
  }
  return t;
}

void PutProfile(const Profile& p, NameTable& names, std::string* out) {
  PutString(p.key, out);
  PutString(p.user_id, out);
  PutVarint(p.anonymous_ids.size(), out);
  for (const std::string& id : p.anonymous_ids) PutString(id, out);
  PutValue(p.traits, out);
  PutString(p.tz != nullptr ? std::string_view(p.tz->name()) : std::string_view(), out);
  PutTime(p.first_seen, out);
  PutTime(p.last_seen, out);
  PutVarint(p.event_count, out);
  PutVarint(p.order_count, out);
  PutDouble(p.revenue, out);
  PutTime(p.last_order_at, out);
  PutVarint(p.history.size(), out);
  int64_t previous = 0;  // times are deltas from the entry before: a few bytes, not six
  for (const HistoryEntry& h : p.history) {
    PutVarint(names.Index(h.name), out);
    PutSigned(ToMillis(h.time) - previous, out);
    previous = ToMillis(h.time);
    PutByte(h.properties != nullptr ? 1 : 0, out);
    if (h.properties != nullptr) PutValue(*h.properties, out);
  }
}

// Instances share trigger events; each distinct one is written once and referenced by position.
std::vector<const Event*> DistinctTriggers(const std::vector<Instance>& instances) {
  std::vector<const Event*> triggers;
  for (const Instance& inst : instances) {
    const Event* e = inst.trigger.get();
    if (e != nullptr && std::find(triggers.begin(), triggers.end(), e) == triggers.end()) {
      triggers.push_back(e);
    }
  }
  return triggers;
}

// Version 2's attribution fields: 0 for none, else 1 + the name index of the id.
void PutNameRef(std::string_view name, NameTable& names, std::string* out) {
  PutVarint(name.empty() ? 0 : names.Index(name) + 1, out);
}

void PutInstance(const Instance& inst, const std::vector<const Event*>& triggers,
                 const Config& config, NameTable& names, std::string* out) {
  PutFixed64(inst.id, out);
  PutString(inst.journey ? std::string_view(inst.journey->id) : std::string_view(), out);
  PutVarint(inst.journey ? inst.journey->version : 0, out);
  PutString(inst.key, out);
  uint64_t ref = 0;
  if (inst.trigger) {
    ref = std::find(triggers.begin(), triggers.end(), inst.trigger.get()) - triggers.begin() + 1;
  }
  PutVarint(ref, out);
  PutTime(inst.entered_at, out);
  PutSigned(inst.step, out);
  bool step_valid =
      inst.journey && inst.step >= 0 && size_t(inst.step) < inst.journey->steps.size();
  PutString(step_valid ? std::string_view(inst.journey->steps[inst.step].id) : "", out);
  PutByte(static_cast<uint8_t>(inst.state), out);
  PutByte((inst.control ? 1 : 0) | (inst.converted ? 2 : 0), out);
  PutVarint(inst.visits, out);
  PutTime(inst.timer_due, out);
  // Times relative to entry: a few bytes.
  std::string_view sent_step = StepId(inst, inst.last_sent.step);
  PutNameRef(sent_step, names, out);
  if (!sent_step.empty()) {
    PutNameRef(ChannelId(config, inst.last_sent.channel), names, out);
    PutString(inst.last_sent.id, out);
    PutSigned(ToMillis(inst.last_sent.at) - ToMillis(inst.entered_at), out);
  }
  std::string_view click_step = StepId(inst, inst.last_click_step);
  PutNameRef(click_step, names, out);
  if (!click_step.empty()) {
    PutSigned(ToMillis(inst.last_click_at) - ToMillis(inst.entered_at), out);
  }
}

void PutEngaged(const std::vector<EngagedMessage>& engaged, std::string* out) {
  PutVarint(engaged.size(), out);
  for (const EngagedMessage& m : engaged) {
    PutFixed64(m.message, out);
    PutByte((m.opened ? 1 : 0) | (m.clicked ? 2 : 0), out);
  }
}

// Memory flags: bit 0 control, bit 1 converted. JourneyMemory may or may not carry these fields
// (they are being added alongside this code); detect them so this file builds either way.
template <typename M>
uint8_t MemoryFlags(const M& m) {
  if constexpr (requires {
                  m.control;
                  m.converted;
                }) {
    return (m.control ? 1 : 0) | (m.converted ? 2 : 0);
  } else {
    return 0;
  }
}

template <typename M>
void SetMemoryFlags(uint8_t flags, M* m) {
  if constexpr (requires {
                  m->control;
                  m->converted;
                }) {
    m->control = (flags & 1) != 0;
    m->converted = (flags & 2) != 0;
  }
}

void PutMemory(const JourneyMemory& m, const Config& config, std::string* out) {
  bool known = m.journey_index < config.journeys.size();
  PutString(known ? std::string_view(config.journeys[m.journey_index]->id) : "", out);
  PutString(m.key, out);
  PutVarint(m.entries, out);
  PutTime(m.last_entered, out);
  PutByte(MemoryFlags(m), out);
}

void PutSends(const SendLog& log, const Config& config, std::string* out) {
  // Channel ids once, records by position in that table.
  std::vector<int> channels;
  for (const SendLog::Record& r : log.records()) {
    if (std::find(channels.begin(), channels.end(), r.channel) == channels.end()) {
      channels.push_back(r.channel);
    }
  }
  PutVarint(channels.size(), out);
  for (int c : channels) {
    bool known = c >= 0 && size_t(c) < config.channels.size();
    PutString(known ? std::string_view(config.channels[c].id) : "", out);
  }
  PutVarint(log.records().size(), out);
  for (const SendLog::Record& r : log.records()) {
    PutTime(r.time, out);
    PutVarint(std::find(channels.begin(), channels.end(), r.channel) - channels.begin(), out);
  }
}

// ---- profile state: decoding ----

bool ReadEvent(Reader& r, Event* e) {
  uint8_t type = 0;
  if (!r.Byte("trigger.type", &type)) return false;
  if (type > static_cast<uint8_t>(EventType::kGroup)) {
    return r.Fail("trigger.type", "unknown event type " + std::to_string(type));
  }
  e->type = static_cast<EventType>(type);
  return r.String("trigger.name", &e->name) && r.String("trigger.user_id", &e->user_id) &&
         r.String("trigger.anonymous_id", &e->anonymous_id) &&
         r.String("trigger.previous_id", &e->previous_id) &&
         r.String("trigger.group_id", &e->group_id) &&
         r.String("trigger.message_id", &e->message_id) &&
         r.String("trigger.timezone", &e->timezone) &&
         r.TimeAt("trigger.timestamp", &e->timestamp) &&
         r.Value("trigger.properties", &e->properties) && r.Value("trigger.traits", &e->traits);
}

// Version 2's name table; empty for version 1, which writes names in place.
using Names = std::vector<std::string_view>;

bool ReadNames(Reader& r, Names* names) {
  size_t n = 0;
  if (!r.Count("names", 1, &n)) return false;
  names->resize(n);
  for (std::string_view& name : *names) {
    if (!r.StringView("name", &name)) return false;
  }
  return true;
}

bool ReadName(Reader& r, std::string_view field, const Names& names, std::string_view* out) {
  uint64_t i = 0;
  if (!r.Varint(field, &i)) return false;
  if (i >= names.size()) {
    return r.Fail(field, "name " + std::to_string(i) + " of " + std::to_string(names.size()));
  }
  *out = names[i];
  return true;
}

bool ReadHistory(Reader& r, const HistoryPolicy& policy, const Names& names, Profile* p,
                 DecodeReport* report) {
  size_t n = 0;
  if (!r.Count("profile.history", 3, &n)) return false;
  int64_t previous = 0;
  for (size_t i = 0; i < n; ++i) {
    HistoryEntry h;
    std::string_view name;
    bool has_properties = false;
    if (r.version() >= 2) {
      int64_t delta = 0;
      if (!ReadName(r, "history.name", names, &name) || !r.Signed("history.time", &delta)) {
        return false;
      }
      previous += delta;
      h.time = FromMillis(previous);
    } else if (!r.TimeAt("history.time", &h.time) || !r.StringView("history.name", &name)) {
      return false;
    }
    if (!r.Bool("history.has_properties", &has_properties)) return false;
    Value properties;
    if (has_properties && !r.Value("history.properties", &properties)) return false;
    const HistoryPolicy::Rule* rule = policy.Find(name);
    if (rule == nullptr) {
      ++report->dropped_history;
      continue;
    }
    h.name = rule->entry_name();
    if (has_properties && rule->properties) {
      h.properties = std::make_shared<const Value>(std::move(properties));
    }
    p->history.push_back(std::move(h));
  }
  if (p->history.size() > policy.max_entries) {
    size_t excess = p->history.size() - policy.max_entries;
    p->history.erase(p->history.begin(), p->history.begin() + excess);
    report->dropped_history += excess;
  }
  return true;
}

bool ReadProfile(Reader& r, const HistoryPolicy& policy, const Names& names, Profile* p,
                 DecodeReport* report) {
  size_t n_anon = 0;
  if (!r.String("profile.key", &p->key) || !r.String("profile.user_id", &p->user_id) ||
      !r.Count("profile.anonymous_ids", 1, &n_anon)) {
    return false;
  }
  p->anonymous_ids.resize(n_anon);
  for (std::string& id : p->anonymous_ids) {
    if (!r.String("profile.anonymous_id", &id)) return false;
  }
  std::string tz;
  if (!r.Value("profile.traits", &p->traits) || !r.String("profile.time_zone", &tz)) return false;
  if (!tz.empty()) {
    p->tz = FindTimeZone(tz);
    if (p->tz == nullptr) report->unknown_time_zone = tz;
  }
  return r.TimeAt("profile.first_seen", &p->first_seen) &&
         r.TimeAt("profile.last_seen", &p->last_seen) &&
         r.Varint("profile.event_count", &p->event_count) &&
         r.Varint("profile.order_count", &p->order_count) &&
         r.Double("profile.revenue", &p->revenue) &&
         r.TimeAt("profile.last_order_at", &p->last_order_at) &&
         ReadHistory(r, policy, names, p, report);
}

// A name reference as PutNameRef writes it: "" for none.
bool ReadNameRef(Reader& r, std::string_view field, const Names& names, std::string_view* out) {
  uint64_t ref = 0;
  if (!r.Varint(field, &ref)) return false;
  if (ref == 0) {
    *out = {};
    return true;
  }
  if (ref > names.size()) {
    return r.Fail(field, "name " + std::to_string(ref - 1) + " of " + std::to_string(names.size()));
  }
  *out = names[ref - 1];
  return true;
}

// Version 2's last send and last click of an instance; step ids stay unresolved in `*sent_step`
// and `*click_step` until the instance's journey version is known.
bool ReadAttribution(Reader& r, const Names& names, Instance* inst, std::string_view* sent_step,
                     std::string_view* sent_channel, std::string_view* click_step) {
  int64_t delta = 0;
  if (!ReadNameRef(r, "instance.last_sent.step", names, sent_step)) return false;
  if (!sent_step->empty()) {
    if (!ReadNameRef(r, "instance.last_sent.channel", names, sent_channel) ||
        !r.String("instance.last_sent.id", &inst->last_sent.id) ||
        !r.Signed("instance.last_sent.at", &delta)) {
      return false;
    }
    inst->last_sent.at = FromMillis(ToMillis(inst->entered_at) + delta);
  }
  if (!ReadNameRef(r, "instance.last_click.step", names, click_step)) return false;
  if (!click_step->empty()) {
    if (!r.Signed("instance.last_click.at", &delta)) return false;
    inst->last_click_at = FromMillis(ToMillis(inst->entered_at) + delta);
  }
  return true;
}

bool ReadInstance(Reader& r, const Config& config, const Names& names,
                  const std::vector<std::shared_ptr<const Event>>& triggers, ProfileState* ps,
                  DecodeReport* report) {
  Instance inst;
  std::string journey_id, step_id;
  uint32_t version = 0;
  uint64_t trigger_ref = 0;
  int64_t step = 0;
  uint8_t state = 0, flags = 0;
  if (!r.Fixed64("instance.id", &inst.id) || !r.String("instance.journey_id", &journey_id) ||
      !r.Varint32("instance.version", &version) || !r.String("instance.key", &inst.key) ||
      !r.Varint("instance.trigger", &trigger_ref) ||
      !r.TimeAt("instance.entered_at", &inst.entered_at) || !r.Signed("instance.step", &step) ||
      !r.String("instance.step_id", &step_id) || !r.Byte("instance.state", &state) ||
      !r.Byte("instance.flags", &flags) || !r.Varint32("instance.visits", &inst.visits) ||
      !r.TimeAt("instance.timer_due", &inst.timer_due)) {
    return false;
  }
  std::string_view sent_step, sent_channel, click_step;
  if (r.version() >= 2 &&
      !ReadAttribution(r, names, &inst, &sent_step, &sent_channel, &click_step)) {
    return false;
  }
  if (trigger_ref > triggers.size()) return r.Fail("instance.trigger", "no such trigger");
  if (state > static_cast<uint8_t>(Instance::State::kEnded)) {
    return r.Fail("instance.state", "unknown state " + std::to_string(state));
  }
  if (flags > 3) return r.Fail("instance.flags", "unknown flags " + std::to_string(flags));
  if (step < kEnd || step > INT32_MAX) return r.Fail("instance.step", "out of range");

  // Resolve against the current config; what no longer fits is dropped, not an error.
  auto drop = [&](std::string reason) {
    report->dropped_instances.push_back({inst.id, journey_id, version, std::move(reason)});
    return true;
  };
  int index = config.JourneyIndex(journey_id);
  if (index < 0) return drop("journey no longer configured");
  // The current version, or an older one the config retains for in-flight instances.
  std::shared_ptr<const JourneyDef> def = config.FindJourneyVersion(journey_id, version);
  if (def == nullptr) {
    return drop("version " + std::to_string(version) + " replaced by " +
                std::to_string(config.journeys[index]->version));
  }
  if (step >= 0 && (size_t(step) >= def->steps.size() || def->steps[step].id != step_id)) {
    return drop("step '" + step_id + "' no longer at position " + std::to_string(step));
  }
  inst.journey = def;
  inst.journey_index = static_cast<uint32_t>(index);
  inst.trigger = trigger_ref == 0 ? nullptr : triggers[trigger_ref - 1];
  inst.step = static_cast<int>(step);
  inst.state = static_cast<Instance::State>(state);
  inst.control = (flags & 1) != 0;
  inst.converted = (flags & 2) != 0;
  // The version is the one the instance entered, so its step ids resolve; a step or channel
  // that no longer does (a config edited without a version bump) forgets that touch.
  if (!sent_step.empty()) {
    inst.last_sent.step = def->StepIndex(sent_step);
    inst.last_sent.channel = config.ChannelIndex(sent_channel);
    if (inst.last_sent.step == kEnd) inst.last_sent = SentMessage{};
  }
  if (!click_step.empty()) {
    inst.last_click_step = def->StepIndex(click_step);
    if (inst.last_click_step == kEnd) inst.last_click_at = kTimeMin;
  }
  ps->instances.push_back(std::move(inst));
  return true;
}

bool ReadMemories(Reader& r, const Config& config, ProfileState* ps, DecodeReport* report) {
  size_t n = 0;
  if (!r.Count("journeys", 5, &n)) return false;
  for (size_t i = 0; i < n; ++i) {
    std::string journey_id;
    JourneyMemory m;
    uint8_t flags = 0;
    if (!r.String("memory.journey_id", &journey_id) || !r.String("memory.key", &m.key) ||
        !r.Varint32("memory.entries", &m.entries) ||
        !r.TimeAt("memory.last_entered", &m.last_entered) || !r.Byte("memory.flags", &flags)) {
      return false;
    }
    if (flags > 3) return r.Fail("memory.flags", "unknown flags " + std::to_string(flags));
    int index = config.JourneyIndex(journey_id);
    if (index < 0) {
      ++report->dropped_memories;
      continue;
    }
    m.journey_index = static_cast<uint32_t>(index);
    SetMemoryFlags(flags, &m);
    ps->journeys.push_back(std::move(m));
  }
  return true;
}

bool ReadSends(Reader& r, const Config& config, ProfileState* ps, DecodeReport* report) {
  size_t n_channels = 0;
  if (!r.Count("sends.channels", 1, &n_channels)) return false;
  std::vector<int> channels(n_channels);
  for (int& c : channels) {
    std::string id;
    if (!r.String("sends.channel", &id)) return false;
    c = config.ChannelIndex(id);
  }
  size_t n = 0;
  if (!r.Count("sends", 2, &n)) return false;
  for (size_t i = 0; i < n; ++i) {
    Time t;
    uint64_t ref = 0;
    if (!r.TimeAt("send.time", &t) || !r.Varint("send.channel", &ref)) return false;
    if (ref >= channels.size()) return r.Fail("send.channel", "no such channel entry");
    if (channels[ref] < 0) {
      ++report->dropped_sends;
      continue;
    }
    ps->sends.Add(t, channels[ref]);
  }
  return true;
}

bool ReadSegments(Reader& r, const Config& config, ProfileState* ps, DecodeReport* report) {
  size_t n = 0;
  if (!r.Count("segments", 1, &n)) return false;
  ps->segments.assign(config.segments.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    std::string id;
    if (!r.String("segment.id", &id)) return false;
    int index = config.SegmentIndex(id);
    if (index < 0) {
      ++report->dropped_segments;
      continue;
    }
    ps->segments[index] = 1;
  }
  return r.TimeAt("segment_due", &ps->segment_due);
}

bool ReadEngaged(Reader& r, ProfileState* ps) {
  size_t n = 0;
  if (!r.Count("engaged", 9, &n)) return false;
  ps->engaged.resize(n);
  for (EngagedMessage& m : ps->engaged) {
    uint8_t flags = 0;
    if (!r.Fixed64("engaged.message", &m.message) || !r.Byte("engaged.flags", &flags)) {
      return false;
    }
    if (flags > 3) return r.Fail("engaged.flags", "unknown flags " + std::to_string(flags));
    m.opened = (flags & 1) != 0;
    m.clicked = (flags & 2) != 0;
  }
  if (ps->engaged.size() > kEngagedMessageLimit) {
    ps->engaged.erase(ps->engaged.begin(), ps->engaged.end() - kEngagedMessageLimit);
  }
  return true;
}

void PutActivity(const std::vector<ActivityEntry>& activity, NameTable& names, std::string* out) {
  PutVarint(activity.size(), out);
  int64_t previous = 0;
  for (const ActivityEntry& a : activity) {
    PutByte(static_cast<uint8_t>(a.kind), out);
    PutSigned(ToMillis(a.time) - previous, out);
    previous = ToMillis(a.time);
    PutVarint(names.Index(a.what), out);
    PutString(a.id, out);
    PutVarint(names.Index(a.journey), out);
    PutVarint(names.Index(a.step), out);
    PutString(a.detail, out);
  }
}

bool ReadActivity(Reader& r, const Names& names, ProfileState* ps) {
  size_t n = 0;
  if (!r.Count("activity", 7, &n)) return false;
  ps->activity.resize(n);
  int64_t previous = 0;
  for (ActivityEntry& a : ps->activity) {
    uint8_t kind = 0;
    if (!r.Byte("activity.kind", &kind)) return false;
    if (kind > static_cast<uint8_t>(ActivityEntry::Kind::kSuppressed)) {
      return r.Fail("activity.kind", "unknown kind " + std::to_string(kind));
    }
    a.kind = static_cast<ActivityEntry::Kind>(kind);
    int64_t delta = 0;
    std::string_view what, journey, step;
    if (!r.Signed("activity.time", &delta) || !ReadName(r, "activity.what", names, &what) ||
        !r.String("activity.id", &a.id) || !ReadName(r, "activity.journey", names, &journey) ||
        !ReadName(r, "activity.step", names, &step) || !r.String("activity.detail", &a.detail)) {
      return false;
    }
    previous += delta;
    a.time = FromMillis(previous);
    a.what.assign(what);
    a.journey.assign(journey);
    a.step.assign(step);
  }
  return true;
}

bool ReadProfileState(Reader& r, const Config& config, ProfileState* ps, DecodeReport* report) {
  Names names;
  if (!r.Version("profile state") || (r.version() >= 2 && !ReadNames(r, &names)) ||
      !ReadProfile(r, config.history, names, &ps->profile, report)) {
    return false;
  }
  size_t n_triggers = 0;
  if (!r.Count("triggers", 11, &n_triggers)) return false;
  std::vector<std::shared_ptr<const Event>> triggers;
  triggers.reserve(n_triggers);
  for (size_t i = 0; i < n_triggers; ++i) {
    auto e = std::make_shared<Event>();
    if (!ReadEvent(r, e.get())) return false;
    triggers.push_back(std::move(e));
  }
  size_t n_instances = 0;
  if (!r.Count("instances", 19, &n_instances)) return false;
  for (size_t i = 0; i < n_instances; ++i) {
    if (!ReadInstance(r, config, names, triggers, ps, report)) return false;
  }
  if (!ReadMemories(r, config, ps, report) || !ReadSends(r, config, ps, report) ||
      !ReadSegments(r, config, ps, report)) {
    return false;
  }
  if (r.version() >= 2 && (!ReadEngaged(r, ps) || !ReadActivity(r, names, ps))) return false;
  return r.End("profile state");
}

}  // namespace

void EncodeProfileState(const ProfileState& ps, const Config& config, std::string* out) {
  PutByte(kCodecVersion, out);
  NameTable names = NamesOf(ps, config);
  PutVarint(names.names().size(), out);
  for (std::string_view name : names.names()) PutString(name, out);
  PutProfile(ps.profile, names, out);
  std::vector<const Event*> triggers = DistinctTriggers(ps.instances);
  PutVarint(triggers.size(), out);
  for (const Event* e : triggers) PutEvent(*e, out);
  PutVarint(ps.instances.size(), out);
  for (const Instance& inst : ps.instances) PutInstance(inst, triggers, config, names, out);
  PutVarint(ps.journeys.size(), out);
  for (const JourneyMemory& m : ps.journeys) PutMemory(m, config, out);
  PutSends(ps.sends, config, out);

  uint64_t members = 0;
  for (size_t i = 0; i < ps.segments.size() && i < config.segments.size(); ++i) {
    members += ps.segments[i] != 0;
  }
  PutVarint(members, out);
  for (size_t i = 0; i < ps.segments.size() && i < config.segments.size(); ++i) {
    if (ps.segments[i] != 0) PutString(config.segments[i].id, out);
  }
  PutTime(ps.segment_due, out);
  PutEngaged(ps.engaged, out);
  PutActivity(ps.activity, names, out);
}

Status DecodeProfileState(std::string_view bytes, const Config& config, ProfileState* out,
                          DecodeReport* report) {
  DecodeReport scratch;
  Reader r(bytes);
  ReadProfileState(r, config, out, report != nullptr ? report : &scratch);
  return r.status();
}

void EncodeEvent(const Event& e, std::string* out) {
  PutByte(kCodecVersion, out);
  PutEvent(e, out);
}

Status DecodeEvent(std::string_view bytes, Event* out) {
  Reader r(bytes);
  if (r.Version("event") && ReadEvent(r, out)) r.End("event");
  return r.status();
}

std::string_view DeliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "?";
}

void EncodeOutboxValue(const OutboxEntry& entry, std::string* out) {
  PutByte(kCodecVersion, out);
  PutString(entry.json, out);
  PutByte(static_cast<uint8_t>(entry.status), out);
  PutVarint(entry.attempts, out);
  PutTime(entry.next_attempt, out);
  PutString(entry.detail, out);
}

Status DecodeOutboxValue(std::string_view bytes, OutboxEntry* out) {
  Reader r(bytes);
  uint8_t status = 0;
  if (r.Version("outbox entry") && r.String("outbox.json", &out->json) &&
      r.Byte("outbox.status", &status) && r.Varint32("outbox.attempts", &out->attempts) &&
      r.TimeAt("outbox.next_attempt", &out->next_attempt) &&
      r.String("outbox.detail", &out->detail) && r.End("outbox entry")) {
    if (status > static_cast<uint8_t>(DeliveryStatus::kFailed)) {
      return Status::Parse("outbox.status: unknown delivery status " + std::to_string(status));
    }
    out->status = static_cast<DeliveryStatus>(status);
  }
  return r.status();
}

void EncodeTimeValue(Time t, std::string* out) {
  PutByte(kCodecVersion, out);
  PutTime(t, out);
}

Result<Time> DecodeTimeValue(std::string_view bytes) {
  Reader r(bytes);
  Time t{};
  if (r.Version("time value") && r.TimeAt("time", &t) && r.End("time value")) return t;
  return r.status();
}

void EncodeHashListValue(const std::vector<uint64_t>& hashes, std::string* out) {
  PutByte(kCodecVersion, out);
  PutVarint(hashes.size(), out);
  for (uint64_t h : hashes) PutFixed64(h, out);
}

Result<std::vector<uint64_t>> DecodeHashListValue(std::string_view bytes) {
  Reader r(bytes);
  std::vector<uint64_t> hashes;
  size_t n = 0;
  if (r.Version("hash list") && r.Count("hashes", 8, &n)) {
    hashes.resize(n);
    for (uint64_t& h : hashes) {
      if (!r.Fixed64("hash", &h)) break;
    }
    r.End("hash list");
  }
  if (!r.status().ok()) return r.status();
  return hashes;
}

void EncodeBytesValue(std::string_view s, std::string* out) {
  PutByte(kCodecVersion, out);
  out->append(s);
}

Result<std::string> DecodeBytesValue(std::string_view bytes) {
  Reader r(bytes);
  if (!r.Version("value")) return r.status();
  return std::string(bytes.substr(1));
}

void EncodeValue(const Value& v, std::string* out) { PutValue(v, out); }

Status DecodeValue(std::string_view bytes, Value* out) {
  Reader r(bytes);
  if (r.Value("value", out)) (void)r.End("value");
  return r.status();
}

}  // namespace waymark::store
