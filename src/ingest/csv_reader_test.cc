#include "ingest/csv_reader.h"

#include <gtest/gtest.h>

#include "core/hash.h"

namespace waymark::ingest {
namespace {

struct ReadRun {
  Status status;
  ReadStats stats;
  std::vector<Event> events;

  std::vector<std::string> Bad() const {
    std::vector<std::string> out;
    for (const BadRow& b : stats.first_bad) out.push_back(b.ToString());
    return out;
  }
};

using Strings = std::vector<std::string>;

Time Iso(const char* text) { return *ParseIsoTime(text); }

ReadRun Read(const std::string& yaml, std::string_view csv, bool strict = false) {
  ReadRun run;
  Result<Mapping> mapping = ParseMapping(yaml, "m.yaml");
  if (!mapping.ok()) {
    run.status = mapping.status();
    return run;
  }
  ReadOptions options;
  options.strict = strict;
  run.status = ReadEventsBuffer(
      csv, "d.csv", &*mapping, options, [&](Event&& e) { run.events.push_back(std::move(e)); },
      &run.stats);
  return run;
}

constexpr const char* kShop =
    "event:\n"
    "  column: kind\n"
    "  map: {view: Product Viewed, buy: Order Completed}\n"
    "user_id: {column: user}\n"
    "timestamp: {column: ts, unit: s}\n";

TEST(CsvReaderTest, MapsColumnsByHeaderName) {
  ReadRun r = Read(kShop, "ts,user,kind\n1700000000,u1,view\n1700000001,u2,buy\n");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.events.size(), 2u);
  const Event& e = r.events[0];
  EXPECT_EQ(e.type, EventType::kTrack);
  EXPECT_EQ(e.name, "Product Viewed");
  EXPECT_EQ(e.user_id, "u1");
  EXPECT_EQ(e.timestamp, FromMillis(1700000000000));
  EXPECT_EQ(e.source, "d.csv:2");
  EXPECT_EQ(e.message_id, LineMessageId("d.csv", 2));
  EXPECT_EQ(e.properties, Value::EmptyObject());
  EXPECT_TRUE(e.traits.is_null());
  EXPECT_EQ(r.events[1].name, "Order Completed");
  EXPECT_EQ(r.stats.lines, 3u);
  EXPECT_EQ(r.stats.rows, 2u);
  EXPECT_EQ(r.stats.events, 2u);
}

TEST(CsvReaderTest, MissingHeaderColumnIsAMappingError) {
  ReadRun r = Read(kShop, "ts,user_id,kind\n1,u,view\n");
  EXPECT_EQ(r.status.message(), "m.yaml:4:19: column 'user' is not in the header of d.csv");
  EXPECT_EQ(r.stats.events, 0u);
}

TEST(CsvReaderTest, UnmappedValuesAreBadRowsUnlessDefaultOrSkip) {
  ReadRun r = Read(kShop, "ts,user,kind\n1,u,view\n2,u,remove\n");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.stats.events, 1u);
  EXPECT_EQ(r.Bad(), (Strings{"d.csv:3:5: column 'kind': value 'remove' is not in the map"}));

  std::string with_skip = std::string(kShop) + "";
  with_skip.replace(with_skip.find("  map:"), 0, "  skip: [remove, noise]\n");
  r = Read(with_skip, "ts,user,kind\n1,u,view\n2,u,remove\n3,u,noise\n");
  EXPECT_EQ(r.stats.events, 1u);
  EXPECT_EQ(r.stats.skipped, 2u);
  EXPECT_EQ(r.stats.bad_rows, 0u);
  EXPECT_EQ(r.stats.rows, 3u);

  std::string with_default = kShop;
  with_default.replace(with_default.find("  map:"), 0, "  default: Other Thing\n");
  r = Read(with_default, "ts,user,kind\n2,u,remove\n3,u,\n");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].name, "Other Thing");
  EXPECT_EQ(r.events[1].name, "Other Thing");
}

TEST(CsvReaderTest, MissingEventNameIsABadRow) {
  ReadRun r = Read(kShop, "ts,user,kind\n1,u,\n");
  EXPECT_EQ(r.Bad(),
            (Strings{"d.csv:2:5: column 'kind': missing event name (required for track)"}));
}

TEST(CsvReaderTest, EventNameAndTypeFromColumnsOrConstants) {
  ReadRun r = Read(
      "type: {column: t}\n"
      "event: {column: name}\n"
      "user_id: {column: u}\n"
      "timestamp: {column: ts}\n"
      "traits: {plan: {column: plan}}\n",
      "t,name,u,ts,plan\n"
      "identify,,u1,2024-01-02T03:04:05Z,pro\n"
      "page,Home,u1,2024-01-02,\n"
      "bogus,x,u1,2024-01-02,\n"
      "track,,u1,2024-01-02,\n");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].type, EventType::kIdentify);
  EXPECT_EQ(r.events[0].name, "");
  EXPECT_EQ(r.events[0].traits.ToJson(), "{\"plan\":\"pro\"}");
  EXPECT_TRUE(r.events[0].properties.is_null());
  EXPECT_EQ(r.events[0].timestamp, Iso("2024-01-02T03:04:05Z"));
  EXPECT_EQ(r.events[1].type, EventType::kPage);
  EXPECT_EQ(r.events[1].name, "Home");
  EXPECT_EQ(r.events[1].traits.ToJson(), "{}");
  EXPECT_EQ(r.Bad(),
            (Strings{"d.csv:4:1: column 't': 'bogus' is not an event type",
                     "d.csv:5:7: column 'name': missing event name (required for track)"}));
}

TEST(CsvReaderTest, IdsWithPrefixTemplatesAndNullValues) {
  ReadRun r = Read(
      "event: Product Viewed\n"
      "null_values: ['', NA]\n"
      "user_id: {column: user, prefix: 'u:'}\n"
      "anonymous_id: {template: 'session-{s}-{n}'}\n"
      "timestamp: {column: ts, unit: ms}\n",
      "s,n,user,ts\n7,1,NA,1500\n7,NA,42,1600\nNA,NA,NA,1700\n");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].user_id, "");
  EXPECT_EQ(r.events[0].anonymous_id, "session-7-1");
  EXPECT_EQ(r.events[0].timestamp, FromMillis(1500));
  EXPECT_EQ(r.events[1].user_id, "u:42");
  EXPECT_EQ(r.events[1].anonymous_id, "");
  EXPECT_EQ(r.Bad(), (Strings{"d.csv:4:7: no user id or anonymous id"}));
}

TEST(CsvReaderTest, TypedPropertiesWithRenameMap) {
  ReadRun r = Read(std::string(kShop) +
                       "properties:\n"
                       "  id: {column: id, type: string}\n"
                       "  price: {column: price, type: number}\n"
                       "  qty: {column: qty, type: integer}\n"
                       "  gift: {column: gift, type: boolean}\n"
                       "  tier: {column: tier, map: {g: gold, s: silver}}\n"
                       "  shop: {value: main}\n",
                   "ts,user,kind,id,price,qty,gift,tier\n"
                   "1,u,buy,2103807459595387724,35.79,3,true,g\n"
                   "1,u,buy,007,-1e3,-4,0,\n");
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.events.size(), 2u) << testing::PrintToString(r.Bad());
  EXPECT_EQ(r.events[0].properties.ToJson(),
            "{\"id\":\"2103807459595387724\",\"price\":35.79,\"qty\":3,\"gift\":true,"
            "\"tier\":\"gold\",\"shop\":\"main\"}");
  EXPECT_EQ(r.events[1].properties.ToJson(),
            "{\"id\":\"007\",\"price\":-1000,\"qty\":-4,\"gift\":false,\"shop\":\"main\"}");
}

TEST(CsvReaderTest, PropertyParseErrorsPointAtTheField) {
  std::string yaml = std::string(kShop) +
                     "properties:\n"
                     "  price: {column: price, type: number}\n"
                     "  qty: {column: qty, type: integer}\n"
                     "  gift: {column: gift, type: boolean}\n"
                     "  tier: {column: tier, map: {g: gold}}\n";
  ReadRun r = Read(yaml,
                   "ts,user,kind,price,qty,gift,tier\n"
                   "1,u,buy,12.5x,1,true,g\n"
                   "1,u,buy,1,1.5,true,g\n"
                   "1,u,buy,1,9007199254740993,true,g\n"
                   "1,u,buy,1,1,yes,g\n"
                   "1,u,buy,1,1,true,p\n"
                   "1,u,buy,nan,1,true,g\n");
  EXPECT_EQ(r.stats.events, 0u);
  EXPECT_EQ(r.Bad(),
            (Strings{"d.csv:2:9: column 'price': '12.5x' is not a number",
                     "d.csv:3:11: column 'qty': '1.5' is not an integer",
                     "d.csv:4:11: column 'qty': '9007199254740993' is too large to keep exactly; "
                     "use type: string",
                     "d.csv:5:13: column 'gift': 'yes' is not a boolean (true, false, 1 or 0)",
                     "d.csv:6:18: column 'tier': value 'p' is not in the map",
                     "d.csv:7:9: column 'price': 'nan' is not a number"}));
}

TEST(CsvReaderTest, TimestampFormatsAndZones) {
  const char* yaml =
      "event: E\n"
      "user_id: {column: u}\n"
      "timestamp: {column: t, format: '%Y-%m-%d %H:%M:%S', timezone: America/New_York}\n";
  ReadRun r =
      Read(yaml, "u,t\na,2026-03-08 01:59:59\na,2026-03-08 02:30:00\na,2026-07-01 12:00:00\n");
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].timestamp, Iso("2026-03-08T06:59:59Z"));
  EXPECT_EQ(r.events[1].timestamp, Iso("2026-03-08T07:00:00Z"));  // in the gap: its end
  EXPECT_EQ(r.events[2].timestamp, Iso("2026-07-01T16:00:00Z"));
}

TEST(CsvReaderTest, TimestampTemplateAndPlusOffset) {
  ReadRun r = Read(
      "event: E\n"
      "user_id: {column: u}\n"
      "timestamp:\n"
      "  template: '2015-{month}-{day}'\n"
      "  format: '%Y-%m-%d'\n"
      "  timezone: Asia/Shanghai\n"
      "  plus: {column: off, unit: s}\n",
      "u,month,day,off\na,11,11,90\na,02,30,0\na,01,01,x\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].timestamp, Iso("2015-11-10T16:01:30Z"));
  EXPECT_EQ(r.Bad(), (Strings{"d.csv:3:3: template '2015-{month}-{day}': '2015-02-30' does not "
                              "match format '%Y-%m-%d'",
                              "d.csv:4:9: column 'off': 'x' is not an integer"}));
}

TEST(CsvReaderTest, TimestampErrorsNameTheEncoding) {
  auto bad = [](const char* ts_spec, const char* value) {
    ReadRun r = Read(std::string("event: E\nuser_id: {column: u}\ntimestamp: ") + ts_spec + "\n",
                     std::string("u,t\na,") + value + "\n");
    return r.Bad().empty() ? "<ok>" : r.Bad()[0];
  };
  EXPECT_EQ(bad("{column: t}", "yesterday"),
            "d.csv:2:3: column 't': 'yesterday' is not an ISO-8601 time");
  EXPECT_EQ(bad("{column: t, unit: s}", "1.5"),
            "d.csv:2:3: column 't': '1.5' is not a whole number of seconds since the epoch");
  EXPECT_EQ(bad("{column: t, unit: ms}", "x"),
            "d.csv:2:3: column 't': 'x' is not a whole number of milliseconds since the epoch");
  EXPECT_EQ(bad("{column: t, format: '%Y%m%d'}", "1997-01-01"),
            "d.csv:2:3: column 't': '1997-01-01' does not match format '%Y%m%d'");
  EXPECT_EQ(bad("{column: t}", ""), "d.csv:2:3: column 't': missing timestamp");
  EXPECT_EQ(bad("{column: t, unit: s}", "1511561733"), "<ok>");
}

TEST(CsvReaderTest, WrongFieldCountPointsWhereTheRowGoesWrong) {
  ReadRun r = Read(kShop, "ts,user,kind\n1,u\n1,u,view,extra,more\n1,u,view");
  EXPECT_EQ(r.stats.events, 1u);
  EXPECT_EQ(r.Bad(), (Strings{"d.csv:2:4: expected 3 fields, got 2",
                              "d.csv:3:10: expected 3 fields, got 5"}));
}

TEST(CsvReaderTest, QuotedFieldsAndPhysicalLineNumbers) {
  ReadRun r = Read(std::string(kShop) + "properties: {note: {column: note}}\n",
                   "ts,user,kind,note\r\n"
                   "1,u,view,\"a, \"\"quoted\"\"\r\nnote\"\r\n"
                   "1,u,\"oops\"x,n\r\n"
                   "1,u,view,\"open\r\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].properties.ToJson(), "{\"note\":\"a, \\\"quoted\\\"\\r\\nnote\"}");
  EXPECT_EQ(r.events[0].source, "d.csv:2");
  EXPECT_EQ(r.Bad(), (Strings{"d.csv:4:11: unexpected text after closing quote",
                              "d.csv:5:10: unterminated quoted field"}));
  EXPECT_EQ(r.stats.lines, 5u);
}

TEST(CsvReaderTest, HeaderSplitErrorIsFatal) {
  ReadRun r = Read(kShop, "ts,\"user\"x,kind\n1,u,view\n");
  EXPECT_EQ(r.status.message(), "d.csv:1:10: header: unexpected text after closing quote");
}

TEST(CsvReaderTest, NoHeaderUsesColumnsAndWhitespaceDelimiter) {
  ReadRun r = Read(
      "delimiter: whitespace\n"
      "header: false\n"
      "columns: [id, date, n]\n"
      "event: Order Completed\n"
      "user_id: {column: id}\n"
      "timestamp: {column: date, format: '%Y%m%d'}\n"
      "properties: {n: {column: n, type: integer}}\n",
      " 00001 19970101  1\r\n\r\n\t00002\t19970102 2");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].user_id, "00001");
  EXPECT_EQ(r.events[0].source, "d.csv:1");
  EXPECT_EQ(r.events[1].timestamp, Iso("1997-01-02T00:00:00Z"));
  EXPECT_EQ(r.events[1].source, "d.csv:3");
  EXPECT_EQ(r.stats.lines, 3u);
}

TEST(CsvReaderTest, HeaderLineIsSkippedWhenColumnsAreGiven) {
  ReadRun r = Read("columns: [a, b]\nevent: E\nuser_id: {column: b}\ntimestamp: {column: a}\n",
                   "x,y\n2024-01-01,u\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].user_id, "u");
}

TEST(CsvReaderTest, MessageIdSources) {
  const char* base = "event: E\nuser_id: {column: u}\ntimestamp: {column: t, unit: s}\n";
  const char* data = "u,t,id\na,1,x1\na,1,x1\na,1,\n";
  ReadRun by_line = Read(base, data);
  ASSERT_EQ(by_line.events.size(), 3u);
  EXPECT_EQ(by_line.events[0].message_id, HexId(HashCombine(Hash64("d.csv"), 2)));
  EXPECT_NE(by_line.events[0].message_id, by_line.events[1].message_id);

  ReadRun by_row = Read(std::string(base) + "message_id: row_hash\n", data);
  EXPECT_EQ(by_row.events[0].message_id, HexId(Hash64("a,1,x1")));
  EXPECT_EQ(by_row.events[0].message_id, by_row.events[1].message_id);

  ReadRun by_column = Read(std::string(base) + "message_id: {column: id, prefix: 'm-'}\n", data);
  EXPECT_EQ(by_column.events[0].message_id, "m-x1");
  EXPECT_EQ(by_column.events[2].message_id, LineMessageId("d.csv", 4));  // empty: by line
}

TEST(CsvReaderTest, HexMessageIdMatchesCoreHexId) {
  for (uint64_t v : {uint64_t(0), uint64_t(1), uint64_t(0xdeadbeef), ~uint64_t(0)}) {
    EXPECT_EQ(HexMessageId(v), HexId(v));
  }
}

TEST(CsvReaderTest, LineIdsDependOnTheBaseNameOnly) {
  EXPECT_EQ(LineMessageId("/a/b/d.csv", 7), LineMessageId("d.csv", 7));
  EXPECT_NE(LineMessageId("d.csv", 7), LineMessageId("e.csv", 7));
}

TEST(CsvReaderTest, ContextTimezoneAndConstantTraits) {
  ReadRun r = Read(std::string(kShop) +
                       "context: {timezone: Asia/Shanghai}\n"
                       "traits: {source: {value: import}}\n",
                   "ts,user,kind\n1,u,view\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].timezone, "Asia/Shanghai");
  EXPECT_EQ(r.events[0].traits.ToJson(), "{\"source\":\"import\"}");
}

TEST(CsvReaderTest, AliasAndGroupNeedTheirIds) {
  ReadRun r = Read(
      "type: {column: t}\nuser_id: {column: u}\nprevious_id: {column: p}\n"
      "group_id: {column: g}\ntimestamp: {column: ts, unit: s}\n",
      "t,u,p,g,ts\nalias,u1,a1,,1\nalias,u1,,,1\ngroup,u1,,,1\ngroup,u1,,g1,1\n");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].previous_id, "a1");
  EXPECT_EQ(r.events[1].group_id, "g1");
  EXPECT_EQ(r.Bad(), (Strings{"d.csv:3:10: column 'p': missing previous id (required for alias)",
                              "d.csv:4:11: column 'g': missing group id (required for group)"}));
}

TEST(CsvReaderTest, StrictModeStopsAtTheFirstBadRow) {
  ReadRun r = Read(kShop, "ts,user,kind\n1,u,view\n1,u,nope\n1,u,view\n", /*strict=*/true);
  EXPECT_EQ(r.status.code(), Status::Code::kParseError);
  EXPECT_EQ(r.status.message(), "d.csv:3:5: column 'kind': value 'nope' is not in the map");
  EXPECT_EQ(r.stats.events, 1u);
  EXPECT_EQ(r.stats.bad_rows, 1u);
}

TEST(CsvReaderTest, KeepsTheFirstHundredMessagesAndCountsAll) {
  std::string data = "ts,user,kind\n";
  for (int i = 0; i < 250; ++i) data += "1,u,nope\n";
  ReadRun r = Read(kShop, data);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.stats.bad_rows, 250u);
  ASSERT_EQ(r.stats.first_bad.size(), kMaxBadRowMessages);
  EXPECT_EQ(r.stats.first_bad.back().where, "d.csv:101:5");
}

TEST(CsvReaderTest, EmptyInputReadsNothing) {
  ReadRun r = Read(kShop, "");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.stats.rows, 0u);
  r = Read(kShop, "ts,user,kind\r\n");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.stats.lines, 1u);
}

}  // namespace
}  // namespace waymark::ingest
