#include "core/value.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace waymark {
namespace {

TEST(ValueTest, MissingIsDistinctFromNull) {
  Value v = ParseJson(R"({"a": null})").value();
  ASSERT_NE(v.Find("a"), nullptr);
  EXPECT_TRUE(v.Find("a")->is_null());
  EXPECT_EQ(v.Find("b"), nullptr);
}

TEST(ValueTest, FindPathWalksListsAndObjects) {
  Value v = ParseJson(R"({"items": [{"price": 3.5}, {"price": 4}]})").value();
  ASSERT_NE(v.FindPath("items.1.price"), nullptr);
  EXPECT_EQ(v.FindPath("items.1.price")->as_number(), 4);
  EXPECT_EQ(v.FindPath("items.2.price"), nullptr);
  EXPECT_EQ(v.FindPath("items.x"), nullptr);
}

TEST(ValueTest, JsonRoundTripKeepsOrderAndUnicode) {
  std::string text = R"({"z":1,"a":"Grüße 🎉","n":[true,null,2.5]})";
  EXPECT_EQ(ParseJson(text).value().ToJson(), text);
}

TEST(ValueTest, ParseErrorsGiveLineAndColumn) {
  auto r = ParseJson("{\n  \"a\": tru\n}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("line 2, column", 0), 0u) << r.status().message();
}

TEST(ValueTest, SetReplacesAndMergeOverrides) {
  Value v;
  v.Set("a", 1);
  v.Set("a", 2);
  v.MergeFrom(ParseJson(R"({"b": "x", "a": 3})").value());
  EXPECT_EQ(v.ToJson(), R"({"a":3,"b":"x"})");
}

}  // namespace
}  // namespace waymark
