#include "tracking/redirect.h"

#include <gtest/gtest.h>

namespace waymark::tracking {
namespace {

LinkToken Click(std::string destination) {
  LinkToken t;
  t.message_id = "m1";
  t.profile_id = "p1";
  t.journey_id = "abandoned_cart";
  t.step_id = "reminder_1";
  t.channel = "email";
  t.destination = std::move(destination);
  t.promo_code = "CART10";
  return t;
}

std::string Redirect(const LinkToken& t, const RedirectOptions& options = {}) {
  Result<std::string> r = BuildRedirect(t, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : "";
}

constexpr std::string_view kParams =
    "utm_source=waymark&utm_medium=email&utm_campaign=abandoned_cart&utm_content=reminder_1"
    "&promo=CART10";

TEST(TokenRedirectTest, AppendsCampaignParametersAndPromoCode) {
  EXPECT_EQ(Redirect(Click("https://shop.example/cart")),
            "https://shop.example/cart?" + std::string(kParams));
  EXPECT_EQ(Redirect(Click("https://shop.example")),
            "https://shop.example?" + std::string(kParams));
}

TEST(TokenRedirectTest, KeepsExistingQueryAndFragment) {
  EXPECT_EQ(
      Redirect(Click("https://shop.example/p?color=red&size=38%2F39&q=a+b#reviews")),
      "https://shop.example/p?color=red&size=38%2F39&q=a+b&" + std::string(kParams) + "#reviews");
  EXPECT_EQ(Redirect(Click("https://shop.example/p?#top")),
            "https://shop.example/p?" + std::string(kParams) + "#top");
  EXPECT_EQ(Redirect(Click("https://shop.example/p?")),
            "https://shop.example/p?" + std::string(kParams));
}

TEST(TokenRedirectTest, DestinationParametersWinByDefault) {
  LinkToken t = Click("https://shop.example/p?utm_source=newsletter&promo=VIP&utm%5Fcontent=hero");
  EXPECT_EQ(Redirect(t),
            "https://shop.example/p?utm_source=newsletter&promo=VIP&utm%5Fcontent=hero"
            "&utm_medium=email&utm_campaign=abandoned_cart");
}

TEST(TokenRedirectTest, OursReplaceExistingWhenConfigured) {
  RedirectOptions options;
  options.replace_existing = true;
  LinkToken t = Click("https://shop.example/p?promo=VIP&a=1&promo=OLD#x");
  EXPECT_EQ(Redirect(t, options),
            "https://shop.example/p?promo=CART10&a=1&utm_source=waymark&utm_medium=email"
            "&utm_campaign=abandoned_cart&utm_content=reminder_1#x");
}

TEST(TokenRedirectTest, PercentEncodesValuesStrictly) {
  LinkToken t = Click("https://shop.example/");
  t.promo_code = "10% OFF+free&more=yes/ÉTÉ";
  t.journey_id = "win back #2";
  RedirectOptions options;
  options.source_param = "";
  options.medium_param = "";
  options.content_param = "";
  EXPECT_EQ(Redirect(t, options),
            "https://shop.example/?utm_campaign=win%20back%20%232"
            "&promo=10%25%20OFF%2Bfree%26more%3Dyes%2F%C3%89T%C3%89");
}

TEST(TokenRedirectTest, UsesConfiguredNamesAndSkipsEmptyValues) {
  LinkToken t = Click("https://shop.example/");
  t.channel = "";
  t.promo_code.reset();
  RedirectOptions options;
  options.source = "wm";
  options.campaign_param = "cmp";
  options.landing_token = "AbC-_1";
  EXPECT_EQ(Redirect(t, options),
            "https://shop.example/?utm_source=wm&cmp=abandoned_cart&utm_content=reminder_1"
            "&wm_t=AbC-_1");
}

TEST(TokenRedirectTest, EscapesUnicodeAndUnsafeCharactersInDestination) {
  EXPECT_EQ(Redirect(Click("https://shop.example/café/ü?q=thé bag&r=50%#über#2")),
            "https://shop.example/caf%C3%A9/%C3%BC?q=th%C3%A9%20bag&r=50%25&" +
                std::string(kParams) + "#%C3%BCber%232");
  std::string header_injection = Redirect(Click("https://shop.example/\r\nSet-Cookie: a=b"));
  EXPECT_EQ(header_injection.find_first_of("\r\n "), std::string::npos);
  EXPECT_EQ(header_injection.rfind("https://shop.example/%0D%0ASet-Cookie:%20a=b?utm_source", 0),
            0u);
}

TEST(TokenRedirectTest, RejectsNonClickTokensAndUnsafeDestinations) {
  LinkToken open = Click("https://shop.example/");
  open.kind = LinkKind::kOpen;
  EXPECT_EQ(BuildRedirect(open, {}).status().message(),
            "redirect: a open token has no destination");
  for (std::string dest : {"javascript:alert(1)", "//evil.example/", "/relative", "", "ftp://x/",
                           "https:///nohost", "data:text/html,hi", "http://[::1"}) {
    Result<std::string> r = BuildRedirect(Click(dest), {});
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << dest;
  }
}

}  // namespace
}  // namespace waymark::tracking
