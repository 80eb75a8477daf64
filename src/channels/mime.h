// Internet Message Format (RFC 5322) and MIME (RFC 2045-2047) text for one email.
//
// BuildMimeMessage turns an EmailMessage into the bytes handed to SMTP: CRLF line ends, header
// lines folded to at most 78 characters where the content allows it (never more than 998),
// non-ASCII header text as RFC 2047 encoded-words, bodies in UTF-8 as quoted-printable (or base64
// when most bytes are non-ASCII). Output depends only on the message and `date`, so the same send
// always renders the same bytes.
//
// Limitations: addresses must be ASCII (no SMTPUTF8 / internationalised domains), there are no
// attachments, and the message is not DKIM-signed (the relay is expected to sign).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace waymark {

// A display name (any UTF-8, may be empty) and an ASCII addr-spec ("ana@example.com").
struct Mailbox {
  std::string name;
  std::string address;
};

struct EmailMessage {
  Mailbox from;
  std::optional<Mailbox> reply_to;
  Mailbox to;
  std::string subject;  // UTF-8; may be empty
  std::string text;     // text/plain body, UTF-8; "\n", "\r\n" or "\r" end lines
  std::string html;     // text/html body, UTF-8; at least one of text and html is non-empty
  // "id@domain" without angle brackets; an id without '@' gets "@" + the From domain appended.
  // Usually Waymark's deterministic message id, so a re-send keeps the same Message-ID.
  std::string message_id;
  // One-click unsubscribe (RFC 8058). An https URL also adds List-Unsubscribe-Post.
  std::string list_unsubscribe_url;
  std::optional<std::string> list_unsubscribe_mailto;  // "mailto:..." or a bare address
  // More header fields in order ("X-Campaign", "cart"). Names are printable ASCII without ':';
  // values may be UTF-8 (they are encoded). Fields this builder writes itself are rejected.
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

// The full message text. Errors (kInvalidArgument) name the offending field: malformed UTF-8,
// CR or LF inside a header value, a bad address, both bodies empty, a reserved extra header.
Result<std::string> BuildMimeMessage(const EmailMessage& message, Time date);

// "Fri, 13 Mar 2026 09:05:00 +0000": RFC 5322 date-time in UTC.
std::string FormatRfc5322Date(Time t);

// The building blocks, exposed for tests and for other channels that need them.
namespace mime {

// Appends one header field "Name: value\r\n", folding at spaces and encoding `value` as RFC 2047
// encoded-words (UTF-8, "B") when it holds non-ASCII or control bytes, "=?" or a word too long
// to fold. Each encoded-word is at most 75 characters and ends on a UTF-8 character boundary.
// Requires: `value` is valid UTF-8 without CR or LF.
void AppendUnstructuredHeader(std::string_view name, std::string_view value, std::string* out);

// The encoded-words for `text`, first one at most `first_max` characters long, the others at most
// 75, each holding whole UTF-8 characters. Requires first_max >= 16.
std::vector<std::string> EncodeWords(std::string_view text, size_t first_max);

// Quoted-printable (RFC 2045 6.7) with CRLF hard line breaks: any line end in `data` ("\r\n",
// "\n" or a lone "\r") becomes CRLF; encoded lines are at most 76 characters.
std::string EncodeQuotedPrintable(std::string_view data);

// Base64 in lines of 76 characters separated by CRLF (none after the last). Line ends in `data` are
// normalised to CRLF first, as for quoted-printable.
std::string EncodeBase64Lines(std::string_view data);

// Plain base64 without line breaks.
std::string Base64(std::string_view data);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace mime
}  // namespace waymark
