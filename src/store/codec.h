// Binary encodings of the engine's durable state: profile states, outbox entries and the small
// values of the other key spaces (docs/storage.md is the reference for every layout).
//
// Every value starts with a format version byte (kCodecVersion); a decoder refuses a version it
// does not know with an error instead of guessing. Integers are LEB128 varints (signed ones
// zigzagged), strings are a varint length followed by the bytes, doubles are 8 bytes little-endian,
// times are signed varint milliseconds since the epoch, and a Value is a tag byte followed by its
// content.
//
// Configuration objects are stored by id, never by index, so that a changed config does not
// scramble state: journeys by (id, version), segments and channels by id, history entries by event
// name. Decoding resolves them against the current Config; what no longer resolves is dropped and
// counted in a DecodeReport (see DecodeProfileState for the exact rules).
//
// Decoders accept arbitrary bytes: any malformed input yields a Status naming the field and byte
// offset, never a crash or an unbounded allocation. All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/value.h"
#include "engine/instance.h"
#include "model/config.h"

namespace waymark::store {

// The format version written as the first byte of every value. Decoders read every version from
// kOldestCodecVersion up: version 2 added a profile state's name table, recent activity and
// engaged messages, and each instance's last send and last click (docs/storage.md).
inline constexpr uint8_t kCodecVersion = 2;
inline constexpr uint8_t kOldestCodecVersion = 1;

// Values nest at most this deep; deeper input is rejected (bounds decoder recursion).
inline constexpr int kMaxValueDepth = 64;

// What decoding a profile state left behind because the current config no longer knows it.
struct DecodeReport {
  struct DroppedInstance {
    uint64_t instance_id = 0;
    std::string journey_id;
    uint32_t version = 0;
    std::string reason;  // "journey no longer configured", "version 2 replaced by 3", ...
  };
  std::vector<DroppedInstance> dropped_instances;
  uint32_t dropped_history = 0;   // entries whose event name no history rule keeps
  uint32_t dropped_memories = 0;  // re-entry memories of journeys no longer configured
  uint32_t dropped_sends = 0;     // send log records on channels no longer configured
  uint32_t dropped_segments = 0;  // memberships of segments no longer configured
  std::string unknown_time_zone;  // a stored zone name tzdata no longer has (profile gets null)

  bool empty() const {
    return dropped_instances.empty() && dropped_history == 0 && dropped_memories == 0 &&
           dropped_sends == 0 && dropped_segments == 0 && unknown_time_zone.empty();
  }
};

// Appends the encoding of `ps` to `out`. `config` must be the config `ps` was built under (it maps
// journey, segment and channel indices to ids). Not stored: timer and segment tokens, trace
// state, shard slot and generation (they are rebuilt by whoever loads the state).
void EncodeProfileState(const ProfileState& ps, const Config& config, std::string* out);

// Decodes a profile state into `*out` (which must be default-constructed) against `config`:
//  - an instance resolves by (journey id, version) to the journey's current version or to one of
//    `config.retained_versions`; one whose journey id is not configured, whose version is
//    neither, or whose step no longer has the stored step id, is dropped and listed in
//    `report->dropped_instances`; surviving instances get that version's JourneyDef and the
//    journey id's index in `config.journeys`; `timer_token` is 0 (the loader schedules a new
//    timer for every waiting instance);
//  - re-entry memories resolve by journey id alone (a version bump keeps re-entry rules);
//  - history entries resolve by event name to `config.history` rules (names point into it);
//    entries no rule keeps are dropped, properties are dropped where the rule no longer reads
//    them; `max_entries` is applied keeping the newest;
//  - send records and segment memberships resolve by channel and segment id; `segments` is sized
//    to `config.segments` with unknown ids dropped; `segment_due` is restored, the token is 0;
//  - an instance's last send and last click resolve by step id within the instance's version and
//    by channel id; one that no longer resolves is forgotten (the instance is kept);
//  - an unknown time zone name leaves `profile.tz` null and is reported.
// Returns a parse error naming the field and offset for malformed bytes or a version mismatch;
// `*out` is then unspecified. `report` may be null.
Status DecodeProfileState(std::string_view bytes, const Config& config, ProfileState* out,
                          DecodeReport* report);

// One event with a version byte (the ingest journal, j/ keys). Everything ingest fills is kept
// except `source` and `seq` (the journal key holds the sequence).
void EncodeEvent(const Event& e, std::string* out);
Status DecodeEvent(std::string_view bytes, Event* out);

// Delivery status of one outbox message.
enum class DeliveryStatus : uint8_t {
  kPending,    // not yet attempted, or due for a retry at `next_attempt`
  kDelivered,  // accepted by the channel
  kFailed,     // permanently failed or retries exhausted (dead letter)
};
std::string_view DeliveryStatusName(DeliveryStatus s);

// One outbox message. `time` and `id` form the key; the rest is the value.
struct OutboxEntry {
  Time time{};       // when the send was decided (scheduled time)
  std::string id;    // message id
  std::string json;  // the outbox JSON line, no newline
  DeliveryStatus status = DeliveryStatus::kPending;
  uint32_t attempts = 0;
  Time next_attempt{};  // kPending: not before this time
  std::string detail;   // the channel's last answer (may hold an address: DEBUG logs only)
};

// The value part of an outbox entry (json, status, attempts, next_attempt, detail).
void EncodeOutboxValue(const OutboxEntry& entry, std::string* out);
// Fills everything but `time` and `id` (which come from the key).
Status DecodeOutboxValue(std::string_view bytes, OutboxEntry* out);

// A version byte and one signed varint time (seen message ids).
void EncodeTimeValue(Time t, std::string* out);
Result<Time> DecodeTimeValue(std::string_view bytes);

// A version byte, a varint count and that many fixed64 hashes (seen messageIds).
void EncodeHashListValue(const std::vector<uint64_t>& hashes, std::string* out);
Result<std::vector<uint64_t>> DecodeHashListValue(std::string_view bytes);

// A version byte and the bytes of `s`, unframed (aliases, meta values).
void EncodeBytesValue(std::string_view s, std::string* out);
Result<std::string> DecodeBytesValue(std::string_view bytes);

// A Value tree on its own, without a version byte (exposed for tests and the fuzzer).
void EncodeValue(const Value& v, std::string* out);
Status DecodeValue(std::string_view bytes, Value* out);

}  // namespace waymark::store
