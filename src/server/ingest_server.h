// IngestServer: the HTTP front of `waymark serve`, a Segment HTTP Tracking API compatible ingest
// server on Boost.Beast. It authenticates, limits and validates requests and hands the valid
// events to an IngestSink; what the sink does with them (journal, engine) is not its business.
// docs/server.md is the reference for endpoints, errors and limits.
//
// With an AdminBackend it also serves the admin API under /admin/v1/ (admin_handler.h); with an
// EngagementHandler, tracked links, the open pixel, unsubscribe, offers and the in-app inbox
// (engagement.h).
//
// Threading: `threads` I/O threads own the connections. Requests that may block are handled on a
// separate pool of `workers` threads (as many as `threads` unless set): those that carry events
// (IngestSink::Accept may block until the events are durable) and, with an admin backend, admin
// API requests and GET /metrics (the backend may block). GET /health and /ready are always
// answered on the I/O threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/event.h"
#include "server/admin_backend.h"
#include "server/metrics.h"

namespace waymark::server {

// Where validated events go. Implementations must be safe to call from several threads at once.
class IngestSink {
 public:
  virtual ~IngestSink() = default;

  // Takes the valid events of one request, in request order. Returns OK only once the events are
  // durable: the client is told 200 and will not send them again. A non-OK status becomes a 503
  // with Retry-After and the client retries the whole request, so a sink that fails part-way may
  // see some events twice; they keep their messageIds, which downstream dedupe relies on.
  // May block; called on the server's worker threads, never on an I/O thread.
  virtual Status Accept(std::vector<Event> events) = 0;

  // Whether the sink can take events now (GET /ready answers 503 when not). Must not block.
  virtual bool Ready() const { return true; }
};

struct ServerOptions {
  std::string listen_address = "127.0.0.1";  // loopback unless told otherwise
  uint16_t port = 8080;                      // 0 picks a free port; see IngestServer::port()
  // Accepted write keys; Start() refuses an empty set (there is no unauthenticated mode).
  std::set<std::string, std::less<>> write_keys;
  // When set, GET /metrics requires "Authorization: Bearer <admin_token>", and so does the admin
  // API, which is disabled (404) without it.
  std::string admin_token;
  int threads = 2;  // I/O threads
  // Threads for requests that may block; 0 means as many as `threads`. A sink that syncs to disk
  // blocks each request for a sync: more workers let more requests share one (group commit).
  int workers = 0;

  size_t max_event_bytes = 32 * 1024;   // one event: a single-event body, or a batch element
  size_t max_batch_bytes = 500 * 1024;  // a /v1/batch or /v1/import body
  // An admin API body (a journey as YAML or JSON).
  size_t max_admin_body_bytes = 1024 * 1024;
  // From the first byte of a request to its last; a slower request gets 408 and is closed.
  std::chrono::milliseconds request_timeout{10'000};
  // How long a keep-alive connection may wait for its next request before it is closed.
  std::chrono::milliseconds idle_timeout{30'000};
  // Requests being handled on the worker pool at once (those carrying events and, with an admin
  // backend, admin API requests and /metrics); more get 429 with Retry-After.
  int max_in_flight = 256;
  std::chrono::seconds retry_after{1};
  // How long Stop() waits for in-flight requests before closing their connections.
  std::chrono::milliseconds drain_timeout{15'000};
};

class ServerImpl;
class EngagementHandler;

class IngestServer {
 public:
  // `sink` and `clock` must outlive the server, and so must `admin` when not null. `clock` stamps
  // receivedAt. Without `admin` the server has no admin API (404 admin_disabled under /admin/).
  IngestServer(ServerOptions options, IngestSink* sink, const Clock* clock,
               AdminBackend* admin = nullptr, const EngagementHandler* engagement = nullptr);
  ~IngestServer();  // calls Stop()
  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  // Binds, listens and starts the threads; returns once connections are being accepted. Errors:
  // kInvalidArgument for bad options, kIoError when the address cannot be bound.
  Status Start();

  // Stops accepting, closes idle keep-alive connections, lets requests already being read or
  // handled finish (up to drain_timeout), then joins every thread. Safe to call more than once
  // and from any thread except the server's own.
  void Stop();

  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;
  const Metrics& metrics() const;

 private:
  std::unique_ptr<ServerImpl> impl_;
};

}  // namespace waymark::server
