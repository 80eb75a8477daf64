// LiveInbox: the in-app inboxes of `waymark serve`, for GET /v1/inbox/{user}
// (server/engagement.h). Delivery writes each in_app send under the profile's i/ keys; this
// reads them back, hides and deletes expired ones, marks messages read and reports that to the
// engine as Message Opened.
//
// Thread-safe: the store serializes writes; two reads racing a mark-read may both see it unread.
#pragma once

#include "live/live_engine.h"
#include "server/engagement.h"

namespace waymark::live {

class LiveInbox final : public server::InboxBackend {
 public:
  // `engine` must outlive it.
  explicit LiveInbox(LiveEngine* engine) : engine_(engine) {}

  Result<Value> List(std::string_view id, Time now) override;
  Result<Value> MarkRead(std::string_view id, std::string_view message_id, Time now) override;

 private:
  LiveEngine* engine_;
};

}  // namespace waymark::live
