#include "ingest/chunked_read.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace waymark::ingest {

namespace {

// What a worker made of one chunk, waiting to be delivered.
struct ChunkResult {
  bool done = false;
  Status status;
  std::vector<Event> events;
  ReadStats stats;
};

void AddStats(ReadStats&& from, ReadStats* to) {
  to->lines += from.lines;
  to->rows += from.rows;
  to->events += from.events;
  to->skipped += from.skipped;
  to->bad_rows += from.bad_rows;
  for (BadRow& bad : from.first_bad) {
    if (to->first_bad.size() >= kMaxBadRowMessages) break;
    to->first_bad.push_back(std::move(bad));
  }
}

}  // namespace

std::vector<LineChunk> CutAtLines(std::string_view data, size_t chunk_bytes,
                                  uint64_t lines_before) {
  std::vector<LineChunk> chunks;
  chunk_bytes = std::max<size_t>(chunk_bytes, 1);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.size();
    if (data.size() - pos > chunk_bytes) {
      const void* nl = std::memchr(data.data() + pos + chunk_bytes - 1, '\n',
                                   data.size() - (pos + chunk_bytes - 1));
      if (nl != nullptr) end = size_t(static_cast<const char*>(nl) - data.data()) + 1;
    }
    std::string_view piece = data.substr(pos, end - pos);
    chunks.push_back(LineChunk{piece, lines_before});
    lines_before += uint64_t(std::count(piece.begin(), piece.end(), '\n'));
    pos = end;
  }
  return chunks;
}

Status ReadChunks(const std::vector<LineChunk>& chunks, int threads, const ChunkReader& read,
                  const EventSink& sink, ReadStats* stats) {
  const size_t n = chunks.size();
  const size_t workers = std::min<size_t>(n, size_t(std::max(1, threads)));
  const size_t ahead = 2 * workers;  // chunks converted but not yet delivered, at most
  std::vector<ChunkResult> results(n);
  std::mutex mu;
  std::condition_variable changed;
  size_t next = 0, delivered = 0;
  bool stop = false;

  auto work = [&] {
    while (true) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        changed.wait(lock, [&] { return stop || next >= n || next < delivered + ahead; });
        if (stop || next >= n) return;
        i = next++;
      }
      ChunkResult& r = results[i];
      // One event per line at most: no reallocation (which would move every event again).
      const std::string_view data = chunks[i].data;
      r.events.reserve(size_t(std::count(data.begin(), data.end(), '\n')) + 1);
      r.status = read(chunks[i], [&](Event&& e) { r.events.push_back(std::move(e)); }, &r.stats);
      {
        std::lock_guard<std::mutex> lock(mu);
        r.done = true;
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);

  Status status;
  for (size_t i = 0; i < n && status.ok(); ++i) {
    ChunkResult& r = results[i];
    {
      std::unique_lock<std::mutex> lock(mu);
      changed.wait(lock, [&] { return r.done; });
    }
    status = r.status;
    if (status.ok()) {
      for (Event& e : r.events) sink(std::move(e));
    }
    AddStats(std::move(r.stats), stats);
    r = ChunkResult();
    {
      std::lock_guard<std::mutex> lock(mu);
      delivered = i + 1;
      stop = !status.ok();
    }
    changed.notify_all();
  }
  for (std::thread& t : pool) t.join();
  return status;
}

}  // namespace waymark::ingest
