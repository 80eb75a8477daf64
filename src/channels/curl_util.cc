#include "channels/curl_util.h"

#include <mutex>

namespace waymark::curl {

Status GlobalInit() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK) {
    return Status::Internal(std::string("curl_global_init: ") + curl_easy_strerror(code));
  }
  return Status::Ok();
}

CURL* NewHandle(char* error_buffer, Duration connect_timeout, Duration total_timeout) {
  CURL* h = curl_easy_init();
  if (h == nullptr) return nullptr;
  error_buffer[0] = '\0';
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  return h;
}

std::string ErrorText(CURLcode code, const char* error_buffer) {
  std::string text = "curl " + std::to_string(int(code)) + " (" + curl_easy_strerror(code) + ")";
  if (error_buffer != nullptr && error_buffer[0] != '\0') text += std::string(": ") + error_buffer;
  return text;
}

bool IsConnectionError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

std::string UrlHost(std::string_view host) {
  if (host.find(':') != std::string_view::npos && !host.starts_with("[")) {
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "[" + std::string(host) + "]".
    std::string out;
    out.reserve(host.size() + 2);
    out.push_back('[');
    out.append(host);
    out.push_back(']');
    return out;
  }
  return std::string(host);
}

}  // namespace waymark::curl
