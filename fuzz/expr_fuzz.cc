// libFuzzer target: the condition language compiler and evaluator on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "expr/expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> segments = {"a", "b"};
  waymark::expr::CompileEnv env;
  env.allow_trigger = true;
  env.allow_entry = true;
  env.segment_names = &segments;
  auto e = waymark::expr::Expr::Compile(text, env);
  if (!e.ok()) return 0;
  waymark::Profile profile;
  waymark::Event event;
  event.name = "X";
  event.properties = waymark::Value::EmptyObject();
  event.properties.Set("a", 1);
  std::vector<uint8_t> in = {1, 0};
  waymark::expr::EvalContext ctx;
  ctx.profile = &profile;
  ctx.event = &event;
  ctx.trigger = &event;
  ctx.segments = &in;
  waymark::Time next = waymark::kTimeMax;
  ctx.next_change = &next;
  e->Test(ctx);
  e->EvalText(ctx);
  e->Explain(ctx);
  return 0;
}
