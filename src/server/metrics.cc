#include "server/metrics.h"

#include <fmt/format.h>

namespace waymark::server {

std::string_view ErrorCodeName(ErrorCode code) {
  static constexpr std::string_view kNames[kErrorCodeCount] = {
      "invalid_json",         "invalid_body",   "invalid_event",    "event_too_large",
      "body_too_large",       "unauthorized",   "not_found",        "method_not_allowed",
      "request_timeout",      "overloaded",     "sink_unavailable", "bad_request",
      "unsupported_encoding", "internal",       "admin_disabled",   "invalid_parameter",
      "invalid_request",      "invalid_journey"};
  return kNames[static_cast<int>(code)];
}

bool RejectsEvents(ErrorCode code) { return code < ErrorCode::kAdminDisabled; }

void Metrics::RequestDone(int http_status, std::chrono::nanoseconds latency) {
  size_t s = 0;
  while (s + 1 < kStatuses.size() && kStatuses[s] != http_status) ++s;
  requests_[s].fetch_add(1, std::memory_order_relaxed);

  double seconds = std::chrono::duration<double>(latency).count();
  size_t b = 0;
  while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
  latency_buckets_[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
}

std::string Metrics::Render() const {
  std::string out;
  auto line = [&out](std::string_view text) {
    out.append(text);
    out.push_back('\n');
  };

  line("# HELP waymark_ingest_events_accepted_total Events handed to the sink and acknowledged.");
  line("# TYPE waymark_ingest_events_accepted_total counter");
  line(fmt::format("waymark_ingest_events_accepted_total {}", events_accepted()));

  line("# HELP waymark_ingest_events_rejected_total Events not accepted, by reason.");
  line("# TYPE waymark_ingest_events_rejected_total counter");
  for (int i = 0; i < kErrorCodeCount; ++i) {
    if (!RejectsEvents(static_cast<ErrorCode>(i))) continue;
    line(fmt::format("waymark_ingest_events_rejected_total{{reason=\"{}\"}} {}",
                     ErrorCodeName(static_cast<ErrorCode>(i)),
                     events_rejected_[i].load(std::memory_order_relaxed)));
  }

  line("# HELP waymark_http_requests_total Answered HTTP requests, by status code.");
  line("# TYPE waymark_http_requests_total counter");
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    std::string code = kStatuses[i] == 0 ? "other" : std::to_string(kStatuses[i]);
    line(fmt::format("waymark_http_requests_total{{code=\"{}\"}} {}", code,
                     requests_[i].load(std::memory_order_relaxed)));
  }

  line(
      "# HELP waymark_http_request_duration_seconds From the request's last byte read to the "
      "response's last byte written.");
  line("# TYPE waymark_http_request_duration_seconds histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kLatencyBuckets.size(); ++i) {
    cumulative += latency_buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < kLatencyBuckets.size() ? fmt::format("{}", kLatencyBuckets[i]) : "+Inf";
    line(fmt::format("waymark_http_request_duration_seconds_bucket{{le=\"{}\"}} {}", le,
                     cumulative));
  }
  line(fmt::format("waymark_http_request_duration_seconds_sum {}",
                   static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9));
  line(fmt::format("waymark_http_request_duration_seconds_count {}", cumulative));

  line("# HELP waymark_http_requests_in_flight Requests read and not yet answered.");
  line("# TYPE waymark_http_requests_in_flight gauge");
  line(fmt::format("waymark_http_requests_in_flight {}", in_flight()));
  line("# HELP waymark_http_connections Open client connections.");
  line("# TYPE waymark_http_connections gauge");
  line(fmt::format("waymark_http_connections {}", connections_.load(std::memory_order_relaxed)));
  return out;
}

}  // namespace waymark::server
