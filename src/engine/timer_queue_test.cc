#include "engine/timer_queue.h"

#include <gtest/gtest.h>

#include <queue>
#include <random>
#include <tuple>

namespace waymark {
namespace {

// The order the queue must reproduce: due time, then creation order.
struct Reference {
  struct Item {
    int64_t due;
    uint64_t seq;
    uint64_t token;
    bool operator>(const Item& o) const { return std::tie(due, seq) > std::tie(o.due, o.seq); }
  };
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  uint64_t next_seq = 0;
};

// Pushes (`push_percent` of the steps) and pops at random against the reference.
void RunRandom(TimerQueue* q, uint32_t seed, int steps, int64_t due_range, int push_percent) {
  Reference ref;
  std::mt19937 rng(seed);
  uint64_t token = 1;
  for (int i = 0; i < steps; ++i) {
    bool push = ref.heap.empty() || int(rng() % 100) < push_percent;
    if (push) {
      int64_t due = int64_t(rng() % uint64_t(due_range));
      Timer::Kind kind = rng() % 2 ? Timer::Kind::kInstance : Timer::Kind::kSegments;
      q->Push(FromMillis(due), uint32_t(token % 97), uint32_t(token % 13), token, kind);
      ref.heap.push({due, ref.next_seq++, token});
      ++token;
    } else {
      ASSERT_EQ(q->size(), ref.heap.size());
      ASSERT_EQ(ToMillis(q->next_due()), ref.heap.top().due);
      Timer t = q->Pop();
      Reference::Item want = ref.heap.top();
      ref.heap.pop();
      ASSERT_EQ(ToMillis(t.due), want.due);
      ASSERT_EQ(t.token, want.token) << "step " << i;
      EXPECT_EQ(t.slot, uint32_t(want.token % 97));
      EXPECT_EQ(t.generation, uint32_t(want.token % 13));
    }
  }
  while (!ref.heap.empty()) {
    Timer t = q->Pop();
    ASSERT_EQ(t.token, ref.heap.top().token);
    ref.heap.pop();
  }
  EXPECT_TRUE(q->empty());
}

TEST(TimerQueueTest, PopsInDueThenCreationOrder) {
  TimerQueue q;
  RunRandom(&q, 1, 20'000, 50, 66);  // few due times: ties are common
}

TEST(TimerQueueTest, PopsInOrderWithSpreadDueTimes) {
  TimerQueue q;
  RunRandom(&q, 2, 20'000, 1'000'000'000, 66);
}

TEST(TimerQueueTest, RenumberingKeepsTieOrder) {
  // A low limit makes the creation counter wrap many times during the run; as many pops as
  // pushes keep the queue well below the limit.
  TimerQueue q(/*order_limit=*/5'000);
  RunRandom(&q, 3, 200'000, 20, 50);
}

TEST(TimerQueueTest, RenumberingKeepsOrderAcrossHours) {
  // Due times over several hours: renumbering also covers timers still in their hour's list.
  TimerQueue q(/*order_limit=*/5'000);
  RunRandom(&q, 4, 200'000, 6 * 3'600'000, 50);
}

TEST(TimerQueueTest, PopsInOrderAcrossDistantHours) {
  // Pushes far ahead and far behind the hour being popped (timers re-armed in the past).
  TimerQueue q;
  RunRandom(&q, 5, 50'000, int64_t(30) * 24 * 3'600'000, 80);
}

TEST(TimerQueueTest, TopIsTheNextPop) {
  TimerQueue q;
  q.Push(FromMillis(5), 1, 2, 10, Timer::Kind::kSegments);
  q.Push(FromMillis(5), 3, 4, 11, Timer::Kind::kInstance);
  q.Push(FromMillis(1), 5, 6, 12, Timer::Kind::kInstance);
  Timer top = q.top();
  EXPECT_EQ(ToMillis(top.due), 1);
  EXPECT_EQ(top.token, 12u);
  Timer popped = q.Pop();
  EXPECT_EQ(popped.slot, 5u);
  EXPECT_EQ(popped.generation, 6u);
  EXPECT_EQ(q.Pop().kind, Timer::Kind::kSegments);
  EXPECT_EQ(q.Pop().token, 11u);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace waymark
