#include "channels/retry.h"

#include <algorithm>

namespace waymark {

std::string_view DeliveryKindName(DeliveryResult::Kind kind) {
  switch (kind) {
    case DeliveryResult::Kind::kDelivered:
      return "delivered";
    case DeliveryResult::Kind::kTransientFailure:
      return "transient_failure";
    case DeliveryResult::Kind::kPermanentFailure:
      return "permanent_failure";
  }
  return "unknown";
}

Status ValidateRetryPolicy(const RetryPolicy& p) {
  if (p.max_attempts < 1) return Status::Invalid("retry: max_attempts must be at least 1");
  if (p.base_delay <= Duration::zero()) return Status::Invalid("retry: base_delay must be > 0");
  if (p.max_delay < p.base_delay) return Status::Invalid("retry: max_delay < base_delay");
  return Status::Ok();
}

std::optional<Duration> NextAttempt(const RetryPolicy& policy, int attempt_number, Rng& rng) {
  if (attempt_number >= policy.max_attempts) return std::nullopt;

  // base * 2^(n-1), saturating at max_delay before it can overflow.
  int64_t ceiling = policy.base_delay.count();
  const int64_t cap = policy.max_delay.count();
  for (int i = 1; i < attempt_number && ceiling < cap; ++i)
    ceiling = ceiling > cap / 2 ? cap : 2 * ceiling;
  ceiling = std::min(ceiling, cap);
  if (!policy.jitter) return Duration(ceiling);

  // Modulo bias is below 2^-40 for any ceiling under a year of milliseconds.
  uint64_t draw = rng() % (uint64_t(ceiling) + 1);
  return Duration(int64_t(draw));
}

RetryDecision DecideRetry(const RetryPolicy& policy, const DeliveryResult& result,
                          int attempt_number, Rng& rng) {
  using Action = RetryDecision::Action;
  switch (result.kind) {
    case DeliveryResult::Kind::kDelivered:
      return {Action::kDone, Duration(0), {}};
    case DeliveryResult::Kind::kPermanentFailure:
      return {Action::kDeadLetter, Duration(0), "permanent failure"};
    case DeliveryResult::Kind::kTransientFailure:
      break;
  }
  std::optional<Duration> delay = NextAttempt(policy, attempt_number, rng);
  if (!delay) return {Action::kDeadLetter, Duration(0), "attempts exhausted"};
  if (result.retry_after)
    *delay = std::max(*delay, std::min(*result.retry_after, policy.max_delay));
  return {Action::kRetry, *delay, {}};
}

}  // namespace waymark
