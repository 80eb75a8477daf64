// When to try a failed delivery again, and when to give up.
//
// Exponential backoff with "full jitter": after failed attempt n (1-based) the next attempt waits
// a uniformly drawn delay in [0, min(max_delay, base_delay * 2^(n-1))]. Full jitter spreads the
// retries of a burst of failures (a provider outage) instead of bringing them back in waves.
// Randomness comes from a caller-seeded std::mt19937_64, whose output sequence the C++ standard
// fixes, and is mapped to a delay without std::uniform_int_distribution (implementation-defined),
// so a seed gives the same delays everywhere.
//
// How the server uses it (the outbox owns the loop, not this file):
//   attempt = 1; result = sender.Send(...);
//   decision = DecideRetry(policy, result, attempt, rng);
//   kDone       -> record the message as sent.
//   kRetry      -> store the message with attempt + 1 and due = clock.Now() + decision.delay in
//                  the outbox's timer queue; the same message id goes out again, so the
//                  Message-ID / Idempotency-Key let the receiver drop a duplicate.
//   kDeadLetter -> store it with decision.reason for an operator; never retried automatically.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "channels/delivery.h"
#include "core/status.h"
#include "core/time.h"

namespace waymark {

using Rng = std::mt19937_64;

struct RetryPolicy {
  int max_attempts = 8;  // including the first; 1 means never retry
  Duration base_delay = std::chrono::seconds(30);
  Duration max_delay = std::chrono::hours(6);
  bool jitter = true;  // full jitter; false gives the plain capped exponential delay
};

// kInvalidArgument when max_attempts < 1, base_delay <= 0 or max_delay < base_delay.
Status ValidateRetryPolicy(const RetryPolicy& policy);

// The delay before the attempt after failed attempt `attempt_number` (1-based), or nullopt when
// that was the last allowed attempt (dead-letter). Draws one number from `rng` only when it
// returns a delay and jitter is on. Requires a valid policy.
std::optional<Duration> NextAttempt(const RetryPolicy& policy, int attempt_number, Rng& rng);

struct RetryDecision {
  enum class Action { kDone, kRetry, kDeadLetter };
  Action action = Action::kDone;
  Duration delay{0};        // for kRetry: wait this long before the next attempt
  std::string_view reason;  // for kDeadLetter: "permanent failure" or "attempts exhausted"
};

// What to do after attempt `attempt_number` ended with `result`: delivered -> kDone; permanent
// failure -> kDeadLetter; transient failure -> kRetry with NextAttempt's delay, raised to the
// receiver's Retry-After (itself capped at max_delay), or kDeadLetter once attempts run out.
RetryDecision DecideRetry(const RetryPolicy& policy, const DeliveryResult& result,
                          int attempt_number, Rng& rng);

}  // namespace waymark
