// LinkToken: what a tracked link (/c/{token}), open pixel (/o/{token}) or landing parameter
// carries, and its compact binary payload. Signing and verification live in tracking/keyring.h; the
// byte layout is documented in docs/tracking.md and is a stored format: change it only under a new
// version byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace waymark::tracking {

// What the token stands for. The numeric values are part of the payload format.
enum class LinkKind : uint8_t {
  kClick = 0,    // a rewritten link; the server redirects to `destination`
  kOpen = 1,     // the open pixel; `destination` is empty
  kLanding = 2,  // handed to the destination site so it can report the visit and later
                 // conversions for the same message; never redirects
  kUnsubscribe = 3,  // the List-Unsubscribe link of an email: its channel's consent ends
};

std::string_view LinkKindName(LinkKind kind);  // "click", "open", "landing", "unsubscribe"

struct LinkToken {
  LinkKind kind = LinkKind::kClick;
  std::string message_id;
  std::string profile_id;
  std::string journey_id;
  std::string step_id;
  std::string channel;      // "email", "sms", ...; becomes utm_medium on redirect
  std::string destination;  // absolute http(s) URL for kClick; empty otherwise
  std::optional<std::string> promo_code;
  // The token is valid while now < expiry. Stored in whole seconds since the Unix epoch, rounded
  // down, so a decoded token may expire up to 999 ms earlier than the one that was signed.
  Time expiry;

  friend bool operator==(const LinkToken&, const LinkToken&) = default;
};

inline constexpr uint8_t kPayloadVersion = 1;
// Upper bound on an encoded payload. Keeps token URLs (about 4/3 of this plus the host) within
// what mail clients and browsers handle, and bounds the work Verify does on hostile input.
inline constexpr size_t kMaxPayloadBytes = 3000;

// Encodes the payload: version byte, kind, flags, expiry (varint seconds), then the strings, each
// as a varint length and bytes. Fails with kInvalidArgument when the expiry lies before 1970 or
// past kTimeMax, or when the payload would exceed kMaxPayloadBytes. Strings are opaque bytes.
Result<std::string> EncodePayload(const LinkToken& token);

// Decodes what EncodePayload produced. Strict: unknown version, kind or flag bits, truncated or
// overlong fields and trailing bytes are kParseError. Never reads outside `bytes`.
Result<LinkToken> DecodePayload(std::string_view bytes);

// The landing token for a click: the same ids, channel and promo code, no destination (the site
// already has it), its own expiry (typically the journey's goal window).
LinkToken LandingTokenFor(const LinkToken& click, Time expiry);

}  // namespace waymark::tracking
