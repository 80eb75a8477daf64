// Tracking hot paths: signing and verifying link tokens, rewriting a 2 KB email with five links
// (plus its open pixel), and building a redirect.
#include <benchmark/benchmark.h>

#include <string>

#include "tracking/keyring.h"
#include "tracking/redirect.h"
#include "tracking/rewrite.h"

namespace waymark::tracking {
namespace {

const Time kNow = FromMillis(1'770'000'000'000);

Keyring Ring() {
  return std::move(Keyring::FromSpec("1:" + std::string(64, 'a') + ",2:" + std::string(64, 'b') +
                                     ";current=2"))
      .value();
}

LinkToken Click() {
  LinkToken t;
  t.message_id = "msg-5f3a9c2e11d04b7a";
  t.profile_id = "user-8812734";
  t.journey_id = "abandoned_cart";
  t.step_id = "reminder_1";
  t.channel = "email";
  t.destination = "https://shop.example.com/cart?id=88127&src=email";
  t.promo_code = "CART10-X7Q2";
  t.expiry = kNow + std::chrono::hours(24 * 90);
  return t;
}

// About 2 KB of a typical cart reminder: five tracked links, a mailto and an anchor.
std::string Email() {
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Your cart</title>"
      "<style>body{margin:0;font-family:Helvetica,Arial,sans-serif}.btn{background:#c00;"
      "color:#fff;padding:12px 24px;border-radius:4px;text-decoration:none}</style></head>"
      "<body><table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\">"
      "<a href=\"https://shop.example.com/?utm_x=1\"><img src=\"https://cdn.example.com/logo.png\""
      " alt=\"Shop\" width=\"120\"></a></td></tr>"
      "<tr><td><h1>You left something behind</h1><p>Hi Ana, the items in your cart are waiting."
      " We saved them for you, and with the code below they are 10% cheaper today.</p>";
  for (int i = 0; i < 3; ++i) {
    html += "<p><a href=\"https://shop.example.com/p/item-" + std::to_string(i) +
            "?size=38&amp;color=brown\">Leather boots, size 38</a> &middot; 1 &times; 89.00 "
            "EUR<br><span style=\"color:#666\">Ships in 2 days from our warehouse.</span></p>";
  }
  html +=
      "<p><a class=\"btn\" href=\"https://shop.example.com/cart?id=88127&amp;step=checkout\">"
      "Complete your order</a></p><p>Questions? <a href=\"mailto:care@shop.example.com\">Write "
      "to us</a> or see <a href=\"#faq\">the FAQ</a>.</p>";
  while (html.size() < 1950) {
    html +=
        "<p style=\"color:#999;font-size:11px\">Shop Example GmbH, Musterstrasse 1, Berlin.</p>";
  }
  html += "</td></tr></table></body></html>";
  return html;
}

void BM_Sign(benchmark::State& state) {
  Keyring ring = Ring();
  LinkToken token = Click();
  for (auto _ : state) benchmark::DoNotOptimize(ring.Sign(token));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign);

void BM_Verify(benchmark::State& state) {
  Keyring ring = Ring();
  std::string token = *ring.Sign(Click());
  for (auto _ : state) benchmark::DoNotOptimize(ring.Verify(token, kNow));
  state.SetItemsProcessed(state.iterations());
  state.counters["token_chars"] = double(token.size());
}
BENCHMARK(BM_Verify);

void BM_VerifyBadSignature(benchmark::State& state) {
  Keyring ring = Ring();
  std::string token = *ring.Sign(Click());
  token[10] = token[10] == 'A' ? 'B' : 'A';
  for (auto _ : state) benchmark::DoNotOptimize(ring.Verify(token, kNow));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyBadSignature);

void BM_RewriteLinks(benchmark::State& state) {
  Keyring ring = Ring();
  std::string html = Email();
  LinkContext context;
  context.message_id = "msg-5f3a9c2e11d04b7a";
  context.profile_id = "user-8812734";
  context.journey_id = "abandoned_cart";
  context.step_id = "reminder_1";
  context.channel = "email";
  context.promo_code = "CART10-X7Q2";
  std::string out;
  std::vector<RewrittenLink> links;
  for (auto _ : state) {
    links.clear();
    Status st = RewriteLinks(html, true, context, ring, kNow, &out, &links);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(int64_t(state.iterations() * html.size()));
  state.counters["html_bytes"] = double(html.size());
  state.counters["tokens"] = double(links.size());
}
BENCHMARK(BM_RewriteLinks);

void BM_BuildRedirect(benchmark::State& state) {
  LinkToken token = Click();
  RedirectOptions options;
  for (auto _ : state) benchmark::DoNotOptimize(BuildRedirect(token, options));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildRedirect);

}  // namespace
}  // namespace waymark::tracking

BENCHMARK_MAIN();
