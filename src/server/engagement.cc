#include "server/engagement.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/url/parse.hpp>
#include <cctype>

#include "core/json.h"
#include "server/log.h"

namespace waymark::server {
namespace {

namespace http = boost::beast::http;
namespace urls = boost::urls;
using tracking::LinkKind;
using tracking::LinkToken;

// A transparent 1x1 GIF.
constexpr unsigned char kPixel[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

Response Plain(const Request& req, http::status status, std::string_view content_type,
               std::string body) {
  Response res(status, req.version());
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response Json(const Request& req, http::status status, const Value& v, bool cors) {
  Response res = Plain(req, status, "application/json", v.ToJson());
  if (cors) res.set(http::field::access_control_allow_origin, "*");
  return res;
}

Response Error(const Request& req, http::status status, ErrorCode code, std::string_view message,
               bool cors) {
  Response res = ErrorResponse(req.version(), req.keep_alive(), status, code, message);
  if (cors) res.set(http::field::access_control_allow_origin, "*");
  return res;
}

Response Redirect(const Request& req, std::string_view location) {
  Response res = Plain(req, http::status::found, "text/plain", "");
  res.set(http::field::location, location);
  return res;
}

Response MethodNotAllowed(const Request& req, std::string_view path, std::string_view allow) {
  Response res = ErrorResponse(req.version(), req.keep_alive(), http::status::method_not_allowed,
                               ErrorCode::kMethodNotAllowed,
                               std::string(path) + " takes " + std::string(allow));
  res.set(http::field::allow, allow);
  return res;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int KindIndex(LinkKind kind) { return static_cast<int>(kind); }

// Result slots: 0 ok, 1 + TokenError.
int ResultIndex(const Status& s) {
  if (s.ok()) return 0;
  std::optional<tracking::TokenError> e = tracking::TokenErrorOf(s);
  return e ? 1 + static_cast<int>(*e) : 7;
}

std::string_view ResultName(int i) {
  if (i == 0) return "ok";
  if (i >= 1 && i <= 4) return tracking::TokenErrorName(static_cast<tracking::TokenError>(i - 1));
  if (i == 5) return "wrong_kind";
  return "error";
}

}  // namespace

std::string LinkProfileId(std::string_view profile_key, bool anonymous) {
  return (anonymous ? "a:" : "u:") + std::string(profile_key);
}

std::string InboxToken(std::string_view secret, std::string_view id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

EngagementHandler::EngagementHandler(const EngagementOptions* options, IngestSink* sink,
                                     InboxBackend* inbox, const Clock* clock)
    : options_(options), sink_(sink), inbox_(inbox), clock_(clock) {}

bool EngagementHandler::IsEngagementPath(std::string_view path) {
  for (std::string_view prefix : {"/c/", "/o/", "/u/", "/v1/offer/", "/v1/inbox/"}) {
    if (path.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

Response EngagementHandler::Handle(const Request& req) const {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  bool cors = path.substr(0, 10) == "/v1/inbox/" || path.substr(0, 10) == "/v1/offer/";
  if (cors && req.method() == http::verb::options) {
    // A browser asks before it sends an Authorization header across origins.
    Response res = Plain(req, http::status::no_content, "text/plain", "");
    res.set(http::field::access_control_allow_origin, "*");
    res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type");
    res.set(http::field::access_control_max_age, "86400");
    return res;
  }
  if (path.substr(0, 10) == "/v1/inbox/") return Inbox(req, path.substr(10));
  bool is_offer = path.substr(0, 10) == "/v1/offer/";
  std::string_view token = path.substr(is_offer ? 10 : 3);
  if (!options_->keyring) {
    return Error(req, http::status::not_found, ErrorCode::kNotFound,
                 "link tracking is not configured on this server", is_offer);
  }
  if (is_offer) {
    if (req.method() != http::verb::get) return MethodNotAllowed(req, "/v1/offer/{token}", "GET");
    return Offer(req, token);
  }
  switch (path[1]) {
    case 'c':
      if (req.method() != http::verb::get) return MethodNotAllowed(req, "/c/{token}", "GET");
      return Click(req, token);
    case 'o':
      if (req.method() != http::verb::get) return MethodNotAllowed(req, "/o/{token}", "GET");
      return Open(req, token);
    default:
      if (req.method() != http::verb::get && req.method() != http::verb::post) {
        return MethodNotAllowed(req, "/u/{token}", "GET, POST");
      }
      return Unsubscribe(req, token);
  }
}

std::optional<LinkToken> EngagementHandler::Verify(std::string_view token, LinkKind kind) const {
  Result<LinkToken> t = options_->keyring->Verify(token, clock_->Now());
  int result = ResultIndex(t.status());
  if (t.ok() && t->kind != kind) result = 5;
  counts_[KindIndex(kind)][result].fetch_add(1, std::memory_order_relaxed);
  if (result != 0) return std::nullopt;
  return std::move(*t);
}

void EngagementHandler::Record(const LinkToken& token, std::string name, Value properties,
                               std::string message_id) const {
  Event e;
  e.type = EventType::kTrack;
  e.name = name;
  std::string_view profile = token.profile_id;
  if (profile.substr(0, 2) == "a:") {
    e.anonymous_id = std::string(profile.substr(2));
  } else {
    e.user_id = std::string(profile.substr(profile.substr(0, 2) == "u:" ? 2 : 0));
  }
  if (e.ProfileKey().empty()) return;
  e.message_id = std::move(message_id);
  e.timestamp = clock_->Now();
  properties.Set("message_id", token.message_id);
  properties.Set("journey", token.journey_id);
  properties.Set("step", token.step_id);
  properties.Set("channel", token.channel);
  e.properties = std::move(properties);
  std::vector<Event> events;
  events.push_back(std::move(e));
  if (Status s = sink_->Accept(std::move(events)); !s.ok()) {
    events_failed_.fetch_add(1, std::memory_order_relaxed);
    Log().warn("engagement event not recorded event=\"{}\" error=\"{}\"", name, s.message());
  }
}

Response EngagementHandler::Click(const Request& req, std::string_view text) const {
  std::optional<LinkToken> token = Verify(text, LinkKind::kClick);
  if (!token) return Redirect(req, options_->safe_url);
  tracking::RedirectOptions redirect = options_->redirect;
  Result<std::string> landing = options_->keyring->Sign(
      tracking::LandingTokenFor(*token, clock_->Now() + options_->landing_ttl));
  if (landing.ok()) redirect.landing_token = std::move(*landing);
  Result<std::string> location = tracking::BuildRedirect(*token, redirect);
  if (!location.ok()) return Redirect(req, options_->safe_url);
  Value properties = Value::EmptyObject();
  properties.Set("url", token->destination);
  Record(*token, "Message Clicked", std::move(properties), NewMessageId());
  return Redirect(req, *location);
}

Response EngagementHandler::Open(const Request& req, std::string_view text) const {
  // Mail clients show the image whatever happens here: a bad token gets the pixel too.
  if (std::optional<LinkToken> token = Verify(text, LinkKind::kOpen)) {
    Record(*token, "Message Opened", Value::EmptyObject(), NewMessageId());
  }
  return Plain(req, http::status::ok, "image/gif",
               std::string(reinterpret_cast<const char*>(kPixel), sizeof(kPixel)));
}

Response EngagementHandler::Unsubscribe(const Request& req, std::string_view text) const {
  std::optional<LinkToken> token = Verify(text, LinkKind::kUnsubscribe);
  if (!token) {
    return Plain(req, http::status::not_found, "text/html; charset=utf-8",
                 "<!doctype html><title>Link expired</title><p>This unsubscribe link is not "
                 "valid or has expired. Use the link in a newer message.</p>");
  }
  std::string channel = HtmlEscape(token->channel);
  if (req.method() == http::verb::get) {
    // Mail scanners follow links: a GET only shows the button, the POST unsubscribes.
    return Plain(req, http::status::ok, "text/html; charset=utf-8",
                 fmt::format("<!doctype html><title>Unsubscribe</title><form method=\"post\">"
                             "<p>Stop receiving {} messages?</p><button type=\"submit\">"
                             "Unsubscribe</button></form>",
                             channel));
  }
  Value properties = Value::EmptyObject();
  properties.Set("source", "list_unsubscribe");
  // One id per message: a repeated click is one event.
  Record(*token, "Unsubscribed", std::move(properties), "unsubscribe-" + token->message_id);
  return Plain(req, http::status::ok, "text/html; charset=utf-8",
               fmt::format("<!doctype html><title>Unsubscribed</title><p>You will get no more {} "
                           "messages.</p>",
                           channel));
}

Response EngagementHandler::Offer(const Request& req, std::string_view text) const {
  std::optional<LinkToken> token = Verify(text, LinkKind::kLanding);
  if (!token) {
    return Error(req, http::status::not_found, ErrorCode::kNotFound,
                 "the offer link is not valid or has expired", /*cors=*/true);
  }
  Value v = Value::EmptyObject();
  v.Set("promo_code", token->promo_code ? Value(*token->promo_code) : Value());
  v.Set("message_id", token->message_id);
  v.Set("journey", token->journey_id);
  v.Set("step", token->step_id);
  v.Set("channel", token->channel);
  v.Set("expires_at", FormatIsoTime(token->expiry));
  return Json(req, http::status::ok, v, /*cors=*/true);
}

Response EngagementHandler::Inbox(const Request& req, std::string_view rest) const {
  if (inbox_ == nullptr || options_->inbox_secret.empty()) {
    return Error(req, http::status::not_found, ErrorCode::kNotFound,
                 "the in-app inbox is not configured on this server", true);
  }
  // {user} or {user}/{message}/read, percent-decoded.
  std::string origin_form = "/" + std::string(rest);  // the URL view points into it
  auto url = urls::parse_origin_form(origin_form);
  if (!url) {
    return Error(req, http::status::bad_request, ErrorCode::kBadRequest,
                 "the path is not a valid URL", true);
  }
  std::vector<std::string> segments;
  for (std::string s : url->segments()) segments.push_back(std::move(s));
  bool list = segments.size() == 1 && !segments[0].empty();
  bool read =
      segments.size() == 3 && !segments[0].empty() && !segments[1].empty() && segments[2] == "read";
  if (!list && !read) {
    return Error(req, http::status::not_found, ErrorCode::kNotFound,
                 "expected /v1/inbox/{user} or /v1/inbox/{user}/{message}/read", true);
  }
  if (list && req.method() != http::verb::get) {
    return MethodNotAllowed(req, "/v1/inbox/{user}", "GET");
  }
  if (read && req.method() != http::verb::post) {
    return MethodNotAllowed(req, "/v1/inbox/{user}/{message}/read", "POST");
  }
  std::string_view auth = req[http::field::authorization];
  std::string want = InboxToken(options_->inbox_secret, segments[0]);
  auto is_bearer = [](std::string_view a) {  // the scheme is case-insensitive (RFC 7235)
    constexpr std::string_view kBearer = "bearer ";
    if (a.size() < kBearer.size()) return false;
    for (size_t i = 0; i < kBearer.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) != kBearer[i]) return false;
    }
    return true;
  };
  if (!is_bearer(auth) || !ConstantTimeEquals(auth.substr(7), want)) {
    Response res =
        Error(req, http::status::unauthorized, ErrorCode::kUnauthorized,
              "the inbox needs 'Authorization: Bearer <inbox token for this user>'", true);
    res.set(http::field::www_authenticate, "Bearer realm=\"waymark-inbox\"");
    return res;
  }
  Result<Value> answer = list ? inbox_->List(segments[0], clock_->Now())
                              : inbox_->MarkRead(segments[0], segments[1], clock_->Now());
  if (!answer.ok()) {
    if (answer.status().code() == Status::Code::kNotFound) {
      return Error(req, http::status::not_found, ErrorCode::kNotFound, answer.status().message(),
                   true);
    }
    Log().error("inbox request failed error=\"{}\"", answer.status().message());
    return Error(req, http::status::internal_server_error, ErrorCode::kInternal, "internal error",
                 true);
  }
  if (list) {
    Value v = Value::EmptyObject();
    v.Set("messages", std::move(*answer));
    return Json(req, http::status::ok, v, true);
  }
  return Json(req, http::status::ok, *answer, true);
}

void EngagementHandler::RenderMetrics(std::string* out) const {
  *out +=
      "# HELP waymark_tracking_requests_total Tracked link, pixel, unsubscribe and offer "
      "requests by kind and result.\n# TYPE waymark_tracking_requests_total counter\n";
  for (int k = 0; k < kKinds; ++k) {
    for (int r = 0; r < kResults; ++r) {
      uint64_t n = counts_[k][r].load(std::memory_order_relaxed);
      if (n == 0) continue;
      *out += fmt::format("waymark_tracking_requests_total{{kind=\"{}\",result=\"{}\"}} {}\n",
                          tracking::LinkKindName(static_cast<LinkKind>(k)), ResultName(r), n);
    }
  }
  *out += fmt::format(
      "# HELP waymark_tracking_events_failed_total Engagement events the engine did not take.\n"
      "# TYPE waymark_tracking_events_failed_total counter\n"
      "waymark_tracking_events_failed_total {}\n",
      events_failed_.load(std::memory_order_relaxed));
}

}  // namespace waymark::server
