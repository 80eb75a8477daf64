#include "ingest/mapping.h"

#include <gtest/gtest.h>

namespace waymark::ingest {
namespace {

constexpr const char* kRequired =
    "event: Signed Up\n"
    "user_id: {column: u}\n"
    "timestamp: {column: t}\n";

std::string LoadError(const std::string& yaml) {
  Result<Mapping> m = ParseMapping(yaml, "m.yaml");
  return m.ok() ? "<loaded>" : m.status().message();
}

TEST(MappingTest, LoadsEveryPart) {
  Result<Mapping> m = ParseMapping(
      "format: csv\n"
      "delimiter: ';'\n"
      "quote: \"'\"\n"
      "header: false\n"
      "columns: [kind, user, session, day, offset, price]\n"
      "null_values: ['', NA]\n"
      "event: {column: kind, map: {v: Product Viewed}, default: Other, skip: [noise]}\n"
      "user_id: {column: user}\n"
      "anonymous_id: {column: session, prefix: s-}\n"
      "timestamp: {column: day, format: '%Y-%m-%d', timezone: Europe/Berlin,\n"
      "            plus: {column: offset, unit: s}}\n"
      "properties:\n"
      "  price: {column: price, type: number}\n"
      "  shop: {value: main}\n"
      "traits: {plan: {value: free}}\n"
      "context: {timezone: Asia/Shanghai}\n"
      "message_id: row_hash\n",
      "m.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->dialect.delimiter, ';');
  EXPECT_EQ(m->dialect.quote, '\'');
  EXPECT_FALSE(m->header);
  EXPECT_EQ(m->columns.size(), 6u);
  EXPECT_EQ(m->null_values, (std::vector<std::string>{"", "NA"}));
  EXPECT_EQ(m->constant_type, EventType::kTrack);
  EXPECT_EQ(m->event.map.at("v"), "Product Viewed");
  EXPECT_EQ(m->event.default_value, "Other");
  EXPECT_TRUE(m->event.skip.contains("noise"));
  ASSERT_EQ(m->anonymous_id.parts.size(), 2u);
  EXPECT_EQ(m->anonymous_id.parts[0].literal, "s-");
  EXPECT_EQ(m->timestamp.encoding, TimestampSpec::Encoding::kFormat);
  EXPECT_EQ(m->timestamp.zone_name, "Europe/Berlin");
  EXPECT_EQ(m->timestamp.plus_unit_millis, 1000);
  ASSERT_EQ(m->properties.size(), 2u);
  EXPECT_EQ(m->properties[0].first, "price");
  EXPECT_EQ(m->properties[0].second.kind, ValueKind::kNumber);
  EXPECT_EQ(m->properties[1].second.label, "value 'main'");
  EXPECT_EQ(m->traits[0].first, "plan");
  EXPECT_EQ(m->timezone, "Asia/Shanghai");
  EXPECT_EQ(m->message_id_source, MessageIdSource::kRowHash);
  ASSERT_EQ(m->column_refs.size(), 6u);
  EXPECT_EQ(m->column_refs[0].name, "kind");
  EXPECT_EQ(m->column_refs[0].pos.line, 7);
  EXPECT_EQ(m->column_refs[0].pos.col, 17);
}

TEST(MappingTest, DefaultsAreCsvWithHeaderAndEmptyMeaningAbsent) {
  Result<Mapping> m = ParseMapping(kRequired, "m.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->dialect.delimiter, ',');
  EXPECT_TRUE(m->dialect.quoting);
  EXPECT_TRUE(m->header);
  EXPECT_EQ(m->null_values, (std::vector<std::string>{""}));
  EXPECT_EQ(m->message_id_source, MessageIdSource::kLine);
  EXPECT_EQ(m->timestamp.encoding, TimestampSpec::Encoding::kIso);
  EXPECT_EQ(m->event.label, "value 'Signed Up'");
}

TEST(MappingTest, TemplateSplitsIntoLiteralsAndColumns) {
  Result<Mapping> m = ParseMapping(
      "event: E\nuser_id: {template: 'u-{a}{{x}}{b}'}\ntimestamp: {column: t}\n", "m.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const std::vector<ValuePart>& parts = m->user_id.parts;
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].literal, "u-");
  EXPECT_EQ(m->column_refs[size_t(parts[1].column)].name, "a");
  EXPECT_EQ(parts[2].literal, "{x}");
  EXPECT_EQ(m->column_refs[size_t(parts[3].column)].name, "b");
}

TEST(MappingTest, UnknownKeysAreErrorsWithPosition) {
  EXPECT_EQ(LoadError(std::string(kRequired) + "delimeter: ';'\n"),
            "m.yaml:4:1: unknown key 'delimeter'; expected one of: format, delimiter, header, "
            "columns, quote, null_values, type, event, user_id, anonymous_id, previous_id, "
            "group_id, timestamp, properties, traits, context, message_id");
  EXPECT_EQ(LoadError("event: E\nuser_id: {colum: u}\ntimestamp: {column: t}\n"),
            "m.yaml:2:11: unknown key 'colum' in 'user_id'; expected one of: column, value, "
            "template, prefix, map, default, skip");
  EXPECT_EQ(LoadError(std::string(kRequired) + "properties:\n  p: {column: p, typ: number}\n"),
            "m.yaml:5:18: unknown key 'typ' in 'properties.p'; expected one of: column, value, "
            "template, prefix, map, default, skip, type");
  EXPECT_EQ(LoadError("event: E\nuser_id: {column: u}\ntimestamp: {column: t, units: s}\n"),
            "m.yaml:3:24: unknown key 'units' in 'timestamp'; expected one of: column, template, "
            "unit, format, timezone, plus, from, until");
  EXPECT_EQ(LoadError(std::string(kRequired) + "context: {tz: UTC}\n"),
            "m.yaml:4:11: unknown key 'tz' in 'context'; expected one of: timezone");
}

TEST(MappingTest, DialectErrors) {
  EXPECT_EQ(LoadError(std::string(kRequired) + "format: tsv\n"),
            "m.yaml:4:9: format: unsupported format 'tsv'; use 'csv'");
  EXPECT_EQ(LoadError(std::string(kRequired) + "delimiter: ';;'\n"),
            "m.yaml:4:12: delimiter: expected one character or 'whitespace', got ';;'");
  EXPECT_EQ(LoadError(std::string(kRequired) + "delimiter: whitespace\nquote: '\"'\n"),
            "m.yaml:5:8: quote: not available with 'delimiter: whitespace'");
  EXPECT_EQ(LoadError(std::string(kRequired) + "quote: ','\n"),
            "m.yaml:4:8: quote: expected one character other than the delimiter, or 'none', "
            "got ','");
  EXPECT_EQ(LoadError(std::string(kRequired) + "header: maybe\n"),
            "m.yaml:4:9: header: expected true or false");
  EXPECT_EQ(LoadError(std::string(kRequired) + "header: false\n"),
            "m.yaml:1:1: columns: required when 'header' is false");
  EXPECT_EQ(LoadError(std::string(kRequired) + "null_values: NA\n"),
            "m.yaml:4:14: null_values: expected a list");
}

TEST(MappingTest, ColumnsListIsCheckedAtLoad) {
  EXPECT_EQ(LoadError(std::string(kRequired) + "header: false\ncolumns: [u, time]\n"),
            "m.yaml:3:21: column 't' is not in 'columns'");
  EXPECT_EQ(LoadError(std::string(kRequired) + "header: false\ncolumns: [u, t]\n"), "<loaded>");
}

TEST(MappingTest, ValueErrors) {
  EXPECT_EQ(LoadError("event: E\nuser_id: u\ntimestamp: {column: t}\n"),
            "m.yaml:2:10: user_id: expected {column: ...}, {value: ...} or {template: ...}, "
            "got 'u'");
  EXPECT_EQ(LoadError("event: E\nuser_id: {column: u, value: x}\ntimestamp: {column: t}\n"),
            "m.yaml:2:10: user_id: needs exactly one of 'column', 'value' or 'template'");
  EXPECT_EQ(LoadError("event: E\nuser_id: {prefix: x}\ntimestamp: {column: t}\n"),
            "m.yaml:2:10: user_id: needs exactly one of 'column', 'value' or 'template'");
  EXPECT_EQ(LoadError("event: [a]\nuser_id: {column: u}\ntimestamp: {column: t}\n"),
            "m.yaml:1:8: event: expected a value or a map with 'column', 'value' or 'template'");
  EXPECT_EQ(LoadError("event: {column: k, map: [a]}\nuser_id: {column: u}\n"
                      "timestamp: {column: t}\n"),
            "m.yaml:1:25: event.map: expected a map of 'from: to' values");
  EXPECT_EQ(LoadError(std::string(kRequired) + "properties:\n  price: price\n"),
            "m.yaml:5:10: properties.price: expected {column: ...}, {value: ...} or "
            "{template: ...}, got 'price'");
  EXPECT_EQ(LoadError(std::string(kRequired) + "properties:\n  p: {column: p, type: float}\n"),
            "m.yaml:5:24: properties.p.type: unknown type 'float'; expected string, number, "
            "integer or boolean");
  EXPECT_EQ(LoadError(std::string(kRequired) + "properties: [a]\n"),
            "m.yaml:4:13: properties: expected a map of names");
}

TEST(MappingTest, TemplateErrors) {
  auto with_user = [](const char* tmpl) {
    return LoadError(std::string("event: E\nuser_id: {template: '") + tmpl +
                     "'}\ntimestamp: {column: t}\n");
  };
  EXPECT_EQ(with_user("a-{b"), "m.yaml:2:21: user_id: template has an unclosed '{'");
  EXPECT_EQ(with_user("a-}"), "m.yaml:2:21: user_id: template has an unmatched '}'");
  EXPECT_EQ(with_user("a-{}"), "m.yaml:2:21: user_id: template has an empty '{}'");
  EXPECT_EQ(with_user("abc"),
            "m.yaml:2:21: user_id: template names no column; use 'value' for a constant");
}

TEST(MappingTest, TypeErrors) {
  EXPECT_EQ(LoadError(std::string(kRequired) + "type: trak\n"),
            "m.yaml:4:7: type: unknown event type 'trak'; expected track, identify, page, "
            "screen, alias or group");
  EXPECT_EQ(LoadError("type: identify\nuser_id: {column: u}\ntimestamp: {column: t}\n"),
            "<loaded>");
  EXPECT_EQ(LoadError("type: alias\nuser_id: {column: u}\ntimestamp: {column: t}\n"),
            "m.yaml:1:1: missing required key 'previous_id' (alias events need one)");
}

TEST(MappingTest, TimestampErrors) {
  auto with_ts = [](const char* ts) {
    return LoadError(std::string("event: E\nuser_id: {column: u}\ntimestamp: ") + ts + "\n");
  };
  EXPECT_EQ(with_ts("t"), "m.yaml:3:12: timestamp: expected a map with 'column' or 'template'");
  EXPECT_EQ(with_ts("{unit: s}"), "m.yaml:3:12: timestamp: needs 'column' or 'template'");
  EXPECT_EQ(with_ts("{column: t, template: '{a}'}"),
            "m.yaml:3:12: timestamp: 'column' and 'template' cannot be used together");
  EXPECT_EQ(with_ts("{column: t, unit: h}"),
            "m.yaml:3:30: timestamp.unit: expected 's' or 'ms', got 'h'");
  EXPECT_EQ(with_ts("{column: t, unit: s, format: '%Y'}"),
            "m.yaml:3:41: timestamp: 'unit' and 'format' cannot be used together");
  EXPECT_EQ(with_ts("{column: t, format: '%Y-%m-%d %Q'}"),
            "m.yaml:3:32: timestamp.format '%Y-%m-%d %Q': unsupported conversion '%Q' "
            "(supported: %Y %m %d %H %M %S %f %%)");
  EXPECT_EQ(with_ts("{column: t, format: '%Y%m%d', timezone: Mars/Base}"),
            "m.yaml:3:52: timestamp.timezone: unknown time zone 'Mars/Base'");
  EXPECT_EQ(with_ts("{column: t, unit: s, timezone: UTC}"),
            "m.yaml:3:43: timestamp.timezone: only used with 'format' (epoch and ISO-8601 times "
            "are absolute)");
  EXPECT_EQ(with_ts("{column: t, plus: {column: o}}"),
            "m.yaml:3:30: timestamp.plus: needs 'column' and 'unit'");
  EXPECT_EQ(with_ts("{column: t, plus: {column: o, unit: d}}"),
            "m.yaml:3:48: timestamp.plus.unit: expected 's' or 'ms', got 'd'");
  EXPECT_EQ(with_ts("{column: t, from: yesterday}"),
            "m.yaml:3:30: timestamp.from: 'yesterday' is not an ISO-8601 time (e.g. "
            "2017-11-25T00:00:00+08:00)");
  EXPECT_EQ(with_ts("{column: t, from: 2026-02-01, until: 2026-01-01}"),
            "m.yaml:3:49: timestamp.until: must be later than timestamp.from");
}

TEST(MappingTest, RequiredKeys) {
  EXPECT_EQ(LoadError("event: E\nuser_id: {column: u}\n"),
            "m.yaml:1:1: missing required key 'timestamp'");
  EXPECT_EQ(LoadError("event: E\ntimestamp: {column: t}\n"),
            "m.yaml:1:1: needs 'user_id' or 'anonymous_id' (or both)");
  EXPECT_EQ(LoadError("user_id: {column: u}\ntimestamp: {column: t}\n"),
            "m.yaml:1:1: missing required key 'event' (track events need a name)");
  EXPECT_EQ(LoadError("- a\n- b\n"), "m.yaml:1:1: expected a map of mapping keys at the top level");
}

TEST(MappingTest, ContextAndMessageIdErrors) {
  EXPECT_EQ(LoadError(std::string(kRequired) + "context: {timezone: Asia/Shangai}\n"),
            "m.yaml:4:21: context.timezone: unknown time zone 'Asia/Shangai'");
  EXPECT_EQ(LoadError(std::string(kRequired) + "message_id: hash\n"),
            "m.yaml:4:13: message_id: expected 'row_hash', 'line' or {column: ...}, got 'hash'");
}

TEST(MappingTest, YamlSyntaxErrorsHaveOneBasedPositions) {
  EXPECT_EQ(LoadError("event: E\nuser_id: {column: u\n"),
            "m.yaml:3:1: invalid YAML: end of map flow not found");
}

TEST(MappingTest, LoadMappingReportsMissingFile) {
  Result<Mapping> m = LoadMapping("/nonexistent/m.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kIoError);
  EXPECT_EQ(m.status().message(),
            "cannot open mapping '/nonexistent/m.yaml': No such file or directory");
}

TEST(MappingTest, BindColumnsResolvesNamesAndNamesTheSource) {
  Result<Mapping> m = ParseMapping(kRequired, "m.yaml");
  ASSERT_TRUE(m.ok());
  Result<std::vector<int>> bound = BindColumns(*m, {"x", "t", "u"}, "the header of d.csv");
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(*bound, (std::vector<int>{2, 1}));
  EXPECT_EQ(BindColumns(*m, {"x", "u"}, "the header of d.csv").status().message(),
            "m.yaml:3:21: column 't' is not in the header of d.csv");
}

}  // namespace
}  // namespace waymark::ingest
