// JsonLinesFileSink: an IngestSink that appends each accepted event as one JSON line
// (server/event_json.h) to a file. For tests, demos and the load tool; not the durable store.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "server/ingest_server.h"

namespace waymark::server {

class JsonLinesFileSink final : public IngestSink {
 public:
  // Opens `path` for appending. With `fsync`, Accept returns only after fdatasync(2); without,
  // after the lines reach the kernel (they survive a process crash, not a power loss).
  static Result<std::unique_ptr<JsonLinesFileSink>> Open(const std::string& path, bool fsync);
  ~JsonLinesFileSink() override;

  // Writes one request's events in one write under a mutex, so lines of concurrent requests do
  // not interleave.
  Status Accept(std::vector<Event> events) override;

 private:
  JsonLinesFileSink(std::FILE* file, std::string path, bool fsync)
      : file_(file), path_(std::move(path)), fsync_(fsync) {}

  std::mutex mu_;
  std::FILE* file_;  // guarded by mu_
  const std::string path_;
  const bool fsync_;
};

}  // namespace waymark::server
