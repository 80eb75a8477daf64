// base64url (RFC 4648 section 5) without padding, as used in tracking tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace waymark::tracking {

// Appends the unpadded base64url form of `bytes` to `out`.
void AppendBase64Url(std::string_view bytes, std::string* out);

// Decodes unpadded base64url. Returns nullopt for any character outside [A-Za-z0-9_-] (padding
// included), a length of 4k+1, or non-zero unused bits in the last character. The last rule makes
// the encoding canonical: each byte string has exactly one accepted text form, so a token's text
// can serve as a key (deduplicating clicks) without aliasing.
std::optional<std::string> DecodeBase64Url(std::string_view text);

}  // namespace waymark::tracking
