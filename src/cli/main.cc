// waymark: the command-line entry point (validate, replay, serve).

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using waymark::cli::ReplayOptions;
  CLI::App app{"Waymark: customer journey orchestration"};
  app.require_subcommand(1);

  std::string validate_path;
  auto* validate = app.add_subcommand("validate", "Check journeys, segments, templates, policies");
  validate->add_option("config", validate_path, "config file or directory")->required();

  ReplayOptions r;
  auto* replay = app.add_subcommand("replay", "Run event history through the journeys");
  replay->add_option("--config", r.config, "config file or directory")->required();
  replay->add_option("--events", r.events, "event file(s): JSON Lines, or CSV with --mapping")
      ->required();
  replay->add_option("--mapping", r.mapping, "CSV column mapping (YAML)");
  replay->add_option("--shards", r.shards, "engine shards (threads)")->check(CLI::Range(1, 256));
  replay->add_option("--read-threads", r.read_threads,
                     "threads converting input rows (default: one per core)")
      ->check(CLI::Range(0, 256));
  replay->add_option("--outbox", r.outbox, "write sends as JSON Lines here");
  replay->add_option("--suppressions", r.suppressions, "write suppressed sends as JSON Lines");
  replay->add_option("--report", r.report, "write the report as JSON here");
  replay->add_option("--trace", r.trace, "explain every decision about this profile id");
  replay->add_option("--trace-file", r.trace_file, "write the trace here instead of stdout");
  replay->add_option("--trace-journey", r.trace_journeys,
                     "keep only this journey's lines (and the events) in the trace");
  replay->add_flag("--strict", r.strict, "stop at the first bad input row");
  replay->add_option("--order", r.order,
                     "sort (default): sort all events by time; stream: "
                     "process as read with a reorder window");
  replay->add_option("--reorder-window", r.reorder_window, "with --order stream (default 1h)");
  replay->add_option("--drain", r.drain,
                     "let timers run this long after the last event "
                     "(default 30d)");
  replay->add_option("--until", r.until, "let timers run up to this ISO time instead");
  replay->add_option("--dedupe-window", r.dedupe_window,
                     "a repeated messageId within this much event time is dropped (default 24h)");
  replay->add_flag("!--require-contact", r.assume_reachable,
                   "treat profiles without a contact trait as unreachable");
  replay->add_flag("--quiet", r.quiet, "no progress lines");

  waymark::cli::ServeOptions s;
  auto* serve = app.add_subcommand("serve", "Run the live server (Segment-compatible ingest)");
  serve->add_option("--config", s.config, "config file or directory")->required();
  serve->add_option("--data-dir", s.data_dir, "state directory (RocksDB); created when missing")
      ->required();
  serve->add_option("--listen", s.listen, "address:port; port 0 picks a free one")
      ->capture_default_str();
  serve->add_option("--shards", s.shards, "engine shards (threads)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_option("--threads", s.threads, "HTTP I/O threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve
      ->add_option("--workers", s.workers,
                   "HTTP threads that wait while events are made durable; more of them share "
                   "each disk sync")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  serve->add_option("--write-key", s.write_keys, "accepted Segment write key (repeatable)")
      ->envname("WAYMARK_WRITE_KEY");
  serve->add_option("--admin-token", s.admin_token, "Bearer token of the admin API and /metrics")
      ->envname("WAYMARK_ADMIN_TOKEN");
  serve
      ->add_option("--sync", s.sync,
                   "always: a 200 means the events are on disk (default); none: in the OS "
                   "(survives a process crash, not a power loss)")
      ->capture_default_str();
  serve
      ->add_option("--dedupe-window", s.dedupe_window,
                   "a repeated messageId within this long of its first arrival is dropped")
      ->capture_default_str();
  serve
      ->add_option("--max-pending", s.max_pending,
                   "events accepted but not yet applied; beyond it requests get 503")
      ->capture_default_str();
  serve->add_flag("--assume-reachable", s.assume_reachable,
                  "treat profiles without a contact trait as reachable (as replay does)");
  serve->add_option("--outbox", s.outbox, "append every send to this JSON Lines file");
  serve->add_option("--relay-url", s.relay_url,
                    "POST every send without a native channel here, signed (SMS, push; email "
                    "without --smtp)");
  serve
      ->add_option("--delivery-lanes", s.delivery_lanes,
                   "threads that deliver sends in parallel, each with its own connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve->add_option("--webhook-secret", s.webhook_secret, "HMAC key for webhook signatures")
      ->envname("WAYMARK_WEBHOOK_SECRET");
  serve->add_option("--port-file", s.port_file, "write the bound port here once listening");
  serve->add_option("--public-url", s.public_url,
                    "how customers reach this server, for tracked links (default http://LISTEN)");
  serve->add_option("--smtp", s.smtp, "host:port of the SMTP relay that sends email");
  serve->add_option("--smtp-tls", s.smtp_tls, "none, starttls or tls")->capture_default_str();
  serve->add_option("--smtp-user", s.smtp_user, "SMTP login")->envname("WAYMARK_SMTP_USER");
  serve->add_option("--smtp-password", s.smtp_password, "SMTP password")
      ->envname("WAYMARK_SMTP_PASSWORD");
  serve->add_flag("--insecure-tls", s.insecure_tls,
                  "do not check TLS certificates of the SMTP relay and webhooks (tests only)");
  serve
      ->add_option("--link-keys", s.link_keys,
                   "keys that sign tracked links: ID:HEX[,ID:HEX...][;current=ID]")
      ->envname("WAYMARK_LINK_KEYS");
  serve
      ->add_option("--inbox-secret", s.inbox_secret,
                   "HMAC key of the per-user tokens of the in-app inbox API")
      ->envname("WAYMARK_INBOX_SECRET");
  serve->add_option("--log-level", s.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (validate->parsed()) return waymark::cli::Validate(validate_path);
  if (replay->parsed()) return waymark::cli::Replay(r);
  if (serve->parsed()) return waymark::cli::Serve(s);
  return 1;
}
