// Policies over all journeys: consent, contact points, frequency caps and quiet hours.
//
// PolicyEngine is stateless and shared by all shards; the per-profile state it reads (the send
// log) lives with the profile. Decide() picks the first channel of a send step's ordered list that
// is consented, reachable and not capped, then applies quiet hours to it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "model/config.h"
#include "model/profile.h"

namespace waymark {

enum class SuppressReason : uint8_t {
  kNone,
  kConsent,
  kNoContact,
  kFrequencyCap,
  kQuietHours,
  kTooLate,
  kRenderError,
};
std::string_view SuppressReasonName(SuppressReason r);

// Sends already made to one profile, oldest first, for frequency caps.
class SendLog {
 public:
  struct Record {
    Time time;
    int channel;  // index into Config::channels
  };

  void Add(Time t, int channel) { records_.push_back({t, channel}); }
  // Forgets sends older than `keep` before `now` (the longest cap window).
  void Prune(Time now, Duration keep);
  void MergeFrom(const SendLog& other);
  size_t size() const { return records_.size(); }
  // Every remembered send, oldest first (for persistence; restore with Add() in this order).
  const std::vector<Record>& records() const { return records_; }

  // Sends since `from` (inclusive) on any of `channels` (empty = all).
  uint32_t CountSince(Time from, const std::vector<int>& channels) const;

 private:
  std::vector<Record> records_;
};

struct ChannelCheck {
  int channel = -1;
  SuppressReason reason = SuppressReason::kNone;
  std::string detail;  // "cap 2 per 1d (all channels) reached", for traces
};

struct DispatchDecision {
  enum class Kind : uint8_t { kSend, kDefer, kSuppress };
  Kind kind = Kind::kSuppress;
  int channel = -1;    // kSend, kDefer: the chosen channel
  std::string to;      // kSend: the address, or "" where the channel needs none
  Time defer_until{};  // kDefer
  SuppressReason reason = SuppressReason::kNone;  // kSuppress
  std::vector<ChannelCheck> checks;               // every channel considered, in order
};

class PolicyEngine {
 public:
  // With `assume_reachable`, a profile without a contact trait counts as reachable (replay of
  // behavioural data without addresses); an explicitly empty or null contact still does not.
  PolicyEngine(const Config& config, bool assume_reachable);

  DispatchDecision Decide(const Profile& profile, const SendLog& log,
                          const std::vector<int>& channels, Time now) const;

  // The longest time a send must be remembered for caps.
  Duration LongestCapWindow() const { return longest_window_; }

 private:
  SuppressReason CheckChannel(const Profile& profile, const SendLog& log, int channel, Time now,
                              std::string* to, std::string* detail) const;
  const TimeZone* ZoneOf(const Profile& profile) const;

  const Config& config_;
  bool assume_reachable_;
  Duration longest_window_{};
};

}  // namespace waymark
