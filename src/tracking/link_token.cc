#include "tracking/link_token.h"

#include <string>

namespace waymark::tracking {
namespace {

constexpr uint8_t kFlagPromo = 0x01;
constexpr int64_t kMaxExpirySeconds = kTimeMax.time_since_epoch().count() / 1000;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

// A bounds-checked cursor over the payload bytes.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool Byte(uint8_t* v) {
    if (pos_ >= bytes_.size()) return false;
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }

  // Little-endian base-128; at most 10 bytes, no bits past 64, and minimal (no trailing zero
  // group), so every value has exactly one encoding.
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!Byte(&b)) return false;
      if (shift == 63 && b > 1) return false;
      result |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) return false;
        *v = result;
        return true;
      }
    }
    return false;
  }

  bool String(std::string* s) {
    uint64_t n;
    if (!Varint(&n) || n > bytes_.size() - pos_) return false;
    s->assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  bool AtEnd() const { return pos_ == bytes_.size(); }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

Status Truncated(const Reader& r, std::string_view field) {
  return Status::Parse("payload: truncated or invalid " + std::string(field) + " at byte " +
                       std::to_string(r.pos()));
}

}  // namespace

std::string_view LinkKindName(LinkKind kind) {
  switch (kind) {
    case LinkKind::kClick:
      return "click";
    case LinkKind::kOpen:
      return "open";
    case LinkKind::kLanding:
      return "landing";
    case LinkKind::kUnsubscribe:
      return "unsubscribe";
  }
  return "unknown";
}

Result<std::string> EncodePayload(const LinkToken& token) {
  int64_t ms = ToMillis(token.expiry);
  if (ms < 0 || ms > ToMillis(kTimeMax)) {
    return Status::Invalid("payload: expiry " + std::to_string(ms) + " ms is out of range");
  }
  std::string out;
  out.reserve(32 + token.message_id.size() + token.profile_id.size() + token.journey_id.size() +
              token.step_id.size() + token.channel.size() + token.destination.size() +
              (token.promo_code ? token.promo_code->size() : 0));
  out.push_back(static_cast<char>(kPayloadVersion));
  out.push_back(static_cast<char>(token.kind));
  out.push_back(static_cast<char>(token.promo_code ? kFlagPromo : 0));
  PutVarint(static_cast<uint64_t>(ms / 1000), &out);
  for (const std::string* s : {&token.message_id, &token.profile_id, &token.journey_id,
                               &token.step_id, &token.channel, &token.destination}) {
    PutString(*s, &out);
  }
  if (token.promo_code) PutString(*token.promo_code, &out);
  if (out.size() > kMaxPayloadBytes) {
    return Status::Invalid("payload: " + std::to_string(out.size()) +
                           " bytes exceeds the limit of " + std::to_string(kMaxPayloadBytes));
  }
  return out;
}

Result<LinkToken> DecodePayload(std::string_view bytes) {
  Reader r(bytes);
  uint8_t version, kind, flags;
  if (!r.Byte(&version)) return Truncated(r, "version");
  if (version != kPayloadVersion) {
    return Status::Parse("payload: unknown version " + std::to_string(version));
  }
  if (!r.Byte(&kind) || kind > uint8_t(LinkKind::kUnsubscribe)) return Truncated(r, "kind");
  if (!r.Byte(&flags) || (flags & ~kFlagPromo) != 0) return Truncated(r, "flags");

  LinkToken token;
  token.kind = static_cast<LinkKind>(kind);
  uint64_t seconds;
  if (!r.Varint(&seconds) || seconds > uint64_t(kMaxExpirySeconds)) return Truncated(r, "expiry");
  token.expiry = FromMillis(int64_t(seconds) * 1000);

  struct Field {
    std::string* dest;
    const char* name;
  };
  for (Field f : {Field{&token.message_id, "message id"}, Field{&token.profile_id, "profile id"},
                  Field{&token.journey_id, "journey id"}, Field{&token.step_id, "step id"},
                  Field{&token.channel, "channel"}, Field{&token.destination, "destination"}}) {
    if (!r.String(f.dest)) return Truncated(r, f.name);
  }
  if (flags & kFlagPromo) {
    token.promo_code.emplace();
    if (!r.String(&*token.promo_code)) return Truncated(r, "promo code");
  }
  if (!r.AtEnd())
    return Status::Parse("payload: trailing bytes at byte " + std::to_string(r.pos()));
  return token;
}

LinkToken LandingTokenFor(const LinkToken& click, Time expiry) {
  LinkToken landing = click;
  landing.kind = LinkKind::kLanding;
  landing.destination.clear();
  landing.expiry = expiry;
  return landing;
}

}  // namespace waymark::tracking
