// record/raw_trace.h — the raw form of a hosted recording: what the malloc recorder (record/malloc_recorder.h)
// writes while the program runs, before anything is turned into block ids.
//
// Why a second form: the trace format (record/trace_format.h) names blocks by id and lists events in call order.
// Producing that inside the recorded process costs a table lookup per call and, at exit, a merge of the threads'
// buffers: on Python (3.9 M calls) that was 0.9 CPU-s, more than the program's own malloc work. The raw form is
// what the recorder can write at the cost of an append: each thread's events, by address, in the thread's own
// buffer; the conversion to ids happens afterwards, in the tools that read traces (bench/raw_trace_convert.h:
// `trace_convert`, `replay`).
//
//   raw      := "NSTRRAW1" chunk* end
//   chunk    := header(magic = kRawChunkMagic, bytes, first_seq) event+      `bytes` bytes of events, not 0
//   end      := header(magic = kRawEndMagic, bytes = 0, first_seq = N)        N: events in the whole file
//   header   := u32 magic, u32 bytes, u64 first_seq                           little-endian, 16 bytes
//   event    := kind [u8 align_log2 if kind = 'a'] varint(seq delta) varint(zigzag(address delta))
//               [varint(zigzag(new address - address)) if 'R'] [varint(size) unless 'F']
//   kind     := 'A' allocate | 'a' allocate with align_log2 | 'F' free | 'R' reallocate (old and new address)
//
// A chunk is one thread's buffer as it was flushed, never an empty one; within it, sequence numbers (the global call
// order) and addresses are deltas from the previous event of the same chunk (starting at first_seq and 0, so no
// event's number is below first_seq), so the usual event takes 5 to 8 bytes. Chunks of different threads interleave in
// the file; every sequence number from 0 to N - 1 appears exactly once, which the converter checks. Varints are
// unsigned LEB128, as in the trace format: at most 10 bytes, the 10th holding bit 63 only (a 10th byte above 1 is a
// corrupt event), and canonical, the shortest form of their value (a last byte of 0 after others is a corrupt event:
// the recorder never writes one).
//
// This header holds the encoding and decoding of events (portable, no allocation: the recorder runs inside
// malloc); the conversion to a trace, which allocates, is bench/raw_trace_convert.h.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace nostd::record {

/// The 8 bytes every raw trace starts with.
inline constexpr std::string_view kRawMagic{"NSTRRAW1", 8};
/// The magic of a chunk header ("NSRC" in the file).
inline constexpr std::uint32_t kRawChunkMagic = 0x4352534e;
/// The magic of the end header ("REND" in the file), written when the recording stopped normally.
inline constexpr std::uint32_t kRawEndMagic = 0x444e4552;
/// Largest encoding of one raw event: kind, alignment, four varints.
inline constexpr std::size_t kMaxRawEventBytes = 2 + 4 * 10;

static_assert(std::endian::native == std::endian::little,
              "raw_trace.h: chunk headers are written in memory order, which the format defines as little-endian");

/// The header of a chunk, and of the end record.
struct RawChunkHeader {
  std::uint32_t magic;      ///< kRawChunkMagic, or kRawEndMagic for the end record
  std::uint32_t bytes;      ///< event bytes that follow (0 for the end record)
  std::uint64_t first_seq;  ///< sequence number of the first event (end record: events in the file)
};
static_assert(sizeof(RawChunkHeader) == 16, "RawChunkHeader: the format fixes the header at 16 bytes");

/// One raw event, decoded.
struct RawEvent {
  char kind = 0;                ///< 'A', 'F' or 'R' (an aligned allocate decodes as 'A' with align_log2 != 0)
  std::uint8_t align_log2 = 0;  ///< 'A' only: 0 for malloc's default alignment
  std::uint64_t seq = 0;        ///< the call's place in the global order
  std::uint64_t addr = 0;       ///< the block ('R': its old address)
  std::uint64_t new_addr = 0;   ///< 'R' only: the new address
  std::uint64_t size = 0;       ///< 'A' and 'R': bytes requested
};

namespace internal {

/// Appends `v` as a varint at `p` (room for 10 bytes), in its shortest form, and returns the end.
inline unsigned char* put_raw_varint(unsigned char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return p;
}

constexpr std::uint64_t zigzag(std::uint64_t delta) noexcept {
  const auto d = static_cast<std::int64_t>(delta);
  return (static_cast<std::uint64_t>(d) << 1) ^ static_cast<std::uint64_t>(d >> 63);
}

constexpr std::uint64_t unzigzag(std::uint64_t v) noexcept { return (v >> 1) ^ (~(v & 1) + 1); }

}  // namespace internal

/// The encoder state of one chunk: the previous event's sequence number and address.
struct RawChunkState {
  std::uint64_t prev_seq = 0;   ///< of the last event appended (first_seq before the first)
  std::uint64_t prev_addr = 0;  ///< of the last event appended (0 before the first)
};

/// Appends `e` at `p` (room for kMaxRawEventBytes) and returns the end. Never allocates; O(1).
inline unsigned char* append_raw_event(unsigned char* p, const RawEvent& e, RawChunkState& state) noexcept {
  const bool aligned = e.kind == 'A' && e.align_log2 != 0;
  *p++ = static_cast<unsigned char>(aligned ? 'a' : e.kind);
  if (aligned) *p++ = e.align_log2;
  p = internal::put_raw_varint(p, e.seq - state.prev_seq);
  p = internal::put_raw_varint(p, internal::zigzag(e.addr - state.prev_addr));
  state.prev_addr = e.addr;
  if (e.kind == 'R') {
    p = internal::put_raw_varint(p, internal::zigzag(e.new_addr - e.addr));
    state.prev_addr = e.new_addr;
  }
  if (e.kind != 'F') p = internal::put_raw_varint(p, e.size);
  state.prev_seq = e.seq;
  return p;
}

/// Reads one chunk's events in order; never reads outside [begin, end).
class RawChunkCursor {
 public:
  /// A cursor over the events in [begin, end) of a chunk whose header says `first_seq`.
  RawChunkCursor(const unsigned char* begin, const unsigned char* end, std::uint64_t first_seq) noexcept
      : p_(begin), end_(end), seq_(first_seq) {}

  /// Decodes the next event into `e`: true if there was one. At the end of the chunk returns false with
  /// `malformed()` false; at bytes that are not an event, false with `malformed()` true and `position()` at them.
  bool next(RawEvent& e) noexcept {
    if (p_ >= end_) return false;
    const unsigned char* const start = p_;
    const char kind = static_cast<char>(*p_++);
    e = RawEvent{};
    if (kind != 'A' && kind != 'a' && kind != 'F' && kind != 'R') return fail(start);
    if (kind == 'a') {
      if (p_ >= end_) return fail(start);
      e.align_log2 = *p_++;
    }
    e.kind = kind == 'a' ? 'A' : kind;
    std::uint64_t v = 0;
    if (!get(&v)) return fail(start);
    seq_ += v;
    e.seq = seq_;
    if (!get(&v)) return fail(start);
    addr_ += internal::unzigzag(v);
    e.addr = addr_;
    if (e.kind == 'R') {
      if (!get(&v)) return fail(start);
      addr_ += internal::unzigzag(v);
      e.new_addr = addr_;
    }
    if (e.kind != 'F' && !get(&e.size)) return fail(start);
    return true;
  }

  /// True when next() stopped at bytes that are not an event.
  bool malformed() const noexcept { return malformed_; }
  /// Where the cursor stands (after a malformed event: its first byte).
  const unsigned char* position() const noexcept { return p_; }

 private:
  bool fail(const unsigned char* start) noexcept {
    p_ = start;
    end_ = start;
    malformed_ = true;
    return false;
  }
  // At most 10 bytes; the 10th (shift 63) carries bit 63 only, so a 10th byte above 1 (more bits, or an 11th byte)
  // is corrupt rather than cut to its low bit; a last byte of 0 after others (not the shortest form) is corrupt too.
  bool get(std::uint64_t* v) noexcept {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const unsigned char b = *p_++;
      if ((shift == 63 && b > 1) || (b == 0 && shift > 0)) return false;
      *v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  std::uint64_t seq_;
  std::uint64_t addr_ = 0;
  bool malformed_ = false;
};

/// True when `bytes` starts with kRawMagic.
inline bool is_raw_trace(const void* bytes, std::size_t size) noexcept {
  return size >= kRawMagic.size() && std::memcmp(bytes, kRawMagic.data(), kRawMagic.size()) == 0;
}

}  // namespace nostd::record
