// Keyring: signs LinkTokens and verifies token text from the wire, with rotating keys.
//
// Token text is base64url (no padding) of  key_id (1 byte) || payload || tag (16 bytes), where
// payload is EncodePayload(token) and tag is HMAC-SHA256(secret[key_id], key_id || payload)
// truncated to its first 16 bytes. 128 bits leave forgery at 2^-128 per online guess (an attacker
// cannot test guesses offline, only by hitting the server) while keeping every link 21 characters
// shorter than the full tag would.
//
// Safety contract: Verify returns a LinkToken, and so a destination, only for text that carries a
// valid tag under a key of this keyring and has not expired. On any error the caller must not use
// anything from the token text; the server redirects such requests to its configured safe page,
// never to a URL taken from the request (no open redirect).
//
// A Keyring is immutable; copies share their keys. Sign and Verify may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "tracking/link_token.h"

namespace waymark::tracking {

// Why Verify rejected a token; the server counts each separately.
enum class TokenError : uint8_t {
  kMalformed,     // not base64url, too short or long, or a signed payload that does not decode
  kUnknownKey,    // names a key id this keyring does not hold (removed, or never existed)
  kBadSignature,  // the tag does not match: tampered, truncated, or signed with another secret
  kExpired,       // genuine, but now >= expiry
};

// "malformed", "unknown_key", "bad_signature", "expired": usable as a metric label.
std::string_view TokenErrorName(TokenError error);

// The TokenError of a status returned by Keyring::Verify, whose messages read
// "<TokenErrorName>: <detail>". nullopt for OK and for any other status (an internal failure).
std::optional<TokenError> TokenErrorOf(const Status& status);

inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kMinSecretBytes = 32;
// Longest token text Verify looks at: base64url of a key id, a maximal payload and a tag.
inline constexpr size_t kMaxTokenChars = ((1 + kMaxPayloadBytes + kTagBytes) * 4 + 2) / 3;

class Keyring {
 public:
  // Parses "ID:HEX[,ID:HEX...][;current=ID]". ID is a decimal key id 0..255, HEX the secret in
  // hex (at least kMinSecretBytes bytes, i.e. 64 hex digits, case-insensitive); spaces around
  // items are ignored. `current` names the signing key and may only be omitted when there is a
  // single key. Example: "1:00ff...,2:a1b2...;current=2". Errors are kInvalidArgument and never
  // quote a secret.
  static Result<Keyring> FromSpec(std::string_view spec);

  uint8_t current_key_id() const;
  // The ids held, ascending.
  std::vector<uint8_t> key_ids() const;

  // The token text for `token` under the current key. Fails (kInvalidArgument) when the payload
  // does not encode (see EncodePayload) or a click token's destination is not an absolute
  // http(s) URL, and (kInternal) if OpenSSL fails.
  Result<std::string> Sign(const LinkToken& token) const;

  // Checks `token` (text as taken from the URL path) and returns what it carries. Failures are
  // values whose TokenErrorOf names the reason, for any input bytes; the checks run in the order
  // size and alphabet, key id, tag (constant-time comparison), payload, expiry.
  Result<LinkToken> Verify(std::string_view token, Time now) const;

 private:
  struct State;
  explicit Keyring(std::shared_ptr<const State> state) : state_(std::move(state)) {}

  std::shared_ptr<const State> state_;
};

}  // namespace waymark::tracking
