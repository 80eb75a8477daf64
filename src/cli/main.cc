// waymark: the command-line entry point (validate, replay).

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

  CLI11_PARSE(app, argc, argv);
  if (validate->parsed()) return waymark::cli::Validate(validate_path);
  if (replay->parsed()) return waymark::cli::Replay(r);
  return 1;
}
