// Delivery: takes committed outbox entries to their channels on a few threads, the lanes.
//
// Every send is appended once to the outbox file (JSON Lines, the record of what was decided).
// Then, by the channel's kind:
//   email    over SMTP when a relay is configured: multipart text + HTML, the configured From and
//            Reply-To, Message-ID from the message id, List-Unsubscribe (one-click, RFC 8058);
//   in_app   into the profile's inbox (i/ keys, served by GET /v1/inbox/{user});
//   webhook  a webhook step's message POSTed (signed, Idempotency-Key = message id) to the step's
//            URL: its template's `body` part when it has one, else the outbox line;
//   others   (sms, push; email without SMTP) POSTed as JSON to the relay URL when there is one
//            (the way SMS and push providers, or a brand's own sender, receive messages).
// With link keys, links in text, HTML and body parts become signed /c/{token} links first, and
// HTML email gets an open pixel. A send with nowhere to go is recorded as delivered to the file.
//
// Transient failures are retried with the retry policy (backoff with full jitter); permanent
// failures and exhausted retries are dead letters: status "failed" in the outbox, listed by the
// admin API. Each outcome comes back to the engine as an event — Message Sent, Message Failed —
// with a message id derived from the send's, so a repeat is dropped as a duplicate.
//
// Entries are spread over the lanes by message id; each lane has its own connections (SMTP,
// webhooks) and works in rounds of up to 256 entries: attempt each, then write their statuses in
// one batch. Lanes send in parallel, so one connection's round trips do not bound the rate.
//
// A crash between a delivery and the write of its status delivers the entry again at start-up:
// the file sink skips ids the file already holds, webhook receivers drop the repeated
// Idempotency-Key, and mail keeps its Message-ID. A send is never re-derived by the engine: its
// outbox entry is written in the same atomic write as the state change that decided it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "channels/retry.h"
#include "channels/smtp_sender.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/value.h"
#include "model/config.h"
#include "model/event.h"
#include "store/state_store.h"
#include "tracking/keyring.h"

namespace waymark {
class WebhookSender;
}

namespace waymark::live {

struct DeliveryOptions {
  std::string outbox_file;  // JSON Lines; empty: no file
  std::string relay_url;    // POST sends without a native channel here; empty: none
  std::string webhook_secret;
  std::optional<SmtpConfig> smtp;  // email goes over SMTP when set
  // Signs tracked links and unsubscribe links; without it links are left as rendered.
  std::optional<tracking::Keyring> keyring;
  std::string public_url;  // where this server's /c/, /o/ and /u/ are reached from outside
  RetryPolicy retry;
  // Concurrent delivery threads, each with its own connections; at least 1.
  int lanes = 4;
  bool verify_peer = true;  // TLS checks for webhooks; off only in tests
  // Delivered and dead-lettered outbox entries older than this are deleted from the store (the
  // outbox file keeps every line).
  Duration retention = std::chrono::hours(24 * 7);
};

// Takes the events that report delivery outcomes (the engine's Accept). OK once they are durable.
using OutcomeSink = std::function<Status(std::vector<Event>)>;

class Delivery {
 public:
  // `store` and `clock` must outlive it. With `sync_before_send`, the store's log is synced
  // before each round of sends, so a send never goes out for a decision a power loss could undo.
  // Fails when the outbox file cannot be opened or the options are invalid.
  static Result<std::unique_ptr<Delivery>> Create(store::StateStore* store, DeliveryOptions options,
                                                  const Clock* clock, bool sync_before_send);
  ~Delivery();  // Stop()
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // The config whose channels (their kinds) and delivery settings (sender, link tracking, inbox
  // lifetime) apply. Without one every channel id is taken for its kind and the settings are the
  // defaults. Call before Start().
  void SetConfig(std::shared_ptr<const Config> config) { config_ = std::move(config); }
  // Where outcome events go; none by default. Call before Start().
  void SetOutcomeSink(OutcomeSink sink) { outcome_sink_ = std::move(sink); }

  // Queues every pending outbox entry in the store (start-up) and learns which of them the
  // outbox file already holds; returns how many were queued. Call before Start().
  Result<uint64_t> Recover();
  void Start();
  // Entries just committed by the engine.
  void Enqueue(std::vector<store::OutboxEntry> entries);
  // Blocks until nothing is queued or in progress (retries waiting for their time excepted).
  void WaitIdle();
  // Finishes the round in progress and stops; what is left stays pending in the store.
  void Stop();

  // Prometheus lines: sends by channel and outcome, queue depth, retries waiting.
  void RenderMetrics(std::string* out) const;

 private:
  // One delivery thread and what only it touches, except the queues (under mu_).
  struct Lane {
    int index = 0;
    std::unique_ptr<SmtpSender> smtp;
    std::map<std::string, std::unique_ptr<WebhookSender>> senders;  // by URL
    Rng rng;
    std::vector<Event> unsent_outcomes;    // the engine refused them; offered again next round
    std::deque<store::OutboxEntry> queue;  // guarded by mu_
    std::multimap<Time, store::OutboxEntry> retries;  // by next attempt; guarded by mu_
    bool busy = false;                                // guarded by mu_
    std::condition_variable wake;                     // new entries, or stopping
    std::thread thread;
  };

  Delivery(store::StateStore* store, DeliveryOptions options, const Clock* clock,
           bool sync_before_send);
  Lane& LaneFor(const store::OutboxEntry& entry);
  bool IdleLocked() const;
  void Loop(Lane* lane);
  void Round(Lane* lane, std::vector<store::OutboxEntry> entries);
  // Attempts one entry; updates its status, attempts, next_attempt and detail, sets `channel`
  // for the metrics and appends its outcome event, if any, to `events`. Returns the outcome's
  // metric name.
  std::string_view Attempt(Lane* lane, store::OutboxEntry* entry, std::string* channel,
                           std::vector<Event>* events, store::WriteBatch* batch);
  // Appends the entry's line to the outbox file unless the file already holds it.
  void WriteToFile(const store::OutboxEntry& entry);
  // One attempt on a channel of kind `kind`; `msg` is the outbox line with its links tracked.
  DeliveryResult Deliver(Lane* lane, const Value& msg, ChannelKind kind,
                         const store::OutboxEntry& entry, store::WriteBatch* batch);
  DeliveryResult SendEmail(Lane* lane, const Value& msg, const store::OutboxEntry& entry);
  DeliveryResult PutInbox(const Value& msg, const store::OutboxEntry& entry,
                          store::WriteBatch* batch);
  // The message with its links tracked (and, for email, its unsubscribe URL), or as it is.
  Value Track(Value msg, const store::OutboxEntry& entry) const;
  ChannelKind KindOf(const std::string& channel) const;
  const DeliverySettings& settings() const;
  Result<WebhookSender*> SenderFor(Lane* lane, const std::string& url);
  void DeleteExpired();

  store::StateStore* store_;
  DeliveryOptions options_;
  const Clock* clock_;
  bool sync_before_send_;
  std::shared_ptr<const Config> config_;
  OutcomeSink outcome_sink_;

  std::mutex file_mu_;
  std::FILE* file_ = nullptr;  // guarded by file_mu_
  // Pending at start-up and already in the file; guarded by file_mu_.
  absl::flat_hash_set<std::string> recovered_in_file_;
  Time next_cleanup_ = kTimeMin;  // lane 0 only

  std::vector<std::unique_ptr<Lane>> lanes_;
  mutable std::mutex mu_;
  std::condition_variable idle_;  // a lane finished its work (WaitIdle)
  bool started_ = false;
  bool stopping_ = false;
  std::map<std::pair<std::string, std::string>, uint64_t> outcomes_;  // (channel, outcome)
};

}  // namespace waymark::live
