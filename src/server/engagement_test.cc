// EngagementHandler without a network: tracked links, the pixel, unsubscribe, offers, the inbox.
#include "server/engagement.h"

#include <gtest/gtest.h>

#include <mutex>

#include "core/json.h"

namespace waymark::server {
namespace {

namespace http = boost::beast::http;
using tracking::LinkKind;
using tracking::LinkToken;

class RecordingSink : public IngestSink {
 public:
  Status Accept(std::vector<Event> events) override {
    std::lock_guard lock(mu);
    if (!fail.empty()) return Status::Io(fail);
    for (Event& e : events) accepted.push_back(std::move(e));
    return Status::Ok();
  }
  std::mutex mu;
  std::vector<Event> accepted;
  std::string fail;
};

class FakeInbox : public InboxBackend {
 public:
  Result<Value> List(std::string_view id, Time) override {
    calls.push_back("List(" + std::string(id) + ")");
    Value::List list;
    list.push_back(Value::EmptyObject());
    list.back().Set("id", "m1");
    return Value(std::move(list));
  }
  Result<Value> MarkRead(std::string_view id, std::string_view message, Time) override {
    calls.push_back("MarkRead(" + std::string(id) + "," + std::string(message) + ")");
    if (message == "gone") return Status::NotFound("no message 'gone'");
    Value v = Value::EmptyObject();
    v.Set("read", true);
    return v;
  }
  std::vector<std::string> calls;
};

Time T(std::string_view iso) { return *ParseIsoTime(iso); }

class EngagementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.keyring = std::move(tracking::Keyring::FromSpec("7:" + std::string(64, 'a'))).value();
    options_.safe_url = "https://shop.example/";
    options_.inbox_secret = "inbox-secret";
    handler_ = std::make_unique<EngagementHandler>(&options_, &sink_, &inbox_, &clock_);
  }

  std::string Sign(LinkKind kind, std::string profile = "u:ann", std::string destination = "") {
    LinkToken t;
    t.kind = kind;
    t.message_id = "0123456789abcdef";
    t.profile_id = std::move(profile);
    t.journey_id = "cart";
    t.step_id = "remind";
    t.channel = "email";
    t.destination = std::move(destination);
    t.promo_code = "CART-1A2B";
    t.expiry = T("2026-03-10T00:00:00Z");
    return *options_.keyring->Sign(t);
  }

  Response Call(http::verb method, std::string target, std::string auth = "") {
    Request req(method, target, 11);
    if (!auth.empty()) req.set(http::field::authorization, auth);
    req.prepare_payload();
    return handler_->Handle(req);
  }

  EngagementOptions options_;
  RecordingSink sink_;
  FakeInbox inbox_;
  ManualClock clock_{T("2026-03-08T10:00:00Z")};
  std::unique_ptr<EngagementHandler> handler_;
};

TEST_F(EngagementTest, ClickRedirectsWithCampaignPromoAndLandingTokenAndRecordsIt) {
  std::string token = Sign(LinkKind::kClick, "u:ann", "https://shop.example/cart?x=1#top");
  Response res = Call(http::verb::get, "/c/" + token + "?next=https://evil.example/");
  EXPECT_EQ(res.result_int(), 302);
  std::string location(res[http::field::location]);
  EXPECT_EQ(location.rfind("https://shop.example/cart?x=1&utm_source=waymark&utm_medium=email&"
                           "utm_campaign=cart&utm_content=remind&promo=CART-1A2B&wm_t=",
                           0),
            0u)
      << location;
  EXPECT_EQ(location.substr(location.size() - 4), "#top");
  EXPECT_EQ(res[http::field::cache_control], "no-store");

  ASSERT_EQ(sink_.accepted.size(), 1u);
  const Event& e = sink_.accepted[0];
  EXPECT_EQ(e.name, "Message Clicked");
  EXPECT_EQ(e.user_id, "ann");
  EXPECT_EQ(e.anonymous_id, "");
  EXPECT_EQ(e.timestamp, clock_.Now());
  EXPECT_EQ(e.properties.Find("message_id")->as_string(), "0123456789abcdef");
  EXPECT_EQ(e.properties.Find("journey")->as_string(), "cart");
  EXPECT_EQ(e.properties.Find("step")->as_string(), "remind");
  EXPECT_EQ(e.properties.Find("channel")->as_string(), "email");
  EXPECT_EQ(e.properties.Find("url")->as_string(), "https://shop.example/cart?x=1#top");

  // The landing token trades for the offer.
  std::string landing = location.substr(location.find("wm_t=") + 5);
  landing = landing.substr(0, landing.find('#'));
  Response offer = Call(http::verb::get, "/v1/offer/" + landing);
  EXPECT_EQ(offer.result_int(), 200);
  EXPECT_EQ(offer[http::field::access_control_allow_origin], "*");
  Value v = *ParseJson(offer.body());
  EXPECT_EQ(v.Find("promo_code")->as_string(), "CART-1A2B");
  EXPECT_EQ(v.Find("journey")->as_string(), "cart");
  EXPECT_EQ(v.Find("message_id")->as_string(), "0123456789abcdef");
}

TEST_F(EngagementTest, ForgedExpiredAndMisusedTokensGoToTheSafePageUnrecorded) {
  std::string token = Sign(LinkKind::kClick, "u:ann", "https://shop.example/");
  std::string forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  for (std::string bad : {forged, std::string("garbage"), Sign(LinkKind::kOpen)}) {
    Response res = Call(http::verb::get, "/c/" + bad);
    EXPECT_EQ(res.result_int(), 302) << bad;
    EXPECT_EQ(res[http::field::location], "https://shop.example/") << bad;
  }
  clock_.Set(T("2026-03-10T00:00:00Z"));  // the tokens' expiry
  EXPECT_EQ(Call(http::verb::get, "/c/" + token)[http::field::location], "https://shop.example/");
  EXPECT_TRUE(sink_.accepted.empty());

  std::string metrics;
  handler_->RenderMetrics(&metrics);
  EXPECT_NE(metrics.find("kind=\"click\",result=\"bad_signature\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("kind=\"click\",result=\"expired\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("kind=\"click\",result=\"wrong_kind\"} 1"), std::string::npos);
}

TEST_F(EngagementTest, OpenPixelIsAGifWhateverTheToken) {
  Response good = Call(http::verb::get, "/o/" + Sign(LinkKind::kOpen, "a:anon-7"));
  Response bad = Call(http::verb::get, "/o/nonsense");
  for (const Response& r : {good, bad}) {
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r[http::field::content_type], "image/gif");
    EXPECT_EQ(r.body().substr(0, 6), "GIF89a");
  }
  ASSERT_EQ(sink_.accepted.size(), 1u);
  EXPECT_EQ(sink_.accepted[0].name, "Message Opened");
  EXPECT_EQ(sink_.accepted[0].anonymous_id, "anon-7");
  EXPECT_EQ(sink_.accepted[0].user_id, "");
}

TEST_F(EngagementTest, UnsubscribeShowsAButtonOnGetAndUnsubscribesOnPost) {
  std::string token = Sign(LinkKind::kUnsubscribe);
  Response page = Call(http::verb::get, "/u/" + token);
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_NE(page.body().find("<form method=\"post\">"), std::string::npos);
  EXPECT_TRUE(sink_.accepted.empty());

  Response done = Call(http::verb::post, "/u/" + token);
  EXPECT_EQ(done.result_int(), 200);
  ASSERT_EQ(sink_.accepted.size(), 1u);
  EXPECT_EQ(sink_.accepted[0].name, "Unsubscribed");
  EXPECT_EQ(sink_.accepted[0].message_id, "unsubscribe-0123456789abcdef");
  EXPECT_EQ(sink_.accepted[0].properties.Find("channel")->as_string(), "email");

  EXPECT_EQ(Call(http::verb::post, "/u/" + Sign(LinkKind::kClick, "u:ann", "https://x.example/"))
                .result_int(),
            404);
  EXPECT_EQ(Call(http::verb::put, "/u/" + token).result_int(), 405);
  EXPECT_EQ(sink_.accepted.size(), 1u);
}

TEST_F(EngagementTest, AClickStillRedirectsWhenTheEngineRefusesTheEvent) {
  sink_.fail = "overloaded";
  Response res =
      Call(http::verb::get, "/c/" + Sign(LinkKind::kClick, "u:ann", "https://a.example/"));
  EXPECT_EQ(res.result_int(), 302);
  EXPECT_EQ(std::string(res[http::field::location]).substr(0, 18), "https://a.example/");
  std::string metrics;
  handler_->RenderMetrics(&metrics);
  EXPECT_NE(metrics.find("waymark_tracking_events_failed_total 1"), std::string::npos);
}

TEST_F(EngagementTest, InboxNeedsTheUsersTokenAndRoutesToTheBackend) {
  std::string auth = "Bearer " + InboxToken("inbox-secret", "ann@example.com");
  EXPECT_EQ(Call(http::verb::get, "/v1/inbox/ann%40example.com").result_int(), 401);
  EXPECT_EQ(Call(http::verb::get, "/v1/inbox/bob", auth).result_int(), 401);  // ann's token
  Response list = Call(http::verb::get, "/v1/inbox/ann%40example.com", auth);
  EXPECT_EQ(list.result_int(), 200);
  EXPECT_EQ(list.body(), R"({"messages":[{"id":"m1"}]})");
  EXPECT_EQ(list[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(Call(http::verb::post, "/v1/inbox/ann%40example.com/m1/read", auth).result_int(), 200);
  EXPECT_EQ(Call(http::verb::post, "/v1/inbox/ann%40example.com/gone/read", auth).result_int(),
            404);
  EXPECT_EQ(Call(http::verb::post, "/v1/inbox/ann%40example.com", auth).result_int(), 405);
  EXPECT_EQ(Call(http::verb::get, "/v1/inbox/ann%40example.com/m1", auth).result_int(), 404);
  EXPECT_EQ(inbox_.calls,
            (std::vector<std::string>{"List(ann@example.com)", "MarkRead(ann@example.com,m1)",
                                      "MarkRead(ann@example.com,gone)"}));
  // The scheme is case-insensitive, the token is not.
  EXPECT_EQ(
      Call(http::verb::get, "/v1/inbox/ann%40example.com", "bearer " + auth.substr(7)).result_int(),
      200);
  EXPECT_EQ(
      Call(http::verb::get, "/v1/inbox/ann%40example.com", "Bearer " + auth.substr(8)).result_int(),
      401);
  // A browser's preflight before it sends the Authorization header across origins.
  Response preflight = Call(http::verb::options, "/v1/inbox/ann%40example.com");
  EXPECT_EQ(preflight.result_int(), 204);
  EXPECT_EQ(preflight[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(preflight[http::field::access_control_allow_headers], "Authorization, Content-Type");
  EXPECT_EQ(Call(http::verb::options, "/c/x").result_int(), 405);
  // The token is HMAC-SHA256 in hex (what a brand's backend computes for its app).
  EXPECT_EQ(InboxToken("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST_F(EngagementTest, WithoutKeysTheLinkEndpointsAreNotFound) {
  options_.keyring.reset();
  EXPECT_EQ(Call(http::verb::get, "/c/x").result_int(), 404);
  EXPECT_EQ(Call(http::verb::get, "/v1/offer/x").result_int(), 404);
  EXPECT_TRUE(EngagementHandler::IsEngagementPath("/v1/inbox/u"));
  EXPECT_FALSE(EngagementHandler::IsEngagementPath("/v1/track"));
  EXPECT_FALSE(EngagementHandler::IsEngagementPath("/c"));
}

}  // namespace
}  // namespace waymark::server
