#include "engine/engine.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "core/hash.h"

namespace waymark {

// Hands an extracted profile from the shard that owned it to the shard that absorbs it.
struct Engine::MergeSlot {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::unique_ptr<ProfileState> state;

  void Put(std::unique_ptr<ProfileState> s) {
    std::lock_guard<std::mutex> lock(mu);
    state = std::move(s);
    ready = true;
    cv.notify_all();
  }
  std::unique_ptr<ProfileState> Take() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready; });
    return std::move(state);
  }
};

namespace {

struct Command {
  enum class Kind : uint8_t { kEvent, kExtract, kFinish };
  Kind kind = Kind::kEvent;
  Event event;  // kEvent; for kExtract only the timestamp is used
  // kEvent: the profile key when it differs from event.ProfileKey(), else empty.
  // kExtract: the profile to hand over.
  std::string key;
  std::shared_ptr<void> merge;  // Engine::MergeSlot
  Time until{};                 // kFinish
  Time data_end{};              // kFinish: the last event's time
};

// A batch of commands for one shard. Batches go back to the router once the shard has run them
// and are refilled in place: the router then overwrites each command's event, so event memory is
// allocated and freed on the router's thread (jemalloc frees across threads slowly) and batch
// storage is not reallocated.
struct Batch {
  std::vector<Command> commands;  // commands[0, size) are live; the rest are kept for reuse
  size_t size = 0;

  bool empty() const { return size == 0; }
  Command& Add() {
    if (size == commands.size()) commands.emplace_back();
    return commands[size++];
  }
};

// A bounded queue of command batches between the router and one shard thread, and the way back
// for spent batches. The lock is taken once per batch, not per event.
class BatchQueue {
 public:
  explicit BatchQueue(size_t capacity) : capacity_(capacity) {}

  void Push(Batch batch) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return queue_.size() < capacity_; });
    queue_.push_back(std::move(batch));
    not_empty_.notify_one();
  }

  Batch Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty(); });
    Batch batch = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return batch;
  }

  // Hands a batch the shard has run back to the router.
  void Recycle(Batch batch) {
    std::lock_guard<std::mutex> lock(mu_);
    spent_.push_back(std::move(batch));
  }

  // A spent batch to refill (size 0), or a new empty one.
  Batch Reuse() {
    std::lock_guard<std::mutex> lock(mu_);
    if (spent_.empty()) return Batch();
    Batch batch = std::move(spent_.back());
    spent_.pop_back();
    batch.size = 0;
    return batch;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Batch> queue_;
  std::vector<Batch> spent_;
  size_t capacity_;
};

}  // namespace

struct Engine::Worker {
  Worker(std::shared_ptr<const Config> config, const ShardOptions& options, size_t queue_batches)
      : shard(std::move(config), options), queue(std::max<size_t>(1, queue_batches)) {}

  // How many commands ahead the profile index, then the profile, is prefetched: enough for a
  // cache miss to complete behind the commands in between, few enough to stay in the batch.
  static constexpr size_t kPrefetchAhead = 4;
  static constexpr size_t kPrefetchProfileAhead = 2;

  static const std::string& KeyOf(const Command& cmd) {
    return cmd.key.empty() ? cmd.event.ProfileKey() : cmd.key;
  }

  void Loop() {
    while (true) {
      Batch batch = queue.Pop();
      for (size_t i = 0; i < batch.size; ++i) {
        Command& cmd = batch.commands[i];
        if (i + kPrefetchAhead < batch.size) {
          shard.Prefetch(KeyOf(batch.commands[i + kPrefetchAhead]));
        }
        if (i + kPrefetchProfileAhead < batch.size) {
          shard.PrefetchProfile(KeyOf(batch.commands[i + kPrefetchProfileAhead]));
        }
        switch (cmd.kind) {
          case Command::Kind::kEvent: {
            std::unique_ptr<ProfileState> absorbed;
            if (cmd.merge) absorbed = static_cast<MergeSlot*>(cmd.merge.get())->Take();
            shard.HandleEvent(cmd.event, KeyOf(cmd), std::move(absorbed));
            break;
          }
          case Command::Kind::kExtract:
            shard.AdvanceTo(cmd.event.timestamp);
            static_cast<MergeSlot*>(cmd.merge.get())->Put(shard.Extract(cmd.key));
            break;
          case Command::Kind::kFinish:
            shard.Finish(cmd.until, cmd.data_end);
            return;
        }
        cmd.merge.reset();  // the slot is shared with another shard: release it here
      }
      queue.Recycle(std::move(batch));
    }
  }

  Shard shard;
  BatchQueue queue;
  Batch pending;
  std::thread thread;
};

Engine::Engine(std::shared_ptr<const Config> config, EngineOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      deduper_(options_.dedupe_window) {
  options_.shards = std::max(1, options_.shards);
  ShardOptions so;
  so.assume_reachable = options_.assume_reachable;
  so.keep_outbox = options_.keep_outbox;
  so.keep_suppressions = options_.keep_suppressions;
  so.trace = options_.trace.ids.empty() ? nullptr : &options_.trace;
  for (int i = 0; i < options_.shards; ++i) {
    workers_.push_back(std::make_unique<Worker>(config_, so, options_.queue_batches));
  }
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([raw] { raw->Loop(); });
  }
}

Engine::~Engine() {
  for (auto& w : workers_) {
    if (w->thread.joinable()) {
      Command& stop = w->pending.Add();
      stop.kind = Command::Kind::kFinish;
      stop.until = kTimeMin;
      stop.data_end = kTimeMin;
      w->queue.Push(std::move(w->pending));
      w->thread.join();
    }
  }
}

size_t Engine::ShardOf(const std::string& key) const {
  return Hash64(key, 0x7a11) % workers_.size();
}

void Engine::Flush(size_t shard) {
  Worker& w = *workers_[shard];
  if (w.pending.empty()) return;
  w.queue.Push(std::move(w.pending));
  w.pending = w.queue.Reuse();
  w.pending.commands.reserve(options_.batch_size);
}

bool Engine::Submit(Event&& e) {
  if (deduper_.SeenBefore(e.message_id, e.timestamp)) {
    ++duplicates_;
    return false;
  }
  e.seq = next_seq_++;
  last_event_ = std::max(last_event_, e.timestamp);

  IdentityResolver::Decision d = identity_.Resolve(e);
  std::shared_ptr<MergeSlot> merge;
  if (!d.merge_from.empty()) {
    // The anonymous profile moves to the known profile's shard and is merged there.
    merge = std::make_shared<MergeSlot>();
    size_t from = ShardOf(d.merge_from);
    Command& extract = workers_[from]->pending.Add();
    extract.kind = Command::Kind::kExtract;
    extract.event.timestamp = e.timestamp;
    extract.key = std::move(d.merge_from);
    extract.merge = merge;
    Flush(from);  // the absorbing shard will wait for this, so it must not sit in a batch
  }
  Route(std::move(e), std::move(d.key), std::move(merge));
  return true;
}

void Engine::Route(Event&& e, std::string key, std::shared_ptr<MergeSlot> merge) {
  if (key == e.ProfileKey()) key.clear();
  size_t shard = ShardOf(key.empty() ? e.ProfileKey() : key);
  Worker& w = *workers_[shard];
  Command& cmd = w.pending.Add();
  cmd.kind = Command::Kind::kEvent;
  cmd.event = std::move(e);
  cmd.key = std::move(key);
  cmd.merge = std::move(merge);
  if (w.pending.size >= options_.batch_size) Flush(shard);
}

EngineResults Engine::Finish(Time until) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    Command& fin = workers_[i]->pending.Add();
    fin.kind = Command::Kind::kFinish;
    fin.until = until;
    fin.data_end = last_event_ == kTimeMin ? until : last_event_;
    Flush(i);
  }
  for (auto& w : workers_) w->thread.join();

  EngineResults out;
  out.journeys.resize(config_->journeys.size());
  for (auto& w : workers_) {
    ShardResults& r = w->shard.results();
    std::move(r.outbox.begin(), r.outbox.end(), std::back_inserter(out.outbox));
    std::move(r.suppressions.begin(), r.suppressions.end(), std::back_inserter(out.suppressions));
    for (size_t j = 0; j < r.journeys.size(); ++j) out.journeys[j].Add(r.journeys[j]);
    for (const auto& [k, v] : r.suppressed) Bump(&out.suppressed, k, v);
    out.counters.Add(r.counters);
    std::move(r.traces.begin(), r.traces.end(), std::back_inserter(out.traces));
  }
  out.counters.duplicates = duplicates_;
  // Profiles absorbed into another one are counted once.
  out.counters.profiles -= std::min(out.counters.profiles, out.counters.absorbed);
  auto by_time_id = [](const OutboxRecord& a, const OutboxRecord& b) {
    return a.time != b.time ? a.time < b.time : a.id < b.id;
  };
  std::sort(out.outbox.begin(), out.outbox.end(), by_time_id);
  std::stable_sort(out.suppressions.begin(), out.suppressions.end(), by_time_id);
  std::sort(out.traces.begin(), out.traces.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace waymark
