// The one source of "now". Engine code never reads the system clock: replay drives a ManualClock
// from event time, the server a SystemClock.
#pragma once

#include "core/time.h"

namespace waymark {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time t = Time{}) : now_(t) {}
  Time Now() const override { return now_; }
  void Set(Time t) { now_ = t; }
  void Advance(Duration d) { now_ += d; }

 private:
  Time now_;
};

class SystemClock final : public Clock {
 public:
  Time Now() const override;
};

}  // namespace waymark
