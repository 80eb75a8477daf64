#include "template/template.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json.h"
#include "core/local_time.h"
#include "core/time.h"

namespace waymark {
namespace {

Value Vars(std::string_view json) {
  Result<Value> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : Value();
}

const Value& Cart() {
  static const Value v = Vars(R"({
    "profile": {"first_name": "ann", "traits": {"tier": "gold", "tags": ["a", "b", "a"]}},
    "event": {"name": "Cart Abandoned", "timestamp": "2024-02-29T13:05:09Z",
              "items": [{"name": "Shoe", "price": 19.99, "quantity": 1},
                        {"name": "Sock", "price": 4.5, "quantity": 3}]},
    "message": {"promo_code": "SAVE10"},
    "nums": [3, 1, 2], "none": [], "nil": null, "n": 7, "s": "héllo wörld"})");
  return v;
}

// Renders `text` with `vars`; on any error returns "ERROR: <message>".
std::string Render(std::string_view text, const Value& vars = Cart(),
                   const RenderOptions& opts = {}) {
  Result<Template> t = Template::Parse(text);
  if (!t.ok()) return "ERROR: " + t.status().message();
  std::string out;
  Status st = t->Render(vars, opts, &out);
  if (!st.ok()) return "ERROR: " + st.message();
  return out;
}

std::string ParseError(std::string_view text) {
  Result<Template> t = Template::Parse(text);
  if (t.ok()) return "parsed";
  EXPECT_EQ(t.status().code(), Status::Code::kParseError);
  return t.status().message();
}

TEST(TemplateTest, RendersTextAndVariables) {
  EXPECT_EQ(Render("Hi {{ profile.first_name }}!"), "Hi ann!");
  EXPECT_EQ(Render("{{ event.items[1].name }} {{ event.items.first.name }}"), "Sock Shoe");
  EXPECT_EQ(Render("{{ profile['traits'][\"tier\"] }}"), "gold");
  EXPECT_EQ(Render("{{ nums.size }} {{ nums.last }} {{ nums[-1] }}"), "3 2 2");
  EXPECT_EQ(Render("[{{ missing }}{{ missing.x.y }}{{ nil }}]"), "[]");
}

TEST(TemplateTest, FormatsNumbersLikeLiquidjs) {
  EXPECT_EQ(Render("{{ 1.0 }} {{ 2.50 }} {{ 10 | divided_by: 4 }} {{ 0.1 | plus: 0.2 }}"),
            "1 2.5 2.5 0.30000000000000004");
  EXPECT_EQ(Render("{{ 1000000000000000000000 }} {{ 0.0000001 }}"), "1e+21 1e-7");
  EXPECT_EQ(Render("{{ 10 | divided_by: 4, true }}"), "2");
}

TEST(TemplateTest, ConditionsEvaluateRightToLeft) {
  EXPECT_EQ(Render("{% if true and false or true %}y{% else %}n{% endif %}"), "y");
  EXPECT_EQ(Render("{% if false or true and false %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if 0 %}0{% endif %}{% if '' %}e{% endif %}{% if nil %}x{% endif %}"), "0e");
  EXPECT_EQ(Render("{% if nums contains 2 %}c{% endif %}{% if s contains 'wö' %}u{% endif %}"),
            "cu");
  EXPECT_EQ(Render("{% unless n > 5 %}small{% else %}big{% endunless %}"), "big");
  EXPECT_EQ(Render("{% if n < 5 %}a{% elsif n <= 7 %}b{% else %}c{% endif %}"), "b");
}

TEST(TemplateTest, CaseMatchesOrAndCommaValues) {
  EXPECT_EQ(Render("{% for v in (1..4) %}{% case v %}{% when 1 or 2 %}a{% when 3, 4 %}b"
                   "{% endcase %}{% endfor %}"),
            "aabb");
  EXPECT_EQ(Render("{% case 'x' %}{% when 'y' %}y{% else %}other{% endcase %}"), "other");
}

TEST(TemplateTest, ForLoopsWithModifiersAndForloop) {
  EXPECT_EQ(Render("{% for x in (1..10) limit: 3 offset: 2 %}{{ x }}{% endfor %}"), "345");
  EXPECT_EQ(Render("{% for x in nums reversed %}{{ x }}{% endfor %}"), "213");
  EXPECT_EQ(Render("{% for x in none %}x{% else %}none{% endfor %}"), "none");
  EXPECT_EQ(Render("{% for x in nums %}{{ forloop.index }}/{{ forloop.rindex0 }}"
                   "{% if forloop.first %}F{% endif %}{% if forloop.last %}L{% endif %} "
                   "{% endfor %}"),
            "1/2F 2/1 3/0L ");
  EXPECT_EQ(Render("{% for i in (1..2) %}{% for j in (1..2) %}{{ forloop.parentloop.index }}"
                   "{{ forloop.index }} {% endfor %}{% endfor %}"),
            "11 12 21 22 ");
  EXPECT_EQ(Render("{% for x in (1..9) %}{% if x == 2 %}{% continue %}{% endif %}"
                   "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "13");
}

TEST(TemplateTest, AssignCaptureAndCounters) {
  EXPECT_EQ(Render("{% assign t = event.items | map: 'price' | sum %}{{ t }}"), "24.49");
  EXPECT_EQ(Render("{% capture c %}Hi {{ profile.first_name }}{% endcapture %}[{{ c }}]"),
            "[Hi ann]");
  EXPECT_EQ(Render("{% increment c %}{% increment c %}{% decrement c %}"), "011");
  EXPECT_EQ(Render("{% raw %}{{ x }}{% endraw %}{% comment %}{{ y }}{% endcomment %}"), "{{ x }}");
}

TEST(TemplateTest, CaseElseKeepsWhatItCaptures) {
  // The else of a case used to hand its arena text back, so a later filter overwrote the capture.
  EXPECT_EQ(Render("{% case 1 %}{% when 2 %}two{% else %}{% capture c %}abcdefghijklmnopqrstuvwxyz"
                   "{% endcapture %}{% endcase %}{% capture d %}{{ 'Q' | upcase }}{% endcapture %}"
                   "[{{ c }}][{{ c | append: 'x' }}]"),
            "[abcdefghijklmnopqrstuvwxyz][abcdefghijklmnopqrstuvwxyzx]");
}

TEST(TemplateTest, WhitespaceControl) {
  EXPECT_EQ(Render("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(Render("<ul>\n  {%- for x in nums %}\n  <li>{{ x }}</li>\n  {%- endfor %}\n</ul>"),
            "<ul>\n  <li>3</li>\n  <li>1</li>\n  <li>2</li>\n</ul>");
  EXPECT_EQ(Render("x\n{% if true %}\ny\n{% endif %}\n"), "x\n\ny\n\n");
}

TEST(TemplateTest, StringFilters) {
  EXPECT_EQ(Render("{{ 'hello world' | capitalize }} {{ 'Ab' | upcase }}{{ 'Ab' | downcase }}"),
            "Hello world ABab");
  EXPECT_EQ(Render("[{{ '  x ' | strip }}][{{ '  x ' | lstrip }}][{{ '  x ' | rstrip }}]"),
            "[x][x ][  x]");
  EXPECT_EQ(Render("{{ 'Ground control to Major Tom.' | truncate: 20 }}"), "Ground control to...");
  EXPECT_EQ(Render("{{ 'one two three four' | truncatewords: 2 }}"), "one two...");
  EXPECT_EQ(Render("{{ '<a href=\"x\">&amp;</a>' | escape }}"),
            "&lt;a href=&#34;x&#34;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(Render("{{ '&amp; & <' | escape_once }}"), "&amp; &amp; &lt;");
  EXPECT_EQ(Render("{{ 'a b&c' | url_encode }}"), "a+b%26c");
  EXPECT_EQ(Render("{{ 'a' | append: 'b' | prepend: 'c' }}"), "cab");
  EXPECT_EQ(Render("{{ 'a-b-c' | replace: '-', '+' }} {{ 'a-b-c' | replace_first: '-', '+' }}"),
            "a+b+c a+b-c");
  EXPECT_EQ(Render("{{ 'a-b-c' | remove: '-' }}"), "abc");
  EXPECT_EQ(Render("{{ 'a,b' | split: ',' | join: ' & ' }}"), "a & b");
  EXPECT_EQ(Render("{{ 'a\nb' | newline_to_br }}"), "a<br />\nb");
  EXPECT_EQ(Render("{{ '<p>x<b>y</b></p>' | strip_html }}"), "xy");
  EXPECT_EQ(Render("{{ 'hello' | slice: 1, 3 }}"), "ell");
  EXPECT_EQ(Render("{{ missing | default: 'd' }} {{ false | default: 'd', allow_false: true }}"),
            "d false");
}

TEST(TemplateTest, UnicodeStringsFollowJavaScript) {
  EXPECT_EQ(Render("{{ s | upcase }}"), "HÉLLO WÖRLD");
  EXPECT_EQ(Render("{{ 'ÀÉ ΑΒ ДЖ' | downcase }} {{ 'straße' | upcase }}"), "àé αβ дж STRASSE");
  EXPECT_EQ(Render("{{ s | size }} {{ 'a😀' | size }}"), "11 3");  // UTF-16 code units
  EXPECT_EQ(Render("{{ s | slice: 1, 4 }} {{ s | truncate: 5 }}"), "éllo hé...");
}

TEST(TemplateTest, ListFilters) {
  EXPECT_EQ(Render("{{ nums | sort | join: ',' }} {{ nums | reverse | join: ',' }}"),
            "1,2,3 2,1,3");
  EXPECT_EQ(Render("{{ nums | first }}{{ nums | last }}{{ nums | size }}"), "323");
  EXPECT_EQ(Render("{{ profile.traits.tags | uniq | join }}"), "a b");
  EXPECT_EQ(Render("{{ event.items | map: 'name' | join: ',' }}"), "Shoe,Sock");
  EXPECT_EQ(Render("{{ event.items | where: 'quantity', 3 | map: 'name' }}"), "Sock");
  EXPECT_EQ(Render("{{ nums | concat: none | concat: nums | size }}"), "6");
  EXPECT_EQ(Render("{{ '1,,2' | split: ',' | compact | size }}"), "3");
  EXPECT_EQ(Render("{{ nums | slice: 1, 2 | join: ',' }}"), "1,2");
}

TEST(TemplateTest, MathFilters) {
  EXPECT_EQ(Render("{{ 5 | plus: 2 }} {{ 5 | minus: 7 }} {{ 3 | times: 1.5 }} {{ 7 | modulo: 3 }}"),
            "7 -2 4.5 1");
  EXPECT_EQ(Render("{{ 3.14159 | round: 2 }} {{ 2.5 | round }} {{ 1.2 | ceil }} {{ 1.8 | floor }}"),
            "3.14 3 2 1");
  EXPECT_EQ(Render("{{ -3 | abs }} {{ 4 | at_least: 5 }} {{ 4 | at_most: 3 }}"), "3 5 3");
}

TEST(TemplateTest, MoneyIsOurs) {
  EXPECT_EQ(Render("{{ 12.5 | money: '€' }}"), "€12.50");
  EXPECT_EQ(Render("{{ 12.5 | money }}"), "12.50");
  EXPECT_EQ(Render("{{ 2.675 | money: '$' }} {{ 0.005 | money }} {{ 9.999 | money }}"),
            "$2.68 0.01 10.00");
  EXPECT_EQ(Render("{{ -3.5 | money: '€' }} {{ -0.001 | money }}"), "-€3.50 0.00");
  // Whole cents take a shorter path than the other values; both round on the shortest form.
  EXPECT_EQ(Render("{{ 1.005 | money }} {{ 0.015 | money }} {{ 129.9 | money: '€' }}"),
            "1.01 0.02 €129.90");
  EXPECT_EQ(Render("{{ 15 | money }} {{ 10000000000000 | money }}"), "15.00 10000000000000.00");
  EXPECT_EQ(Render("{{ 12345678901234.5 | money }} {{ 9999999999999.995 | money }}"),
            "12345678901234.50 9999999999999.99");
  EXPECT_EQ(Render("{{ -0.004 | money: '$' }} {{ 0.1 | plus: 0.2 | money }}"), "$0.00 0.30");
  EXPECT_EQ(Render("{{ '19.9' | money }} [{{ missing | money }}]"), "19.90 []");
  EXPECT_EQ(Render("{{ event.items[0].price | times: 3 | money: '£' }}"), "£59.97");
  EXPECT_EQ(Render("{{ 'abc' | money }}"), "ERROR: 1:12: money: 'abc' is not a number");
}

TEST(TemplateTest, DateUsesZoneAndNow) {
  RenderOptions opts;
  opts.now = *ParseIsoTime("2026-03-08T10:30:00Z");
  EXPECT_EQ(Render("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", Cart(), opts), "2026-03-08 10:30");
  EXPECT_EQ(Render("{{ 'today' | date: '%A' }}", Cart(), opts), "Sunday");
  opts.tz = FindTimeZone("America/New_York");
  ASSERT_NE(opts.tz, nullptr);
  // 10:30 UTC on the day DST starts in New York is 06:30 EDT.
  EXPECT_EQ(Render("{{ 'now' | date: '%H:%M %z %Z' }}", Cart(), opts),
            "06:30 -0400 America/New_York");
  EXPECT_EQ(Render("{{ event.timestamp | date: '%b %-d %-I:%M %p' }}", Cart(), opts),
            "Feb 29 8:05 AM");
  EXPECT_EQ(Render("{{ 1709211909 | date: '%F %T' }}"), "2024-02-29 13:05:09");
  EXPECT_EQ(Render("[{{ missing | date: '%Y' }}]"), "[]");
}

TEST(TemplateTest, RenderErrorsLeaveOutputUntouched) {
  Result<Template> t = Template::Parse("Hello {{ profile.first_name }}, {{ 10 | divided_by: 0 }}");
  ASSERT_TRUE(t.ok());
  std::string out = "kept|";
  Status st = t->Render(Cart(), {}, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "1:41: divided_by: division by zero");
  EXPECT_EQ(out, "kept|");

  EXPECT_EQ(Render("{{ 1 | modulo: 0 }}"), "ERROR: 1:8: modulo: division by zero");
  EXPECT_EQ(Render("{{ 'soon' | date: '%Y' }}"), "ERROR: 1:13: date: 'soon' is not a date");
  EXPECT_EQ(Render("{{ true | date: '%Y' }}"), "ERROR: 1:11: date: 'true' is not a date");
  EXPECT_EQ(Render("{% for i in (1..100000000) %}{% endfor %}").substr(0, 13), "ERROR: range ");

  // A failed render inside a loop, after output was produced, still leaves nothing behind.
  Result<Template> loop = Template::Parse(
      "{% for i in nums %}{{ i }}{{ i | minus: 1 | "
      "divided_by: 0 }}{% endfor %}");
  ASSERT_TRUE(loop.ok());
  std::string out2;
  EXPECT_FALSE(loop->Render(Cart(), {}, &out2).ok());
  EXPECT_EQ(out2, "");

  // Nor does a last filter that writes its text straight into the output, in a capture or not.
  Result<Template> money = Template::Parse(
      "{% capture c %}{{ 'a' | upcase }}{{ 'b' | money: '€' }}{% endcapture %}{{ c }}");
  ASSERT_TRUE(money.ok());
  std::string out3 = "kept|";
  st = money->Render(Cart(), {}, &out3);
  EXPECT_EQ(st.message(), "1:43: money: 'b' is not a number");
  EXPECT_EQ(out3, "kept|");
}

TEST(TemplateTest, ParseErrorsCarryLineAndColumn) {
  EXPECT_EQ(ParseError("{% frobnicate %}"), "1:1: unknown tag 'frobnicate'");
  EXPECT_EQ(ParseError("a\n  {{ x | frobnicate }}"), "2:10: unknown filter 'frobnicate'");
  EXPECT_EQ(ParseError("line1\n{% if x %}\nyes"), "2:1: tag 'if' is not closed");
  EXPECT_EQ(ParseError("{% for x in nums %}"), "1:1: tag 'for' is not closed");
  EXPECT_EQ(ParseError("ab {{ x"), "1:4: output '{{' is not closed with '}}'");
  EXPECT_EQ(ParseError("{% endif %}"), "1:1: unexpected tag 'endif'");
  EXPECT_EQ(ParseError("{{ a b }}"), "1:6: unexpected 'b '");
  EXPECT_EQ(ParseError("{{ }}"), "1:4: expected a value");
  EXPECT_EQ(ParseError("{{ 'abc }}"), "1:4: unterminated string");
  EXPECT_EQ(ParseError("{{ x | }}"), "1:8: expected a filter name after '|'");
  EXPECT_EQ(ParseError("{{ x | append }}"), "1:8: filter 'append' needs 1 argument");
  EXPECT_EQ(ParseError("{{ x | upcase: 1 }}"), "1:8: filter 'upcase' takes at most 0 arguments");
  EXPECT_EQ(ParseError("{% for x nums %}{% endfor %}"),
            "1:1: tag 'for' expects 'for variable in collection'");
  EXPECT_EQ(ParseError("{% for x in nums | uniq %}{% endfor %}"),
            "1:18: unexpected '| uniq ' in tag 'for'");
  EXPECT_EQ(ParseError("{% if a <> b %}{% endif %}"), "1:10: unexpected '>'; expected a value");
  EXPECT_EQ(ParseError("é{% if %}{% endif %}"), "1:8: expected a value");
  EXPECT_EQ(ParseError("{% if x %}{% else %}{% else %}{% endif %}"),
            "1:21: unexpected tag 'else' after 'else'");

  TemplateError error;
  Result<Template> t = Template::Parse("x\n\n   {% nope %}", &error);
  EXPECT_FALSE(t.ok());
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.col, 4);
  EXPECT_EQ(error.message, "unknown tag 'nope'");
}

TEST(TemplateTest, VariablesListsGlobalReads) {
  Result<Template> t = Template::Parse(
      "{{ profile.first_name }}{% for item in event.items %}{{ item.name }}{{ forloop.index }}"
      "{% endfor %}{% assign x = message.promo_code %}{{ x }}{{ event.items[0].price }}"
      "{{ journey[key].name }}{% if profile.first_name %}{% endif %}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->variables(),
            (std::vector<std::string>{"profile.first_name", "event.items", "message.promo_code",
                                      "event.items.0.price", "key", "journey"}));
}

TEST(TemplateTest, TemplatesAreReusableAndCopyable) {
  Result<Template> t = Template::Parse("{% assign a = n | plus: 1 %}{% increment c %}{{ a }}");
  ASSERT_TRUE(t.ok());
  Template copy = *t;
  std::string out;
  ASSERT_TRUE(t->Render(Cart(), {}, &out).ok());
  ASSERT_TRUE(copy.Render(Cart(), {}, &out).ok());
  EXPECT_EQ(out, "0808");  // Assignments and counters do not leak between renders.
}

}  // namespace
}  // namespace waymark
