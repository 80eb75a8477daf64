// Benchmarks for the store: codec speed on a typical profile state, and commit throughput with
// sync on every write versus group commit. Run from a Release build; the database lives under
// $TMPDIR, so the sync figures measure that file system.
#include <benchmark/benchmark.h>

#include "store/codec.h"
#include "store/state_store.h"
#include "store/store_test_util.h"

namespace waymark::store {
namespace {

// A typical profile: 40 remembered events, six instances, a few sends and memberships.
constexpr int kHistory = 40;

void BM_EncodeProfileState(benchmark::State& state) {
  auto config = testing::MakeTestConfig();
  ProfileState ps = testing::MakeProfileState(*config, "user-123456", kHistory, 1);
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeProfileState(ps, *config, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(out.size()));
  state.counters["value_bytes"] = double(out.size());
}
BENCHMARK(BM_EncodeProfileState);

void BM_DecodeProfileState(benchmark::State& state) {
  auto config = testing::MakeTestConfig();
  ProfileState ps = testing::MakeProfileState(*config, "user-123456", kHistory, 1);
  std::string bytes;
  EncodeProfileState(ps, *config, &bytes);
  for (auto _ : state) {
    ProfileState back;
    Status s = DecodeProfileState(bytes, *config, &back, nullptr);
    benchmark::DoNotOptimize(s.ok());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(bytes.size()));
}
BENCHMARK(BM_DecodeProfileState);

// One batch of `profiles_per_batch` profiles per Commit(); arg 1 = sync every write.
void BM_Commit(benchmark::State& state) {
  const int profiles_per_batch = int(state.range(0));
  const bool sync = state.range(1) != 0;
  testing::TempDir dir;
  auto config = testing::MakeTestConfig();
  auto store = StateStore::Open(dir.path(), StoreOptions{sync, true});
  if (!store.ok()) {
    state.SkipWithError(store.status().message().c_str());
    return;
  }
  std::vector<ProfileState> profiles;
  for (int i = 0; i < 1000; ++i) {
    profiles.push_back(
        testing::MakeProfileState(*config, "user-" + std::to_string(i), kHistory, i));
  }
  WriteBatch batch;
  size_t next = 0;
  for (auto _ : state) {
    for (int i = 0; i < profiles_per_batch; ++i) {
      batch.PutProfile(profiles[next++ % profiles.size()], *config);
    }
    if (!(*store)->Commit(batch).ok()) state.SkipWithError("commit failed");
    if (!sync && !(*store)->Sync().ok()) state.SkipWithError("sync failed");
  }
  state.SetItemsProcessed(state.iterations() * profiles_per_batch);
  state.counters["commits/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["profiles/s"] = benchmark::Counter(double(state.iterations() * profiles_per_batch),
                                                    benchmark::Counter::kIsRate);
}
// (1 profile, sync each commit), (100 profiles per batch, group commit: one Sync per batch),
// (1 profile, no sync at all: the upper bound).
BENCHMARK(BM_Commit)->Args({1, 1})->Args({100, 0})->Args({100, 1})->UseRealTime();

void BM_CommitNoSync(benchmark::State& state) {
  testing::TempDir dir;
  auto config = testing::MakeTestConfig();
  auto store = StateStore::Open(dir.path(), StoreOptions{false, true});
  ProfileState ps = testing::MakeProfileState(*config, "user-1", kHistory, 1);
  WriteBatch batch;
  for (auto _ : state) {
    batch.PutProfile(ps, *config);
    if (!(*store)->Commit(batch).ok()) state.SkipWithError("commit failed");
  }
  state.counters["commits/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CommitNoSync)->UseRealTime();

}  // namespace
}  // namespace waymark::store

BENCHMARK_MAIN();
