#include "expr/expr.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace waymark::expr {
namespace {

Time At(const char* iso) { return *ParseIsoTime(iso); }

class ExprTest : public ::testing::Test {
 protected:
  ExprTest() {
    event_.name = "Product Viewed";
    event_.user_id = "u1";
    event_.timestamp = At("2026-05-01T12:00:00Z");
    event_.properties = ParseJson(R"({"price": 120, "category": "shoes", "tags": ["a","b"],
                                      "items": [{"sku": "X1"}], "name": "Grüße"})")
                            .value();
    profile_.key = "u1";
    profile_.traits = ParseJson(R"({"country": "DE", "vip": true, "name": "Zoë 🎉"})").value();
    policy_.rules = {{"Product Viewed", Duration::max(), true},
                     {"Order Completed", Duration::max()}};
    ctx_.profile = &profile_;
    ctx_.event = &event_;
    ctx_.now = event_.timestamp;
  }

  bool Holds(const char* text, CompileEnv env = {}) {
    auto e = Expr::Compile(text, env);
    EXPECT_TRUE(e.ok()) << text << ": " << e.status().message();
    return e.ok() && e->Test(ctx_);
  }

  std::string Error(const char* text, CompileEnv env = {}) {
    CompileError err;
    auto e = Expr::Compile(text, env, &err);
    EXPECT_FALSE(e.ok()) << text;
    return std::to_string(err.offset) + ": " + err.message;
  }

  void View(const char* time, const char* category) {
    Event e;
    e.name = "Product Viewed";
    e.timestamp = At(time);
    e.properties = Value::EmptyObject();
    e.properties.Set("category", category);
    profile_.ApplyEvent(e, policy_, PurchaseSpec{});
  }

  Event event_;
  Profile profile_;
  HistoryPolicy policy_;
  EvalContext ctx_;
};

TEST_F(ExprTest, ComparesPropertiesAndTraits) {
  EXPECT_TRUE(Holds("event.price >= 100 and profile.country == \"DE\""));
  EXPECT_TRUE(Holds("event.properties.price > 119.5"));
  EXPECT_FALSE(Holds("event.price < 100"));
  EXPECT_TRUE(Holds("profile.traits.vip == true"));
  EXPECT_TRUE(Holds("profile.country in [\"AT\", \"DE\"]"));
  EXPECT_TRUE(Holds("profile.country not in [\"FR\"]"));
  EXPECT_TRUE(Holds("event.name == 'Product Viewed' and event.userId == 'u1'"));
}

TEST_F(ExprTest, MissingValuesAreFalseExceptNotEqual) {
  EXPECT_FALSE(Holds("event.color == \"red\""));
  EXPECT_TRUE(Holds("event.color != \"red\""));
  EXPECT_FALSE(Holds("event.color < 3"));
  EXPECT_FALSE(Holds("event.color in [\"red\"]"));
  EXPECT_TRUE(Holds("not exists(event.color)"));
  EXPECT_TRUE(Holds("event.color == null"));
  EXPECT_TRUE(Holds("exists(event.price)"));
  EXPECT_FALSE(Holds("profile.missing.deeper == 1"));
}

TEST_F(ExprTest, StringAndListOperators) {
  EXPECT_TRUE(Holds("event.category starts_with \"sh\""));
  EXPECT_TRUE(Holds("event.category ends_with \"oes\""));
  EXPECT_TRUE(Holds("event.category contains \"hoe\""));
  EXPECT_TRUE(Holds("event.tags contains \"b\""));
  EXPECT_FALSE(Holds("event.tags contains \"c\""));
  EXPECT_TRUE(Holds("event.items.0.sku == \"X1\""));
}

TEST_F(ExprTest, UnicodeStringsCompareByBytes) {
  EXPECT_TRUE(Holds("profile.name == \"Zoë 🎉\""));
  EXPECT_TRUE(Holds("event.name == \"Product Viewed\""));  // the field, not the property
  EXPECT_TRUE(Holds("event.properties.name == \"Grüße\""));
}

TEST_F(ExprTest, TimestampsAndNow) {
  profile_.last_order_at = At("2026-03-01T00:00:00Z");
  EXPECT_TRUE(Holds("profile.last_order_at < now - 30d"));
  EXPECT_FALSE(Holds("profile.last_order_at < now - 90d"));
  EXPECT_TRUE(Holds("event.timestamp > \"2026-04-30T00:00:00Z\""));
  Time next = kTimeMax;
  ctx_.next_change = &next;
  ASSERT_TRUE(Holds("profile.last_order_at > now - 90d"));
  EXPECT_EQ(FormatIsoTime(next), "2026-05-30T00:00:00.001Z");
}

TEST_F(ExprTest, HistoryCountsWithWindowAndWhere) {
  View("2026-04-20T00:00:00Z", "shoes");
  View("2026-04-28T00:00:00Z", "shoes");
  View("2026-04-29T00:00:00Z", "hats");
  View("2026-04-30T00:00:00Z", "shoes");
  EXPECT_TRUE(
      Holds("count(\"Product Viewed\", within: 7d, where: event.category == \"shoes\") == 2"));
  EXPECT_TRUE(Holds("count(\"Product Viewed\") == 4"));
  EXPECT_TRUE(Holds("did(\"Product Viewed\", within: 2d)"));
  EXPECT_FALSE(Holds("did(\"Order Completed\")"));
  Time next = kTimeMax;
  ctx_.next_change = &next;
  Holds("count(\"Product Viewed\", within: 7d) >= 3");
  EXPECT_EQ(FormatIsoTime(next), "2026-05-05T00:00:00.001Z");
}

TEST_F(ExprTest, NextChangeOfHistoryFunctionsIsTheFirstFlip) {
  // Forty views a day apart: the windows below hold more matches than the evaluator keeps times
  // of in its first pass.
  for (int i = 0; i < 40; ++i) {
    Event e;
    e.name = "Product Viewed";
    e.timestamp = At("2026-03-20T06:00:00Z") + std::chrono::hours(24 * i);
    e.properties = Value::EmptyObject();
    e.properties.Set("category", i % 3 == 0 ? "shoes" : "hats");
    profile_.ApplyEvent(e, policy_, PurchaseSpec{});
  }
  const char* conditions[] = {
      "count(\"Product Viewed\", within: 30d) >= 3",
      "count(\"Product Viewed\", within: 30d) >= 25",
      "count(\"Product Viewed\", within: 30d) > 20",
      "count(\"Product Viewed\", within: 30d) < 12",
      "12 <= count(\"Product Viewed\", within: 30d)",
      "count(\"Product Viewed\", within: 30d) == 20",
      "count(\"Product Viewed\", within: 30d) != 25",
      "count(\"Product Viewed\", within: 30d, where: event.category == \"shoes\") >= 4",
      "did(\"Product Viewed\", within: 20d)",
      "last(\"Product Viewed\", within: 20d) > now - 50d",
      "count(\"Product Viewed\", within: 30d) + 0 >= 3",
  };
  for (const char* text : conditions) {
    SCOPED_TRACE(text);
    auto e = Expr::Compile(text, CompileEnv{});
    ASSERT_TRUE(e.ok()) << e.status().message();
    Time next = kTimeMax;
    ctx_.next_change = &next;
    bool now_value = e->Test(ctx_);
    // The first instant after now, with no new events, at which the value differs: values only
    // change as a view leaves a window, 1 ms past its time + window.
    EvalContext later = ctx_;
    later.next_change = nullptr;
    Time first_flip = kTimeMax;
    for (const HistoryEntry& h : profile_.history) {
      for (Duration window : {std::chrono::hours(24 * 20), std::chrono::hours(24 * 30)}) {
        Time t = h.time + window + Duration(1);
        if (t <= ctx_.now || t >= first_flip) continue;
        later.now = t;
        if (e->Test(later) != now_value) first_flip = t;
      }
    }
    ASSERT_NE(first_flip, kTimeMax);
    EXPECT_LE(next, first_flip);
    if (std::string_view(text).find("+ 0") == std::string_view::npos) {
      EXPECT_EQ(FormatIsoTime(next), FormatIsoTime(first_flip));
    }
  }
  ctx_.next_change = nullptr;
}

TEST_F(ExprTest, SinceEntryUsesInstanceEntryTime) {
  View("2026-04-20T00:00:00Z", "shoes");
  View("2026-04-30T00:00:00Z", "shoes");
  ctx_.entered_at = At("2026-04-25T00:00:00Z");
  CompileEnv env;
  env.allow_entry = true;
  EXPECT_TRUE(Holds("count(\"Product Viewed\", since: entry) == 1", env));
}

TEST_F(ExprTest, TriggerContextForKeyedWaits) {
  Event trigger;
  trigger.name = "Product Added";
  trigger.properties = ParseJson(R"({"cart_id": "A"})").value();
  ctx_.trigger = &trigger;
  event_.properties.Set("cart_id", "B");
  CompileEnv env;
  env.allow_trigger = true;
  EXPECT_FALSE(Holds("event.cart_id == trigger.cart_id", env));
  event_.properties.Set("cart_id", "A");
  EXPECT_TRUE(Holds("event.cart_id == trigger.cart_id", env));
}

TEST_F(ExprTest, LastMessageOfTheInstance) {
  CompileEnv env;
  env.allow_trigger = true;
  event_.name = "Message Opened";
  event_.properties.Set("message_id", "00000000000000ab");
  // No message sent yet: every field is missing.
  EXPECT_FALSE(Holds("event.message_id == last_message.id", env));
  EXPECT_TRUE(Holds("event.message_id != last_message.id", env));
  EXPECT_FALSE(Holds("exists(last_message.sent_at)", env));

  ctx_.last_message =
      MessageView{"00000000000000ab", "email", "welcome", At("2026-05-01T10:00:00Z")};
  EXPECT_TRUE(Holds("event.message_id == last_message.id", env));
  EXPECT_TRUE(Holds("last_message.channel == \"email\" and last_message.step == \"welcome\"", env));
  EXPECT_TRUE(Holds("last_message.sent_at < now - 1h", env));
  EXPECT_FALSE(Holds("last_message.sent_at < now - 3h", env));
  ctx_.last_message.id = "00000000000000cd";
  EXPECT_FALSE(Holds("event.message_id == last_message.id", env));

  auto e = Expr::Compile("last_message.id == event.message_id", env);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Explain(ctx_),
            "last_message.id = \"00000000000000cd\", event.message_id = \"00000000000000ab\"");
}

TEST_F(ExprTest, LastMessageErrors) {
  CompileEnv env;
  env.allow_trigger = true;
  EXPECT_EQ(Error("last_message.id == \"x\""),
            "0: 'last_message' is only available inside a journey");
  EXPECT_EQ(Error("last_message == \"x\"", env),
            "0: 'last_message' needs a field: id, channel, step or sent_at");
  EXPECT_EQ(Error("last_message.time > now", env),
            "13: unknown field 'time' of last_message (id, channel, step or sent_at)");
  EXPECT_EQ(Error("last_message.id.x == 1", env), "15: last_message.id has no fields");
  EXPECT_EQ(Error("last_message.sent_at == 3", env), "21: cannot compare timestamp with number");
}

TEST_F(ExprTest, TypeErrorsAreCaughtAtCompileTime) {
  EXPECT_EQ(Error("profile.revenue == \"lots\""), "16: cannot compare number with string");
  EXPECT_EQ(Error("count(\"X\") > true"), "11: cannot compare number with boolean");
  EXPECT_EQ(Error("event.timestamp > \"yesterday\""),
            "18: 'yesterday' is not a timestamp (use ISO 8601)");
  EXPECT_EQ(Error("profile.revenue and true"),
            "0: 'and' needs conditions on both sides, got a number");
  EXPECT_EQ(Error("event.price = 3"), "12: use '==' to compare");
}

TEST_F(ExprTest, SyntaxErrorsPointAtTheProblem) {
  EXPECT_EQ(Error("event.price >"), "13: unexpected end of condition");
  EXPECT_EQ(Error("customer.age > 3"),
            "0: unknown name 'customer' (conditions start with event., "
            "trigger., profile., last_message., or a function such as count(...))");
  EXPECT_EQ(Error("count(\"X\", within: 7)"), "19: within: takes a duration like 7d");
  EXPECT_EQ(Error("count(\"X\", within: 7x)"),
            "19: bad duration '7x' (missing or unknown unit; "
            "use ms, s, m, h, d or w)");
  EXPECT_EQ(Error("event.a == \"x"), "11: unterminated string");
  EXPECT_EQ(Error("trigger.cart_id == 1"), "0: 'trigger' is only available inside a journey");
  EXPECT_EQ(Error("foo(1)"),
            "0: unknown function 'foo' (known: count, did, last, exists, "
            "in_segment)");
}

TEST_F(ExprTest, HistoryNeedsAreReported) {
  auto e = Expr::Compile("count(\"A\", within: 7d) > 1 or did(\"A\", within: 9d) or did(\"B\")",
                         CompileEnv{});
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->history_needs().size(), 2u);
  EXPECT_EQ(e->history_needs()[0].horizon, std::chrono::hours(24 * 9));
  EXPECT_EQ(e->history_needs()[1].horizon, Duration::max());
  EXPECT_TRUE(e->time_dependent());
}

TEST_F(ExprTest, SegmentMembership) {
  std::vector<std::string> names = {"vip", "lapsed"};
  std::vector<uint8_t> in = {0, 1};
  ctx_.segments = &in;
  CompileEnv env;
  env.segment_names = &names;
  EXPECT_TRUE(Holds("in_segment(\"lapsed\") and not in_segment(\"vip\")", env));
  EXPECT_EQ(Error("in_segment(\"nope\")", env), "11: unknown segment 'nope'");
}

}  // namespace
}  // namespace waymark::expr
