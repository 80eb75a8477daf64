#include "tracking/keyring.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "tracking/base64url.h"

namespace waymark::tracking {
namespace {

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// An HMAC-SHA256 context already keyed with `secret`; MACs are computed on duplicates of it so
// the key schedule runs once per key, not once per token.
Result<MacCtx> KeyedHmac(const std::string& secret) {
  static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (kHmac == nullptr) return Status::Internal("keyring: OpenSSL has no HMAC");
  MacCtx ctx(EVP_MAC_CTX_new(kHmac));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                           secret.size(), params) != 1) {
    return Status::Internal("keyring: HMAC-SHA256 initialisation failed");
  }
  return ctx;
}

Status VerifyError(TokenError error, std::string detail) {
  std::string msg(TokenErrorName(error));
  msg += ": ";
  msg += detail;
  return error == TokenError::kMalformed ? Status::Parse(std::move(msg))
                                         : Status::Invalid(std::move(msg));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<uint8_t> ParseKeyId(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > 255) return std::nullopt;
  return static_cast<uint8_t>(v);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> ParseHex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = HexDigit(s[i]), lo = HexDigit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

bool IsHttpUrl(std::string_view url) {
  auto starts = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      char c = url[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  return starts("http://") || starts("https://");
}

}  // namespace

struct Keyring::State {
  std::array<MacCtx, 256> keys;  // indexed by key id; null when absent
  uint8_t current = 0;

  // The full 32-byte HMAC of `data` under key `id`, which must be present.
  bool Mac(uint8_t id, std::string_view data, unsigned char out[32]) const {
    MacCtx ctx(EVP_MAC_CTX_dup(keys[id].get()));
    size_t len = 0;
    return ctx &&
           EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1 &&
           EVP_MAC_final(ctx.get(), out, &len, 32) == 1 && len == 32;
  }
};

std::string_view TokenErrorName(TokenError error) {
  switch (error) {
    case TokenError::kMalformed:
      return "malformed";
    case TokenError::kUnknownKey:
      return "unknown_key";
    case TokenError::kBadSignature:
      return "bad_signature";
    case TokenError::kExpired:
      return "expired";
  }
  return "unknown";
}

std::optional<TokenError> TokenErrorOf(const Status& status) {
  if (status.ok()) return std::nullopt;
  std::string_view msg = status.message();
  for (TokenError e : {TokenError::kMalformed, TokenError::kUnknownKey, TokenError::kBadSignature,
                       TokenError::kExpired}) {
    std::string_view name = TokenErrorName(e);
    if (msg.size() > name.size() && msg.substr(0, name.size()) == name && msg[name.size()] == ':') {
      return e;
    }
  }
  return std::nullopt;
}

Result<Keyring> Keyring::FromSpec(std::string_view spec) {
  auto state = std::make_shared<State>();
  std::string_view keys = spec, current_text;
  bool has_current = false;
  if (size_t semi = spec.find(';'); semi != std::string_view::npos) {
    keys = spec.substr(0, semi);
    std::string_view rest = Trim(spec.substr(semi + 1));
    constexpr std::string_view kCurrent = "current=";
    if (rest.substr(0, kCurrent.size()) != kCurrent) {
      return Status::Invalid("keyring spec: expected 'current=ID' after ';'");
    }
    current_text = Trim(rest.substr(kCurrent.size()));
    has_current = true;
  }

  // Keys: comma-separated ID:HEX.
  int count = 0;
  uint8_t last_id = 0;
  while (true) {
    size_t comma = keys.find(',');
    std::string_view item = Trim(keys.substr(0, comma));
    std::string where = "keyring spec: key " + std::to_string(count + 1);
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) return Status::Invalid(where + ": expected ID:HEX");
    std::optional<uint8_t> id = ParseKeyId(Trim(item.substr(0, colon)));
    if (!id) return Status::Invalid(where + ": key id must be a number 0..255");
    where = "keyring spec: key id " + std::to_string(*id);
    if (state->keys[*id]) return Status::Invalid(where + ": listed twice");
    std::optional<std::string> secret = ParseHex(Trim(item.substr(colon + 1)));
    if (!secret) return Status::Invalid(where + ": secret is not an even number of hex digits");
    if (secret->size() < kMinSecretBytes) {
      return Status::Invalid(where + ": secret must be at least " +
                             std::to_string(kMinSecretBytes) + " bytes");
    }
    Result<MacCtx> ctx = KeyedHmac(*secret);
    OPENSSL_cleanse(secret->data(), secret->size());
    if (!ctx.ok()) return ctx.status();
    state->keys[*id] = std::move(ctx).value();
    last_id = *id;
    ++count;
    if (comma == std::string_view::npos) break;
    keys.remove_prefix(comma + 1);
  }

  // The signing key.
  if (!has_current) {
    if (count > 1) return Status::Invalid("keyring spec: several keys need ';current=ID'");
    state->current = last_id;
  } else {
    std::optional<uint8_t> id = ParseKeyId(current_text);
    if (!id || !state->keys[*id]) {
      return Status::Invalid("keyring spec: current= must name one of the listed key ids");
    }
    state->current = *id;
  }
  return Keyring(std::move(state));
}

uint8_t Keyring::current_key_id() const { return state_->current; }

std::vector<uint8_t> Keyring::key_ids() const {
  std::vector<uint8_t> ids;
  for (size_t i = 0; i < state_->keys.size(); ++i) {
    if (state_->keys[i]) ids.push_back(static_cast<uint8_t>(i));
  }
  return ids;
}

Result<std::string> Keyring::Sign(const LinkToken& token) const {
  if (token.kind == LinkKind::kClick && !IsHttpUrl(token.destination)) {
    return Status::Invalid("sign: a click token needs an absolute http(s) destination");
  }
  std::string bytes(1, static_cast<char>(state_->current));
  Result<std::string> payload = EncodePayload(token);
  if (!payload.ok()) return payload.status();
  bytes += *payload;

  unsigned char tag[32];
  if (!state_->Mac(state_->current, bytes, tag)) return Status::Internal("sign: HMAC failed");
  bytes.append(reinterpret_cast<const char*>(tag), kTagBytes);
  std::string text;
  AppendBase64Url(bytes, &text);
  return text;
}

Result<LinkToken> Keyring::Verify(std::string_view token, Time now) const {
  if (token.size() > kMaxTokenChars) {
    return VerifyError(TokenError::kMalformed,
                       std::to_string(token.size()) + " characters is longer than any token");
  }
  std::optional<std::string> bytes = DecodeBase64Url(token);
  if (!bytes) return VerifyError(TokenError::kMalformed, "not unpadded base64url");
  if (bytes->size() < 1 + 1 + kTagBytes) {
    return VerifyError(TokenError::kMalformed,
                       std::to_string(bytes->size()) + " bytes is too short");
  }

  // Authenticate before parsing: nothing of the payload is looked at until the tag matches.
  uint8_t id = static_cast<uint8_t>((*bytes)[0]);
  if (!state_->keys[id]) {
    return VerifyError(TokenError::kUnknownKey, "key id " + std::to_string(id) + " is not held");
  }
  std::string_view signed_part = std::string_view(*bytes).substr(0, bytes->size() - kTagBytes);
  unsigned char tag[32];
  if (!state_->Mac(id, signed_part, tag)) return Status::Internal("verify: HMAC failed");
  if (CRYPTO_memcmp(tag, bytes->data() + signed_part.size(), kTagBytes) != 0) {
    return VerifyError(TokenError::kBadSignature,
                       "tag does not match under key id " + std::to_string(id));
  }

  Result<LinkToken> decoded = DecodePayload(signed_part.substr(1));
  if (!decoded.ok()) return VerifyError(TokenError::kMalformed, decoded.status().message());
  if (now >= decoded->expiry) {
    return VerifyError(TokenError::kExpired, "expired at " + FormatIsoTime(decoded->expiry));
  }
  return decoded;
}

}  // namespace waymark::tracking
