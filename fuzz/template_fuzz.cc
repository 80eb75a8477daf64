// libFuzzer target: Liquid parsing and rendering with a fixed context.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "template/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const waymark::Value vars = *waymark::ParseJson(
      R"({"profile":{"name":"Zoë","n":3,"tags":["a","b"]},
          "event":{"items":[{"name":"x","price":2.5},{"name":"y","price":0}]}})");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = waymark::Template::Parse(text);
  if (!t.ok()) return 0;
  std::string out;
  waymark::RenderOptions opts;
  (void)t->Render(vars, opts, &out);
  return 0;
}
