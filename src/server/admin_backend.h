// AdminBackend: what the admin API (/admin/v1/...) asks of the running engine. The HTTP layer
// (admin_handler.h) does routing, the Bearer token, JSON errors and status codes; the backend
// answers with Values that become the JSON bodies. `waymark serve` implements it with the live
// engine; tests use fakes.
//
// Errors map to HTTP statuses: kNotFound -> 404, kInvalidArgument and kParseError -> 400 (or
// 422 for a config that does not validate, see ValidateJourney), anything else -> 500.
//
// Every method may block for a short while (it may ask the shard threads) and is called on the
// server's worker threads, several at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/value.h"

namespace waymark::server {

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // GET /admin/v1/journeys: [{"id", "version", "name", "status", ...}, ...].
  virtual Result<Value> ListJourneys() = 0;
  // GET /admin/v1/journeys/{id}: the journey with its versions; kNotFound when unknown.
  virtual Result<Value> GetJourney(std::string_view id) = 0;
  // POST /admin/v1/journeys/validate, body: one journey as YAML or JSON. Always answers a Value
  // {"valid": bool, "errors": ["file:line:col: message", ...]} for a readable body.
  virtual Result<Value> ValidateJourney(std::string_view text) = 0;
  // POST /admin/v1/journeys, body: one journey as YAML or JSON. Stores it as a new draft version
  // of the journey named by its id; kInvalidArgument carrying the errors when it does not validate,
  // one "file:line:col: message" per line of the status message (the HTTP layer answers 422 with
  // them as a list).
  virtual Result<Value> CreateJourneyVersion(std::string_view text) = 0;
  // POST /admin/v1/journeys/{id}/{action} with action publish (takes `version`), pause, resume or
  // archive. In-flight instances stay on the version they entered.
  virtual Result<Value> JourneyAction(std::string_view id, std::string_view action,
                                      std::optional<uint32_t> version) = 0;

  // GET /admin/v1/profiles/{id}: traits, segments, active journey instances, recent events and
  // message history; `id` is a user id or an anonymous id. kNotFound when nobody has it.
  virtual Result<Value> GetProfile(std::string_view id) = 0;

  // GET /admin/v1/stats (all journeys) or /admin/v1/journeys/{id}/stats: counters per journey
  // and step.
  virtual Result<Value> Stats(std::optional<std::string_view> journey_id) = 0;

  // GET /admin/v1/outbox?status=pending|delivered|failed&limit=N: outbox entries, newest first;
  // status=failed lists the dead letters.
  virtual Result<Value> Outbox(std::string_view status, size_t limit) = 0;

  // Prometheus text appended to GET /metrics: engine counters and gauges.
  virtual std::string RenderMetrics() = 0;
};

}  // namespace waymark::server
