#include "channels/retry.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Action = RetryDecision::Action;

RetryPolicy NoJitter() { return RetryPolicy{5, seconds(30), seconds(300), false}; }

TEST(RetryPolicyTest, ValidatesFields) {
  EXPECT_TRUE(ValidateRetryPolicy(RetryPolicy{}).ok());
  EXPECT_EQ(ValidateRetryPolicy({0, seconds(1), seconds(2), true}).message(),
            "retry: max_attempts must be at least 1");
  EXPECT_EQ(ValidateRetryPolicy({3, seconds(0), seconds(2), true}).message(),
            "retry: base_delay must be > 0");
  EXPECT_EQ(ValidateRetryPolicy({3, seconds(5), seconds(2), true}).message(),
            "retry: max_delay < base_delay");
}

TEST(RetryPolicyTest, DoublesUpToTheCapWithoutJitter) {
  Rng rng(1);
  RetryPolicy p = NoJitter();
  EXPECT_EQ(NextAttempt(p, 1, rng), seconds(30));
  EXPECT_EQ(NextAttempt(p, 2, rng), seconds(60));
  EXPECT_EQ(NextAttempt(p, 3, rng), seconds(120));
  EXPECT_EQ(NextAttempt(p, 4, rng), seconds(240));
  EXPECT_EQ(NextAttempt(p, 5, rng), std::nullopt);  // the 5th attempt was the last
  p.max_attempts = 100;
  EXPECT_EQ(NextAttempt(p, 5, rng), seconds(300));
  EXPECT_EQ(NextAttempt(p, 99, rng), seconds(300));  // no overflow at large exponents
}

TEST(RetryPolicyTest, SingleAttemptNeverRetries) {
  Rng rng(1);
  EXPECT_EQ(NextAttempt({1, seconds(1), seconds(1), true}, 1, rng), std::nullopt);
}

TEST(RetryPolicyTest, FullJitterStaysWithinTheCeilingAndSpreads) {
  RetryPolicy p{100, seconds(1), hours(1), true};
  Rng rng(42);
  for (int attempt = 1; attempt < 20; ++attempt) {
    milliseconds ceiling =
        std::min<milliseconds>(seconds(1) * (int64_t(1) << (attempt - 1)), hours(1));
    milliseconds lo = ceiling, hi{0};
    for (int i = 0; i < 200; ++i) {
      milliseconds d = *NextAttempt(p, attempt, rng);
      ASSERT_GE(d, milliseconds(0));
      ASSERT_LE(d, ceiling);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    EXPECT_LT(lo, ceiling / 4) << attempt;      // full jitter reaches near zero...
    EXPECT_GT(hi, ceiling * 3 / 4) << attempt;  // ...and near the ceiling
  }
}

TEST(RetryPolicyTest, SameSeedSameDelays) {
  RetryPolicy p{10, seconds(30), hours(6), true};
  Rng a(2026), b(2026);
  std::vector<milliseconds> first, second;
  for (int n = 1; n < 10; ++n) {
    first.push_back(*NextAttempt(p, n, a));
    second.push_back(*NextAttempt(p, n, b));
  }
  EXPECT_EQ(first, second);
  // mt19937_64's sequence is fixed by the standard, so this holds on every platform.
  Rng c(2026);
  EXPECT_EQ(*NextAttempt(p, 1, c), milliseconds(Rng(2026)() % 30001));
}

TEST(DecideRetryTest, ClassifiesOutcomes) {
  Rng rng(3);
  RetryPolicy p = NoJitter();
  RetryDecision d = DecideRetry(p, DeliveryResult::Delivered("250 ok"), 1, rng);
  EXPECT_EQ(d.action, Action::kDone);

  d = DecideRetry(p, DeliveryResult::Permanent("550 no such user"), 1, rng);
  EXPECT_EQ(d.action, Action::kDeadLetter);
  EXPECT_EQ(d.reason, "permanent failure");

  d = DecideRetry(p, DeliveryResult::Transient("451 later"), 2, rng);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, seconds(60));

  d = DecideRetry(p, DeliveryResult::Transient("451 later"), 5, rng);
  EXPECT_EQ(d.action, Action::kDeadLetter);
  EXPECT_EQ(d.reason, "attempts exhausted");
}

TEST(DecideRetryTest, HonoursRetryAfterUpToMaxDelay) {
  Rng rng(3);
  RetryPolicy p = NoJitter();
  DeliveryResult r = DeliveryResult::Transient("HTTP 429");
  r.retry_after = seconds(90);
  EXPECT_EQ(DecideRetry(p, r, 1, rng).delay, seconds(90));  // above the 30 s backoff
  r.retry_after = seconds(5);
  EXPECT_EQ(DecideRetry(p, r, 1, rng).delay, seconds(30));  // below it: backoff wins
  r.retry_after = hours(48);
  EXPECT_EQ(DecideRetry(p, r, 1, rng).delay, seconds(300));  // capped
}

TEST(DeliveryKindNameTest, NamesEveryKind) {
  EXPECT_EQ(DeliveryKindName(DeliveryResult::Kind::kDelivered), "delivered");
  EXPECT_EQ(DeliveryKindName(DeliveryResult::Kind::kTransientFailure), "transient_failure");
  EXPECT_EQ(DeliveryKindName(DeliveryResult::Kind::kPermanentFailure), "permanent_failure");
}

}  // namespace
}  // namespace waymark
