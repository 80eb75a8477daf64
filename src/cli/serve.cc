// `waymark serve`: the live server. Loads the config, opens the data directory (RocksDB),
// reconciles the journey registry, recovers the engine, and serves the Segment-compatible ingest
// API and the admin API until SIGINT or SIGTERM, then shuts down gracefully: stop accepting,
// finish requests in flight, apply and commit everything journaled, exit 0.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "live/admin.h"
#include "live/inbox.h"
#include "live/journey_registry.h"
#include "live/live_engine.h"
#include "live/log.h"
#include "model/config_loader.h"
#include "server/engagement.h"
#include "server/ingest_server.h"
#include "tracking/keyring.h"

namespace waymark::cli {
namespace {

std::string JoinKeys(size_t n) { return n == 1 ? "1 key" : std::to_string(n) + " keys"; }

// Parses "address:port".
bool SplitListen(const std::string& listen, std::string* address, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  *address = listen.substr(0, colon);
  return true;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "waymark serve: %s\n", what.c_str());
  return kExitFailure;
}

}  // namespace

int Serve(const ServeOptions& o) {
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  server::ServerOptions so;
  if (!SplitListen(o.listen, &so.listen_address, &so.port)) {
    return Fail("--listen must be address:port, got '" + o.listen + "'");
  }
  so.write_keys.insert(o.write_keys.begin(), o.write_keys.end());
  if (so.write_keys.empty())
    return Fail("at least one --write-key (or WAYMARK_WRITE_KEY) is required");
  so.admin_token = o.admin_token;
  so.threads = o.threads;
  so.workers = o.workers;

  live::LiveOptions lo;
  lo.shards = o.shards;
  if (o.sync == "always") {
    lo.sync = live::SyncPolicy::kSync;
  } else if (o.sync == "none") {
    lo.sync = live::SyncPolicy::kNone;
  } else {
    return Fail("--sync must be always or none, got '" + o.sync + "'");
  }
  Result<Duration> dedupe = ParseDuration(o.dedupe_window);
  if (!dedupe.ok()) return Fail("--dedupe-window: " + dedupe.status().message());
  lo.dedupe_window = *dedupe;
  lo.assume_reachable = o.assume_reachable;
  lo.max_pending_events = o.max_pending;
  lo.delivery.outbox_file = o.outbox;
  lo.delivery.relay_url = o.relay_url;
  lo.delivery.webhook_secret = o.webhook_secret;
  lo.delivery.lanes = o.delivery_lanes;
  lo.delivery.verify_peer = !o.insecure_tls;
  lo.delivery.public_url = o.public_url.empty() ? "http://" + o.listen : o.public_url;
  while (!lo.delivery.public_url.empty() && lo.delivery.public_url.back() == '/') {
    lo.delivery.public_url.pop_back();
  }
  if (!o.smtp.empty()) {
    SmtpConfig smtp;
    uint16_t port = 0;
    if (!SplitListen(o.smtp, &smtp.host, &port)) {
      return Fail("--smtp must be host:port, got '" + o.smtp + "'");
    }
    smtp.port = port;
    if (o.smtp_tls == "none") {
      smtp.tls = SmtpConfig::Tls::kNone;
    } else if (o.smtp_tls == "starttls") {
      smtp.tls = SmtpConfig::Tls::kStartTls;
    } else if (o.smtp_tls == "tls") {
      smtp.tls = SmtpConfig::Tls::kTls;
    } else {
      return Fail("--smtp-tls must be none, starttls or tls, got '" + o.smtp_tls + "'");
    }
    smtp.user = o.smtp_user;
    smtp.password = o.smtp_password;
    smtp.verify_peer = !o.insecure_tls;
    lo.delivery.smtp = smtp;
  }
  if (!o.link_keys.empty()) {
    Result<tracking::Keyring> keys = tracking::Keyring::FromSpec(o.link_keys);
    if (!keys.ok()) return Fail("--link-keys: " + keys.status().message());
    lo.delivery.keyring = *keys;
  }

  std::vector<std::string> errors;
  Result<std::shared_ptr<const Config>> disk = LoadConfig(o.config, &errors);
  if (!disk.ok()) {
    if (errors.empty()) errors.push_back(disk.status().message());
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "%zu error(s)\n", errors.size());
    return kExitInvalid;
  }
  bool uses_webhooks = false;
  for (const auto& j : (*disk)->journeys) {
    for (const StepDef& s : j->steps) uses_webhooks |= s.kind == StepKind::kWebhook;
  }
  if ((uses_webhooks || !lo.delivery.relay_url.empty()) && lo.delivery.webhook_secret.empty()) {
    return Fail(
        "the config has webhook steps or a relay: --webhook-secret (or "
        "WAYMARK_WEBHOOK_SECRET) is required to sign them");
  }
  const DeliverySettings& ds = (*disk)->delivery;
  lo.delivery.retry.max_attempts = ds.retry_max_attempts;
  lo.delivery.retry.base_delay = ds.retry_base_delay;
  lo.delivery.retry.max_delay = ds.retry_max_delay;
  if (lo.delivery.smtp && ds.email_from.address.empty()) {
    return Fail("--smtp is set but the config has no sender: set delivery.email.from");
  }
  if (lo.delivery.keyring && ds.safe_url.empty()) {
    return Fail("link keys need a page for bad links: set delivery.links.safe_url");
  }
  server::EngagementOptions eo;
  eo.keyring = lo.delivery.keyring;
  eo.safe_url = ds.safe_url;
  eo.landing_ttl = ds.link_ttl;
  eo.inbox_secret = o.inbox_secret;
  eo.redirect.source = ds.utm_source;
  eo.redirect.source_param = ds.source_param;
  eo.redirect.medium_param = ds.medium_param;
  eo.redirect.campaign_param = ds.campaign_param;
  eo.redirect.content_param = ds.content_param;
  eo.redirect.promo_param = ds.promo_param;
  eo.redirect.landing_param = ds.landing_param;

  if (!lo.delivery.smtp && lo.delivery.relay_url.empty()) {
    live::Log().warn(
        "no --smtp and no --relay-url: email, SMS and push sends are only {} and count as "
        "delivered",
        o.outbox.empty() ? "recorded in the store" : "written to the outbox file");
  }

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Fail("cannot create data directory " + o.data_dir + ": " + ec.message());
  store::StoreOptions store_options;
  store_options.sync_every_write = false;  // the engine decides which writes are synced
  Result<std::unique_ptr<store::StateStore>> store =
      store::StateStore::Open(o.data_dir, store_options);
  if (!store.ok()) return Fail(store.status().message());

  SystemClock clock;
  std::vector<std::string> notes;
  Result<std::unique_ptr<live::JourneyRegistry>> registry =
      live::JourneyRegistry::Open(*disk, store->get(), &clock, &notes);
  if (!registry.ok()) return Fail(registry.status().message());
  for (const std::string& n : notes) {
    if (live::JourneyRegistry::NoteIsWarning(n)) {
      live::Log().warn("journeys: {}", n);
    } else {
      live::Log().info("journeys: {}", n);
    }
  }

  Result<std::unique_ptr<live::LiveEngine>> engine =
      live::LiveEngine::Open((*registry)->config(), store->get(), lo, &clock);
  if (!engine.ok()) return Fail(engine.status().message());
  const live::RecoveryInfo& r = (*engine)->recovery();
  live::Log().info(
      "recovered data_dir={} profiles={} aliases={} seen_message_ids={} journal_events={} "
      "timers={} timers_fired={} outbox_pending={} dropped_instances={} next_sequence={}",
      o.data_dir, r.profiles, r.aliases, r.seen_messages, r.journal_events, r.timers,
      r.timers_fired, r.pending_outbox, r.dropped_instances, r.next_sequence);
  live::LiveAdmin admin(registry->get(), engine->get());
  live::LiveInbox inbox(engine->get());
  server::EngagementHandler engagement(&eo, engine->get(), &inbox, &clock);

  // Block the stop signals before the server's threads start, so only sigwait receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::IngestServer server(so, engine->get(), &clock, &admin, &engagement);
  if (Status s = server.Start(); !s.ok()) return Fail(s.message());
  live::Log().info(
      "serving listen={}:{} shards={} threads={} workers={} sync={} dedupe_window={} journeys={} "
      "write_keys=\"{}\" admin_api={} outbox_file={} relay={} smtp={} delivery_lanes={} "
      "public_url={} link_tracking={} inbox_api={}",
      so.listen_address, server.port(), lo.shards, so.threads, so.workers, o.sync, o.dedupe_window,
      (*registry)->config()->journeys.size(), JoinKeys(so.write_keys.size()),
      so.admin_token.empty() ? "disabled" : "enabled", o.outbox.empty() ? "none" : o.outbox,
      o.relay_url.empty() ? "none" : "set", o.smtp.empty() ? "none" : o.smtp,
      lo.delivery.lanes, lo.delivery.public_url, lo.delivery.keyring ? "on" : "off",
      o.inbox_secret.empty() ? "disabled" : "enabled");
  if (!o.port_file.empty()) {
    std::string tmp = o.port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), o.port_file.c_str());
  }

  int sig = 0;
  sigwait(&signals, &sig);
  live::Log().info("stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  server.Stop();
  (*engine)->Stop();
  live::Log().info("stopped");
  return kExitOk;
}

}  // namespace waymark::cli
