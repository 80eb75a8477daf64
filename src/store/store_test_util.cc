#include "store/store_test_util.h"

#include <date/tz.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "core/local_time.h"

namespace waymark::store::testing {
namespace {

StepDef Step(std::string id, StepKind kind, int next) {
  StepDef s;
  s.id = std::move(id);
  s.kind = kind;
  s.next = next;
  return s;
}

Time At(int64_t ms) { return FromMillis(1767225600000 + ms); }  // 2026-01-01T00:00:00Z + ms

template <typename M>
std::string MemoryFlagsText(const M& m) {
  if constexpr (requires {
                  m.control;
                  m.converted;
                }) {
    return std::string(" control=") + (m.control ? "1" : "0") +
           " converted=" + (m.converted ? "1" : "0");
  } else {
    return "";
  }
}

template <typename M>
void SetMemoryFlags(M* m, bool control, bool converted) {
  if constexpr (requires {
                  m->control;
                  m->converted;
                }) {
    m->control = control;
    m->converted = converted;
  }
}

std::string DumpEvent(const Event& e) {
  return "type=" + std::string(EventTypeName(e.type)) + " name=" + e.name + " user=" + e.user_id +
         " anon=" + e.anonymous_id + " prev=" + e.previous_id + " group=" + e.group_id +
         " mid=" + e.message_id + " tz=" + e.timezone +
         " at=" + std::to_string(ToMillis(e.timestamp)) + " props=" + e.properties.ToJson() +
         " traits=" + e.traits.ToJson();
}

}  // namespace

std::shared_ptr<Config> MakeTestConfig() {
  auto config = std::make_shared<Config>();
  config->channels = {{"email", ChannelKind::kEmail, "email"},
                      {"sms", ChannelKind::kSms, "phone"},
                      {"push", ChannelKind::kPush, ""}};
  for (const char* id : {"vip", "cart_abandoner", "newsletter"}) {
    SegmentDef s;
    s.id = id;
    s.name = id;
    config->segments.push_back(std::move(s));
    config->segment_names.push_back(id);
  }

  auto welcome = std::make_shared<JourneyDef>();
  welcome->id = "welcome";
  welcome->version = 1;
  welcome->steps = {Step("send_welcome", StepKind::kSend, 1), Step("wait_2d", StepKind::kWait, 2),
                    Step("send_tips", StepKind::kSend, kEnd)};
  auto cart = std::make_shared<JourneyDef>();
  cart->id = "abandoned_cart";
  cart->version = 2;
  cart->steps = {Step("wait_order", StepKind::kWaitFor, 1), Step("has_email", StepKind::kBranch, 2),
                 Step("send_reminder", StepKind::kSend, 3), Step("done", StepKind::kExit, kEnd)};
  config->journeys = {welcome, cart};

  config->history.rules = {{"Order Completed", Duration(std::chrono::hours(24 * 90)), true},
                           {"Product Viewed", Duration(std::chrono::hours(24 * 7)), false},
                           {"identify", Duration::max(), false}};
  config->history.max_entries = 1000;
  return config;
}

ProfileState MakeProfileState(const Config& config, const std::string& key, int history_entries,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  ProfileState ps;
  Profile& p = ps.profile;
  p.key = key;
  p.user_id = key;
  p.anonymous_ids = {"anon-" + key, "anon-" + std::to_string(rng() % 100000)};
  p.traits = Value::EmptyObject();
  p.traits.Set("email", key + "@example.com");
  p.traits.Set("first_name", "Zoë Ålander-Øster 🚀 名前");
  p.traits.Set("vip", true);
  p.traits.Set("ltv", 1234.5 + double(rng() % 1000));
  p.traits.Set("tags", Value(Value::List{"new", "mobile", nullptr}));
  Value address = Value::EmptyObject();
  address.Set("city", "Zürich");
  address.Set("zip", Value());
  p.traits.Set("address", std::move(address));
  p.traits.Set("timezone", "Europe/Berlin");
  p.tz = FindTimeZone("Europe/Berlin");
  p.first_seen = At(0);
  p.last_seen = At(int64_t(history_entries) * 60000);
  p.event_count = 17 + rng() % 100;
  p.order_count = 3;
  p.revenue = 249.99;
  p.last_order_at = At(3600000);

  auto order_props = std::make_shared<const Value>(
      Value(Value::Object{{"revenue", 99.5}, {"currency", "EUR"}, {"sku", "ä-1"}}));
  for (int i = 0; i < history_entries; ++i) {
    const HistoryPolicy::Rule& rule = config.history.rules[i % config.history.rules.size()];
    HistoryEntry h;
    h.time = At(int64_t(i) * 60000);
    h.name = rule.name;
    if (rule.properties) h.properties = order_props;
    p.history.push_back(std::move(h));
  }

  auto cart_event = std::make_shared<Event>();
  cart_event->type = EventType::kTrack;
  cart_event->name = "Cart Abandoned";
  cart_event->user_id = key;
  cart_event->anonymous_id = "anon-" + key;
  cart_event->message_id = "msg-" + std::to_string(rng());
  cart_event->timezone = "Europe/Berlin";
  cart_event->timestamp = At(120000);
  cart_event->properties = Value(Value::Object{
      {"cart_id", "c-1"},
      {"items", Value(Value::List{Value(Value::Object{{"sku", "shoe"}, {"price", 59.9}})})}});
  auto identify = std::make_shared<Event>();
  identify->type = EventType::kIdentify;
  identify->user_id = key;
  identify->message_id = "msg-id-" + key;
  identify->timestamp = At(60000);
  identify->traits = Value(Value::Object{{"plan", "pro"}});
  std::shared_ptr<const Event> triggers[] = {cart_event, identify, nullptr};

  for (int s = 0; s <= static_cast<int>(Instance::State::kEnded); ++s) {
    Instance inst;
    inst.id = rng();
    inst.journey_index = s % 2;
    inst.journey = config.journeys[inst.journey_index];
    inst.key = inst.journey_index == 1 ? "c-" + std::to_string(s) : "";
    inst.trigger = triggers[s % 3];
    inst.entered_at = At(120000 + s);
    inst.state = static_cast<Instance::State>(s);
    inst.step =
        inst.state == Instance::State::kAwaitingGoal || inst.state == Instance::State::kEnded
            ? kEnd
            : s % int(inst.journey->steps.size());
    inst.control = s == 2;
    inst.converted = s == 4;
    inst.visits = uint32_t(s * 3);
    inst.timer_token = 1000 + s;
    inst.timer_due = At(86400000 + s);
    if (s % 3 != 2) {  // the last send: on the journey's step 2, at entry + s seconds
      inst.last_sent =
          SentMessage{2, s % 2, "00000000000000a" + std::to_string(s), At(120000 + s + s * 1000)};
    }
    if (s % 3 == 0) {  // and a click on it, a minute later
      inst.last_click_step = 2;
      inst.last_click_at = At(120000 + s + s * 1000 + 60000);
    }
    ps.instances.push_back(std::move(inst));
  }

  ps.journeys.push_back(JourneyMemory{0, "", 1, At(120000)});
  ps.journeys.push_back(JourneyMemory{1, "c-1", 2, At(180000)});
  SetMemoryFlags(&ps.journeys.back(), true, true);
  ps.sends.Add(At(1000), 0);
  ps.sends.Add(At(2000), 1);
  ps.sends.Add(At(3000), 0);
  ps.segments.assign(config.segments.size(), 0);
  ps.segments[0] = 1;
  ps.segments[2] = 1;
  ps.segment_due = At(7200000);
  ps.engaged.push_back(EngagedMessage{0x0123456789abcdefULL, true, false});
  ps.engaged.push_back(EngagedMessage{rng(), true, true});
  ps.engaged.push_back(EngagedMessage{rng(), false, true});
  ps.activity.push_back(
      ActivityEntry{ActivityEntry::Kind::kEvent, At(1000), "track Cart Viewed", "m-1", "", "", ""});
  ps.activity.push_back(ActivityEntry{ActivityEntry::Kind::kSent, At(2000), "email", "ab12",
                                      "welcome", "send_1", ""});
  ps.activity.push_back(ActivityEntry{ActivityEntry::Kind::kSuppressed, At(3000), "cap", "cd34",
                                      "cart", "remind", "2 per 1d on all channels"});
  return ps;
}

std::string Dump(const ProfileState& ps, const Config& config) {
  const Profile& p = ps.profile;
  std::string out = "key=" + p.key + "\nuser=" + p.user_id + "\n";
  for (const std::string& id : p.anonymous_ids) out += "anon=" + id + "\n";
  out += "traits=" + p.traits.ToJson() + "\n";
  out += "tz=" + (p.tz ? std::string(p.tz->name()) : std::string("(null)")) + "\n";
  out += "seen=" + std::to_string(ToMillis(p.first_seen)) + ".." +
         std::to_string(ToMillis(p.last_seen)) + " events=" + std::to_string(p.event_count) +
         " orders=" + std::to_string(p.order_count) + " revenue=" + FormatNumber(p.revenue) +
         " last_order=" + std::to_string(ToMillis(p.last_order_at)) + "\n";
  for (const HistoryEntry& h : p.history) {
    out += "history " + std::to_string(ToMillis(h.time)) + " " + std::string(h.name) + " " +
           (h.properties ? h.properties->ToJson() : "-") + "\n";
  }
  std::map<const Event*, size_t> trigger_ids;
  for (const Instance& inst : ps.instances) {
    std::string trigger = "-";
    if (inst.trigger) {
      auto [it, added] = trigger_ids.emplace(inst.trigger.get(), trigger_ids.size());
      trigger = "#" + std::to_string(it->second) + (added ? " " + DumpEvent(*inst.trigger) : "");
    }
    out += "instance id=" + std::to_string(inst.id) + " journey=" + inst.journey->id + " v" +
           std::to_string(inst.journey->version) + " index=" + std::to_string(inst.journey_index) +
           " key=" + inst.key + " entered=" + std::to_string(ToMillis(inst.entered_at)) +
           " step=" + std::to_string(inst.step) + " state=" + std::to_string(int(inst.state)) +
           " control=" + std::to_string(inst.control) +
           " converted=" + std::to_string(inst.converted) +
           " visits=" + std::to_string(inst.visits) +
           " due=" + std::to_string(ToMillis(inst.timer_due)) + " trigger=" + trigger +
           " last_sent=" + std::to_string(inst.last_sent.step) + "/" +
           std::to_string(inst.last_sent.channel) + "/" + inst.last_sent.id + "/" +
           std::to_string(ToMillis(inst.last_sent.at)) +
           " last_click=" + std::to_string(inst.last_click_step) + "/" +
           std::to_string(ToMillis(inst.last_click_at)) + "\n";
  }
  for (const JourneyMemory& m : ps.journeys) {
    out += "memory " + config.journeys[m.journey_index]->id + " key=" + m.key +
           " entries=" + std::to_string(m.entries) +
           " last=" + std::to_string(ToMillis(m.last_entered)) + MemoryFlagsText(m) + "\n";
  }
  for (const SendLog::Record& r : ps.sends.records()) {
    out += "send " + std::to_string(ToMillis(r.time)) + " " + config.channels[r.channel].id + "\n";
  }
  for (size_t i = 0; i < ps.segments.size(); ++i) {
    if (ps.segments[i]) out += "segment " + config.segments[i].id + "\n";
  }
  out += "segments_size=" + std::to_string(ps.segments.size()) +
         " segment_due=" + std::to_string(ToMillis(ps.segment_due)) + "\n";
  for (const EngagedMessage& m : ps.engaged) {
    out += "engaged " + std::to_string(m.message) + " opened=" + std::to_string(m.opened) +
           " clicked=" + std::to_string(m.clicked) + "\n";
  }
  for (const ActivityEntry& a : ps.activity) {
    out += "activity " + std::to_string(int(a.kind)) + " " + std::to_string(ToMillis(a.time)) +
           " " + a.what + " id=" + a.id + " journey=" + a.journey + " step=" + a.step +
           " detail=" + a.detail + "\n";
  }
  return out;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  // mkdtemp replaces the template's last six characters, which must be 'X'.
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/waymark-store-" +
                     std::string(6, 'X');
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace waymark::store::testing
