#include "dispatch/policy.h"

#include <algorithm>

#include "core/local_time.h"

namespace waymark {

std::string_view SuppressReasonName(SuppressReason r) {
  switch (r) {
    case SuppressReason::kNone:
      return "none";
    case SuppressReason::kConsent:
      return "consent";
    case SuppressReason::kNoContact:
      return "no_contact";
    case SuppressReason::kFrequencyCap:
      return "frequency_cap";
    case SuppressReason::kQuietHours:
      return "quiet_hours";
    case SuppressReason::kTooLate:
      return "too_late";
    case SuppressReason::kRenderError:
      return "render_error";
  }
  return "?";
}

void SendLog::Prune(Time now, Duration keep) {
  Time cutoff = now - keep;
  auto first_kept = std::find_if(records_.begin(), records_.end(),
                                 [&](const Record& r) { return r.time >= cutoff; });
  records_.erase(records_.begin(), first_kept);
}

void SendLog::MergeFrom(const SendLog& other) {
  std::vector<Record> merged;
  merged.reserve(records_.size() + other.records_.size());
  std::merge(records_.begin(), records_.end(), other.records_.begin(), other.records_.end(),
             std::back_inserter(merged),
             [](const Record& a, const Record& b) { return a.time < b.time; });
  records_ = std::move(merged);
}

uint32_t SendLog::CountSince(Time from, const std::vector<int>& channels) const {
  uint32_t n = 0;
  for (auto it = records_.rbegin(); it != records_.rend() && it->time >= from; ++it) {
    if (channels.empty() ||
        std::find(channels.begin(), channels.end(), it->channel) != channels.end()) {
      ++n;
    }
  }
  return n;
}

PolicyEngine::PolicyEngine(const Config& config, bool assume_reachable)
    : config_(config), assume_reachable_(assume_reachable) {
  for (const CapRule& cap : config.policies.caps) {
    // A local day is at most 25 hours long.
    Duration w = cap.local_day ? Duration(std::chrono::hours(25)) : cap.per;
    longest_window_ = std::max(longest_window_, w);
  }
}

const TimeZone* PolicyEngine::ZoneOf(const Profile& profile) const {
  return profile.tz != nullptr ? profile.tz : config_.settings.default_timezone;
}

namespace {

bool Covers(const std::vector<int>& channels, int channel) {
  return channels.empty() || std::find(channels.begin(), channels.end(), channel) != channels.end();
}

}  // namespace

SuppressReason PolicyEngine::CheckChannel(const Profile& profile, const SendLog& log, int channel,
                                          Time now, std::string* to, std::string* detail) const {
  const ChannelDef& def = config_.channels[channel];
  // Consent: a global unsubscribe, or consent.<channel> set to false.
  const Value* unsub = profile.traits.Find("unsubscribed");
  if (unsub != nullptr && unsub->is_bool() && unsub->as_bool()) {
    *detail = "unsubscribed from all channels";
    return SuppressReason::kConsent;
  }
  const Value* consent = profile.traits.Find("consent");
  if (consent != nullptr) {
    const Value* c = consent->Find(def.id);
    if (c != nullptr && c->is_bool() && !c->as_bool()) {
      *detail = "consent." + def.id + " is false";
      return SuppressReason::kConsent;
    }
  }
  // Contact point.
  if (!def.contact_trait.empty()) {
    const Value* contact = profile.traits.Find(def.contact_trait);
    if (contact != nullptr && contact->is_string() && !contact->as_string().empty()) {
      *to = contact->as_string();
    } else if (contact == nullptr && assume_reachable_) {
      *to = "(assumed)";
    } else {
      *detail = "no " + def.contact_trait;
      return SuppressReason::kNoContact;
    }
  }
  // Frequency caps.
  for (const CapRule& cap : config_.policies.caps) {
    if (!Covers(cap.channels, channel)) continue;
    Time from = cap.local_day ? LocalDayStart(now, ZoneOf(profile)) : now - cap.per + Duration(1);
    if (log.CountSince(from, cap.channels) >= cap.max) {
      *detail = "cap " + cap.label + " reached";
      return SuppressReason::kFrequencyCap;
    }
  }
  return SuppressReason::kNone;
}

DispatchDecision PolicyEngine::Decide(const Profile& profile, const SendLog& log,
                                      const std::vector<int>& channels, Time now) const {
  DispatchDecision d;
  for (int channel : channels) {
    ChannelCheck check;
    check.channel = channel;
    std::string to;
    check.reason = CheckChannel(profile, log, channel, now, &to, &check.detail);
    d.checks.push_back(check);
    if (check.reason != SuppressReason::kNone) continue;

    const QuietHours& qh = config_.policies.quiet_hours;
    if (qh.enabled && Covers(qh.channels, channel)) {
      Time end = QuietHoursEnd(now, ZoneOf(profile), qh.start_minute, qh.end_minute);
      if (end > now) {
        d.channel = channel;
        if (qh.defer) {
          d.kind = DispatchDecision::Kind::kDefer;
          d.defer_until = end;
        } else {
          d.kind = DispatchDecision::Kind::kSuppress;
          d.reason = SuppressReason::kQuietHours;
        }
        d.checks.back().detail = "quiet hours until " + FormatIsoTime(end);
        return d;
      }
    }
    d.kind = DispatchDecision::Kind::kSend;
    d.channel = channel;
    d.to = std::move(to);
    return d;
  }
  d.kind = DispatchDecision::Kind::kSuppress;
  d.reason = d.checks.empty() ? SuppressReason::kNoContact : d.checks.front().reason;
  return d;
}

}  // namespace waymark
