// BuildRedirect: where a verified click goes, with campaign parameters and the promo code added
// to the destination's query.
#pragma once

#include <string>

#include "core/status.h"
#include "tracking/link_token.h"

namespace waymark::tracking {

// Query parameter names; an empty name leaves that parameter out, and so does an empty value
// (a token without channel or promo code adds no utm_medium or promo).
struct RedirectOptions {
  std::string source_param = "utm_source";
  std::string source = "waymark";               // the utm_source value
  std::string medium_param = "utm_medium";      // value: the token's channel
  std::string campaign_param = "utm_campaign";  // value: the token's journey id
  std::string content_param = "utm_content";    // value: the token's step id
  std::string promo_param = "promo";            // value: the token's promo code
  std::string landing_param = "wm_t";           // value: `landing_token`
  std::string landing_token;                    // a signed kLanding token, or empty for none
  // When the destination already has a parameter of the same (decoded, case-sensitive) name,
  // the destination's value wins and ours is not added; with replace_existing ours replaces it
  // (and any repeats of that name are removed). Either way a name appears at most once more.
  bool replace_existing = false;
};

// The URL to send a verified kClick token to: its destination with the parameters of `options`
// appended to the query in the order source, medium, campaign, content, promo, landing. Existing
// parameters keep their order and encoding; the fragment is kept. Added names and values are
// percent-encoded as UTF-8 with everything but RFC 3986 unreserved characters escaped (so '+',
// '&', '=' and spaces survive any decoder). Raw non-ASCII bytes, spaces and other characters
// that may not appear in a URI are percent-encoded before parsing, as browsers do.
//
// Fails (kInvalidArgument) for a token that is not kClick, or a destination that is not an
// absolute http(s) URL with a host; the server then uses its safe page. The result never holds
// CR, LF or other control characters, so it is safe for a Location header.
Result<std::string> BuildRedirect(const LinkToken& token, const RedirectOptions& options);

}  // namespace waymark::tracking
