#include "ingest/segment_json.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace waymark::ingest {
namespace {

Time Iso(const char* text) { return *ParseIsoTime(text); }

Result<Event> FromJson(std::string_view json,
                       std::optional<EventType> default_type = std::nullopt) {
  Result<Value> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return EventFromSegment(*v, default_type);
}

std::string ErrorOf(std::string_view json, std::optional<EventType> default_type = std::nullopt) {
  Result<Event> e = FromJson(json, default_type);
  return e.ok() ? "<ok>" : e.status().message();
}

TEST(SegmentJsonTest, ConvertsATrackCall) {
  Result<Event> e = FromJson(R"({
    "type": "track", "event": "Order Completed", "userId": "u1", "anonymousId": "a1",
    "messageId": "m-1", "timestamp": "2026-03-08T10:00:00.250+01:00",
    "properties": {"revenue": 42.5, "items": [1, 2]},
    "context": {"timezone": "Europe/Berlin", "traits": {"email": "x@example.com"}},
    "integrations": {"All": true}})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->type, EventType::kTrack);
  EXPECT_EQ(e->name, "Order Completed");
  EXPECT_EQ(e->user_id, "u1");
  EXPECT_EQ(e->anonymous_id, "a1");
  EXPECT_EQ(e->message_id, "m-1");
  EXPECT_EQ(e->timestamp, Iso("2026-03-08T09:00:00.250Z"));
  EXPECT_EQ(e->properties.ToJson(), R"({"revenue":42.5,"items":[1,2]})");
  EXPECT_EQ(e->traits.ToJson(), R"({"email":"x@example.com"})");
  EXPECT_EQ(e->timezone, "Europe/Berlin");
  EXPECT_EQ(e->source, "");
}

TEST(SegmentJsonTest, IdentifyTraitsWinOverContextTraits) {
  Result<Event> e = FromJson(R"({"type": "identify", "userId": 12345, "name": "ignored",
    "traits": {"plan": "pro", "email": "new@example.com"},
    "context": {"traits": {"email": "old@example.com", "city": "Oslo"}},
    "timestamp": "2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->user_id, "12345");
  EXPECT_EQ(e->name, "");
  EXPECT_EQ(e->traits.ToJson(), R"({"plan":"pro","email":"new@example.com","city":"Oslo"})");
  EXPECT_TRUE(e->properties.is_null());
  EXPECT_EQ(e->message_id, "");
}

TEST(SegmentJsonTest, PageNameAndEmptyBags) {
  Result<Event> e = FromJson(
      R"({"type": "page", "name": "Pricing", "anonymousId": "a", "timestamp": "2026-01-01"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "Pricing");
  EXPECT_EQ(e->properties.ToJson(), "{}");
  EXPECT_TRUE(e->traits.is_null());
}

TEST(SegmentJsonTest, AliasAndGroup) {
  Result<Event> alias = FromJson(R"({"type": "alias", "previousId": "anon-1", "userId": "u1",
    "timestamp": "2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->previous_id, "anon-1");
  Result<Event> group = FromJson(R"({"type": "group", "groupId": 7, "userId": "u1",
    "traits": {"name": "Acme"}, "timestamp": "2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->group_id, "7");
  EXPECT_EQ(group->traits.ToJson(), R"({"name":"Acme"})");
}

TEST(SegmentJsonTest, DefaultTypeComesFromTheEndpoint) {
  Result<Event> e = FromJson(
      R"({"event": "E", "userId": "u", "receivedAt": "2026-01-01T00:00:00Z"})", EventType::kTrack);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, EventType::kTrack);
  EXPECT_EQ(e->timestamp, Iso("2026-01-01T00:00:00Z"));
  EXPECT_EQ(ErrorOf(R"({"type": "identify", "userId": "u", "timestamp": "2026-01-01"})",
                    EventType::kTrack),
            "field 'type': 'identify' does not match the endpoint's type 'track'");
}

TEST(SegmentJsonTest, NullCountsAsAbsent) {
  Result<Event> e = FromJson(R"({"type": "track", "event": "E", "userId": null,
    "anonymousId": "a", "properties": null, "timestamp": "2026-01-01"})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->user_id, "");
  EXPECT_EQ(e->properties.ToJson(), "{}");
}

TEST(SegmentJsonTest, ErrorsNameTheField) {
  const char* ts = R"("timestamp": "2026-01-01T00:00:00Z")";
  auto with = [&](std::string body) { return ErrorOf("{" + body + ", " + ts + "}"); };
  EXPECT_EQ(ErrorOf("[1]"), "expected a JSON object, got array");
  EXPECT_EQ(with(R"("event": "E", "userId": "u")"), "field 'type': required");
  EXPECT_EQ(with(R"("type": 3, "userId": "u")"), "field 'type': expected a string, got number");
  EXPECT_EQ(with(R"("type": "click", "userId": "u")"), "field 'type': unknown event type 'click'");
  EXPECT_EQ(with(R"("type": "track", "userId": "u")"), "field 'event': required for track");
  EXPECT_EQ(with(R"("type": "track", "event": "", "userId": "u")"),
            "field 'event': required for track");
  EXPECT_EQ(with(R"("type": "track", "event": 5, "userId": "u")"),
            "field 'event': expected a string, got number");
  EXPECT_EQ(with(R"("type": "track", "event": "E")"),
            "field 'userId': userId or anonymousId is required");
  EXPECT_EQ(with(R"("type": "track", "event": "E", "userId": {"id": 1})"),
            "field 'userId': expected a string or a number, got object");
  EXPECT_EQ(with(R"("type": "track", "event": "E", "anonymousId": true)"),
            "field 'anonymousId': expected a string or a number, got boolean");
  EXPECT_EQ(with(R"("type": "alias", "userId": "u")"), "field 'previousId': required for alias");
  EXPECT_EQ(with(R"("type": "alias", "previousId": "p", "anonymousId": "a")"),
            "field 'userId': required for alias");
  EXPECT_EQ(with(R"("type": "group", "userId": "u")"), "field 'groupId': required for group");
  EXPECT_EQ(with(R"("type": "track", "event": "E", "userId": "u", "properties": "x")"),
            "field 'properties': expected an object, got string");
  EXPECT_EQ(with(R"("type": "identify", "userId": "u", "traits": [1])"),
            "field 'traits': expected an object, got array");
  EXPECT_EQ(with(R"("type": "identify", "userId": "u", "context": 1)"),
            "field 'context': expected an object, got number");
  EXPECT_EQ(with(R"("type": "identify", "userId": "u", "context": {"traits": "x"})"),
            "field 'context.traits': expected an object, got string");
  EXPECT_EQ(with(R"("type": "identify", "userId": "u", "context": {"timezone": 1})"),
            "field 'context.timezone': expected a string, got number");
  EXPECT_EQ(with(R"("type": "identify", "userId": "u", "sentAt": "later")"),
            "field 'sentAt': 'later' is not an ISO-8601 time");
}

TEST(SegmentJsonTest, TimestampErrors) {
  EXPECT_EQ(ErrorOf(R"({"type": "identify", "userId": "u"})"),
            "field 'timestamp': required (or receivedAt)");
  EXPECT_EQ(ErrorOf(R"({"type": "identify", "userId": "u", "timestamp": 1700000000})"),
            "field 'timestamp': expected an ISO-8601 string, got number");
  EXPECT_EQ(ErrorOf(R"({"type": "identify", "userId": "u", "timestamp": "2026-13-01"})"),
            "field 'timestamp': '2026-13-01' is not an ISO-8601 time");
  EXPECT_EQ(ErrorOf(R"({"type": "identify", "userId": "u", "receivedAt": "x"})"),
            "field 'receivedAt': 'x' is not an ISO-8601 time");
}

TEST(JsonLinesTest, ReadsLinesSkippingBlanksAndSynthesizingIds) {
  std::string data =
      R"({"type":"track","event":"A","userId":"u","timestamp":"2026-01-01T00:00:00Z"})"
      "\r\n\n   \n"
      R"({"type":"track","event":"B","userId":"u","messageId":"given","timestamp":"2026-01-01"})";
  std::vector<Event> events;
  ReadStats stats;
  Status st = ReadEventsBuffer(
      data, "/in/e.jsonl", nullptr, ReadOptions{},
      [&](Event&& e) { events.push_back(std::move(e)); }, &stats);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].message_id, LineMessageId("e.jsonl", 1));
  EXPECT_EQ(events[0].source, "/in/e.jsonl:1");
  EXPECT_EQ(events[1].message_id, "given");
  EXPECT_EQ(events[1].source, "/in/e.jsonl:4");
  EXPECT_EQ(stats.lines, 4u);
  EXPECT_EQ(stats.rows, 2u);
  EXPECT_EQ(stats.events, 2u);
}

TEST(JsonLinesTest, BadLinesAreCountedWithPositions) {
  std::string data =
      "{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":\"2026-01-01\"}\n"
      "{\"type\": \"track\", oops}\n"
      "42\n";
  std::vector<Event> events;
  ReadStats stats;
  Status st = ReadEventsBuffer(
      data, "e.jsonl", nullptr, ReadOptions{}, [&](Event&& e) { events.push_back(std::move(e)); },
      &stats);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(stats.bad_rows, 3u);
  ASSERT_EQ(stats.first_bad.size(), 3u);
  EXPECT_EQ(stats.first_bad[0].ToString(), "e.jsonl:1:1: field 'event': required for track");
  EXPECT_EQ(stats.first_bad[1].where, "e.jsonl:2:19");
  EXPECT_EQ(stats.first_bad[1].message.rfind("invalid JSON: ", 0), 0u)
      << stats.first_bad[1].message;
  EXPECT_EQ(stats.first_bad[2].ToString(), "e.jsonl:3:1: expected a JSON object, got number");

  ReadOptions strict;
  strict.strict = true;
  st = ReadEventsBuffer(
      data, "e.jsonl", nullptr, strict, [](Event&&) {}, &stats);
  EXPECT_EQ(st.message(), "e.jsonl:1:1: field 'event': required for track");
}

TEST(ReadEventsFileTest, MissingFileIsAnIoError) {
  ReadStats stats;
  Status st = ReadEventsFile(
      "/nonexistent/e.jsonl", nullptr, ReadOptions{}, [](Event&&) {}, &stats);
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_EQ(st.message(), "cannot open '/nonexistent/e.jsonl': No such file or directory");
}

}  // namespace
}  // namespace waymark::ingest

namespace waymark::ingest {
namespace {

// Reported by a first user: a 20-digit numeric userId became "1.23456789012346e+19".
TEST(SegmentJsonTest, NumericIdsMustBeExact) {
  EXPECT_EQ(ErrorOf(R"({"type":"track","event":"A","userId":12345678901234567890,
                        "timestamp":"2026-01-01T00:00:00Z"})"),
            "field 'userId': numeric id is not a whole number below 2^53; send it as a string");
  EXPECT_EQ(ErrorOf(R"({"type":"track","event":"A","userId":1.5,
                        "timestamp":"2026-01-01T00:00:00Z"})"),
            "field 'userId': numeric id is not a whole number below 2^53; send it as a string");
  auto e = FromJson(R"({"type":"track","event":"A","userId":9007199254740992,
                        "timestamp":"2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->user_id, "9007199254740992");
}

}  // namespace
}  // namespace waymark::ingest
