// The malformed-input matrix against a live server: every bad request gets the right status and a
// JSON error, slow and half-open connections are timed out, and the server keeps serving.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "core/json.h"
#include "server/ingest_server.h"
#include "server/test_client.h"

namespace waymark::server {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using testing::BasicAuth;
using testing::HttpResult;
using testing::TestClient;

class CountingSink : public IngestSink {
 public:
  Status Accept(std::vector<Event> events) override {
    std::lock_guard lock(mu_);
    count_ += events.size();
    return Status::Ok();
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  size_t count_ = 0;
};

class MalformedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.port = 0;
    options.write_keys = {"wk"};
    options.request_timeout = 400ms;
    options.idle_timeout = 600ms;
    server_ = std::make_unique<IngestServer>(options, &sink_, &clock_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    // Whatever happened, the server still answers.
    TestClient probe(server_->port());
    EXPECT_EQ(probe.Get("/health").status, 200);
    EXPECT_EQ(probe.Post("/v1/track", R"({"userId":"u","event":"A"})", Auth()).status, 200);
  }
  static testing::Headers Auth() { return {{"Authorization", BasicAuth("wk")}}; }

  SystemClock clock_;
  CountingSink sink_;
  std::unique_ptr<IngestServer> server_;
};

struct Case {
  const char* name;
  http::verb method;
  std::string target;
  std::string body;
  bool auth;
  int status;
  std::string code;
  std::string message_part;
};

TEST_F(MalformedTest, EachBadRequestGetsItsStatusAndJsonError) {
  const std::string big_event(40 * 1024, 'x');
  const Case cases[] = {
      {"not json", http::verb::post, "/v1/track", "{\"userId\":", true, 400, "invalid_json",
       "line 1, column 11"},
      {"empty body", http::verb::post, "/v1/track", "", true, 400, "invalid_json", ""},
      {"json array", http::verb::post, "/v1/track", "[]", true, 400, "invalid_body", "got array"},
      {"no ids", http::verb::post, "/v1/track", R"({"event":"A"})", true, 400, "invalid_event",
       "field 'userId'"},
      {"no event name", http::verb::post, "/v1/track", R"({"userId":"u"})", true, 400,
       "invalid_event", "field 'event': required for track"},
      {"properties wrong type", http::verb::post, "/v1/track",
       R"({"userId":"u","event":"A","properties":"x"})", true, 400, "invalid_event",
       "field 'properties': expected an object, got string"},
      {"userId wrong type", http::verb::post, "/v1/identify", R"({"userId":{}})", true, 400,
       "invalid_event", "field 'userId'"},
      {"bad timestamp", http::verb::post, "/v1/identify",
       R"({"userId":"u","timestamp":"yesterday"})", true, 400, "invalid_event",
       "field 'timestamp'"},
      {"alias without previousId", http::verb::post, "/v1/alias", R"({"userId":"u"})", true, 400,
       "invalid_event", "field 'previousId': required for alias"},
      {"group without groupId", http::verb::post, "/v1/group", R"({"userId":"u"})", true, 400,
       "invalid_event", "field 'groupId': required for group"},
      {"batch not array", http::verb::post, "/v1/batch", R"({"batch":"x"})", true, 400,
       "invalid_body", "field 'batch'"},
      {"oversized single event", http::verb::post, "/v1/track",
       R"({"userId":"u","event":"A","properties":{"p":")" + big_event + "\"}}", true, 413,
       "body_too_large", "32768"},
      {"oversized batch element", http::verb::post, "/v1/batch",
       R"({"batch":[{"type":"track","userId":"u","event":"A","properties":{"p":")" + big_event +
           "\"}}]}",
       true, 400, "event_too_large", "max_event_bytes"},
      {"oversized batch", http::verb::post, "/v1/batch",
       R"({"batch":[]})" + std::string(600 * 1024, ' '), true, 413, "body_too_large", "512000"},
      {"missing auth", http::verb::post, "/v1/track", R"({"userId":"u","event":"A"})", false, 401,
       "unauthorized", "write key"},
      {"unknown path", http::verb::post, "/v1/trak", "{}", true, 404, "not_found", "/v1/trak"},
      {"root", http::verb::get, "/", "", false, 404, "not_found", ""},
      {"wrong method", http::verb::put, "/v1/batch", "{}", true, 405, "method_not_allowed", "POST"},
      {"delete metrics", http::verb::delete_, "/metrics", "", false, 405, "method_not_allowed",
       "GET"},
  };
  TestClient client(server_->port());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResult r = c.auth ? client.Send(c.method, c.target, c.body, Auth())
                          : client.Send(c.method, c.target, c.body);
    ASSERT_EQ(r.status, c.status) << r.error << " " << r.body;
    EXPECT_EQ(r.headers[http::field::content_type], "application/json");
    Result<Value> body = ParseJson(r.body);
    ASSERT_TRUE(body.ok()) << r.body;
    EXPECT_EQ(body->FindPath("error.code")->as_string(), c.code);
    EXPECT_NE(body->FindPath("error.message")->as_string().find(c.message_part), std::string::npos)
        << body->FindPath("error.message")->as_string();
  }
  EXPECT_EQ(sink_.count(), 0u);
}

TEST_F(MalformedTest, GarbageRequestLineIs400AndClosed) {
  bool closed = false;
  std::string out = testing::RawExchange(server_->port(), "HELLO THERE\r\n\r\n", 3s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("\"code\":\"bad_request\""), std::string::npos) << out;
}

TEST_F(MalformedTest, HugeContentLengthIs413BeforeTheBodyIsSent) {
  bool closed = false;
  std::string out = testing::RawExchange(
      server_->port(), "POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{",
      3s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("body_too_large"), std::string::npos);
}

TEST_F(MalformedTest, OversizedChunkedBodyIs413) {
  std::string chunk(100 * 1024, ' ');
  std::string req = "POST /v1/batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 6; ++i) req += fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk);
  req += "0\r\n\r\n";
  bool closed = false;
  std::string out = testing::RawExchange(server_->port(), req, 3s, &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out.substr(0, 200);
}

TEST_F(MalformedTest, HalfSentRequestTimesOutWith408WhileOthersAreServed) {
  auto stalled = std::async(std::launch::async, [&] {
    bool closed = false;
    std::string out = testing::RawExchange(
        server_->port(),
        "POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"userId\"", 5s,
        &closed);
    return std::make_pair(out, closed);
  });
  // Meanwhile another client is served normally.
  TestClient other(server_->port());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(other.Post("/v1/track", R"({"userId":"u","event":"A"})", Auth()).status, 200);
  }
  auto [out, closed] = stalled.get();
  EXPECT_TRUE(closed) << "the server must close the stalled connection";
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_NE(out.find("\"code\":\"request_timeout\""), std::string::npos);
}

TEST_F(MalformedTest, HalfSentHeaderTimesOut) {
  bool closed = false;
  std::string out =
      testing::RawExchange(server_->port(), "POST /v1/track HTTP/1.1\r\nHo", 5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
}

TEST_F(MalformedTest, SilentConnectionIsClosedAfterIdleTimeout) {
  bool closed = false;
  auto begin = std::chrono::steady_clock::now();
  std::string out = testing::RawExchange(server_->port(), "", 5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out, "");  // nothing was asked, nothing is answered
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
}

}  // namespace
}  // namespace waymark::server
