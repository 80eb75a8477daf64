// liquid_render CORPUS.json: renders each case {name, template, context} of a corpus
// ({"contexts": {NAME: {...}}, "cases": [...]}, a case's context being an object or the name of a
// shared context) and prints a JSON array of {name, ok, output}; output is the error message when
// ok is false. Renders use UTC
// and a fixed "now" of 2024-01-02T03:04:05Z so results are reproducible.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/json.h"
#include "core/time.h"
#include "template/template.h"

namespace {

int Run(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "liquid_render: cannot read " << path << "\n";
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  waymark::Result<waymark::Value> corpus = waymark::ParseJson(buf.str());
  const waymark::Value* cases = corpus.ok() ? corpus->Find("cases") : nullptr;
  const waymark::Value* contexts = corpus.ok() ? corpus->Find("contexts") : nullptr;
  if (cases == nullptr || !cases->is_list()) {
    std::cerr << "liquid_render: " << path << ": not a corpus " << corpus.status().message()
              << "\n";
    return 2;
  }
  waymark::RenderOptions opts;
  opts.now = *waymark::ParseIsoTime("2024-01-02T03:04:05Z");
  waymark::Value results = waymark::Value::List{};
  for (const waymark::Value& c : cases->as_list()) {
    const waymark::Value* name = c.Find("name");
    const waymark::Value* text = c.Find("template");
    const waymark::Value* context = c.Find("context");
    if (name == nullptr || text == nullptr || !text->is_string()) continue;
    if (context != nullptr && context->is_string() && contexts != nullptr) {
      context = contexts->Find(context->as_string());
    }
    waymark::Value vars = context != nullptr ? *context : waymark::Value::EmptyObject();
    std::string out;
    waymark::Status st;
    waymark::Result<waymark::Template> t = waymark::Template::Parse(text->as_string());
    if (t.ok()) {
      st = t->Render(vars, opts, &out);
    } else {
      st = t.status();
    }
    waymark::Value r = waymark::Value::EmptyObject();
    r.Set("name", *name);
    r.Set("ok", st.ok());
    r.Set("output", st.ok() ? out : st.message());
    results.as_list().push_back(std::move(r));
  }
  std::cout << results.ToJson() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: liquid_render CORPUS.json\n";
    return 2;
  }
  return Run(argv[1]);
}
