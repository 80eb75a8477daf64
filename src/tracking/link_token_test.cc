#include "tracking/link_token.h"

#include <gtest/gtest.h>

#include "tracking/base64url.h"

namespace waymark::tracking {
namespace {

LinkToken Sample() {
  LinkToken t;
  t.kind = LinkKind::kClick;
  t.message_id = "msg-0001";
  t.profile_id = "user-42";
  t.journey_id = "abandoned_cart";
  t.step_id = "send_reminder";
  t.channel = "email";
  t.destination = "https://shop.example/cart?item=9";
  t.promo_code = "SAVE10";
  t.expiry = FromMillis(1'780'000'000'000);
  return t;
}

TEST(TokenPayloadTest, RoundTripsEveryField) {
  for (LinkKind kind :
       {LinkKind::kClick, LinkKind::kOpen, LinkKind::kLanding, LinkKind::kUnsubscribe}) {
    LinkToken t = Sample();
    t.kind = kind;
    Result<std::string> bytes = EncodePayload(t);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    EXPECT_EQ((*bytes)[0], char(kPayloadVersion));
    Result<LinkToken> back = DecodePayload(*bytes);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, t);
  }
}

TEST(TokenPayloadTest, DistinguishesMissingAndEmptyPromoCode) {
  LinkToken t = Sample();
  t.promo_code.reset();
  EXPECT_FALSE(DecodePayload(*EncodePayload(t))->promo_code.has_value());
  t.promo_code = "";
  EXPECT_EQ(DecodePayload(*EncodePayload(t))->promo_code, std::optional<std::string>(""));
}

TEST(TokenPayloadTest, StoresExpiryInWholeSecondsRoundedDown) {
  LinkToken t = Sample();
  t.expiry = FromMillis(1'780'000'000'999);
  EXPECT_EQ(ToMillis(DecodePayload(*EncodePayload(t))->expiry), 1'780'000'000'000);
}

TEST(TokenPayloadTest, RejectsExpiryBeforeEpochAndOversizedPayload) {
  LinkToken t = Sample();
  t.expiry = FromMillis(-1000);
  EXPECT_EQ(EncodePayload(t).status().code(), Status::Code::kInvalidArgument);
  t = Sample();
  t.destination = "https://shop.example/" + std::string(kMaxPayloadBytes, 'a');
  Result<std::string> r = EncodePayload(t);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds the limit"), std::string::npos);
}

TEST(TokenPayloadTest, RejectsEveryTruncationAndTrailingBytes) {
  std::string bytes = *EncodePayload(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<LinkToken> r = DecodePayload(std::string_view(bytes).substr(0, n));
    EXPECT_EQ(r.status().code(), Status::Code::kParseError) << "prefix " << n;
  }
  Result<LinkToken> r = DecodePayload(bytes + '\0');
  EXPECT_EQ(r.status().message(),
            "payload: trailing bytes at byte " + std::to_string(bytes.size()));
}

TEST(TokenPayloadTest, RejectsUnknownVersionKindAndFlags) {
  std::string bytes = *EncodePayload(Sample());
  std::string v = bytes;
  v[0] = 2;
  EXPECT_EQ(DecodePayload(v).status().message(), "payload: unknown version 2");
  std::string k = bytes;
  k[1] = 4;
  EXPECT_EQ(DecodePayload(k).status().message(), "payload: truncated or invalid kind at byte 2");
  std::string f = bytes;
  f[2] = 0x03;
  EXPECT_EQ(DecodePayload(f).status().message(), "payload: truncated or invalid flags at byte 3");
}

TEST(TokenPayloadTest, RejectsOverlongVarintAndHugeLengths) {
  std::string header = {char(kPayloadVersion), 0, 0};
  std::string eleven(10, char(0xff));
  eleven += '\x01';
  EXPECT_FALSE(DecodePayload(header + eleven).ok());
  std::string minimal = *EncodePayload(LinkToken{});
  std::string padded = minimal;
  padded.replace(3, 1, "\x80\x00");  // expiry 0 written in two bytes
  EXPECT_TRUE(DecodePayload(minimal).ok());
  EXPECT_EQ(DecodePayload(padded).status().message(),
            "payload: truncated or invalid expiry at byte 5");
  // Expiry 1 second, then a message id claiming 2^63 bytes.
  std::string huge = header + '\x01' + std::string(8, char(0xff)) + '\x7f' + "abc";
  EXPECT_EQ(DecodePayload(huge).status().message(),
            "payload: truncated or invalid message id at byte 13");
}

TEST(TokenPayloadTest, LandingTokenDropsDestinationKeepsIds) {
  LinkToken landing = LandingTokenFor(Sample(), FromMillis(1'790'000'000'000));
  EXPECT_EQ(landing.kind, LinkKind::kLanding);
  EXPECT_EQ(landing.destination, "");
  EXPECT_EQ(landing.message_id, "msg-0001");
  EXPECT_EQ(landing.promo_code, std::optional<std::string>("SAVE10"));
  EXPECT_EQ(ToMillis(landing.expiry), 1'790'000'000'000);
}

TEST(TokenBase64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [raw, text] : cases) {
    std::string out;
    AppendBase64Url(raw, &out);
    EXPECT_EQ(out, text);
    EXPECT_EQ(DecodeBase64Url(text), std::optional<std::string>(raw));
  }
}

TEST(TokenBase64UrlTest, RejectsPaddingForeignAlphabetAndNonCanonicalText) {
  for (std::string_view bad : {"Zg==", "Zm9v+A", "Zm9v/A", "Z", "Zm9vY", "Zh", "Zm9", "Zm 9v"}) {
    EXPECT_FALSE(DecodeBase64Url(bad).has_value()) << bad;
  }
  EXPECT_TRUE(DecodeBase64Url("Zm8").has_value());
}

}  // namespace
}  // namespace waymark::tracking
