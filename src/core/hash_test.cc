#include "core/hash.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

TEST(HashTest, HexIdIsSixteenLowercaseDigits) {
  EXPECT_EQ(HexId(0), "0000000000000000");
  EXPECT_EQ(HexId(0x0123456789abcdefull), "0123456789abcdef");
  EXPECT_EQ(HexId(0xfedcba9876543210ull), "fedcba9876543210");
  EXPECT_EQ(HexId(~0ull), "ffffffffffffffff");
  EXPECT_EQ(HexId(42), "000000000000002a");
}

TEST(HashTest, SeedsAndValuesAreStable) {
  // Ids in stored state and outboxes depend on these exact values.
  EXPECT_EQ(HexId(Hash64("waymark")), HexId(XXH3_64bits_withSeed("waymark", 7, 0)));
  EXPECT_NE(Hash64("a", 1), Hash64("a", 2));
}

}  // namespace
}  // namespace waymark
