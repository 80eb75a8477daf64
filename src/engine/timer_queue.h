// A per-shard min-heap of timers. Timers are never removed eagerly: each carries the token it was
// scheduled with, and a timer whose token no longer matches its owner's is skipped when it comes
// due (cancel = change the owner's token).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "core/time.h"

namespace waymark {

struct Timer {
  enum class Kind : uint8_t { kInstance, kSegments };
  Time due;
  uint32_t slot;        // profile slot in the shard
  uint32_t generation;  // profile slot generation; stale after the profile moved away
  uint64_t token;       // instance or segment-recheck token
  Kind kind;
};

// Timers come out in (due, creation order). A shard holds millions of timers, most due hours or
// days ahead, so only those of the earliest hour are kept in a heap: later ones are appended to
// a list per hour of due time, and an hour's list is sorted into the heap when the heap runs
// empty. Pops then work in a heap of one hour's timers, which stays in cache, instead of one of
// every pending timer (a pop from a heap of millions missed the cache at most of its levels).
// The heap is 4-ary (half the levels of a binary heap, and the four children of a node share one
// cache line) over 16-byte entries: the due time, a 32-bit creation counter and the index of the
// rest of the timer in a side table whose freed rows are reused. When the counter reaches its
// limit, the pending timers are renumbered in order (once every 4 billion timers). Not
// thread-safe.
class TimerQueue {
 public:
  // `order_limit` is where the creation counter is renumbered (tests lower it); fewer timers than
  // that must be pending at any time.
  explicit TimerQueue(uint32_t order_limit = UINT32_MAX) : order_limit_(order_limit) {}
  // Not copyable: the list cache points into buckets_.
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void Push(Time due, uint32_t slot, uint32_t generation, uint64_t token, Timer::Kind kind);

  // The heap is empty only when no timer is pending (Refill keeps it so).
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size() + bucketed_; }
  // The earliest timer's due time; the queue must not be empty.
  Time next_due() const { return Time(Duration(heap_.front().due)); }
  // The earliest timer; the queue must not be empty.
  Timer top() const { return Assemble(heap_.front()); }
  // Removes and returns the earliest timer; the queue must not be empty.
  Timer Pop();

 private:
  struct Entry {
    int64_t due;     // milliseconds since the epoch
    uint32_t order;  // creation counter, for ties in `due`
    uint32_t rest;   // index into rest_
  };
  struct Rest {
    uint64_t token;
    uint32_t slot;
    uint32_t generation;
    Timer::Kind kind;
  };
  static bool Before(const Entry& a, const Entry& b) {
    return a.due != b.due ? a.due < b.due : a.order < b.order;
  }
  static constexpr int64_t kBucketMillis = 3'600'000;  // one hour of due time per list
  // The hour `due` falls in, rounded down (also for times before the epoch).
  static int64_t BucketOf(int64_t due) {
    int64_t q = due / kBucketMillis;
    return due % kBucketMillis < 0 ? q - 1 : q;
  }

  Timer Assemble(const Entry& e) const {
    const Rest& r = rest_[e.rest];
    return Timer{Time(Duration(e.due)), r.slot, r.generation, r.token, r.kind};
  }
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  // Places an entry in the heap (its hour is before horizon_) or in its hour's list.
  void Place(const Entry& e);
  // Moves the earliest hour's list into the (empty) heap.
  void Refill();
  void Renumber();

  // Timers of hours before horizon_; every listed timer is due later than all of these.
  std::vector<Entry> heap_;
  std::map<int64_t, std::vector<Entry>> buckets_;  // hour -> timers due in it, unordered
  size_t bucketed_ = 0;                            // timers in buckets_
  int64_t horizon_ = INT64_MIN;                    // the first hour not moved into the heap
  // Recently used lists by hour modulo kCacheSize; null when that hour has no list now.
  struct ListCache {
    int64_t bucket = 0;
    std::vector<Entry>* list = nullptr;  // map nodes do not move
  };
  static constexpr size_t kCacheSize = 16;
  ListCache cache_[kCacheSize];
  std::vector<Rest> rest_;
  std::vector<uint32_t> free_rest_;
  uint32_t order_limit_;
  uint32_t next_order_ = 0;
};

inline void TimerQueue::Push(Time due, uint32_t slot, uint32_t generation, uint64_t token,
                             Timer::Kind kind) {
  if (next_order_ >= order_limit_) Renumber();
  uint32_t rest;
  if (free_rest_.empty()) {
    rest = uint32_t(rest_.size());
    rest_.emplace_back();
  } else {
    rest = free_rest_.back();
    free_rest_.pop_back();
  }
  rest_[rest] = Rest{token, slot, generation, kind};
  Place(Entry{ToMillis(due), next_order_++, rest});
  if (heap_.empty()) Refill();
}

inline void TimerQueue::Place(const Entry& e) {
  int64_t bucket = BucketOf(e.due);
  if (bucket < horizon_) {
    heap_.push_back(e);
    SiftUp(heap_.size() - 1);
    return;
  }
  // Timers are mostly pushed a few fixed delays ahead of a clock that moves forward, so the
  // same few hours take most pushes: remember their lists rather than walk the map each time.
  ListCache& cached = cache_[uint64_t(bucket) % kCacheSize];
  if (cached.list == nullptr || cached.bucket != bucket) {
    cached.bucket = bucket;
    cached.list = &buckets_[bucket];
  }
  cached.list->push_back(e);
  ++bucketed_;
}

inline void TimerQueue::Refill() {
  if (buckets_.empty()) return;
  auto first = buckets_.begin();
  horizon_ = first->first + 1;
  ListCache& cached = cache_[uint64_t(first->first) % kCacheSize];
  if (cached.bucket == first->first) cached.list = nullptr;
  heap_.swap(first->second);
  buckets_.erase(first);
  bucketed_ -= heap_.size();
  // A sorted array is a valid heap.
  std::sort(heap_.begin(), heap_.end(), Before);
}

inline Timer TimerQueue::Pop() {
  Timer t = Assemble(heap_.front());
  free_rest_.push_back(heap_.front().rest);
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    SiftDown(0);
  } else {
    Refill();
  }
  return t;
}

inline void TimerQueue::SiftUp(size_t i) {
  Entry e = heap_[i];
  while (i > 0) {
    size_t parent = (i - 1) / 4;
    if (!Before(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

inline void TimerQueue::SiftDown(size_t i) {
  // The entry moved to `i` came from the bottom and usually belongs near it: move the hole down
  // along the smallest children to a leaf without comparing against the entry, then sift it up
  // from there (fewer comparisons than stopping early).
  Entry e = heap_[i];
  size_t n = heap_.size();
  size_t start = i;
  while (true) {
    size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best = first;
    if (first + 4 <= n) {
      size_t a = Before(heap_[first + 1], heap_[first]) ? first + 1 : first;
      size_t b = Before(heap_[first + 3], heap_[first + 2]) ? first + 3 : first + 2;
      best = Before(heap_[b], heap_[a]) ? b : a;
    } else {
      for (size_t c = first + 1; c < n; ++c) {
        if (Before(heap_[c], heap_[best])) best = c;
      }
    }
    heap_[i] = heap_[best];
    i = best;
  }
  while (i > start) {
    size_t parent = (i - 1) / 4;
    if (!Before(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

inline void TimerQueue::Renumber() {
  // Renumbering in (due, order) keeps every tie's order; placing the timers in that order leaves
  // the heap sorted, which is a valid heap.
  std::vector<Entry> all = std::move(heap_);
  heap_.clear();
  for (const auto& [bucket, entries] : buckets_) {
    all.insert(all.end(), entries.begin(), entries.end());
  }
  buckets_.clear();
  bucketed_ = 0;
  for (ListCache& cached : cache_) cached.list = nullptr;
  std::sort(all.begin(), all.end(), Before);
  for (size_t i = 0; i < all.size(); ++i) {
    all[i].order = uint32_t(i);
    Place(all[i]);
  }
  next_order_ = uint32_t(all.size());
}

}  // namespace waymark
