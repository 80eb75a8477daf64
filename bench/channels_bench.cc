// Channel costs: rendering a MIME email, signing a webhook, and send throughput over one reused
// connection to local sinks (tests/channels/smtp_sink.py on /usr/bin/python3 with aiosmtpd, and
// tests/channels/webhook_sink.js on node), which the benchmark starts itself on free loopback
// ports and stops at exit. A send benchmark whose sink cannot start reports an error and is
// skipped; the sinks are single-threaded scripts, so those figures bound the client from below.
#include <benchmark/benchmark.h>

#include <string>

#include "channels/mime.h"
#include "channels/smtp_sender.h"
#include "channels/webhook.h"
#include "sinks.h"

namespace waymark {
namespace {

using bench::Sink;
using bench::SmtpSink;
using bench::WebhookSink;

const Time kNow = FromMillis(1773392700000);

EmailMessage CartEmail() {
  EmailMessage m;
  m.from = {"Waymark Shop \xF0\x9F\x9B\x8D", "news@shop.example"};
  m.to = {"Ana Lima", "ana@example.com"};
  m.subject = "\xF0\x9F\x9B\x92 Ana, your cart misses you \xE2\x80\x94 10% off until Sunday";
  m.message_id = "0f3a9c2e77d1b4a5";
  m.list_unsubscribe_url = "https://shop.example/u/0f3a9c2e77d1b4a5?sig=9b1c";
  m.list_unsubscribe_mailto = "unsubscribe+0f3a9c2e77d1b4a5@shop.example";
  m.text =
      "Hi Ana,\n\nYou left 2 items in your cart:\n- Leather boots (\xE2\x82\xAC 129,00)\n"
      "- Wool scarf (\xE2\x82\xAC 39,00)\n\nCheck out: https://shop.example/cart?u=ana\n";
  std::string html = "<html><body><h1>Hi Ana,</h1><p>You left these in your cart:</p><ul>\n";
  while (html.size() < 2000) {
    html +=
        "<li><a href=\"https://t.shop.example/c/0f3a9c2e?url=https%3A%2F%2Fshop.example%2Fp"
        "%2Fboots&amp;sig=9b1c2f\">Leather boots</a> &mdash; \xE2\x82\xAC 129,00</li>\n";
  }
  m.html = html + "</ul></body></html>\n";
  return m;
}

void BM_BuildMime2KbHtml(benchmark::State& state) {
  EmailMessage m = CartEmail();
  size_t bytes = 0;
  for (auto _ : state) {
    Result<std::string> out = BuildMimeMessage(m, kNow);
    bytes = out->size();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(m.text.size() + m.html.size()));
  state.counters["message_bytes"] = double(bytes);
}
BENCHMARK(BM_BuildMime2KbHtml);

void BM_SignWebhook(benchmark::State& state) {
  std::string body(size_t(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(SignWebhook("whsec_bench", 1773392700, body));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SignWebhook)->Arg(256)->Arg(1024)->Arg(16384);

void BM_SmtpSendLocal(benchmark::State& state) {
  Sink* sink = SmtpSink();
  if (sink == nullptr) return state.SkipWithError("smtp sink did not start (python3-aiosmtpd?)");
  ManualClock clock(kNow);
  auto sender = SmtpSender::Create(
      {.host = "127.0.0.1", .port = sink->port(), .tls = SmtpConfig::Tls::kNone}, &clock);
  EmailMessage m = CartEmail();
  for (auto _ : state) {
    DeliveryResult r = (*sender)->Send(m);
    if (!r.delivered()) return state.SkipWithError(r.detail.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["connections"] = double((*sender)->connections_opened());
}
BENCHMARK(BM_SmtpSendLocal)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_WebhookSendLocal(benchmark::State& state) {
  Sink* sink = WebhookSink();
  if (sink == nullptr) return state.SkipWithError("webhook sink did not start (node?)");
  ManualClock clock(kNow);
  auto sender = WebhookSender::Create(
      {.url = "http://127.0.0.1:" + std::to_string(sink->port()) + "/hook", .secret = "s"}, &clock);
  std::string body = R"({"message_id":"0f3a9c2e77d1b4a5","to":"+4915112345678","text":")" +
                     std::string(200, 'x') + "\"}";
  for (auto _ : state) {
    DeliveryResult r = (*sender)->Send("0f3a9c2e77d1b4a5", body);
    if (!r.delivered()) return state.SkipWithError(r.detail.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["connections"] = double((*sender)->connections_opened());
}
BENCHMARK(BM_WebhookSendLocal)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace waymark

BENCHMARK_MAIN();
