// Template rendering throughput on a typical cart-reminder email: about 2 KB of HTML, a for loop
// over three cart items (name, price | money, image URL, quantity) and a few profile fields with
// filters.
#include <benchmark/benchmark.h>

#include <string>

#include "core/time.h"
#include "core/value.h"
#include "template/template.h"

namespace waymark {
namespace {

constexpr std::string_view kCartEmail = R"(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ journey.name | escape }}</title>
  <style>
    body { margin: 0; padding: 0; background: #f4f4f4; font-family: Helvetica, Arial, sans-serif; }
    .wrap { max-width: 600px; margin: 0 auto; background: #ffffff; }
    .item td { padding: 12px 16px; border-bottom: 1px solid #eeeeee; vertical-align: middle; }
    .cta { display: inline-block; padding: 14px 28px; background: #1a73e8; color: #ffffff; }
  </style>
</head>
<body>
  <table class="wrap" role="presentation" width="100%" cellspacing="0" cellpadding="0">
    <tr><td style="padding: 24px 16px;">
      <h1 style="font-size: 22px;">Hi {{ profile.first_name | capitalize | default: "there" }},</h1>
      <p>You left {{ event.items.size }} items in your cart. They are still waiting for you, but
      we cannot hold them forever.</p>
    </td></tr>
    {%- for item in event.items %}
    <tr class="item">
      <td width="96"><img src="{{ item.image_url }}" width="80" height="80"
        alt="{{ item.name | escape }}"></td>
      <td><strong>{{ item.name }}</strong><br>Qty {{ item.quantity }}</td>
      <td align="right">{{ item.price | money: "€" }}</td>
    </tr>
    {%- endfor %}
    <tr><td style="padding: 16px;" align="right">
      Total: <strong>{{ event.total | money: "€" }}</strong></td></tr>
    <tr><td style="padding: 24px 16px;" align="center">
      {% if profile.tier == "gold" %}<p>As a gold member, shipping is on us.</p>{% endif %}
      <p>Use code <strong>{{ message.promo_code | upcase }}</strong> for 10% off.</p>
      <a class="cta"
        href="{{ message.links.cart }}?utm_source=email&amp;utm_campaign={{ journey.id }}">Return
        to your cart</a>
    </td></tr>
    <tr><td style="padding: 16px; font-size: 12px; color: #888888;">
      You receive this email because you signed up at example.com with {{ profile.email }}.
      <a href="{{ message.links.unsubscribe }}">Unsubscribe</a> at any time.
      Sent {{ "now" | date: "%B %-d, %Y" }}.
    </td></tr>
  </table>
</body>
</html>
)";

Value CartVars() {
  auto item = [](const char* name, double price, int quantity, const char* image) {
    Value v = Value::EmptyObject();
    v.Set("name", name);
    v.Set("price", price);
    v.Set("quantity", quantity);
    v.Set("image_url", image);
    return v;
  };
  Value vars = Value::EmptyObject();
  Value profile = Value::EmptyObject();
  profile.Set("first_name", "ann");
  profile.Set("email", "ann@example.com");
  profile.Set("tier", "gold");
  vars.Set("profile", profile);
  Value event = Value::EmptyObject();
  event.Set("name", "Cart Abandoned");
  event.Set(
      "items",
      Value::List{
          item("Trail Runner 2", 129.9, 1, "https://cdn.example.com/p/trail-runner-2.jpg"),
          item("Merino Socks (3 pack)", 24.5, 2, "https://cdn.example.com/p/merino-socks.jpg"),
          item("Water Bottle", 15, 1, "https://cdn.example.com/p/bottle.jpg")});
  event.Set("total", 193.9);
  vars.Set("event", event);
  Value message = Value::EmptyObject();
  message.Set("id", "m-1");
  message.Set("promo_code", "back10");
  Value links = Value::EmptyObject();
  links.Set("cart", "https://example.com/cart/abc123");
  links.Set("unsubscribe", "https://example.com/u/xyz");
  message.Set("links", links);
  vars.Set("message", message);
  Value journey = Value::EmptyObject();
  journey.Set("id", "abandoned-cart");
  journey.Set("name", "Abandoned cart");
  vars.Set("journey", journey);
  return vars;
}

void BM_RenderCartEmail(benchmark::State& state) {
  Result<Template> t = Template::Parse(kCartEmail);
  if (!t.ok()) {
    state.SkipWithError(t.status().message().c_str());
    return;
  }
  Value vars = CartVars();
  RenderOptions opts;
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    Status st = t->Render(vars, opts, &out);
    benchmark::DoNotOptimize(out.data());
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    bytes += out.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["output_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_RenderCartEmail);

// Renders `text` with `vars` in a loop; the counters say how much text one render makes.
void RenderLoop(benchmark::State& state, std::string_view text, const Value& vars) {
  Result<Template> t = Template::Parse(text);
  if (!t.ok()) {
    state.SkipWithError(t.status().message().c_str());
    return;
  }
  RenderOptions opts;
  opts.now = FromMillis(1'709'211'909'000);
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    Status st = t->Render(vars, opts, &out);
    benchmark::DoNotOptimize(out.data());
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    bytes += out.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["output_bytes"] = static_cast<double>(out.size());
}

// A push or SMS body: one line, a few variables and filters, a condition.
void BM_RenderShortText(benchmark::State& state) {
  RenderLoop(state,
             "Hi {{ profile.first_name | capitalize | default: 'there' }}, your "
             "{{ event.items.size }} "
             "items ({{ event.total | money: '€' }}) are waiting.{% if profile.tier == 'gold' %} "
             "Free shipping.{% endif %} {{ message.links.cart }}",
             CartVars());
}
BENCHMARK(BM_RenderShortText);

// A digest: a loop over 20 items with forloop fields, math and string filters, a nested
// condition and an assign, so that the interpreter rather than the text dominates.
void BM_RenderDigest(benchmark::State& state) {
  Value vars = CartVars();
  Value::List items;
  for (int i = 0; i < 20; ++i) {
    Value v = Value::EmptyObject();
    v.Set("name", "Product number " + std::to_string(i) + " with a longer name");
    v.Set("price", 3.5 * i + 0.99);
    v.Set("quantity", i % 4 + 1);
    v.Set("on_sale", i % 3 == 0);
    v.Set("added_at", "2024-02-" + std::to_string(10 + i % 18) + "T12:30:00Z");
    items.push_back(std::move(v));
  }
  vars.Find("event")->Set("items", std::move(items));
  RenderLoop(state, R"({% assign shown = 0 -%}
{% for item in event.items limit: 15 -%}
{{ forloop.index }}. {{ item.name | truncate: 24 | escape }} x{{ item.quantity }}
   {{ item.price | times: item.quantity | money: "$" }}{% if item.on_sale %} (sale){% endif %}
   added {{ item.added_at | date: "%b %-d" }}{% if forloop.last %} - last{% endif %}
{% assign shown = shown | plus: 1 -%}
{% endfor -%}
{{ shown }} of {{ event.items | size }} shown.
)",
             vars);
}
BENCHMARK(BM_RenderDigest);

void BM_ParseCartEmail(benchmark::State& state) {
  for (auto _ : state) {
    Result<Template> t = Template::Parse(kCartEmail);
    benchmark::DoNotOptimize(t.ok());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kCartEmail.size()));
}
BENCHMARK(BM_ParseCartEmail);

}  // namespace
}  // namespace waymark
