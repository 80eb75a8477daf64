#include "live/latency.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace waymark::live {

void LatencyHistogram::Record(std::chrono::nanoseconds d) {
  double us = static_cast<double>(d.count()) / 1000.0;
  int i = 0;
  if (us > 1.0) {
    i = static_cast<int>(std::ceil(std::log2(us) * 4.0));
    if (i < 1) i = 1;
    if (i >= kBuckets) i = kBuckets - 1;
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, d.count())),
                    std::memory_order_relaxed);
}

double LatencyHistogram::UpperSeconds(int i) {
  if (i >= kBuckets - 1) return std::numeric_limits<double>::infinity();
  return std::exp2(i / 4.0) * 1e-6;
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot s;
  for (int i = 0; i < kBuckets; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.total += s.counts[i];
  }
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
  return s;
}

double LatencyHistogram::Snapshot::Quantile(double q) const {
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) return i == kBuckets - 1 ? UpperSeconds(i - 1) : UpperSeconds(i);
  }
  return UpperSeconds(kBuckets - 2);
}

void LatencyHistogram::Render(std::string_view name, std::string_view help,
                              std::string* out) const {
  Snapshot s = Read();
  int last = 0;
  for (int i = 0; i < kBuckets; ++i)
    if (s.counts[i] != 0) last = i;
  *out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (int i = 0; i <= last && i < kBuckets - 1; ++i) {
    cumulative += s.counts[i];
    *out += fmt::format("{}_bucket{{le=\"{:.9g}\"}} {}\n", name, UpperSeconds(i), cumulative);
  }
  *out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {:.9g}\n{}_count {}\n", name, s.total,
                      name, s.sum_seconds, name, s.total);
}

}  // namespace waymark::live
