// IngestServer over loopback with Boost.Beast's client: keep-alive, the in-flight limit, graceful
// stop, start-up errors.
#include "server/ingest_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/json.h"
#include "server/test_client.h"

namespace waymark::server {
namespace {

namespace http = boost::beast::http;
using testing::BasicAuth;
using testing::TestClient;

// Records events; while `hold` is set, Accept blocks until Release().
class GateSink : public IngestSink {
 public:
  Status Accept(std::vector<Event> events) override {
    std::unique_lock lock(mu_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !hold_; });
    for (Event& e : events) accepted_.push_back(std::move(e));
    return Status::Ok();
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    changed_.notify_all();
  }
  // Waits until `n` calls have entered Accept.
  bool WaitEntered(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }
  size_t accepted() {
    std::lock_guard lock(mu_);
    return accepted_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool hold_ = false;
  int entered_ = 0;
  std::vector<Event> accepted_;
};

constexpr char kTrack[] = R"({"userId":"u","event":"A"})";

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    options.write_keys = {"wk"};
    server_ = std::make_unique<IngestServer>(options, &sink_, &clock_);
    ASSERT_TRUE(server_->Start().ok());
  }
  testing::Headers Auth() { return {{"Authorization", BasicAuth("wk")}}; }

  SystemClock clock_;
  GateSink sink_;
  std::unique_ptr<IngestServer> server_;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  TestClient client(server_->port());
  for (int i = 0; i < 5; ++i) {
    testing::HttpResult r = client.Post("/v1/track", kTrack, Auth());
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_TRUE(r.keep_alive);
    EXPECT_TRUE(client.connected());
  }
  EXPECT_EQ(sink_.accepted(), 5u);
  testing::HttpResult metrics = client.Get("/metrics");
  EXPECT_NE(metrics.body.find("waymark_http_connections 1\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("waymark_ingest_events_accepted_total 5\n"), std::string::npos);
}

TEST_F(ServerTest, StartFailsWithoutWriteKeysAndOnABoundPort) {
  ServerOptions no_keys;
  no_keys.port = 0;
  IngestServer a(no_keys, &sink_, &clock_);
  Status st = a.Start();
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "ingest server: no write keys");

  StartServer();
  ServerOptions same_port;
  same_port.port = server_->port();
  same_port.write_keys = {"wk"};
  IngestServer b(same_port, &sink_, &clock_);
  st = b.Start();
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_NE(st.message().find("cannot listen on 127.0.0.1:"), std::string::npos) << st.message();
}

TEST_F(ServerTest, RequestsBeyondMaxInFlightGet429WithRetryAfter) {
  ServerOptions options;
  options.max_in_flight = 1;
  StartServer(options);
  sink_.Hold();
  auto first = std::async(std::launch::async, [&] {
    TestClient client(server_->port());
    return client.Post("/v1/track", kTrack, Auth());
  });
  ASSERT_TRUE(sink_.WaitEntered(1));

  TestClient second(server_->port());
  testing::HttpResult r = second.Post("/v1/track", kTrack, Auth());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers[http::field::retry_after], "1");
  EXPECT_EQ((*ParseJson(r.body)).FindPath("error.code")->as_string(), "overloaded");
  // Health checks do not take an in-flight slot.
  EXPECT_EQ(second.Get("/health").status, 200);

  sink_.Release();
  EXPECT_EQ(first.get().status, 200);
  // The slot is given back once the server has finished writing the first response, which may
  // be a moment after the client has read it.
  int status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) {
    status = second.Post("/v1/track", kTrack, Auth()).status;
    if (status == 429) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ServerTest, StopFinishesInFlightRequestsAndRefusesNewConnections) {
  StartServer();
  sink_.Hold();
  auto in_flight = std::async(std::launch::async, [&] {
    TestClient client(server_->port());
    return client.Post("/v1/track", kTrack, Auth());
  });
  ASSERT_TRUE(sink_.WaitEntered(1));
  uint16_t port = server_->port();
  auto stopped = std::async(std::launch::async, [&] { server_->Stop(); });

  // Stop() waits for the request the sink holds.
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  sink_.Release();
  testing::HttpResult r = in_flight.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);  // the server closes after answering
  stopped.get();
  EXPECT_EQ(sink_.accepted(), 1u);
  TestClient late(port);
  EXPECT_EQ(late.Get("/health").status, 0);
}

TEST_F(ServerTest, StopClosesIdleKeepAliveConnectionsAtOnce) {
  ServerOptions options;
  options.idle_timeout = std::chrono::minutes(5);
  StartServer(options);
  TestClient client(server_->port());
  ASSERT_EQ(client.Post("/v1/track", kTrack, Auth()).status, 200);
  ASSERT_TRUE(client.connected());
  auto begin = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(5));
  server_->Stop();  // idempotent
}

}  // namespace
}  // namespace waymark::server
