#include "server/file_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/event_json.h"

namespace waymark::server {

Result<std::unique_ptr<JsonLinesFileSink>> JsonLinesFileSink::Open(const std::string& path,
                                                                   bool fsync) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return Status::Io(path + ": cannot open: " + std::strerror(errno));
  return std::unique_ptr<JsonLinesFileSink>(new JsonLinesFileSink(file, path, fsync));
}

JsonLinesFileSink::~JsonLinesFileSink() { std::fclose(file_); }

Status JsonLinesFileSink::Accept(std::vector<Event> events) {
  std::string text;
  text.reserve(events.size() * 256);
  for (const Event& e : events) {
    AppendEventJson(e, &text);
    text.push_back('\n');
  }
  std::lock_guard lock(mu_);
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    return Status::Io(path_ + ": write failed: " + std::strerror(errno));
  }
  if (fsync_ && ::fdatasync(fileno(file_)) != 0) {
    return Status::Io(path_ + ": fdatasync failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace waymark::server
