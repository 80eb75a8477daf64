// A per-shard min-heap of timers. Timers are never removed eagerly: each carries the token it was
// scheduled with, and a timer whose token no longer matches its owner's is skipped when it comes
// due (cancel = change the owner's token).
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "core/time.h"

namespace waymark {

struct Timer {
  enum class Kind : uint8_t { kInstance, kSegments };
  Time due;
  uint64_t seq;         // tie-break: creation order within the shard
  uint32_t slot;        // profile slot in the shard
  uint32_t generation;  // profile slot generation; stale after the profile moved away
  uint64_t token;       // instance or segment-recheck token
  Kind kind;
};

// TODO(perf): a binary heap of 40-byte entries misses cache once it holds millions of timers
// (407 ns per pop+push at 1M vs 48 ns at 1K); a 4-ary heap of 16-byte entries would help.
class TimerQueue {
 public:
  void Push(Time due, uint32_t slot, uint32_t generation, uint64_t token, Timer::Kind kind) {
    heap_.push(Timer{due, next_seq_++, slot, generation, token, kind});
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Timer& top() const { return heap_.top(); }
  Timer Pop() {
    Timer t = heap_.top();
    heap_.pop();
    return t;
  }

 private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };
  std::priority_queue<Timer, std::vector<Timer>, Later> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace waymark
