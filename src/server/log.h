// The server module's logger, "server", writing to stderr. Levels as STYLE.md: INFO for
// lifecycle, WARN for degraded-but-healing, DEBUG per request. Created on first use.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace waymark::server {

inline spdlog::logger& Log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("server");
    return existing ? existing : spdlog::stderr_color_mt("server");
  }();
  return *logger;
}

}  // namespace waymark::server
