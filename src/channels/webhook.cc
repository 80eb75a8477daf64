#include "channels/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "channels/curl_util.h"

namespace waymark {

struct WebhookSender::Handle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  std::string response;  // the first bytes of the response body
  std::optional<Duration> retry_after;

  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

namespace {

constexpr size_t kKeptResponseBytes = 256;
constexpr char kHexDigits[] = "0123456789abcdef";

size_t OnBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* h = static_cast<WebhookSender::Handle*>(userdata);
  size_t n = size * nmemb;
  size_t keep = std::min(n, kKeptResponseBytes - std::min(kKeptResponseBytes, h->response.size()));
  for (size_t i = 0; i < keep; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    h->response.push_back(c >= 0x20 && c < 0x7F ? char(c) : '?');
  }
  return n;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Picks up "Retry-After: <seconds>"; the HTTP-date form is ignored.
size_t OnHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* h = static_cast<WebhookSender::Handle*>(userdata);
  std::string_view line(data, size * nitems);
  if (StartsWithNoCase(line, "retry-after:")) {
    line.remove_prefix(12);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), seconds);
    if (ec == std::errc() && seconds >= 0 && seconds < 400 * 86400) {
      h->retry_after = std::chrono::seconds(seconds);
    }
  }
  return size * nitems;
}

bool IsHeaderValue(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7F;
  });
}

bool IsReserved(std::string_view name) {
  for (std::string_view r : {"content-type", "x-waymark-timestamp", "x-waymark-signature",
                             "idempotency-key", "content-length", "expect"}) {
    if (name.size() == r.size() && StartsWithNoCase(name, r)) return true;
  }
  return false;
}

Status CheckConfig(const WebhookConfig& c) {
  if (!c.url.starts_with("http://") && !c.url.starts_with("https://")) {
    return Status::Invalid("webhook: url must start with http:// or https://: '" + c.url + "'");
  }
  if (!IsHeaderValue(c.url) || c.url.find(' ') != std::string::npos) {
    return Status::Invalid("webhook: url contains spaces or control characters");
  }
  if (c.secret.empty()) return Status::Invalid("webhook: secret is empty");
  if (c.connect_timeout <= Duration::zero() || c.request_timeout <= Duration::zero()) {
    return Status::Invalid("webhook: timeouts must be positive");
  }
  for (const auto& [name, value] : c.headers) {
    bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
    });
    if (!ok || !IsHeaderValue(value)) return Status::Invalid("webhook: bad header '" + name + "'");
    if (IsReserved(name)) return Status::Invalid("webhook: header '" + name + "' is reserved");
  }
  return Status::Ok();
}

DeliveryResult Classify(long code, std::string response, std::optional<Duration> retry_after) {
  std::string detail = "HTTP " + std::to_string(code);
  if (!response.empty()) detail += ": " + response;
  if (code >= 200 && code < 300) return DeliveryResult::Delivered(std::move(detail));
  if (code == 408 || code == 429 || (code >= 500 && code < 600)) {
    DeliveryResult r = DeliveryResult::Transient(std::move(detail));
    r.retry_after = retry_after;
    return r;
  }
  return DeliveryResult::Permanent(std::move(detail));
}

std::string Hex(const unsigned char* data, size_t n) {
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[data[i] >> 4];
    out[2 * i + 1] = kHexDigits[data[i] & 15];
  }
  return out;
}

}  // namespace

std::string SignWebhook(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string payload = std::to_string(unix_seconds);
  payload.push_back('.');
  payload.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), int(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &mac_len);
  return "v1=" + Hex(mac, mac_len);
}

Status VerifyWebhookSignature(std::string_view secret, std::string_view timestamp_header,
                              std::string_view signature_header, std::string_view body, Time now,
                              Duration tolerance) {
  int64_t ts = 0;
  const char* end = timestamp_header.data() + timestamp_header.size();
  auto [ptr, ec] = std::from_chars(timestamp_header.data(), end, ts);
  if (timestamp_header.empty() || ec != std::errc() || ptr != end || ts < 0) {
    return Status::Invalid("webhook: bad timestamp");
  }
  int64_t now_s = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  int64_t skew = now_s > ts ? now_s - ts : ts - now_s;
  if (skew > std::chrono::floor<std::chrono::seconds>(tolerance).count()) {
    return Status::Invalid("webhook: timestamp outside tolerance");
  }

  std::string expected = SignWebhook(secret, ts, body);
  while (!signature_header.empty()) {
    size_t comma = signature_header.find(',');
    std::string_view sig = signature_header.substr(0, comma);
    while (!sig.empty() && sig.front() == ' ') sig.remove_prefix(1);
    while (!sig.empty() && sig.back() == ' ') sig.remove_suffix(1);
    if (sig.size() == expected.size() &&
        CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0) {
      return Status::Ok();
    }
    if (comma == std::string_view::npos) break;
    signature_header.remove_prefix(comma + 1);
  }
  return Status::Invalid("webhook: signature mismatch");
}

Result<std::unique_ptr<WebhookSender>> WebhookSender::Create(WebhookConfig config,
                                                             const Clock* clock) {
  WAYMARK_RETURN_IF_ERROR(CheckConfig(config));
  WAYMARK_RETURN_IF_ERROR(curl::GlobalInit());
  std::unique_ptr<WebhookSender> sender(new WebhookSender(std::move(config), clock));
  Handle& h = *sender->handle_;
  const WebhookConfig& c = sender->config_;
  h.curl = curl::NewHandle(h.error, c.connect_timeout, c.request_timeout);
  if (h.curl == nullptr) return Status::Internal("webhook: curl_easy_init failed");

  curl_easy_setopt(h.curl, CURLOPT_URL, c.url.c_str());
  curl_easy_setopt(h.curl, CURLOPT_POST, 1L);
  curl_easy_setopt(h.curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h.curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h.curl, CURLOPT_SSL_VERIFYPEER, c.verify_peer ? 1L : 0L);
  curl_easy_setopt(h.curl, CURLOPT_SSL_VERIFYHOST, c.verify_peer ? 2L : 0L);
  if (!c.ca_file.empty()) curl_easy_setopt(h.curl, CURLOPT_CAINFO, c.ca_file.c_str());
  curl_easy_setopt(h.curl, CURLOPT_USERAGENT, "waymark-webhook/1");
  curl_easy_setopt(h.curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h.curl, CURLOPT_WRITEDATA, &h);
  curl_easy_setopt(h.curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h.curl, CURLOPT_HEADERDATA, &h);
  return sender;
}

WebhookSender::WebhookSender(WebhookConfig config, const Clock* clock)
    : config_(std::move(config)), clock_(clock), handle_(std::make_unique<Handle>()) {}

WebhookSender::~WebhookSender() = default;

DeliveryResult WebhookSender::Send(std::string_view message_id, std::string_view json_body) {
  if (message_id.empty() || !IsHeaderValue(message_id)) {
    return DeliveryResult::Permanent("webhook: message id is empty or not a header value");
  }
  int64_t ts = std::chrono::floor<std::chrono::seconds>(clock_->Now()).time_since_epoch().count();

  // The header list changes with every request (timestamp, signature, key).
  curl_slist* headers = nullptr;
  auto add = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers, line.c_str());
    if (next != nullptr) headers = next;
    return next != nullptr;
  };
  bool ok = add("Content-Type: application/json") && add("Expect:") &&
            add("X-Waymark-Timestamp: " + std::to_string(ts)) &&
            add("X-Waymark-Signature: " + SignWebhook(config_.secret, ts, json_body)) &&
            add("Idempotency-Key: " + std::string(message_id));
  for (const auto& [name, value] : config_.headers) ok = ok && add(name + ": " + value);
  if (!ok) {
    curl_slist_free_all(headers);
    return DeliveryResult::Transient("webhook: out of memory");
  }

  Handle& h = *handle_;
  h.response.clear();
  h.retry_after.reset();
  h.error[0] = '\0';
  curl_easy_setopt(h.curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h.curl, CURLOPT_POSTFIELDS, json_body.data());
  curl_easy_setopt(h.curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(json_body.size()));
  CURLcode rc = curl_easy_perform(h.curl);
  curl_easy_setopt(h.curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);

  long code = 0;
  long connects = 0;
  curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(h.curl, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened_ += connects;
  if (rc != CURLE_OK) return DeliveryResult::Transient(curl::ErrorText(rc, h.error));
  return Classify(code, std::move(h.response), h.retry_after);
}

}  // namespace waymark
