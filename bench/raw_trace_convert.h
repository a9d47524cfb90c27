// bench/raw_trace_convert.h — turns a raw recording (record/raw_trace.h: per-thread chunks, blocks named by
// address) into a trace (record/trace_format.h: one stream in call order, blocks named by id).
//
// The work the recorder no longer does inside the recorded program: a k-way merge of the chunks by sequence
// number (each chunk is in order, so the events need no sort), and an address -> id table (open addressing, linear
// probing, backward-shift deletion). Checked on the way, each with the byte offset: the magic, every chunk header and
// its length (not 0: a chunk holds an event), every event, the end record, and that the sequence numbers are exactly
// 0..N-1 (a lost or duplicated buffer shows as a gap). Per chunk the converter keeps 8 bytes, and more only for the
// chunks open at once (convert_raw_trace), so that many small chunks cost less memory than the file they fill. Frees of
// blocks allocated before recording started are skipped and counted; an address handed out again before its free was
// seen (a free reported after the block was released, in a threaded program) is freed first in the trace and counted as
// a reordered free, so the output is always a valid trace.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <functional>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "record/raw_trace.h"
#include "record/trace_format.h"

namespace nostd::bench {

/// Why a raw trace could not be converted, and where.
struct RawTraceError {
  std::size_t offset = 0;  ///< byte offset of the offending header or event
  std::string message;     ///< what is wrong
};

/// What a conversion found.
struct RawStats {
  std::uint64_t events = 0;     ///< raw events read (calls recorded)
  std::uint64_t chunks = 0;     ///< chunks merged: one per flush of a thread's buffer
  std::uint64_t unmatched = 0;  ///< frees and reallocs of blocks from before recording (skipped, or an allocate)
  std::uint64_t reordered = 0;  ///< addresses handed out again before their free was seen
};

namespace internal {

/// Live address -> block id. Grows (doubling) to stay at most half full, so probes stay short.
class AddressTable {
 public:
  /// The id of live address `a`, removed from the table; 0 when `a` is not live.
  std::uint64_t erase(std::uint64_t a) {
    if (entries_.empty()) return 0;
    std::size_t i = home(a);
    while (entries_[i].key != a) {
      if (entries_[i].key == 0) return 0;
      i = (i + 1) & mask();
    }
    const std::uint64_t id = entries_[i].id;
    // Backward-shift deletion: move each later entry of the run into the hole unless its home lies cyclically
    // in (hole, entry], so that every probe chain stays unbroken without tombstones.
    for (std::size_t j = (i + 1) & mask(); entries_[j].key != 0; j = (j + 1) & mask()) {
      const std::size_t h = home(entries_[j].key);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        entries_[i] = entries_[j];
        i = j;
      }
    }
    entries_[i] = Entry{0, 0};
    --count_;
    return id;
  }
  /// Makes `a` (not live, non-zero) live as block `id`.
  void insert(std::uint64_t a, std::uint64_t id) {
    if (2 * (count_ + 1) > entries_.size()) grow();
    std::size_t i = home(a);
    while (entries_[i].key != 0) i = (i + 1) & mask();
    entries_[i] = Entry{a, id};
    ++count_;
  }

 private:
  struct Entry {
    std::uint64_t key;  // 0: empty (malloc never returns address 0)
    std::uint64_t id;
  };
  std::size_t mask() const { return entries_.size() - 1; }
  // Neighbouring addresses go to neighbouring slots (malloc hands out nearby addresses in bursts, so the table is
  // walked mostly in order); the high bits are folded in so that heaps 2^k apart do not pile onto the same slots.
  std::size_t home(std::uint64_t a) const {
    return static_cast<std::size_t>((a >> 4) ^ (a >> 28) ^ (a >> 40)) & mask();
  }
  void grow() {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(std::max<std::size_t>(1024, 2 * old.size()), Entry{0, 0});
    count_ = 0;
    for (const Entry& e : old) {
      if (e.key != 0) insert(e.key, e.id);
    }
  }
  std::vector<Entry> entries_;
  std::size_t count_ = 0;
};

inline std::uint8_t raw_u8(std::span<const std::byte> b, std::size_t at) { return static_cast<std::uint8_t>(b[at]); }

/// The walk over a raw trace's chunk headers up to its end record (record/raw_trace.h), which checks each header
/// and that each chunk lies inside the file. One walk serves the converter, over a whole file, and
/// read_trace_file's scan (TraceFileScan in bench/trace_io.h), over the bytes read so far, a call per read, so
/// that the scan stops at a header exactly when the converter would refuse it.
class RawChunkWalk {
 public:
  /// What a call is given: the whole file, or its first bytes with more perhaps to come.
  enum class Extent { kWhole, kPrefix };

  /// Walks on from where the last call stopped (after the magic, which the caller has checked) over `bytes`, the
  /// file's first bytes (each call with at least the last one's), passes each chunk's offset and header once to
  /// `on_chunk(std::size_t, const record::RawChunkHeader&)`, and returns the first error with its offset: a header
  /// with neither magic, a chunk of no event bytes, an end record that claims event bytes; for kWhole also a header or
  /// a chunk that the file cuts off, bytes after the end record (their count), or no end record. Given a prefix, what
  /// more bytes may complete is no error yet: the walk waits for the rest of a header or chunk, and stops at the end
  /// record (the bytes after it are counted in the whole file). O(headers walked).
  template <class OnChunk>
  std::optional<RawTraceError> walk(std::span<const std::byte> bytes, Extent extent, OnChunk&& on_chunk) {
    const bool whole = extent == Extent::kWhole;
    while (pos_ < bytes.size()) {
      if (ended_) {
        if (!whole) return std::nullopt;
        return RawTraceError{pos_, std::to_string(bytes.size() - pos_) + " bytes after the end record"};
      }
      const std::size_t left = bytes.size() - pos_;
      if (left < sizeof(record::RawChunkHeader)) {
        if (!whole) return std::nullopt;
        return RawTraceError{pos_, "truncated chunk header: the file ends inside it"};
      }
      record::RawChunkHeader h;
      std::memcpy(&h, bytes.data() + pos_, sizeof h);
      if (h.magic == record::kRawEndMagic) {
        if (h.bytes != 0) return RawTraceError{pos_, "corrupt end record: it claims event bytes"};
        declared_ = h.first_seq;
        ended_ = true;
        pos_ += sizeof h;
        continue;
      }
      if (h.magic != record::kRawChunkMagic) {
        return RawTraceError{pos_, "not a chunk header (wrong magic): corrupt raw trace"};
      }
      // The recorder writes no empty chunk; refused, a file of them cannot make the converter keep state for chunks
      // that hold no event, and the scan of a file being read stops at the first.
      if (h.bytes == 0) return RawTraceError{pos_, "empty chunk: a chunk holds at least one event"};
      if (whole && h.bytes > left - sizeof h) {
        return RawTraceError{pos_, "chunk of " + std::to_string(h.bytes) + " event bytes, but only " +
                                       std::to_string(left - sizeof h) + " remain (truncated)"};
      }
      on_chunk(pos_, h);
      // The chunk's events are checked by the converter's merge. Given a prefix, pos_ may now lie past its end: the
      // walk goes on once the bytes reach the next header.
      pos_ += sizeof h + h.bytes;
    }
    if (whole && !ended_) {
      return RawTraceError{bytes.size(),
                           "the raw trace ends without its end record (the program did not exit normally, or is "
                           "still running)"};
    }
    return std::nullopt;
  }

  /// The calls the end record counts (its first_seq); 0 until the walk has passed it.
  std::uint64_t declared() const { return declared_; }

 private:
  std::size_t pos_ = record::kRawMagic.size();  // where the next header starts
  bool ended_ = false;                          // the end record has been walked over
  std::uint64_t declared_ = 0;
};

}  // namespace internal

/// Converts the raw trace `bytes` and passes each event of the resulting trace, in call order, to
/// `emit(const record::TraceEvent&)` (not the end record: the caller writes it with the count). O(events log
/// chunks) time; memory beyond the input: 8 bytes per chunk (each takes at least 17 bytes of the file), the chunks
/// open at once (as many as the recording's threads that wrote at the same time) and the most blocks live at once.
template <class Emit>
std::expected<RawStats, RawTraceError> convert_raw_trace(std::span<const std::byte> bytes, Emit&& emit) {
  using record::EventKind;
  using record::RawChunkHeader;
  using record::TraceEvent;
  RawStats stats;
  if (!record::is_raw_trace(bytes.data(), bytes.size())) {
    return std::unexpected(RawTraceError{0, "not a raw trace: it starts with \"NSTRRAW1\""});
  }
  const auto* const base = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto header_at = [base](std::size_t offset) {
    RawChunkHeader h;
    std::memcpy(&h, base + offset, sizeof h);
    return h;
  };
  // Where each chunk's header is, nothing more (its first_seq is read from the file again): a file of many chunks
  // had cost some 120 bytes of cursors and decoded events per chunk, 7 times the file's size for chunks of a few
  // bytes. Counted by a first walk, so that the array is allocated once at its size.
  std::size_t chunk_count = 0;
  internal::RawChunkWalk counting;
  if (const std::optional<RawTraceError> error =
          counting.walk(bytes, internal::RawChunkWalk::Extent::kWhole,
                        [&chunk_count](std::size_t, const RawChunkHeader&) { ++chunk_count; })) {
    return std::unexpected(*error);
  }
  std::vector<std::size_t> order;
  order.reserve(chunk_count);
  internal::RawChunkWalk walk;  // the same walk again, which succeeds as the first did
  (void)walk.walk(bytes, internal::RawChunkWalk::Extent::kWhole,
                  [&order](std::size_t offset, const RawChunkHeader&) { order.push_back(offset); });
  const std::uint64_t declared = counting.declared();
  stats.chunks = order.size();
  // The chunks by their first call (then by place in the file), the order in which the merge opens them.
  std::sort(order.begin(), order.end(), [&header_at](std::size_t a, std::size_t b) {
    const std::uint64_t first_a = header_at(a).first_seq;
    const std::uint64_t first_b = header_at(b).first_seq;
    return first_a != first_b ? first_a < first_b : a < b;
  });
  // The merge: a min-heap of the open chunks, keyed by (the call number of the event each holds, the chunk's
  // offset). A chunk opens only when its first call could be the next: every event of a chunk is at or after its
  // header's first_seq (checked when it opens), so an unopened chunk's key is at least (first_seq, offset), and once
  // no unopened key is below the heap's top, the top is the file's next call, as it would be with every chunk open.
  // A recording's chunks overlap only where threads wrote at the same time: few are open, whatever their number.
  struct OpenChunk {
    record::RawChunkCursor cursor;
    record::RawEvent event;  // the next event of the chunk, decoded
    std::size_t offset;      // of its header
  };
  struct Next {
    std::uint64_t seq;
    std::size_t offset;  // of its chunk's header: ties go to the chunk earlier in the file
    std::size_t slot;    // in `open`
  };
  const auto later = [](const Next& a, const Next& b) { return a.seq != b.seq ? a.seq > b.seq : a.offset > b.offset; };
  std::priority_queue<Next, std::vector<Next>, decltype(later)> heap(later);
  std::vector<OpenChunk> open;
  std::vector<std::size_t> free_slots;  // of chunks read to their end
  std::size_t opened = 0;               // order[opened] is the next chunk to open
  auto malformed = [base](const OpenChunk& c) {
    return RawTraceError{static_cast<std::size_t>(c.cursor.position() - base),
                         "corrupt event in the chunk at byte " + std::to_string(c.offset)};
  };
  auto open_next = [&]() -> std::optional<RawTraceError> {
    const std::size_t offset = order[opened++];
    const RawChunkHeader h = header_at(offset);
    const unsigned char* const begin = base + offset + sizeof h;
    OpenChunk chunk{record::RawChunkCursor(begin, begin + h.bytes, h.first_seq), {}, offset};
    // Not empty (the walk refused those): no first event is a malformed one.
    if (!chunk.cursor.next(chunk.event)) return malformed(chunk);
    if (chunk.event.seq < h.first_seq) {  // its delta wrapped past 2^64
      return RawTraceError{offset + sizeof h, "call numbers go backwards within a chunk: corrupt raw trace"};
    }
    std::size_t slot = open.size();
    if (free_slots.empty()) {
      open.push_back(chunk);
    } else {
      slot = free_slots.back();
      free_slots.pop_back();
      open[slot] = chunk;
    }
    heap.push(Next{chunk.event.seq, offset, slot});
    return std::nullopt;
  };
  internal::AddressTable table;
  std::uint64_t next_id = 1;
  std::uint64_t expected_seq = 0;
  auto free_reused = [&](std::uint64_t addr) {  // an address handed out again before its free was seen
    if (const std::uint64_t old = table.erase(addr)) {
      ++stats.reordered;
      emit(TraceEvent{EventKind::kFree, 0, old, 0});
    }
  };
  // Whether the next chunk to open may hold a call before the heap's top: its key (first_seq, offset) is below it.
  auto opens_first = [&]() {
    if (opened == order.size()) return false;
    if (heap.empty()) return true;
    const std::uint64_t first = header_at(order[opened]).first_seq;
    return first != heap.top().seq ? first < heap.top().seq : order[opened] < heap.top().offset;
  };
  while (true) {
    while (opens_first()) {
      if (const std::optional<RawTraceError> error = open_next()) return std::unexpected(*error);
    }
    if (heap.empty()) break;
    const Next next = heap.top();
    heap.pop();
    OpenChunk& c = open[next.slot];
    const record::RawEvent e = c.event;
    const std::size_t chunk = c.offset;
    if (e.seq < expected_seq) {  // a buffer written twice (before a3f0aa8, a forked child's copy of its parent's)
      return std::unexpected(
          RawTraceError{chunk, "call number " + std::to_string(e.seq) +
                                   " appears twice (again in the chunk at this offset): a buffer was written twice"});
    }
    if (e.seq != expected_seq) {
      return std::unexpected(RawTraceError{chunk, "call number " + std::to_string(expected_seq) +
                                                      " is missing (the next one found is " + std::to_string(e.seq) +
                                                      ", in the chunk at this offset): a thread's buffer was lost"});
    }
    ++expected_seq;
    if (c.cursor.next(c.event)) {
      if (c.event.seq <= e.seq) {
        return std::unexpected(RawTraceError{static_cast<std::size_t>(c.cursor.position() - base),
                                             "call numbers go backwards within a chunk: corrupt raw trace"});
      }
      heap.push(Next{c.event.seq, chunk, next.slot});
    } else if (c.cursor.malformed()) {
      return std::unexpected(malformed(c));
    } else {
      free_slots.push_back(next.slot);
    }
    ++stats.events;
    if (e.addr == 0 || (e.kind == 'R' && e.new_addr == 0)) {
      return std::unexpected(RawTraceError{chunk, "a null block address in the chunk at this offset"});
    }
    if (e.align_log2 > record::kMaxAlignLog2) {
      return std::unexpected(RawTraceError{chunk, "corrupt alignment in the chunk at this offset"});
    }
    if (e.kind == 'A') {
      free_reused(e.addr);
      table.insert(e.addr, next_id);
      emit(TraceEvent{EventKind::kAllocate, e.align_log2, next_id++, e.size});
    } else if (e.kind == 'F') {
      if (const std::uint64_t id = table.erase(e.addr)) {
        emit(TraceEvent{EventKind::kFree, 0, id, 0});
      } else {
        ++stats.unmatched;
      }
    } else {  // 'R'
      const std::uint64_t id = table.erase(e.addr);
      if (e.new_addr != e.addr || id == 0) free_reused(e.new_addr);
      if (id == 0) {  // a block from before recording: for the trace, its realloc is an allocation
        ++stats.unmatched;
        table.insert(e.new_addr, next_id);
        emit(TraceEvent{EventKind::kAllocate, 0, next_id++, e.size});
      } else {
        table.insert(e.new_addr, id);
        emit(TraceEvent{EventKind::kReallocate, 0, id, e.size});
      }
    }
  }
  if (expected_seq != declared) {
    return std::unexpected(RawTraceError{bytes.size() - sizeof(RawChunkHeader),
                                         "the end record counts " + std::to_string(declared) +
                                             " calls, the chunks hold " + std::to_string(expected_seq)});
  }
  return stats;
}

/// Converts the raw trace `bytes` into the binary trace form (header, events, end record). `stats`, when given,
/// receives what the conversion found.
inline std::expected<std::vector<std::byte>, RawTraceError> raw_to_binary(std::span<const std::byte> bytes,
                                                                          RawStats* stats = nullptr) {
  std::vector<std::byte> out;
  out.reserve(bytes.size() / 2 + 64);
  const auto* magic = reinterpret_cast<const std::byte*>(record::kTraceMagic.data());
  out.insert(out.end(), magic, magic + record::kTraceMagic.size());
  std::uint64_t events = 0;
  auto append = [&out](const record::TraceEvent& e) {
    std::byte buf[record::kMaxEventBytes];
    out.insert(out.end(), buf, buf + record::encode(e, buf));
  };
  const auto r = convert_raw_trace(bytes, [&](const record::TraceEvent& e) {
    append(e);
    ++events;
  });
  if (!r) return std::unexpected(r.error());
  append(record::TraceEvent{record::EventKind::kEnd, 0, events, 0});
  if (stats != nullptr) *stats = *r;
  return out;
}

}  // namespace nostd::bench
