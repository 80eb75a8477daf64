#include "server/admin_handler.h"

#include <fmt/format.h>

#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include "core/json.h"
#include "server/log.h"

namespace waymark::server {

namespace http = boost::beast::http;
namespace urls = boost::urls;

namespace {

constexpr size_t kDefaultOutboxLimit = 100;
constexpr size_t kMaxOutboxLimit = 1000;
constexpr std::string_view kRealm = "Bearer realm=\"waymark\"";
constexpr std::string_view kBearer = "bearer ";

using Params = std::vector<std::pair<std::string, std::string>>;

// A request matched to a route: what the route handlers read.
struct Call {
  const Request& req;
  AdminBackend& backend;
  std::string_view route;  // for logs
  std::string_view id;     // the segment a "*" matched; empty when the route has none
  std::string_view action;
  const Params& params;
};

Response Error(const Request& req, http::status status, ErrorCode code, std::string_view message) {
  return ErrorResponse(req.version(), req.keep_alive(), status, code, message);
}

Response Json(const Request& req, http::status status, std::string body) {
  Response res(status, req.version());
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool HasBearerScheme(std::string_view auth) {
  return auth.size() >= kBearer.size() &&
         boost::beast::iequals(auth.substr(0, kBearer.size()), kBearer);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// The decoded path segments and query parameters of `target`; nullopt when it is not a valid
// origin-form URL (a bad percent-escape, a character URLs do not allow).
std::optional<std::pair<std::vector<std::string>, Params>> ParseTarget(std::string_view target) {
  auto url = urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  std::vector<std::string> segments;
  for (std::string segment : url->segments()) segments.push_back(std::move(segment));
  Params params;
  if (url->has_query()) {
    for (urls::param param : url->params()) {
      params.emplace_back(std::move(param.key), std::move(param.value));
    }
  }
  return std::make_pair(std::move(segments), std::move(params));
}

// Query parameter `name`: nullopt when absent; kInvalidArgument when given more than once.
Result<std::optional<std::string>> QueryParam(const Params& params, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [key, value] : params) {
    if (key != name) continue;
    if (found) return Status::Invalid(fmt::format("query parameter '{}': given twice", name));
    found = value;
  }
  return found;
}

// Parses a decimal integer in [min, max]; nullopt for anything else (signs, spaces, overflow).
std::optional<uint64_t> ParseBounded(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (n < min || n > max) return std::nullopt;
  return n;
}

Response InvalidParameter(const Request& req, std::string_view message) {
  return Error(req, http::status::bad_request, ErrorCode::kInvalidParameter, message);
}

// The backend's answer as a response: the Value as JSON with `ok`, or the error's status.
Response FromResult(const Call& c, Result<Value> result, http::status ok = http::status::ok) {
  if (result.ok()) return Json(c.req, ok, result->ToJson());
  const Status& st = result.status();
  switch (st.code()) {
    case Status::Code::kNotFound:
      return Error(c.req, http::status::not_found, ErrorCode::kNotFound, st.message());
    case Status::Code::kInvalidArgument:
      return Error(c.req, http::status::bad_request, ErrorCode::kInvalidRequest, st.message());
    case Status::Code::kParseError:
      return Error(c.req, http::status::bad_request, ErrorCode::kInvalidBody, st.message());
    default:
      Log().error("admin backend failed route=\"{}\" error=\"{}\"", c.route, st.message());
      return Error(c.req, http::status::internal_server_error, ErrorCode::kInternal, st.message());
  }
}

// A journey that does not validate: 422 with one element of "errors" per line of the message.
Response InvalidJourney(const Request& req, std::string_view errors_text) {
  std::string errors;
  size_t count = 0;
  while (!errors_text.empty()) {
    size_t eol = errors_text.find('\n');
    std::string_view line = errors_text.substr(0, eol);
    errors_text = eol == std::string_view::npos ? "" : errors_text.substr(eol + 1);
    if (line.empty()) continue;
    if (count++ > 0) errors += ",";
    AppendJsonString(line, &errors);
  }
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(ErrorCodeName(ErrorCode::kInvalidJourney), &body);
  body += ",\"message\":";
  AppendJsonString(
      fmt::format("the journey does not validate: {} error{}", count, count == 1 ? "" : "s"),
      &body);
  body += ",\"errors\":[" + errors + "]}}";
  return Json(req, http::status::unprocessable_entity, std::move(body));
}

Response RequireBody(const Call& c) {
  return Error(c.req, http::status::bad_request, ErrorCode::kInvalidBody,
               "body: one journey as YAML or JSON is required");
}

Response ListJourneys(const Call& c) { return FromResult(c, c.backend.ListJourneys()); }

Response GetJourney(const Call& c) { return FromResult(c, c.backend.GetJourney(c.id)); }

Response ValidateJourney(const Call& c) {
  if (c.req.body().empty()) return RequireBody(c);
  return FromResult(c, c.backend.ValidateJourney(c.req.body()));
}

Response CreateJourneyVersion(const Call& c) {
  if (c.req.body().empty()) return RequireBody(c);
  Result<Value> created = c.backend.CreateJourneyVersion(c.req.body());
  if (created.status().code() == Status::Code::kInvalidArgument) {
    return InvalidJourney(c.req, created.status().message());
  }
  return FromResult(c, std::move(created), http::status::created);
}

// Reads the `version` of a journey action from the query or a JSON body {"version": N} (not
// both) into *version; returns the error response when either is malformed.
std::optional<Response> ParseVersion(const Call& c, std::optional<uint32_t>* version) {
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  const std::string expected = fmt::format("expected an integer from 1 to {}", kMax);
  Result<std::optional<std::string>> query = QueryParam(c.params, "version");
  if (!query.ok()) return InvalidParameter(c.req, query.status().message());

  Value body;
  const Value* body_version = nullptr;
  if (!c.req.body().empty()) {
    Result<Value> parsed = ParseJson(c.req.body());
    if (!parsed.ok()) {
      return Error(c.req, http::status::bad_request, ErrorCode::kInvalidJson,
                   parsed.status().message());
    }
    body = std::move(*parsed);
    if (!body.is_object()) {
      return Error(c.req, http::status::bad_request, ErrorCode::kInvalidBody,
                   "body: expected a JSON object");
    }
    body_version = body.Find("version");
  }
  if (*query && body_version != nullptr) {
    return InvalidParameter(c.req, "version: give it in the query or the body, not both");
  }

  if (*query) {
    std::optional<uint64_t> n = ParseBounded(**query, 1, kMax);
    if (!n) {
      return InvalidParameter(
          c.req, fmt::format("query parameter 'version': {}, got '{}'", expected, **query));
    }
    *version = static_cast<uint32_t>(*n);
  } else if (body_version != nullptr) {
    double d = body_version->is_number() ? body_version->as_number() : 0;
    if (d < 1 || d > static_cast<double>(kMax) || std::floor(d) != d) {
      return InvalidParameter(
          c.req, fmt::format("field 'version': {}, got {}", expected, body_version->ToJson()));
    }
    *version = static_cast<uint32_t>(d);
  }
  return std::nullopt;
}

Response JourneyAction(const Call& c) {
  std::optional<uint32_t> version;
  if (std::optional<Response> error = ParseVersion(c, &version)) return std::move(*error);
  if (version && c.action != "publish") {
    return InvalidParameter(
        c.req, fmt::format("version: {} takes no version; only publish does", c.action));
  }
  return FromResult(c, c.backend.JourneyAction(c.id, c.action, version));
}

Response JourneyStats(const Call& c) { return FromResult(c, c.backend.Stats(c.id)); }

Response AllStats(const Call& c) { return FromResult(c, c.backend.Stats(std::nullopt)); }

Response GetProfile(const Call& c) { return FromResult(c, c.backend.GetProfile(c.id)); }

Response Outbox(const Call& c) {
  Result<std::optional<std::string>> status = QueryParam(c.params, "status");
  if (!status.ok()) return InvalidParameter(c.req, status.status().message());
  Result<std::optional<std::string>> limit_text = QueryParam(c.params, "limit");
  if (!limit_text.ok()) return InvalidParameter(c.req, limit_text.status().message());

  std::string wanted = status->value_or("pending");
  if (wanted != "pending" && wanted != "delivered" && wanted != "failed") {
    return InvalidParameter(
        c.req, fmt::format("query parameter 'status': expected pending, delivered or failed, "
                           "got '{}'",
                           wanted));
  }
  size_t limit = kDefaultOutboxLimit;
  if (*limit_text) {
    std::optional<uint64_t> n = ParseBounded(**limit_text, 1, kMaxOutboxLimit);
    if (!n) {
      return InvalidParameter(
          c.req, fmt::format("query parameter 'limit': expected an integer from 1 to {}, got '{}'",
                             kMaxOutboxLimit, **limit_text));
    }
    limit = *n;
  }
  return FromResult(c, c.backend.Outbox(wanted, limit));
}

// One route below /admin/v1/. In `pattern`, "*" matches any non-empty segment (the id); unused
// trailing entries are empty. `name` is what logs show: no ids, which may be personal data.
struct Route {
  std::array<std::string_view, 3> pattern;
  http::verb method;
  std::string_view name;
  Response (*handle)(const Call&);
};

constexpr Route kRoutes[] = {
    {{"journeys"}, http::verb::get, "GET journeys", ListJourneys},
    {{"journeys"}, http::verb::post, "POST journeys", CreateJourneyVersion},
    {{"journeys", "*"}, http::verb::get, "GET journeys/{id}", GetJourney},
    {{"journeys", "validate"}, http::verb::post, "POST journeys/validate", ValidateJourney},
    {{"journeys", "*", "stats"}, http::verb::get, "GET journeys/{id}/stats", JourneyStats},
    {{"journeys", "*", "publish"}, http::verb::post, "POST journeys/{id}/publish", JourneyAction},
    {{"journeys", "*", "pause"}, http::verb::post, "POST journeys/{id}/pause", JourneyAction},
    {{"journeys", "*", "resume"}, http::verb::post, "POST journeys/{id}/resume", JourneyAction},
    {{"journeys", "*", "archive"}, http::verb::post, "POST journeys/{id}/archive", JourneyAction},
    {{"profiles", "*"}, http::verb::get, "GET profiles/{id}", GetProfile},
    {{"stats"}, http::verb::get, "GET stats", AllStats},
    {{"outbox"}, http::verb::get, "GET outbox", Outbox},
};

// Whether `segments` (below /admin/v1/) match `route`; sets *id to what "*" matched.
bool Matches(const Route& route, const std::vector<std::string>& segments, std::string_view* id) {
  size_t size = 0;
  while (size < route.pattern.size() && !route.pattern[size].empty()) ++size;
  if (size != segments.size()) return false;
  for (size_t i = 0; i < size; ++i) {
    if (segments[i].empty()) return false;
    if (route.pattern[i] == "*") {
      *id = segments[i];
    } else if (route.pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

// Routes an authorized request: 400 for a target that is no URL, 404 for an unknown path, 405
// for a known path with another method, 413 over the body limit, else the route's handler.
Response Dispatch(const Request& req, const ServerOptions& options, AdminBackend& backend) {
  auto target = ParseTarget(req.target());
  if (!target) {
    return Error(req, http::status::bad_request, ErrorCode::kBadRequest,
                 "the request target is not a valid URL path and query");
  }
  auto& [segments, params] = *target;
  std::string path(std::string_view(req.target()).substr(0, req.target().find('?')));
  if (segments.size() < 3 || segments[0] != "admin" || segments[1] != "v1") {
    return Error(req, http::status::not_found, ErrorCode::kNotFound, "no endpoint at " + path);
  }
  segments.erase(segments.begin(), segments.begin() + 2);

  // Every route the path matches goes into Allow; the one for the request's method handles it.
  const Route* route = nullptr;
  std::string allow;
  std::string_view id;
  for (const Route& r : kRoutes) {
    std::string_view matched_id;
    if (!Matches(r, segments, &matched_id)) continue;
    if (!allow.empty()) allow += ", ";
    allow += std::string_view(http::to_string(r.method));
    if (r.method == req.method()) {
      route = &r;
      id = matched_id;
    }
  }
  if (allow.empty()) {
    return Error(req, http::status::not_found, ErrorCode::kNotFound, "no endpoint at " + path);
  }
  if (route == nullptr) {
    Response res = Error(req, http::status::method_not_allowed, ErrorCode::kMethodNotAllowed,
                         fmt::format("{} takes {} only", path, allow));
    res.set(http::field::allow, allow);
    return res;
  }
  if (req.body().size() > options.max_admin_body_bytes) {
    return Error(req, http::status::payload_too_large, ErrorCode::kBodyTooLarge,
                 fmt::format("body is {} bytes; the admin API takes at most {} bytes "
                             "(max_admin_body_bytes)",
                             req.body().size(), options.max_admin_body_bytes));
  }
  return route->handle(Call{req, backend, route->name, id, segments.back(), params});
}

}  // namespace

AdminHandler::AdminHandler(const ServerOptions* options, AdminBackend* backend)
    : options_(options), backend_(backend) {}

bool AdminHandler::IsAdminPath(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/admin" || path.starts_with("/admin/");
}

bool AdminHandler::Authorized(const Request& req) const {
  const std::string& token = options_->admin_token;
  std::string_view auth = req[http::field::authorization];
  if (token.empty() || !HasBearerScheme(auth)) return false;
  return ConstantTimeEquals(auth.substr(kBearer.size()), token);
}

Response AdminHandler::Handle(const Request& req) const {
  if (backend_ == nullptr || options_->admin_token.empty()) {
    return Error(req, http::status::not_found, ErrorCode::kAdminDisabled,
                 backend_ == nullptr ? "the admin API is disabled: this server has no admin backend"
                                     : "the admin API is disabled: no admin token is configured");
  }
  if (!Authorized(req)) {
    Response res = Error(req, http::status::unauthorized, ErrorCode::kUnauthorized,
                         "the admin API requires 'Authorization: Bearer <admin token>'");
    // RFC 6750: a token that was presented and is wrong is named as such.
    bool presented = HasBearerScheme(req[http::field::authorization]);
    res.set(http::field::www_authenticate,
            presented ? std::string(kRealm) + ", error=\"invalid_token\"" : std::string(kRealm));
    return res;
  }
  try {
    return Dispatch(req, *options_, *backend_);
  } catch (const std::exception& e) {
    Log().error("admin request failed with an exception error=\"{}\"", e.what());
    return Error(req, http::status::internal_server_error, ErrorCode::kInternal, "internal error");
  }
}

}  // namespace waymark::server
