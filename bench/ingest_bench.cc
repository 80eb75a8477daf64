// Ingest throughput on the real REES46 file (../shared/data): CSV splitting alone, and the
// whole read through mappings/rees46.yaml into events. Reports bytes/s and rows/s.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "ingest/csv_split.h"
#include "ingest/mapping.h"
#include "ingest/read.h"

namespace waymark::ingest {
namespace {

const std::string kRees46 =
    std::string(WAYMARK_DATA_DIR) + "/rees46-multicategory-2019-oct-head/2019-Oct.csv";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void SetCounters(benchmark::State& state, uint64_t bytes, uint64_t rows) {
  state.SetBytesProcessed(int64_t(bytes * state.iterations()));
  state.counters["rows/s"] =
      benchmark::Counter(double(rows * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_SplitRees46(benchmark::State& state) {
  std::string data = ReadAll(kRees46);
  if (data.empty()) {
    state.SkipWithError("REES46 data file not found");
    return;
  }
  uint64_t rows = 0;
  for (auto _ : state) {
    CsvSplitter splitter(data, CsvDialect{});
    CsvRecord record;
    rows = 0;
    while (splitter.Next(&record)) ++rows;
    benchmark::DoNotOptimize(rows);
  }
  SetCounters(state, data.size(), rows);
}
BENCHMARK(BM_SplitRees46)->Unit(benchmark::kMillisecond);

void BM_ReadRees46(benchmark::State& state) {
  Result<Mapping> mapping = LoadMapping(std::string(WAYMARK_MAPPINGS_DIR) + "/rees46.yaml");
  std::string data = ReadAll(kRees46);
  if (!mapping.ok() || data.empty()) {
    state.SkipWithError("REES46 mapping or data file not found");
    return;
  }
  ReadStats stats;
  for (auto _ : state) {
    uint64_t events = 0;
    Status st = ReadEventsBuffer(
        data, kRees46, &*mapping, ReadOptions{}, [&](Event&& e) { events += e.name.size() > 0; },
        &stats);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(events);
  }
  SetCounters(state, data.size(), stats.rows);
}
BENCHMARK(BM_ReadRees46)->Unit(benchmark::kMillisecond);

// Includes opening and memory-mapping the file each time.
void BM_ReadRees46File(benchmark::State& state) {
  Result<Mapping> mapping = LoadMapping(std::string(WAYMARK_MAPPINGS_DIR) + "/rees46.yaml");
  if (!mapping.ok()) {
    state.SkipWithError(mapping.status().message().c_str());
    return;
  }
  ReadStats stats;
  for (auto _ : state) {
    Status st = ReadEventsFile(
        kRees46, &*mapping, ReadOptions{}, [](Event&&) {}, &stats);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
  }
  SetCounters(state, 2344707, stats.rows);
}
BENCHMARK(BM_ReadRees46File)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace waymark::ingest

BENCHMARK_MAIN();
