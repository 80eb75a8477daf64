#include "live/journey_records.h"

namespace waymark::live {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutSvarint(int64_t v, std::string* out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

// Reads the layouts above; the first failure is kept with its field and byte offset.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool Byte(const char* field, uint8_t* out) {
    if (pos_ >= bytes_.size()) return Fail(field, "truncated");
    *out = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool Varint(const char* field, uint64_t* out) {
    size_t start = pos_;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return Fail(field, "truncated", start);
      uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return Fail(field, "varint too long", start);
  }
  bool Varint32(const char* field, uint32_t* out) {
    size_t start = pos_;
    uint64_t v = 0;
    if (!Varint(field, &v)) return false;
    if (v > UINT32_MAX) return Fail(field, "out of range", start);
    *out = uint32_t(v);
    return true;
  }
  bool Svarint(const char* field, int64_t* out) {
    uint64_t v = 0;
    if (!Varint(field, &v)) return false;
    *out = static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
    return true;
  }
  bool String(const char* field, std::string* out) {
    size_t start = pos_;
    uint64_t n = 0;
    if (!Varint(field, &n)) return false;
    if (n > bytes_.size() - pos_) return Fail(field, "truncated", start);
    out->assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Version(const char* field) {
    size_t start = pos_;
    uint8_t v = 0;
    if (!Byte(field, &v)) return false;
    if (v != kJourneyFormat) {
      return Fail(
          field,
          "format version " + std::to_string(v) + ", expected " + std::to_string(kJourneyFormat),
          start);
    }
    return true;
  }
  bool Fail(const char* field, const std::string& why) { return Fail(field, why, pos_); }
  bool Fail(const char* field, const std::string& why, size_t at) {
    if (error_.empty()) error_ = std::string(field) + " at byte " + std::to_string(at) + ": " + why;
    return false;
  }

  std::string_view rest() {
    std::string_view r = bytes_.substr(pos_);
    pos_ = bytes_.size();
    return r;
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t offset() const { return pos_; }
  Status status() const { return Status::Parse(error_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  std::string error_;
};

bool ReadVersionRecord(Reader* r, VersionRecord* v) {
  uint8_t state = 0, origin = 0, has_published = 0;
  int64_t created = 0, published = 0;
  if (!r->Varint32("version.number", &v->number)) return false;
  size_t at = r->offset();
  if (!r->Byte("version.state", &state)) return false;
  if (state > uint8_t(VersionState::kRetired)) return r->Fail("version.state", "unknown", at);
  at = r->offset();
  if (!r->Byte("version.origin", &origin)) return false;
  if (origin > uint8_t(VersionOrigin::kApi)) return r->Fail("version.origin", "unknown", at);
  if (!r->Svarint("version.created_at", &created)) return false;
  at = r->offset();
  if (!r->Byte("version.has_published_at", &has_published)) return false;
  if (has_published > 1) return r->Fail("version.has_published_at", "not 0 or 1", at);
  if (has_published == 1 && !r->Svarint("version.published_at", &published)) return false;
  v->state = VersionState(state);
  v->origin = VersionOrigin(origin);
  v->created_at = FromMillis(created);
  if (has_published == 1) v->published_at = FromMillis(published);
  return true;
}

// The invariants JourneyRegistry builds on, checked once the record is read.
bool CheckRecord(Reader* r, const JourneyRecord& rec) {
  int published = 0, retired = 0;
  for (size_t i = 0; i < rec.versions.size(); ++i) {
    const VersionRecord& v = rec.versions[i];
    if (i > 0 && v.number <= rec.versions[i - 1].number) {
      return r->Fail("versions", "version " + std::to_string(v.number) + " out of order");
    }
    published += v.state == VersionState::kPublished;
    retired += v.state == VersionState::kRetired;
  }
  if (published > 1) return r->Fail("versions", "more than one published version");
  if (rec.position >= 0 && published == 0) {
    return r->Fail("position", "a journey in the config without a published version");
  }
  if (rec.position < 0 && published + retired > 0) {
    return r->Fail("position", "a published journey without a position");
  }
  return true;
}

}  // namespace

std::string_view VersionOriginName(VersionOrigin o) {
  return o == VersionOrigin::kFile ? "file" : "api";
}

std::string JourneyIndexName() { return "journeys"; }

std::string JourneyRecordName(std::string_view id) { return "journeys/r/" + std::string(id); }

std::string VersionTextName(std::string_view id, uint32_t version) {
  std::string name = "journeys/v/";
  for (int i = 3; i >= 0; --i) name.push_back(static_cast<char>((version >> (8 * i)) & 0xff));
  name.append(id);
  return name;
}

void EncodeJourneyIndex(const std::vector<std::string>& ids, std::string* out) {
  out->push_back(static_cast<char>(kJourneyFormat));
  PutVarint(ids.size(), out);
  for (const std::string& id : ids) PutString(id, out);
}

Result<std::vector<std::string>> DecodeJourneyIndex(std::string_view bytes) {
  Reader r(bytes);
  uint64_t n = 0;
  if (!r.Version("index.version") || !r.Varint("index.count", &n)) return r.status();
  // Each id takes at least its length byte: bounds the reservation by the input.
  if (n > r.remaining()) {
    r.Fail("index.count",
           std::to_string(n) + " ids in " + std::to_string(r.remaining()) + " bytes");
    return r.status();
  }
  std::vector<std::string> ids(n);
  for (std::string& id : ids) {
    if (!r.String("index.id", &id)) return r.status();
  }
  if (r.remaining() != 0) {
    r.Fail("index", "trailing bytes");
    return r.status();
  }
  return ids;
}

void EncodeJourneyRecord(const JourneyRecord& record, std::string* out) {
  out->push_back(static_cast<char>(kJourneyFormat));
  PutSvarint(record.position, out);
  out->push_back(static_cast<char>(record.status));
  PutVarint(record.archived_through, out);
  PutVarint(record.versions.size(), out);
  for (const VersionRecord& v : record.versions) {
    PutVarint(v.number, out);
    out->push_back(static_cast<char>(v.state));
    out->push_back(static_cast<char>(v.origin));
    PutSvarint(ToMillis(v.created_at), out);
    out->push_back(v.published_at ? 1 : 0);
    if (v.published_at) PutSvarint(ToMillis(*v.published_at), out);
  }
}

Result<JourneyRecord> DecodeJourneyRecord(std::string_view bytes) {
  Reader r(bytes);
  JourneyRecord rec;
  int64_t position = 0;
  uint8_t status = 0;
  uint64_t n = 0;
  if (!r.Version("journey.version") || !r.Svarint("journey.position", &position)) {
    return r.status();
  }
  if (position < -1 || position > INT32_MAX) {
    r.Fail("journey.position", "out of range", 1);
    return r.status();
  }
  const size_t status_at = r.offset();
  if (!r.Byte("journey.status", &status)) return r.status();
  if (status > uint8_t(JourneyStatus::kArchived)) {
    r.Fail("journey.status", "unknown status", status_at);
    return r.status();
  }
  if (!r.Varint32("journey.archived_through", &rec.archived_through) ||
      !r.Varint("journey.versions", &n)) {
    return r.status();
  }
  rec.position = int(position);
  rec.status = JourneyStatus(status);
  // A version record takes at least 5 bytes: bounds the reservation by the input.
  if (n > r.remaining() / 5) {
    r.Fail("journey.versions",
           std::to_string(n) + " versions in " + std::to_string(r.remaining()) + " bytes");
    return r.status();
  }
  rec.versions.resize(n);
  for (VersionRecord& v : rec.versions) {
    if (!ReadVersionRecord(&r, &v)) return r.status();
  }
  if (r.remaining() != 0) {
    r.Fail("journey", "trailing bytes");
    return r.status();
  }
  if (!CheckRecord(&r, rec)) return r.status();
  return rec;
}

void EncodeVersionText(std::string_view text, std::string* out) {
  out->push_back(static_cast<char>(kJourneyFormat));
  out->append(text);
}

Result<std::string> DecodeVersionText(std::string_view bytes) {
  Reader r(bytes);
  if (!r.Version("text.version")) return r.status();
  return std::string(r.rest());
}

}  // namespace waymark::live
