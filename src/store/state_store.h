// StateStore: the engine's durable state in one RocksDB database (docs/storage.md).
//
// Key spaces, all in the default column family and ordered bytewise:
//   p/<profile key>                       -> ProfileState (codec.h)
//   o/<8-byte big-endian time><message id> -> OutboxEntry value (JSON line + delivery status)
//   m/<8-byte big-endian time><8-byte big-endian group> -> the messageId hashes seen then (dedupe)
//   a/<anonymous id>                      -> profile key the id is an alias of
//   j/<4-byte partition><8-byte ingest sequence> -> an acknowledged event (journal), all
//                                           big-endian; meta/applied/<partition> says which
//                                           of a partition's entries are applied
//   i/<4-byte key length><profile key><8-byte time><message id> -> an in-app inbox message
//   meta/<name>                           -> schema version, last applied ingest sequence, ...
// Every value starts with the codec's version byte.
//
// Everything one event changes goes into one WriteBatch and is applied with one Commit(), which
// is atomic: after a crash the batch is either fully visible or not at all.
//
// Thread safety: a StateStore may be used from several threads at once (RocksDB serializes and
// group-commits concurrent writers). A WriteBatch belongs to one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "engine/instance.h"
#include "model/config.h"
#include "store/codec.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace waymark::store {

// The layout generation of the whole database, kept under meta/schema. Open() refuses a database
// written with another schema.
inline constexpr uint32_t kSchemaVersion = 2;

struct StoreOptions {
  // true: every Commit() syncs the write-ahead log before returning (survives power loss).
  // false (group commit): Commit() returns once the write is in the OS; the caller makes all
  // earlier commits durable with one Sync() (e.g. after a batch of events). A process crash loses
  // nothing either way; a machine crash loses commits since the last Sync().
  bool sync_every_write = true;
  bool create_if_missing = true;
};

// The changes of one unit of work, applied atomically by StateStore::Commit(). Puts and deletes
// of the same key apply in call order. Not thread-safe.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  // p/: `ps` encoded against `config` (the config it was built under), keyed by its profile key.
  void PutProfile(const ProfileState& ps, const Config& config);
  void DeleteProfile(std::string_view profile_key);

  // o/: keyed by (entry.time, entry.id); a put of the same key replaces the status.
  void PutOutbox(const OutboxEntry& entry);
  void DeleteOutbox(Time time, std::string_view message_id);

  // m/: the messageIds (by Hash64, the engine's dedupe hash) first seen at `t` in one group of
  // events (the live server's journal write; `group` is its first ingest sequence). One record a
  // group, not a key an id: ids are only read back at start-up, and expire a window at a time.
  void PutSeenMessages(Time t, uint64_t group, const std::vector<uint64_t>& hashes);
  // Deletes every m/ record of a time before `t` (one range deletion).
  void DeleteSeenMessagesBefore(Time t);

  // a/: anonymous id -> profile key.
  void PutAlias(std::string_view anonymous_id, std::string_view profile_key);
  void DeleteAlias(std::string_view anonymous_id);

  // j/: an acknowledged event under the partition (engine shard) that applies it and its ingest
  // sequence. A partition applies its entries in sequence order, and the batch that commits an
  // event's effects also records it as applied (PutApplied), so an entry at or below its
  // partition's applied sequence is done and may be deleted at leisure.
  void PutJournal(uint32_t partition, uint64_t seq, const Event& event);
  // meta/applied/<partition>: every entry of `partition` up to `seq` is applied.
  void PutApplied(uint32_t partition, uint64_t seq);
  // Deletes `partition`'s entries up to `seq` (one range deletion).
  void DeleteJournalThrough(uint32_t partition, uint64_t seq);
  // Deletes every journal entry (one range deletion).
  void DeleteAllJournal();

  // i/: one in-app message of a profile's inbox, as JSON text, keyed by its send time and id.
  void PutInbox(std::string_view profile_key, Time time, std::string_view message_id,
                std::string_view json);
  void DeleteInbox(std::string_view profile_key, Time time, std::string_view message_id);

  // meta/<name>: opaque bytes.
  void PutMeta(std::string_view name, std::string_view value);
  void DeleteMeta(std::string_view name);
  // meta/ingest_seq: the last ingest sequence assigned (the journal's next one is above it).
  void PutIngestSequence(uint64_t seq);

  size_t count() const;  // operations so far
  size_t bytes() const;  // serialized size so far
  void Clear();

 private:
  friend class StateStore;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::string scratch_;  // reused value buffer
};

class StateStore {
 public:
  // Opens (or with `create_if_missing`, creates) the database in `dir`. Fails with an IoError when
  // RocksDB cannot open it (locked by another process, corrupt, missing) and with a ParseError
  // when it was written with another schema version.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& dir,
                                                  const StoreOptions& options);
  // Closes the database. Unsynced group commits are flushed to the OS, not synced.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Applies `batch` atomically (syncing per the options) and clears it.
  Status Commit(WriteBatch& batch);
  // The same with the sync decided by the caller: `sync` waits for the write-ahead log to reach
  // the disk (RocksDB syncs concurrent writers together).
  Status Commit(WriteBatch& batch, bool sync);
  // Makes every earlier Commit() durable (group commit): syncs the write-ahead log without
  // holding up concurrent writers. Thread-safe.
  Status Sync();

  // Reads every profile, decodes it against `config` and hands it to `fn` together with what
  // decoding dropped (DecodeReport). Stops at the first error: a value that does not decode
  // returns a ParseError naming its key; an error returned by `fn` is returned as is.
  using ProfileFn = std::function<Status(std::unique_ptr<ProfileState>, const DecodeReport&)>;
  Status LoadProfiles(const Config& config, const ProfileFn& fn) const;
  // One profile; nullopt-like null pointer when absent.
  Result<std::unique_ptr<ProfileState>> LoadProfile(std::string_view profile_key,
                                                    const Config& config,
                                                    DecodeReport* report) const;

  // Outbox entries with time >= `from`, in (time, id) order, until `fn` returns false.
  Status ScanOutbox(Time from, const std::function<bool(const OutboxEntry&)>& fn) const;

  // Every seen messageId hash recorded at `from` or later, with its time, in time order.
  Status ScanSeenMessages(Time from, const std::function<void(uint64_t hash, Time t)>& fn) const;
  // Every alias, in anonymous id order.
  Status ScanAliases(const std::function<void(std::string_view anonymous_id,
                                              std::string_view profile_key)>& fn) const;
  Result<std::optional<std::string>> GetAlias(std::string_view anonymous_id) const;

  // Every journal entry, by partition then sequence, with Event::seq set; stops at the first
  // error (a value that does not decode, or one returned by `fn`).
  Status ScanJournal(
      const std::function<Status(uint32_t partition, uint64_t seq, Event event)>& fn) const;
  // The inbox messages of `profile_key`, oldest first, until `fn` returns false.
  Status ScanInbox(std::string_view profile_key,
                   const std::function<bool(Time time, std::string_view message_id,
                                            std::string_view json)>& fn) const;

  // Every partition's applied sequence (meta/applied/<partition>), in name order.
  Result<std::vector<std::pair<uint32_t, uint64_t>>> GetApplied() const;

  // Every meta/<name> whose name starts with `prefix`, in name order, with its decoded bytes;
  // stops at the first error `fn` returns.
  Status ScanMeta(
      std::string_view prefix,
      const std::function<Status(std::string_view name, std::string_view value)>& fn) const;

  // meta/<name>; nullopt when absent. PutMeta commits on its own (use WriteBatch::PutMeta to
  // write it together with other changes).
  Result<std::optional<std::string>> GetMeta(std::string_view name) const;
  Status PutMeta(std::string_view name, std::string_view value);
  // meta/ingest_seq; nullopt when nothing was ever journaled.
  Result<std::optional<uint64_t>> GetIngestSequence() const;

  const std::string& dir() const { return dir_; }

 private:
  StateStore(std::string dir, const StoreOptions& options, std::unique_ptr<rocksdb::DB> db);
  Result<std::optional<std::string>> GetRaw(std::string_view key) const;
  Status CheckSchema();

  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
};

// Key builders, exposed for tests and tools.
std::string ProfileKey(std::string_view profile_key);
std::string OutboxKey(Time time, std::string_view message_id);
std::string SeenMessagesKey(Time time, uint64_t group);
std::string AliasKey(std::string_view anonymous_id);
std::string JournalKey(uint32_t partition, uint64_t seq);
std::string InboxKey(std::string_view profile_key, Time time, std::string_view message_id);
std::string MetaKey(std::string_view name);

}  // namespace waymark::store
