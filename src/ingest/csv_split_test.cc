#include "ingest/csv_split.h"

#include <gtest/gtest.h>

namespace waymark::ingest {
namespace {

std::vector<std::string> Texts(const CsvRecord& r) {
  std::vector<std::string> out;
  for (const CsvField& f : r.fields) out.emplace_back(f.text);
  return out;
}

using Strings = std::vector<std::string>;

TEST(CsvSplitterTest, SplitsLfCrlfAndMissingFinalNewline) {
  CsvSplitter s("a,b\r\nc,d\ne,f", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"a", "b"}));
  EXPECT_EQ(r.raw, "a,b");
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"c", "d"}));
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"e", "f"}));
  EXPECT_EQ(r.line, 3u);
  EXPECT_FALSE(s.Next(&r));
  EXPECT_EQ(s.lines(), 3u);
}

TEST(CsvSplitterTest, KeepsEmptyFieldsAndSkipsBlankLines) {
  CsvSplitter s(",x,\n\n\r\ny,,\n", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"", "x", ""}));
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"y", "", ""}));
  EXPECT_EQ(r.line, 4u);
  EXPECT_FALSE(s.Next(&r));
  EXPECT_EQ(s.lines(), 4u);
}

TEST(CsvSplitterTest, QuotedFieldsFollowRfc4180) {
  CsvSplitter s("\"a,1\",\"say \"\"hi\"\"\",\"\"\r\nplain,\"two\nlines\"\nlast,x", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"a,1", "say \"hi\"", ""}));
  EXPECT_EQ(r.raw, "\"a,1\",\"say \"\"hi\"\"\",\"\"");
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"plain", "two\nlines"}));
  EXPECT_EQ(r.line, 2u);
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"last", "x"}));
  EXPECT_EQ(r.line, 4u);
  EXPECT_FALSE(s.Next(&r));
}

TEST(CsvSplitterTest, QuoteInsideUnquotedFieldIsData) {
  CsvSplitter s("5\" disk,b\n", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"5\" disk", "b"}));
}

TEST(CsvSplitterTest, TextAfterClosingQuoteIsAnErrorAtThatByte) {
  CsvSplitter s("a,\"b\"c,d\nnext,1\n", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(r.error, "unexpected text after closing quote");
  EXPECT_EQ(PositionIn(r, r.error_at), std::make_pair(uint64_t(1), uint64_t(6)));
  ASSERT_TRUE(s.Next(&r));
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(Texts(r), (Strings{"next", "1"}));
  EXPECT_EQ(r.line, 2u);
}

TEST(CsvSplitterTest, UnterminatedQuoteRunsToTheEnd) {
  CsvSplitter s("a,b\nc,\"d\ne\n", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(r.error, "unterminated quoted field");
  EXPECT_EQ(PositionIn(r, r.error_at), std::make_pair(uint64_t(2), uint64_t(3)));
  EXPECT_FALSE(s.Next(&r));
  EXPECT_EQ(s.lines(), 3u);
}

TEST(CsvSplitterTest, PositionsAcrossEmbeddedLineBreaks) {
  CsvSplitter s("h\n\"x\ny\",zz\n", CsvDialect{});
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  ASSERT_TRUE(s.Next(&r));
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(PositionIn(r, r.fields[1].start), std::make_pair(uint64_t(3), uint64_t(4)));
}

TEST(CsvSplitterTest, WhitespaceDialectSplitsOnRuns) {
  CsvDialect d;
  d.whitespace = true;
  d.quoting = false;
  CsvSplitter s(" 00001 19970101  1   11.77\r\n   \r\n\t a\tb \r\n", d);
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"00001", "19970101", "1", "11.77"}));
  EXPECT_EQ(PositionIn(r, r.fields[0].start).second, 2u);
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"a", "b"}));
  EXPECT_EQ(r.line, 3u);
  EXPECT_FALSE(s.Next(&r));
}

TEST(CsvSplitterTest, OtherDelimiterAndQuoteCharacter) {
  CsvDialect d;
  d.delimiter = ';';
  d.quote = '\'';
  CsvSplitter s("1;'a;b';NA\n", d);
  CsvRecord r;
  ASSERT_TRUE(s.Next(&r));
  EXPECT_EQ(Texts(r), (Strings{"1", "a;b", "NA"}));
}

TEST(CsvSplitterTest, EmptyInput) {
  CsvSplitter s("", CsvDialect{});
  CsvRecord r;
  EXPECT_FALSE(s.Next(&r));
  EXPECT_EQ(s.lines(), 0u);
}

}  // namespace
}  // namespace waymark::ingest
