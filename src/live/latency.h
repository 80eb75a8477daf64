// LatencyHistogram: a lock-free log-scale histogram of durations for percentiles and Prometheus.
//
// Bucket 0 holds durations under 1 us; bucket i >= 1 holds (2^((i-1)/4), 2^(i/4)] us, four buckets
// per doubling (each about 19% wide) up to 2^(kBuckets-1)/4 us (about 26 s); longer ones land in
// the last bucket. Recording is one relaxed atomic increment; readers see counts that may lag
// recorders slightly, never torn values.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace waymark::live {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 100;

  void Record(std::chrono::nanoseconds d);

  // Upper edge of bucket i in seconds (+infinity for the last).
  static double UpperSeconds(int i);

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};
    uint64_t total = 0;
    double sum_seconds = 0;
    // The upper edge of the bucket holding quantile q (0 < q <= 1), in seconds; 0 when empty.
    double Quantile(double q) const;
  };
  Snapshot Read() const;

  // Prometheus histogram `name` with `help`, one `le` line per bucket edge up to the highest
  // non-empty one (edges are fixed, so scrapes can be subtracted).
  void Render(std::string_view name, std::string_view help, std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace waymark::live
