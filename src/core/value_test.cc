#include "core/value.h"

#include <gtest/gtest.h>

#include <limits>

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

TEST(ValueTest, CopiesAndMovesBetweenTypes) {
  Value s("a string long enough to live on the heap");
  Value n(2.5);
  Value o = ParseJson(R"({"k": [1, "two", {"x": null}]})").value();
  Value copy = o;
  EXPECT_EQ(copy, o);
  copy = s;  // object -> string
  EXPECT_TRUE(copy.is_string());
  EXPECT_EQ(copy.as_string(), s.as_string());
  copy = n;  // string -> number
  EXPECT_EQ(copy.as_number(), 2.5);
  copy = o;  // number -> object
  EXPECT_EQ(copy.ToJson(), R"({"k":[1,"two",{"x":null}]})");
  Value moved = std::move(copy);
  EXPECT_EQ(moved, o);
  EXPECT_TRUE(copy.is_object());  // NOLINT(bugprone-use-after-move): moved-from keeps its type
  moved = Value();
  EXPECT_TRUE(moved.is_null());
  Value& self = moved;
  moved = self;
  EXPECT_TRUE(moved.is_null());
}

TEST(ValueTest, EqualityNeedsTheSameType) {
  EXPECT_NE(Value(1), Value("1"));
  EXPECT_NE(Value(true), Value(1));
  EXPECT_EQ(Value(), Value(nullptr));
  EXPECT_NE(Value(), Value::EmptyObject());
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(Value(nan), Value(nan));
  EXPECT_EQ(ParseJson(R"({"a":[1,{"b":2}]})").value(), ParseJson(R"({"a":[1,{"b":2}]})").value());
  EXPECT_NE(ParseJson(R"({"a":1,"b":2})").value(), ParseJson(R"({"b":2,"a":1})").value());
}

}  // namespace
}  // namespace waymark
