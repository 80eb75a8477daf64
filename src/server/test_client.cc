#include "server/test_client.h"

#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <functional>

namespace waymark::server::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Runs the io_context until `done` or the timeout; on timeout closes the socket.
void RunUntil(net::io_context& ioc, tcp::socket& socket, std::chrono::milliseconds timeout,
              const bool& done) {
  ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(std::chrono::milliseconds(10));
    ioc.restart();
  }
  if (!done) {
    beast::error_code ignored;
    socket.close(ignored);
    ioc.run_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

HttpResult TestClient::Send(http::verb method, std::string_view target, std::string body,
                            const Headers& headers) {
  HttpResult result;
  beast::error_code ec;
  if (!socket_.is_open()) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    if (ec) {
      result.error = "connect: " + ec.message();
      return result;
    }
  }
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  req.keep_alive(true);

  bool done = false;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  http::async_write(socket_, req, [&](beast::error_code wec, size_t) {
    if (wec) {
      // The server may answer and close before reading the whole body (413): read anyway.
      result.error = "write: " + wec.message();
    }
    http::async_read(socket_, buffer, parser, [&](beast::error_code rec, size_t) {
      if (rec) {
        result.error += " read: " + rec.message();
      } else {
        auto& res = parser.get();
        result.status = res.result_int();
        result.body = res.body();
        result.keep_alive = res.keep_alive();
        for (const auto& field : res) result.headers.set(field.name_string(), field.value());
      }
      done = true;
    });
  });
  RunUntil(ioc_, socket_, timeout_, done);
  if (result.status == 0 || !result.keep_alive) socket_.close(ec);
  return result;
}

std::string BasicAuth(std::string_view write_key) {
  std::string plain = std::string(write_key) + ":";
  std::string out(beast::detail::base64::encoded_size(plain.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), plain.data(), plain.size()));
  return "Basic " + out;
}

std::string RawExchange(uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout,
                        bool* closed) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(socket, net::buffer(bytes));
  std::string received;
  char chunk[4096];
  bool done = false;
  std::function<void()> read_more = [&] {
    socket.async_read_some(net::buffer(chunk), [&](beast::error_code ec, size_t n) {
      received.append(chunk, n);
      if (ec) {
        done = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  RunUntil(ioc, socket, timeout, done);
  *closed = done;
  return received;
}

}  // namespace waymark::server::testing
