// Reading on several threads must give exactly what reading on one gives.
#include "ingest/chunked_read.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingest/mapping.h"

namespace waymark::ingest {
namespace {

struct Loaded {
  Status status;
  ReadStats stats;
  std::vector<Event> events;
};

Loaded Read(std::string_view data, const Mapping* mapping, int threads, size_t chunk_bytes,
            bool strict = false) {
  Loaded out;
  ReadOptions options;
  options.threads = threads;
  options.chunk_bytes = chunk_bytes;
  options.strict = strict;
  out.status = ReadEventsBuffer(
      data, "dir/input.txt", mapping, options,
      [&](Event&& e) { out.events.push_back(std::move(e)); }, &out.stats);
  return out;
}

void ExpectSame(const Loaded& want, const Loaded& got) {
  EXPECT_EQ(want.status.ok(), got.status.ok());
  EXPECT_EQ(want.status.message(), got.status.message());
  EXPECT_EQ(want.stats.lines, got.stats.lines);
  EXPECT_EQ(want.stats.rows, got.stats.rows);
  EXPECT_EQ(want.stats.events, got.stats.events);
  EXPECT_EQ(want.stats.skipped, got.stats.skipped);
  EXPECT_EQ(want.stats.bad_rows, got.stats.bad_rows);
  ASSERT_EQ(want.stats.first_bad.size(), got.stats.first_bad.size());
  for (size_t i = 0; i < want.stats.first_bad.size(); ++i) {
    EXPECT_EQ(want.stats.first_bad[i].ToString(), got.stats.first_bad[i].ToString());
  }
  ASSERT_EQ(want.events.size(), got.events.size());
  for (size_t i = 0; i < want.events.size(); ++i) {
    const Event& a = want.events[i];
    const Event& b = got.events[i];
    ASSERT_EQ(a.source, b.source) << "event " << i;
    EXPECT_EQ(a.message_id, b.message_id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.user_id, b.user_id);
    EXPECT_EQ(a.anonymous_id, b.anonymous_id);
    EXPECT_EQ(a.timestamp, b.timestamp);
    EXPECT_EQ(a.properties, b.properties);
    EXPECT_EQ(a.traits, b.traits);
  }
}

Mapping CsvMapping(std::string_view yaml) {
  Result<Mapping> m = ParseMapping(yaml, "m.yaml");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

constexpr std::string_view kMapping = R"(
format: csv
header: true
event: {column: kind, map: {v: Product Viewed, c: Product Added}, skip: [x]}
user_id: {column: uid}
timestamp: {column: ts}
properties:
  price: {column: price, type: number}
message_id: line
)";

// Blank lines, CRLF, skipped and bad rows, and a last line without a line break.
std::string CsvText() {
  std::string text = "kind,uid,ts,price\n";
  for (int i = 0; i < 400; ++i) {
    std::string kind = i % 37 == 0 ? "x" : i % 2 ? "v" : "c";
    std::string price = i % 53 == 0 ? "cheap" : std::to_string(i) + ".5";
    text += kind + ",u" + std::to_string(i % 23) + ",2024-01-0" + std::to_string(1 + i % 9) +
            "T10:00:00Z," + price + (i % 11 == 0 ? "\r\n" : "\n");
    if (i % 17 == 0) text += "\n";
    if (i % 41 == 0) text += "v,u1\n";  // too few fields
  }
  text += "v,u9,2024-02-01T00:00:00Z,1";
  return text;
}

TEST(ChunkedReadTest, CutAtLinesEndsChunksAfterLineBreaks) {
  // A chunk runs to the first line break at or after `chunk_bytes`.
  std::vector<LineChunk> chunks = CutAtLines("ab\ncd\nef\ngh", 4, 10);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].data, "ab\ncd\n");
  EXPECT_EQ(chunks[0].lines_before, 10u);
  EXPECT_EQ(chunks[1].data, "ef\ngh");
  EXPECT_EQ(chunks[1].lines_before, 12u);
  chunks = CutAtLines("a\nb\nc\n", 1, 0);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].data, "c\n");
  EXPECT_EQ(chunks[2].lines_before, 2u);
  EXPECT_TRUE(CutAtLines("", 4, 0).empty());
  EXPECT_EQ(CutAtLines("no line break at all", 4, 0).size(), 1u);
}

TEST(ChunkedReadTest, CsvOnThreadsMatchesOneThread) {
  Mapping m = CsvMapping(kMapping);
  std::string text = CsvText();
  Loaded one = Read(text, &m, 1, 64);
  ASSERT_TRUE(one.status.ok());
  ASSERT_GT(one.stats.bad_rows, 5u);
  ASSERT_GT(one.stats.skipped, 5u);
  for (size_t chunk : {1, 7, 64, 1000}) {
    for (int threads : {2, 3, 8}) {
      SCOPED_TRACE("chunk " + std::to_string(chunk) + " threads " + std::to_string(threads));
      ExpectSame(one, Read(text, &m, threads, chunk));
    }
  }
}

TEST(ChunkedReadTest, ManyBadRowsKeepTheFirstHundredInOrder) {
  Mapping m = CsvMapping(kMapping);
  std::string text = "kind,uid,ts,price\n";
  for (int i = 0; i < 300; ++i) text += "v,u" + std::to_string(i) + ",not a time,1\n";
  Loaded one = Read(text, &m, 1, 64);
  EXPECT_EQ(one.stats.bad_rows, 300u);
  EXPECT_EQ(one.stats.first_bad.size(), kMaxBadRowMessages);
  ExpectSame(one, Read(text, &m, 4, 50));
}

TEST(ChunkedReadTest, QuotedCsvAndStrictModeStayOnOneThread) {
  // A quoted field with a line break inside: cutting at that line break would split the record.
  Mapping m = CsvMapping(kMapping);
  std::string text = "kind,uid,ts,price\n";
  for (int i = 0; i < 50; ++i) text += "v,\"u\n" + std::to_string(i) + "\",2024-01-01,1\n";
  ExpectSame(Read(text, &m, 1, 16), Read(text, &m, 4, 16));
  std::string bad = CsvText();
  Loaded strict_one = Read(bad, &m, 1, 16, /*strict=*/true);
  EXPECT_FALSE(strict_one.status.ok());
  ExpectSame(strict_one, Read(bad, &m, 4, 16, /*strict=*/true));
}

TEST(ChunkedReadTest, JsonLinesOnThreadsMatchesOneThread) {
  std::string text;
  for (int i = 0; i < 300; ++i) {
    if (i % 13 == 0) text += "\n";
    if (i % 29 == 0) text += "{not json\n";
    if (i % 31 == 0) text += R"({"type":"track","userId":"u1"})" "\n";  // no event name
    text += R"({"type":"track","event":"Order Completed","userId":"u)" + std::to_string(i % 7) +
            R"(","timestamp":"2024-03-01T00:00:0)" + std::to_string(i % 10) +
            R"(Z","properties":{"total":)" + std::to_string(i) + "}}\n";
  }
  Loaded one = Read(text, nullptr, 1, 64);
  ASSERT_GT(one.stats.bad_rows, 10u);
  for (size_t chunk : {1, 100, 5000}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    ExpectSame(one, Read(text, nullptr, 3, chunk));
  }
}

TEST(ChunkedReadTest, RealDataSetsOnThreadsMatchOneThread) {
  const std::string data = WAYMARK_DATA_DIR;
  if (!std::filesystem::exists(data)) GTEST_SKIP() << "data folder " << data << " is missing";
  const std::pair<const char*, const char*> sets[] = {
      {"rees46.yaml", "rees46-multicategory-2019-oct-head/2019-Oct.csv"},
      {"taobao.yaml", "taobao-userbehavior-head/UserBehavior1.csv"},
      {"cdnow.yaml", "cdnow-master/CDNOW_master.txt"},
  };
  for (const auto& [mapping_name, file] : sets) {
    SCOPED_TRACE(file);
    Result<Mapping> m = LoadMapping(std::string(WAYMARK_MAPPINGS_DIR) + "/" + mapping_name);
    ASSERT_TRUE(m.ok());
    std::ifstream in(data + "/" + file, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    ExpectSame(Read(text, &*m, 1, 1 << 16), Read(text, &*m, 3, 1 << 16));
  }
}

}  // namespace
}  // namespace waymark::ingest
