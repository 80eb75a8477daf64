// The live engine's logger, "live", writing to stderr. Levels as STYLE.md: INFO for lifecycle
// (start-up, recovery, shutdown), WARN for degraded-but-healing (a delivery retried), ERROR for
// what needs an operator (a failed store write). No personal data above DEBUG.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace waymark::live {

inline spdlog::logger& Log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("live");
    return existing ? existing : spdlog::stderr_color_mt("live");
  }();
  return *logger;
}

}  // namespace waymark::live
