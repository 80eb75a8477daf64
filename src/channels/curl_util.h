// libcurl plumbing shared by the SMTP and webhook senders. Internal to src/channels.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace waymark::curl {

// Calls curl_global_init once per process (thread-safe); an error names the curl code.
Status GlobalInit();

// A new easy handle with the options both senders want: no signals (safe in threads),
// `error_buffer` (CURL_ERROR_SIZE bytes, owned by the caller) for messages, and the timeouts.
// Null on allocation failure.
CURL* NewHandle(char* error_buffer, Duration connect_timeout, Duration total_timeout);

// "curl 7 (Couldn't connect to server): Failed to connect to 127.0.0.1 port 9: Connection refused"
std::string ErrorText(CURLcode code, const char* error_buffer);

// Whether `code` means the connection failed before or while talking to the peer (so the peer
// may never have seen the request).
bool IsConnectionError(CURLcode code);

// "[::1]" for an IPv6 literal, the host unchanged otherwise.
std::string UrlHost(std::string_view host);

}  // namespace waymark::curl
