#include "tracking/redirect.h"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>
#include <exception>
#include <string_view>

namespace waymark::tracking {
namespace urls = boost::urls;
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Percent-encodes what a browser would before sending the URL: bytes outside printable ASCII,
// characters never allowed in a URI, a '%' that starts no escape, and any '#' after the first.
std::string EscapeForParse(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  constexpr std::string_view kNever = " \"<>\\^`{|}";
  std::string out;
  out.reserve(raw.size());
  bool seen_hash = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    bool bad_percent =
        c == '%' && !(i + 2 < raw.size() && IsHexDigit(raw[i + 1]) && IsHexDigit(raw[i + 2]));
    bool extra_hash = c == '#' && seen_hash;
    if (c == '#') seen_hash = true;
    if (c <= 0x20 || c >= 0x7f || kNever.find(char(c)) != std::string_view::npos || bad_percent ||
        extra_hash) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(char(c));
    }
  }
  return out;
}

void AddParam(urls::url& u, const RedirectOptions& options, const std::string& name,
              std::string_view value) {
  if (name.empty() || value.empty()) return;
  std::string key = urls::encode(name, urls::unreserved_chars);
  std::string val = urls::encode(value, urls::unreserved_chars);
  urls::params_encoded_ref params = u.encoded_params();
  if (params.contains(key)) {
    // set() keeps the first occurrence, gives it our value and erases the repeats.
    if (options.replace_existing) params.set(key, val);
    return;
  }
  params.append(urls::param_pct_view(key, val));
}

}  // namespace

Result<std::string> BuildRedirect(const LinkToken& token, const RedirectOptions& options) {
  if (token.kind != LinkKind::kClick) {
    return Status::Invalid("redirect: a " + std::string(LinkKindName(token.kind)) +
                           " token has no destination");
  }
  std::string escaped = EscapeForParse(token.destination);
  auto parsed = urls::parse_uri(escaped);
  if (!parsed) return Status::Invalid("redirect: destination is not an absolute URL");
  if ((parsed->scheme_id() != urls::scheme::http && parsed->scheme_id() != urls::scheme::https) ||
      parsed->encoded_host().empty()) {
    return Status::Invalid("redirect: destination is not an http(s) URL with a host");
  }

  // Boost.URL reports allocation and length limits by exceptions; none may escape.
  try {
    urls::url u(*parsed);
    // An empty query ("p?#top") is dropped first: it holds no parameters, and Boost.URL 1.81
    // reads out of bounds when searching the parameters of an empty query before a fragment.
    if (u.has_query() && u.encoded_query().empty()) u.remove_query();
    AddParam(u, options, options.source_param, options.source);
    AddParam(u, options, options.medium_param, token.channel);
    AddParam(u, options, options.campaign_param, token.journey_id);
    AddParam(u, options, options.content_param, token.step_id);
    if (token.promo_code) AddParam(u, options, options.promo_param, *token.promo_code);
    AddParam(u, options, options.landing_param, options.landing_token);
    return std::string(u.buffer());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("redirect: ") + e.what());
  }
}

}  // namespace waymark::tracking
