// The admin API: routing, the Bearer token, parameters and error mapping through IngestHandler
// without a network against a fake backend; and once over loopback, to show that admin requests
// run on the worker pool while the I/O threads keep answering.
#include "server/admin_handler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/json.h"
#include "server/test_client.h"

namespace waymark::server {
namespace {

namespace http = boost::beast::http;

// Records each call as text ("GetJourney(x)") and answers {"call": that text}, or `fail` when set.
class FakeBackend : public AdminBackend {
 public:
  Result<Value> ListJourneys() override { return Answer("ListJourneys()"); }
  Result<Value> GetJourney(std::string_view id) override {
    return Answer("GetJourney(" + std::string(id) + ")");
  }
  Result<Value> ValidateJourney(std::string_view text) override {
    return Answer("ValidateJourney(" + std::string(text) + ")");
  }
  Result<Value> CreateJourneyVersion(std::string_view text) override {
    return Answer("CreateJourneyVersion(" + std::string(text) + ")");
  }
  Result<Value> JourneyAction(std::string_view id, std::string_view action,
                              std::optional<uint32_t> version) override {
    return Answer("JourneyAction(" + std::string(id) + "," + std::string(action) + "," +
                  (version ? std::to_string(*version) : "-") + ")");
  }
  Result<Value> GetProfile(std::string_view id) override {
    return Answer("GetProfile(" + std::string(id) + ")");
  }
  Result<Value> Stats(std::optional<std::string_view> journey_id) override {
    return Answer("Stats(" + std::string(journey_id.value_or("-")) + ")");
  }
  Result<Value> Outbox(std::string_view status, size_t limit) override {
    return Answer("Outbox(" + std::string(status) + "," + std::to_string(limit) + ")");
  }
  std::string RenderMetrics() override {
    return "# TYPE waymark_engine_profiles gauge\nwaymark_engine_profiles 7\n";
  }

  std::vector<std::string> calls;
  std::optional<Status> fail;
  bool throws = false;

 private:
  Result<Value> Answer(std::string call) {
    calls.push_back(call);
    if (throws) throw std::runtime_error("boom");
    if (fail) return *fail;
    Value v = Value::EmptyObject();
    v.Set("call", call);
    return v;
  }
};

class AdminHandlerTest : public ::testing::Test {
 protected:
  AdminHandlerTest() {
    options_.write_keys = {"wk"};
    options_.admin_token = "secret";
  }

  Response Call(http::verb method, std::string target, std::string body = "",
                std::string auth = "Bearer secret") {
    Request req(method, target, 11);
    if (!auth.empty()) req.set(http::field::authorization, auth);
    req.body() = std::move(body);
    req.prepare_payload();
    return handler_.Handle(req);
  }
  Response Get(std::string target) { return Call(http::verb::get, std::move(target)); }
  Response Post(std::string target, std::string body = "") {
    return Call(http::verb::post, std::move(target), std::move(body));
  }
  static Value Body(const Response& res) { return *ParseJson(res.body()); }
  // The string at `path` in the response's JSON body; `missing` when there is none.
  static std::string StringAt(const Response& res, std::string_view path, std::string missing) {
    Value body = Body(res);
    const Value* v = body.FindPath(path);
    return v != nullptr && v->is_string() ? v->as_string() : missing;
  }
  static std::string Code(const Response& res) { return StringAt(res, "error.code", ""); }
  static std::string Message(const Response& res) { return StringAt(res, "error.message", ""); }
  // The backend call a successful response reports.
  static std::string CallOf(const Response& res) {
    return StringAt(res, "call", "(none) " + res.body());
  }

  ServerOptions options_;
  ManualClock clock_{Time{}};
  Metrics metrics_;
  FakeBackend backend_;
  IngestHandler handler_{&options_, nullptr, &clock_, &metrics_, &backend_};
};

TEST_F(AdminHandlerTest, EveryRouteCallsItsBackendMethod) {
  struct Case {
    http::verb method;
    std::string target, body;
    int status;
    std::string call;
  } cases[] = {
      {http::verb::get, "/admin/v1/journeys", "", 200, "ListJourneys()"},
      {http::verb::get, "/admin/v1/journeys/cart", "", 200, "GetJourney(cart)"},
      {http::verb::post, "/admin/v1/journeys/validate", "id: x", 200, "ValidateJourney(id: x)"},
      {http::verb::post, "/admin/v1/journeys", "id: x", 201, "CreateJourneyVersion(id: x)"},
      {http::verb::post, "/admin/v1/journeys/cart/publish?version=3", "", 200,
       "JourneyAction(cart,publish,3)"},
      {http::verb::post, "/admin/v1/journeys/cart/publish", R"({"version":4})", 200,
       "JourneyAction(cart,publish,4)"},
      {http::verb::post, "/admin/v1/journeys/cart/publish", "", 200,
       "JourneyAction(cart,publish,-)"},
      {http::verb::post, "/admin/v1/journeys/cart/pause", "", 200, "JourneyAction(cart,pause,-)"},
      {http::verb::post, "/admin/v1/journeys/cart/resume", "{}", 200,
       "JourneyAction(cart,resume,-)"},
      {http::verb::post, "/admin/v1/journeys/cart/archive", "", 200,
       "JourneyAction(cart,archive,-)"},
      {http::verb::get, "/admin/v1/profiles/u1", "", 200, "GetProfile(u1)"},
      {http::verb::get, "/admin/v1/stats", "", 200, "Stats(-)"},
      {http::verb::get, "/admin/v1/journeys/cart/stats", "", 200, "Stats(cart)"},
      {http::verb::get, "/admin/v1/outbox", "", 200, "Outbox(pending,100)"},
      {http::verb::get, "/admin/v1/outbox?status=failed&limit=1000", "", 200,
       "Outbox(failed,1000)"},
      {http::verb::get, "/admin/v1/outbox?limit=5&status=delivered&cache=1", "", 200,
       "Outbox(delivered,5)"},
      {http::verb::get, "/admin/v1/outbox?", "", 200, "Outbox(pending,100)"},
      // "validate" is only special for POST: GET reads the journey of that id.
      {http::verb::get, "/admin/v1/journeys/validate", "", 200, "GetJourney(validate)"},
  };
  for (const Case& c : cases) {
    Response res = Call(c.method, c.target, c.body);
    EXPECT_EQ(res.result_int(), c.status) << c.target << ": " << res.body();
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_EQ(CallOf(res), c.call) << c.target;
  }
  EXPECT_EQ(backend_.calls.size(), std::size(cases));
}

TEST_F(AdminHandlerTest, DisabledWithoutTokenOrBackendIs404) {
  options_.admin_token = "";
  Response res = Get("/admin/v1/journeys");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(Code(res), "admin_disabled");
  EXPECT_EQ(Message(res), "the admin API is disabled: no admin token is configured");

  options_.admin_token = "secret";
  IngestHandler no_backend(&options_, nullptr, &clock_, &metrics_);
  Request req(http::verb::get, "/admin/v1/journeys", 11);
  req.set(http::field::authorization, "Bearer secret");
  res = no_backend.Handle(req);
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(Code(res), "admin_disabled");
  EXPECT_EQ(Message(res), "the admin API is disabled: this server has no admin backend");
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AdminHandlerTest, MissingOrWrongTokenIs401AndWriteKeyIsNotEnough) {
  struct Case {
    std::string auth, www_authenticate;
  } cases[] = {
      {"", R"(Bearer realm="waymark")"},
      {testing::BasicAuth("wk"), R"(Bearer realm="waymark")"},  // the write key
      {testing::BasicAuth("secret"), R"(Bearer realm="waymark")"},
      {"Bearer wk", R"(Bearer realm="waymark", error="invalid_token")"},
      {"Bearer wrong", R"(Bearer realm="waymark", error="invalid_token")"},
      {"Bearer secre", R"(Bearer realm="waymark", error="invalid_token")"},
      {"Bearer ", R"(Bearer realm="waymark")"},  // no token at all
      {"Bearersecret", R"(Bearer realm="waymark")"},
      {"secret", R"(Bearer realm="waymark")"},
  };
  for (const Case& c : cases) {
    // Unknown paths and wrong methods are not revealed before the token is checked.
    for (std::string target : {"/admin/v1/journeys", "/admin/v1/nope"}) {
      Response res = Call(http::verb::delete_, target, "", c.auth);
      EXPECT_EQ(res.result_int(), 401) << "'" << c.auth << "' " << target;
      EXPECT_EQ(Code(res), "unauthorized");
      EXPECT_EQ(res[http::field::www_authenticate], c.www_authenticate) << c.auth;
    }
  }
  EXPECT_TRUE(backend_.calls.empty());
  // The scheme is case-insensitive.
  EXPECT_EQ(Call(http::verb::get, "/admin/v1/stats", "", "bearer secret").result_int(), 200);
}

TEST_F(AdminHandlerTest, UnknownPathsAre404) {
  for (std::string target :
       {"/admin", "/admin/", "/admin/v1", "/admin/v1/", "/admin/v2/journeys", "/admin/v1/nope",
        "/admin/v1/journeys/", "/admin/v1/journeys//stats", "/admin/v1/journeys/x/nope",
        "/admin/v1/journeys/x/publish/now", "/admin/v1/profiles", "/admin/v1/profiles/a/b",
        "/admin/v1/Journeys"}) {
    Response res = Get(target);
    EXPECT_EQ(res.result_int(), 404) << target;
    EXPECT_EQ(Code(res), "not_found") << target;
  }
  EXPECT_EQ(Message(Get("/admin/v1/nope?x=1")), "no endpoint at /admin/v1/nope");
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AdminHandlerTest, UnknownJourneyOrProfileIs404WithTheBackendsMessage) {
  backend_.fail = Status::NotFound("no journey 'nope'");
  for (std::string target : {"/admin/v1/journeys/nope", "/admin/v1/journeys/nope/stats"}) {
    Response res = Get(target);
    EXPECT_EQ(res.result_int(), 404);
    EXPECT_EQ(Code(res), "not_found");
    EXPECT_EQ(Message(res), "no journey 'nope'");
  }
  EXPECT_EQ(Post("/admin/v1/journeys/nope/pause").result_int(), 404);
  backend_.fail = Status::NotFound("nobody has id 'u9'");
  EXPECT_EQ(Get("/admin/v1/profiles/u9").result_int(), 404);
}

TEST_F(AdminHandlerTest, WrongMethodIs405WithAllow) {
  struct Case {
    http::verb method;
    std::string target, allow;
  } cases[] = {
      {http::verb::delete_, "/admin/v1/journeys", "GET, POST"},
      {http::verb::put, "/admin/v1/journeys/validate", "GET, POST"},
      {http::verb::post, "/admin/v1/journeys/cart", "GET"},
      {http::verb::get, "/admin/v1/journeys/cart/publish", "POST"},
      {http::verb::post, "/admin/v1/journeys/cart/stats", "GET"},
      {http::verb::post, "/admin/v1/profiles/u1", "GET"},
      {http::verb::post, "/admin/v1/stats", "GET"},
      {http::verb::post, "/admin/v1/outbox", "GET"},
      {http::verb::head, "/admin/v1/outbox", "GET"},
  };
  for (const Case& c : cases) {
    Response res = Call(c.method, c.target);
    EXPECT_EQ(res.result_int(), 405) << c.target;
    EXPECT_EQ(Code(res), "method_not_allowed");
    EXPECT_EQ(res[http::field::allow], c.allow) << c.target;
  }
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AdminHandlerTest, BadOutboxParametersAre400NamingTheParameter) {
  struct Case {
    std::string query, message;
  } cases[] = {
      {"limit=0", "query parameter 'limit': expected an integer from 1 to 1000, got '0'"},
      {"limit=1001", "query parameter 'limit': expected an integer from 1 to 1000, got '1001'"},
      {"limit=abc", "query parameter 'limit': expected an integer from 1 to 1000, got 'abc'"},
      {"limit=-1", "query parameter 'limit': expected an integer from 1 to 1000, got '-1'"},
      {"limit=%2B5", "query parameter 'limit': expected an integer from 1 to 1000, got '+5'"},
      {"limit=5x", "query parameter 'limit': expected an integer from 1 to 1000, got '5x'"},
      {"limit=", "query parameter 'limit': expected an integer from 1 to 1000, got ''"},
      {"limit=99999999999999999999999",
       "query parameter 'limit': expected an integer from 1 to 1000, got "
       "'99999999999999999999999'"},
      {"limit=1&limit=2", "query parameter 'limit': given twice"},
      {"status=bogus",
       "query parameter 'status': expected pending, delivered or failed, got 'bogus'"},
      {"status=", "query parameter 'status': expected pending, delivered or failed, got ''"},
      {"status=FAILED",
       "query parameter 'status': expected pending, delivered or failed, got 'FAILED'"},
      {"status=failed&status=pending", "query parameter 'status': given twice"},
  };
  for (const Case& c : cases) {
    Response res = Get("/admin/v1/outbox?" + c.query);
    EXPECT_EQ(res.result_int(), 400) << c.query;
    EXPECT_EQ(Code(res), "invalid_parameter") << c.query;
    EXPECT_EQ(Message(res), c.message);
  }
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AdminHandlerTest, BadPublishVersionIs400) {
  struct Case {
    std::string target, body, code, message;
  } cases[] = {
      {"publish?version=0", "", "invalid_parameter",
       "query parameter 'version': expected an integer from 1 to 4294967295, got '0'"},
      {"publish?version=4294967296", "", "invalid_parameter",
       "query parameter 'version': expected an integer from 1 to 4294967295, got '4294967296'"},
      {"publish?version=v2", "", "invalid_parameter",
       "query parameter 'version': expected an integer from 1 to 4294967295, got 'v2'"},
      {"publish?version=1&version=2", "", "invalid_parameter",
       "query parameter 'version': given twice"},
      {"publish", R"({"version":"3"})", "invalid_parameter",
       "field 'version': expected an integer from 1 to 4294967295, got \"3\""},
      {"publish", R"({"version":1.5})", "invalid_parameter",
       "field 'version': expected an integer from 1 to 4294967295, got 1.5"},
      {"publish", R"({"version":0})", "invalid_parameter",
       "field 'version': expected an integer from 1 to 4294967295, got 0"},
      {"publish", R"({"version":null})", "invalid_parameter",
       "field 'version': expected an integer from 1 to 4294967295, got null"},
      {"publish?version=3", R"({"version":3})", "invalid_parameter",
       "version: give it in the query or the body, not both"},
      {"publish", R"({"version":)", "invalid_json", ""},
      {"publish", "[3]", "invalid_body", "body: expected a JSON object"},
      {"pause?version=2", "", "invalid_parameter",
       "version: pause takes no version; only publish does"},
      {"archive", R"({"version":2})", "invalid_parameter",
       "version: archive takes no version; only publish does"},
  };
  for (const Case& c : cases) {
    Response res = Post("/admin/v1/journeys/cart/" + c.target, c.body);
    EXPECT_EQ(res.result_int(), 400) << c.target << " " << c.body;
    EXPECT_EQ(Code(res), c.code) << c.target << " " << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(Message(res), c.message);
    }
  }
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AdminHandlerTest, JourneyThatDoesNotValidateOnCreateIs422WithTheErrors) {
  backend_.fail = Status::Invalid(
      "journey.yaml:3:5: unknown step type 'wiat'\n"
      "journey.yaml:9:1: template 'welcome' is not defined\n");
  Response res = Post("/admin/v1/journeys", "id: cart\nsteps: []\n");
  EXPECT_EQ(res.result_int(), 422);
  EXPECT_EQ(res.body(),
            R"({"error":{"code":"invalid_journey","message":"the journey does not validate: 2 )"
            R"(errors","errors":["journey.yaml:3:5: unknown step type 'wiat'",)"
            R"("journey.yaml:9:1: template 'welcome' is not defined"]}})");
  // Validation reports the same through a 200; a body that cannot be read at all is a 400.
  backend_.fail.reset();
  EXPECT_EQ(Post("/admin/v1/journeys/validate", "id: cart").result_int(), 200);
  backend_.fail = Status::Parse("journey.yaml:1:1: not YAML or JSON");
  res = Post("/admin/v1/journeys", "\t:");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(Code(res), "invalid_body");
  EXPECT_EQ(Code(Post("/admin/v1/journeys/validate", "\t:")), "invalid_body");
}

TEST_F(AdminHandlerTest, EmptyOrOversizedJourneyBodyIsRefusedBeforeTheBackend) {
  Response res = Post("/admin/v1/journeys", "");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(Code(res), "invalid_body");
  EXPECT_EQ(Post("/admin/v1/journeys/validate", "").result_int(), 400);

  res = Post("/admin/v1/journeys", std::string(options_.max_admin_body_bytes + 1, '#'));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(Code(res), "body_too_large");
  EXPECT_NE(Message(res).find("max_admin_body_bytes"), std::string::npos) << Message(res);
  EXPECT_EQ(
      Post("/admin/v1/journeys", std::string(options_.max_admin_body_bytes, '#')).result_int(),
      201);
  EXPECT_EQ(handler_.BodyLimit("/admin/v1/journeys?x"), options_.max_admin_body_bytes);
  EXPECT_EQ(backend_.calls.size(), 1u);
}

TEST_F(AdminHandlerTest, BackendErrorsMapToStatuses) {
  backend_.fail = Status::Invalid("journey 'cart' has no version 9");
  Response res = Post("/admin/v1/journeys/cart/publish?version=9");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(Code(res), "invalid_request");
  EXPECT_EQ(Message(res), "journey 'cart' has no version 9");

  backend_.fail = Status::Io("state store: disk full");
  res = Get("/admin/v1/stats");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(Code(res), "internal");
  EXPECT_EQ(Message(res), "state store: disk full");

  backend_.fail = Status::Internal("shard 2 did not answer");
  EXPECT_EQ(Get("/admin/v1/journeys").result_int(), 500);

  backend_.fail.reset();
  backend_.throws = true;
  res = Get("/admin/v1/journeys");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(Message(res), "internal error");
}

TEST_F(AdminHandlerTest, PathSegmentsArePercentDecoded) {
  EXPECT_EQ(CallOf(Get("/admin/v1/profiles/user%40example.com")), "GetProfile(user@example.com)");
  // An encoded slash stays inside the id instead of splitting the path.
  EXPECT_EQ(CallOf(Get("/admin/v1/profiles/a%2Fb")), "GetProfile(a/b)");
  EXPECT_EQ(CallOf(Get("/admin/v1/profiles/%E2%82%AC%20x")), "GetProfile(\u20ac x)");
  EXPECT_EQ(CallOf(Get("/admin/v1/profiles/a+b")), "GetProfile(a+b)");
  EXPECT_EQ(CallOf(Post("/admin/v1/journeys/spring%20sale/pause")),
            "JourneyAction(spring sale,pause,-)");
  EXPECT_EQ(CallOf(Get("/admin/v1/outbox?status=fail%65d")), "Outbox(failed,100)");

  for (std::string target : {"/admin/v1/profiles/%zz", "/admin/v1/profiles/%4", "/admin/v1/x y"}) {
    Response res = Get(target);
    EXPECT_EQ(res.result_int(), 400) << target;
    EXPECT_EQ(Code(res), "bad_request") << target;
  }
}

TEST_F(AdminHandlerTest, MetricsCarryTheBackendsMetrics) {
  Response res = Call(http::verb::get, "/metrics");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("waymark_ingest_events_accepted_total 0\n"), std::string::npos);
  EXPECT_NE(res.body().find("\nwaymark_engine_profiles 7\n"), std::string::npos) << res.body();
  // The admin API's codes are no reason for rejecting events.
  EXPECT_EQ(res.body().find("reason=\"admin_disabled\""), std::string::npos);
  EXPECT_NE(res.body().find("waymark_http_requests_total{code=\"422\"}"), std::string::npos);

  res = Call(http::verb::get, "/metrics", "", "");
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(res[http::field::www_authenticate], R"(Bearer realm="waymark")");
  EXPECT_EQ(Call(http::verb::get, "/metrics", "", testing::BasicAuth("wk")).result_int(), 401);
}

TEST_F(AdminHandlerTest, AdminAndMetricsRunOnWorkersOnlyWithABackend) {
  auto runs_on_workers = [](const IngestHandler& h, http::verb method, std::string target) {
    return h.RunsOnWorkers(Request(method, target, 11));
  };
  EXPECT_TRUE(runs_on_workers(handler_, http::verb::get, "/admin/v1/journeys"));
  EXPECT_TRUE(runs_on_workers(handler_, http::verb::get, "/admin/nope"));
  EXPECT_TRUE(runs_on_workers(handler_, http::verb::get, "/metrics"));
  EXPECT_TRUE(runs_on_workers(handler_, http::verb::post, "/v1/track"));
  EXPECT_FALSE(runs_on_workers(handler_, http::verb::get, "/health"));
  EXPECT_FALSE(runs_on_workers(handler_, http::verb::get, "/ready"));
  EXPECT_FALSE(runs_on_workers(handler_, http::verb::get, "/v2/x"));

  IngestHandler no_backend(&options_, nullptr, &clock_, &metrics_);
  EXPECT_FALSE(runs_on_workers(no_backend, http::verb::get, "/admin/v1/journeys"));
  EXPECT_FALSE(runs_on_workers(no_backend, http::verb::get, "/metrics"));
  EXPECT_TRUE(runs_on_workers(no_backend, http::verb::post, "/v1/track"));
}

// ListJourneys blocks while held and records the thread it ran on.
class BlockingBackend : public FakeBackend {
 public:
  Result<Value> ListJourneys() override {
    std::unique_lock lock(mu_);
    thread_ = std::this_thread::get_id();
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !hold_; });
    return Value(Value::List{});
  }
  bool WaitEntered() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [this] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    changed_.notify_all();
  }
  std::thread::id thread() {
    std::lock_guard lock(mu_);
    return thread_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool hold_ = true;
  bool entered_ = false;
  std::thread::id thread_;
};

class ThreadRecordingSink : public IngestSink {
 public:
  Status Accept(std::vector<Event>) override {
    std::lock_guard lock(mu_);
    thread_ = std::this_thread::get_id();
    return Status::Ok();
  }
  std::thread::id thread() {
    std::lock_guard lock(mu_);
    return thread_;
  }

 private:
  std::mutex mu_;
  std::thread::id thread_;
};

TEST(AdminServerTest, AdminRequestsRunOnTheWorkerPoolWhileTheServerKeepsServing) {
  ServerOptions options;
  options.port = 0;
  options.write_keys = {"wk"};
  options.admin_token = "secret";
  options.threads = 1;  // one I/O thread and one worker
  SystemClock clock;
  ThreadRecordingSink sink;
  BlockingBackend backend;
  IngestServer server(options, &sink, &clock, &backend);
  ASSERT_TRUE(server.Start().ok());
  const testing::Headers admin = {{"Authorization", "Bearer secret"}};

  auto listed = std::async(std::launch::async, [&] {
    testing::TestClient client(server.port());
    return client.Send(http::verb::get, "/admin/v1/journeys", "", admin);
  });
  ASSERT_TRUE(backend.WaitEntered());
  // The request holds an in-flight slot, which only requests on the worker pool take, and the
  // only I/O thread is free to answer.
  EXPECT_EQ(server.metrics().in_flight(), 1);
  testing::TestClient other(server.port());
  EXPECT_EQ(other.Get("/health").status, 200);
  EXPECT_EQ(other.Get("/ready").status, 200);

  backend.Release();
  testing::HttpResult r = listed.get();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "[]");

  // The ingest request ran on the same single worker as the admin request.
  r = other.Post("/v1/track", R"({"userId":"u","event":"A"})",
                 {{"Authorization", testing::BasicAuth("wk")}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(sink.thread(), backend.thread());
  EXPECT_NE(backend.thread(), std::this_thread::get_id());

  r = other.Send(http::verb::get, "/metrics", "", admin);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("waymark_engine_profiles 7\n"), std::string::npos);
  // /metrics calls the backend too, so it holds an in-flight slot while it renders.
  EXPECT_EQ(r.body.find("waymark_http_requests_in_flight 0\n"), std::string::npos);
  EXPECT_EQ(other.Get("/admin/v1/journeys").status, 401);
}

TEST(AdminServerTest, AdminBodiesOverTheLimitAre413BeforeTheBodyIsRead) {
  ServerOptions options;
  options.port = 0;
  options.write_keys = {"wk"};
  options.admin_token = "secret";
  options.max_admin_body_bytes = 600 * 1024;  // over max_batch_bytes
  SystemClock clock;
  ThreadRecordingSink sink;
  FakeBackend backend;
  IngestServer server(options, &sink, &clock, &backend);
  ASSERT_TRUE(server.Start().ok());
  const testing::Headers admin = {{"Authorization", "Bearer secret"}};

  testing::TestClient client(server.port());
  // Between max_batch_bytes and max_admin_body_bytes: read and handed on.
  testing::HttpResult r =
      client.Send(http::verb::post, "/admin/v1/journeys", std::string(550 * 1024, '#'), admin);
  EXPECT_EQ(r.status, 201) << r.body;
  r = client.Send(http::verb::post, "/admin/v1/journeys", std::string(601 * 1024, '#'), admin);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ((*ParseJson(r.body)).FindPath("error.code")->as_string(), "body_too_large");
  EXPECT_EQ(server.metrics().events_rejected(ErrorCode::kBodyTooLarge), 0u);
  testing::TestClient after(server.port());
  EXPECT_EQ(after.Get("/health").status, 200);
}

}  // namespace
}  // namespace waymark::server
