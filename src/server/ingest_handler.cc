#include "server/ingest_handler.h"

#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <cctype>
#include <random>

#include "core/json.h"
#include "ingest/segment_json.h"
#include "server/admin_handler.h"
#include "server/engagement.h"
#include "server/log.h"

namespace waymark::server {

namespace http = boost::beast::http;

namespace {

struct TypeRoute {
  std::string_view path;
  EventType type;
};
constexpr std::array<TypeRoute, 6> kTypeRoutes = {{
    {"/v1/track", EventType::kTrack},
    {"/v1/identify", EventType::kIdentify},
    {"/v1/page", EventType::kPage},
    {"/v1/screen", EventType::kScreen},
    {"/v1/alias", EventType::kAlias},
    {"/v1/group", EventType::kGroup},
}};

enum class Gunzipped { kOk, kNotGzip, kTooLarge };

// Inflates a gzip body into `out`, stopping once it holds more than `limit` bytes.
Gunzipped Gunzip(std::string_view in, size_t limit, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Gunzipped::kNotGzip;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  out->clear();
  int rc = Z_OK;
  char buf[16384];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(buf, sizeof(buf) - z.avail_out);
    if (out->size() > limit) {
      inflateEnd(&z);
      return Gunzipped::kTooLarge;
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) rc = Z_BUF_ERROR;  // truncated
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? Gunzipped::kOk : Gunzipped::kNotGzip;
}

bool IsBatchPath(std::string_view path) { return path == "/v1/batch" || path == "/v1/import"; }

std::optional<EventType> TypeOfPath(std::string_view path) {
  for (const TypeRoute& r : kTypeRoutes) {
    if (r.path == path) return r.type;
  }
  return std::nullopt;
}

bool IsIngestPath(std::string_view path) { return IsBatchPath(path) || TypeOfPath(path); }

bool IsProbePath(std::string_view path) {
  return path == "/health" || path == "/ready" || path == "/metrics";
}

// The target without its query string.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view JsonTypeName(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "boolean";
    case Value::Type::kNumber:
      return "number";
    case Value::Type::kString:
      return "string";
    case Value::Type::kList:
      return "array";
    case Value::Type::kObject:
      return "object";
  }
  return "unknown";
}

// Decodes standard base64 (padding optional); nullopt on any other character.
std::optional<std::string> DecodeBase64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

Response JsonResponse(const Request& req, http::status status, std::string body) {
  Response res(status, req.version());
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string RejectionJson(size_t index, ErrorCode code, std::string_view message) {
  std::string out = "{\"index\":" + std::to_string(index) + ",\"code\":";
  AppendJsonString(ErrorCodeName(code), &out);
  out += ",\"message\":";
  AppendJsonString(message, &out);
  out += "}";
  return out;
}

}  // namespace

Response ErrorResponse(unsigned req_version, bool keep_alive, http::status status, ErrorCode code,
                       std::string_view message, std::optional<size_t> index) {
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(ErrorCodeName(code), &body);
  body += ",\"message\":";
  AppendJsonString(message, &body);
  if (index) body += ",\"index\":" + std::to_string(*index);
  body += "}}";
  Response res(status, req_version);
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string NewMessageId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xf000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xc000ull << 48)) | (0x8000ull << 48);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    out.push_back(kHex[(word >> shift) & 0xf]);
    if (i == 7 || i == 11 || i == 15 || i == 19) out.push_back('-');
  }
  return out;
}

Result<Event> EventFromMessage(Value message, std::optional<EventType> endpoint_type,
                               Time received_at, std::optional<Time> batch_sent_at) {
  if (!message.is_object()) {
    return Status::Invalid("expected a message object, got " + std::string(JsonTypeName(message)));
  }
  const Value* timestamp = message.Find("timestamp");
  bool has_timestamp = timestamp != nullptr && !timestamp->is_null();
  std::optional<Time> sent_at = batch_sent_at;
  if (const Value* s = message.Find("sentAt"); s != nullptr && s->is_string()) {
    // Malformed values are reported by EventFromSegment, which checks sentAt.
    if (auto t = ParseIsoTime(s->as_string())) sent_at = t;
  }
  // The server's arrival time stands in for a missing timestamp; a client's receivedAt is never
  // read (with a timestamp it is dropped rather than replaced: nothing would read it).
  if (has_timestamp) {
    message.Erase("receivedAt");
  } else {
    message.Set("receivedAt", FormatIsoTime(received_at));
  }

  Result<Event> event = ingest::EventFromSegment(std::move(message), endpoint_type);
  if (!event.ok()) return event;
  if (has_timestamp && sent_at) event->timestamp = received_at - (*sent_at - event->timestamp);
  if (event->message_id.empty()) event->message_id = NewMessageId();
  return event;
}

IngestHandler::IngestHandler(const ServerOptions* options, IngestSink* sink, const Clock* clock,
                             Metrics* metrics, AdminBackend* admin,
                             const EngagementHandler* engagement)
    : options_(options),
      sink_(sink),
      clock_(clock),
      metrics_(metrics),
      admin_(std::make_unique<AdminHandler>(options, admin)),
      engagement_(engagement) {}

IngestHandler::~IngestHandler() = default;

bool IngestHandler::CarriesEvents(const Request& req) {
  return req.method() == http::verb::post && IsIngestPath(PathOf(req.target()));
}

bool IngestHandler::RunsOnWorkers(const Request& req) const {
  if (CarriesEvents(req)) return true;
  std::string_view path = PathOf(req.target());
  if (engagement_ != nullptr && EngagementHandler::IsEngagementPath(path)) return true;
  return admin_->backend() != nullptr && (AdminHandler::IsAdminPath(path) || path == "/metrics");
}

size_t IngestHandler::BodyLimit(std::string_view target) const {
  std::string_view path = PathOf(target);
  if (IsBatchPath(path)) return options_->max_batch_bytes;
  if (AdminHandler::IsAdminPath(path)) return options_->max_admin_body_bytes;
  return options_->max_event_bytes;
}

std::string_view IngestHandler::BodyLimitName(std::string_view target) {
  std::string_view path = PathOf(target);
  if (IsBatchPath(path)) return "max_batch_bytes";
  if (AdminHandler::IsAdminPath(path)) return "max_admin_body_bytes";
  return "max_event_bytes";
}

Response IngestHandler::Handle(const Request& req) const {
  std::string_view path = PathOf(req.target());
  if (IsIngestPath(path)) {
    if (req.method() != http::verb::post) {
      Response res =
          ErrorResponse(req.version(), req.keep_alive(), http::status::method_not_allowed,
                        ErrorCode::kMethodNotAllowed, std::string(path) + " takes POST only");
      res.set(http::field::allow, "POST");
      return res;
    }
    return HandleIngest(req, path);
  }
  if (AdminHandler::IsAdminPath(path)) return admin_->Handle(req);
  if (engagement_ != nullptr && EngagementHandler::IsEngagementPath(path)) {
    return engagement_->Handle(req);
  }
  if (IsProbePath(path)) {
    if (req.method() != http::verb::get) {
      Response res =
          ErrorResponse(req.version(), req.keep_alive(), http::status::method_not_allowed,
                        ErrorCode::kMethodNotAllowed, std::string(path) + " takes GET only");
      res.set(http::field::allow, "GET");
      return res;
    }
    return HandleProbe(req, path);
  }
  return ErrorResponse(req.version(), req.keep_alive(), http::status::not_found,
                       ErrorCode::kNotFound, "no endpoint at " + std::string(path));
}

IngestHandler::Auth IngestHandler::HeaderAuth(const Request& req) const {
  std::string_view auth = req[http::field::authorization];
  if (!StartsWithNoCase(auth, "basic ")) return Auth::kAbsent;
  // Segment's scheme: the write key is the user name and the password is empty.
  std::optional<std::string> decoded = DecodeBase64(auth.substr(6));
  if (!decoded || decoded->empty() || decoded->back() != ':') return Auth::kBad;
  decoded->pop_back();
  return options_->write_keys.contains(*decoded) ? Auth::kGood : Auth::kBad;
}

bool IngestHandler::BodyAuthorized(const Value& body) const {
  const Value* key = body.Find("writeKey");
  return key != nullptr && key->is_string() && options_->write_keys.contains(key->as_string());
}

Response IngestHandler::HandleIngest(const Request& req, std::string_view path) const {
  const bool batch = IsBatchPath(path);
  auto error = [&](http::status status, ErrorCode code, std::string_view message, uint64_t events,
                   std::optional<size_t> index = std::nullopt) {
    metrics_->EventsRejected(code, events);
    return ErrorResponse(req.version(), req.keep_alive(), status, code, message, index);
  };

  // Limits first: nothing of an oversized body is parsed.
  size_t limit = batch ? options_->max_batch_bytes : options_->max_event_bytes;
  if (req.body().size() > limit) {
    return error(http::status::payload_too_large, ErrorCode::kBodyTooLarge,
                 fmt::format("body is {} bytes; {} takes at most {} bytes ({})", req.body().size(),
                             path, limit, batch ? "max_batch_bytes" : "max_event_bytes"),
                 1);
  }
  auto unauthorized = [&] {
    Response res = error(http::status::unauthorized, ErrorCode::kUnauthorized,
                         "a valid write key is required: HTTP Basic auth with the write key as "
                         "user name and an empty password, or a 'writeKey' field",
                         1);
    res.set(http::field::www_authenticate, "Basic realm=\"waymark\"");
    return res;
  };
  // A Basic header decides before the body is parsed; without one the body's writeKey does.
  Auth header_auth = HeaderAuth(req);
  if (header_auth == Auth::kBad) return unauthorized();

  // Segment's libraries may gzip their bodies; the limits apply to the inflated size too.
  std::string inflated;
  // A list of codings in the order applied (RFC 9110); identity is no coding, gzip once at most.
  std::string_view encoding = req[http::field::content_encoding];
  bool gzip = false;
  bool supported = true;
  for (std::string_view rest = encoding; !rest.empty();) {
    size_t comma = rest.find(',');
    std::string_view coding = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
      coding.remove_prefix(1);
    }
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
      coding.remove_suffix(1);
    }
    if (coding.size() == 8 && StartsWithNoCase(coding, "identity")) continue;
    if (coding.size() == 4 && StartsWithNoCase(coding, "gzip") && !gzip) {
      gzip = true;
      continue;
    }
    supported = false;
  }
  if (!supported) {
    return error(http::status::unsupported_media_type, ErrorCode::kUnsupportedEncoding,
                 "Content-Encoding '" + std::string(encoding) +
                     "' is not supported; send gzip or an uncompressed body",
                 1);
  }
  if (gzip) {
    Gunzipped g = Gunzip(req.body(), limit, &inflated);
    if (g == Gunzipped::kTooLarge) {
      return error(http::status::payload_too_large, ErrorCode::kBodyTooLarge,
                   fmt::format("the gzip body inflates past {} bytes; {} takes at most {} bytes "
                               "({})",
                               limit, path, limit, batch ? "max_batch_bytes" : "max_event_bytes"),
                   1);
    }
    if (g == Gunzipped::kNotGzip) {
      return error(http::status::bad_request, ErrorCode::kInvalidBody,
                   "Content-Encoding is gzip but the body is not valid gzip data", 1);
    }
  }
  std::string_view raw = gzip ? std::string_view(inflated) : std::string_view(req.body());

  const Time received_at = clock_->Now();
  Result<Value> body = ParseJson(raw);
  if (!body.ok()) {
    return error(http::status::bad_request, ErrorCode::kInvalidJson, body.status().message(), 1);
  }
  if (!body->is_object()) {
    return error(http::status::bad_request, ErrorCode::kInvalidBody,
                 "expected a JSON object, got " + std::string(JsonTypeName(*body)), 1);
  }
  if (header_auth == Auth::kAbsent && !BodyAuthorized(*body)) return unauthorized();

  std::vector<Event> events;
  std::string rejected;  // JSON array elements, comma-separated
  uint64_t rejected_count = 0;
  if (!batch) {
    Result<Event> event =
        EventFromMessage(std::move(*body), TypeOfPath(path), received_at, std::nullopt);
    if (!event.ok()) {
      return error(http::status::bad_request, ErrorCode::kInvalidEvent, event.status().message(),
                   1);
    }
    events.push_back(std::move(*event));
  } else {
    Value* list = body->Find("batch");
    if (list == nullptr || !list->is_list()) {
      return error(http::status::bad_request, ErrorCode::kInvalidBody,
                   list == nullptr ? std::string("field 'batch': required")
                                   : "field 'batch': expected an array, got " +
                                         std::string(JsonTypeName(*list)),
                   1);
    }
    Value::List& messages = list->as_list();
    std::optional<Time> sent_at;
    if (const Value* s = body->Find("sentAt"); s != nullptr && !s->is_null()) {
      if (s->is_string()) sent_at = ParseIsoTime(s->as_string());
      if (!sent_at) {
        return error(http::status::bad_request, ErrorCode::kInvalidBody,
                     "field 'sentAt': expected an ISO-8601 string", messages.size());
      }
    }
    // No element can be over the event limit when the whole body is not.
    if (raw.size() > options_->max_event_bytes) {
      for (size_t i = 0; i < messages.size(); ++i) {
        size_t size = messages[i].ToJson().size();
        if (size > options_->max_event_bytes) {
          return error(http::status::bad_request, ErrorCode::kEventTooLarge,
                       fmt::format("event is {} bytes as compact JSON; the limit is {} bytes "
                                   "(max_event_bytes)",
                                   size, options_->max_event_bytes),
                       messages.size(), i);
        }
      }
    }
    events.reserve(messages.size());
    for (size_t i = 0; i < messages.size(); ++i) {
      Result<Event> event =
          EventFromMessage(std::move(messages[i]), std::nullopt, received_at, sent_at);
      if (event.ok()) {
        events.push_back(std::move(*event));
        continue;
      }
      if (rejected_count++ > 0) rejected += ",";
      rejected += RejectionJson(i, ErrorCode::kInvalidEvent, event.status().message());
    }
    metrics_->EventsRejected(ErrorCode::kInvalidEvent, rejected_count);
  }

  size_t accepted = events.size();
  if (!events.empty()) {
    Status st = sink_->Accept(std::move(events));
    if (!st.ok()) {
      if (!sink_failing_.exchange(true)) {
        Log().warn("ingest sink failing; answering 503 until it recovers error=\"{}\"",
                   st.message());
      }
      Response res = error(http::status::service_unavailable, ErrorCode::kSinkUnavailable,
                           "events not stored, retry later: " + st.message(), accepted);
      res.set(http::field::retry_after, std::to_string(options_->retry_after.count()));
      return res;
    }
    if (sink_failing_.exchange(false)) Log().info("ingest sink recovered");
  }
  metrics_->EventsAccepted(accepted);

  if (!batch) return JsonResponse(req, http::status::ok, "{\"success\":true}");
  return JsonResponse(
      req, http::status::ok,
      fmt::format("{{\"success\":true,\"accepted\":{},\"rejected\":[{}]}}", accepted, rejected));
}

Response IngestHandler::HandleProbe(const Request& req, std::string_view path) const {
  if (path == "/health") return JsonResponse(req, http::status::ok, "{\"status\":\"ok\"}");
  if (path == "/ready") {
    if (sink_->Ready()) return JsonResponse(req, http::status::ok, "{\"status\":\"ready\"}");
    return ErrorResponse(req.version(), req.keep_alive(), http::status::service_unavailable,
                         ErrorCode::kSinkUnavailable, "the event sink is not ready");
  }
  if (!options_->admin_token.empty() && !admin_->Authorized(req)) {
    Response res = ErrorResponse(req.version(), req.keep_alive(), http::status::unauthorized,
                                 ErrorCode::kUnauthorized,
                                 "/metrics requires 'Authorization: Bearer <admin token>'");
    res.set(http::field::www_authenticate, "Bearer realm=\"waymark\"");
    return res;
  }
  std::string body = metrics_->Render();
  if (engagement_ != nullptr) engagement_->RenderMetrics(&body);
  if (AdminBackend* backend = admin_->backend()) {
    try {
      body += backend->RenderMetrics();
    } catch (const std::exception& e) {
      Log().error("admin backend failed to render metrics error=\"{}\"", e.what());
      return ErrorResponse(req.version(), req.keep_alive(), http::status::internal_server_error,
                           ErrorCode::kInternal, "internal error");
    }
  }
  Response res(http::status::ok, req.version());
  res.set(http::field::content_type, "text/plain; version=0.0.4");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace waymark::server
