#include "store/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "store/store_test_util.h"

namespace waymark::store {
namespace {

using testing::Dump;
using testing::MakeProfileState;
using testing::MakeTestConfig;

std::string Encode(const ProfileState& ps, const Config& config) {
  std::string out;
  EncodeProfileState(ps, config, &out);
  return out;
}

TEST(StoreCodecTest, RoundTripsEveryProfileStateField) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "alice", 7, 1);
  std::string bytes = Encode(ps, *config);
  EXPECT_EQ(bytes[0], char(kCodecVersion));

  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *config, &back, &report).ok());
  EXPECT_TRUE(report.empty());
  EXPECT_EQ(Dump(back, *config), Dump(ps, *config));
  // Re-encoding the decoded state gives the same bytes.
  EXPECT_EQ(Encode(back, *config), bytes);
}

TEST(StoreCodecTest, KeepsUnicodeTraitsByteForByte) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "名前-ü", 0, 2);
  ps.profile.traits.Set("emoji", "👩‍👩‍👧 \xF0\x9F\x9A\x80");
  ps.profile.traits.Set("nul", std::string("a\0b", 3));
  ProfileState back;
  ASSERT_TRUE(DecodeProfileState(Encode(ps, *config), *config, &back, nullptr).ok());
  EXPECT_EQ(back.profile.key, "名前-ü");
  EXPECT_EQ(back.profile.traits, ps.profile.traits);
  EXPECT_EQ(back.profile.traits.Find("nul")->as_string().size(), 3u);
}

TEST(StoreCodecTest, RoundTripsEmptyProfile) {
  auto config = MakeTestConfig();
  ProfileState ps;
  ps.profile.key = "anon-1";
  ps.segments.assign(config->segments.size(), 0);
  ProfileState back;
  ASSERT_TRUE(DecodeProfileState(Encode(ps, *config), *config, &back, nullptr).ok());
  EXPECT_EQ(Dump(back, *config), Dump(ps, *config));
  EXPECT_EQ(back.profile.tz, nullptr);
  EXPECT_TRUE(back.profile.history.empty());
}

TEST(StoreCodecTest, RoundTripsLargeHistory) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "bob", 1000, 3);
  ProfileState back;
  ASSERT_TRUE(DecodeProfileState(Encode(ps, *config), *config, &back, nullptr).ok());
  ASSERT_EQ(back.profile.history.size(), 1000u);
  EXPECT_EQ(Dump(back, *config), Dump(ps, *config));
  // Names point into the config's rules, not into the decoded bytes.
  EXPECT_EQ(back.profile.history[0].name.data(), config->history.rules[0].name.data());
}

TEST(StoreCodecTest, RestoresInstancesInEveryStateWithSharedTriggersAndNoTimerToken) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "carol", 2, 4);
  ProfileState back;
  ASSERT_TRUE(DecodeProfileState(Encode(ps, *config), *config, &back, nullptr).ok());
  ASSERT_EQ(back.instances.size(), 6u);
  for (size_t i = 0; i < back.instances.size(); ++i) {
    const Instance& inst = back.instances[i];
    EXPECT_EQ(inst.state, static_cast<Instance::State>(i));
    EXPECT_EQ(inst.journey, config->journeys[inst.journey_index]);
    EXPECT_EQ(inst.timer_token, 0u);
  }
  // Instances 0 and 3 were started by the same event: still one shared copy.
  EXPECT_EQ(back.instances[0].trigger, back.instances[3].trigger);
  EXPECT_NE(back.instances[0].trigger, back.instances[1].trigger);
  EXPECT_EQ(back.instances[2].trigger, nullptr);
}

TEST(StoreCodecTest, ValuesRoundTripIncludingEdgeNumbers) {
  Value v = Value(Value::Object{
      {"list", Value(Value::List{1, -0.0, 1e300, -1e-300, true, false, nullptr, ""})},
      {"obj", Value(Value::Object{{"ü", Value(Value::Object{})}, {"", Value(Value::List{})}})},
      {"inf", std::numeric_limits<double>::infinity()}});
  std::string bytes;
  EncodeValue(v, &bytes);
  Value back;
  ASSERT_TRUE(DecodeValue(bytes, &back).ok());
  EXPECT_EQ(back, v);
  EXPECT_TRUE(std::signbit(back.Find("list")->as_list()[1].as_number()));
}

TEST(StoreCodecTest, RejectsOtherVersionByte) {
  auto config = MakeTestConfig();
  std::string bytes = Encode(MakeProfileState(*config, "dave", 1, 5), *config);
  bytes[0] = char(kCodecVersion + 1);
  ProfileState back;
  Status s = DecodeProfileState(bytes, *config, &back, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kParseError);
  EXPECT_EQ(s.message(), "profile state: format version 3, expected 1 to 2 at byte 0");

  OutboxEntry entry;
  std::string outbox;
  EncodeOutboxValue(entry, &outbox);
  outbox[0] = 0;
  EXPECT_EQ(DecodeOutboxValue(outbox, &entry).message(),
            "outbox entry: format version 0, expected 1 to 2 at byte 0");
}

TEST(StoreCodecTest, ReadsAVersionOneProfileState) {
  // Version 1 wrote history names and times in place and had no name table and no activity.
  // These bytes are such a value, written out field by field.
  std::string v1;
  v1 += '\x01';  // version
  v1 += std::string(
      "\x04"
      "erin",
      5);                            // key
  v1 += '\x00';                      // user id ""
  v1 += '\x00';                      // no anonymous ids
  v1 += std::string("\x06\x00", 2);  // traits: an empty object
  v1 += '\x00';                      // time zone ""
  v1 += '\x00';                      // first_seen 0 ms
  v1 += '\x02';                      // last_seen 1 ms (zigzag)
  v1 += '\x05';                      // event_count
  v1 += '\x00';                      // order_count
  v1 += std::string(8, '\0');        // revenue 0.0
  v1 += '\x00';                      // last_order_at 0 ms
  v1 += '\x01';                      // one history entry:
  v1 += '\x14';                      //   time 10 ms
  v1 += std::string(
      "\x0f"
      "Order Completed",
      16);
  v1 += '\x00';                          //   no properties
  v1 += std::string("\x00\x00\x00", 3);  // triggers, instances, memories
  v1 += std::string("\x00\x00", 2);      // send log: channels, records
  v1 += '\x00';                          // segments
  v1 += '\x14';                          // segment_due 10 ms
  auto config = MakeTestConfig();
  ProfileState back;
  DecodeReport report;
  Status s = DecodeProfileState(v1, *config, &back, &report);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(report.empty()) << report.dropped_history << " " << report.dropped_segments;
  EXPECT_EQ(back.profile.key, "erin");
  EXPECT_EQ(back.profile.event_count, 5u);
  ASSERT_EQ(back.profile.history.size(), 1u);
  EXPECT_EQ(back.profile.history[0].name, "Order Completed");
  EXPECT_EQ(back.profile.history[0].time, FromMillis(10));
  EXPECT_EQ(back.segment_due, FromMillis(10));
  EXPECT_TRUE(back.activity.empty());

  // Written again it is a version 2 value that reads back the same.
  std::string v2 = Encode(back, *config);
  EXPECT_EQ(v2[0], '\x02');
  ProfileState again;
  ASSERT_TRUE(DecodeProfileState(v2, *config, &again, nullptr).ok());
  EXPECT_EQ(Dump(again, *config), Dump(back, *config));
}

// One instance of welcome v1 at its first step, as version 1 wrote it (no attribution fields),
// in a profile state with nothing else.
std::string VersionOneStateWithAnInstance() {
  std::string v1;
  v1 += '\x01';                                // version
  v1 += std::string("\x01k", 2);               // key "k"
  v1 += std::string("\x00\x00", 2);            // user id "", no anonymous ids
  v1 += std::string("\x06\x00", 2);            // traits {}
  v1 += '\x00';                                // time zone ""
  v1 += std::string("\x00\x00\x00\x00", 4);    // first_seen, last_seen, event_count, orders
  v1 += std::string(8, '\0');                  // revenue
  v1 += std::string("\x00\x00\x00", 3);        // last_order_at, no history, no triggers
  v1 += '\x01';                                // one instance:
  v1 += std::string("\x2a\0\0\0\0\0\0\0", 8);  //   id 42
  v1 += std::string("\x07welcome", 8);         //   journey id
  v1 += '\x01';                                //   version 1
  v1 += '\x00';                                //   key ""
  v1 += '\x00';                                //   no trigger
  v1 += '\x14';                                //   entered_at 10 ms
  v1 += '\x00';                                //   step 0
  v1 += std::string("\x0csend_welcome", 13);   //   step id
  v1 += std::string("\x01\x00\x03", 3);        //   waiting, no flags, 3 visits
  v1 += '\x28';                                //   timer_due 20 ms
  v1 += std::string("\x00\x00\x00", 3);        // memories, send log channels and records
  v1 += '\x00';                                // segments
  v1 += '\x14';                                // segment_due
  return v1;
}

TEST(StoreCodecTest, ReadsAVersionOneInstanceWithoutAttribution) {
  auto config = MakeTestConfig();
  ProfileState back;
  DecodeReport report;
  Status s = DecodeProfileState(VersionOneStateWithAnInstance(), *config, &back, &report);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(report.empty());
  ASSERT_EQ(back.instances.size(), 1u);
  const Instance& inst = back.instances[0];
  EXPECT_EQ(inst.id, 42u);
  EXPECT_EQ(inst.visits, 3u);
  EXPECT_EQ(inst.timer_due, FromMillis(20));
  EXPECT_EQ(inst.last_sent.step, kEnd);
  EXPECT_EQ(inst.last_sent.channel, -1);
  EXPECT_EQ(inst.last_sent.id, "");
  EXPECT_EQ(inst.last_sent.at, kTimeMin);
  EXPECT_EQ(inst.last_click_step, kEnd);
  EXPECT_EQ(inst.last_click_at, kTimeMin);
  EXPECT_TRUE(back.engaged.empty());

  // Written again it is a version 2 value that reads back the same.
  ProfileState again;
  std::string v2 = Encode(back, *config);
  ASSERT_TRUE(DecodeProfileState(v2, *config, &again, nullptr).ok());
  EXPECT_EQ(Dump(again, *config), Dump(back, *config));
}

TEST(StoreCodecTest, RoundTripsAttributionAndEngagedMessages) {
  auto config = MakeTestConfig();
  ProfileState ps;
  ps.profile.key = "k";
  ps.segments.assign(config->segments.size(), 0);
  Instance inst;
  inst.id = 7;
  inst.journey = config->journeys[0];
  inst.entered_at = FromMillis(1767225600000);
  inst.state = Instance::State::kAwaitingGoal;
  inst.step = kEnd;
  inst.visits = 3;
  inst.last_sent = SentMessage{2, 1, "0123456789abcdef", inst.entered_at + std::chrono::hours(48)};
  inst.last_click_step = 0;
  inst.last_click_at = inst.entered_at + std::chrono::minutes(5);
  ps.instances.push_back(inst);
  ps.engaged = {EngagedMessage{99, true, false}, EngagedMessage{100, false, true}};
  std::string bytes = Encode(ps, *config);

  ProfileState back;
  ASSERT_TRUE(DecodeProfileState(bytes, *config, &back, nullptr).ok());
  ASSERT_EQ(back.instances.size(), 1u);
  const Instance& got = back.instances[0];
  EXPECT_EQ(got.last_sent.step, 2);
  EXPECT_EQ(got.last_sent.channel, 1);
  EXPECT_EQ(got.last_sent.id, "0123456789abcdef");
  EXPECT_EQ(got.last_sent.at, inst.last_sent.at);
  EXPECT_EQ(got.last_click_step, 0);
  EXPECT_EQ(got.last_click_at, inst.last_click_at);
  ASSERT_EQ(back.engaged.size(), 2u);
  EXPECT_EQ(back.engaged[0].message, 99u);
  EXPECT_TRUE(back.engaged[0].opened);
  EXPECT_FALSE(back.engaged[0].clicked);
  EXPECT_TRUE(back.engaged[1].clicked);

  // Channels and steps are stored by id: a config whose channels moved still finds "sms".
  auto moved = MakeTestConfig();
  std::swap(moved->channels[0], moved->channels[1]);
  ProfileState again;
  ASSERT_TRUE(DecodeProfileState(bytes, *moved, &again, nullptr).ok());
  EXPECT_EQ(again.instances[0].last_sent.channel, 0);
}

TEST(StoreCodecTest, ForgetsATouchWhoseStepOrChannelNoLongerResolves) {
  auto config = MakeTestConfig();
  ProfileState ps;
  ps.profile.key = "k";
  ps.segments.assign(config->segments.size(), 0);
  Instance inst;
  inst.journey = config->journeys[0];
  inst.step = 1;  // waiting at wait_2d
  inst.state = Instance::State::kWaiting;
  inst.last_sent = SentMessage{0, 2, "0123456789abcdef", FromMillis(5)};
  inst.last_click_step = 0;
  inst.last_click_at = FromMillis(6);
  ps.instances.push_back(inst);
  std::string bytes = Encode(ps, *config);

  // send_welcome renamed and push removed, without a version bump: the instance itself still
  // resolves (its current step is where it was), its touches do not.
  auto edited = MakeTestConfig();
  auto welcome = std::make_shared<JourneyDef>(*edited->journeys[0]);
  welcome->steps[0].id = "send_hello";
  edited->journeys[0] = welcome;
  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *edited, &back, &report).ok());
  EXPECT_TRUE(report.dropped_instances.empty());
  ASSERT_EQ(back.instances.size(), 1u);
  EXPECT_EQ(back.instances[0].last_sent.step, kEnd);
  EXPECT_EQ(back.instances[0].last_sent.id, "");
  EXPECT_EQ(back.instances[0].last_click_step, kEnd);
  EXPECT_EQ(back.instances[0].last_click_at, kTimeMin);

  auto no_push = MakeTestConfig();
  no_push->channels.pop_back();
  ProfileState back2;
  ASSERT_TRUE(DecodeProfileState(bytes, *no_push, &back2, nullptr).ok());
  EXPECT_EQ(back2.instances[0].last_sent.step, 0);  // the send is remembered, its channel not
  EXPECT_EQ(back2.instances[0].last_sent.channel, -1);
}

TEST(StoreCodecTest, RejectsUnknownEngagedFlags) {
  auto config = MakeTestConfig();
  ProfileState ps;
  ps.profile.key = "k";
  ps.segments.assign(config->segments.size(), 0);
  ps.engaged = {EngagedMessage{1, true, true}};
  std::string bytes = Encode(ps, *config);
  // The value ends with the engaged list (count 1, 8 hash bytes, flags) and an empty activity.
  size_t flags_at = bytes.size() - 2;
  ASSERT_EQ(bytes[flags_at], '\x03');
  bytes[flags_at] = '\x04';
  ProfileState back;
  Status s = DecodeProfileState(bytes, *config, &back, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kParseError);
  EXPECT_NE(s.message().find("engaged.flags: unknown flags 4"), std::string::npos) << s.message();
}

TEST(StoreCodecTest, NamesAreWrittenOnceAndTimesAsDeltas) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "frank", 0, 7);
  ps.activity.clear();
  std::string before = Encode(ps, *config);
  const HistoryPolicy::Rule& rule = config->history.rules[0];
  for (int i = 0; i < 100; ++i) {
    HistoryEntry h;
    h.time = FromMillis(1767225600000 + i * 1000);
    h.name = rule.entry_name();
    ps.profile.history.push_back(h);
  }
  std::string after = Encode(ps, *config);
  // Each entry: name index (1 byte), time delta (2 bytes for 1000 ms), properties flag; the
  // name itself once in the table, the first time in full.
  EXPECT_LE(after.size() - before.size(), 100 * 4 + rule.name.size() + 8);
  ProfileState back;
  ASSERT_TRUE(DecodeProfileState(after, *config, &back, nullptr).ok());
  EXPECT_EQ(Dump(back, *config), Dump(ps, *config));
}

TEST(StoreCodecTest, RejectsANameIndexPastTheTable) {
  auto config = MakeTestConfig();
  ProfileState ps;
  ps.profile.key = "k";
  ps.segments.assign(config->segments.size(), 0);
  HistoryEntry h;
  h.time = FromMillis(1);
  h.name = config->history.rules[0].entry_name();
  ps.profile.history.push_back(h);
  std::string bytes = Encode(ps, *config);
  // version, one name in the table, then the profile; the history entry's name index is the
  // byte after the history count. Find it by its value 0 following the count 1.
  size_t table_end = 1 + 1 + 1 + config->history.rules[0].name.size();
  size_t count_at = bytes.find('\x01', table_end + 12);
  ASSERT_NE(count_at, std::string::npos);
  ASSERT_EQ(bytes[count_at + 1], '\x00');
  bytes[count_at + 1] = '\x05';
  ProfileState back;
  Status s = DecodeProfileState(bytes, *config, &back, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kParseError);
  EXPECT_NE(s.message().find("history.name: name 5 of 1"), std::string::npos) << s.message();
}

TEST(StoreCodecTest, RejectsUnknownActivityKind) {
  auto config = MakeTestConfig();
  ProfileState ps;
  ps.profile.key = "k";
  ps.segments.assign(config->segments.size(), 0);
  ps.activity.push_back(
      ActivityEntry{ActivityEntry::Kind::kSent, FromMillis(5), "email", "id", "j", "s", ""});
  std::string bytes = Encode(ps, *config);
  // The list ends the value: count 1, then kind, time (5 ms: one byte), the name index of
  // "email", the id "id" (3 bytes), the indices of "j" and "s", and the empty detail.
  size_t kind_at = bytes.size() - (1 + 1 + 1 + 3 + 1 + 1 + 1);
  ASSERT_EQ(bytes[kind_at], char(ActivityEntry::Kind::kSent));
  bytes[kind_at] = 9;
  ProfileState back;
  Status s = DecodeProfileState(bytes, *config, &back, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kParseError);
  EXPECT_NE(s.message().find("activity.kind: unknown kind 9"), std::string::npos) << s.message();
}

TEST(StoreCodecTest, RejectsEveryTruncation) {
  auto config = MakeTestConfig();
  std::string bytes = Encode(MakeProfileState(*config, "erin", 5, 6), *config);
  for (size_t n = 0; n < bytes.size(); ++n) {
    ProfileState back;
    Status s = DecodeProfileState(std::string_view(bytes).substr(0, n), *config, &back, nullptr);
    ASSERT_EQ(s.code(), Status::Code::kParseError) << "prefix of " << n << " bytes";
    EXPECT_NE(s.message().find(" at byte "), std::string::npos) << s.message();
  }
}

TEST(StoreCodecTest, NamesTheFieldThatIsWrong) {
  auto config = MakeTestConfig();
  std::string bytes = Encode(MakeProfileState(*config, "erin", 0, 6), *config);
  ProfileState back;
  EXPECT_EQ(DecodeProfileState(bytes + "x", *config, &back, nullptr).message(),
            "profile state: 1 trailing bytes at byte " + std::to_string(bytes.size()));
  // An empty name table, then a key whose length claims more bytes than there are.
  std::string bad = std::string(1, char(kCodecVersion)) + std::string("\x00\x7f", 2) + "abc";
  ProfileState back2;
  EXPECT_EQ(DecodeProfileState(bad, *config, &back2, nullptr).message(),
            "profile.key: count 127 exceeds the remaining bytes at byte 3");
}

TEST(StoreCodecTest, RejectsDeepNestingAndHugeCounts) {
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "\x05\x01";  // list of one list of ...
  deep += '\x00';
  Value v;
  EXPECT_NE(DecodeValue(deep, &v).message().find("nested too deep"), std::string::npos);

  std::string huge = "\x05\xff\xff\xff\xff\x0f";  // a list claiming 4 billion items
  EXPECT_NE(DecodeValue(huge, &v).message().find("exceeds the remaining bytes"), std::string::npos);
  EXPECT_NE(DecodeValue("\x09", &v).message().find("unknown value tag 9"), std::string::npos);
  EXPECT_NE(DecodeValue("\x03\x01\x02", &v).message().find("truncated"), std::string::npos);
  EXPECT_NE(DecodeValue(std::string("\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), &v)
                .message()
                .find("varint overflows"),
            std::string::npos);
}

TEST(StoreCodecTest, GarbageAndBitFlipsNeverCrash) {
  auto config = MakeTestConfig();
  std::string valid = Encode(MakeProfileState(*config, "frank", 20, 7), *config);
  std::mt19937_64 rng(42);
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes = valid;
      for (int flips = 1 + rng() % 4; flips > 0; --flips) {
        bytes[rng() % bytes.size()] ^= char(1 << (rng() % 8));
      }
    } else {
      bytes.resize(rng() % 200);
      for (char& c : bytes) c = char(rng());
      if (!bytes.empty()) bytes[0] = char(kCodecVersion);
    }
    ProfileState back;
    rejected += !DecodeProfileState(bytes, *config, &back, nullptr).ok();
  }
  EXPECT_GT(rejected, 9000);  // most random inputs are malformed
}

TEST(StoreCodecTest, DropsInstancesOfRemovedJourneysAndReportsThem) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "gina", 0, 8);
  std::string bytes = Encode(ps, *config);

  auto changed = MakeTestConfig();
  changed->journeys.erase(changed->journeys.begin());  // welcome removed; cart moves to index 0
  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *changed, &back, &report).ok());
  ASSERT_EQ(back.instances.size(), 3u);  // the abandoned_cart ones
  for (const Instance& inst : back.instances) {
    EXPECT_EQ(inst.journey->id, "abandoned_cart");
    EXPECT_EQ(inst.journey_index, 0u);
  }
  ASSERT_EQ(report.dropped_instances.size(), 3u);
  EXPECT_EQ(report.dropped_instances[0].journey_id, "welcome");
  EXPECT_EQ(report.dropped_instances[0].instance_id, ps.instances[0].id);
  EXPECT_EQ(report.dropped_instances[0].reason, "journey no longer configured");
  EXPECT_EQ(report.dropped_memories, 1u);
  ASSERT_EQ(back.journeys.size(), 1u);
  EXPECT_EQ(back.journeys[0].journey_index, 0u);
}

TEST(StoreCodecTest, DropsInstancesOfOldVersionsButKeepsReentryMemory) {
  auto config = MakeTestConfig();
  std::string bytes = Encode(MakeProfileState(*config, "hank", 0, 9), *config);
  auto changed = MakeTestConfig();
  auto cart = std::make_shared<JourneyDef>(*changed->journeys[1]);
  cart->version = 3;
  changed->journeys[1] = cart;
  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *changed, &back, &report).ok());
  ASSERT_EQ(report.dropped_instances.size(), 3u);
  EXPECT_EQ(report.dropped_instances[0].reason, "version 2 replaced by 3");
  EXPECT_EQ(back.journeys.size(), 2u);
  EXPECT_EQ(report.dropped_memories, 0u);
}

TEST(StoreCodecTest, KeepsInstancesOfARetainedOlderVersion) {
  // Stored while abandoned_cart v2 was current; decoded after v3 was published with v2 retained.
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "hank", 0, 9);
  std::string bytes = Encode(ps, *config);
  auto changed = MakeTestConfig();
  std::shared_ptr<const JourneyDef> v2 = changed->journeys[1];
  auto v3 = std::make_shared<JourneyDef>(*v2);
  v3->version = 3;
  v3->steps.erase(v3->steps.begin());  // v3 has other steps at the same positions
  changed->journeys[1] = v3;
  changed->retained_versions = {v2};

  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *changed, &back, &report).ok());
  EXPECT_TRUE(report.empty());
  ASSERT_EQ(back.instances.size(), ps.instances.size());
  for (const Instance& inst : back.instances) {
    if (inst.journey->id != "abandoned_cart") continue;
    EXPECT_EQ(inst.journey, v2);  // still on the steps it entered, not v3's
    EXPECT_EQ(inst.journey_index, 1u);
  }
  // Encoding under the new config gives the same bytes: the instance still says version 2.
  EXPECT_EQ(Encode(back, *changed), bytes);

  // Without v2 retained, the same bytes lose those instances.
  changed->retained_versions.clear();
  ProfileState dropped;
  DecodeReport dropped_report;
  ASSERT_TRUE(DecodeProfileState(bytes, *changed, &dropped, &dropped_report).ok());
  ASSERT_EQ(dropped_report.dropped_instances.size(), 3u);
  EXPECT_EQ(dropped_report.dropped_instances[0].reason, "version 2 replaced by 3");
}

TEST(StoreCodecTest, DropsInstancesWhoseStepMoved) {
  auto config = MakeTestConfig();
  std::string bytes = Encode(MakeProfileState(*config, "ivy", 0, 10), *config);
  auto changed = MakeTestConfig();
  auto welcome = std::make_shared<JourneyDef>(*changed->journeys[0]);
  std::swap(welcome->steps[0], welcome->steps[2]);  // edited without a version bump
  changed->journeys[0] = welcome;
  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *changed, &back, &report).ok());
  // Instances 0 (step 0) and 2 (step 2) of welcome point at moved steps; 4 has ended (kEnd).
  ASSERT_EQ(report.dropped_instances.size(), 2u);
  EXPECT_EQ(report.dropped_instances[0].reason, "step 'send_welcome' no longer at position 0");
}

TEST(StoreCodecTest, ResolvesHistorySegmentsAndChannelsById) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "jack", 9, 11);  // 3 of each history rule
  std::string bytes = Encode(ps, *config);

  auto changed = MakeTestConfig();
  changed->history.rules.erase(changed->history.rules.begin() + 1);  // Product Viewed unused
  changed->history.rules[0].properties = false;                      // where: no longer reads
  changed->segments.erase(changed->segments.begin());                // vip removed
  changed->segments.push_back(SegmentDef{"new_segment", "new", {}});
  changed->channels.erase(changed->channels.begin() + 1);  // sms removed
  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *changed, &back, &report).ok());

  EXPECT_EQ(report.dropped_history, 3u);
  ASSERT_EQ(back.profile.history.size(), 6u);
  for (const HistoryEntry& h : back.profile.history) EXPECT_EQ(h.properties, nullptr);
  EXPECT_EQ(report.dropped_segments, 1u);
  EXPECT_EQ(back.segments, (std::vector<uint8_t>{0, 1, 0}));  // newsletter moved to index 1
  EXPECT_EQ(report.dropped_sends, 1u);
  ASSERT_EQ(back.sends.size(), 2u);
  EXPECT_EQ(back.sends.records()[1].channel, 0);  // email
}

TEST(StoreCodecTest, AppliesTheHistoryLimitKeepingTheNewest) {
  auto config = MakeTestConfig();
  ProfileState ps = MakeProfileState(*config, "kim", 30, 12);
  std::string bytes = Encode(ps, *config);
  config->history.max_entries = 10;
  ProfileState back;
  DecodeReport report;
  ASSERT_TRUE(DecodeProfileState(bytes, *config, &back, &report).ok());
  ASSERT_EQ(back.profile.history.size(), 10u);
  EXPECT_EQ(back.profile.history.front().time, ps.profile.history[20].time);
  EXPECT_EQ(report.dropped_history, 20u);
}

TEST(StoreCodecTest, OutboxTimeAndBytesValuesRoundTrip) {
  OutboxEntry entry;
  entry.json = R"({"id":"m1","to":"zoë@example.com"})";
  entry.status = DeliveryStatus::kFailed;
  entry.attempts = 5;
  entry.next_attempt = FromMillis(-5);
  entry.detail = "HTTP 503: busy";
  std::string bytes;
  EncodeOutboxValue(entry, &bytes);
  OutboxEntry back;
  ASSERT_TRUE(DecodeOutboxValue(bytes, &back).ok());
  EXPECT_EQ(back.json, entry.json);
  EXPECT_EQ(back.status, entry.status);
  EXPECT_EQ(back.attempts, 5u);
  EXPECT_EQ(back.next_attempt, entry.next_attempt);
  EXPECT_EQ(back.detail, entry.detail);
  bytes[bytes.size() - entry.detail.size() - 1 - 1 - 1 - 1] = 7;  // the status byte
  EXPECT_EQ(DecodeOutboxValue(bytes, &back).message(), "outbox.status: unknown delivery status 7");

  std::string t;
  EncodeTimeValue(FromMillis(1767225600123), &t);
  EXPECT_EQ(*DecodeTimeValue(t), FromMillis(1767225600123));
  EXPECT_FALSE(DecodeTimeValue(t.substr(0, 2)).ok());
  std::string b;
  EncodeBytesValue("profile-1", &b);
  EXPECT_EQ(*DecodeBytesValue(b), "profile-1");
  EXPECT_FALSE(DecodeBytesValue("").ok());
}

}  // namespace
}  // namespace waymark::store
