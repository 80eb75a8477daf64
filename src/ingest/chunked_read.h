// Reading one buffer on several threads (ReadOptions::threads): the buffer is cut at line breaks
// into chunks, worker threads convert the chunks, and the calling thread hands their events to
// the sink in input order. Internal to the readers.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/read.h"

namespace waymark::ingest {

// A run of whole lines of a file: `data` starts at the beginning of a line and ends just after a
// line break (or at the end of the file); `lines_before` lines of the file precede it.
struct LineChunk {
  std::string_view data;
  uint64_t lines_before = 0;
};

// Cuts `data` (which starts a line, `lines_before` lines into its file) into chunks of about
// `chunk_bytes` that end at line breaks. An empty `data` gives no chunks.
std::vector<LineChunk> CutAtLines(std::string_view data, size_t chunk_bytes,
                                  uint64_t lines_before);

// Converts one chunk: calls `sink` for each good row in order and fills `stats` (which starts
// zeroed) for the chunk alone, `lines` counting the chunk's physical lines. Runs on a worker
// thread, concurrently with other chunks, so it must only touch state of its own.
using ChunkReader = std::function<Status(const LineChunk&, const EventSink&, ReadStats*)>;

// Runs `read` over `chunks` on `threads` worker threads, at most a few chunks ahead of the one
// being delivered (which bounds the events held in memory), and calls `sink` on this thread with
// every event in chunk order. Adds each chunk's statistics to `stats` in order, keeping the first
// kMaxBadRowMessages bad rows. Returns the first error in chunk order; no event of that chunk or
// of later ones is delivered then.
Status ReadChunks(const std::vector<LineChunk>& chunks, int threads, const ChunkReader& read,
                  const EventSink& sink, ReadStats* stats);

}  // namespace waymark::ingest
