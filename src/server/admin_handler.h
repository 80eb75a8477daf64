// AdminHandler: the admin API under /admin/v1/ on top of an AdminBackend. One request in, one
// response out, no sockets: the Bearer token, routing, percent-decoding of path segments, query
// and body parameters, JSON errors and the mapping of backend errors to statuses. docs/server.md
// ("Admin API") is the reference; docs/openapi.yaml describes the same routes.
#pragma once

#include <string_view>

#include "server/admin_backend.h"
#include "server/ingest_handler.h"
#include "server/ingest_server.h"

namespace waymark::server {

class AdminHandler {
 public:
  // `options` must outlive the handler, and so must `backend` when not null. Without a backend,
  // or without ServerOptions::admin_token, the admin API is disabled: every /admin/ request is
  // answered 404 admin_disabled.
  AdminHandler(const ServerOptions* options, AdminBackend* backend);

  // Whether `target`'s path belongs to the admin API: "/admin" or below "/admin/" (the query is
  // ignored).
  static bool IsAdminPath(std::string_view target);

  // Whether `req` carries "Authorization: Bearer <admin_token>" (scheme case-insensitive; the
  // token compared in constant time). False when no admin token is configured.
  bool Authorized(const Request& req) const;

  // The response to an /admin/ request. Calls the backend, so it may block: the server runs it on
  // its worker pool. Never throws (a backend exception becomes a 500). Thread-safe when the
  // backend is.
  //
  // Errors, in the order they are checked: 404 admin_disabled; 401 unauthorized (with
  // WWW-Authenticate: Bearer); 400 bad_request for a target that is not a valid URL; 404
  // not_found for an unknown route; 405 method_not_allowed with Allow; 413 body_too_large over
  // max_admin_body_bytes; 400 invalid_parameter, invalid_json or invalid_body for bad
  // parameters; then what the backend answers (kNotFound 404 not_found, kInvalidArgument 400
  // invalid_request, kParseError 400 invalid_body, a journey that does not validate on create 422
  // invalid_journey, anything else 500 internal, logged).
  Response Handle(const Request& req) const;

  AdminBackend* backend() const { return backend_; }

 private:
  const ServerOptions* options_;
  AdminBackend* backend_;
};

}  // namespace waymark::server
