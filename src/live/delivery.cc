#include "live/delivery.h"

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/hash/hash.h"
#include "channels/webhook.h"
#include "core/json.h"
#include "live/log.h"
#include "server/engagement.h"
#include "tracking/rewrite.h"

namespace waymark::live {
namespace {

// The id of an outbox line: every line starts with {"id":"<message id>".
std::string_view LineId(std::string_view line) {
  constexpr std::string_view kStart = "{\"id\":\"";
  if (line.substr(0, kStart.size()) != kStart) return {};
  line.remove_prefix(kStart.size());
  size_t end = line.find('"');
  return end == std::string_view::npos ? std::string_view() : line.substr(0, end);
}

// A crash in the middle of an append can leave a last line without its newline: it was never
// written completely, and its entry is still pending, so it is cut off and written again.
Status DropPartialLastLine(const std::string& path) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) return Status::Ok();  // missing or empty: nothing to repair
  std::ifstream in(path, std::ios::binary);
  uintmax_t keep = size;
  // Scan back in blocks for the last newline.
  constexpr uintmax_t kBlock = 4096;
  std::string block;
  while (keep > 0) {
    uintmax_t from = keep > kBlock ? keep - kBlock : 0;
    block.resize(size_t(keep - from));
    in.seekg(std::streamoff(from));
    in.read(block.data(), std::streamsize(block.size()));
    if (!in) return Status::Io("read outbox file " + path);
    if (keep == size && block.back() == '\n') return Status::Ok();
    size_t nl = block.rfind('\n');
    if (nl != std::string::npos) {
      keep = from + nl + 1;
      break;
    }
    keep = from;
  }
  std::filesystem::resize_file(path, keep, ec);
  if (ec) return Status::Io("truncate outbox file " + path + ": " + ec.message());
  Log().warn("outbox file ended in a partial line, cut off path={} bytes={}", path, size - keep);
  return Status::Ok();
}

// A channel's answer for a log line: the local parts of email addresses are masked (an SMTP
// server's reply often echoes the recipient), the rest is kept so the cause shows.
std::string ForLog(std::string_view detail) {
  std::string out(detail.substr(0, 300));
  for (size_t at = out.find('@'); at != std::string::npos; at = out.find('@', at + 1)) {
    size_t start = at;
    while (start > 0 && !std::isspace(static_cast<unsigned char>(out[start - 1])) &&
           out[start - 1] != '<' && out[start - 1] != '"' && out[start - 1] != ':') {
      --start;
    }
    if (start < at) {
      out.replace(start, at - start, "***");
      at = start + 3;
    }
  }
  return out;
}

std::string StringField(const Value& v, std::string_view name) {
  const Value* f = v.Find(name);
  return f != nullptr && f->is_string() ? f->as_string() : std::string();
}

}  // namespace

Delivery::Delivery(store::StateStore* store, DeliveryOptions options, const Clock* clock,
                   bool sync_before_send)
    : store_(store),
      options_(std::move(options)),
      clock_(clock),
      sync_before_send_(sync_before_send) {
  for (int i = 0; i < options_.lanes; ++i) {
    auto lane = std::make_unique<Lane>();
    lane->index = i;
    // Seeded apart per process and lane, so that servers restarted together after an outage
    // do not retry in step.
    lane->rng.seed((uint64_t(std::random_device{}()) << 32) ^ std::random_device{}() ^ uint64_t(i));
    lanes_.push_back(std::move(lane));
  }
}

Result<std::unique_ptr<Delivery>> Delivery::Create(store::StateStore* store,
                                                   DeliveryOptions options, const Clock* clock,
                                                   bool sync_before_send) {
  WAYMARK_RETURN_IF_ERROR(ValidateRetryPolicy(options.retry));
  if (options.lanes < 1 || options.lanes > 64) {
    return Status::Invalid("delivery: lanes must be between 1 and 64, not " +
                           std::to_string(options.lanes));
  }
  if ((!options.relay_url.empty()) && options.webhook_secret.empty()) {
    return Status::Invalid("delivery: a relay URL needs a webhook secret to sign with");
  }
  if (options.keyring && options.public_url.empty()) {
    return Status::Invalid("delivery: tracked links need the server's public URL");
  }
  std::unique_ptr<Delivery> d(new Delivery(store, std::move(options), clock, sync_before_send));
  if (d->options_.smtp) {
    for (std::unique_ptr<Lane>& lane : d->lanes_) {
      Result<std::unique_ptr<SmtpSender>> smtp = SmtpSender::Create(*d->options_.smtp, clock);
      if (!smtp.ok()) return smtp.status();
      lane->smtp = std::move(*smtp);
    }
  }
  if (!d->options_.outbox_file.empty()) {
    WAYMARK_RETURN_IF_ERROR(DropPartialLastLine(d->options_.outbox_file));
    d->file_ = std::fopen(d->options_.outbox_file.c_str(), "ae");
    if (d->file_ == nullptr) {
      return Status::Io("open outbox file " + d->options_.outbox_file + ": " +
                        std::strerror(errno));
    }
  }
  return d;
}

Delivery::~Delivery() {
  Stop();
  if (file_ != nullptr) std::fclose(file_);
}

Result<uint64_t> Delivery::Recover() {
  std::vector<store::OutboxEntry> pending;
  Status s = store_->ScanOutbox(kTimeMin, [&](const store::OutboxEntry& e) {
    if (e.status == store::DeliveryStatus::kPending) pending.push_back(e);
    return true;
  });
  if (!s.ok()) return s;
  if (file_ != nullptr && !pending.empty()) {
    // A crash after the file write and before the status write leaves an entry pending that the
    // file already holds; only the pending ids are looked for, so memory stays small.
    absl::flat_hash_set<std::string> ids;
    for (const store::OutboxEntry& e : pending) ids.insert(e.id);
    std::ifstream in(options_.outbox_file);
    std::lock_guard<std::mutex> lock(file_mu_);
    for (std::string line; std::getline(in, line);) {
      std::string_view id = LineId(line);
      if (!id.empty() && ids.erase(std::string(id)) > 0) recovered_in_file_.emplace(id);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t queued = 0;
  for (store::OutboxEntry& e : pending) {
    Lane& lane = LaneFor(e);
    if (e.attempts > 0 && e.next_attempt > clock_->Now()) {
      lane.retries.emplace(e.next_attempt, std::move(e));
    } else {
      lane.queue.push_back(std::move(e));
    }
    ++queued;
  }
  return queued;
}

Delivery::Lane& Delivery::LaneFor(const store::OutboxEntry& entry) {
  // TODO(delivery): by receiver instead, so a slow one delays only its own lane; the receiver
  // (channel kind, webhook URL) is known only once the line is parsed.
  return *lanes_[absl::Hash<std::string>{}(entry.id) % lanes_.size()];
}

void Delivery::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  for (std::unique_ptr<Lane>& lane : lanes_) {
    Lane* raw = lane.get();
    lane->thread = std::thread([this, raw] {
      pthread_setname_np(pthread_self(), fmt::format("wm-delivery-{}", raw->index).c_str());
      Loop(raw);
    });
  }
}

void Delivery::Enqueue(std::vector<store::OutboxEntry> entries) {
  if (entries.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (store::OutboxEntry& e : entries) {
    Lane& lane = LaneFor(e);
    lane.queue.push_back(std::move(e));
    lane.wake.notify_one();
  }
}

bool Delivery::IdleLocked() const {
  for (const std::unique_ptr<Lane>& lane : lanes_) {
    if (!lane->queue.empty() || lane->busy) return false;
  }
  return true;
}

void Delivery::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] { return IdleLocked() || !started_ || stopping_; });
}

void Delivery::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (std::unique_ptr<Lane>& lane : lanes_) lane->wake.notify_one();
  }
  for (std::unique_ptr<Lane>& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  idle_.notify_all();
}

void Delivery::Loop(Lane* lane) {
  while (true) {
    std::vector<store::OutboxEntry> round;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (true) {
        if (stopping_) return;
        Time now = clock_->Now();
        while (!lane->retries.empty() && lane->retries.begin()->first <= now) {
          lane->queue.push_back(std::move(lane->retries.begin()->second));
          lane->retries.erase(lane->retries.begin());
        }
        if (!lane->queue.empty()) break;
        // Retries are checked at least once a second, whatever clock is in use.
        lane->wake.wait_for(lock, std::chrono::seconds(1));
      }
      // A bounded round keeps status writes and Stop() timely under a backlog.
      size_t n = std::min<size_t>(lane->queue.size(), 256);
      round.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        round.push_back(std::move(lane->queue.front()));
        lane->queue.pop_front();
      }
      lane->busy = true;
    }
    Round(lane, std::move(round));
    std::lock_guard<std::mutex> lock(mu_);
    lane->busy = false;
    if (lane->queue.empty()) idle_.notify_all();  // WaitIdle
  }
}

void Delivery::Round(Lane* lane, std::vector<store::OutboxEntry> entries) {
  if (sync_before_send_) {
    if (Status s = store_->Sync(); !s.ok()) {
      Log().error("outbox sync failed, sends held error=\"{}\"", s.message());
      std::lock_guard<std::mutex> lock(mu_);
      for (store::OutboxEntry& e : entries)
        lane->retries.emplace(clock_->Now() + std::chrono::seconds(1), std::move(e));
      return;
    }
  }
  store::WriteBatch batch;
  std::vector<std::pair<std::string, std::string>> outcomes;
  std::vector<Event> events = std::move(lane->unsent_outcomes);
  lane->unsent_outcomes.clear();
  for (store::OutboxEntry& e : entries) {
    std::string channel;
    std::string_view outcome = Attempt(lane, &e, &channel, &events, &batch);
    outcomes.emplace_back(std::move(channel), std::string(outcome));
    batch.PutOutbox(e);
  }
  if (file_ != nullptr) {
    std::lock_guard<std::mutex> lock(file_mu_);
    std::fflush(file_);
    if (sync_before_send_) ::fdatasync(fileno(file_));
  }
  // Outcome events before the statuses: after a crash in between, the entries go out again and
  // their events, repeated under the same ids, are dropped as duplicates.
  if (!events.empty() && outcome_sink_) {
    if (Status s = outcome_sink_(events); !s.ok()) {
      // TODO(delivery): kept in memory only; a crash before the engine takes them loses them.
      Log().warn("delivery outcome events not taken, offered again events={} error=\"{}\"",
                 events.size(), s.message());
      lane->unsent_outcomes = std::move(events);
    }
  }
  if (Status s = store_->Commit(batch, /*sync=*/false); !s.ok()) {
    // The entries stay pending in the store and go out again after a restart; receivers and the
    // file drop the repeats by id.
    Log().error("outbox status write failed error=\"{}\"", s.message());
  }
  if (lane->index == 0) DeleteExpired();

  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [channel, outcome] : outcomes) ++outcomes_[{channel, outcome}];
  for (store::OutboxEntry& e : entries) {
    if (e.status == store::DeliveryStatus::kPending) {
      lane->retries.emplace(e.next_attempt, std::move(e));
    }
  }
}

void Delivery::WriteToFile(const store::OutboxEntry& entry) {
  std::lock_guard<std::mutex> lock(file_mu_);
  if (recovered_in_file_.erase(entry.id) > 0 || entry.attempts > 0) return;
  std::string line = entry.json + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
}

std::string_view Delivery::Attempt(Lane* lane, store::OutboxEntry* entry, std::string* channel,
                                   std::vector<Event>* events, store::WriteBatch* batch) {
  Result<Value> parsed = ParseJson(entry->json);
  if (!parsed.ok()) {
    entry->status = store::DeliveryStatus::kFailed;
    entry->detail = "unreadable outbox line: " + parsed.status().message();
    Log().error("outbox line unreadable message={} error=\"{}\"", entry->id, entry->detail);
    *channel = "unknown";
    return "failed";
  }
  const Value& msg = *parsed;
  *channel = StringField(msg, "channel");

  if (file_ != nullptr) WriteToFile(*entry);

  ++entry->attempts;
  DeliveryResult result = Deliver(lane, Track(msg, *entry), KindOf(*channel), *entry, batch);
  entry->detail = result.detail;
  RetryDecision d = DecideRetry(options_.retry, result, int(entry->attempts), lane->rng);
  auto outcome = [&](const char* name, const char* reason) {
    Event e;
    e.type = EventType::kTrack;
    e.name = name;
    const Value* anonymous = msg.Find("anonymous");
    (anonymous != nullptr && anonymous->is_bool() && anonymous->as_bool() ? e.anonymous_id
                                                                          : e.user_id) =
        StringField(msg, "profile");
    e.message_id =
        std::string(name == std::string_view("Message Sent") ? "sent-" : "failed-") + entry->id;
    e.timestamp = clock_->Now();
    e.properties = Value::EmptyObject();
    e.properties.Set("message_id", entry->id);
    e.properties.Set("journey", StringField(msg, "journey"));
    e.properties.Set("step", StringField(msg, "step"));
    e.properties.Set("channel", *channel);
    if (reason != nullptr) e.properties.Set("reason", reason);
    if (!e.ProfileKey().empty()) events->push_back(std::move(e));
  };
  switch (d.action) {
    case RetryDecision::Action::kDone:
      entry->status = store::DeliveryStatus::kDelivered;
      outcome("Message Sent", nullptr);
      return "delivered";
    case RetryDecision::Action::kRetry:
      entry->status = store::DeliveryStatus::kPending;
      entry->next_attempt = clock_->Now() + d.delay;
      Log().warn("delivery failed, will retry message={} channel={} attempt={} in={} error=\"{}\"",
                 entry->id, *channel, entry->attempts, FormatDuration(d.delay),
                 ForLog(result.detail));
      return "retry";
    case RetryDecision::Action::kDeadLetter:
      entry->status = store::DeliveryStatus::kFailed;
      entry->detail = std::string(d.reason) + ": " + result.detail;
      Log().warn(
          "delivery dead-lettered message={} channel={} attempts={} reason=\"{}\" error=\"{}\"",
          entry->id, *channel, entry->attempts, d.reason, ForLog(result.detail));
      outcome("Message Failed", std::string(d.reason).c_str());
      return "failed";
  }
  return "failed";
}

DeliveryResult Delivery::Deliver(Lane* lane, const Value& msg, ChannelKind kind,
                                 const store::OutboxEntry& entry, store::WriteBatch* batch) {
  std::string url, body;
  switch (kind) {
    case ChannelKind::kWebhook:
      url = StringField(msg, "url");
      body = msg.Find("body") != nullptr ? StringField(msg, "body") : msg.ToJson();
      break;
    case ChannelKind::kInApp:
      return PutInbox(msg, entry, batch);
    case ChannelKind::kEmail:
      if (lane->smtp != nullptr) return SendEmail(lane, msg, entry);
      [[fallthrough]];
    default:
      url = options_.relay_url;
      body = msg.ToJson();
  }
  if (url.empty()) {
    return DeliveryResult::Delivered(file_ != nullptr ? "written to the outbox file" : "recorded");
  }
  Result<WebhookSender*> sender = SenderFor(lane, url);
  return sender.ok() ? (*sender)->Send(entry.id, body)
                     : DeliveryResult::Permanent(sender.status().message());
}

DeliveryResult Delivery::SendEmail(Lane* lane, const Value& msg, const store::OutboxEntry& entry) {
  const DeliverySettings& s = settings();
  EmailMessage m;
  if (s.email_from.address.empty()) {
    return DeliveryResult::Permanent("no sender: set delivery.email.from in the config");
  }
  m.from = Mailbox{s.email_from.name, s.email_from.address};
  if (!s.email_reply_to.address.empty()) {
    m.reply_to = Mailbox{s.email_reply_to.name, s.email_reply_to.address};
  }
  m.to.address = StringField(msg, "to");
  if (m.to.address.empty() || m.to.address.find('@') == std::string::npos) {
    return DeliveryResult::Permanent("no email address for the profile");
  }
  m.subject = StringField(msg, "subject");
  m.text = StringField(msg, "text");
  m.html = StringField(msg, "html");
  if (m.text.empty() && m.html.empty()) m.text = StringField(msg, "body");
  m.message_id = entry.id;
  m.list_unsubscribe_url = StringField(msg, "unsubscribe_url");
  m.extra_headers.emplace_back("X-Waymark-Journey", StringField(msg, "journey"));
  return lane->smtp->Send(m);
}

DeliveryResult Delivery::PutInbox(const Value& msg, const store::OutboxEntry& entry,
                                  store::WriteBatch* batch) {
  std::string profile = StringField(msg, "profile");
  if (profile.empty()) return DeliveryResult::Permanent("no profile for the inbox message");
  Value item = Value::EmptyObject();
  item.Set("id", entry.id);
  item.Set("time", FormatIsoTime(entry.time));
  item.Set("title", StringField(msg, "title"));
  std::string body = StringField(msg, "body");
  item.Set("body", body.empty() ? StringField(msg, "text") : body);
  item.Set("journey", StringField(msg, "journey"));
  item.Set("step", StringField(msg, "step"));
  item.Set("read", false);
  item.Set("expires_at", FormatIsoTime(entry.time + settings().inbox_ttl));
  if (const Value* a = msg.Find("anonymous"); a != nullptr) item.Set("anonymous", *a);
  batch->PutInbox(profile, entry.time, entry.id, item.ToJson());
  return DeliveryResult::Delivered("in the inbox");
}

// Whether a part of the message holds the `{{ message.unsubscribe_url }}` placeholder.
bool HasUnsubscribePlaceholder(const Value& msg) {
  for (const char* part : {"html", "text", "body"}) {
    const Value* v = msg.Find(part);
    if (v != nullptr && v->is_string() &&
        v->as_string().find(kUnsubscribeUrlPlaceholder) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Replaces every `{{ message.unsubscribe_url }}` placeholder in the message's parts with `url`.
void PutUnsubscribeUrl(Value* msg, const std::string& url) {
  for (const char* part : {"html", "text", "body"}) {
    const Value* v = msg->Find(part);
    if (v == nullptr || !v->is_string()) continue;
    const std::string& text = v->as_string();
    if (text.find(kUnsubscribeUrlPlaceholder) == std::string::npos) continue;
    std::string out;
    size_t from = 0;
    for (size_t at; (at = text.find(kUnsubscribeUrlPlaceholder, from)) != std::string::npos;) {
      out.append(text, from, at - from);
      out += url;
      from = at + kUnsubscribeUrlPlaceholder.size();
    }
    out.append(text, from);
    msg->Set(part, std::move(out));
  }
}

Value Delivery::Track(Value msg, const store::OutboxEntry& entry) const {
  const DeliverySettings& s = settings();
  std::string channel = StringField(msg, "channel");
  ChannelKind kind = KindOf(channel);
  if (!options_.keyring || kind == ChannelKind::kWebhook) {
    // No keys, no unsubscribe endpoint: the link has nowhere to go.
    if (HasUnsubscribePlaceholder(msg)) PutUnsubscribeUrl(&msg, "");
    return msg;
  }
  const Value* anonymous = msg.Find("anonymous");
  std::string profile =
      server::LinkProfileId(StringField(msg, "profile"),
                            anonymous != nullptr && anonymous->is_bool() && anonymous->as_bool());
  // The unsubscribe link: for the email's List-Unsubscribe header and for a body's placeholder
  // (which link tracking then leaves alone, see untracked_prefixes below).
  if (kind == ChannelKind::kEmail || HasUnsubscribePlaceholder(msg)) {
    // Unsubscribe links outlive ordinary ones: people act on old mail.
    tracking::LinkToken t;
    t.kind = tracking::LinkKind::kUnsubscribe;
    t.message_id = entry.id;
    t.profile_id = profile;
    t.journey_id = StringField(msg, "journey");
    t.step_id = StringField(msg, "step");
    t.channel = channel;
    t.expiry = entry.time + std::max<Duration>(s.link_ttl, std::chrono::hours(24 * 365));
    Result<std::string> token = options_.keyring->Sign(t);
    std::string url = token.ok() ? options_.public_url + "/u/" + *token : std::string();
    PutUnsubscribeUrl(&msg, url);
    if (kind == ChannelKind::kEmail && !url.empty()) msg.Set("unsubscribe_url", url);
  }
  if (s.track_links) {
    tracking::LinkContext ctx;
    ctx.base_url = options_.public_url;
    ctx.message_id = entry.id;
    ctx.profile_id = profile;
    ctx.journey_id = StringField(msg, "journey");
    ctx.step_id = StringField(msg, "step");
    ctx.channel = channel;
    ctx.untracked_prefixes = {options_.public_url + "/u/"};
    if (std::string promo = StringField(msg, "promo_code"); !promo.empty()) ctx.promo_code = promo;
    for (const char* part : {"html", "text", "body"}) {
      const Value* v = msg.Find(part);
      if (v == nullptr || !v->is_string()) continue;
      bool html = part == std::string_view("html");
      ctx.open_pixel = html && kind == ChannelKind::kEmail && s.open_pixel;
      std::string out;
      Status st = tracking::RewriteLinks(v->as_string(), html, ctx, *options_.keyring,
                                         entry.time + s.link_ttl, &out, nullptr);
      if (st.ok()) {
        msg.Set(part, std::move(out));
      } else {
        Log().warn("links not tracked message={} part={} error=\"{}\"", entry.id, part,
                   st.message());
      }
    }
  }
  return msg;
}

ChannelKind Delivery::KindOf(const std::string& channel) const {
  if (config_ != nullptr) {
    int i = config_->ChannelIndex(channel);
    if (i >= 0) return config_->channels[i].kind;
  }
  for (ChannelKind k : {ChannelKind::kEmail, ChannelKind::kSms, ChannelKind::kPush,
                        ChannelKind::kInApp, ChannelKind::kWebhook}) {
    if (ChannelKindName(k) == channel) return k;
  }
  return ChannelKind::kSms;  // unknown: a relay's business, like SMS
}

const DeliverySettings& Delivery::settings() const {
  static const DeliverySettings kDefaults;
  return config_ != nullptr ? config_->delivery : kDefaults;
}

Result<WebhookSender*> Delivery::SenderFor(Lane* lane, const std::string& url) {
  auto it = lane->senders.find(url);
  if (it != lane->senders.end()) return it->second.get();
  WebhookConfig wc;
  wc.url = url;
  wc.secret = options_.webhook_secret;
  wc.verify_peer = options_.verify_peer;
  Result<std::unique_ptr<WebhookSender>> sender = WebhookSender::Create(std::move(wc), clock_);
  if (!sender.ok()) return sender.status();
  WebhookSender* raw = sender->get();
  lane->senders.emplace(url, std::move(*sender));
  return raw;
}

void Delivery::DeleteExpired() {
  Time now = clock_->Now();
  if (now < next_cleanup_) return;
  next_cleanup_ = now + std::chrono::minutes(10);
  Time cutoff = now - options_.retention;
  store::WriteBatch batch;
  Status s = store_->ScanOutbox(kTimeMin, [&](const store::OutboxEntry& e) {
    if (e.time >= cutoff) return false;
    if (e.status != store::DeliveryStatus::kPending) batch.DeleteOutbox(e.time, e.id);
    return true;
  });
  if (s.ok() && batch.count() > 0) s = store_->Commit(batch, /*sync=*/false);
  if (!s.ok()) Log().warn("outbox cleanup failed error=\"{}\"", s.message());
}

void Delivery::RenderMetrics(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  *out += "# HELP waymark_sends_total Delivery attempts by channel and outcome.\n";
  *out += "# TYPE waymark_sends_total counter\n";
  for (const auto& [key, n] : outcomes_) {
    *out += fmt::format("waymark_sends_total{{channel=\"{}\",outcome=\"{}\"}} {}\n", key.first,
                        key.second, n);
  }
  *out += "# HELP waymark_delivery_queue Outbox entries waiting for their first attempt.\n";
  *out += "# TYPE waymark_delivery_queue gauge\n";
  size_t queued = 0, retries = 0;
  for (const std::unique_ptr<Lane>& lane : lanes_) {
    queued += lane->queue.size();
    retries += lane->retries.size();
  }
  *out += fmt::format("waymark_delivery_queue {}\n", queued);
  *out += "# HELP waymark_delivery_retries Outbox entries waiting for a retry.\n";
  *out += "# TYPE waymark_delivery_retries gauge\n";
  *out += fmt::format("waymark_delivery_retries {}\n", retries);
}

}  // namespace waymark::live
