// libFuzzer target: the config loader (YAML, conditions, templates, graph checks).
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  auto config = waymark::LoadConfigText(text, "fuzz.yaml", &errors);
  (void)config;
  return 0;
}
