// RewriteLinks: turns the links of a rendered message into signed tracking links and adds the
// open pixel.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "tracking/keyring.h"
#include "tracking/link_token.h"

namespace waymark::tracking {

// What every token of one message carries besides its destination.
struct LinkContext {
  std::string base_url = "https://t.example.com";  // the tracking host; a trailing '/' is ignored
  std::string message_id;
  std::string profile_id;
  std::string journey_id;
  std::string step_id;
  std::string channel;
  std::optional<std::string> promo_code;  // put into click tokens, not the open token
  bool open_pixel = true;                 // HTML only
  // Links that start with one of these are left as they are (the server's own unsubscribe
  // links, which must not count as clicks).
  std::vector<std::string> untracked_prefixes;
};

struct RewrittenLink {
  LinkKind kind = LinkKind::kClick;  // kOpen for the pixel
  std::string destination;           // the link as the reader would follow it (entities decoded)
  std::string token;
  std::string tracked_url;  // base_url + "/c/" + token, or "/o/" for the pixel
};

// Rewrites `body` into `*out` (replacing its contents); appends one entry per token made to
// `*links` when it is not null, in document order, the pixel last.
//
// HTML: the href of each <a> and <area> tag whose value, after decoding character references
// (&amp;, &#38;, &#x26;, &quot;, &lt;, &gt;, &apos;) and trimming spaces, is an absolute http or
// https URL. Left alone: other schemes (mailto:, tel:, javascript:), relative links and #anchors,
// tags with a data-waymark-notrack attribute, links starting with one of
// context.untracked_prefixes, and everything inside comments (including Outlook
// conditional comments), <script> and <style>. The rest of the document is copied byte for byte.
// With context.open_pixel, a 1x1 <img> for an open token goes before the last </body>, or at the
// end when there is none.
//
// Text (is_html false): every bare http(s) URL not starting with an untracked prefix, ending at
// whitespace, a control character or one of <>" and without trailing sentence punctuation
// (.,;:!?'"*) or an unbalanced ')' or ']'.
//
// All tokens expire at `expiry`. Fails when signing fails (see Keyring::Sign); `*out` is then
// unspecified.
Status RewriteLinks(std::string_view body, bool is_html, const LinkContext& context,
                    const Keyring& keyring, Time expiry, std::string* out,
                    std::vector<RewrittenLink>* links);

}  // namespace waymark::tracking
