// Delivery throughput: outbox entries through live::Delivery (the path `waymark serve` uses) to
// the loopback SMTP and webhook sinks of tests/channels, with 1, 4 and 8 lanes. Each iteration
// commits a round of 256 entries to a RocksDB store on disk, hands them over and waits until all
// are delivered and their statuses written (with the store synced before each lane's round, as
// `--sync always` does). The sinks are single-threaded scripts on the same cores, so the figures
// bound the server's own rate from below.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "live/delivery.h"
#include "model/config_loader.h"
#include "sinks.h"

namespace waymark {
namespace {

const Time kNow = FromMillis(1773392700000);
constexpr int kRound = 256;

std::string CartHtml() {
  std::string html = "<html><body><h1>Hi Ana,</h1><p>You left these in your cart:</p><ul>";
  while (html.size() < 2000) {
    html += "<li><a href='https://shop.example/p/boots'>Leather boots</a> &mdash; 129,00</li>";
  }
  return html + "</ul></body></html>";
}

// One round's entries, ids unique across the run.
std::vector<store::OutboxEntry> MakeRound(int64_t first, const std::string& channel) {
  static const std::string html = CartHtml();
  std::vector<store::OutboxEntry> round;
  for (int64_t i = first; i < first + kRound; ++i) {
    store::OutboxEntry e;
    e.time = kNow + std::chrono::milliseconds(i);
    e.id = "m" + std::to_string(i);
    Value line = Value::EmptyObject();
    line.Set("id", e.id);
    line.Set("profile", "u" + std::to_string(i % 10000));
    line.Set("journey", "cart");
    line.Set("step", "remind");
    line.Set("channel", channel);
    line.Set("to", "ana" + std::to_string(i % 10000) + "@example.com");
    line.Set("subject", "\xF0\x9F\x9B\x92 Ana, your cart misses you");
    line.Set("text", "Hi Ana, you left 2 items in your cart: https://shop.example/cart");
    line.Set("html", html);
    e.json = line.ToJson();
    round.push_back(std::move(e));
  }
  return round;
}

void RunDelivery(benchmark::State& state, live::DeliveryOptions options,
                 const std::string& channel) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("waymark-delivery-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  store::StoreOptions so;
  so.sync_every_write = false;
  auto store = store::StateStore::Open(dir, so);
  if (!store.ok()) return state.SkipWithError(store.status().message().c_str());
  auto config =
      LoadConfigText("delivery:\n  email:\n    from: '\"Shop\" <shop@example.com>'\n", "b.yaml");
  if (!config.ok()) return state.SkipWithError(config.status().message().c_str());
  ManualClock clock(kNow);
  options.lanes = int(state.range(0));
  {
    auto delivery = live::Delivery::Create(store->get(), options, &clock, true);
    if (!delivery.ok()) return state.SkipWithError(delivery.status().message().c_str());
    (*delivery)->SetConfig(*config);
    (*delivery)->Start();
    int64_t next = 0;
    for (auto _ : state) {
      std::vector<store::OutboxEntry> round = MakeRound(next, channel);
      next += kRound;
      store::WriteBatch batch;
      for (const store::OutboxEntry& e : round) batch.PutOutbox(e);
      if (!(*store)->Commit(batch, /*sync=*/false).ok()) return state.SkipWithError("commit");
      (*delivery)->Enqueue(std::move(round));
      (*delivery)->WaitIdle();
    }
    std::string metrics;
    (*delivery)->RenderMetrics(&metrics);
    if (metrics.find("outcome=\"delivered\"") == std::string::npos ||
        metrics.find("outcome=\"retry\"") != std::string::npos) {
      state.SkipWithError(("not all delivered:\n" + metrics).c_str());
    }
  }
  store->reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kRound);
}

void BM_DeliverEmailOverSmtp(benchmark::State& state) {
  bench::Sink* sink = bench::SmtpSink();
  if (sink == nullptr) return state.SkipWithError("smtp sink did not start (python3-aiosmtpd?)");
  live::DeliveryOptions options;
  options.smtp =
      SmtpConfig{.host = "127.0.0.1", .port = sink->port(), .tls = SmtpConfig::Tls::kNone};
  RunDelivery(state, options, "email");
}
BENCHMARK(BM_DeliverEmailOverSmtp)
    ->ArgName("lanes")
    ->Arg(1)
    ->Arg(4)
    ->Arg(8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_DeliverSmsToWebhookRelay(benchmark::State& state) {
  bench::Sink* sink = bench::WebhookSink();
  if (sink == nullptr) return state.SkipWithError("webhook sink did not start (node?)");
  live::DeliveryOptions options;
  options.relay_url = "http://127.0.0.1:" + std::to_string(sink->port()) + "/relay";
  options.webhook_secret = "s";
  RunDelivery(state, options, "sms");
}
BENCHMARK(BM_DeliverSmsToWebhookRelay)
    ->ArgName("lanes")
    ->Arg(1)
    ->Arg(4)
    ->Arg(8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace waymark

BENCHMARK_MAIN();
