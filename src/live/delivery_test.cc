#include "live/delivery.h"

#include <gtest/gtest.h>

#include <time.h>

#include <fstream>
#include <set>
#include <thread>

#include "store/store_test_util.h"

namespace waymark::live {
namespace {

const Time kNow = FromMillis(1773392700000);

// An outbox entry as the engine writes it: the JSON line starts with its id. Even entries go to
// the inbox, odd ones to SMS, which without a relay ends in the outbox file.
store::OutboxEntry Entry(int i) {
  store::OutboxEntry e;
  e.time = kNow + std::chrono::milliseconds(i);
  e.id = "m" + std::to_string(i);
  bool inbox = i % 2 == 0;
  e.json = "{\"id\":\"" + e.id + "\",\"profile\":\"u" + std::to_string(i % 37) +
           "\",\"journey\":\"cart\",\"step\":\"remind\",\"channel\":\"" +
           (inbox ? "in_app" : "sms") + "\",\"body\":\"Hi\"}";
  return e;
}

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::StateStore::Open(dir_.path() + "/data", {});
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    options_.outbox_file = dir_.path() + "/outbox.jsonl";
  }

  std::unique_ptr<Delivery> Create() {
    auto d = Delivery::Create(store_.get(), options_, &clock_, /*sync_before_send=*/true);
    EXPECT_TRUE(d.ok()) << d.status().message();
    if (!d.ok()) return nullptr;
    (*d)->SetOutcomeSink([this](std::vector<Event> events) {
      std::lock_guard<std::mutex> lock(mu_);
      for (Event& e : events) outcomes_.push_back(std::move(e));
      return Status::Ok();
    });
    return std::move(*d);
  }

  std::vector<std::string> FileIds() {
    std::vector<std::string> ids;
    std::ifstream in(options_.outbox_file);
    for (std::string line; std::getline(in, line);) {
      size_t start = line.find("\"id\":\"") + 6;
      ids.push_back(line.substr(start, line.find('"', start) - start));
    }
    return ids;
  }

  std::map<std::string, store::DeliveryStatus> Statuses() {
    std::map<std::string, store::DeliveryStatus> out;
    Status s = store_->ScanOutbox(kTimeMin, [&](const store::OutboxEntry& e) {
      out[e.id] = e.status;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  store::testing::TempDir dir_;
  std::unique_ptr<store::StateStore> store_;
  DeliveryOptions options_;
  ManualClock clock_{kNow};
  std::mutex mu_;
  std::vector<Event> outcomes_;
};

TEST_F(DeliveryTest, LanesDeliverEveryEntryExactlyOnce) {
  options_.lanes = 4;
  std::unique_ptr<Delivery> d = Create();
  ASSERT_NE(d, nullptr);
  d->Start();
  constexpr int kEntries = 1000;
  // Two producers, as two engine shards committing at once.
  auto produce = [&](int first) {
    for (int i = first; i < kEntries; i += 100) {
      std::vector<store::OutboxEntry> chunk;
      for (int j = i; j < i + 50; ++j) chunk.push_back(Entry(j));
      store::WriteBatch batch;
      for (const store::OutboxEntry& e : chunk) batch.PutOutbox(e);
      ASSERT_TRUE(store_->Commit(batch).ok());
      d->Enqueue(std::move(chunk));
    }
  };
  std::thread a(produce, 0), b(produce, 50);
  a.join();
  b.join();
  d->WaitIdle();
  d->Stop();

  std::vector<std::string> file = FileIds();
  std::set<std::string> unique(file.begin(), file.end());
  EXPECT_EQ(file.size(), size_t(kEntries));
  EXPECT_EQ(unique.size(), size_t(kEntries));
  std::map<std::string, store::DeliveryStatus> statuses = Statuses();
  ASSERT_EQ(statuses.size(), size_t(kEntries));
  for (const auto& [id, status] : statuses) {
    EXPECT_EQ(status, store::DeliveryStatus::kDelivered) << id;
  }
  std::set<std::string> reported;
  for (const Event& e : outcomes_) {
    EXPECT_EQ(e.name, "Message Sent");
    reported.insert(e.message_id);
  }
  EXPECT_EQ(outcomes_.size(), size_t(kEntries));
  EXPECT_EQ(reported.size(), size_t(kEntries));
  EXPECT_TRUE(reported.count("sent-m0") && reported.count("sent-m999"));

  std::string metrics;
  d->RenderMetrics(&metrics);
  EXPECT_NE(metrics.find("waymark_sends_total{channel=\"in_app\",outcome=\"delivered\"} 500"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("waymark_delivery_queue 0"), std::string::npos);
}

TEST_F(DeliveryTest, RecoveryWritesOnlyTheLinesTheFileLacks) {
  // A crash after 40 of 100 lines reached the file and before their statuses were written.
  store::WriteBatch batch;
  std::ofstream(options_.outbox_file) << [] {
    std::string lines;
    for (int i = 0; i < 40; ++i) lines += Entry(i).json + "\n";
    return lines;
  }();
  for (int i = 0; i < 100; ++i) batch.PutOutbox(Entry(i));
  ASSERT_TRUE(store_->Commit(batch).ok());

  options_.lanes = 3;
  std::unique_ptr<Delivery> d = Create();
  ASSERT_NE(d, nullptr);
  Result<uint64_t> queued = d->Recover();
  ASSERT_TRUE(queued.ok()) << queued.status().message();
  EXPECT_EQ(*queued, 100u);
  d->Start();
  d->WaitIdle();
  d->Stop();

  std::vector<std::string> file = FileIds();
  std::set<std::string> unique(file.begin(), file.end());
  EXPECT_EQ(file.size(), 100u);
  EXPECT_EQ(unique.size(), 100u);
  for (const auto& [id, status] : Statuses()) {
    EXPECT_EQ(status, store::DeliveryStatus::kDelivered) << id;
  }
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

TEST_F(DeliveryTest, IdleLanesSleep) {
  // Lanes once woke each other without end (each idle lane notified all the others), burning
  // the cores of a server with nothing to deliver.
  options_.lanes = 8;
  std::unique_ptr<Delivery> d = Create();
  ASSERT_NE(d, nullptr);
  d->Start();
  d->Enqueue({Entry(1)});
  d->WaitIdle();
  double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double used = ProcessCpuSeconds() - before;
  d->Stop();
  EXPECT_LT(used, 0.1) << "CPU seconds used by idle delivery lanes in 0.5 s";
}

TEST_F(DeliveryTest, LaneCountMustBeSensible) {
  for (int lanes : {0, -1, 65}) {
    options_.lanes = lanes;
    auto d = Delivery::Create(store_.get(), options_, &clock_, false);
    ASSERT_FALSE(d.ok()) << lanes;
    EXPECT_NE(d.status().message().find("lanes"), std::string::npos) << d.status().message();
  }
}

}  // namespace
}  // namespace waymark::live
