// Per-profile engine state: the profile, its journey instances, send log and segment membership.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dispatch/policy.h"
#include "model/config.h"
#include "model/event.h"
#include "model/profile.h"

namespace waymark {

// A message a journey instance sent, as attribution and `last_message.*` conditions see it.
struct SentMessage {
  int step = kEnd;     // position in the instance's journey version; kEnd: nothing sent yet
  int channel = -1;    // index in Config::channels; -1 when the channel is no longer configured
  std::string id;      // the message id (HexId), as in the outbox and in delivery events
  Time at = kTimeMin;  // when it was sent
};

// One profile's walk through one journey version.
struct Instance {
  enum class State : uint8_t {
    kRunning,       // executing steps right now
    kWaiting,       // wait / wait_until: timer pending
    kWaitingEvent,  // wait_for: an event or the timeout timer
    kDeferredSend,  // send held by quiet hours: timer pending
    kAwaitingGoal,  // steps finished; still watching for the goal until its window closes
    kEnded,         // to be removed
  };

  uint64_t id = 0;  // deterministic: journey, version, profile, key and entry ordinal
  std::shared_ptr<const JourneyDef> journey;
  uint32_t journey_index = 0;            // position in Config::journeys, for counters
  std::string key;                       // entry key value ("" when the journey is not keyed)
  std::shared_ptr<const Event> trigger;  // the event that started it (null for timer entries)
  Time entered_at{};
  int step = 0;
  State state = State::kRunning;
  bool control = false;  // in a holdout's control group: followed, never messaged
  bool converted = false;
  uint32_t visits = 0;  // steps executed, part of message ids
  uint64_t timer_token = 0;
  Time timer_due{};
  // For attribution (Shard::Convert): the newest message a send step emitted (webhook steps
  // emit no message to the customer), and the step and time of the newest click on one of this
  // instance's messages (a `Message Clicked` event whose message id this instance produced).
  SentMessage last_sent;
  int last_click_step = kEnd;
  Time last_click_at = kTimeMin;

  bool active() const { return state != State::kAwaitingGoal && state != State::kEnded; }
};

// What a profile remembers about a journey (per key value, for keyed journeys) for re-entry rules.
struct JourneyMemory {
  uint32_t journey_index = 0;  // position in Config::journeys
  std::string key;             // entry key value; "" for journeys without a key
  uint32_t entries = 0;
  Time last_entered = kTimeMin;
  // For per-customer conversion: was any instance in the control group / did any convert.
  bool control = false;
  bool converted = false;
};

struct TraceEntry {
  Time time;
  std::string text;
};

// One line of a profile's recent past as the admin API shows it: an event the profile sent, or a
// send decided for it. Kept only when ShardOptions::activity_limit is set (the live server).
struct ActivityEntry {
  enum class Kind : uint8_t { kEvent, kSent, kSuppressed };
  Kind kind = Kind::kEvent;
  Time time{};
  // kEvent: the call type and name ("track Order Completed", "identify"). kSent: the channel id.
  // kSuppressed: the reason (SuppressReasonName).
  std::string what;
  std::string id;       // kEvent: the messageId; otherwise the message id of the send
  std::string journey;  // kSent, kSuppressed: journey and step ids
  std::string step;
  std::string detail;  // kSuppressed: why, in words
};

// A message of this profile that was opened or clicked, so that unique opens and clicks count
// each message once (StepStats::unique_opened, unique_clicked).
struct EngagedMessage {
  uint64_t message = 0;  // Hash64 of the message id
  bool opened = false;
  bool clicked = false;
};

// A profile remembers at most this many engaged messages, the most recently engaged ones: an
// engagement with a message it forgot counts as unique again.
inline constexpr size_t kEngagedMessageLimit = 64;

struct ProfileState {
  Profile profile;
  std::vector<Instance> instances;
  std::vector<JourneyMemory> journeys;
  SendLog sends;
  std::vector<uint8_t> segments;  // membership by segment index
  uint64_t segment_token = 0;     // live segment re-check timer
  Time segment_due = kTimeMax;
  bool traced = false;
  std::vector<TraceEntry> trace;  // only for traced profiles
  // Oldest first; at most ShardOptions::activity_limit events and as many sends.
  std::vector<ActivityEntry> activity;
  // Least recently engaged first; at most kEngagedMessageLimit.
  std::vector<EngagedMessage> engaged;

  uint32_t slot = 0;
  uint32_t generation = 0;
  bool changed = false;  // listed in the shard's changed set (ShardOptions::track_changes)

  JourneyMemory* Memory(uint32_t journey_index, std::string_view key) {
    for (JourneyMemory& m : journeys)
      if (m.journey_index == journey_index && m.key == key) return &m;
    journeys.push_back(JourneyMemory{journey_index, std::string(key)});
    return &journeys.back();
  }
};

}  // namespace waymark
