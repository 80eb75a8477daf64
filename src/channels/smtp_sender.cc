#include "channels/smtp_sender.h"

#include <algorithm>
#include <cstring>

#include "channels/curl_util.h"

namespace waymark {

struct SmtpSender::Handle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  // The message being uploaded by the read callback.
  const std::string* upload = nullptr;
  size_t upload_pos = 0;
  // The last line the server sent ("250 2.0.0 Ok: queued as 4F2A"), for DeliveryResult::detail.
  std::string last_reply;
  // The last 4xx/5xx line: after a refusal libcurl sends QUIT, whose "221" would hide the cause.
  std::string last_error_reply;

  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

namespace {

size_t ReadUpload(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* h = static_cast<SmtpSender::Handle*>(userdata);
  size_t n = std::min(size * nitems, h->upload->size() - h->upload_pos);
  std::memcpy(buffer, h->upload->data() + h->upload_pos, n);
  h->upload_pos += n;
  return n;
}

// Keeps the server's last reply line. libcurl hands over replies only through the debug hook.
int OnDebug(CURL*, curl_infotype type, char* data, size_t size, void* userdata) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* h = static_cast<SmtpSender::Handle*>(userdata);
  std::string_view text(data, size);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  size_t nl = text.rfind('\n');
  if (nl != std::string_view::npos) text.remove_prefix(nl + 1);
  if (text.empty()) return 0;
  h->last_reply.assign(text);
  if (text[0] == '4' || text[0] == '5') h->last_error_reply.assign(text);
  return 0;
}

std::string SmtpUrl(const SmtpConfig& c) {
  std::string scheme = c.tls == SmtpConfig::Tls::kTls ? "smtps://" : "smtp://";
  return scheme + curl::UrlHost(c.host) + ":" + std::to_string(c.port) + "/" + c.helo_name;
}

Status CheckConfig(const SmtpConfig& c) {
  if (c.host.empty()) return Status::Invalid("smtp: host is empty");
  if (c.port <= 0 || c.port > 65535) {
    return Status::Invalid("smtp: port " + std::to_string(c.port) + " out of range");
  }
  if (c.connect_timeout <= Duration::zero() || c.send_timeout <= Duration::zero()) {
    return Status::Invalid("smtp: timeouts must be positive");
  }
  if (c.helo_name.find_first_of("/ \r\n") != std::string::npos) {
    return Status::Invalid("smtp: bad helo_name '" + c.helo_name + "'");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SmtpSender>> SmtpSender::Create(SmtpConfig config, const Clock* clock) {
  WAYMARK_RETURN_IF_ERROR(CheckConfig(config));
  WAYMARK_RETURN_IF_ERROR(curl::GlobalInit());
  std::unique_ptr<SmtpSender> sender(new SmtpSender(std::move(config), clock));
  Handle& h = *sender->handle_;
  h.curl = curl::NewHandle(h.error, sender->config_.connect_timeout, sender->config_.send_timeout);
  if (h.curl == nullptr) return Status::Internal("smtp: curl_easy_init failed");

  const SmtpConfig& c = sender->config_;
  CURL* curl = h.curl;
  curl_easy_setopt(curl, CURLOPT_URL, SmtpUrl(c).c_str());
  if (c.tls == SmtpConfig::Tls::kStartTls) curl_easy_setopt(curl, CURLOPT_USE_SSL, CURLUSESSL_ALL);
  if (c.tls != SmtpConfig::Tls::kNone) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, c.verify_peer ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, c.verify_peer ? 2L : 0L);
    if (!c.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca_file.c_str());
  }
  if (!c.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, c.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, c.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &h);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, OnDebug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &h);
  return sender;
}

SmtpSender::SmtpSender(SmtpConfig config, const Clock* clock)
    : config_(std::move(config)), clock_(clock), handle_(std::make_unique<Handle>()) {}

SmtpSender::~SmtpSender() = default;

DeliveryResult SmtpSender::Send(const EmailMessage& message) {
  Result<std::string> data = BuildMimeMessage(message, clock_->Now());
  if (!data.ok()) return DeliveryResult::Permanent("message not sent: " + data.status().message());

  return Perform(*data, message, /*fresh=*/false);
}

DeliveryResult SmtpSender::Perform(const std::string& data, const EmailMessage& message,
                                   bool fresh) {
  Handle& h = *handle_;
  std::string from = "<" + message.from.address + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + message.to.address + ">").c_str());
  if (rcpt == nullptr) return DeliveryResult::Transient("smtp: out of memory");
  curl_easy_setopt(h.curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h.curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h.curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(data.size()));
  curl_easy_setopt(h.curl, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
  h.upload = &data;
  h.upload_pos = 0;
  h.last_reply.clear();
  h.last_error_reply.clear();
  h.error[0] = '\0';

  CURLcode rc = curl_easy_perform(h.curl);
  curl_easy_setopt(h.curl, CURLOPT_MAIL_RCPT, nullptr);
  curl_slist_free_all(rcpt);
  h.upload = nullptr;
  long code = 0;
  long connects = 0;
  curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(h.curl, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened_ += connects;
  if (rc == CURLE_OK) return DeliveryResult::Delivered(h.last_reply);

  // A cached connection the server closed while idle fails before any reply; one fresh try.
  if (!fresh && connects == 0 && code == 0 && curl::IsConnectionError(rc)) {
    return Perform(data, message, /*fresh=*/true);
  }
  std::string detail = curl::ErrorText(rc, h.error);
  const std::string& reply = h.last_error_reply.empty() ? h.last_reply : h.last_error_reply;
  if (!reply.empty()) detail += "; server: " + reply;
  // A refused login is the sender's configuration, not this message: it heals once the operator
  // fixes the credentials, so it must not dead-letter the message.
  if (code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED) {
    return DeliveryResult::Permanent(std::move(detail));
  }
  return DeliveryResult::Transient(std::move(detail));
}

}  // namespace waymark
