#include "model/profile.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

Event Track(const char* name, const char* iso, double price = 0) {
  Event e;
  e.name = name;
  e.user_id = "u";
  e.timestamp = *ParseIsoTime(iso);
  e.properties = Value::EmptyObject();
  if (price > 0) e.properties.Set("price", price);
  return e;
}

TEST(ProfileTest, ComputesRevenueAndRecency) {
  Profile p;
  HistoryPolicy h;
  PurchaseSpec purchase;
  p.ApplyEvent(Track("Product Viewed", "2026-01-01T00:00:00Z"), h, purchase);
  p.ApplyEvent(Track("Order Completed", "2026-01-02T00:00:00Z", 19.5), h, purchase);
  p.ApplyEvent(Track("Order Completed", "2026-01-03T00:00:00Z", 0.5), h, purchase);
  EXPECT_EQ(p.event_count, 3u);
  EXPECT_EQ(p.order_count, 2u);
  EXPECT_DOUBLE_EQ(p.revenue, 20.0);
  EXPECT_EQ(FormatIsoTime(p.last_order_at), "2026-01-03T00:00:00Z");
  EXPECT_EQ(FormatIsoTime(p.first_seen), "2026-01-01T00:00:00Z");
  EXPECT_TRUE(p.history.empty());  // no condition asked for history
}

TEST(ProfileTest, KeepsOnlyWantedHistoryWithinHorizon) {
  Profile p;
  HistoryPolicy h;
  h.rules = {{"Product Viewed", std::chrono::hours(24)}};
  PurchaseSpec purchase;
  p.ApplyEvent(Track("Product Viewed", "2026-01-01T00:00:00Z"), h, purchase);
  p.ApplyEvent(Track("Order Completed", "2026-01-01T01:00:00Z"), h, purchase);
  p.ApplyEvent(Track("Product Viewed", "2026-01-01T12:00:00Z"), h, purchase);
  ASSERT_EQ(p.history.size(), 2u);  // the order is not counted by any condition
  p.PruneHistory(*ParseIsoTime("2026-01-02T06:00:00Z"), h);
  ASSERT_EQ(p.history.size(), 1u);
  EXPECT_EQ(FormatIsoTime(p.history[0].time), "2026-01-01T12:00:00Z");
  // Appending drops entries that have left their window.
  p.ApplyEvent(Track("Product Viewed", "2026-01-03T00:00:00Z"), h, purchase);
  ASSERT_EQ(p.history.size(), 1u);
  EXPECT_EQ(FormatIsoTime(p.history[0].time), "2026-01-03T00:00:00Z");
}

TEST(ProfileTest, IdentifySetsTraitsAndTimeZone) {
  Profile p;
  Event e;
  e.type = EventType::kIdentify;
  e.user_id = "u";
  e.timestamp = *ParseIsoTime("2026-01-01T00:00:00Z");
  e.traits = Value::EmptyObject();
  e.traits.Set("timezone", "Asia/Tokyo");
  e.traits.Set("name", "Zoë");
  EXPECT_TRUE(p.ApplyEvent(e, HistoryPolicy{}, PurchaseSpec{}));
  EXPECT_FALSE(p.ApplyEvent(e, HistoryPolicy{}, PurchaseSpec{}));  // nothing changed
  EXPECT_EQ(p.tz, FindTimeZone("Asia/Tokyo"));
}

TEST(ProfileTest, MergeKeepsKnownTraitsAndAddsCounters) {
  HistoryPolicy h;
  h.rules = {{"Product Viewed", Duration::max()}};
  Profile known, anon;
  known.key = "u1";
  known.traits.Set("name", "Known");
  anon.key = "anon-1";
  anon.traits.Set("name", "Anon");
  anon.traits.Set("city", "Oslo");
  known.ApplyEvent(Track("Product Viewed", "2026-01-02T00:00:00Z"), h, PurchaseSpec{});
  anon.ApplyEvent(Track("Product Viewed", "2026-01-01T00:00:00Z"), h, PurchaseSpec{});
  known.MergeFrom(std::move(anon), h);
  EXPECT_EQ(known.traits.Find("name")->as_string(), "Known");
  EXPECT_EQ(known.traits.Find("city")->as_string(), "Oslo");
  EXPECT_EQ(known.event_count, 2u);
  ASSERT_EQ(known.history.size(), 2u);
  EXPECT_EQ(FormatIsoTime(known.history[0].time), "2026-01-01T00:00:00Z");
  ASSERT_EQ(known.anonymous_ids.size(), 1u);
  EXPECT_EQ(known.anonymous_ids[0], "anon-1");
}

}  // namespace
}  // namespace waymark

namespace waymark {
namespace {

TEST(ProfileTest, DeliveryReportsAreNotCustomerActivity) {
  HistoryPolicy policy;
  policy.rules.push_back({"Message Sent", Duration::max(), false});
  PurchaseSpec purchase;
  Profile p;
  Event viewed;
  viewed.name = "Product Viewed";
  viewed.user_id = "u";
  viewed.timestamp = FromMillis(1000);
  p.ApplyEvent(viewed, policy, purchase);
  Event sent = viewed;
  sent.name = "Message Sent";
  sent.timestamp = FromMillis(5000);
  p.ApplyEvent(sent, policy, purchase);
  EXPECT_EQ(p.event_count, 1u);
  EXPECT_EQ(p.last_seen, FromMillis(1000));
  // Journeys still see it: a condition counting it finds it in the history.
  ASSERT_EQ(p.history.size(), 1u);
  EXPECT_EQ(p.history[0].name, "Message Sent");
  Event clicked = viewed;
  clicked.name = "Message Clicked";  // the customer's own doing
  clicked.timestamp = FromMillis(6000);
  p.ApplyEvent(clicked, policy, purchase);
  EXPECT_EQ(p.event_count, 2u);
  EXPECT_EQ(p.last_seen, FromMillis(6000));
}

}  // namespace
}  // namespace waymark
