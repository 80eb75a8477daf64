#include "channels/mime.h"

#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "core/hash.h"

namespace waymark {
namespace mime {
namespace {

constexpr size_t kMaxLine = 78;       // RFC 5322 2.1.1 "SHOULD"
constexpr size_t kMaxWord = 75;       // RFC 2047 2: one encoded-word
constexpr size_t kWordOverhead = 12;  // "=?UTF-8?B?" + "?="
constexpr size_t kQpLine = 76;        // RFC 2045 6.7 (5), including a soft break's '='
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  return 4;
}

// Appends `tokens` to a header line that starts with "Name:", one space before each token, and
// starts a continuation line (CRLF + the space) instead when the token would pass column 78.
// Empty tokens never start a line, so no line is whitespace only.
void AppendFolded(std::string_view name, const std::vector<std::string>& tokens, std::string* out) {
  out->append(name).push_back(':');
  size_t line = name.size() + 1;
  bool line_has_token = false;
  for (const std::string& token : tokens) {
    if (line_has_token && !token.empty() && line + 1 + token.size() > kMaxLine) {
      out->append("\r\n");
      line = 0;
    }
    out->push_back(' ');
    out->append(token);
    line += 1 + token.size();
    line_has_token = true;
  }
  out->append("\r\n");
}

bool NeedsEncoding(std::string_view value, size_t longest_token_allowed) {
  if (value.find("=?") != std::string_view::npos) return true;
  size_t token = 0;
  for (unsigned char c : value) {
    if (c >= 0x7F || (c < 0x20 && c != '\t')) return true;
    token = (c == ' ') ? 0 : token + 1;
    if (token > longest_token_allowed) return true;
  }
  return false;
}

std::vector<std::string> SplitSpaces(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t sp = s.find(' ', start);
    parts.emplace_back(s.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) return parts;
    start = sp + 1;
  }
}

// Calls `line(piece)` for each line of `data` and `brk()` between lines; any of "\r\n", "\n" and
// a lone "\r" ends a line.
template <typename Line, typename Break>
void ForEachLine(std::string_view data, Line line, Break brk) {
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '\r' && data[i] != '\n') continue;
    line(data.substr(start, i - start));
    brk();
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
    start = i + 1;
  }
  line(data.substr(start));
}

std::string NormalizeLineEnds(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 32);
  ForEachLine(
      data, [&](std::string_view l) { out.append(l); }, [&] { out.append("\r\n"); });
  return out;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string Base64(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(data[i])) << 16) | (uint32_t(uint8_t(data[i + 1])) << 8) |
                 uint8_t(data[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (size_t rest = data.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(data[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(data[i + 1])) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string EncodeBase64Lines(std::string_view data) {
  std::string encoded = Base64(NormalizeLineEnds(data));
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 38 + 2);
  for (size_t i = 0; i < encoded.size(); i += kQpLine) {
    if (i > 0) out.append("\r\n");
    out.append(encoded, i, kQpLine);
  }
  return out;
}

std::string EncodeQuotedPrintable(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 8 + 16);
  size_t line = 0;
  auto emit = [&](const char* piece, size_t n) {
    // Keep room for the soft break's '=' so no encoded line passes 76 characters.
    if (line + n > kQpLine - 1) {
      out.append("=\r\n");
      line = 0;
    }
    out.append(piece, n);
    line += n;
  };
  auto encode_line = [&](std::string_view l) {
    for (size_t i = 0; i < l.size(); ++i) {
      auto c = static_cast<unsigned char>(l[i]);
      bool last = i + 1 == l.size();
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      if (literal) {
        char ch = static_cast<char>(c);
        emit(&ch, 1);
      } else {
        char esc[3] = {'=', kHex[c >> 4], kHex[c & 15]};
        emit(esc, 3);
      }
    }
  };
  ForEachLine(data, encode_line, [&] {
    out.append("\r\n");
    line = 0;
  });
  return out;
}

std::vector<std::string> EncodeWords(std::string_view text, size_t first_max) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    size_t max_len = words.empty() ? std::min(first_max, kMaxWord) : kMaxWord;
    size_t max_bytes = (max_len - kWordOverhead) / 4 * 3;
    // A first word too short for even one character moves to the next line at full size.
    if (Utf8Length(static_cast<unsigned char>(text[i])) > max_bytes) {
      max_bytes = (kMaxWord - kWordOverhead) / 4 * 3;
    }
    size_t end = i;
    while (end < text.size()) {
      size_t n = Utf8Length(static_cast<unsigned char>(text[end]));
      if (end + n - i > max_bytes) break;
      end += n;
    }
    words.push_back("=?UTF-8?B?" + Base64(text.substr(i, end - i)) + "?=");
    i = end;
  }
  return words;
}

void AppendUnstructuredHeader(std::string_view name, std::string_view value, std::string* out) {
  size_t first_max = kMaxLine - name.size() - 2;
  if (!NeedsEncoding(value, 998 - name.size() - 2)) {
    AppendFolded(name, SplitSpaces(value), out);
  } else {
    AppendFolded(name, EncodeWords(value, first_max < 16 ? 16 : first_max), out);
  }
}

}  // namespace mime

namespace {

using mime::IsValidUtf8;

bool IsAtext(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(char(c)) != std::string_view::npos;
}

// An ASCII token without whitespace, controls, or the characters that delimit it in a header.
bool IsPlainToken(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '"' || c == '\\') return false;
  }
  return !s.empty();
}

Status CheckHeaderText(std::string_view field, std::string_view value) {
  if (!IsValidUtf8(value)) return Status::Invalid(std::string(field) + ": not valid UTF-8");
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    return Status::Invalid(std::string(field) + ": contains a line break");
  }
  return Status::Ok();
}

Status CheckAddress(std::string_view field, std::string_view address) {
  size_t at = address.rfind('@');
  bool ok = IsPlainToken(address) && address.size() <= 254 && at != std::string_view::npos &&
            at > 0 && at + 1 < address.size() &&
            address.find_first_of("()[],;:") == std::string_view::npos;
  if (!ok)
    return Status::Invalid(std::string(field) + ": bad address '" + std::string(address) + "'");
  return Status::Ok();
}

// Tokens for "Name <addr>": the name as atoms, a quoted-string or encoded-words.
Result<std::vector<std::string>> MailboxTokens(std::string_view field, const Mailbox& box,
                                               size_t first_max) {
  WAYMARK_RETURN_IF_ERROR(CheckAddress(field, box.address));
  WAYMARK_RETURN_IF_ERROR(CheckHeaderText(field, box.name));
  if (box.name.empty()) return std::vector<std::string>{box.address};

  std::vector<std::string> tokens;
  bool ascii = true, atoms = true;
  for (unsigned char c : box.name) {
    if (c >= 0x7F || (c < 0x20 && c != '\t')) ascii = false;
    if (!IsAtext(c) && c != ' ') atoms = false;
  }
  if (!ascii || box.name.find("=?") != std::string::npos) {
    tokens = mime::EncodeWords(box.name, first_max);
  } else if (atoms && box.name.front() != ' ' && box.name.back() != ' ' &&
             box.name.find("  ") == std::string::npos) {
    tokens = mime::SplitSpaces(box.name);
  } else {
    std::string quoted = "\"";
    for (char c : box.name) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    tokens.push_back(quoted + "\"");
  }
  tokens.push_back("<" + box.address + ">");
  return tokens;
}

Status AppendMailboxHeader(std::string_view name, const Mailbox& box, std::string* out) {
  Result<std::vector<std::string>> tokens = MailboxTokens(name, box, 78 - name.size() - 2);
  if (!tokens.ok()) return tokens.status();
  mime::AppendFolded(name, *tokens, out);
  return Status::Ok();
}

Status AppendListUnsubscribe(const EmailMessage& m, std::string* out) {
  std::vector<std::string> tokens;
  bool https = false;
  if (!m.list_unsubscribe_url.empty()) {
    const std::string& url = m.list_unsubscribe_url;
    https = url.starts_with("https://");
    if (!IsPlainToken(url) || !(https || url.starts_with("http://"))) {
      return Status::Invalid("list_unsubscribe_url: not an http(s) URL without spaces: '" + url +
                             "'");
    }
    tokens.push_back("<" + url + ">");
  }
  if (m.list_unsubscribe_mailto) {
    std::string mailto = *m.list_unsubscribe_mailto;
    if (!mailto.starts_with("mailto:")) mailto = "mailto:" + mailto;
    if (!IsPlainToken(mailto) || mailto.find('@') == std::string::npos) {
      return Status::Invalid("list_unsubscribe_mailto: bad mailto URI '" + mailto + "'");
    }
    tokens.push_back("<" + mailto + ">");
  }
  if (tokens.empty()) return Status::Ok();
  for (size_t i = 0; i + 1 < tokens.size(); ++i) tokens[i] += ",";
  mime::AppendFolded("List-Unsubscribe", tokens, out);
  if (https) out->append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  return Status::Ok();
}

bool IsReservedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kReserved = {"from",
                                                                 "to",
                                                                 "cc",
                                                                 "bcc",
                                                                 "reply-to",
                                                                 "subject",
                                                                 "date",
                                                                 "message-id",
                                                                 "mime-version",
                                                                 "content-type",
                                                                 "content-transfer-encoding",
                                                                 "list-unsubscribe",
                                                                 "list-unsubscribe-post",
                                                                 "sender"};
  std::string lower;
  for (char c : name) lower.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  for (std::string_view r : kReserved) {
    if (lower == r) return true;
  }
  return false;
}

Status AppendExtraHeaders(const EmailMessage& m, std::string* out) {
  for (const auto& [name, value] : m.extra_headers) {
    bool name_ok = !name.empty() && name.size() <= 76;
    for (unsigned char c : name) name_ok = name_ok && c > 0x20 && c < 0x7F && c != ':';
    if (!name_ok) return Status::Invalid("extra header: bad field name '" + name + "'");
    if (IsReservedHeader(name)) {
      return Status::Invalid("extra header: '" + name + "' is written by the builder itself");
    }
    WAYMARK_RETURN_IF_ERROR(CheckHeaderText("extra header " + name, value));
    mime::AppendUnstructuredHeader(name, value, out);
  }
  return Status::Ok();
}

Result<std::string> MessageIdHeader(const EmailMessage& m) {
  std::string id = m.message_id;
  if (!IsPlainToken(id) || id.find_first_of("()[],;:") != std::string::npos) {
    return Status::Invalid("message_id: bad id '" + id + "'");
  }
  if (id.find('@') == std::string::npos) id += m.from.address.substr(m.from.address.rfind('@'));
  return "Message-ID: <" + id + ">\r\n";
}

// Quoted-printable for mostly-ASCII text, base64 once more than a third of the bytes would need
// escaping (base64 is then shorter).
// A single-part message gets a final line end that is not content: a soft break for
// quoted-printable, ignored whitespace for base64 (SMTP needs the message to end in CRLF).
void AppendBodyPart(std::string_view content_type, std::string_view body, bool last,
                    std::string* out) {
  size_t high = 0;
  for (unsigned char c : body) high += c >= 0x80;
  bool b64 = high * 3 > body.size();
  out->append("Content-Type: ").append(content_type).append("; charset=utf-8\r\n");
  out->append("Content-Transfer-Encoding: ").append(b64 ? "base64" : "quoted-printable");
  out->append("\r\n\r\n");
  out->append(b64 ? mime::EncodeBase64Lines(body) : mime::EncodeQuotedPrintable(body));
  if (last && !out->ends_with("\r\n")) out->append(b64 ? "\r\n" : "=\r\n");
}

Status AppendHeaders(const EmailMessage& m, Time date, std::string* out) {
  out->append("Date: ").append(FormatRfc5322Date(date)).append("\r\n");
  WAYMARK_RETURN_IF_ERROR(AppendMailboxHeader("From", m.from, out));
  if (m.reply_to) WAYMARK_RETURN_IF_ERROR(AppendMailboxHeader("Reply-To", *m.reply_to, out));
  WAYMARK_RETURN_IF_ERROR(AppendMailboxHeader("To", m.to, out));
  WAYMARK_RETURN_IF_ERROR(CheckHeaderText("subject", m.subject));
  mime::AppendUnstructuredHeader("Subject", m.subject, out);
  Result<std::string> id = MessageIdHeader(m);
  if (!id.ok()) return id.status();
  out->append(*id);
  WAYMARK_RETURN_IF_ERROR(AppendListUnsubscribe(m, out));
  WAYMARK_RETURN_IF_ERROR(AppendExtraHeaders(m, out));
  out->append("MIME-Version: 1.0\r\n");
  return Status::Ok();
}

}  // namespace

std::string FormatRfc5322Date(Time t) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = floor<days>(t);
  year_month_day ymd(day);
  hh_mm_ss hms(floor<seconds>(t - day));
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s, %02u %s %04d %02ld:%02ld:%02ld +0000",
                kDays[weekday(day).c_encoding()], unsigned(ymd.day()),
                kMonths[unsigned(ymd.month()) - 1], int(ymd.year()), long(hms.hours().count()),
                long(hms.minutes().count()), long(hms.seconds().count()));
  return buf;
}

Result<std::string> BuildMimeMessage(const EmailMessage& m, Time date) {
  if (m.text.empty() && m.html.empty()) return Status::Invalid("email: text and html are empty");
  if (!IsValidUtf8(m.text)) return Status::Invalid("text: not valid UTF-8");
  if (!IsValidUtf8(m.html)) return Status::Invalid("html: not valid UTF-8");

  std::string out;
  out.reserve(1024 + (m.text.size() + m.html.size()) * 5 / 4);
  WAYMARK_RETURN_IF_ERROR(AppendHeaders(m, date, &out));
  if (m.html.empty() || m.text.empty()) {
    AppendBodyPart(m.html.empty() ? "text/plain" : "text/html", m.html.empty() ? m.text : m.html,
                   /*last=*/true, &out);
    return out;
  }

  // "=_" never occurs in quoted-printable or base64 text, so the boundary cannot collide with the
  // encoded parts; hashing the content keeps it deterministic.
  std::string boundary = "=_wm_" + HexId(HashCombine(HashCombine(Hash64(m.text), Hash64(m.html)),
                                                     Hash64(m.message_id)));
  out.append("Content-Type: multipart/alternative; boundary=\"").append(boundary).append("\"\r\n");
  out.append("\r\n--").append(boundary).append("\r\n");
  AppendBodyPart("text/plain", m.text, /*last=*/false, &out);
  out.append("\r\n--").append(boundary).append("\r\n");
  AppendBodyPart("text/html", m.html, /*last=*/false, &out);
  out.append("\r\n--").append(boundary).append("--\r\n");
  return out;
}

}  // namespace waymark
