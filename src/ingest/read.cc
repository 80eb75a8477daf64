#include "ingest/read.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/hash.h"
#include "ingest/csv_reader.h"
#include "ingest/segment_json.h"

namespace waymark::ingest {

namespace {

// A file's bytes: memory-mapped when it is a regular file, else read into memory (pipes).
class FileBytes {
 public:
  FileBytes() = default;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes() {
    if (map_ != nullptr) munmap(map_, size_);
  }

  Status Open(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Io("cannot open '" + path + "': " + std::strerror(errno));
    Status st = Load(fd, path);
    close(fd);
    return st;
  }

  std::string_view data() const {
    if (map_ != nullptr) return std::string_view(static_cast<const char*>(map_), size_);
    return copy_;
  }

 private:
  Status Load(int fd, const std::string& path) {
    struct stat info;
    if (fstat(fd, &info) != 0)
      return Status::Io("cannot stat '" + path + "': " + std::strerror(errno));
    if (S_ISREG(info.st_mode) && info.st_size > 0) {
      void* p = mmap(nullptr, size_t(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        map_ = p;
        size_ = size_t(info.st_size);
        madvise(map_, size_, MADV_SEQUENTIAL);
        return Status::Ok();
      }
    }
    char buf[1 << 16];
    while (true) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n == 0) return Status::Ok();
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Io("cannot read '" + path + "': " + std::strerror(errno));
      copy_.append(buf, size_t(n));
    }
  }

  void* map_ = nullptr;
  size_t size_ = 0;
  std::string copy_;
};

}  // namespace

Status ReadEventsFile(const std::string& path, const Mapping* mapping, const ReadOptions& options,
                      const EventSink& sink, ReadStats* stats) {
  *stats = ReadStats();
  FileBytes file;
  WAYMARK_RETURN_IF_ERROR(file.Open(path));
  return ReadEventsBuffer(file.data(), path, mapping, options, sink, stats);
}

Status ReadEventsBuffer(std::string_view data, std::string_view path, const Mapping* mapping,
                        const ReadOptions& options, const EventSink& sink, ReadStats* stats) {
  *stats = ReadStats();
  if (mapping == nullptr) return ReadJsonLines(data, path, options, sink, stats);
  return ReadCsv(data, path, *mapping, options, sink, stats);
}

Status ReportBadRow(const ReadOptions& options, std::string where, std::string message,
                    ReadStats* stats) {
  ++stats->bad_rows;
  Status stop = options.strict ? Status::Parse(where + ": " + message) : Status::Ok();
  if (stats->first_bad.size() < kMaxBadRowMessages) {
    stats->first_bad.push_back({std::move(where), std::move(message)});
  }
  return stop;
}

std::string Where(std::string_view path, uint64_t line, uint64_t col) {
  return std::string(path) + ":" + std::to_string(line) + ":" + std::to_string(col);
}

std::string HexMessageId(uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  for (int i = 15; i >= 0; --i, hash >>= 4) buf[i] = kDigits[hash & 15];
  return std::string(buf, sizeof(buf));
}

std::string LineMessageId(std::string_view path, uint64_t line) {
  std::string_view base = path.substr(path.find_last_of('/') + 1);
  return HexMessageId(HashCombine(Hash64(base), line));
}

}  // namespace waymark::ingest
