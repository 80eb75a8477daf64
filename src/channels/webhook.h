// Signed JSON webhooks (SMS and push providers, customer endpoints), on libcurl.
//
// Each request is a POST of the JSON body with
//   Content-Type: application/json
//   X-Waymark-Timestamp: <unix seconds from the injected clock>
//   X-Waymark-Signature: v1=<lowercase hex HMAC-SHA256(secret, timestamp + "." + body)>
//   Idempotency-Key: <message id>
// A receiver checks the signature with VerifyWebhookSignature (or the recipe in docs/channels.md)
// and drops repeated Idempotency-Keys: a retried send carries the same key and body.
//
// One WebhookSender owns one CURL handle, so HTTP keep-alive connections are reused between sends.
// Not thread-safe: use one sender per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channels/delivery.h"
#include "core/clock.h"
#include "core/status.h"

namespace waymark {

struct WebhookConfig {
  std::string url;     // http:// or https://
  std::string secret;  // HMAC key shared with the receiver; must not be empty
  Duration connect_timeout = std::chrono::seconds(5);
  Duration request_timeout = std::chrono::seconds(10);  // one whole request, connect included
  // Sent with every request ("Authorization", "Bearer ..."). The signing headers, Content-Type
  // and Idempotency-Key are reserved.
  std::vector<std::pair<std::string, std::string>> headers;
  bool verify_peer = true;  // TLS certificate checks; off for tests only
  std::string ca_file;      // empty: the system store
};

class WebhookSender {
 public:
  // Checks the config (URL scheme, secret, header names) and prepares the handle; nothing is
  // connected until the first Send. `clock` must outlive the sender.
  static Result<std::unique_ptr<WebhookSender>> Create(WebhookConfig config, const Clock* clock);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // POSTs `json_body` (JSON text, sent as is, not validated) with `message_id` as the
  // Idempotency-Key. Blocks for at most request_timeout.
  //  - delivered: a 2xx answer.
  //  - transient_failure: 408, 429 or 5xx (retry_after set from a Retry-After in seconds), a
  //    timeout, or no connection.
  //  - permanent_failure: any other answer (other 4xx; 1xx/3xx, since redirects are not followed)
  //    or a message id that cannot be a header value.
  // detail reads "HTTP 503: <up to 256 bytes of the response body>" or the curl error.
  DeliveryResult Send(std::string_view message_id, std::string_view json_body);

  // Connections opened so far.
  int64_t connections_opened() const { return connections_opened_; }

  struct Handle;  // libcurl state; defined in webhook.cc

 private:
  WebhookSender(WebhookConfig config, const Clock* clock);

  WebhookConfig config_;
  const Clock* clock_;
  std::unique_ptr<Handle> handle_;
  int64_t connections_opened_ = 0;
};

// "v1=" + lowercase hex HMAC-SHA256(secret, decimal unix_seconds + "." + body).
std::string SignWebhook(std::string_view secret, int64_t unix_seconds, std::string_view body);

// What a receiver runs on a request: accepts when `signature_header` holds a "v1=" signature
// (several may be listed, comma-separated, during a secret rotation) that matches `secret`,
// `timestamp_header` and the raw `body`, and the timestamp lies within `tolerance` of `now`
// (replay protection). Compares in constant time. Errors are kInvalidArgument reading
// "webhook: bad timestamp", "webhook: timestamp outside tolerance" or "webhook: signature
// mismatch".
Status VerifyWebhookSignature(std::string_view secret, std::string_view timestamp_header,
                              std::string_view signature_header, std::string_view body, Time now,
                              Duration tolerance = std::chrono::minutes(5));

}  // namespace waymark
