#include "server/ingest_server.h"

#include <pthread.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "server/admin_handler.h"
#include "server/ingest_handler.h"
#include "server/log.h"

namespace waymark::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr size_t kHeaderLimit = 16 * 1024;
// After an error answer sent before the body was read, how much of the rest is read and dropped
// so that closing does not reset the connection under the client before it reads the answer.
constexpr size_t kLingerBytes = 1024 * 1024;
}  // namespace

class Session;

class ServerImpl {
 public:
  ServerImpl(ServerOptions options, IngestSink* sink, const Clock* clock, AdminBackend* admin,
             const EngagementHandler* engagement)
      : options_(std::move(options)),
        admin_api_(admin != nullptr && !options_.admin_token.empty()),
        handler_(&options_, sink, clock, &metrics_, admin, engagement) {}

  Status Start();
  void Stop();
  uint16_t port() const { return port_; }

  // Called by sessions, on their strands.
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  size_t max_body_bytes() const {
    return std::max(options_.max_batch_bytes, options_.max_admin_body_bytes);
  }

  const ServerOptions options_;
  const bool admin_api_;
  Metrics metrics_;
  IngestHandler handler_;
  std::atomic<int> in_flight_{0};

 private:
  void DoAccept();
  std::vector<std::shared_ptr<Session>> LiveSessions();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  std::atomic<bool> stopping_{false};
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;

  std::mutex mu_;
  std::condition_variable sessions_done_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_

 public:
  // Declared last, destroyed first: handlers still queued in them own sessions, whose
  // destructors use the members above.
  net::io_context ioc_;
  std::optional<net::thread_pool> workers_;

 private:
  tcp::acceptor acceptor_{net::make_strand(ioc_)};
  net::steady_timer accept_retry_{acceptor_.get_executor()};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

// One client connection. Every member runs on the connection's strand except where noted.
// Phases: idle (waiting for a request's first byte, idle_timeout) -> reading (header, then body,
// request_timeout from the first byte) -> handling (inline, or on the worker pool for requests
// that carry events) -> writing -> idle again, or closed.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ServerImpl* server)
      : stream_(std::move(socket)), deadline_(stream_.get_executor()), server_(server) {
    server_->metrics_.ConnectionOpened();
  }
  ~Session() {
    server_->metrics_.ConnectionClosed();
    server_->Unregister(this);
  }

  void Start() {
    server_->Register(shared_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Any thread: closes the connection if it is waiting for a request; otherwise it closes after
  // its current response (WaitForRequest sees stopping()).
  void StopIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->stream_.socket().cancel();
    });
  }

  // Any thread: closes the connection now (drain timeout passed).
  void ForceClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  void WaitForRequest() {
    if (server_->stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The largest body of any path; OnHeader and the handler check each path's own limit.
    parser_->body_limit(server_->max_body_bytes());
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    idle_ = true;
    Arm(server_->options_.idle_timeout);
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](beast::error_code ec) {
                                  self->idle_ = false;
                                  if (ec) return self->Close();  // idle timeout, Stop()
                                  self->ReadHeader();
                                });
  }

  void ReadHeader() {
    Arm(server_->options_.request_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    size_t limit = server_->handler_.BodyLimit(header.target());
    if (auto length = parser_->content_length(); length && *length > limit) {
      read_done_ = SteadyClock::now();
      Respond(ErrorResponse(header.version(), false, http::status::payload_too_large,
                            ErrorCode::kBodyTooLarge,
                            fmt::format("body is {} bytes; {} takes at most {} bytes ({})",
                                        *length, std::string_view(header.target()), limit,
                                        IngestHandler::BodyLimitName(header.target()))),
              /*counted=*/false, /*body_unread=*/true);
      if (!AdminHandler::IsAdminPath(header.target())) {
        server_->metrics_.EventsRejected(ErrorCode::kBodyTooLarge);
      }
      return;
    }
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      auto res = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                    header.version());
      return http::async_write(stream_, *res,
                               [self = shared_from_this(), res](beast::error_code ec2, size_t) {
                                 if (ec2) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Disarm();
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    Disarm();
    read_done_ = SteadyClock::now();
    unsigned version = parser_->is_header_done() ? parser_->get().version() : 11;
    if (timed_out_) {
      return Respond(
          ErrorResponse(version, false, http::status::request_timeout, ErrorCode::kRequestTimeout,
                        fmt::format("request not complete within {} ms",
                                    server_->options_.request_timeout.count())),
          false, false);
    }
    if (ec == http::error::body_limit) {
      if (!AdminHandler::IsAdminPath(parser_->get().target())) {
        server_->metrics_.EventsRejected(ErrorCode::kBodyTooLarge);
      }
      return Respond(
          ErrorResponse(version, false, http::status::payload_too_large, ErrorCode::kBodyTooLarge,
                        fmt::format("body is over {} bytes", server_->max_body_bytes())),
          false, true);
    }
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Respond(
          ErrorResponse(version, false, http::status::bad_request, ErrorCode::kBadRequest,
                        "malformed HTTP request: " + ec.message()),
          false, true);
    }
    Close();  // the peer went away (or Stop()): nobody to answer
  }

  void Dispatch() {
    read_done_ = SteadyClock::now();
    Request req = parser_->release();
    if (!server_->handler_.RunsOnWorkers(req)) {
      return Respond(server_->handler_.Handle(req), false, false);
    }
    if (server_->in_flight_.fetch_add(1) >= server_->options_.max_in_flight) {
      server_->in_flight_.fetch_sub(1);
      Response res = ErrorResponse(req.version(), req.keep_alive(), http::status::too_many_requests,
                                   ErrorCode::kOverloaded,
                                   fmt::format("{} requests already in flight; retry later",
                                               server_->options_.max_in_flight));
      res.set(http::field::retry_after, std::to_string(server_->options_.retry_after.count()));
      if (IngestHandler::CarriesEvents(req)) {
        server_->metrics_.EventsRejected(ErrorCode::kOverloaded);
      }
      return Respond(std::move(res), false, false);
    }
    server_->metrics_.InFlightChanged(1);
    net::post(server_->workers_->get_executor(),
              [self = shared_from_this(), req = std::move(req)]() mutable {
                Response res;
                try {
                  res = self->server_->handler_.Handle(req);
                } catch (const std::exception& e) {
                  Log().error("request failed with an exception path={} error=\"{}\"",
                              std::string_view(req.target()), e.what());
                  res = ErrorResponse(req.version(), false, http::status::internal_server_error,
                                      ErrorCode::kInternal, "internal error");
                }
                net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
                  self->Respond(std::move(res), true, false);
                });
              });
  }

  // Writes `res`; `counted`: the request holds an in-flight slot; `body_unread`: the request's
  // body was not read, so the connection must close after lingering.
  void Respond(Response res, bool counted, bool body_unread) {
    if (server_->stopping() || body_unread) res.keep_alive(false);
    Arm(server_->options_.request_timeout);
    auto shared = std::make_shared<Response>(std::move(res));
    http::async_write(
        stream_, *shared,
        [self = shared_from_this(), shared, counted, body_unread](beast::error_code ec, size_t) {
          self->OnWritten(ec, *shared, counted, body_unread);
        });
  }

  void OnWritten(beast::error_code ec, const Response& res, bool counted, bool body_unread) {
    Disarm();
    if (counted) {
      server_->in_flight_.fetch_sub(1);
      server_->metrics_.InFlightChanged(-1);
    }
    auto latency = SteadyClock::now() - read_done_;
    server_->metrics_.RequestDone(res.result_int(), latency);
    Log().debug("request status={} bytes_out={} micros={}", res.result_int(), res.body().size(),
                std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
    if (ec) return Close();
    if (body_unread) return Linger();
    if (!res.keep_alive()) return Close();
    WaitForRequest();
  }

  // Half-closes, then reads and drops what the client still sends (bounded), then closes.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    Arm(std::chrono::milliseconds(
        std::min<int64_t>(2000, server_->options_.request_timeout.count())));
    LingerRead();
  }

  void LingerRead() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) return self->Close();
                              self->LingerRead();
                            });
  }

  // Starts the phase deadline; on expiry the pending socket operation is cancelled.
  void Arm(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    uint64_t generation = ++deadline_generation_;
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || generation != self->deadline_generation_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void Disarm() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  void Close() {
    Disarm();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  net::steady_timer deadline_;
  uint64_t deadline_generation_ = 0;
  ServerImpl* server_;
  bool idle_ = false;
  bool timed_out_ = false;
  size_t lingered_ = 0;
  SteadyClock::time_point read_done_;
};

Status ServerImpl::Start() {
  if (started_) return Status::Invalid("ingest server: already started");
  if (options_.write_keys.empty()) return Status::Invalid("ingest server: no write keys");
  if (options_.threads < 1) return Status::Invalid("ingest server: threads must be at least 1");
  if (options_.workers < 0) return Status::Invalid("ingest server: workers must not be negative");
  if (options_.max_in_flight < 1) {
    return Status::Invalid("ingest server: max_in_flight must be at least 1");
  }
  if (options_.max_event_bytes > options_.max_batch_bytes) {
    return Status::Invalid("ingest server: max_event_bytes is larger than max_batch_bytes");
  }
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(options_.listen_address, ec);
  if (ec)
    return Status::Invalid("ingest server: bad listen address '" + options_.listen_address + "'");

  tcp::endpoint endpoint(address, options_.port);
  std::string where = fmt::format("{}:{}", options_.listen_address, options_.port);
  if (acceptor_.open(endpoint.protocol(), ec) ||
      acceptor_.set_option(net::socket_base::reuse_address(true), ec) ||
      acceptor_.bind(endpoint, ec) ||
      acceptor_.listen(net::socket_base::max_listen_connections, ec)) {
    return Status::Io("ingest server: cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  started_ = true;

  workers_.emplace(options_.workers > 0 ? options_.workers : options_.threads);
  work_.emplace(ioc_.get_executor());
  net::post(acceptor_.get_executor(), [this] { DoAccept(); });
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "wm-http");  // for top -H and perf
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          Log().error("I/O thread caught an exception and goes on error=\"{}\"", e.what());
        }
      }
    });
  }
  Log().info(
      "ingest server listening address={} port={} threads={} workers={} write_keys={} "
      "admin_token={} "
      "admin_api={} max_event_bytes={} max_batch_bytes={} max_admin_body_bytes={} "
      "request_timeout_ms={} idle_timeout_ms={} max_in_flight={}",
      options_.listen_address, port_, options_.threads,
      options_.workers > 0 ? options_.workers : options_.threads, options_.write_keys.size(),
      options_.admin_token.empty() ? "unset" : "set", admin_api_ ? "enabled" : "disabled",
      options_.max_event_bytes, options_.max_batch_bytes, options_.max_admin_body_bytes,
      options_.request_timeout.count(), options_.idle_timeout.count(), options_.max_in_flight);
  return Status::Ok();
}

void ServerImpl::DoAccept() {
  if (stopping()) return;
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void ServerImpl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping() || ec == net::error::operation_aborted) return;
  if (ec) {
    // Typically out of file descriptors: back off instead of spinning.
    Log().warn("accept failed; retrying in 100 ms error=\"{}\"", ec.message());
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([this](beast::error_code) { DoAccept(); });
    return;
  }
  std::make_shared<Session>(std::move(socket), this)->Start();
  DoAccept();
}

void ServerImpl::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session.get(), session);
}

void ServerImpl::Unregister(Session* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) sessions_done_.notify_all();
}

std::vector<std::shared_ptr<Session>> ServerImpl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(mu_);
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

void ServerImpl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  auto begin = SteadyClock::now();
  Log().info("ingest server stopping: no new connections; draining in_flight={}",
             in_flight_.load());
  stopping_.store(true, std::memory_order_release);
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });

  // Sessions are collected under the lock and told outside it: dropping the last reference to
  // one runs its destructor, which takes the lock.
  for (const auto& s : LiveSessions()) s->StopIfIdle();
  std::unique_lock lock(mu_);
  bool drained =
      sessions_done_.wait_for(lock, options_.drain_timeout, [this] { return sessions_.empty(); });
  if (!drained) {
    Log().warn("drain timeout passed; closing connections={}", sessions_.size());
    lock.unlock();
    for (const auto& s : LiveSessions()) s->ForceClose();
    lock.lock();
    sessions_done_.wait_for(lock, std::chrono::seconds(5), [this] { return sessions_.empty(); });
  }
  lock.unlock();

  workers_->join();
  work_.reset();
  ioc_.stop();
  for (std::thread& t : threads_) t.join();
  Log().info(
      "ingest server stopped drained={} millis={}", drained,
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - begin).count());
}

IngestServer::IngestServer(ServerOptions options, IngestSink* sink, const Clock* clock,
                           AdminBackend* admin, const EngagementHandler* engagement)
    : impl_(std::make_unique<ServerImpl>(std::move(options), sink, clock, admin, engagement)) {}

IngestServer::~IngestServer() { Stop(); }

Status IngestServer::Start() { return impl_->Start(); }
void IngestServer::Stop() { impl_->Stop(); }
uint16_t IngestServer::port() const { return impl_->port(); }
const Metrics& IngestServer::metrics() const { return impl_->metrics_; }

}  // namespace waymark::server
