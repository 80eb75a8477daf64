// The journey registry's stored records: meta names and value layouts (docs/storage.md,
// "Journeys"). Internal to src/live; JourneyRegistry is the only writer and reader.
//
// Three kinds of meta values, all written through StateStore::PutMeta / WriteBatch::PutMeta
// (which put the store's codec version byte in front) and each starting with its own format
// version byte (kJourneyFormat):
//   meta/journeys                              the index: every journey id, in the order stored
//   meta/journeys/r/<id>                       one journey: position, status, its versions' states
//   meta/journeys/v/<4-byte BE version><id>    one version's document, as stored
// The version number comes before the id in version keys so that no id, whatever its bytes, can
// make two keys collide. All functions are thread-safe; decoders accept arbitrary bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "live/journey_registry.h"
#include "model/config.h"

namespace waymark::live {

inline constexpr uint8_t kJourneyFormat = 1;

// Where a version's document came from.
enum class VersionOrigin : uint8_t { kFile, kApi };
std::string_view VersionOriginName(VersionOrigin o);

struct VersionRecord {
  uint32_t number = 0;
  VersionState state = VersionState::kDraft;
  VersionOrigin origin = VersionOrigin::kApi;
  Time created_at{};
  std::optional<Time> published_at;  // when it last became the published version
};

struct JourneyRecord {
  int position = -1;  // index in Config::journeys; -1 while never published
  JourneyStatus status = JourneyStatus::kActive;
  uint32_t archived_through = 0;        // highest version when last archived; 0 when never archived
  std::vector<VersionRecord> versions;  // ascending by number
};

// Meta names (without the "meta/" that the store adds).
std::string JourneyIndexName();
std::string JourneyRecordName(std::string_view id);
std::string VersionTextName(std::string_view id, uint32_t version);

void EncodeJourneyIndex(const std::vector<std::string>& ids, std::string* out);
// Fails with a parse error naming the field and byte offset.
Result<std::vector<std::string>> DecodeJourneyIndex(std::string_view bytes);

void EncodeJourneyRecord(const JourneyRecord& record, std::string* out);
// Also checks what the registry relies on: versions ascending, at most one
// published, a published version exactly when the journey has a position, known enum values.
Result<JourneyRecord> DecodeJourneyRecord(std::string_view bytes);

void EncodeVersionText(std::string_view text, std::string* out);
Result<std::string> DecodeVersionText(std::string_view bytes);

}  // namespace waymark::live
