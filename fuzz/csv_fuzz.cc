// libFuzzer target: CSV rows through a mapping, and Segment JSON Lines.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/mapping.h"
#include "ingest/read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto mapping = waymark::ingest::ParseMapping(R"(
format: csv
header: true
event: {column: kind, map: {view: Product Viewed, buy: Order Completed}, default: Other}
user_id: {column: uid}
timestamp: {column: ts, format: "%Y-%m-%d %H:%M:%S"}
properties:
  price: {column: price, type: number}
  qty: {column: qty, type: integer}
  name: {column: name}
)",
                                                      "fuzz-mapping.yaml");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  waymark::ingest::ReadStats stats;
  auto sink = [](waymark::Event&&) {};
  if (mapping.ok()) {
    (void)waymark::ingest::ReadEventsBuffer(text, "fuzz.csv", &*mapping, {}, sink, &stats);
  }
  waymark::ingest::ReadStats json_stats;
  (void)waymark::ingest::ReadEventsBuffer(text, "fuzz.jsonl", nullptr, {}, sink, &json_stats);
  return 0;
}
