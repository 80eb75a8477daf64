// EngagementHandler: the endpoints a customer's mail client, browser and app reach, as opposed to
// a brand's servers: tracked links, the open pixel, one-click unsubscribe, the offer behind a
// landing token, and the in-app inbox. docs/tracking.md and docs/server.md are the reference.
//
//   GET  /c/{token}   click: records Message Clicked, 302 to the destination with campaign
//                     parameters, the promo code and a landing token; a forged, altered or
//                     expired token 302s to the configured safe page, never to anything taken
//                     from the request
//   GET  /o/{token}   open pixel: records Message Opened, answers a 1x1 GIF whatever the token
//   GET  /u/{token}   a page with a one-click unsubscribe button
//   POST /u/{token}   unsubscribe (RFC 8058 List-Unsubscribe-Post): records Unsubscribed
//   GET  /v1/offer/{token}   the offer behind a landing token, as JSON (CORS open)
//   GET  /v1/inbox/{user}    a profile's in-app messages; Authorization: Bearer <inbox token>
//   POST /v1/inbox/{user}/{message}/read   marks one read
//
// Events go to the IngestSink like any other, so journeys can wait for them. A token's profile
// id reads "u:<user id>" or "a:<anonymous id>" (see LinkProfileId).
//
// Thread-safe; Handle may block in the sink and the inbox backend (the server runs it on its
// worker pool).
#pragma once

#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "core/value.h"
#include "server/ingest_handler.h"
#include "tracking/keyring.h"
#include "tracking/redirect.h"

namespace waymark::server {

// The in-app inboxes, kept by the engine.
class InboxBackend {
 public:
  virtual ~InboxBackend() = default;
  // The unexpired messages of the profile `id` names (a user or anonymous id), newest first,
  // each a JSON object {"id", "time", "title", "body", "read", "expires_at", "journey", "step"}.
  // An unknown profile has an empty inbox.
  virtual Result<Value> List(std::string_view id, Time now) = 0;
  // Marks one message read and records Message Opened for it. kNotFound when the profile has no
  // such unexpired message.
  virtual Result<Value> MarkRead(std::string_view id, std::string_view message_id, Time now) = 0;
};

struct EngagementOptions {
  // Verifies and signs tokens; without one, the link endpoints answer 404.
  std::optional<tracking::Keyring> keyring;
  std::string safe_url;                // where a bad click token goes
  tracking::RedirectOptions redirect;  // landing_token is filled per click
  Duration landing_ttl = std::chrono::hours(24 * 30);
  // Inbox tokens are lowercase hex HMAC-SHA256(inbox_secret, user id); empty: no inbox API.
  std::string inbox_secret;
};

// "u:" + user id for a known profile, "a:" + anonymous id otherwise: a token's profile id.
std::string LinkProfileId(std::string_view profile_key, bool anonymous);

// What a brand's backend hands its app for GET /v1/inbox/{user}: hex HMAC-SHA256(secret, id).
std::string InboxToken(std::string_view secret, std::string_view id);

class EngagementHandler {
 public:
  // Pointers must outlive the handler; `inbox` may be null (no inbox API).
  EngagementHandler(const EngagementOptions* options, IngestSink* sink, InboxBackend* inbox,
                    const Clock* clock);

  // /c/, /o/, /u/, /v1/offer/ and /v1/inbox/ paths.
  static bool IsEngagementPath(std::string_view path);

  // Never throws; may block in the sink or the inbox backend.
  Response Handle(const Request& req) const;

  // Prometheus lines: tracking requests by kind and result.
  void RenderMetrics(std::string* out) const;

 private:
  Response Click(const Request& req, std::string_view token) const;
  Response Open(const Request& req, std::string_view token) const;
  Response Unsubscribe(const Request& req, std::string_view token) const;
  Response Offer(const Request& req, std::string_view token) const;
  Response Inbox(const Request& req, std::string_view rest) const;
  // Records one event built from a verified token; logs and carries on when the sink refuses
  // (a customer's click still goes through).
  void Record(const tracking::LinkToken& token, std::string name, Value properties,
              std::string message_id) const;
  // The token verified as `kind`, counting the outcome.
  std::optional<tracking::LinkToken> Verify(std::string_view token, tracking::LinkKind kind) const;

  const EngagementOptions* options_;
  IngestSink* sink_;
  InboxBackend* inbox_;
  const Clock* clock_;

  // By kind (click, open, landing, unsubscribe) and result (ok, or a TokenError).
  static constexpr int kKinds = 4, kResults = 8;
  mutable std::array<std::array<std::atomic<uint64_t>, kResults>, kKinds> counts_{};
  mutable std::atomic<uint64_t> events_failed_{0};
};

}  // namespace waymark::server
