// Test helpers: a synchronous HTTP/1.1 client on Boost.Beast and raw sockets, against a server on
// 127.0.0.1. Every call has a deadline, so a server bug fails a test instead of hanging it.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace waymark::server::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection closed, or error; see `error`)
  std::string body;
  boost::beast::http::fields headers;
  bool keep_alive = false;
  std::string error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One keep-alive connection; reconnects when the server closed it.
class TestClient {
 public:
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : port_(port), timeout_(timeout) {}

  HttpResult Send(boost::beast::http::verb method, std::string_view target, std::string body = "",
                  const Headers& headers = {});
  HttpResult Post(std::string_view target, std::string body, const Headers& headers = {}) {
    return Send(boost::beast::http::verb::post, target, std::move(body), headers);
  }
  HttpResult Get(std::string_view target) { return Send(boost::beast::http::verb::get, target); }
  bool connected() const { return socket_.is_open(); }

 private:
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_{ioc_};
};

// "Basic base64(key:)": Segment's Authorization header for a write key.
std::string BasicAuth(std::string_view write_key);

// Opens a raw connection, writes `bytes`, and reads until the server closes the connection or
// `timeout` passes. Returns what was read; `closed` tells which of the two ended it.
std::string RawExchange(uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout,
                        bool* closed);

}  // namespace waymark::server::testing
