// End-to-end tests of the senders against real loopback servers that run_e2e.sh starts:
// tests/channels/smtp_sink.py (aiosmtpd) and tests/channels/webhook_sink.js (node http).
// The driver passes their addresses in the environment; without them every test skips.
//
// The SMTP tests write what they sent to $WAYMARK_E2E_DIR/expected.json, which check_mail.js then
// compares with what the server received, through the mailparser MIME parser.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "channels/retry.h"
#include "channels/smtp_sender.h"
#include "channels/webhook.h"
#include "core/json.h"
#include "core/value.h"

namespace waymark {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = DeliveryResult::Kind;

const Time kStart = FromMillis(1773392700000);  // Fri, 13 Mar 2026 09:05:00 UTC

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// ---- SMTP ----

class SmtpE2e : public testing::Test {
 protected:
  void SetUp() override {
    port_ = Env("WAYMARK_SMTP_PORT");
    dir_ = Env("WAYMARK_E2E_DIR");
    if (port_.empty() || dir_.empty()) GTEST_SKIP() << "run through tests/channels/run_e2e.sh";
  }

  std::unique_ptr<SmtpSender> NewSender() {
    auto sender = SmtpSender::Create({.host = "127.0.0.1",
                                      .port = std::stoi(port_),
                                      .tls = SmtpConfig::Tls::kNone,
                                      .helo_name = "waymark.test",
                                      .send_timeout = seconds(10)},
                                     &clock_);
    EXPECT_TRUE(sender.ok()) << sender.status().message();
    return sender.ok() ? std::move(*sender) : nullptr;
  }

  static EmailMessage Base(std::string id) {
    EmailMessage m;
    m.from = {"Waymark Shop", "news@shop.example"};
    m.to = {"Ana Lima", "ana@example.com"};
    m.message_id = std::move(id);
    m.list_unsubscribe_url = "https://shop.example/u/" + m.message_id + "?sig=a1b2";
    m.list_unsubscribe_mailto = "unsubscribe+" + m.message_id + "@shop.example";
    return m;
  }

  ManualClock clock_{kStart};
  std::string port_;
  std::string dir_;
};

std::vector<EmailMessage> ThreeMessages() {
  std::vector<EmailMessage> out;

  // 1: emoji subject long enough to need several encoded-words, non-ASCII From name.
  EmailMessage a = [] {
    EmailMessage m;
    m.from = {"Jos\xC3\xA9 da Lo\xC3\xA7\x61 \xF0\x9F\x9B\x8D\xEF\xB8\x8F", "jose@shop.example"};
    m.to = {"Ana Lima", "ana@example.com"};
    return m;
  }();
  a.message_id = "e2e-emoji";
  a.list_unsubscribe_url = "https://shop.example/u/e2e-emoji?sig=a1b2";
  a.list_unsubscribe_mailto = "unsubscribe+e2e-emoji@shop.example";
  a.subject =
      "\xF0\x9F\x9B\x92 Ana, your cart misses you \xE2\x80\x94 "
      "\xC3\xBA\x6C\x74imos dias: 10% off \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB "
      "until Sunday \xE2\x9C\xA8";
  a.text =
      "Hi Ana,\n\nYour cart still holds 2 items (\xE2\x82\xAC 59,90).\n"
      "Trailing space here \nand = signs = here.\n";
  a.html = "<p>Hi Ana,</p>\n<p>Your cart still holds <b>2 items</b> (&euro; 59,90).</p>\n";
  out.push_back(a);

  // 2: HTML with links: long query strings with '=', '&' and '%' across soft line breaks.
  EmailMessage b;
  b.from = {"Waymark Shop", "news@shop.example"};
  b.reply_to = Mailbox{"Customer Care", "care@shop.example"};
  b.to = {"Lima, Ana", "ana@example.com"};
  b.message_id = "e2e-links@mail.shop.example";
  b.list_unsubscribe_url = "https://shop.example/u/e2e-links?sig=" + std::string(90, 'f');
  b.subject = "Three things we picked for you";
  b.text = "Boots: https://shop.example/p/boots?utm_source=waymark&utm_medium=email\n";
  std::string long_link =
      "https://t.shop.example/c/e2e-links?url=https%3A%2F%2Fshop.example%2Fp%2F"
      "boots%3Fcolor%3Dblack%26size%3D42&sig=" +
      std::string(64, '9');
  b.html =
      "<html><body>\n"
      "<a href=\"" +
      long_link +
      "\">Boots</a>\n"
      "<a href=\"https://shop.example/p/scarf?a=1&amp;b=2\">Scarf</a> "
      "<a href=\"https://shop.example/p/hat#reviews\">Hat \xF0\x9F\x8E\xA9</a>\n"
      "</body></html>\n";
  out.push_back(b);

  // 3: mostly Japanese plain text (base64), lines starting with '.', a 300-character line.
  EmailMessage c;
  c.from = {"Waymark Shop", "news@shop.example"};
  c.to = {"", "ken@example.jp"};
  c.message_id = "e2e-base64";
  c.list_unsubscribe_mailto = "unsubscribe@shop.example";
  c.subject =
      "\xE3\x81\x8A\xE5\xBE\x85\xE3\x81\x9F\xE3\x81\x9B\xE3\x81\x97\xE3\x81\xBE\xE3\x81"
      "\x97\xE3\x81\x9F";
  std::string jp;
  for (int i = 0; i < 100; ++i) jp += "\xE3\x81\x82";
  c.text = jp + "\n.\n.. leading dots\n" + std::string(300, 'x') + "\n";
  out.push_back(c);
  return out;
}

Value ExpectedJson(const EmailMessage& m) {
  Value v = Value::EmptyObject();
  v.Set("message_id", m.message_id);
  v.Set("subject", m.subject);
  v.Set("from_name", m.from.name);
  v.Set("from_address", m.from.address);
  v.Set("to_address", m.to.address);
  v.Set("reply_to", m.reply_to ? Value(m.reply_to->address) : Value());
  v.Set("text", m.text);
  v.Set("html", m.html);
  v.Set("list_unsubscribe_url", m.list_unsubscribe_url);
  v.Set("list_unsubscribe_mailto", m.list_unsubscribe_mailto.value_or(""));
  return v;
}

TEST_F(SmtpE2e, DeliversThreeMessagesOverOneConnection) {
  std::unique_ptr<SmtpSender> sender = NewSender();
  ASSERT_NE(sender, nullptr);
  Value expected = Value(Value::List{});
  for (const EmailMessage& m : ThreeMessages()) {
    DeliveryResult r = sender->Send(m);
    EXPECT_EQ(r.kind, Kind::kDelivered) << r.detail;
    EXPECT_TRUE(r.detail.starts_with("250 2.0.0 OK queued as")) << r.detail;
    expected.as_list().push_back(ExpectedJson(m));
    clock_.Advance(seconds(61));
  }
  EXPECT_EQ(sender->connections_opened(), 1);
  std::ofstream(dir_ + "/expected.json") << expected.ToJson();
}

TEST_F(SmtpE2e, RejectedRecipientIsPermanent) {
  std::unique_ptr<SmtpSender> sender = NewSender();
  ASSERT_NE(sender, nullptr);
  EmailMessage m = Base("e2e-reject");
  m.to.address = "reject-me@example.com";
  m.text = "never delivered";
  DeliveryResult r = sender->Send(m);
  EXPECT_EQ(r.kind, Kind::kPermanentFailure) << r.detail;
  EXPECT_NE(r.detail.find("550 5.1.1"), std::string::npos) << r.detail;
}

TEST_F(SmtpE2e, DeferredRecipientIsTransientAndRetried) {
  std::unique_ptr<SmtpSender> sender = NewSender();
  ASSERT_NE(sender, nullptr);
  EmailMessage m = Base("e2e-later");
  m.to.address = "later-me@example.com";
  m.text = "not yet";
  DeliveryResult r = sender->Send(m);
  EXPECT_EQ(r.kind, Kind::kTransientFailure) << r.detail;
  EXPECT_NE(r.detail.find("451 4.3.2"), std::string::npos) << r.detail;
  Rng rng(1);
  EXPECT_EQ(DecideRetry(RetryPolicy{}, r, 1, rng).action, RetryDecision::Action::kRetry);

  // The same sender still delivers afterwards.
  m.to.address = "ana@example.com";
  m.message_id = "e2e-after-451";
  EXPECT_EQ(sender->Send(m).kind, Kind::kDelivered);
}

// ---- Webhooks ----

class WebhookE2e : public testing::Test {
 protected:
  void SetUp() override {
    base_url_ = Env("WAYMARK_WEBHOOK_URL");
    log_ = Env("WAYMARK_WEBHOOK_LOG");
    secret_ = Env("WAYMARK_WEBHOOK_SECRET");
    if (base_url_.empty() || log_.empty()) GTEST_SKIP() << "run through tests/channels/run_e2e.sh";
  }

  std::unique_ptr<WebhookSender> NewSender(const std::string& path, Duration timeout = seconds(5)) {
    auto sender = WebhookSender::Create({.url = base_url_ + path,
                                         .secret = secret_,
                                         .request_timeout = timeout,
                                         .headers = {{"X-Tenant", "shop"}}},
                                        &clock_);
    EXPECT_TRUE(sender.ok()) << sender.status().message();
    return sender.ok() ? std::move(*sender) : nullptr;
  }

  // The requests the receiver logged for `path`, oldest first.
  std::vector<Value> Requests(const std::string& path) {
    std::vector<Value> out;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      Result<Value> v = ParseJson(line);
      EXPECT_TRUE(v.ok()) << v.status().message();
      if (v.ok() && v->Find("path")->as_string() == path) out.push_back(std::move(*v));
    }
    return out;
  }

  // Runs the receiver-side verifier on a logged request.
  Status Verify(const Value& req, Time now) {
    const Value* h = req.Find("headers");
    return VerifyWebhookSignature(secret_, h->Find("x-waymark-timestamp")->as_string(),
                                  h->Find("x-waymark-signature")->as_string(),
                                  req.Find("body")->as_string(), now);
  }

  ManualClock clock_{kStart};
  std::string base_url_, log_, secret_;
};

TEST_F(WebhookE2e, DeliversSignedRequestWithAllHeaders) {
  auto sender = NewSender("/script/200");
  ASSERT_NE(sender, nullptr);
  std::string body =
      R"({"message_id":"wh-1","to":"+4915112345678","text":"Caf\u00e9 \ud83d\uded2"})";
  DeliveryResult r = sender->Send("wh-1", body);
  EXPECT_EQ(r.kind, Kind::kDelivered) << r.detail;
  EXPECT_EQ(r.detail, R"(HTTP 200: {"status":200})");

  std::vector<Value> reqs = Requests("/script/200");
  ASSERT_EQ(reqs.size(), 1u);
  const Value& req = reqs[0];
  const Value* h = req.Find("headers");
  EXPECT_EQ(req.Find("method")->as_string(), "POST");
  EXPECT_EQ(req.Find("body")->as_string(), body);
  EXPECT_EQ(h->Find("content-type")->as_string(), "application/json");
  EXPECT_EQ(h->Find("idempotency-key")->as_string(), "wh-1");
  EXPECT_EQ(h->Find("x-waymark-timestamp")->as_string(), "1773392700");
  EXPECT_EQ(h->Find("x-tenant")->as_string(), "shop");
  EXPECT_TRUE(req.Find("sig_ok")->as_bool());  // node's own HMAC check
  EXPECT_TRUE(Verify(req, kStart).ok());
  EXPECT_EQ(Verify(req, kStart + std::chrono::minutes(10)).message(),
            "webhook: timestamp outside tolerance");
}

TEST_F(WebhookE2e, ServerErrorThenSuccessRetriesWithSameKey) {
  auto sender = NewSender("/script/500,200");
  ASSERT_NE(sender, nullptr);
  RetryPolicy policy{5, seconds(30), seconds(600), true};
  Rng rng(7);
  std::string body = R"({"message_id":"wh-2"})";

  DeliveryResult first = sender->Send("wh-2", body);
  EXPECT_EQ(first.kind, Kind::kTransientFailure) << first.detail;
  EXPECT_EQ(first.detail, R"(HTTP 500: {"status":500})");
  RetryDecision d = DecideRetry(policy, first, 1, rng);
  ASSERT_EQ(d.action, RetryDecision::Action::kRetry);
  clock_.Advance(std::max<Duration>(d.delay, seconds(1)));

  DeliveryResult second = sender->Send("wh-2", body);
  EXPECT_EQ(second.kind, Kind::kDelivered) << second.detail;
  EXPECT_EQ(DecideRetry(policy, second, 2, rng).action, RetryDecision::Action::kDone);

  std::vector<Value> reqs = Requests("/script/500,200");
  ASSERT_EQ(reqs.size(), 2u);
  for (const Value& req : reqs) {
    EXPECT_EQ(req.Find("headers")->Find("idempotency-key")->as_string(), "wh-2");
    EXPECT_EQ(req.Find("body")->as_string(), body);
    EXPECT_TRUE(req.Find("sig_ok")->as_bool());
    EXPECT_TRUE(Verify(req, clock_.Now()).ok());
  }
  // The retry is signed afresh with the later time.
  EXPECT_NE(reqs[0].Find("headers")->Find("x-waymark-timestamp")->as_string(),
            reqs[1].Find("headers")->Find("x-waymark-timestamp")->as_string());
  // Both went over one kept-alive connection.
  EXPECT_EQ(sender->connections_opened(), 1);
  EXPECT_EQ(reqs[0].Find("client_port")->as_number(), reqs[1].Find("client_port")->as_number());
}

TEST_F(WebhookE2e, BadRequestIsPermanentAndDeadLettered) {
  auto sender = NewSender("/script/400");
  ASSERT_NE(sender, nullptr);
  DeliveryResult r = sender->Send("wh-3", "{}");
  EXPECT_EQ(r.kind, Kind::kPermanentFailure) << r.detail;
  EXPECT_EQ(r.detail, R"(HTTP 400: {"status":400})");
  Rng rng(7);
  RetryDecision d = DecideRetry(RetryPolicy{}, r, 1, rng);
  EXPECT_EQ(d.action, RetryDecision::Action::kDeadLetter);
  EXPECT_EQ(d.reason, "permanent failure");
  EXPECT_EQ(Requests("/script/400").size(), 1u);
}

TEST_F(WebhookE2e, ClassifiesEachStatus) {
  struct Case {
    int status;
    Kind kind;
  };
  for (Case c : {Case{201, Kind::kDelivered}, Case{204, Kind::kDelivered},
                 Case{408, Kind::kTransientFailure}, Case{429, Kind::kTransientFailure},
                 Case{502, Kind::kTransientFailure}, Case{503, Kind::kTransientFailure},
                 Case{301, Kind::kPermanentFailure}, Case{401, Kind::kPermanentFailure},
                 Case{404, Kind::kPermanentFailure}, Case{422, Kind::kPermanentFailure}}) {
    auto sender = NewSender("/script/" + std::to_string(c.status));
    ASSERT_NE(sender, nullptr);
    DeliveryResult r = sender->Send("wh-status-" + std::to_string(c.status), "{}");
    EXPECT_EQ(r.kind, c.kind) << c.status << ": " << r.detail;
    if (c.status == 429 || c.status == 503) {
      EXPECT_EQ(r.retry_after, seconds(7)) << c.status;
    } else {
      EXPECT_EQ(r.retry_after, std::nullopt) << c.status;
    }
  }
}

TEST_F(WebhookE2e, TimeoutIsTransient) {
  auto sender = NewSender("/sleep/3000", milliseconds(300));
  ASSERT_NE(sender, nullptr);
  DeliveryResult r = sender->Send("wh-slow", "{}");
  EXPECT_EQ(r.kind, Kind::kTransientFailure) << r.detail;
  EXPECT_TRUE(r.detail.starts_with("curl 28 ")) << r.detail;
}

TEST_F(WebhookE2e, ReusesOneConnectionAcrossSends) {
  auto sender = NewSender("/script/200,200");
  ASSERT_NE(sender, nullptr);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(sender->Send("wh-reuse-" + std::to_string(i), "{}").kind, Kind::kDelivered);
  }
  EXPECT_EQ(sender->connections_opened(), 1);
}

}  // namespace
}  // namespace waymark
