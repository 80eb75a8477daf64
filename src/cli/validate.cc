#include <cstdio>

#include "cli/commands.h"
#include "model/config_loader.h"

namespace waymark::cli {

int Validate(const std::string& path) {
  std::vector<std::string> errors;
  auto config = LoadConfig(path, &errors);
  if (!config.ok()) {
    if (errors.empty()) errors.push_back(config.status().message());
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "%zu error(s)\n", errors.size());
    return kExitInvalid;
  }
  const Config& c = **config;
  size_t steps = 0;
  for (const auto& j : c.journeys) steps += j->steps.size();
  std::printf("%s: ok (%zu journeys, %zu steps, %zu segments, %zu templates, %zu channels)\n",
              path.c_str(), c.journeys.size(), steps, c.segments.size(), c.templates.size(),
              c.channels.size());
  return kExitOk;
}

}  // namespace waymark::cli
