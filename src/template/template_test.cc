#include "template/template.h"

#include <gtest/gtest.h>

namespace waymark {
namespace {

TEST(TemplateTest, Placeholder) { EXPECT_TRUE(Template::Parse("x").ok()); }

}  // namespace
}  // namespace waymark
