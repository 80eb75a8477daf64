#include "store/state_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/hash.h"
#include "store/store_test_util.h"

namespace waymark::store {
namespace {

using testing::Dump;
using testing::MakeProfileState;
using testing::MakeTestConfig;
using testing::TempDir;

std::unique_ptr<StateStore> OpenOrDie(const std::string& dir, bool sync = true) {
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(dir, StoreOptions{sync, true});
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(StateStoreTest, CommitsAndReloadsEveryKeySpaceAfterReopen) {
  TempDir dir;
  auto config = MakeTestConfig();
  ProfileState alice = MakeProfileState(*config, "alice", 5, 1);
  ProfileState bob = MakeProfileState(*config, "bob", 0, 2);
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutProfile(alice, *config);
    batch.PutProfile(bob, *config);
    batch.PutOutbox({FromMillis(2000), "m-b", R"({"id":"m-b"})", DeliveryStatus::kPending, 0,
                     FromMillis(2000), ""});
    batch.PutOutbox({FromMillis(1000), "m-a", R"({"id":"m-a"})", DeliveryStatus::kDelivered, 1,
                     FromMillis(1000), "250 OK"});
    batch.PutOutbox({FromMillis(-1000), "m-old", "{}", DeliveryStatus::kFailed, 9, {}, "dead"});
    batch.PutSeenMessages(FromMillis(1500), 7, {Hash64("msg-1")});
    batch.PutAlias("anon-alice", "alice");
    batch.PutIngestSequence(42);
    EXPECT_EQ(batch.count(), 8u);
    ASSERT_TRUE(store->Commit(batch).ok());
    EXPECT_EQ(batch.count(), 0u);
  }

  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  std::vector<std::string> dumps;
  ASSERT_TRUE(store
                  ->LoadProfiles(*config,
                                 [&](std::unique_ptr<ProfileState> ps, const DecodeReport& r) {
                                   EXPECT_TRUE(r.empty());
                                   dumps.push_back(Dump(*ps, *config));
                                   return Status::Ok();
                                 })
                  .ok());
  ASSERT_EQ(dumps.size(), 2u);
  EXPECT_EQ(dumps[0], Dump(alice, *config));
  EXPECT_EQ(dumps[1], Dump(bob, *config));

  std::vector<std::string> ids;
  ASSERT_TRUE(store
                  ->ScanOutbox(kTimeMin,
                               [&](const OutboxEntry& e) {
                                 ids.push_back(e.id + "@" + std::to_string(ToMillis(e.time)) + ":" +
                                               std::string(DeliveryStatusName(e.status)));
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"m-old@-1000:failed", "m-a@1000:delivered",
                                           "m-b@2000:pending"}));
  ids.clear();
  ASSERT_TRUE(store
                  ->ScanOutbox(FromMillis(1000),
                               [&](const OutboxEntry& e) {
                                 ids.push_back(e.id);
                                 return false;  // stop after the first
                               })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"m-a"}));

  int seen = 0;
  ASSERT_TRUE(store
                  ->ScanSeenMessages(kTimeMin,
                                     [&](uint64_t h, Time t) {
                                       EXPECT_EQ(h, Hash64("msg-1"));
                                       EXPECT_EQ(t, FromMillis(1500));
                                       ++seen;
                                     })
                  .ok());
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(*store->GetAlias("anon-alice"), std::optional<std::string>("alice"));
  EXPECT_EQ(*store->GetAlias("nobody"), std::nullopt);
  EXPECT_EQ(*store->GetIngestSequence(), std::optional<uint64_t>(42));

  Result<std::unique_ptr<ProfileState>> one = store->LoadProfile("bob", *config, nullptr);
  ASSERT_TRUE(one.ok());
  ASSERT_NE(*one, nullptr);
  EXPECT_EQ(Dump(**one, *config), Dump(bob, *config));
  EXPECT_EQ(*store->LoadProfile("nobody", *config, nullptr), nullptr);
}

TEST(StateStoreTest, ASecondOpenOfTheSameDirectoryIsRefusedClearly) {
  TempDir dir;
  auto first = StateStore::Open(dir.path(), {});
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = StateStore::Open(dir.path(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIoError);
  EXPECT_NE(second.status().message().find(" is in use by another process (one server per data "
                                           "directory)"),
            std::string::npos)
      << second.status().message();
}

TEST(StateStoreTest, DeletesAndMetaValues) {
  TempDir dir;
  auto config = MakeTestConfig();
  auto store = OpenOrDie(dir.path());
  WriteBatch batch;
  batch.PutProfile(MakeProfileState(*config, "p1", 0, 1), *config);
  batch.PutAlias("a1", "p1");
  ASSERT_TRUE(store->Commit(batch).ok());
  batch.DeleteProfile("p1");
  batch.DeleteAlias("a1");
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(*store->LoadProfile("p1", *config, nullptr), nullptr);
  EXPECT_EQ(*store->GetAlias("a1"), std::nullopt);

  EXPECT_EQ(*store->GetMeta("owner"), std::nullopt);
  ASSERT_TRUE(store->PutMeta("owner", std::string("node-1\0x", 8)).ok());
  EXPECT_EQ(**store->GetMeta("owner"), std::string("node-1\0x", 8));
  EXPECT_EQ(*store->GetIngestSequence(), std::nullopt);
}

TEST(StateStoreTest, ReportsDroppedStateOnLoadWithAChangedConfig) {
  TempDir dir;
  auto config = MakeTestConfig();
  {
    auto store = OpenOrDie(dir.path());
    WriteBatch batch;
    batch.PutProfile(MakeProfileState(*config, "p1", 0, 1), *config);
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  auto changed = MakeTestConfig();
  changed->journeys.pop_back();
  auto store = OpenOrDie(dir.path());
  size_t dropped = 0, kept = 0;
  ASSERT_TRUE(store
                  ->LoadProfiles(*changed,
                                 [&](std::unique_ptr<ProfileState> ps, const DecodeReport& r) {
                                   dropped += r.dropped_instances.size();
                                   kept += ps->instances.size();
                                   return Status::Ok();
                                 })
                  .ok());
  EXPECT_EQ(dropped, 3u);
  EXPECT_EQ(kept, 3u);
}

TEST(StateStoreTest, UncommittedBatchLeavesNothingBehind) {
  TempDir dir;
  auto config = MakeTestConfig();
  {
    auto store = OpenOrDie(dir.path());
    WriteBatch batch;
    batch.PutProfile(MakeProfileState(*config, "ghost", 3, 1), *config);
    batch.PutAlias("ghost-anon", "ghost");
    // The store closes without Commit(batch).
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(*store->LoadProfile("ghost", *config, nullptr), nullptr);
  EXPECT_EQ(*store->GetAlias("ghost-anon"), std::nullopt);
}

TEST(StateStoreTest, LoadStopsAtACorruptValueNamingItsKey) {
  TempDir dir;
  auto config = MakeTestConfig();
  {
    auto store = OpenOrDie(dir.path());
    WriteBatch batch;
    batch.PutProfile(MakeProfileState(*config, "amy", 0, 1), *config);
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  {
    // A value from a future format version, written behind the store's back.
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "p/zed", "\x09rest").ok());
    delete raw;
  }
  auto store = OpenOrDie(dir.path());
  int delivered = 0;
  Status s = store->LoadProfiles(*config, [&](std::unique_ptr<ProfileState>, const DecodeReport&) {
    ++delivered;
    return Status::Ok();
  });
  EXPECT_EQ(delivered, 1);  // amy, before zed
  EXPECT_EQ(s.code(), Status::Code::kParseError);
  EXPECT_EQ(s.message(), "p/zed: profile state: format version 9, expected 1 to 2 at byte 0");

  Status refused =
      store->LoadProfiles(*config, [](std::unique_ptr<ProfileState>, const DecodeReport&) {
        return Status::Invalid("callback refuses");
      });
  EXPECT_EQ(refused.message(), "callback refuses");
}

TEST(StateStoreTest, SeenMessagesAreReadFromATimeAndExpireByRange) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteBatch batch;
  batch.PutSeenMessages(FromMillis(-5), 1, {11});
  batch.PutSeenMessages(FromMillis(100), 2, {21, 22});
  batch.PutSeenMessages(FromMillis(100), 9, {});
  batch.PutSeenMessages(FromMillis(300), 3, {31});
  ASSERT_TRUE(store->Commit(batch).ok());
  auto scan = [&](Time from) {
    std::vector<std::string> got;
    EXPECT_TRUE(store
                    ->ScanSeenMessages(from,
                                       [&](uint64_t h, Time t) {
                                         got.push_back(std::to_string(h) + "@" +
                                                       std::to_string(ToMillis(t)));
                                       })
                    .ok());
    return got;
  };
  EXPECT_EQ(scan(kTimeMin), (std::vector<std::string>{"11@-5", "21@100", "22@100", "31@300"}));
  EXPECT_EQ(scan(FromMillis(100)), (std::vector<std::string>{"21@100", "22@100", "31@300"}));
  batch.DeleteSeenMessagesBefore(FromMillis(300));
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(scan(kTimeMin), (std::vector<std::string>{"31@300"}));
}

TEST(StateStoreTest, JournalIsReadByPartitionAndDeletedThroughASequence) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteBatch batch;
  auto event = [](const char* user) {
    Event e;
    e.type = EventType::kTrack;
    e.name = "Viewed";
    e.user_id = user;
    e.timestamp = FromMillis(77);
    return e;
  };
  batch.PutJournal(1, 2, event("b"));
  batch.PutJournal(0, 1, event("a"));
  batch.PutJournal(1, 3, event("c"));
  batch.PutJournal(0, 4, event("d"));
  batch.PutJournal(300, 5, event("e"));
  batch.PutApplied(1, 2);
  batch.PutApplied(300, 0);
  ASSERT_TRUE(store->Commit(batch).ok());
  auto scan = [&] {
    std::vector<std::string> got;
    EXPECT_TRUE(store
                    ->ScanJournal([&](uint32_t partition, uint64_t seq, Event e) {
                      EXPECT_EQ(e.seq, seq);
                      got.push_back(std::to_string(partition) + "/" + std::to_string(seq) + ":" +
                                    e.user_id);
                      return Status::Ok();
                    })
                    .ok());
    return got;
  };
  EXPECT_EQ(scan(), (std::vector<std::string>{"0/1:a", "0/4:d", "1/2:b", "1/3:c", "300/5:e"}));
  auto applied = store->GetApplied();
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ(*applied, (std::vector<std::pair<uint32_t, uint64_t>>{{1, 2}, {300, 0}}));

  batch.DeleteJournalThrough(1, 2);
  batch.DeleteJournalThrough(0, 3);
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(scan(), (std::vector<std::string>{"0/4:d", "1/3:c", "300/5:e"}));
  batch.DeleteAllJournal();
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_TRUE(scan().empty());

  ASSERT_TRUE(store->PutMeta("applied/x", "12345678").ok());
  EXPECT_EQ(store->GetApplied().status().message(),
            "meta/applied/x: not a partition's applied sequence");
}

TEST(StateStoreTest, InboxMessagesAreScannedPerProfileInTimeOrder) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteBatch batch;
  batch.PutInbox("ann", FromMillis(20), "m2", R"({"n":2})");
  batch.PutInbox("ann", FromMillis(10), "m1", R"({"n":1})");
  batch.PutInbox("ann/x", FromMillis(5), "m9", "{}");  // another profile, a longer key
  batch.PutInbox("an", FromMillis(1), "m0", "{}");
  ASSERT_TRUE(store->Commit(batch).ok());
  auto scan = [&](std::string_view profile) {
    std::vector<std::string> got;
    EXPECT_TRUE(store
                    ->ScanInbox(profile,
                                [&](Time t, std::string_view id, std::string_view json) {
                                  got.push_back(std::string(id) + "@" +
                                                std::to_string(ToMillis(t)) + std::string(json));
                                  return true;
                                })
                    .ok());
    return got;
  };
  EXPECT_EQ(scan("ann"), (std::vector<std::string>{R"(m1@10{"n":1})", R"(m2@20{"n":2})"}));
  EXPECT_EQ(scan("ann/x"), (std::vector<std::string>{"m9@5{}"}));
  EXPECT_TRUE(scan("nobody").empty());
  batch.DeleteInbox("ann", FromMillis(10), "m1");
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(scan("ann"), (std::vector<std::string>{R"(m2@20{"n":2})"}));
}

TEST(StateStoreTest, RefusesADatabaseOfAnotherSchema) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    std::string future(8, '\0');
    future[7] = 3;
    ASSERT_TRUE(store->PutMeta("schema", future).ok());
  }
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(dir.path(), StoreOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kParseError);
  EXPECT_NE(store.status().message().find("schema 3, this build reads 2"), std::string::npos);
}

TEST(StateStoreTest, OpenFailsCleanlyWhenLockedOrMissing) {
  TempDir dir;
  auto first = OpenOrDie(dir.path());
  Result<std::unique_ptr<StateStore>> second = StateStore::Open(dir.path(), StoreOptions{});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIoError);
  Result<std::unique_ptr<StateStore>> missing =
      StateStore::Open(dir.path() + "/none", StoreOptions{true, false});
  EXPECT_EQ(missing.status().code(), Status::Code::kIoError);
}

TEST(StateStoreTest, GroupCommitSyncsOnce) {
  TempDir dir;
  auto config = MakeTestConfig();
  {
    auto store = OpenOrDie(dir.path(), /*sync=*/false);
    WriteBatch batch;
    for (int i = 0; i < 100; ++i) {
      batch.PutProfile(MakeProfileState(*config, "g" + std::to_string(i), 2, i), *config);
    }
    ASSERT_TRUE(store->Commit(batch).ok());
    ASSERT_TRUE(store->Sync().ok());
  }
  auto store = OpenOrDie(dir.path());
  int n = 0;
  ASSERT_TRUE(store
                  ->LoadProfiles(*config,
                                 [&](std::unique_ptr<ProfileState>, const DecodeReport&) {
                                   ++n;
                                   return Status::Ok();
                                 })
                  .ok());
  EXPECT_EQ(n, 100);
}

// ---- crash test ----

constexpr int kKeysPerBatch = 8;

std::string CrashAlias(uint64_t batch, int j) {
  return "crash-" + std::to_string(batch) + "-" + std::to_string(j);
}

// The child: commits batches `first`, `first+1`, ... forever, reporting each number on `fd` once
// Commit() has returned. Every batch puts kKeysPerBatch aliases, one profile and the ingest
// sequence. Never returns.
[[noreturn]] void CrashChild(const std::string& dir, uint64_t first, int fd) {
  auto config = MakeTestConfig();
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(dir, StoreOptions{true, true});
  if (!store.ok()) _exit(2);
  ProfileState ps = MakeProfileState(*config, "crash", 50, 1);
  WriteBatch batch;
  for (uint64_t b = first;; ++b) {
    for (int j = 0; j < kKeysPerBatch; ++j) batch.PutAlias(CrashAlias(b, j), std::to_string(b));
    ps.profile.event_count = b;
    batch.PutProfile(ps, *config);
    batch.PutIngestSequence(b);
    if (!(*store)->Commit(batch).ok()) _exit(3);
    if (write(fd, &b, sizeof(b)) != sizeof(b)) _exit(4);
  }
}

// The crash child is this test binary started again (fork, then exec): a plain forked copy of a
// process whose RocksDB background threads hold a lock can deadlock inside RocksDB. The
// environment variable makes the new process's main() run CrashChild instead of the tests.
constexpr char kCrashChildEnv[] = "WAYMARK_STORE_CRASH_CHILD";

pid_t StartCrashChild(const std::string& dir, uint64_t first, int fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  std::string spec = std::to_string(fd) + " " + std::to_string(first) + " " + dir;
  setenv(kCrashChildEnv, spec.c_str(), 1);
  char self[] = "/proc/self/exe";
  char* argv[] = {self, nullptr};
  execv(self, argv);
  _exit(6);
}

// Batches present after a crash: checks each is whole and that they form a prefix.
uint64_t CheckCrashState(StateStore& store, const Config& config, uint64_t reported) {
  Result<std::optional<uint64_t>> seq = store.GetIngestSequence();
  EXPECT_TRUE(seq.ok());
  uint64_t last = seq->value_or(0);
  EXPECT_GE(last, reported) << "a batch reported committed is missing";
  EXPECT_LE(last, reported + 1) << "more than one unreported batch present";
  for (uint64_t b : {last, last + 1}) {
    int present = 0;
    for (int j = 0; j < kKeysPerBatch; ++j)
      present += store.GetAlias(CrashAlias(b, j))->has_value();
    EXPECT_EQ(present, b <= last ? kKeysPerBatch : 0) << "batch " << b << " partially present";
  }
  auto ps = store.LoadProfile("crash", config, nullptr);
  EXPECT_TRUE(ps.ok());
  if (last > 0 && ps.ok() && *ps != nullptr) {
    EXPECT_EQ((*ps)->profile.event_count, last);
  }
  return last;
}

TEST(StoreCrashTest, SurvivesSigkillAtRandomMoments) {
  TempDir dir;
  auto config = MakeTestConfig();
  std::mt19937_64 rng(20260101);
  uint64_t next = 1;
  for (int round = 0; round < 20; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = StartCrashChild(dir.path(), next, fds[1]);
    ASSERT_GE(pid, 0);
    close(fds[1]);

    // Kill once the child has reported a random number of commits (1..60): the next batch is
    // somewhere between being built and being synced.
    uint64_t reported = next - 1, b = 0;
    uint64_t kill_after = 1 + rng() % 60;
    for (uint64_t n = 0; n < kill_after && read(fds[0], &b, sizeof(b)) == sizeof(b); ++n) {
      reported = b;
    }
    kill(pid, SIGKILL);
    while (read(fds[0], &b, sizeof(b)) == sizeof(b)) reported = b;  // reports before the kill
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    ASSERT_GE(reported, next) << "round " << round << ": child committed nothing";

    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    next = CheckCrashState(*store, *config, reported) + 1;
  }
}

}  // namespace
}  // namespace waymark::store

// This binary's main: the tests, or the crash test's child process (see StartCrashChild).
int main(int argc, char** argv) {
  if (const char* spec = std::getenv(waymark::store::kCrashChildEnv)) {
    int fd = -1;
    unsigned long long first = 0;
    int dir_at = 0;  // "<fd> <first batch> <dir>"
    if (std::sscanf(spec, "%d %llu %n", &fd, &first, &dir_at) < 2 || dir_at == 0) return 5;
    waymark::store::CrashChild(spec + dir_at, first, fd);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
