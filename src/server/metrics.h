// Metrics: the HTTP server's counters and latency histogram, rendered as Prometheus text.
//
// Every label set is fixed at compile time (status codes, rejection reasons), so recording is a
// few relaxed atomic increments and never allocates. All members are safe to call from any
// thread; Render() reads each counter once and is not a consistent snapshot across counters.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace waymark::server {

// The closed set of error codes the HTTP edge answers with. Each names one cause; the JSON error
// body carries the code's name and docs/server.md lists its HTTP status.
enum class ErrorCode : uint8_t {
  kInvalidJson,          // 400: the body is not JSON
  kInvalidBody,          // 400: JSON, but not the shape the endpoint takes ({"batch": [...]})
  kInvalidEvent,         // 400 on single-event endpoints; a rejected index in a batch
  kEventTooLarge,        // 400: one event of a batch is over max_event_bytes
  kBodyTooLarge,         // 413
  kUnauthorized,         // 401
  kNotFound,             // 404
  kMethodNotAllowed,     // 405
  kRequestTimeout,       // 408
  kOverloaded,           // 429: max_in_flight requests already being handled
  kSinkUnavailable,      // 503: the sink did not take the events
  kBadRequest,           // 400: HTTP-level garbage (unparseable request line or headers)
  kUnsupportedEncoding,  // 415: a Content-Encoding other than gzip or identity
  kInternal,             // 500: a bug, or an admin backend failure; logged at ERROR
  // The admin API's own codes (never an event rejection reason):
  kAdminDisabled,     // 404: no admin token configured, or no admin backend
  kInvalidParameter,  // 400: a query parameter or the publish version is malformed
  kInvalidRequest,    // 400: the admin backend refused the request as invalid
  kInvalidJourney,    // 422: a journey posted for a new version does not validate
};
inline constexpr int kErrorCodeCount = 18;

std::string_view ErrorCodeName(ErrorCode code);

// Whether `code` can be a reason in waymark_ingest_events_rejected_total (the admin API's codes
// cannot, and are left out of that metric).
bool RejectsEvents(ErrorCode code);

class Metrics {
 public:
  // Upper bounds of the latency histogram buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void EventsAccepted(uint64_t n) { events_accepted_.fetch_add(n, std::memory_order_relaxed); }
  void EventsRejected(ErrorCode reason, uint64_t n = 1) {
    events_rejected_[Index(reason)].fetch_add(n, std::memory_order_relaxed);
  }
  // One answered request: its status and the time from the last byte read to the last byte
  // written (or to the moment it was abandoned).
  void RequestDone(int http_status, std::chrono::nanoseconds latency);
  void InFlightChanged(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }

  uint64_t events_accepted() const { return events_accepted_.load(std::memory_order_relaxed); }
  uint64_t events_rejected(ErrorCode reason) const {
    return events_rejected_[Index(reason)].load(std::memory_order_relaxed);
  }
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  // Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  // Statuses the server can answer with; anything else is counted under "other".
  static constexpr std::array<int, 16> kStatuses = {200, 201, 204, 302, 400, 401, 404, 405,
                                                    408, 413, 415, 422, 429, 500, 503, 0};
  static int Index(ErrorCode c) { return static_cast<int>(c); }

  std::atomic<uint64_t> events_accepted_{0};
  std::array<std::atomic<uint64_t>, kErrorCodeCount> events_rejected_{};
  std::array<std::atomic<uint64_t>, kStatuses.size()> requests_{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_buckets_{};
  std::atomic<uint64_t> latency_sum_ns_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> connections_{0};
};

}  // namespace waymark::server
