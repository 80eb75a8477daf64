#include "store/state_store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace waymark::store {
namespace {

constexpr std::string_view kProfilePrefix = "p/";
constexpr std::string_view kOutboxPrefix = "o/";
constexpr std::string_view kSeenPrefix = "m/";
constexpr std::string_view kAliasPrefix = "a/";
constexpr std::string_view kJournalPrefix = "j/";
constexpr std::string_view kInboxPrefix = "i/";
constexpr std::string_view kMetaPrefix = "meta/";
constexpr std::string_view kSchemaMeta = "schema";
constexpr std::string_view kIngestSeqMeta = "ingest_seq";
constexpr std::string_view kAppliedMeta = "applied/";

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return Status::Io(std::string(what) + ": " + s.ToString());
}

void PutBigEndian64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

// Times are signed; flipping the sign bit makes their big-endian bytes sort in time order.
constexpr uint64_t kSignBit = uint64_t(1) << 63;

// The first key after every key that starts with `prefix` (prefixes here end in '/').
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

rocksdb::Options MakeOptions(const StoreOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = options.create_if_missing;
  o.max_background_jobs = 2;
  // Separate queues for the log and the memtable: a write group's log write (the journal's)
  // does not wait for the memtable inserts of the group before it (a shard's round of profiles).
  o.enable_pipelined_write = true;
  // Profiles are small, values compress poorly at block level relative to their CPU cost; lz4
  // is cheap enough to keep when the library has it.
  auto supported = rocksdb::GetSupportedCompressions();
  bool lz4 =
      std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
  o.compression = lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  // Point lookups (profiles, aliases, seen ids) dominate reads: a bloom filter per table.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

// Iterates keys in [prefix, PrefixEnd(prefix)) starting at `start` (>= prefix).
template <typename Fn>
Status ScanRange(rocksdb::DB* db, std::string_view prefix, std::string_view start, Fn&& fn) {
  std::string end = PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key()).substr(prefix.size());
    Status s = fn(key, ToView(it->value()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scan " + std::string(prefix));
}

// A callback's way to end a ScanRange early; the caller knows it asked to stop.
Status StopScan() { return Status::Internal("scan stopped"); }

}  // namespace

std::string ProfileKey(std::string_view profile_key) {
  std::string k(kProfilePrefix);
  k.append(profile_key);
  return k;
}

std::string OutboxKey(Time time, std::string_view message_id) {
  std::string k(kOutboxPrefix);
  PutBigEndian64(static_cast<uint64_t>(ToMillis(time)) ^ kSignBit, &k);
  k.append(message_id);
  return k;
}

std::string SeenMessagesKey(Time time, uint64_t group) {
  std::string k(kSeenPrefix);
  PutBigEndian64(static_cast<uint64_t>(ToMillis(time)) ^ kSignBit, &k);
  PutBigEndian64(group, &k);
  return k;
}

std::string AliasKey(std::string_view anonymous_id) {
  std::string k(kAliasPrefix);
  k.append(anonymous_id);
  return k;
}

std::string InboxPrefix(std::string_view profile_key) {
  std::string k(kInboxPrefix);
  uint32_t n = static_cast<uint32_t>(profile_key.size());
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  k.append(profile_key);
  return k;
}

std::string InboxKey(std::string_view profile_key, Time time, std::string_view message_id) {
  std::string k = InboxPrefix(profile_key);
  PutBigEndian64(static_cast<uint64_t>(ToMillis(time)) ^ kSignBit, &k);
  k.append(message_id);
  return k;
}

std::string JournalKey(uint32_t partition, uint64_t seq) {
  std::string k(kJournalPrefix);
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((partition >> (8 * i)) & 0xff));
  PutBigEndian64(seq, &k);
  return k;
}

std::string MetaKey(std::string_view name) {
  std::string k(kMetaPrefix);
  k.append(name);
  return k;
}

// ---- WriteBatch ----

WriteBatch::WriteBatch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::PutProfile(const ProfileState& ps, const Config& config) {
  scratch_.clear();
  EncodeProfileState(ps, config, &scratch_);
  batch_->Put(ProfileKey(ps.profile.key), scratch_);
}

void WriteBatch::DeleteProfile(std::string_view profile_key) {
  batch_->Delete(ProfileKey(profile_key));
}

void WriteBatch::PutOutbox(const OutboxEntry& entry) {
  scratch_.clear();
  EncodeOutboxValue(entry, &scratch_);
  batch_->Put(OutboxKey(entry.time, entry.id), scratch_);
}

void WriteBatch::DeleteOutbox(Time time, std::string_view message_id) {
  batch_->Delete(OutboxKey(time, message_id));
}

void WriteBatch::PutSeenMessages(Time t, uint64_t group, const std::vector<uint64_t>& hashes) {
  scratch_.clear();
  EncodeHashListValue(hashes, &scratch_);
  batch_->Put(SeenMessagesKey(t, group), scratch_);
}

void WriteBatch::DeleteSeenMessagesBefore(Time t) {
  batch_->DeleteRange(std::string(kSeenPrefix), SeenMessagesKey(t, 0));
}

void WriteBatch::PutAlias(std::string_view anonymous_id, std::string_view profile_key) {
  scratch_.clear();
  EncodeBytesValue(profile_key, &scratch_);
  batch_->Put(AliasKey(anonymous_id), scratch_);
}

void WriteBatch::DeleteAlias(std::string_view anonymous_id) {
  batch_->Delete(AliasKey(anonymous_id));
}

void WriteBatch::PutInbox(std::string_view profile_key, Time time, std::string_view message_id,
                          std::string_view json) {
  scratch_.clear();
  EncodeBytesValue(json, &scratch_);
  batch_->Put(InboxKey(profile_key, time, message_id), scratch_);
}

void WriteBatch::DeleteInbox(std::string_view profile_key, Time time, std::string_view message_id) {
  batch_->Delete(InboxKey(profile_key, time, message_id));
}

void WriteBatch::PutJournal(uint32_t partition, uint64_t seq, const Event& event) {
  scratch_.clear();
  EncodeEvent(event, &scratch_);
  batch_->Put(JournalKey(partition, seq), scratch_);
}

void WriteBatch::DeleteJournalThrough(uint32_t partition, uint64_t seq) {
  batch_->DeleteRange(JournalKey(partition, 0), JournalKey(partition, seq + 1));
}

void WriteBatch::DeleteAllJournal() {
  batch_->DeleteRange(std::string(kJournalPrefix), PrefixEnd(kJournalPrefix));
}

void WriteBatch::PutApplied(uint32_t partition, uint64_t seq) {
  std::string v;
  PutBigEndian64(seq, &v);
  PutMeta(std::string(kAppliedMeta) + std::to_string(partition), v);
}

void WriteBatch::PutMeta(std::string_view name, std::string_view value) {
  scratch_.clear();
  EncodeBytesValue(value, &scratch_);
  batch_->Put(MetaKey(name), scratch_);
}

void WriteBatch::DeleteMeta(std::string_view name) { batch_->Delete(MetaKey(name)); }

void WriteBatch::PutIngestSequence(uint64_t seq) {
  std::string v;
  PutBigEndian64(seq, &v);
  PutMeta(kIngestSeqMeta, v);
}

size_t WriteBatch::count() const { return batch_->Count(); }
size_t WriteBatch::bytes() const { return batch_->GetDataSize(); }
void WriteBatch::Clear() { batch_->Clear(); }

// ---- StateStore ----

StateStore::StateStore(std::string dir, const StoreOptions& options,
                       std::unique_ptr<rocksdb::DB> db)
    : dir_(std::move(dir)), options_(options), db_(std::move(db)) {}

StateStore::~StateStore() {
  if (db_ != nullptr) {
    // Close() reports errors we can only ignore here; the WAL makes the state recoverable.
    (void)db_->Close();
  }
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir,
                                                     const StoreOptions& options) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(MakeOptions(options), dir, &raw);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    // RocksDB's LOCK file: another process (a second server) has the directory open.
    return Status::Io("state store " + dir +
                      " is in use by another process (one server per data directory): " +
                      s.ToString());
  }
  if (!s.ok()) return Status::Io("open state store " + dir + ": " + s.ToString());
  std::unique_ptr<StateStore> store(
      new StateStore(dir, options, std::unique_ptr<rocksdb::DB>(raw)));
  WAYMARK_RETURN_IF_ERROR(store->CheckSchema());
  return store;
}

Status StateStore::CheckSchema() {
  std::string want;
  PutBigEndian64(kSchemaVersion, &want);
  Result<std::optional<std::string>> have = GetMeta(kSchemaMeta);
  if (!have.ok()) return have.status();
  if (!have->has_value()) return PutMeta(kSchemaMeta, want);
  if (**have != want) {
    std::string got = (*have)->size() == 8 ? std::to_string(GetBigEndian64(**have)) : "garbled";
    return Status::Parse(dir_ + ": state store schema " + got + ", this build reads " +
                         std::to_string(kSchemaVersion) +
                         " (there is no migration between them: use an empty data directory)");
  }
  return Status::Ok();
}

Status StateStore::Commit(WriteBatch& batch) { return Commit(batch, options_.sync_every_write); }

Status StateStore::Commit(WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = db_->Write(wo, batch.batch_.get());
  batch.Clear();
  return FromRocks(s, "commit to " + dir_);
}

Status StateStore::Sync() {
  // Also in sync_every_write mode: Commit(batch, /*sync=*/false) may have written since.
  return FromRocks(db_->SyncWAL(), "sync " + dir_);
}

Status StateStore::LoadProfiles(const Config& config, const ProfileFn& fn) const {
  return ScanRange(db_.get(), kProfilePrefix, kProfilePrefix,
                   [&](std::string_view key, std::string_view value) -> Status {
                     auto ps = std::make_unique<ProfileState>();
                     DecodeReport report;
                     Status s = DecodeProfileState(value, config, ps.get(), &report);
                     if (!s.ok()) return s.WithPrefix("p/" + std::string(key) + ": ");
                     if (ps->profile.key != key) {
                       return Status::Parse("p/" + std::string(key) + ": holds profile '" +
                                            ps->profile.key + "'");
                     }
                     return fn(std::move(ps), report);
                   });
}

Result<std::unique_ptr<ProfileState>> StateStore::LoadProfile(std::string_view profile_key,
                                                              const Config& config,
                                                              DecodeReport* report) const {
  Result<std::optional<std::string>> raw = GetRaw(ProfileKey(profile_key));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::unique_ptr<ProfileState>();
  auto ps = std::make_unique<ProfileState>();
  Status s = DecodeProfileState(**raw, config, ps.get(), report);
  if (!s.ok()) return s.WithPrefix(ProfileKey(profile_key) + ": ");
  return ps;
}

Status StateStore::ScanOutbox(Time from, const std::function<bool(const OutboxEntry&)>& fn) const {
  bool stopped = false;
  Status s = ScanRange(db_.get(), kOutboxPrefix, OutboxKey(from, ""),
                       [&](std::string_view key, std::string_view value) -> Status {
                         if (key.size() < 8) return Status::Parse("o/: key shorter than its time");
                         OutboxEntry entry;
                         entry.time =
                             FromMillis(static_cast<int64_t>(GetBigEndian64(key) ^ kSignBit));
                         entry.id.assign(key.substr(8));
                         Status d = DecodeOutboxValue(value, &entry);
                         if (!d.ok()) return d.WithPrefix("o/" + entry.id + ": ");
                         if (fn(entry)) return Status::Ok();
                         stopped = true;
                         return StopScan();
                       });
  return stopped ? Status::Ok() : s;
}

Status StateStore::ScanSeenMessages(Time from,
                                    const std::function<void(uint64_t, Time)>& fn) const {
  return ScanRange(db_.get(), kSeenPrefix, SeenMessagesKey(from, 0),
                   [&](std::string_view key, std::string_view value) -> Status {
                     if (key.size() != 16) return Status::Parse("m/: key is not time + group");
                     Time t = FromMillis(static_cast<int64_t>(GetBigEndian64(key) ^ kSignBit));
                     Result<std::vector<uint64_t>> hashes = DecodeHashListValue(value);
                     if (!hashes.ok()) return hashes.status().WithPrefix("m/: ");
                     for (uint64_t h : *hashes) fn(h, t);
                     return Status::Ok();
                   });
}

Status StateStore::ScanAliases(
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  return ScanRange(db_.get(), kAliasPrefix, kAliasPrefix,
                   [&](std::string_view key, std::string_view value) -> Status {
                     Result<std::string> target = DecodeBytesValue(value);
                     if (!target.ok()) return target.status().WithPrefix(AliasKey(key) + ": ");
                     fn(key, *target);
                     return Status::Ok();
                   });
}

Status StateStore::ScanJournal(
    const std::function<Status(uint32_t partition, uint64_t seq, Event event)>& fn) const {
  return ScanRange(db_.get(), kJournalPrefix, kJournalPrefix,
                   [&](std::string_view key, std::string_view value) -> Status {
                     if (key.size() != 12) return Status::Parse("j/: key is not partition + seq");
                     uint32_t partition = 0;
                     for (int i = 0; i < 4; ++i) {
                       partition = (partition << 8) | static_cast<uint8_t>(key[i]);
                     }
                     uint64_t seq = GetBigEndian64(key.substr(4));
                     Event e;
                     Status d = DecodeEvent(value, &e);
                     if (!d.ok()) return d.WithPrefix("j/" + std::to_string(seq) + ": ");
                     e.seq = seq;
                     return fn(partition, seq, std::move(e));
                   });
}

Status StateStore::ScanInbox(std::string_view profile_key,
                             const std::function<bool(Time time, std::string_view message_id,
                                                      std::string_view json)>& fn) const {
  std::string prefix = InboxPrefix(profile_key);
  std::string_view own = std::string_view(prefix).substr(kInboxPrefix.size());
  bool stopped = false;
  Status s = ScanRange(db_.get(), kInboxPrefix, prefix,
                       [&](std::string_view key, std::string_view value) -> Status {
                         if (key.substr(0, own.size()) != own) {
                           stopped = true;  // past this profile's messages
                           return StopScan();
                         }
                         std::string_view rest = key.substr(own.size());
                         if (rest.size() < 8) return Status::Parse("i/: key shorter than its time");
                         Time t = FromMillis(static_cast<int64_t>(GetBigEndian64(rest) ^ kSignBit));
                         Result<std::string> json = DecodeBytesValue(value);
                         if (!json.ok()) return json.status().WithPrefix("i/: ");
                         if (fn(t, rest.substr(8), *json)) return Status::Ok();
                         stopped = true;
                         return StopScan();
                       });
  return stopped ? Status::Ok() : s;
}

Result<std::vector<std::pair<uint32_t, uint64_t>>> StateStore::GetApplied() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  Status s = ScanMeta(kAppliedMeta, [&](std::string_view name, std::string_view value) -> Status {
    std::string_view number = name.substr(kAppliedMeta.size());
    uint32_t partition = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), partition);
    if (ec != std::errc() || end != number.data() + number.size() || value.size() != 8) {
      return Status::Parse("meta/" + std::string(name) + ": not a partition's applied sequence");
    }
    out.emplace_back(partition, GetBigEndian64(value));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Status StateStore::ScanMeta(
    std::string_view prefix,
    const std::function<Status(std::string_view name, std::string_view value)>& fn) const {
  bool past = false;
  Status s = ScanRange(db_.get(), kMetaPrefix, MetaKey(prefix),
                       [&](std::string_view name, std::string_view raw) -> Status {
                         if (name.substr(0, prefix.size()) != prefix) {
                           past = true;
                           return StopScan();
                         }
                         Result<std::string> value = DecodeBytesValue(raw);
                         if (!value.ok()) return value.status().WithPrefix(MetaKey(name) + ": ");
                         return fn(name, *value);
                       });
  return past ? Status::Ok() : s;
}

Result<std::optional<std::string>> StateStore::GetAlias(std::string_view anonymous_id) const {
  Result<std::optional<std::string>> raw = GetRaw(AliasKey(anonymous_id));
  if (!raw.ok() || !raw->has_value()) return raw;
  Result<std::string> target = DecodeBytesValue(**raw);
  if (!target.ok()) return target.status().WithPrefix(AliasKey(anonymous_id) + ": ");
  return std::optional<std::string>(std::move(*target));
}

Result<std::optional<std::string>> StateStore::GetMeta(std::string_view name) const {
  Result<std::optional<std::string>> raw = GetRaw(MetaKey(name));
  if (!raw.ok() || !raw->has_value()) return raw;
  Result<std::string> value = DecodeBytesValue(**raw);
  if (!value.ok()) return value.status().WithPrefix(MetaKey(name) + ": ");
  return std::optional<std::string>(std::move(*value));
}

Status StateStore::PutMeta(std::string_view name, std::string_view value) {
  WriteBatch batch;
  batch.PutMeta(name, value);
  return Commit(batch);
}

Result<std::optional<uint64_t>> StateStore::GetIngestSequence() const {
  Result<std::optional<std::string>> raw = GetMeta(kIngestSeqMeta);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<uint64_t>();
  if ((*raw)->size() != 8) return Status::Parse("meta/ingest_seq: not 8 bytes");
  return std::optional<uint64_t>(GetBigEndian64(**raw));
}

Result<std::optional<std::string>> StateStore::GetRaw(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Status::Io("read " + std::string(key) + ": " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

}  // namespace waymark::store
