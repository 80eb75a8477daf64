#include "tracking/rewrite.h"

#include <algorithm>
#include <cstdint>

namespace waymark::tracking {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsAlpha(c) || (c >= '0' && c <= '9'); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && StartsWithIgnoreCase(a, b);
}

// `lower_needle` must be lower case.
size_t FindIgnoreCase(std::string_view s, std::string_view lower_needle, size_t from) {
  for (size_t i = from; i + lower_needle.size() <= s.size(); ++i) {
    if (StartsWithIgnoreCase(s.substr(i), lower_needle)) return i;
  }
  return std::string_view::npos;
}

// Length of the "http://" or "https://" that `s` starts with, or 0.
size_t HttpPrefix(std::string_view s) {
  if (StartsWithIgnoreCase(s, "http://")) return 7;
  if (StartsWithIgnoreCase(s, "https://")) return 8;
  return 0;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | cp >> 6));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | cp >> 12));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | cp >> 18));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The code point of a numeric reference body ("#38", "#x26"), or nullopt.
std::optional<uint32_t> NumericReference(std::string_view ref) {
  bool hex = ref.size() > 1 && (ref[1] == 'x' || ref[1] == 'X');
  std::string_view digits = ref.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t cp = 0;
  for (char c : digits) {
    int d = (c >= '0' && c <= '9')                        ? c - '0'
            : (hex && Lower(c) >= 'a' && Lower(c) <= 'f') ? Lower(c) - 'a' + 10
                                                          : -1;
    if (d < 0) return std::nullopt;
    cp = cp * (hex ? 16 : 10) + uint32_t(d);
  }
  return cp;
}

// Decodes the character references an attribute value may use for URL characters. Unknown or
// unterminated references stay as written, as browsers leave them.
std::string DecodeReferences(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    size_t semi = s[i] == '&' ? s.find(';', i + 1) : std::string_view::npos;
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view ref = s.substr(i + 1, semi - i - 1);
    bool done = false;
    if (!ref.empty() && ref[0] == '#') {
      if (std::optional<uint32_t> cp = NumericReference(ref)) {
        AppendUtf8(*cp, &out);
        done = true;
      }
    } else {
      for (const auto& [name, c] : kNamed) {
        if (EqualsIgnoreCase(ref, name)) {
          out.push_back(c);
          done = true;
          break;
        }
      }
    }
    if (done) {
      i = semi;
    } else {
      out.push_back('&');
    }
  }
  return out;
}

void AppendAttributeEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      default:
        out->push_back(c);
    }
  }
}

struct Attribute {
  std::string_view name;
  size_t value_begin = 0;  // offsets into the document; equal when there is no value
  size_t value_end = 0;
  char quote = 0;  // '"', '\'' or 0 for an unquoted or missing value
  bool has_value = false;
};

struct Tag {
  std::string_view name;
  bool closing = false;
  size_t end = 0;  // one past the closing '>'
  std::vector<Attribute> attributes;
};

// Reads the attributes of the tag whose name ends at `i`. False when no '>' closes the tag.
bool ParseAttributes(std::string_view html, size_t i, Tag* tag) {
  const size_t n = html.size();
  while (i < n) {
    while (i < n && (IsSpace(html[i]) || html[i] == '/')) ++i;
    if (i >= n) return false;
    if (html[i] == '>') {
      tag->end = i + 1;
      return true;
    }
    // An attribute name; a leading '=' belongs to the name, as in the HTML tokenizer.
    size_t name_begin = i++;
    while (i < n && !IsSpace(html[i]) && html[i] != '=' && html[i] != '>' && html[i] != '/') ++i;
    Attribute attr;
    attr.name = html.substr(name_begin, i - name_begin);
    size_t j = i;
    while (j < n && IsSpace(html[j])) ++j;
    if (j < n && html[j] == '=') {
      ++j;
      while (j < n && IsSpace(html[j])) ++j;
      if (j >= n) return false;
      attr.has_value = true;
      if (html[j] == '"' || html[j] == '\'') {
        size_t close = html.find(html[j], j + 1);
        if (close == std::string_view::npos) return false;
        attr.quote = html[j];
        attr.value_begin = j + 1;
        attr.value_end = close;
        i = close + 1;
      } else {
        attr.value_begin = j;
        while (j < n && !IsSpace(html[j]) && html[j] != '>') ++j;
        attr.value_end = j;
        i = j;
      }
    }
    tag->attributes.push_back(attr);
  }
  return false;
}

// Parses the tag at html[lt] == '<', which the caller saw followed by a letter or "/letter".
bool ParseTag(std::string_view html, size_t lt, Tag* tag) {
  size_t i = lt + 1;
  tag->closing = html[i] == '/';
  if (tag->closing) ++i;
  size_t name_begin = i;
  while (i < html.size() && (IsAlnum(html[i]) || html[i] == '-' || html[i] == ':')) ++i;
  tag->name = html.substr(name_begin, i - name_begin);
  tag->attributes.clear();
  return ParseAttributes(html, i, tag);
}

class Rewriter {
 public:
  Rewriter(const LinkContext& context, const Keyring& keyring, Time expiry, std::string* out,
           std::vector<RewrittenLink>* links)
      : context_(context), keyring_(keyring), expiry_(expiry), out_(out), links_(links) {
    base_ = context.base_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  Status Html(std::string_view html);
  Status Text(std::string_view text);

 private:
  // Signs a token for `destination` and returns the URL that replaces it.
  Result<std::string> Track(LinkKind kind, std::string destination);
  Status Anchor(std::string_view html, size_t lt, const Tag& tag);
  Status Pixel(size_t insert_at);
  bool Untracked(std::string_view url) const {
    for (const std::string& p : context_.untracked_prefixes) {
      if (!p.empty() && url.substr(0, p.size()) == p) return true;
    }
    return false;
  }

  const LinkContext& context_;
  const Keyring& keyring_;
  Time expiry_;
  std::string* out_;
  std::vector<RewrittenLink>* links_;
  std::string base_;
};

Result<std::string> Rewriter::Track(LinkKind kind, std::string destination) {
  LinkToken token;
  token.kind = kind;
  token.message_id = context_.message_id;
  token.profile_id = context_.profile_id;
  token.journey_id = context_.journey_id;
  token.step_id = context_.step_id;
  token.channel = context_.channel;
  if (kind == LinkKind::kClick) token.promo_code = context_.promo_code;
  token.destination = std::move(destination);
  token.expiry = expiry_;
  Result<std::string> signed_token = keyring_.Sign(token);
  if (!signed_token.ok()) return signed_token.status();

  std::string url = base_ + (kind == LinkKind::kOpen ? "/o/" : "/c/") + *signed_token;
  if (links_ != nullptr) {
    links_->push_back(
        RewrittenLink{kind, std::move(token.destination), std::move(signed_token).value(), url});
  }
  return url;
}

Status Rewriter::Anchor(std::string_view html, size_t lt, const Tag& tag) {
  std::string_view raw = html.substr(lt, tag.end - lt);
  const Attribute* href = nullptr;
  for (const Attribute& attr : tag.attributes) {
    if (EqualsIgnoreCase(attr.name, "data-waymark-notrack")) {
      out_->append(raw);
      return Status::Ok();
    }
    if (href == nullptr && attr.has_value && EqualsIgnoreCase(attr.name, "href")) href = &attr;
  }
  std::string url;
  if (href != nullptr) {
    url = std::string(TrimSpaces(
        DecodeReferences(html.substr(href->value_begin, href->value_end - href->value_begin))));
  }
  if (href == nullptr || HttpPrefix(url) == 0 || url.size() == HttpPrefix(url) ||
      Untracked(url)) {
    out_->append(raw);
    return Status::Ok();
  }

  Result<std::string> tracked = Track(LinkKind::kClick, std::move(url));
  if (!tracked.ok()) return tracked.status();
  out_->append(html.substr(lt, href->value_begin - lt));
  if (href->quote == 0) out_->push_back('"');
  AppendAttributeEscaped(*tracked, out_);
  if (href->quote == 0) out_->push_back('"');
  out_->append(html.substr(href->value_end, tag.end - href->value_end));
  return Status::Ok();
}

Status Rewriter::Html(std::string_view html) {
  const size_t n = html.size();
  size_t pos = 0;
  size_t body_close = std::string::npos;  // offset in *out_ of the last </body>
  Tag tag;
  while (pos < n) {
    size_t lt = html.find('<', pos);
    if (lt == std::string_view::npos) lt = n;
    out_->append(html.substr(pos, lt - pos));
    if (lt == n) break;

    // Comments, doctypes and processing instructions are copied whole.
    std::string_view rest = html.substr(lt);
    if (rest.size() >= 2 && (rest[1] == '!' || rest[1] == '?')) {
      bool comment = rest.substr(0, 4) == "<!--";
      size_t end = comment ? html.find("-->", lt + 4) : html.find('>', lt);
      size_t stop = end == std::string_view::npos ? n : end + (comment ? 3 : 1);
      out_->append(html.substr(lt, stop - lt));
      pos = stop;
      continue;
    }
    bool is_tag = rest.size() >= 2 &&
                  (IsAlpha(rest[1]) || (rest[1] == '/' && rest.size() >= 3 && IsAlpha(rest[2])));
    if (!is_tag) {
      out_->push_back('<');
      pos = lt + 1;
      continue;
    }
    if (!ParseTag(html, lt, &tag)) {  // an unterminated tag: the rest is not markup
      out_->append(rest);
      break;
    }

    // The tag itself.
    bool anchor = EqualsIgnoreCase(tag.name, "a") || EqualsIgnoreCase(tag.name, "area");
    if (anchor && !tag.closing) {
      WAYMARK_RETURN_IF_ERROR(Anchor(html, lt, tag));
    } else {
      if (tag.closing && EqualsIgnoreCase(tag.name, "body")) body_close = out_->size();
      out_->append(html.substr(lt, tag.end - lt));
    }
    pos = tag.end;

    // Raw text elements: their content is not markup.
    bool script = EqualsIgnoreCase(tag.name, "script");
    if (!tag.closing && (script || EqualsIgnoreCase(tag.name, "style"))) {
      size_t end = FindIgnoreCase(html, script ? "</script" : "</style", pos);
      if (end == std::string_view::npos) end = n;
      out_->append(html.substr(pos, end - pos));
      pos = end;
    }
  }
  return context_.open_pixel ? Pixel(body_close == std::string::npos ? out_->size() : body_close)
                             : Status::Ok();
}

Status Rewriter::Pixel(size_t insert_at) {
  Result<std::string> tracked = Track(LinkKind::kOpen, "");
  if (!tracked.ok()) return tracked.status();
  std::string img = "<img src=\"";
  AppendAttributeEscaped(*tracked, &img);
  img +=
      "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">";
  out_->insert(insert_at, img);
  return Status::Ok();
}

// One past the last character of the bare URL starting at text[begin].
size_t BareUrlEnd(std::string_view text, size_t begin) {
  size_t end = begin;
  while (end < text.size()) {
    auto c = static_cast<unsigned char>(text[end]);
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"') break;
    ++end;
  }
  // Trailing punctuation belongs to the sentence, and a closing bracket to the text unless the
  // URL opened it ("(see https://x.example/a_(b))").
  while (end > begin) {
    char c = text[end - 1];
    std::string_view url = text.substr(begin, end - begin);
    bool unbalanced = (c == ')' && std::count(url.begin(), url.end(), '(') <
                                       std::count(url.begin(), url.end(), ')')) ||
                      (c == ']' && std::count(url.begin(), url.end(), '[') <
                                       std::count(url.begin(), url.end(), ']'));
    if (std::string_view(".,;:!?'\"*").find(c) == std::string_view::npos && !unbalanced) break;
    --end;
  }
  return end;
}

Status Rewriter::Text(std::string_view text) {
  size_t copied = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c != 'h' && c != 'H') || (i > 0 && IsAlnum(text[i - 1]))) continue;
    size_t prefix = HttpPrefix(text.substr(i));
    if (prefix == 0) continue;
    size_t end = BareUrlEnd(text, i);
    if (end <= i + prefix) continue;
    if (Untracked(text.substr(i, end - i))) {
      i = end - 1;
      continue;
    }

    out_->append(text.substr(copied, i - copied));
    Result<std::string> tracked = Track(LinkKind::kClick, std::string(text.substr(i, end - i)));
    if (!tracked.ok()) return tracked.status();
    out_->append(*tracked);
    copied = end;
    i = end - 1;
  }
  out_->append(text.substr(copied));
  return Status::Ok();
}

}  // namespace

Status RewriteLinks(std::string_view body, bool is_html, const LinkContext& context,
                    const Keyring& keyring, Time expiry, std::string* out,
                    std::vector<RewrittenLink>* links) {
  out->clear();
  out->reserve(body.size() + body.size() / 4);
  Rewriter rewriter(context, keyring, expiry, out, links);
  return is_html ? rewriter.Html(body) : rewriter.Text(body);
}

}  // namespace waymark::tracking
