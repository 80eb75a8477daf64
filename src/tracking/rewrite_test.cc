#include "tracking/rewrite.h"

#include <gtest/gtest.h>

namespace waymark::tracking {
namespace {

const Time kNow = FromMillis(1'770'000'000'000);
const Time kExpiry = kNow + std::chrono::hours(24 * 90);

Keyring Ring() { return std::move(Keyring::FromSpec("1:" + std::string(64, 'c'))).value(); }

LinkContext Context() {
  LinkContext c;
  c.base_url = "https://t.example.com";
  c.message_id = "msg-77";
  c.profile_id = "user-9";
  c.journey_id = "abandoned_cart";
  c.step_id = "reminder_1";
  c.channel = "email";
  c.promo_code = "CART10";
  return c;
}

// Replaces the first occurrence of `from` in `*s`; fails the test when there is none.
void ReplaceOnce(std::string* s, std::string_view from, std::string_view to) {
  size_t at = s->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s->replace(at, from.size(), to);
}

constexpr std::string_view kEmail = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Your cart</title>
<link rel="stylesheet" href="https://fonts.example/css">
<style>a[href^="http"] { color: #c00 } /* <a href="https://in-style.example/"> */</style>
</head>
<BODY style="margin:0">
<!--[if mso]><v:roundrect href="https://outlook.example/"><![endif]-->
<p>Hi Ana, you left <a href="https://shop.example/cart?id=12&amp;src=mail&#38;x=1"
class="btn">your cart</a>.</p>
<p><A HREF='HTTPS://shop.example/p/boots?size=38&amp;color=brun%C3%A9' target=_blank>Boots</A>
<a href=https://shop.example/sale>Sale</a>
<a class="x"
   href = " https://shop.example/help#faq " >Help</a></p>
<area shape="rect" coords="0,0,10,10" href="http://shop.example/map">
<p><a href="mailto:care@shop.example">Mail us</a> <a href="tel:+15551234">Call</a>
<a href="#top">Top</a> <a href="/relative">Relative</a> <a name="anchor">no href</a>
<a href="https://shop.example/unsubscribe" data-waymark-notrack>Unsubscribe</a>
<a data-title="a > b" href="https://shop.example/gt">gt</a></p>
<script>var s = "<a href='https://in-script.example/'>";</script>
</body></html>
)";

TEST(TokenRewriteTest, RewritesRealisticHtmlEmail) {
  Keyring ring = Ring();
  std::string out;
  std::vector<RewrittenLink> links;
  ASSERT_TRUE(RewriteLinks(kEmail, true, Context(), ring, kExpiry, &out, &links).ok());

  std::vector<std::string> destinations;
  for (const RewrittenLink& l : links) destinations.push_back(l.destination);
  EXPECT_EQ(destinations, (std::vector<std::string>{
                              "https://shop.example/cart?id=12&src=mail&x=1",
                              "HTTPS://shop.example/p/boots?size=38&color=brun%C3%A9",
                              "https://shop.example/sale",
                              "https://shop.example/help#faq",
                              "http://shop.example/map",
                              "https://shop.example/gt",
                              "",
                          }));
  ASSERT_EQ(links.size(), 7u);

  // Every token verifies and carries its destination and the message's context.
  for (const RewrittenLink& l : links) {
    Result<LinkToken> t = ring.Verify(l.token, kNow);
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->destination, l.destination);
    EXPECT_EQ(t->kind, l.kind);
    EXPECT_EQ(t->journey_id, "abandoned_cart");
    EXPECT_EQ(t->promo_code.has_value(), l.kind == LinkKind::kClick);
    EXPECT_EQ(l.tracked_url, std::string("https://t.example.com/") +
                                 (l.kind == LinkKind::kOpen ? "o/" : "c/") + l.token);
  }
  EXPECT_EQ(links.back().kind, LinkKind::kOpen);

  // Everything but the rewritten hrefs and the pixel is copied byte for byte.
  std::string expected(kEmail);
  ReplaceOnce(&expected, "https://shop.example/cart?id=12&amp;src=mail&#38;x=1",
              links[0].tracked_url);
  ReplaceOnce(&expected, "HTTPS://shop.example/p/boots?size=38&amp;color=brun%C3%A9",
              links[1].tracked_url);
  ReplaceOnce(&expected, "href=https://shop.example/sale>",
              "href=\"" + links[2].tracked_url + "\">");
  ReplaceOnce(&expected, "\" https://shop.example/help#faq \"", "\"" + links[3].tracked_url + "\"");
  ReplaceOnce(&expected, "http://shop.example/map", links[4].tracked_url);
  ReplaceOnce(&expected, "https://shop.example/gt", links[5].tracked_url);
  ReplaceOnce(&expected, "</body>",
              "<img src=\"" + links[6].tracked_url +
                  "\" width=\"1\" height=\"1\" alt=\"\" "
                  "style=\"display:block;border:0;width:1px;height:1px\"></body>");
  EXPECT_EQ(out, expected);
}

TEST(TokenRewriteTest, DecodesNumericAndNamedReferencesInHref) {
  std::string out;
  std::vector<RewrittenLink> links;
  LinkContext c = Context();
  c.open_pixel = false;
  std::string_view html =
      R"(<a href="https://x.example/?a=1&#x26;b=2&AMP;c=&quot;3&quot;&unknown;d=&#0;&amp">x</a>)";
  ASSERT_TRUE(RewriteLinks(html, true, c, Ring(), kExpiry, &out, &links).ok());
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].destination, "https://x.example/?a=1&b=2&c=\"3\"&unknown;d=\xEF\xBF\xBD&amp");
  EXPECT_EQ(out, "<a href=\"" + links[0].tracked_url + "\">x</a>");
}

TEST(TokenRewriteTest, AppendsPixelWithoutBodyAndOmitsItWhenDisabled) {
  std::string out;
  std::vector<RewrittenLink> links;
  ASSERT_TRUE(RewriteLinks("<p>Hello</p>", true, Context(), Ring(), kExpiry, &out, &links).ok());
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(out.rfind("<p>Hello</p><img src=\"https://t.example.com/o/", 0), 0u);

  LinkContext c = Context();
  c.open_pixel = false;
  c.base_url = "https://t.example.com/";
  ASSERT_TRUE(RewriteLinks("<p>Hello</p>", true, c, Ring(), kExpiry, &out, nullptr).ok());
  EXPECT_EQ(out, "<p>Hello</p>");
}

TEST(TokenRewriteTest, LeavesBrokenMarkupAlone) {
  LinkContext c = Context();
  c.open_pixel = false;
  std::string out;
  for (std::string_view html :
       {"<a href=\"https://x.example/", "a < b and c <3 <", "<a href=", "<!-- <a href=\"https://x",
        "<", "<a href=\"https://\">empty host</a>", "<style><a href=\"https://x.example\">"}) {
    ASSERT_TRUE(RewriteLinks(html, true, c, Ring(), kExpiry, &out, nullptr).ok());
    EXPECT_EQ(out, html);
  }
}

TEST(TokenRewriteTest, RewritesBareUrlsInText) {
  std::string_view text =
      "Hi! Your cart: https://shop.example/cart?id=1&src=sms. Sale (see "
      "https://shop.example/wiki/Boots_(winter)) or\nHTTP://shop.example/é?q=1, "
      "\"https://shop.example/q\" xhttps://no.example https:// mailto:a@b.example";
  std::string out;
  std::vector<RewrittenLink> links;
  ASSERT_TRUE(RewriteLinks(text, false, Context(), Ring(), kExpiry, &out, &links).ok());
  ASSERT_EQ(links.size(), 4u);
  EXPECT_EQ(links[0].destination, "https://shop.example/cart?id=1&src=sms");
  EXPECT_EQ(links[1].destination, "https://shop.example/wiki/Boots_(winter)");
  EXPECT_EQ(links[2].destination, "HTTP://shop.example/é?q=1");
  EXPECT_EQ(links[3].destination, "https://shop.example/q");
  EXPECT_EQ(out, "Hi! Your cart: " + links[0].tracked_url + ". Sale (see " + links[1].tracked_url +
                     ") or\n" + links[2].tracked_url + ", \"" + links[3].tracked_url +
                     "\" xhttps://no.example https:// mailto:a@b.example");
}

TEST(TokenRewriteTest, LeavesLinksWithAnUntrackedPrefixAlone) {
  LinkContext c = Context();
  c.untracked_prefixes = {"https://t.example.com/u/"};
  c.open_pixel = false;
  std::string html = R"(<a href="https://shop.example/x">Shop</a> )"
                     R"(<a href="https://t.example.com/u/tok">Unsubscribe</a>)";
  std::string out;
  std::vector<RewrittenLink> links;
  ASSERT_TRUE(RewriteLinks(html, true, c, Ring(), kExpiry, &out, &links).ok());
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].destination, "https://shop.example/x");
  EXPECT_NE(out.find(R"(<a href="https://t.example.com/u/tok">Unsubscribe</a>)"), std::string::npos)
      << out;

  std::string text = "Stop: https://t.example.com/u/tok. Shop: https://shop.example/x";
  links.clear();
  ASSERT_TRUE(RewriteLinks(text, false, c, Ring(), kExpiry, &out, &links).ok());
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(out, "Stop: https://t.example.com/u/tok. Shop: " + links[0].tracked_url);
}

TEST(TokenRewriteTest, ReportsSigningFailure) {
  std::string html = "<a href=\"https://x.example/" + std::string(kMaxPayloadBytes, 'a') + "\">";
  std::string out;
  Status st = RewriteLinks(html, true, Context(), Ring(), kExpiry, &out, nullptr);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace waymark::tracking
