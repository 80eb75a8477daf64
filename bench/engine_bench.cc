// Micro benchmarks for the engine's hot pieces: condition evaluation, the timer queue, one event
// through a shard (entry and step advance), and Segment JSON parsing.
//
//   build-rel/bench/engine_bench

#include <benchmark/benchmark.h>

#include "core/json.h"
#include "engine/shard.h"
#include "engine/timer_queue.h"
#include "expr/expr.h"
#include "ingest/segment_json.h"
#include "model/config_loader.h"

namespace waymark {
namespace {

Time At(const char* iso) { return *ParseIsoTime(iso); }

struct ConditionFixture {
  ConditionFixture() {
    event.name = "Product Viewed";
    event.user_id = "u1";
    event.timestamp = At("2026-05-01T12:00:00Z");
    event.properties = ParseJson(R"({"price": 120, "category": "shoes", "brand": "acme",
                                     "product_id": "p-12345"})")
                           .value();
    profile.key = "u1";
    profile.traits = ParseJson(R"({"country": "DE", "vip": true, "tier": "gold"})").value();
    policy.rules = {{"Product Viewed", std::chrono::hours(24 * 30), true}};
    for (int i = 0; i < 50; ++i) {
      Event v = event;
      v.timestamp = event.timestamp - std::chrono::hours(12 * (50 - i));
      v.properties.Set("category", i % 3 == 0 ? "shoes" : "hats");
      profile.ApplyEvent(v, policy, PurchaseSpec{});
    }
    ctx.profile = &profile;
    ctx.event = &event;
    ctx.now = event.timestamp;
  }
  Event event;
  Profile profile;
  HistoryPolicy policy;
  expr::EvalContext ctx;
};

void RunCondition(benchmark::State& state, const char* text) {
  ConditionFixture f;
  auto e = expr::Expr::Compile(text, expr::CompileEnv{});
  if (!e.ok()) {
    state.SkipWithError(e.status().message().c_str());
    return;
  }
  bool sink = false;
  for (auto _ : state) {
    sink ^= e->Test(f.ctx);
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ConditionSimple(benchmark::State& state) { RunCondition(state, "event.price >= 100"); }
BENCHMARK(BM_ConditionSimple);

void BM_ConditionCompound(benchmark::State& state) {
  RunCondition(state,
               "event.price >= 100 and profile.country in [\"DE\", \"AT\", \"CH\"] and "
               "event.category starts_with \"sh\" and not (profile.tier == \"bronze\")");
}
BENCHMARK(BM_ConditionCompound);

void BM_ConditionHistoryCount(benchmark::State& state) {
  RunCondition(state,
               "count(\"Product Viewed\", within: 7d, where: event.category == \"shoes\") "
               ">= 3");
}
BENCHMARK(BM_ConditionHistoryCount);

void BM_TimerQueuePushPop(benchmark::State& state) {
  const int64_t n = state.range(0);
  TimerQueue q;
  uint64_t x = 88172645463325252ull;
  for (int64_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    q.Push(FromMillis(int64_t(x % 1'000'000'000)), 0, 0, 0, Timer::Kind::kInstance);
  }
  for (auto _ : state) {
    Timer t = q.Pop();
    q.Push(t.due + Duration(int64_t(x % 100'000) + 1), 0, 0, 0, Timer::Kind::kInstance);
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerQueuePushPop)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// One event per new profile through a journey that branches, splits, updates the profile and
// waits: entry, four steps and a timer, all inside Shard::HandleEvent.
void BM_ShardEnterAndAdvance(benchmark::State& state) {
  auto config = LoadConfigText(R"(
journeys:
  - id: j
    trigger: { event: Product Added, where: 'event.price > 0' }
    steps:
      - id: check
        branch:
          - { if: 'trigger.price > 100', next: big }
          - else: small
      - { id: big, update_profile: { set: { big_cart: true } }, next: ab }
      - { id: small, update_profile: { set: { big_cart: false } }, next: ab }
      - id: ab
        split: [ { weight: 50, next: wait }, { weight: 50, next: wait } ]
      - { id: wait, wait: 1h }
)",
                               "bench.yaml");
  if (!config.ok()) {
    state.SkipWithError(config.status().message().c_str());
    return;
  }
  ShardOptions options;
  options.keep_outbox = false;
  Shard shard(*config, options);
  Event e;
  e.name = "Product Added";
  e.timestamp = At("2026-05-01T12:00:00Z");
  e.properties = ParseJson(R"({"price": 150, "product_id": "p1"})").value();
  uint64_t i = 0;
  std::string key;
  for (auto _ : state) {
    key = "user-" + std::to_string(i++);
    e.user_id = key;
    shard.HandleEvent(e, key, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ShardEnterAndAdvance);

void BM_ParseSegmentTrack(benchmark::State& state) {
  std::string line = R"({"type":"track","event":"Product Added","userId":"u-123456",
    "anonymousId":"a-9f8e7d","messageId":"m-0001","timestamp":"2026-05-01T12:00:00.123Z",
    "properties":{"product_id":"p-42","price":19.99,"currency":"EUR","quantity":2,
    "category":"shoes","name":"Trail runner"},"context":{"timezone":"Europe/Berlin"}})";
  for (auto _ : state) {
    auto v = ParseJson(line);
    auto e = ingest::EventFromSegment(*v);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(line.size()));
}
BENCHMARK(BM_ParseSegmentTrack);

}  // namespace
}  // namespace waymark

BENCHMARK_MAIN();
