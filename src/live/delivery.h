// Delivery: takes committed outbox entries to their channels on one thread.
//
// Every send is appended once to the outbox file (JSON Lines, the record of what went out).
// A webhook step's message is POSTed (signed, Idempotency-Key = message id) to the step's URL:
// its template's `body` part when it has one, else the outbox line. With a relay URL, every other
// send's outbox line is POSTed there (the way SMS and push providers, or a brand's own sender,
// receive messages until their channels are native). Transient failures are retried with the
// retry policy (backoff with full jitter); permanent failures and exhausted retries are dead
// letters: status "failed" in the outbox, listed by the admin API.
//
// A crash between a delivery and the write of its status delivers the entry again at start-up:
// the file sink skips ids the file already holds, and webhook receivers drop the repeated
// Idempotency-Key. A send is never re-derived by the engine: its outbox entry is written in the
// same atomic write as the state change that decided it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "channels/retry.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/state_store.h"

namespace waymark {
class WebhookSender;
}

namespace waymark::live {

struct DeliveryOptions {
  std::string outbox_file;  // JSON Lines; empty: no file
  std::string relay_url;    // POST every non-webhook send here; empty: none
  std::string webhook_secret;
  RetryPolicy retry;
  bool verify_peer = true;  // TLS checks for webhooks; off only in tests
  // Delivered and dead-lettered outbox entries older than this are deleted from the store (the
  // outbox file keeps every line).
  Duration retention = std::chrono::hours(24 * 7);
};

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
  Delivery(store::StateStore* store, DeliveryOptions options, const Clock* clock,
           bool sync_before_send);
  void Loop();
  void Round(std::vector<store::OutboxEntry> entries);
  // Attempts one entry; updates its status, attempts, next_attempt and detail, and sets
  // `channel` for the metrics. Returns the outcome's metric name.
  std::string_view Attempt(store::OutboxEntry* entry, std::string* channel);
  Result<WebhookSender*> SenderFor(const std::string& url);
  void DeleteExpired();

  store::StateStore* store_;
  DeliveryOptions options_;
  const Clock* clock_;
  bool sync_before_send_;

  std::FILE* file_ = nullptr;
  std::vector<std::string> recovered_in_file_;  // pending at start-up, already in the file
  std::map<std::string, std::unique_ptr<WebhookSender>> senders_;  // by URL
  Rng rng_;
  Time next_cleanup_ = kTimeMin;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<store::OutboxEntry> queue_;
  std::multimap<Time, store::OutboxEntry> retries_;  // by next attempt
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::map<std::pair<std::string, std::string>, uint64_t> outcomes_;  // (channel, outcome)
};

}  // namespace waymark::live
