// LiveAdmin: the admin API's backend in `waymark serve` — journeys from the JourneyRegistry,
// profiles, counters, the outbox and metrics from the LiveEngine (server/admin_backend.h has the
// contract of each call, docs/server.md the HTTP side).
//
// Thread safety: every call may come from any server worker thread; the registry and the engine
// serialize what needs it.
#pragma once

#include "live/journey_registry.h"
#include "live/live_engine.h"
#include "server/admin_backend.h"

namespace waymark::live {

class LiveAdmin final : public server::AdminBackend {
 public:
  // Both must outlive it. Installs itself as the registry's change listener, so that every
  // journey change reaches the engine's shards.
  LiveAdmin(JourneyRegistry* registry, LiveEngine* engine);
  ~LiveAdmin() override;

  Result<Value> ListJourneys() override;
  Result<Value> GetJourney(std::string_view id) override;
  Result<Value> ValidateJourney(std::string_view text) override;
  // Answers {"id", "version", "state": "draft"}.
  Result<Value> CreateJourneyVersion(std::string_view text) override;
  // publish without a version publishes the journey's latest version. Answers the journey as
  // GetJourney does, after the change.
  Result<Value> JourneyAction(std::string_view id, std::string_view action,
                              std::optional<uint32_t> version) override;
  Result<Value> GetProfile(std::string_view id) override;
  Result<Value> Stats(std::optional<std::string_view> journey_id) override;
  Result<Value> Outbox(std::string_view status, size_t limit) override;
  std::string RenderMetrics() override;

 private:
  JourneyRegistry* registry_;
  LiveEngine* engine_;
};

}  // namespace waymark::live
