// Email delivery over SMTP, on libcurl.
//
// One SmtpSender owns one CURL handle and so one connection, which stays open between sends
// (libcurl's connection cache); a connection the server dropped while idle is replaced, and a send
// that fails on a reused connection before the server answered is tried once more on a fresh one.
// Not thread-safe: use one sender per thread (the dispatch thread of a shard).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "channels/delivery.h"
#include "channels/mime.h"
#include "core/clock.h"
#include "core/status.h"

namespace waymark {

struct SmtpConfig {
  enum class Tls {
    kNone,      // plain SMTP; for a relay on localhost or a test sink only
    kStartTls,  // plain connect then STARTTLS, required (port 587)
    kTls,       // implicit TLS, "smtps" (port 465)
  };

  std::string host;
  int port = 587;
  Tls tls = Tls::kStartTls;
  std::string user;      // empty: no AUTH
  std::string password;  // never logged nor put in a DeliveryResult
  // Name sent in EHLO; empty lets libcurl pick the local host name.
  std::string helo_name;
  Duration connect_timeout = std::chrono::seconds(10);
  // Upper bound on one whole send (connect, envelope, data, reply).
  Duration send_timeout = std::chrono::seconds(60);
  // Certificate checks for the TLS modes. Turning them off is for tests only.
  bool verify_peer = true;
  std::string ca_file;  // empty: the system store
};

class SmtpSender {
 public:
  // Checks the config and prepares the handle; nothing is connected until the first Send.
  // `clock` gives the Date header and must outlive the sender.
  static Result<std::unique_ptr<SmtpSender>> Create(SmtpConfig config, const Clock* clock);
  ~SmtpSender();
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  // Renders `message` (envelope: MAIL FROM from.address, RCPT TO to.address) and sends it.
  // Blocks until the server accepted or refused it, or send_timeout passed.
  //  - delivered: the server answered 250 to the end of data; detail is that reply.
  //  - permanent_failure: a 5xx reply, or a message that cannot be rendered (bad address, bad
  //    UTF-8); retrying cannot help.
  //  - transient_failure: a 4xx reply, no connection, TLS failure, timeout, or any other error
  //    without a 5xx reply.
  DeliveryResult Send(const EmailMessage& message);

  // Connections opened so far (1 after any number of sends over one healthy connection).
  int64_t connections_opened() const { return connections_opened_; }

  struct Handle;  // libcurl state; defined in smtp_sender.cc

 private:
  SmtpSender(SmtpConfig config, const Clock* clock);
  DeliveryResult Perform(const std::string& data, const EmailMessage& message, bool fresh);

  SmtpConfig config_;
  const Clock* clock_;
  std::unique_ptr<Handle> handle_;
  int64_t connections_opened_ = 0;
};

}  // namespace waymark
