// IngestHandler: one HTTP request in, one HTTP response out, no sockets. Routing, authentication,
// size limits, Segment message validation, receivedAt and clock-skew correction, messageId
// synthesis and the call to the sink all live here, so they are tested without a network.
#pragma once

#include <atomic>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/value.h"
#include "model/event.h"
#include "server/admin_backend.h"
#include "server/ingest_server.h"
#include "server/metrics.h"

namespace waymark::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// A JSON error response: {"error": {"code": ..., "message": ..., "index": N}} (index only when
// given). Sets Content-Type, Content-Length and keep-alive from `req_version`/`keep_alive`.
Response ErrorResponse(unsigned req_version, bool keep_alive, boost::beast::http::status status,
                       ErrorCode code, std::string_view message,
                       std::optional<size_t> index = std::nullopt);

// A random UUID version 4 in its canonical text form; the messageId of messages sent without one.
std::string NewMessageId();

// Converts one Segment message object as the server received it at `received_at`:
//  - receivedAt is set to `received_at`, whatever the client sent;
//  - with a sentAt (the message's own, else `batch_sent_at`) and a timestamp, the timestamp is
//    corrected for the device clock's skew: timestamp = receivedAt - (sentAt - timestamp);
//  - without a timestamp, the timestamp is receivedAt;
//  - without a messageId, a NewMessageId() is assigned.
// Validation as ingest::EventFromSegment; errors name the field.
Result<Event> EventFromMessage(Value message, std::optional<EventType> endpoint_type,
                               Time received_at, std::optional<Time> batch_sent_at);

class AdminHandler;
class EngagementHandler;

class IngestHandler {
 public:
  // All pointers must outlive the handler. `admin` may be null: the admin API (/admin/...) is
  // then disabled and /metrics carries the server's metrics only.
  IngestHandler(const ServerOptions* options, IngestSink* sink, const Clock* clock,
                Metrics* metrics, AdminBackend* admin = nullptr,
                const EngagementHandler* engagement = nullptr);
  ~IngestHandler();

  // Whether the request carries events (POST to a /v1/ path).
  static bool CarriesEvents(const Request& req);

  // Whether the request may block and so goes to the worker pool: it carries events, it is for
  // an engagement endpoint (which records events), or there is an admin backend and it is for
  // /admin/ or /metrics (which call the backend).
  bool RunsOnWorkers(const Request& req) const;

  // The response to `req`. Never throws; may block in IngestSink::Accept when the request
  // carries events, and in the admin backend. Thread-safe.
  Response Handle(const Request& req) const;

  // The largest body the request's target may have: max_batch_bytes for /v1/batch and
  // /v1/import, max_admin_body_bytes under /admin/, max_event_bytes for other paths.
  size_t BodyLimit(std::string_view target) const;
  // The option that sets BodyLimit(target), for messages.
  static std::string_view BodyLimitName(std::string_view target);

 private:
  Response HandleIngest(const Request& req, std::string_view path) const;
  // GET /health, /ready and /metrics.
  Response HandleProbe(const Request& req, std::string_view path) const;
  // kGood/kBad: an "Authorization: Basic" header names a known write key or not; kAbsent: no
  // Basic header, so the body's writeKey decides.
  enum class Auth { kGood, kBad, kAbsent };
  Auth HeaderAuth(const Request& req) const;
  bool BodyAuthorized(const Value& body) const;

  const ServerOptions* options_;
  IngestSink* sink_;
  const Clock* clock_;
  Metrics* metrics_;
  std::unique_ptr<AdminHandler> admin_;
  const EngagementHandler* engagement_;
  // Set while the sink fails, so that only the transitions are logged, not every request.
  mutable std::atomic<bool> sink_failing_{false};
};

}  // namespace waymark::server
