#include "channels/webhook.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channels/smtp_sender.h"

namespace waymark {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kTs = 1773392700;
const Time kNow = FromMillis(kTs * 1000 + 400);

// A loopback port nothing listens on: bound, read back, then closed.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(WebhookSignatureTest, MatchesHmacSha256OfTimestampDotBody) {
  // Python: hmac.new(b"whsec_test", b'1773392700.{"a":1}', hashlib.sha256).hexdigest()
  EXPECT_EQ(SignWebhook("whsec_test", kTs, R"({"a":1})"),
            "v1=66bdbc4915b355949f058c6bd4deb503dc9b75128440ba099e02b95340dad717");
}

TEST(WebhookSignatureTest, VerifiesAGoodRequest) {
  std::string body = R"({"message_id":"m1"})";
  std::string sig = SignWebhook("s3cret", kTs, body);
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1773392700", sig, body, kNow).ok());
  // A rotation lists old and new signatures; either may match.
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1773392700", "v1=00, " + sig, body, kNow).ok());
}

TEST(WebhookSignatureTest, RejectsTamperingWrongSecretAndReplays) {
  std::string body = R"({"message_id":"m1"})";
  std::string sig = SignWebhook("s3cret", kTs, body);
  auto message = [&](std::string_view secret, std::string_view ts, std::string_view s,
                     std::string_view b,
                     Time now) { return VerifyWebhookSignature(secret, ts, s, b, now).message(); };
  EXPECT_EQ(message("s3cret", "1773392700", sig, R"({"message_id":"m2"})", kNow),
            "webhook: signature mismatch");
  EXPECT_EQ(message("other", "1773392700", sig, body, kNow), "webhook: signature mismatch");
  EXPECT_EQ(message("s3cret", "1773392701", sig, body, kNow), "webhook: signature mismatch");
  EXPECT_EQ(message("s3cret", "1773392700", "", body, kNow), "webhook: signature mismatch");
  EXPECT_EQ(message("s3cret", "1773392700", sig.substr(0, 20), body, kNow),
            "webhook: signature mismatch");
  EXPECT_EQ(message("s3cret", "17733927x0", sig, body, kNow), "webhook: bad timestamp");
  EXPECT_EQ(message("s3cret", "", sig, body, kNow), "webhook: bad timestamp");
  EXPECT_EQ(message("s3cret", "1773392700", sig, body, kNow + minutes(6)),
            "webhook: timestamp outside tolerance");
  EXPECT_EQ(message("s3cret", "1773392700", sig, body, kNow - minutes(6)),
            "webhook: timestamp outside tolerance");
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1773392700", sig, body, kNow + minutes(4)).ok());
}

TEST(WebhookSenderTest, RejectsBadConfig) {
  ManualClock clock;
  auto error = [&](WebhookConfig c) {
    auto r = WebhookSender::Create(std::move(c), &clock);
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(error({.url = "ftp://x", .secret = "s"}),
            "webhook: url must start with http:// or https://: 'ftp://x'");
  EXPECT_EQ(error({.url = "http://x"}), "webhook: secret is empty");
  EXPECT_EQ(error({.url = "http://x", .secret = "s", .headers = {{"Idempotency-Key", "1"}}}),
            "webhook: header 'Idempotency-Key' is reserved");
  EXPECT_EQ(error({.url = "http://x", .secret = "s", .headers = {{"X-A", "a\r\nb: c"}}}),
            "webhook: bad header 'X-A'");
}

TEST(WebhookSenderTest, ClosedPortIsTransient) {
  ManualClock clock(FromMillis(kTs * 1000));
  auto sender = WebhookSender::Create(
      {.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/hook", .secret = "s"}, &clock);
  ASSERT_TRUE(sender.ok()) << sender.status().message();
  DeliveryResult r = (*sender)->Send("m1", "{}");
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kTransientFailure) << r.detail;
  EXPECT_NE(r.detail.find("curl 7 "), std::string::npos) << r.detail;
}

TEST(WebhookSenderTest, BadMessageIdIsPermanent) {
  ManualClock clock;
  auto sender = WebhookSender::Create({.url = "http://127.0.0.1:9/", .secret = "s"}, &clock);
  ASSERT_TRUE(sender.ok());
  EXPECT_EQ((*sender)->Send("a\r\nb", "{}").kind, DeliveryResult::Kind::kPermanentFailure);
  EXPECT_EQ((*sender)->Send("", "{}").kind, DeliveryResult::Kind::kPermanentFailure);
}

TEST(SmtpSenderTest, ClosedPortIsTransient) {
  ManualClock clock(FromMillis(kTs * 1000));
  auto sender = SmtpSender::Create(
      {.host = "127.0.0.1", .port = ClosedPort(), .tls = SmtpConfig::Tls::kNone}, &clock);
  ASSERT_TRUE(sender.ok()) << sender.status().message();
  EmailMessage m{.from = {"", "a@shop.example"},
                 .to = {"", "b@example.com"},
                 .text = "hi",
                 .message_id = "m1"};
  DeliveryResult r = (*sender)->Send(m);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kTransientFailure) << r.detail;
  EXPECT_NE(r.detail.find("curl 7 "), std::string::npos) << r.detail;
}

TEST(SmtpSenderTest, UnrenderableMessageIsPermanentWithoutConnecting) {
  ManualClock clock;
  auto sender = SmtpSender::Create({.host = "127.0.0.1", .port = 9}, &clock);
  ASSERT_TRUE(sender.ok());
  EmailMessage m{.from = {"", "a@shop.example"},
                 .to = {"", "not an address"},
                 .text = "hi",
                 .message_id = "m1"};
  DeliveryResult r = (*sender)->Send(m);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kPermanentFailure);
  EXPECT_EQ(r.detail, "message not sent: To: bad address 'not an address'");
  EXPECT_EQ((*sender)->connections_opened(), 0);
}

TEST(SmtpSenderTest, RejectsBadConfig) {
  ManualClock clock;
  EXPECT_EQ(SmtpSender::Create({.host = ""}, &clock).status().message(), "smtp: host is empty");
  EXPECT_EQ(SmtpSender::Create({.host = "h", .port = 70000}, &clock).status().message(),
            "smtp: port 70000 out of range");
}

}  // namespace
}  // namespace waymark
