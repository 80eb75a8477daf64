#include "live/journey_records.h"

#include <gtest/gtest.h>

namespace waymark::live {
namespace {

JourneyRecord SampleRecord() {
  JourneyRecord rec;
  rec.position = 3;
  rec.status = JourneyStatus::kPaused;
  rec.archived_through = 2;
  rec.versions = {
      {1, VersionState::kRetired, VersionOrigin::kFile, FromMillis(-5), FromMillis(10)},
      {2, VersionState::kPublished, VersionOrigin::kApi, FromMillis(20), FromMillis(30)},
      {7, VersionState::kDraft, VersionOrigin::kApi, FromMillis(1767225600000), std::nullopt},
  };
  return rec;
}

TEST(JourneyRecordsTest, RecordRoundTrips) {
  std::string bytes;
  EncodeJourneyRecord(SampleRecord(), &bytes);
  EXPECT_EQ(bytes[0], char(kJourneyFormat));
  Result<JourneyRecord> back = DecodeJourneyRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->position, 3);
  EXPECT_EQ(back->status, JourneyStatus::kPaused);
  EXPECT_EQ(back->archived_through, 2u);
  ASSERT_EQ(back->versions.size(), 3u);
  const JourneyRecord want = SampleRecord();
  for (size_t i = 0; i < want.versions.size(); ++i) {
    EXPECT_EQ(back->versions[i].number, want.versions[i].number);
    EXPECT_EQ(back->versions[i].state, want.versions[i].state);
    EXPECT_EQ(back->versions[i].origin, want.versions[i].origin);
    EXPECT_EQ(back->versions[i].created_at, want.versions[i].created_at);
    EXPECT_EQ(back->versions[i].published_at, want.versions[i].published_at);
  }
}

TEST(JourneyRecordsTest, IndexAndTextRoundTrip) {
  std::string bytes;
  EncodeJourneyIndex({"welcome", "", "a/b"}, &bytes);
  Result<std::vector<std::string>> ids = DecodeJourneyIndex(bytes);
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(*ids, (std::vector<std::string>{"welcome", "", "a/b"}));

  bytes.clear();
  EncodeVersionText("id: x\n", &bytes);
  Result<std::string> text = DecodeVersionText(bytes);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "id: x\n");
}

TEST(JourneyRecordsTest, VersionKeysCannotCollide) {
  // The fixed-width version before the id keeps (id, version) -> key one to one, whatever bytes
  // the id holds.
  EXPECT_EQ(VersionTextName("a", 258), std::string("journeys/v/\0\0\1\2a", 16));
  EXPECT_NE(VersionTextName(std::string("a\0\0\0\1", 5), 1), VersionTextName("", 1) + "a");
  EXPECT_NE(VersionTextName("\1", 0), VersionTextName("", 1));
  EXPECT_EQ(JourneyRecordName("a/b"), "journeys/r/a/b");
  EXPECT_NE(JourneyRecordName("x").substr(0, 11), VersionTextName("x", 0).substr(0, 11));
}

TEST(JourneyRecordsTest, RefusesOtherFormatVersionsAndTruncation) {
  std::string bytes;
  EncodeJourneyRecord(SampleRecord(), &bytes);
  std::string other = bytes;
  other[0] = 9;
  EXPECT_EQ(DecodeJourneyRecord(other).status().message(),
            "journey.version at byte 0: format version 9, expected 1");
  EXPECT_EQ(DecodeVersionText(std::string(1, '\2')).status().message(),
            "text.version at byte 0: format version 2, expected 1");
  EXPECT_EQ(DecodeJourneyIndex("").status().code(), Status::Code::kParseError);

  // Every proper prefix fails cleanly; so does a trailing byte.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeJourneyRecord(bytes.substr(0, n)).status().code(), Status::Code::kParseError)
        << n;
  }
  EXPECT_EQ(DecodeJourneyRecord(bytes + "x").status().message(),
            "journey at byte " + std::to_string(bytes.size()) + ": trailing bytes");
}

TEST(JourneyRecordsTest, RefusesRecordsThatBreakTheInvariants) {
  auto message = [](const JourneyRecord& rec) {
    std::string bytes;
    EncodeJourneyRecord(rec, &bytes);
    return DecodeJourneyRecord(bytes).status().message();
  };
  JourneyRecord two_published = SampleRecord();
  two_published.versions[0].state = VersionState::kPublished;
  EXPECT_NE(message(two_published).find("more than one published version"), std::string::npos);

  JourneyRecord unordered = SampleRecord();
  unordered.versions[2].number = 2;
  EXPECT_NE(message(unordered).find("version 2 out of order"), std::string::npos);

  JourneyRecord unplaced = SampleRecord();
  unplaced.position = -1;
  EXPECT_NE(message(unplaced).find("a published journey without a position"), std::string::npos);

  JourneyRecord placed = SampleRecord();
  placed.versions[1].state = VersionState::kDraft;
  EXPECT_NE(message(placed).find("in the config without a published version"), std::string::npos);

  std::string bytes;
  EncodeJourneyRecord(SampleRecord(), &bytes);
  bytes[2] = 7;  // status, after the version byte and the one-byte position
  EXPECT_EQ(DecodeJourneyRecord(bytes).status().message(),
            "journey.status at byte 2: unknown status");
}

TEST(JourneyRecordsTest, BoundsCountsByTheInput) {
  std::string bytes(1, char(kJourneyFormat));
  bytes += "\xff\xff\xff\xff\x0f";  // 4 G ids in no bytes
  EXPECT_EQ(DecodeJourneyIndex(bytes).status().code(), Status::Code::kParseError);
}

}  // namespace
}  // namespace waymark::live
