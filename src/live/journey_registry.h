// JourneyRegistry: the journeys of a running server and their versions, kept in the state store.
//
// The registry starts from the config on disk (LoadConfig) and what it stored under
// meta/journeys/... (docs/storage.md). Operators then manage journeys at runtime through it:
// validate a journey document, store it as a new draft version, publish a version, pause,
// resume, archive. Every change is written to the store (one atomic write) before it takes
// effect; a change that affects the engine yields a new Config for every shard
// (Shard::SwapConfig). docs/configuration.md, "Journey versions", has the rules.
//
// The configs it produces keep every journey at its position in Config::journeys for the life
// of the process (new journeys are appended in the order they are first published, which is
// also the order after a restart), carry each journey's status, retain every version that was
// ever published for the instances still on it, and intern their history names. Segments,
// channels, templates, policies and settings are the disk config's and never change at runtime:
// a journey that refers to anything else does not validate.
//
// Thread safety: every method may be called from any thread; changes are serialized by one
// mutex, which is also held while the change listener runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/value.h"
#include "model/config.h"
#include "store/state_store.h"

namespace waymark::live {

// Where a version is in its life: a draft was never published; the published version is the
// one new entries use (one per journey); a retired version was published before and is kept for
// the instances still on it.
enum class VersionState : uint8_t { kDraft, kPublished, kRetired };
std::string_view VersionStateName(VersionState s);

class JourneyRegistry {
 public:
  // Reconciles `disk` (the config loaded from the config path) with the journeys stored in
  // `store`, writes what changed, and builds the effective config. Journeys of the disk config
  // not stored yet are stored as published versions; a disk journey whose `version:` is higher
  // than every stored version of its id is stored and published; stored journeys and versions
  // otherwise win (see docs/configuration.md). `notes`, when given, receives a line for each
  // reconciliation an operator should hear about. Fails with kInvalidArgument when a stored
  // published version no longer loads against the disk config (listing its errors), and with
  // the store's error when reading or writing fails. `store` and `clock` must outlive the
  // registry.
  static Result<std::unique_ptr<JourneyRegistry>> Open(std::shared_ptr<const Config> disk,
                                                       store::StateStore* store, const Clock* clock,
                                                       std::vector<std::string>* notes = nullptr);
  // Whether a note of Open() says that what runs is not what the config files say (a file
  // version ignored, a journey gone from the files, a stored version that no longer loads),
  // which an operator should see as a warning; the others report a file version published.
  static bool NoteIsWarning(std::string_view note);
  ~JourneyRegistry();
  JourneyRegistry(const JourneyRegistry&) = delete;
  JourneyRegistry& operator=(const JourneyRegistry&) = delete;

  // The effective config: every shard should run this one.
  std::shared_ptr<const Config> config() const;

  // Called with the new config after every change that produced one, in change order, under the
  // registry's lock (so two concurrent changes reach the shards in the order they were made).
  // Typically LiveEngine::SwapConfig. It must not call back into the registry. Replaces any
  // earlier listener; an empty function removes it.
  void SetChangeListener(std::function<void(const std::shared_ptr<const Config>&)> listener);

  // Checks one journey document (YAML or JSON, the schema of one entry of `journeys:`) against
  // the disk config's segments, templates and channels. Returns the problems as
  // "journey:line:col: message"; empty when it is valid. A `version:` in the document is
  // ignored: the registry numbers versions.
  std::vector<std::string> Validate(std::string_view text) const;

  // Stores `text` as a new draft version of the journey its `id` names: one more than the
  // highest version known for that id, or version 1 of a new journey. Returns the version
  // number. An invalid document is refused with kInvalidArgument whose message lists the
  // problems one per line (also put into `errors` when given). Changes no config.
  Result<uint32_t> CreateVersion(std::string_view text, std::vector<std::string>* errors = nullptr);

  // Makes `version` the one new entries of journey `id` use; the version it replaces is retired
  // (its instances run on). A journey published for the first time is appended to the config's
  // journeys. The status stays as it was (a paused journey stays paused), except that publishing
  // a version created after the journey was archived makes it active again. Publishing the
  // current version again changes nothing and returns the current config. kNotFound for an
  // unknown id or version; kInvalidArgument for a version of an archived journey that existed
  // when it was archived, or one that does not load.
  Result<std::shared_ptr<const Config>> Publish(std::string_view id, uint32_t version);

  // Stops new entries; in-flight instances continue. No-op when paused already. kNotFound for
  // an unknown id; kInvalidArgument when it was never published or is archived.
  Result<std::shared_ptr<const Config>> Pause(std::string_view id);
  // Lets a paused journey take entries again. No-op when active. kNotFound for an unknown id;
  // kInvalidArgument when archived or never published.
  Result<std::shared_ptr<const Config>> Resume(std::string_view id);
  // Stops new entries for good and hides the journey from List(); in-flight instances continue.
  // Only a version created afterwards, once published, brings it back. No-op when archived.
  // kNotFound for an unknown id. A journey never published (drafts only) is archived too; no
  // config changes then and the listener is not called.
  Result<std::shared_ptr<const Config>> Archive(std::string_view id);

  // Every journey (archived ones only with `include_archived`), in config order then drafts:
  // [{"id", "name", "stage", "status", "version" (published; null when none), "latest_version",
  //   "versions" (count), "trigger"}]. `status` is active, paused, archived or draft (never
  // published).
  Value List(bool include_archived = false) const;
  // One journey with all its versions: the List() fields plus "versions": [{"version", "state"
  // (draft, published, retired), "origin" (file, api), "created_at", "published_at", "name",
  // "trigger", "steps": [{"id", "type", ...}], "source" (the stored document), "errors" (when it
  // no longer loads)}]. nullopt when the id is unknown.
  std::optional<Value> Get(std::string_view id) const;

 private:
  struct Version;
  struct Journey;

  JourneyRegistry(std::shared_ptr<const Config> disk, store::StateStore* store, const Clock* clock);

  // Open's work: reads the store, reconciles the disk journeys, checks and writes the result.
  Status Load(std::vector<std::string>* notes);
  // Every journey the index lists, with its versions compiled; kParseError for a malformed or
  // missing value, naming its key.
  Status ReadStored();
  Result<std::unique_ptr<Journey>> ReadJourney(const std::string& id) const;
  // Applies one disk journey to the stored ones (the rules of Open); adds its id to `dirty` when
  // it changed.
  void Reconcile(const std::shared_ptr<const JourneyDef>& def, std::vector<std::string>* notes,
                 std::vector<std::string>* dirty);
  void AddFileVersion(Journey* j, const std::shared_ptr<const JourneyDef>& def);
  // Notes the versions that no longer load and the file journeys gone from the file;
  // kInvalidArgument listing the errors of every published version that no longer loads.
  Status CheckStored(std::vector<std::string>* notes) const;
  // Compiles `v`'s document against the disk config into v->def, or its problems into v->errors.
  void Compile(const std::string& id, Version* v) const;
  Journey* Find(std::string_view id);
  const Journey* Find(std::string_view id) const;
  // Writes the records of `journeys`, the documents of their versions not stored yet and, when
  // given, `index`, in one atomic write.
  Status Persist(const std::vector<const Journey*>& journeys,
                 const std::vector<std::string>* index);
  // Persists `next` and then puts it in place of the journey with its id (or adds it).
  Status Store(Journey next);
  std::shared_ptr<const Config> Build() const;
  // Store(next); when `next` is in the config, rebuilds the config and tells the listener.
  Result<std::shared_ptr<const Config>> Commit(Journey next);

  Value Summary(const Journey& j) const;
  Value VersionView(const Version& v) const;

  const std::shared_ptr<const Config> disk_;
  store::StateStore* store_;
  const Clock* clock_;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Journey>> journeys_;  // in the order they were first stored
  int next_position_ = 0;
  std::shared_ptr<const Config> config_;
  std::function<void(const std::shared_ptr<const Config>&)> listener_;
};

}  // namespace waymark::live
