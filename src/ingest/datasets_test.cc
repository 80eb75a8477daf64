// Reads the real data sets in ../shared/data through the shipped mappings. The data is not in
// the repository; the tests skip when the folder is missing.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "ingest/mapping.h"
#include "ingest/read.h"

namespace waymark::ingest {
namespace {

struct Loaded {
  Status status;
  ReadStats stats;
  std::vector<Event> events;
};

Time Iso(const char* text) { return *ParseIsoTime(text); }

std::string DataPath(const std::string& relative) {
  return std::string(WAYMARK_DATA_DIR) + "/" + relative;
}

Loaded ReadDataSet(const std::string& mapping_name, const std::string& data_file) {
  Loaded out;
  Result<Mapping> mapping = LoadMapping(std::string(WAYMARK_MAPPINGS_DIR) + "/" + mapping_name);
  if (!mapping.ok()) {
    out.status = mapping.status();
    return out;
  }
  out.status = ReadEventsFile(
      DataPath(data_file), &*mapping, ReadOptions{},
      [&](Event&& e) { out.events.push_back(std::move(e)); }, &out.stats);
  return out;
}

class DataSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(WAYMARK_DATA_DIR)) {
      GTEST_SKIP() << "data folder " << WAYMARK_DATA_DIR << " is missing";
    }
  }
};

const Value& Prop(const Event& e, std::string_view key) {
  static const Value kMissing("<missing>");
  const Value* v = e.properties.Find(key);
  return v == nullptr ? kMissing : *v;
}

TEST_F(DataSetTest, Rees46ReadsAllRowsAndReportsTheCutOffLine) {
  const std::string file = "rees46-multicategory-2019-oct-head/2019-Oct.csv";
  Loaded r = ReadDataSet("rees46.yaml", file);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.stats.events, 17434u);
  EXPECT_EQ(r.stats.bad_rows, 1u);
  EXPECT_EQ(r.stats.lines, 17436u);
  ASSERT_EQ(r.stats.first_bad.size(), 1u);
  EXPECT_EQ(r.stats.first_bad[0].ToString(),
            DataPath(file) + ":17436:107: expected 9 fields, got 8");

  const Event& first = r.events[0];
  EXPECT_EQ(first.type, EventType::kTrack);
  EXPECT_EQ(first.name, "Product Viewed");
  EXPECT_EQ(first.user_id, "541312140");
  EXPECT_EQ(first.timestamp, Iso("2019-10-01T00:00:00Z"));
  EXPECT_EQ(first.source, DataPath(file) + ":2");
  EXPECT_EQ(first.properties.ToJson(),
            "{\"product_id\":\"44600062\",\"category_id\":\"2103807459595387724\","
            "\"brand\":\"shiseido\",\"price\":35.79,"
            "\"session\":\"72d76fde-8bb3-4e00-8c23-a032dfed738c\"}");

  const Event& purchase = r.events[162];  // line 164
  EXPECT_EQ(purchase.source, DataPath(file) + ":164");
  EXPECT_EQ(purchase.name, "Order Completed");
  EXPECT_EQ(purchase.timestamp, Iso("2019-10-01T00:02:14Z"));
  EXPECT_EQ(Prop(purchase, "category_code"), Value("electronics.smartphone"));
  EXPECT_EQ(Prop(purchase, "price"), Value(130.76));

  std::map<std::string, int> names;
  std::set<std::string> ids;
  for (const Event& e : r.events) {
    ++names[e.name];
    ids.insert(e.message_id);
  }
  EXPECT_EQ(names["Product Viewed"], 17055);
  EXPECT_EQ(names["Product Added"], 165);
  EXPECT_EQ(names["Order Completed"], 214);
  EXPECT_EQ(ids.size(), 17434u - 5u);  // the 5 exact duplicate rows share their ids
}

TEST_F(DataSetTest, TaobaoReadsHeaderlessCrlfEpochSeconds) {
  Loaded r = ReadDataSet("taobao.yaml", "taobao-userbehavior-head/UserBehavior1.csv");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  // 15 rows lie before the data set's window (mapping: timestamp.from): bad rows, with lines.
  EXPECT_EQ(r.stats.events, 30943u);
  EXPECT_EQ(r.stats.bad_rows, 15u);
  ASSERT_FALSE(r.stats.first_bad.empty());
  const BadRow& bad = r.stats.first_bad.front();
  EXPECT_TRUE(bad.where.ends_with("/UserBehavior1.csv:4170:27")) << bad.where;
  EXPECT_EQ(bad.message,
            "column 'timestamp': time 2017-09-11T08:16:39Z is outside the mapping's window "
            "[2017-11-24T16:00:00Z, 2017-12-03T16:00:00Z)");
  const Event& first = r.events.front();
  EXPECT_EQ(first.name, "Product Viewed");
  EXPECT_EQ(first.user_id, "1");
  EXPECT_EQ(first.timestamp, FromMillis(1511561733000));
  EXPECT_EQ(first.timezone, "Asia/Shanghai");
  EXPECT_EQ(first.properties.ToJson(), "{\"product_id\":\"2333346\",\"category_id\":\"2520771\"}");
  EXPECT_EQ(r.events.back().user_id, "100898");
  EXPECT_EQ(r.events.back().timestamp, FromMillis(1512278651000));

  std::map<std::string, int> names;
  std::set<std::string> ids;
  for (const Event& e : r.events) {
    ++names[e.name];
    ids.insert(e.message_id);
  }
  EXPECT_EQ(names["Product Viewed"], 27773);
  EXPECT_EQ(names["Product Added"], 1765);
  EXPECT_EQ(names["Product Favorited"], 767);
  EXPECT_EQ(names["Order Completed"], 638);
  EXPECT_EQ(ids.size(), 30943u);  // line-based ids: every row unique
}

TEST_F(DataSetTest, TmallComposesDatesInShanghai) {
  Loaded r = ReadDataSet("tmall.yaml", "tmall-ijcai15-user-log-head/user_log.csv");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.stats.events, 9999u);
  EXPECT_EQ(r.stats.bad_rows, 0u);
  const Event& first = r.events.front();  // 328862,323294,833,2882,2661,08,29,0,...
  EXPECT_EQ(first.user_id, "328862");
  EXPECT_EQ(first.name, "Product Viewed");
  EXPECT_EQ(first.timestamp, Iso("2015-08-28T16:00:00Z"));
  EXPECT_EQ(first.timezone, "Asia/Shanghai");
  EXPECT_EQ(first.properties.ToJson(),
            "{\"product_id\":\"323294\",\"category_id\":\"833\",\"merchant_id\":\"2882\","
            "\"brand_id\":\"2661\"}");

  const Event& no_brand = r.events[4429];  // line 4431: 198759,558012,346,2242,,11,11,2,...
  EXPECT_EQ(no_brand.name, "Order Completed");
  EXPECT_EQ(no_brand.timestamp, Iso("2015-11-10T16:00:00Z"));
  EXPECT_EQ(no_brand.properties.Find("brand_id"), nullptr);

  std::map<std::string, int> names;
  for (const Event& e : r.events) {
    ++names[e.name];
    EXPECT_EQ(e.properties.Find("gender"), nullptr);
  }
  EXPECT_EQ(names["Product Viewed"], 8750);
  EXPECT_EQ(names["Order Completed"], 672);
  EXPECT_EQ(names["Product Favorited"], 577);
}

TEST_F(DataSetTest, CdnowReadsWhitespaceColumnsKeepingZeroPadding) {
  Loaded r = ReadDataSet("cdnow.yaml", "cdnow-master/CDNOW_master.txt");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.stats.events, 69659u);
  EXPECT_EQ(r.stats.bad_rows, 0u);
  const Event& first = r.events.front();
  EXPECT_EQ(first.name, "Order Completed");
  EXPECT_EQ(first.user_id, "00001");
  EXPECT_EQ(first.timestamp, Iso("1997-01-01T00:00:00Z"));
  EXPECT_EQ(first.properties.ToJson(), "{\"number_of_cds\":1,\"revenue\":11.77}");
  const Event& last = r.events.back();
  EXPECT_EQ(last.user_id, "23570");
  EXPECT_EQ(last.timestamp, Iso("1997-03-26T00:00:00Z"));

  double revenue = 0;
  double cds = 0;
  for (const Event& e : r.events) {
    revenue += Prop(e, "revenue").as_number();
    cds += Prop(e, "number_of_cds").as_number();
  }
  EXPECT_NEAR(revenue, 2500315.63, 0.01);
  EXPECT_EQ(cds, 167881);
}

TEST_F(DataSetTest, DigineticaBuildsSessionIdsAndOffsets) {
  Loaded r = ReadDataSet("diginetica.yaml", "diginetica-sample/sample_train-item-views.csv");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.stats.events, 12391u);
  EXPECT_EQ(r.stats.bad_rows, 0u);
  const Event& first = r.events.front();  // 1;NA;81766;526309;2016-05-09
  EXPECT_EQ(first.name, "Product Viewed");
  EXPECT_EQ(first.user_id, "");
  EXPECT_EQ(first.anonymous_id, "session-1");
  EXPECT_EQ(first.timestamp, Iso("2016-05-09T00:08:46.309Z"));
  EXPECT_EQ(first.properties.ToJson(), "{\"product_id\":\"81766\"}");

  const Event& known = r.events[164];  // line 166: 48;2;24764;8863;2016-04-09
  EXPECT_EQ(known.user_id, "2");
  EXPECT_EQ(known.anonymous_id, "session-48");
  EXPECT_EQ(known.timestamp, Iso("2016-04-09T00:00:08.863Z"));

  const Event& last = r.events.back();  // 3999;NA;198848;13834;2016-04-17, no final newline
  EXPECT_EQ(last.anonymous_id, "session-3999");
  EXPECT_EQ(last.timestamp, Iso("2016-04-17T00:00:13.834Z"));

  int with_user = 0;
  std::set<std::string> sessions;
  for (const Event& e : r.events) {
    with_user += e.user_id.empty() ? 0 : 1;
    sessions.insert(e.anonymous_id);
  }
  EXPECT_EQ(with_user, 4710);
  EXPECT_EQ(sessions.size(), 2986u);
}

}  // namespace
}  // namespace waymark::ingest
