// waymark_load: an open-loop load generator for the ingest server, loopback only.
//
// Requests are scheduled at a fixed rate (batches of --batch Segment track events to /v1/batch)
// whatever the server's speed; each goes out on the first idle one of --connections keep-alive
// connections, or waits for one. Latency is measured from the request's scheduled time, so a
// slow server shows up as latency instead of a lower send rate (no coordinated omission).
//
//   waymark_load --port 8080 --write-key wk --rate 200 --connections 8 --duration 10
//                [--admin-token T]   # also read the engine's event->decision latency
//
// With --admin-token, /metrics is read before and after the run and the quantiles of the
// difference of waymark_engine_decision_latency_seconds (`waymark serve`: from an event's
// acceptance to its effects being committed) are printed too. That histogram's buckets are about
// 19% wide, so those quantiles are bucket upper edges.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string write_key;
  double rate = 100;  // requests (batches) per second
  int batch = 100;
  int connections = 8;
  double duration_s = 10;
  std::string run_id;       // messageId prefix, so repeated runs are not dropped as duplicates
  std::string admin_token;  // read /metrics before and after
};

struct Stats {
  std::vector<double> latencies_ms;
  std::map<int, uint64_t> statuses;
  uint64_t accepted_events = 0;
  uint64_t errors = 0;
  Clock::time_point last_done;
};

std::string BatchBody(uint64_t request, int batch, const std::string& key,
                      const std::string& run_id) {
  std::string body = "{\"writeKey\":\"" + key + "\",\"batch\":[";
  for (int i = 0; i < batch; ++i) {
    uint64_t n = request * batch + i;
    if (i > 0) body += ',';
    body += fmt::format(
        R"({{"type":"track","event":"Product Viewed","userId":"user-{}","messageId":"{}-{}",)"
        R"("timestamp":"2026-03-08T10:00:00.000Z","properties":{{"product_id":"p-{}",)"
        R"("price":{}.5,"category":"shoes"}},"context":{{"ip":"127.0.0.1"}}}})",
        n % 10000, run_id, n, n % 977, n % 200);
  }
  body += "]}";
  return body;
}

class Connection;

class Load {
 public:
  Load(net::io_context& ioc, Config config) : ioc_(ioc), config_(std::move(config)) {}

  void Run();
  // A connection became free; sends the oldest waiting request if any.
  void OnIdle(Connection* c);
  void Record(Clock::time_point scheduled, int status, const std::string& body, bool error);
  const Stats& stats() const { return stats_; }
  uint64_t sent() const { return next_request_; }
  Clock::time_point start() const { return start_; }

 private:
  void ScheduleNext();

  net::io_context& ioc_;
  Config config_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  std::deque<std::pair<uint64_t, Clock::time_point>> waiting_;
  net::steady_timer timer_{ioc_};
  Clock::time_point start_;
  uint64_t next_request_ = 0;
  uint64_t total_requests_ = 0;
  uint64_t done_ = 0;
  Stats stats_;

  friend class Connection;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, Load* load, const Config& config)
      : stream_(ioc), load_(load), config_(config) {}

  void Connect(const tcp::endpoint& ep) {
    stream_.expires_after(std::chrono::seconds(5));
    stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        fmt::print(stderr, "waymark_load: connect failed: {}\n", ec.message());
        return;
      }
      self->load_->OnIdle(self.get());
    });
  }

  void Send(uint64_t request, Clock::time_point scheduled) {
    scheduled_ = scheduled;
    req_ = {http::verb::post, "/v1/batch", 11};
    req_.set(http::field::host, config_.host);
    req_.set(http::field::content_type, "application/json");
    req_.body() = BatchBody(request, config_.batch, config_.write_key, config_.run_id);
    req_.prepare_payload();
    req_.keep_alive(true);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail();
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec2, size_t) {
                         if (ec2) return self->Fail();
                         self->load_->Record(self->scheduled_, self->res_.result_int(),
                                             self->res_.body(), false);
                         if (!self->res_.keep_alive()) return;  // server closed it
                         self->load_->OnIdle(self.get());
                       });
    });
  }

 private:
  void Fail() { load_->Record(scheduled_, 0, "", true); }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  Load* load_;
  const Config& config_;
  Clock::time_point scheduled_;
};

void Load::Run() {
  tcp::endpoint ep(net::ip::make_address(config_.host), config_.port);
  total_requests_ = static_cast<uint64_t>(config_.rate * config_.duration_s);
  for (int i = 0; i < config_.connections; ++i) {
    connections_.push_back(std::make_shared<Connection>(ioc_, this, config_));
    connections_.back()->Connect(ep);
  }
  // Let the connections open before the clock starts.
  ioc_.run_for(std::chrono::milliseconds(200));
  ioc_.restart();
  start_ = Clock::now();
  ScheduleNext();
  ioc_.run_until(start_ + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(config_.duration_s + 30)));
}

void Load::ScheduleNext() {
  if (next_request_ >= total_requests_) return;
  auto when = start_ + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(next_request_ / config_.rate));
  timer_.expires_at(when);
  timer_.async_wait([this, when](beast::error_code ec) {
    if (ec) return;
    waiting_.emplace_back(next_request_++, when);
    if (!idle_.empty()) {
      Connection* c = idle_.back();
      idle_.pop_back();
      auto [id, scheduled] = waiting_.front();
      waiting_.pop_front();
      c->Send(id, scheduled);
    }
    ScheduleNext();
  });
}

void Load::OnIdle(Connection* c) {
  if (waiting_.empty()) {
    idle_.push_back(c);
    return;
  }
  auto [id, scheduled] = waiting_.front();
  waiting_.pop_front();
  c->Send(id, scheduled);
}

void Load::Record(Clock::time_point scheduled, int status, const std::string& body, bool error) {
  auto now = Clock::now();
  stats_.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - scheduled).count());
  stats_.last_done = now;
  if (error) {
    ++stats_.errors;
  } else {
    ++stats_.statuses[status];
    size_t at = body.find("\"accepted\":");
    if (status == 200 && at != std::string::npos) {
      stats_.accepted_events += std::strtoull(body.c_str() + at + 11, nullptr, 10);
    }
  }
  if (++done_ == total_requests_) ioc_.stop();
}

// One GET on a fresh connection; the body, or empty on any error.
std::string Fetch(const Config& config, const std::string& target) {
  try {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(tcp::endpoint(net::ip::make_address(config.host), config.port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, config.host);
    req.set(http::field::authorization, "Bearer " + config.admin_token);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res.result_int() == 200 ? res.body() : std::string();
  } catch (const std::exception& e) {
    fmt::print(stderr, "waymark_load: GET {} failed: {}\n", target, e.what());
    return {};
  }
}

// The cumulative buckets of histogram `name` in Prometheus text: (upper edge, count).
std::vector<std::pair<double, uint64_t>> Buckets(const std::string& text, const std::string& name) {
  std::vector<std::pair<double, uint64_t>> out;
  std::string prefix = name + "_bucket{le=\"";
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    size_t edge = at + prefix.size();
    size_t quote = text.find('"', edge);
    if (quote == std::string::npos) break;
    std::string le = text.substr(edge, quote - edge);
    double upper = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
    uint64_t count = std::strtoull(text.c_str() + text.find("} ", quote) + 2, nullptr, 10);
    out.emplace_back(upper, count);
  }
  return out;
}

// Quantile q of the counts recorded between two scrapes, as a bucket's upper edge in ms.
double BucketQuantileMs(const std::vector<std::pair<double, uint64_t>>& before,
                        const std::vector<std::pair<double, uint64_t>>& after, double q) {
  auto count_before = [&](double upper) -> uint64_t {
    uint64_t c = 0;
    for (const auto& [u, n] : before) {
      if (u <= upper) c = n;  // cumulative: the last edge at or below `upper`
    }
    return c;
  };
  if (after.empty()) return 0;
  uint64_t total = after.back().second - count_before(after.back().first);
  if (total == 0) return 0;
  double rank = q * double(total);
  for (const auto& [upper, n] : after) {
    if (double(n - count_before(upper)) >= rank) return upper * 1000;
  }
  return after.back().first * 1000;
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Open-loop load generator for the Waymark ingest server (loopback only)"};
  Config config;
  app.add_option("--host", config.host, "a loopback address")->capture_default_str();
  app.add_option("--port", config.port)->required();
  app.add_option("--write-key", config.write_key)->required();
  app.add_option("--rate", config.rate, "batches per second")->capture_default_str();
  app.add_option("--batch", config.batch, "events per batch")->capture_default_str();
  app.add_option("--connections", config.connections)->capture_default_str();
  app.add_option("--duration", config.duration_s, "seconds of sending")->capture_default_str();
  app.add_option("--run-id", config.run_id, "messageId prefix (default: from the clock)");
  app.add_option("--admin-token", config.admin_token,
                 "read the engine's decision latency from /metrics with this token");
  CLI11_PARSE(app, argc, argv);
  if (config.run_id.empty()) {
    config.run_id = fmt::format(
        "load{}", std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
  }

  beast::error_code ec;
  net::ip::address address = net::ip::make_address(config.host, ec);
  if (ec || !address.is_loopback()) {
    fmt::print(stderr, "waymark_load: --host must be a loopback address, got '{}'\n", config.host);
    return 2;
  }
  if (config.rate <= 0 || config.duration_s <= 0 || config.duration_s > 600 ||
      config.connections < 1 || config.batch < 1) {
    fmt::print(stderr, "waymark_load: need rate > 0, 0 < duration <= 600, connections >= 1\n");
    return 2;
  }

  const std::string kDecision = "waymark_engine_decision_latency_seconds";
  std::vector<std::pair<double, uint64_t>> decision_before;
  if (!config.admin_token.empty()) decision_before = Buckets(Fetch(config, "/metrics"), kDecision);

  net::io_context ioc;
  Load load(ioc, config);
  load.Run();

  Stats stats = load.stats();
  std::sort(stats.latencies_ms.begin(), stats.latencies_ms.end());
  double elapsed = std::chrono::duration<double>(stats.last_done - load.start()).count();
  uint64_t answered = stats.latencies_ms.size();
  fmt::print("target: {:.0f} batches/s x {} events = {:.0f} events/s for {} s on {} connections\n",
             config.rate, config.batch, config.rate * config.batch, config.duration_s,
             config.connections);
  fmt::print("sent {} requests, answered {}, transport errors {}\n", load.sent(), answered,
             stats.errors);
  for (auto [status, n] : stats.statuses) fmt::print("  status {}: {}\n", status, n);
  fmt::print("accepted events: {} in {:.2f} s = {:.0f} events/s sustained\n", stats.accepted_events,
             elapsed, elapsed > 0 ? stats.accepted_events / elapsed : 0);
  fmt::print("latency ms (from scheduled send): p50 {:.2f}  p99 {:.2f}  p99.9 {:.2f}  max {:.2f}\n",
             Percentile(stats.latencies_ms, 50), Percentile(stats.latencies_ms, 99),
             Percentile(stats.latencies_ms, 99.9),
             stats.latencies_ms.empty() ? 0 : stats.latencies_ms.back());
  if (!config.admin_token.empty()) {
    // Let the engine apply what was acknowledged last before reading its histogram.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto after = Buckets(Fetch(config, "/metrics"), kDecision);
    fmt::print("event->decision ms (bucket edges): p50 {:.2f}  p99 {:.2f}  p99.9 {:.2f}\n",
               BucketQuantileMs(decision_before, after, 0.5),
               BucketQuantileMs(decision_before, after, 0.99),
               BucketQuantileMs(decision_before, after, 0.999));
  }
  return answered == load.sent() && stats.errors == 0 ? 0 : 1;
}
