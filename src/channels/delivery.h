// The outcome of one delivery attempt on any channel, as the retry policy sees it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace waymark {

struct DeliveryResult {
  enum class Kind { kDelivered, kTransientFailure, kPermanentFailure };

  Kind kind = Kind::kDelivered;
  // What the other side said, for logs and the dead-letter record: the last SMTP reply line
  // ("250 2.0.0 OK"), "HTTP 503: <first bytes of the body>", or the curl error text. Never holds
  // credentials; may hold a recipient address (log it at DEBUG only).
  std::string detail;
  // How long the receiver asked us to wait (HTTP Retry-After in seconds), when it said so.
  std::optional<Duration> retry_after;

  bool delivered() const { return kind == Kind::kDelivered; }
  static DeliveryResult Delivered(std::string d) { return {Kind::kDelivered, std::move(d), {}}; }
  static DeliveryResult Transient(std::string d) {
    return {Kind::kTransientFailure, std::move(d), {}};
  }
  static DeliveryResult Permanent(std::string d) {
    return {Kind::kPermanentFailure, std::move(d), {}};
  }
};

// "delivered", "transient_failure" or "permanent_failure".
std::string_view DeliveryKindName(DeliveryResult::Kind kind);

}  // namespace waymark
