#include "tracking/keyring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "tracking/base64url.h"

namespace waymark::tracking {
namespace {

const std::string kSecretA(64, 'a');
const std::string kSecretB = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";
const Time kNow = FromMillis(1'770'000'000'000);

Keyring Ring(std::string_view spec) {
  Result<Keyring> ring = Keyring::FromSpec(spec);
  EXPECT_TRUE(ring.ok()) << ring.status().message();
  return std::move(ring).value();
}

LinkToken Click() {
  LinkToken t;
  t.message_id = "m1";
  t.profile_id = "p1";
  t.journey_id = "welcome";
  t.step_id = "email_1";
  t.channel = "email";
  t.destination = "https://shop.example/new?ref=mail";
  t.promo_code = "WELCOME15";
  t.expiry = kNow + std::chrono::hours(24 * 30);
  return t;
}

std::optional<TokenError> ErrorOf(const Keyring& ring, std::string_view token) {
  Result<LinkToken> r = ring.Verify(token, kNow);
  EXPECT_FALSE(r.ok()) << "accepted " << token;
  return TokenErrorOf(r.status());
}

TEST(TokenKeyringTest, ParsesSpecs) {
  Keyring one = Ring("7:" + kSecretA);
  EXPECT_EQ(one.current_key_id(), 7);
  Keyring two = Ring(" 1:" + kSecretA + " , 2 : " + kSecretB + " ; current=2");
  EXPECT_EQ(two.current_key_id(), 2);
  EXPECT_EQ(two.key_ids(), (std::vector<uint8_t>{1, 2}));
}

// The example in docs/tracking.md; a change here is a change of the token format.
TEST(TokenKeyringTest, MatchesDocumentedExample) {
  LinkToken t;
  t.message_id = "m1";
  t.profile_id = "p7";
  t.journey_id = "cart";
  t.step_id = "s1";
  t.channel = "email";
  t.destination = "https://shop.example/c";
  t.promo_code = "SAVE10";
  t.expiry = *ParseIsoTime("2026-06-01T00:00:00Z");
  EXPECT_EQ(*Ring("1:" + kSecretA).Sign(t),
            "AQEAAYCX89AGAm0xAnA3BGNhcnQCczEFZW1haWwWaHR0cHM6Ly9zaG9wLmV4YW1wbGUvYwZTQVZFMTB5kQ5siK"
            "L5NoGZ01nTN3ll");
}

TEST(TokenKeyringTest, RejectsBadSpecsWithoutQuotingSecrets) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "keyring spec: key 1: expected ID:HEX"},
      {"1=" + kSecretA, "keyring spec: key 1: expected ID:HEX"},
      {"256:" + kSecretA, "keyring spec: key 1: key id must be a number 0..255"},
      {"x:" + kSecretA, "keyring spec: key 1: key id must be a number 0..255"},
      {"1:" + kSecretA + ",1:" + kSecretB, "keyring spec: key id 1: listed twice"},
      {"1:abc", "keyring spec: key id 1: secret is not an even number of hex digits"},
      {"1:" + std::string(64, 'g'),
       "keyring spec: key id 1: secret is not an even number of hex digits"},
      {"1:" + std::string(62, 'a'), "keyring spec: key id 1: secret must be at least 32 bytes"},
      {"1:" + kSecretA + ",2:" + kSecretB, "keyring spec: several keys need ';current=ID'"},
      {"1:" + kSecretA + ";current=2",
       "keyring spec: current= must name one of the listed key ids"},
      {"1:" + kSecretA + ";latest=1", "keyring spec: expected 'current=ID' after ';'"},
  };
  for (const auto& [spec, message] : cases) {
    Result<Keyring> r = Keyring::FromSpec(spec);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message);
    EXPECT_EQ(r.status().message().find("aaaa"), std::string::npos);
  }
}

TEST(TokenKeyringTest, SignsAndVerifiesRoundTrip) {
  Keyring ring = Ring("1:" + kSecretA);
  Result<std::string> token = ring.Sign(Click());
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(
      token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  Result<LinkToken> back = ring.Verify(*token, kNow);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, Click());
  EXPECT_EQ(*ring.Sign(Click()), *token);  // deterministic
}

TEST(TokenKeyringTest, RoundTripsUnicodePromoAndDestination) {
  Keyring ring = Ring("1:" + kSecretA);
  LinkToken t = Click();
  t.promo_code = "ÉTÉ-2026-🎁";
  t.destination = "https://bücher.example/straße?q=naïve café#über";
  Result<LinkToken> back = ring.Verify(*ring.Sign(t), kNow);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, t);
}

TEST(TokenKeyringTest, RejectsEveryTamperedByte) {
  Keyring ring = Ring("1:" + kSecretA + ",2:" + kSecretB + ";current=1");
  std::string bytes = *DecodeBase64Url(*ring.Sign(Click()));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string tampered = bytes;
      tampered[i] = static_cast<char>(tampered[i] ^ flip);
      std::string text;
      AppendBase64Url(tampered, &text);
      std::optional<TokenError> error = ErrorOf(ring, text);
      // Byte 0 is the key id: 1^1 names key 0 (absent); the others name absent keys too.
      EXPECT_EQ(error, i == 0 ? TokenError::kUnknownKey : TokenError::kBadSignature)
          << "byte " << i << " flip " << int(flip);
    }
  }
}

TEST(TokenKeyringTest, RejectsKeyIdSwappedToAnotherHeldKey) {
  Keyring ring = Ring("1:" + kSecretA + ",3:" + kSecretB + ";current=1");
  std::string bytes = *DecodeBase64Url(*ring.Sign(Click()));
  bytes[0] = 3;
  std::string text;
  AppendBase64Url(bytes, &text);
  EXPECT_EQ(ErrorOf(ring, text), TokenError::kBadSignature);
}

TEST(TokenKeyringTest, RejectsEveryChangedCharacterAndEveryTruncation) {
  Keyring ring = Ring("1:" + kSecretA);
  std::string token = *ring.Sign(Click());
  for (size_t i = 0; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_TRUE(ErrorOf(ring, changed).has_value()) << i;
    EXPECT_TRUE(ErrorOf(ring, std::string_view(token).substr(0, i)).has_value()) << i;
  }
  EXPECT_TRUE(ErrorOf(ring, token + "A").has_value());
}

TEST(TokenKeyringTest, RejectsGarbageEmptyAndHugeInputsCleanly) {
  Keyring ring = Ring("1:" + kSecretA);
  EXPECT_EQ(ErrorOf(ring, ""), TokenError::kMalformed);
  EXPECT_EQ(ErrorOf(ring, "not a token!"), TokenError::kMalformed);
  EXPECT_EQ(ErrorOf(ring, "AQ"), TokenError::kMalformed);
  EXPECT_EQ(ErrorOf(ring, std::string(10'000'000, 'A')), TokenError::kMalformed);
  EXPECT_EQ(ErrorOf(ring, std::string(kMaxTokenChars, 'A')), TokenError::kUnknownKey);
  std::string longest(1 + kMaxPayloadBytes + kTagBytes, '\0');
  longest[0] = 1;
  std::string longest_text;
  AppendBase64Url(longest, &longest_text);
  ASSERT_EQ(longest_text.size(), kMaxTokenChars);
  EXPECT_EQ(ErrorOf(ring, longest_text), TokenError::kBadSignature);
  std::string nul("\0\0\0\0", 4);
  EXPECT_EQ(ErrorOf(ring, nul), TokenError::kMalformed);

  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    EXPECT_TRUE(ErrorOf(ring, junk).has_value());
    std::string text;
    AppendBase64Url(junk, &text);
    EXPECT_TRUE(ErrorOf(ring, text).has_value());
  }
}

TEST(TokenKeyringTest, RejectsExpiredTokens) {
  Keyring ring = Ring("1:" + kSecretA);
  LinkToken t = Click();
  t.expiry = kNow;
  std::string token = *ring.Sign(t);
  EXPECT_TRUE(ring.Verify(token, kNow - Duration(1)).ok());
  Result<LinkToken> r = ring.Verify(token, kNow);
  EXPECT_EQ(TokenErrorOf(r.status()), TokenError::kExpired);
  EXPECT_EQ(r.status().message(), "expired: expired at 2026-02-02T02:40:00Z");
}

TEST(TokenKeyringTest, RotatesKeys) {
  Keyring old_ring = Ring("1:" + kSecretA);
  std::string old_token = *old_ring.Sign(Click());

  // Step 1: the new key is added and made current; old tokens still verify.
  Keyring both = Ring("1:" + kSecretA + ",2:" + kSecretB + ";current=2");
  EXPECT_TRUE(both.Verify(old_token, kNow).ok());
  std::string new_token = *both.Sign(Click());
  EXPECT_EQ(DecodeBase64Url(new_token)->at(0), 2);
  EXPECT_EQ(ErrorOf(old_ring, new_token), TokenError::kUnknownKey);

  // Step 2: once old tokens have expired, the old key is removed.
  Keyring new_ring = Ring("2:" + kSecretB);
  EXPECT_TRUE(new_ring.Verify(new_token, kNow).ok());
  EXPECT_EQ(ErrorOf(new_ring, old_token), TokenError::kUnknownKey);
}

TEST(TokenKeyringTest, RejectsTokenFromAnotherSecretUnderSameId) {
  std::string token = *Ring("1:" + kSecretA).Sign(Click());
  EXPECT_EQ(ErrorOf(Ring("1:" + kSecretB), token), TokenError::kBadSignature);
}

TEST(TokenKeyringTest, SignRejectsUnsafeOrOversizedTokens) {
  Keyring ring = Ring("1:" + kSecretA);
  LinkToken t = Click();
  for (std::string dest : {"javascript:alert(1)", "//evil.example/", "", "mailto:a@b.example"}) {
    t.destination = dest;
    EXPECT_EQ(ring.Sign(t).status().code(), Status::Code::kInvalidArgument) << dest;
  }
  t.destination = "https://shop.example/" + std::string(kMaxPayloadBytes, 'x');
  EXPECT_EQ(ring.Sign(t).status().code(), Status::Code::kInvalidArgument);

  // The largest payload that signs also verifies: kMaxTokenChars is consistent with Sign.
  t.destination = "https://shop.example/";
  size_t base = EncodePayload(t)->size();
  t.destination += std::string(kMaxPayloadBytes - base - 1, 'x');  // one more length byte
  ASSERT_EQ(EncodePayload(t)->size(), kMaxPayloadBytes);
  std::string token = *ring.Sign(t);
  EXPECT_EQ(token.size(), kMaxTokenChars);
  EXPECT_TRUE(ring.Verify(token, kNow).ok());

  LinkToken open = Click();
  open.kind = LinkKind::kOpen;
  open.destination.clear();
  EXPECT_TRUE(ring.Sign(open).ok());
}

TEST(TokenKeyringTest, ClassifiesOnlyVerifyStatuses) {
  EXPECT_EQ(TokenErrorOf(Status::Ok()), std::nullopt);
  EXPECT_EQ(TokenErrorOf(Status::Invalid("expired")), std::nullopt);
  EXPECT_EQ(TokenErrorOf(Status::Internal("verify: HMAC failed")), std::nullopt);
  EXPECT_EQ(TokenErrorName(TokenError::kBadSignature), "bad_signature");
}

TEST(TokenKeyringTest, SignsAndVerifiesFromManyThreads) {
  Keyring ring = Ring("1:" + kSecretA + ",2:" + kSecretB + ";current=2");
  std::string expected = *ring.Sign(Click());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 500; ++j) {
        Result<std::string> token = ring.Sign(Click());
        if (!token.ok() || *token != expected || !ring.Verify(*token, kNow).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace waymark::tracking
