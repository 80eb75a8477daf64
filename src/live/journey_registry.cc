#include "live/journey_registry.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "live/journey_records.h"
#include "model/config_loader.h"

namespace waymark::live {

// A stored version in memory: its record, its document and what the document compiles to against
// the disk config. Copies share the document.
struct JourneyRegistry::Version {
  VersionRecord record;
  std::shared_ptr<const std::string> text;
  bool stored = false;                    // the document is in the store already
  std::shared_ptr<const JourneyDef> def;  // null when the document no longer loads
  std::vector<std::string> errors;        // why it does not load

  uint32_t number() const { return record.number; }
  VersionState state() const { return record.state; }
};

// A journey in memory. Changes are made to a copy, which replaces the original once stored.
struct JourneyRegistry::Journey {
  std::string id;
  int position = -1;  // in Config::journeys; -1 while never published
  JourneyStatus status = JourneyStatus::kActive;
  uint32_t archived_through = 0;
  std::vector<Version> versions;  // ascending by number

  uint32_t latest() const { return versions.empty() ? 0 : versions.back().number(); }
  bool archived() const { return status == JourneyStatus::kArchived; }
  const Version* Published() const {
    for (const Version& v : versions)
      if (v.state() == VersionState::kPublished) return &v;
    return nullptr;
  }
  const Version* FindVersion(uint32_t number) const {
    for (const Version& v : versions)
      if (v.number() == number) return &v;
    return nullptr;
  }
  // What List() shows name, stage and trigger of: the published version, else the newest one that
  // loads; null when none does.
  const JourneyDef* Shown() const {
    if (const Version* p = Published(); p != nullptr && p->def != nullptr) return p->def.get();
    for (auto it = versions.rbegin(); it != versions.rend(); ++it)
      if (it->def != nullptr) return it->def.get();
    return nullptr;
  }

  // `number` becomes the published version and the one it replaces is retired. A journey
  // published for the first time takes `next_position`; an archived one becomes active.
  void Publish(uint32_t number, Time now, int next_position) {
    for (Version& v : versions) {
      if (v.state() == VersionState::kPublished) v.record.state = VersionState::kRetired;
      if (v.number() == number) {
        v.record.state = VersionState::kPublished;
        v.record.published_at = now;
      }
    }
    if (position < 0) position = next_position;
    if (archived()) status = JourneyStatus::kActive;
  }

  JourneyRecord Record() const {
    JourneyRecord r;
    r.position = position;
    r.status = status;
    r.archived_through = archived_through;
    for (const Version& v : versions) r.versions.push_back(v.record);
    return r;
  }
};

namespace {

// Stands for the document in error messages: "journey:3:5: unknown step type 'wiat'".
const char kDocName[] = "journey";

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string all;
  for (const std::string& l : lines) all += (all.empty() ? "" : "\n") + l;
  return all;
}

std::string Named(std::string_view id) { return "journey '" + std::string(id) + "'"; }
std::string Named(std::string_view id, uint32_t version) {
  return Named(id) + " version " + std::to_string(version);
}

Value Number(uint32_t n) { return Value(int64_t(n)); }
Value TimeOrNull(const std::optional<Time>& t) { return t ? Value(FormatIsoTime(*t)) : Value(); }

Value Strings(const std::vector<std::string>& list) {
  Value::List out;
  for (const std::string& s : list) out.emplace_back(s);
  return Value(std::move(out));
}

Value TriggerView(const JourneyDef& j, const Config& config) {
  Value t = Value::EmptyObject();
  auto segment = [&] {
    return j.trigger_segment >= 0 && size_t(j.trigger_segment) < config.segments.size()
               ? Value(config.segments[j.trigger_segment].id)
               : Value();
  };
  switch (j.trigger_kind) {
    case TriggerKind::kEvent:
      t.Set("event", j.trigger_event);
      break;
    case TriggerKind::kSegmentEnter:
      t.Set("segment_enter", segment());
      break;
    case TriggerKind::kSegmentExit:
      t.Set("segment_exit", segment());
      break;
    case TriggerKind::kTraitChange:
      t.Set("trait_change", j.trigger_trait);
      break;
  }
  if (!j.entry_filter.empty()) t.Set("where", j.entry_filter.text());
  return t;
}

Value StepRef(const JourneyDef& j, int index) {
  if (index < 0 || size_t(index) >= j.steps.size()) return Value("end");
  return Value(j.steps[index].id);
}

std::string ClockText(int minute) {
  std::string s = std::to_string(minute / 60);
  if (s.size() < 2) s.insert(0, "0");
  std::string m = std::to_string(minute % 60);
  return s + ":" + (m.size() < 2 ? "0" : "") + m;
}

// The type-specific fields of one step; the document (source) has the rest.
void AddStepFields(const JourneyDef& j, const StepDef& s, const Config& config, Value* out) {
  auto template_id = [&] {
    return s.template_index >= 0 && size_t(s.template_index) < config.templates.size()
               ? Value(config.templates[s.template_index].id)
               : Value();
  };
  switch (s.kind) {
    case StepKind::kWait:
      out->Set("wait", FormatDuration(s.wait));
      break;
    case StepKind::kWaitUntil:
      out->Set("time", ClockText(s.local_minute));
      break;
    case StepKind::kWaitFor:
      out->Set("event", s.wait_event);
      if (!s.wait_filter.empty()) out->Set("where", s.wait_filter.text());
      out->Set("timeout", FormatDuration(s.wait));
      out->Set("on_event", StepRef(j, s.on_event));
      out->Set("on_timeout", StepRef(j, s.on_timeout));
      return;
    case StepKind::kBranch: {
      Value::List branches;
      for (const StepDef::Branch& b : s.branches) {
        Value branch = Value::EmptyObject();
        branch.Set("if", b.condition.empty() ? Value() : Value(b.condition.text()));
        branch.Set("next", StepRef(j, b.next));
        branches.push_back(std::move(branch));
      }
      out->Set("branches", Value(std::move(branches)));
      return;
    }
    case StepKind::kSplit: {
      Value::List arms;
      for (const StepDef::Arm& a : s.arms) {
        Value arm = Value::EmptyObject();
        arm.Set("weight", Number(a.weight));
        arm.Set("next", StepRef(j, a.next));
        if (!a.label.empty()) arm.Set("label", a.label);
        arms.push_back(std::move(arm));
      }
      out->Set("arms", Value(std::move(arms)));
      return;
    }
    case StepKind::kHoldout:
      out->Set("percent", Value(s.holdout_basis_points / 100.0));
      break;
    case StepKind::kSend: {
      Value::List channels;
      for (int c : s.channels)
        if (c >= 0 && size_t(c) < config.channels.size())
          channels.emplace_back(config.channels[c].id);
      out->Set("channels", Value(std::move(channels)));
      out->Set("template", template_id());
      break;
    }
    case StepKind::kUpdateProfile: {
      std::vector<std::string> set;
      for (const auto& kv : s.set_traits) set.push_back(kv.first);
      out->Set("set", Strings(set));
      out->Set("unset", Strings(s.unset_traits));
      break;
    }
    case StepKind::kWebhook:
      out->Set("url", s.webhook_url);
      out->Set("template", template_id());
      break;
    case StepKind::kExit:
      out->Set("reason", s.exit_reason);
      return;
  }
  out->Set("next", StepRef(j, s.next));
}

Value StepsView(const JourneyDef& j, const Config& config) {
  Value::List steps;
  for (const StepDef& s : j.steps) {
    Value step = Value::EmptyObject();
    step.Set("id", s.id);
    step.Set("type", StepKindName(s.kind));
    AddStepFields(j, s, config, &step);
    steps.push_back(std::move(step));
  }
  return Value(std::move(steps));
}

}  // namespace

std::string_view VersionStateName(VersionState s) {
  switch (s) {
    case VersionState::kDraft:
      return "draft";
    case VersionState::kPublished:
      return "published";
    case VersionState::kRetired:
      return "retired";
  }
  return "?";
}

JourneyRegistry::JourneyRegistry(std::shared_ptr<const Config> disk, store::StateStore* store,
                                 const Clock* clock)
    : disk_(std::move(disk)), store_(store), clock_(clock) {}

JourneyRegistry::~JourneyRegistry() = default;

Result<std::unique_ptr<JourneyRegistry>> JourneyRegistry::Open(std::shared_ptr<const Config> disk,
                                                               store::StateStore* store,
                                                               const Clock* clock,
                                                               std::vector<std::string>* notes) {
  if (disk == nullptr || store == nullptr || clock == nullptr) {
    return Status::Invalid("JourneyRegistry::Open: needs a config, a store and a clock");
  }
  std::unique_ptr<JourneyRegistry> registry(new JourneyRegistry(std::move(disk), store, clock));
  std::vector<std::string> ignored;
  std::lock_guard<std::mutex> lock(registry->mu_);
  WAYMARK_RETURN_IF_ERROR(registry->Load(notes != nullptr ? notes : &ignored));
  registry->config_ = registry->Build();
  return registry;
}

// ---- loading and reconciliation ----

Status JourneyRegistry::Load(std::vector<std::string>* notes) {
  WAYMARK_RETURN_IF_ERROR(ReadStored());
  const size_t stored = journeys_.size();

  std::vector<std::string> dirty;
  for (const auto& def : disk_->journeys) Reconcile(def, notes, &dirty);
  WAYMARK_RETURN_IF_ERROR(CheckStored(notes));
  if (dirty.empty()) return Status::Ok();

  std::vector<const Journey*> changed;
  for (const std::string& id : dirty) changed.push_back(Find(id));
  std::vector<std::string> index;
  for (const auto& j : journeys_) index.push_back(j->id);
  WAYMARK_RETURN_IF_ERROR(Persist(changed, journeys_.size() > stored ? &index : nullptr));
  for (const auto& j : journeys_)
    for (Version& v : j->versions) v.stored = true;
  return Status::Ok();
}

Status JourneyRegistry::ReadStored() {
  const std::string index_key = store::MetaKey(JourneyIndexName());
  Result<std::optional<std::string>> index = store_->GetMeta(JourneyIndexName());
  if (!index.ok()) return index.status();
  if (!index->has_value()) return Status::Ok();
  Result<std::vector<std::string>> ids = DecodeJourneyIndex(**index);
  if (!ids.ok()) return ids.status().WithPrefix(index_key + ": ");

  for (const std::string& id : *ids) {
    if (Find(id) != nullptr) return Status::Parse(index_key + ": " + Named(id) + " listed twice");
    Result<std::unique_ptr<Journey>> j = ReadJourney(id);
    if (!j.ok()) return j.status();
    journeys_.push_back(std::move(*j));
  }

  // Positions must be exactly 0..n-1: they are the indices of Config::journeys.
  std::vector<const Journey*> by_position(journeys_.size(), nullptr);
  for (const auto& j : journeys_) {
    if (j->position < 0) continue;
    if (size_t(j->position) >= by_position.size() || by_position[j->position] != nullptr) {
      return Status::Parse(index_key + ": " + Named(j->id) + " has position " +
                           std::to_string(j->position) + ", taken or out of range");
    }
    by_position[j->position] = j.get();
    next_position_ = std::max(next_position_, j->position + 1);
  }
  for (int i = 0; i < next_position_; ++i) {
    if (by_position[i] == nullptr) {
      return Status::Parse(index_key + ": no journey has position " + std::to_string(i));
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<JourneyRegistry::Journey>> JourneyRegistry::ReadJourney(
    const std::string& id) const {
  const std::string key = store::MetaKey(JourneyRecordName(id));
  Result<std::optional<std::string>> raw = store_->GetMeta(JourneyRecordName(id));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) {
    return Status::Parse(key + ": missing, but meta/journeys lists " + Named(id));
  }
  Result<JourneyRecord> rec = DecodeJourneyRecord(**raw);
  if (!rec.ok()) return rec.status().WithPrefix(key + ": ");

  auto j = std::make_unique<Journey>();
  j->id = id;
  j->position = rec->position;
  j->status = rec->status;
  j->archived_through = rec->archived_through;
  for (const VersionRecord& vr : rec->versions) {
    const std::string what = "document of " + Named(id, vr.number) + " (meta/journeys/v/)";
    Result<std::optional<std::string>> text = store_->GetMeta(VersionTextName(id, vr.number));
    if (!text.ok()) return text.status();
    if (!text->has_value()) return Status::Parse(what + ": missing");
    Result<std::string> doc = DecodeVersionText(**text);
    if (!doc.ok()) return doc.status().WithPrefix(what + ": ");
    Version v;
    v.record = vr;
    v.text = std::make_shared<const std::string>(std::move(*doc));
    v.stored = true;
    Compile(id, &v);
    j->versions.push_back(std::move(v));
  }
  return j;
}

void JourneyRegistry::Reconcile(const std::shared_ptr<const JourneyDef>& def,
                                std::vector<std::string>* notes, std::vector<std::string>* dirty) {
  const std::string& id = def->id;
  const uint32_t number = def->version;
  Journey* j = Find(id);
  const bool is_new = j == nullptr;
  if (is_new) {
    journeys_.push_back(std::make_unique<Journey>());
    j = journeys_.back().get();
    j->id = id;
  }
  const uint32_t latest = j->latest();
  const Version* published = j->Published();

  // The file leads only with a version above everything stored.
  if (is_new || number > latest) {
    const bool was_archived = j->archived();
    std::string note = Named(id, number) + " from the config file ";
    if (is_new) {
      note += "stored and published";
    } else if (published != nullptr) {
      note += "published, replacing version " + std::to_string(published->number());
    } else {
      note += "published";
    }
    if (j->status == JourneyStatus::kPaused) note += "; the journey stays paused";
    if (was_archived) note += "; the journey was archived and is active again";
    AddFileVersion(j, def);
    j->Publish(number, clock_->Now(), next_position_);
    next_position_ = std::max(next_position_, j->position + 1);
    dirty->push_back(id);
    notes->push_back(std::move(note));
    return;
  }

  // Compared as the loader re-writes them, so that layout and comments do not count.
  const Version* same = j->FindVersion(number);
  const bool same_text =
      same != nullptr && (same->def != nullptr ? same->def->source : *same->text) == def->source;
  if (published != nullptr && published == same && same_text && !j->archived()) return;
  const std::string bump =
      "; give the file a `version:` above " + std::to_string(latest) + " to publish it";
  const std::string head = Named(id) + ": the config file's version " + std::to_string(number);
  if (j->archived()) {
    notes->push_back(Named(id) + " is archived; the config file's version " +
                     std::to_string(number) + " is not used" + bump);
  } else if (same != nullptr && !same_text) {
    notes->push_back(head + " differs from the stored version " + std::to_string(number) +
                     ", and the stored versions win" + bump);
  } else {
    std::string state = published != nullptr
                            ? "version " + std::to_string(published->number()) + " is published"
                            : "the journey was never published";
    notes->push_back(head + " is not used: " + state + " and the stored versions win" + bump);
  }
}

void JourneyRegistry::AddFileVersion(Journey* j, const std::shared_ptr<const JourneyDef>& def) {
  Version v;
  v.record.number = def->version;
  v.record.origin = VersionOrigin::kFile;
  v.record.created_at = clock_->Now();
  v.text = std::make_shared<const std::string>(def->source);
  // Compiled from the stored text, as after a restart, rather than taken from the disk config.
  Compile(j->id, &v);
  j->versions.push_back(std::move(v));
}

bool JourneyRegistry::NoteIsWarning(std::string_view note) {
  // Reconcile writes "<journey> version N from the config file ... published" when the file won;
  // every other note is one of the cases where it did not.
  return note.find(" from the config file ") == std::string_view::npos;
}

Status JourneyRegistry::CheckStored(std::vector<std::string>* notes) const {
  std::vector<std::string> failures;
  for (const auto& j : journeys_) {
    for (const Version& v : j->versions) {
      if (v.def != nullptr) continue;
      const std::string first = v.errors.empty() ? "" : ": " + v.errors.front();
      switch (v.state()) {
        case VersionState::kPublished:
          for (const std::string& e : v.errors)
            failures.push_back(Named(j->id, v.number()) + ": " + e);
          break;
        case VersionState::kRetired:
          notes->push_back(Named(j->id, v.number()) +
                           " (retired) no longer loads; instances still on it will be dropped" +
                           first);
          break;
        case VersionState::kDraft:
          notes->push_back(Named(j->id, v.number()) +
                           " (draft) no longer loads and cannot be published" + first);
          break;
      }
    }
    bool from_file = std::any_of(j->versions.begin(), j->versions.end(), [](const Version& v) {
      return v.record.origin == VersionOrigin::kFile;
    });
    const Version* published = j->Published();
    if (from_file && published != nullptr && !j->archived() && disk_->JourneyIndex(j->id) < 0) {
      notes->push_back(Named(j->id) + " is no longer in the config file; its stored version " +
                       std::to_string(published->number()) +
                       " stays published (archive it to stop new entries)");
    }
  }
  if (failures.empty()) return Status::Ok();
  return Status::Invalid("published journey versions no longer load against the config:\n" +
                         JoinLines(failures));
}

void JourneyRegistry::Compile(const std::string& id, Version* v) const {
  std::vector<std::string> errors;
  Result<std::shared_ptr<JourneyDef>> def = LoadJourneyText(*disk_, *v->text, kDocName, &errors);
  v->def = nullptr;
  v->errors.clear();
  if (!def.ok()) {
    v->errors = errors.empty() ? std::vector<std::string>{def.status().message()} : errors;
    return;
  }
  if ((*def)->id != id) {
    v->errors = {std::string(kDocName) + ":1:1: the document is journey '" + (*def)->id +
                 "', stored as " + Named(id)};
    return;
  }
  (*def)->version = v->number();
  v->def = std::move(*def);
}

// ---- store and config ----

JourneyRegistry::Journey* JourneyRegistry::Find(std::string_view id) {
  return const_cast<Journey*>(std::as_const(*this).Find(id));
}

const JourneyRegistry::Journey* JourneyRegistry::Find(std::string_view id) const {
  for (const auto& j : journeys_)
    if (j->id == id) return j.get();
  return nullptr;
}

Status JourneyRegistry::Persist(const std::vector<const Journey*>& journeys,
                                const std::vector<std::string>* index) {
  store::WriteBatch batch;
  std::string buf;
  for (const Journey* j : journeys) {
    buf.clear();
    EncodeJourneyRecord(j->Record(), &buf);
    batch.PutMeta(JourneyRecordName(j->id), buf);
    for (const Version& v : j->versions) {
      if (v.stored) continue;
      buf.clear();
      EncodeVersionText(*v.text, &buf);
      batch.PutMeta(VersionTextName(j->id, v.number()), buf);
    }
  }
  if (index != nullptr) {
    buf.clear();
    EncodeJourneyIndex(*index, &buf);
    batch.PutMeta(JourneyIndexName(), buf);
  }
  std::string what = journeys.size() == 1 ? Named(journeys.front()->id) : "journeys";
  return store_->Commit(batch).WithPrefix("storing " + what + ": ");
}

Status JourneyRegistry::Store(Journey next) {
  Journey* existing = Find(next.id);
  std::vector<std::string> index;
  if (existing == nullptr) {
    for (const auto& j : journeys_) index.push_back(j->id);
    index.push_back(next.id);
  }
  WAYMARK_RETURN_IF_ERROR(Persist({&next}, existing == nullptr ? &index : nullptr));

  for (Version& v : next.versions) v.stored = true;
  next_position_ = std::max(next_position_, next.position + 1);
  if (existing != nullptr) {
    *existing = std::move(next);
  } else {
    journeys_.push_back(std::make_unique<Journey>(std::move(next)));
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Config>> JourneyRegistry::Commit(Journey next) {
  const bool in_config = next.position >= 0;
  WAYMARK_RETURN_IF_ERROR(Store(std::move(next)));
  if (!in_config) return config_;
  config_ = Build();
  if (listener_) listener_(config_);
  return config_;
}

std::shared_ptr<const Config> JourneyRegistry::Build() const {
  auto config = std::make_shared<Config>(*disk_);
  config->journeys.assign(size_t(next_position_), nullptr);
  config->journey_status.assign(size_t(next_position_), JourneyStatus::kActive);
  config->retained_versions.clear();

  // History as the loader derives it, but from the versions in effect instead of the file's.
  HistoryPolicy history;
  history.max_entries = disk_->history.max_entries;
  for (const SegmentDef& s : disk_->segments)
    for (const HistoryPolicy::Rule& need : s.condition.history_needs()) history.Add(need);

  for (const auto& j : journeys_) {
    if (j->position < 0) continue;
    // Open refuses a published version that does not load and Publish never makes one current.
    assert(j->Published() != nullptr && j->Published()->def != nullptr);
    config->journey_status[j->position] = j->status;
    for (const Version& v : j->versions) {
      if (v.def == nullptr) continue;
      if (v.state() == VersionState::kPublished) {
        config->journeys[j->position] = v.def;
      } else if (v.state() == VersionState::kRetired) {
        // TODO(registry): retired versions stay retained for good, also once no instance is on
        // them; the registry cannot see the shards' instances. Drop them when the engine can
        // report instances per version.
        config->retained_versions.push_back(v.def);
      } else {
        continue;
      }
      AddJourneyHistory(*v.def, &history);
    }
  }
  history.InternNames();
  config->history = std::move(history);
  return config;
}

// ---- changes ----

std::shared_ptr<const Config> JourneyRegistry::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

void JourneyRegistry::SetChangeListener(
    std::function<void(const std::shared_ptr<const Config>&)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

std::vector<std::string> JourneyRegistry::Validate(std::string_view text) const {
  // disk_ never changes: no lock needed.
  std::vector<std::string> errors;
  Result<std::shared_ptr<JourneyDef>> def =
      LoadJourneyText(*disk_, std::string(text), kDocName, &errors);
  if (!def.ok() && errors.empty()) errors.push_back(def.status().message());
  return errors;
}

Result<uint32_t> JourneyRegistry::CreateVersion(std::string_view text,
                                                std::vector<std::string>* errors) {
  std::vector<std::string> problems;
  Result<std::shared_ptr<JourneyDef>> def =
      LoadJourneyText(*disk_, std::string(text), kDocName, &problems);
  if (!def.ok() && problems.empty()) problems.push_back(def.status().message());
  if (errors != nullptr) *errors = problems;
  if (!def.ok()) return Status::Invalid(JoinLines(problems));

  std::lock_guard<std::mutex> lock(mu_);
  const std::string& id = (*def)->id;
  Journey next;
  if (const Journey* j = Find(id)) {
    next = *j;
  } else {
    next.id = id;
  }
  if (next.latest() == UINT32_MAX)
    return Status::Invalid(Named(id) + " has no version numbers left");
  const uint32_t number = next.latest() + 1;
  (*def)->version = number;

  Version v;
  v.record.number = number;
  v.record.origin = VersionOrigin::kApi;
  v.record.created_at = clock_->Now();
  v.text = std::make_shared<const std::string>(text);
  v.def = std::move(*def);
  next.versions.push_back(std::move(v));
  WAYMARK_RETURN_IF_ERROR(Store(std::move(next)));
  return number;
}

Result<std::shared_ptr<const Config>> JourneyRegistry::Publish(std::string_view id,
                                                               uint32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  const Journey* j = Find(id);
  if (j == nullptr) return Status::NotFound("unknown " + Named(id));
  const Version* v = j->FindVersion(version);
  if (v == nullptr)
    return Status::NotFound(Named(id) + " has no version " + std::to_string(version));
  if (j->archived() && version <= j->archived_through) {
    return Status::Invalid(Named(id, version) +
                           " existed when the journey was archived (at version " +
                           std::to_string(j->archived_through) +
                           "); only a version created afterwards can be published");
  }
  if (v->state() == VersionState::kPublished) return config_;
  if (v->def == nullptr) {
    return Status::Invalid(Named(id, version) + " does not load:\n" + JoinLines(v->errors));
  }
  Journey next = *j;
  next.Publish(version, clock_->Now(), next_position_);
  return Commit(std::move(next));
}

Result<std::shared_ptr<const Config>> JourneyRegistry::Pause(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  const Journey* j = Find(id);
  if (j == nullptr) return Status::NotFound("unknown " + Named(id));
  if (j->archived()) return Status::Invalid(Named(id) + " is archived and cannot be paused");
  if (j->position < 0) {
    return Status::Invalid(Named(id) + " was never published and cannot be paused");
  }
  if (j->status == JourneyStatus::kPaused) return config_;
  Journey next = *j;
  next.status = JourneyStatus::kPaused;
  return Commit(std::move(next));
}

Result<std::shared_ptr<const Config>> JourneyRegistry::Resume(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  const Journey* j = Find(id);
  if (j == nullptr) return Status::NotFound("unknown " + Named(id));
  if (j->archived()) {
    return Status::Invalid(Named(id) +
                           " is archived; publish a version created afterwards to bring it back");
  }
  if (j->position < 0) {
    return Status::Invalid(Named(id) + " was never published and cannot be resumed");
  }
  if (j->status == JourneyStatus::kActive) return config_;
  Journey next = *j;
  next.status = JourneyStatus::kActive;
  return Commit(std::move(next));
}

Result<std::shared_ptr<const Config>> JourneyRegistry::Archive(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  const Journey* j = Find(id);
  if (j == nullptr) return Status::NotFound("unknown " + Named(id));
  if (j->archived()) return config_;
  Journey next = *j;
  next.status = JourneyStatus::kArchived;
  next.archived_through = next.latest();
  return Commit(std::move(next));
}

// ---- views ----

Value JourneyRegistry::List(bool include_archived) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Journey*> order;
  for (const auto& j : journeys_)
    if (j->position >= 0) order.push_back(j.get());
  std::sort(order.begin(), order.end(),
            [](const Journey* a, const Journey* b) { return a->position < b->position; });
  for (const auto& j : journeys_)
    if (j->position < 0) order.push_back(j.get());

  Value::List out;
  for (const Journey* j : order) {
    if (j->archived() && !include_archived) continue;
    out.push_back(Summary(*j));
  }
  return Value(std::move(out));
}

std::optional<Value> JourneyRegistry::Get(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Journey* j = Find(id);
  if (j == nullptr) return std::nullopt;
  Value out = Summary(*j);
  Value::List versions;
  for (const Version& v : j->versions) versions.push_back(VersionView(v));
  out.Set("versions", Value(std::move(versions)));
  return out;
}

Value JourneyRegistry::Summary(const Journey& j) const {
  const JourneyDef* shown = j.Shown();
  const Version* published = j.Published();
  std::string_view status = j.position < 0 && !j.archived() ? "draft" : JourneyStatusName(j.status);
  Value out = Value::EmptyObject();
  out.Set("id", j.id);
  out.Set("name", shown != nullptr ? Value(shown->name) : Value(j.id));
  out.Set("stage", shown != nullptr ? Value(shown->stage) : Value(""));
  out.Set("status", status);
  out.Set("version", published != nullptr ? Number(published->number()) : Value());
  out.Set("latest_version", Number(j.latest()));
  out.Set("versions", Value(int64_t(j.versions.size())));
  out.Set("trigger", shown != nullptr ? TriggerView(*shown, *disk_) : Value());
  return out;
}

Value JourneyRegistry::VersionView(const Version& v) const {
  Value out = Value::EmptyObject();
  out.Set("version", Number(v.number()));
  out.Set("state", VersionStateName(v.state()));
  out.Set("origin", VersionOriginName(v.record.origin));
  out.Set("created_at", FormatIsoTime(v.record.created_at));
  out.Set("published_at", TimeOrNull(v.record.published_at));
  out.Set("name", v.def != nullptr ? Value(v.def->name) : Value());
  out.Set("trigger", v.def != nullptr ? TriggerView(*v.def, *disk_) : Value());
  out.Set("steps", v.def != nullptr ? StepsView(*v.def, *disk_) : Value(Value::List{}));
  out.Set("source", *v.text);
  if (v.def == nullptr) out.Set("errors", Strings(v.errors));
  return out;
}

}  // namespace waymark::live
