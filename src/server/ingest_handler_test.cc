// IngestHandler without a network: Segment semantics, auth, limits, batch rules, sink failures.
#include "server/ingest_handler.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <mutex>
#include <regex>

#include "core/json.h"
#include "ingest/segment_json.h"
#include "server/event_json.h"
#include "server/test_client.h"

namespace waymark::server {
namespace {

namespace http = boost::beast::http;

class RecordingSink : public IngestSink {
 public:
  Status Accept(std::vector<Event> events) override {
    std::lock_guard lock(mu_);
    ++calls;
    if (!fail.empty()) return Status::Io(fail);
    for (Event& e : events) accepted.push_back(std::move(e));
    return Status::Ok();
  }
  bool Ready() const override { return ready; }

  std::mutex mu_;
  std::vector<Event> accepted;
  int calls = 0;
  std::string fail;
  bool ready = true;
};

Time T(std::string_view iso) { return *ParseIsoTime(iso); }

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() : clock_(T("2026-03-08T10:00:00Z")) { options_.write_keys = {"wk"}; }

  Response Call(http::verb method, std::string target, std::string body,
                std::string auth = testing::BasicAuth("wk")) {
    Request req(method, target, 11);
    if (!auth.empty()) req.set(http::field::authorization, auth);
    req.body() = std::move(body);
    req.prepare_payload();
    return handler_.Handle(req);
  }
  Response Post(std::string target, std::string body, std::string auth = testing::BasicAuth("wk")) {
    return Call(http::verb::post, std::move(target), std::move(body), std::move(auth));
  }
  static Value Body(const Response& res) { return *ParseJson(res.body()); }
  static std::string Code(const Response& res) {
    Value body = Body(res);
    const Value* code = body.FindPath("error.code");
    return code ? code->as_string() : "";
  }
  static std::string Message(const Response& res) {
    Value body = Body(res);
    const Value* m = body.FindPath("error.message");
    return m ? m->as_string() : "";
  }

  ServerOptions options_;
  ManualClock clock_;
  RecordingSink sink_;
  Metrics metrics_;
  IngestHandler handler_{&options_, &sink_, &clock_, &metrics_};
};

TEST(MessageIdTest, IsUuidVersion4AndFresh) {
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::string a = NewMessageId(), b = NewMessageId();
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_NE(a, b);
}

TEST(EventFromMessageTest, CorrectsClockSkewWithSentAt) {
  // The device clock is 1 h fast: it stamped the event 10 s before it sent the batch.
  Value msg = *ParseJson(R"({"type":"track","event":"A","userId":"u",
      "timestamp":"2026-03-08T11:00:00Z","sentAt":"2026-03-08T11:00:10Z"})");
  Result<Event> e = EventFromMessage(msg, std::nullopt, T("2026-03-08T10:00:30Z"), std::nullopt);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(FormatIsoTime(e->timestamp), "2026-03-08T10:00:20Z");
}

TEST(EventFromMessageTest, BatchSentAtAppliesWhenMessageHasNone) {
  Value msg = *ParseJson(R"({"type":"track","event":"A","userId":"u",
      "timestamp":"2026-03-08T09:59:00Z"})");
  Result<Event> e = EventFromMessage(msg, std::nullopt, T("2026-03-08T10:00:00Z"),
                                     T("2026-03-08T10:00:00Z") - std::chrono::seconds(30));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(FormatIsoTime(e->timestamp), "2026-03-08T09:59:30Z");
}

TEST(EventFromMessageTest, NoSentAtKeepsTimestampAndNoTimestampIsReceivedAt) {
  Value with = *ParseJson(R"({"type":"track","event":"A","userId":"u",
      "timestamp":"2020-01-01T00:00:00Z","receivedAt":"1999-01-01T00:00:00Z"})");
  Result<Event> e = EventFromMessage(with, std::nullopt, T("2026-03-08T10:00:00Z"), std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(FormatIsoTime(e->timestamp), "2020-01-01T00:00:00Z");

  Value without = *ParseJson(R"({"type":"identify","userId":"u","sentAt":"2001-01-01T00:00:00Z",
      "receivedAt":"1999-01-01T00:00:00Z"})");
  e = EventFromMessage(without, std::nullopt, T("2026-03-08T10:00:00Z"), std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(FormatIsoTime(e->timestamp), "2026-03-08T10:00:00Z");
}

TEST(EventFromMessageTest, KeepsGivenMessageIdAndSynthesizesMissingOne) {
  Value given = *ParseJson(R"({"type":"track","event":"A","userId":"u","messageId":"m-1"})");
  EXPECT_EQ(EventFromMessage(given, std::nullopt, Time{}, std::nullopt)->message_id, "m-1");
  Value missing = *ParseJson(R"({"type":"track","event":"A","userId":"u","messageId":null})");
  EXPECT_EQ(EventFromMessage(missing, std::nullopt, Time{}, std::nullopt)->message_id.size(), 36u);
}

TEST(EventFromMessageTest, RejectsNonObjectsAndNamesTheField) {
  Result<Event> e = EventFromMessage(Value("x"), EventType::kTrack, Time{}, std::nullopt);
  EXPECT_EQ(e.status().message(), "expected a message object, got string");
  e = EventFromMessage(*ParseJson(R"({"userId":"u"})"), EventType::kTrack, Time{}, std::nullopt);
  EXPECT_EQ(e.status().message(), "field 'event': required for track");
}

TEST_F(HandlerTest, TypeComesFromThePath) {
  for (std::string type : {"track", "identify", "page", "screen", "alias", "group"}) {
    Response res =
        Post("/v1/" + type, R"({"userId":"u","event":"E","previousId":"p","groupId":"g"})");
    EXPECT_EQ(res.result_int(), 200) << type << ": " << res.body();
    EXPECT_EQ(res.body(), R"({"success":true})");
    EXPECT_EQ(EventTypeName(sink_.accepted.back().type), type);
  }
  EXPECT_EQ(metrics_.events_accepted(), 6u);
}

TEST_F(HandlerTest, TypeInBodyMustAgreeWithPath) {
  Response res = Post("/v1/track", R"({"type":"identify","userId":"u"})");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(Code(res), "invalid_event");
  EXPECT_EQ(Message(res), "field 'type': 'identify' does not match the endpoint's type 'track'");
}

TEST_F(HandlerTest, ReceivedAtIsTheServerClock) {
  ASSERT_EQ(
      Post("/v1/identify", R"({"userId":"u","receivedAt":"2001-01-01T00:00:00Z"})").result_int(),
      200);
  EXPECT_EQ(sink_.accepted[0].timestamp, clock_.Now());
}

TEST_F(HandlerTest, AuthAcceptsBasicWithEmptyPasswordOrWriteKeyField) {
  EXPECT_EQ(Post("/v1/identify", R"({"userId":"u"})").result_int(), 200);
  EXPECT_EQ(Post("/v1/identify", R"({"userId":"u","writeKey":"wk"})", "").result_int(), 200);
  // OAuth clients send a bearer token and the write key in the body.
  EXPECT_EQ(Post("/v1/identify", R"({"userId":"u","writeKey":"wk"})", "Bearer t").result_int(),
            200);
}

TEST_F(HandlerTest, AuthRejectsEverythingElseWith401) {
  struct Case {
    std::string auth, body;
  } cases[] = {
      {"", R"({"userId":"u"})"},
      {"", R"({"userId":"u","writeKey":"nope"})"},
      {"", R"({"userId":"u","writeKey":7})"},
      {testing::BasicAuth("nope"), R"({"userId":"u"})"},
      {testing::BasicAuth("nope"), R"({"userId":"u","writeKey":"wk"})"},  // header decides
      {"Basic d2s6cHc=", R"({"userId":"u"})"},                            // wk:pw, a password
      {"Basic !!!", R"({"userId":"u"})"},
      {"Bearer wk", R"({"userId":"u"})"},
      {testing::BasicAuth("nope"), "{not json"},  // decided before the body is parsed
  };
  for (const Case& c : cases) {
    Response res = Post("/v1/identify", c.body, c.auth);
    EXPECT_EQ(res.result_int(), 401) << c.auth << " " << c.body;
    EXPECT_EQ(Code(res), "unauthorized");
    EXPECT_EQ(res[http::field::www_authenticate], "Basic realm=\"waymark\"");
  }
  EXPECT_TRUE(sink_.accepted.empty());
  EXPECT_EQ(metrics_.events_rejected(ErrorCode::kUnauthorized), std::size(cases));
}

TEST_F(HandlerTest, BatchAcceptsValidEventsAndListsRejectedOnes) {
  Response res = Post("/v1/batch", R"({"batch":[
      {"type":"track","event":"A","userId":"u1"},
      {"type":"track","userId":"u2"},
      {"type":"bogus","userId":"u3"},
      {"type":"identify","anonymousId":"a4","traits":{"plan":"pro"}},
      {"type":"page"},
      "text"]})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  Value body = Body(res);
  EXPECT_EQ(body.Find("accepted")->as_number(), 2);
  const Value::List& rejected = body.Find("rejected")->as_list();
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_EQ(rejected[0].ToJson(),
            R"({"index":1,"code":"invalid_event","message":"field 'event': required for track"})");
  EXPECT_EQ(rejected[1].Find("message")->as_string(), "field 'type': unknown event type 'bogus'");
  EXPECT_EQ(rejected[2].Find("message")->as_string(),
            "field 'userId': userId or anonymousId is required");
  EXPECT_EQ(rejected[3].Find("index")->as_number(), 5);
  ASSERT_EQ(sink_.accepted.size(), 2u);
  EXPECT_EQ(sink_.accepted[0].user_id, "u1");
  EXPECT_EQ(sink_.accepted[1].anonymous_id, "a4");
  EXPECT_EQ(sink_.calls, 1);  // one request, one Accept
  EXPECT_EQ(metrics_.events_rejected(ErrorCode::kInvalidEvent), 4u);
}

TEST_F(HandlerTest, ImportIsBatch) {
  Response res = Post("/v1/import", R"({"batch":[{"type":"track","event":"A","userId":"u1"}]})");
  EXPECT_EQ(res.body(), R"({"success":true,"accepted":1,"rejected":[]})");
}

TEST_F(HandlerTest, BatchShapeErrorsRejectTheWholeBody) {
  EXPECT_EQ(Message(Post("/v1/batch", R"({})")), "field 'batch': required");
  EXPECT_EQ(Message(Post("/v1/batch", R"({"batch":{}})")),
            "field 'batch': expected an array, got object");
  EXPECT_EQ(Message(Post("/v1/batch", R"({"batch":[],"sentAt":"yesterday"})")),
            "field 'sentAt': expected an ISO-8601 string");
  EXPECT_EQ(Code(Post("/v1/batch", R"([1,2])")), "invalid_body");
  EXPECT_EQ(sink_.calls, 0);
}

TEST_F(HandlerTest, OversizedEventInBatchIs400NamingIndexAndLimit) {
  std::string big(33 * 1024, 'x');
  Response res =
      Post("/v1/batch", R"({"batch":[{"type":"track","event":"A","userId":"u"},)"
                        R"({"type":"track","event":"A","userId":"u","properties":{"p":")" +
                            big + R"("}}]})");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(Code(res), "event_too_large");
  EXPECT_EQ(Body(res).FindPath("error.index")->as_number(), 1);
  EXPECT_NE(Message(res).find("max_event_bytes"), std::string::npos) << Message(res);
  EXPECT_EQ(sink_.calls, 0);
}

TEST_F(HandlerTest, OversizedBodiesAre413NamingTheLimit) {
  std::string big(33 * 1024, ' ');
  Response res = Post("/v1/track", R"({"userId":"u","event":"A"})" + big);
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(Code(res), "body_too_large");
  EXPECT_NE(Message(res).find("max_event_bytes"), std::string::npos);
  res = Post("/v1/batch", R"({"batch":[]})" + std::string(501 * 1024, ' '));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(Message(res).find("max_batch_bytes"), std::string::npos);
  // Batch bodies may exceed the per-event limit.
  EXPECT_EQ(Post("/v1/batch", R"({"batch":[]})" + big).result_int(), 200);
}

// gzip-compresses `text` the way a Segment library does (zlib, gzip wrapper).
std::string Gzip(std::string_view text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, uLong(text.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = uInt(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST_F(HandlerTest, GzipBodiesAreInflatedWithinTheLimits) {
  auto post = [&](std::string target, std::string body, std::string encoding) {
    Request req(http::verb::post, target, 11);
    req.set(http::field::authorization, testing::BasicAuth("wk"));
    req.set(http::field::content_encoding, encoding);
    req.body() = std::move(body);
    req.prepare_payload();
    return handler_.Handle(req);
  };
  std::string batch = R"({"batch":[{"type":"track","userId":"u1","event":"A"},)"
                      R"({"type":"identify","userId":"u2","traits":{"email":"u2@x.io"}}]})";
  Response res = post("/v1/batch", Gzip(batch), "gzip");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  ASSERT_EQ(sink_.accepted.size(), 2u);
  EXPECT_EQ(sink_.accepted[0].name, "A");
  EXPECT_EQ(sink_.accepted[1].user_id, "u2");
  EXPECT_EQ(post("/v1/track", R"({"userId":"u","event":"B"})", "identity").result_int(), 200);
  EXPECT_EQ(
      post("/v1/track", Gzip(R"({"userId":"u","event":"C"})"), "GZIP , identity").result_int(),
      200);

  // A small body that inflates past the limit is refused as too large, naming the limit.
  res = post("/v1/track",
             Gzip(R"({"userId":"u","event":"A","x":")" + std::string(40000, 'x') + "\"}"), "gzip");
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(Code(res), "body_too_large");
  EXPECT_NE(Message(res).find("max_event_bytes"), std::string::npos) << Message(res);

  res = post("/v1/batch", batch, "gzip");  // not compressed after all
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(Code(res), "invalid_body");
  EXPECT_EQ(Message(res), "Content-Encoding is gzip but the body is not valid gzip data");
  std::string cut = Gzip(batch);
  res = post("/v1/batch", cut.substr(0, cut.size() / 2), "gzip");  // truncated
  EXPECT_EQ(res.result_int(), 400);

  res = post("/v1/batch", batch, "br");
  EXPECT_EQ(res.result_int(), 415);
  EXPECT_EQ(Code(res), "unsupported_encoding");
  EXPECT_EQ(Message(res),
            "Content-Encoding 'br' is not supported; send gzip or an uncompressed body");
  EXPECT_EQ(post("/v1/batch", batch, "gzip, gzip").result_int(), 415);
  EXPECT_EQ(sink_.accepted.size(), 4u);
}

TEST_F(HandlerTest, SinkFailureIs503WithRetryAfter) {
  sink_.fail = "disk full";
  Response res = Post("/v1/track", R"({"userId":"u","event":"A"})");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(Code(res), "sink_unavailable");
  EXPECT_EQ(res[http::field::retry_after], "1");
  EXPECT_EQ(metrics_.events_accepted(), 0u);
  EXPECT_EQ(metrics_.events_rejected(ErrorCode::kSinkUnavailable), 1u);
}

TEST_F(HandlerTest, RoutingErrors) {
  Response res = Post("/v2/track", "{}");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(Code(res), "not_found");
  res = Call(http::verb::get, "/v1/track", "");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "POST");
  res = Call(http::verb::post, "/health", "");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "GET");
  // A query string does not change the route.
  EXPECT_EQ(Post("/v1/identify?x=1", R"({"userId":"u"})").result_int(), 200);
}

TEST_F(HandlerTest, HealthReadyAndMetrics) {
  EXPECT_EQ(Call(http::verb::get, "/health", "").result_int(), 200);
  EXPECT_EQ(Call(http::verb::get, "/ready", "").result_int(), 200);
  sink_.ready = false;
  EXPECT_EQ(Call(http::verb::get, "/ready", "").result_int(), 503);
  Response metrics = Call(http::verb::get, "/metrics", "");
  EXPECT_EQ(metrics.result_int(), 200);
  EXPECT_NE(metrics.body().find("waymark_ingest_events_accepted_total 0"), std::string::npos);
  options_.admin_token = "secret";
  EXPECT_EQ(Call(http::verb::get, "/metrics", "").result_int(), 401);
  EXPECT_EQ(Call(http::verb::get, "/metrics", "", "Bearer secret").result_int(), 200);
}

TEST(EventJsonTest, WritesSegmentShapeThatReadsBack) {
  Value msg = *ParseJson(R"({"type":"page","name":"Home","userId":"u","anonymousId":"a",
      "messageId":"m","timestamp":"2026-03-08T10:00:00.5Z","properties":{"x":[1,"y"]},
      "context":{"timezone":"Europe/Berlin","traits":{"t":true}}})");
  Result<Event> e = EventFromMessage(msg, std::nullopt, Time{}, std::nullopt);
  ASSERT_TRUE(e.ok());
  std::string line;
  AppendEventJson(*e, &line);
  EXPECT_EQ(line, R"({"type":"page","name":"Home","userId":"u","anonymousId":"a","messageId":"m",)"
                  R"("timestamp":"2026-03-08T10:00:00.500Z","properties":{"x":[1,"y"]},)"
                  R"("traits":{"t":true},"context":{"timezone":"Europe/Berlin"}})");
  Result<Event> back = ingest::EventFromSegment(*ParseJson(line));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->timestamp, e->timestamp);
  EXPECT_EQ(back->properties, e->properties);
}

}  // namespace
}  // namespace waymark::server
