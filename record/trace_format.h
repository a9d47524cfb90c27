// record/trace_format.h — the allocation trace format: events, their compact binary encoding and decoding.
//
// A trace is what a program asked of its allocator, in order: allocate, free and reallocate events that name
// blocks by *id*, not by address, so that it can be replayed against any allocator (which will place blocks
// elsewhere). Ids are unsigned 64-bit numbers chosen by the recorder; an id names one block from its allocate
// event to its free event and may be used again after that.
//
// Binary form (what recorders write; little-endian-free: every number is an unsigned LEB128 varint):
//
//   trace    := header event* end
//   header   := "NSTRACE1"                       8 bytes: magic "NSTRACE" and format version '1'
//   allocate := 'A' varint(id) varint(size) u8(align_log2)
//   free     := 'F' varint(id)
//   realloc  := 'R' varint(id) varint(new_size)  the block keeps its id (and its contents up to the smaller size)
//   end      := 'E' varint(events)               number of events before it; nothing may follow
//
//   align_log2: 0 = the default alignment of malloc (alignof(std::max_align_t) on the replaying machine; any
//   request aligned no more strictly than that is recorded as 0), otherwise the alignment is 2^align_log2,
//   1 <= align_log2 <= kMaxAlignLog2.
//   varint: 7 bits per byte, least significant group first, high bit set on every byte but the last; at most 10
//   bytes, and the 10th may only hold the 64th bit. Canonical: the shortest encoding of its value, so the last byte
//   is 0 only when it is the only one (0x80 0x00 for 0 is refused). A number then has one encoding, which binary ->
//   text -> binary's byte-exact round trip needs, and a redundant group can only be corruption.
//
// An allocate event of a 100-byte block whose id is below 16384 takes 5 bytes, its free 3. The end record lets a reader
// tell a complete trace from one cut at an event boundary (a recorder that died).
//
// Text form (for reading and editing by hand; `//bench:trace_convert` converts both ways):
//
//   nostd-trace 1          first line (blank lines and lines starting with '#' are ignored anywhere)
//   a ID SIZE [ALIGN]      allocate; ALIGN in bytes, a power of two (2^align_log2; 1 is align_log2 0), omitted
//                          for the default
//   f ID                   free
//   r ID SIZE              reallocate
//   end COUNT              the end record
//
// This header holds the portable half (encode and decode one event, no allocation, no I/O), so that an embedded
// recorder and the hosted tools share it; the hosted reader that validates whole traces is bench/trace_io.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace nostd::record {

/// The 8 bytes every binary trace starts with: magic and format version.
inline constexpr std::string_view kTraceMagic{"NSTRACE1", 8};

/// The first word of the text form.
inline constexpr std::string_view kTextMagic = "nostd-trace";

/// Largest alignment exponent an allocate event may carry (1 GiB: far above what any heap accepts, low enough
/// that `size_t{1} << align_log2` is defined on 32-bit targets).
inline constexpr std::uint8_t kMaxAlignLog2 = 30;

/// What an event does; the values are the tag bytes of the binary form.
enum class EventKind : std::uint8_t {
  kAllocate = 'A',    ///< a new block `id` of `size` bytes, aligned to 2^align_log2 (0: default)
  kFree = 'F',        ///< block `id` is freed
  kReallocate = 'R',  ///< block `id` is resized to `size` bytes, keeping its id
  kEnd = 'E',         ///< the end record; `id` holds the number of events before it
};

/// One decoded event. Fields an event kind does not use are zero.
struct TraceEvent {
  EventKind kind = EventKind::kEnd;  ///< what happened
  std::uint8_t align_log2 = 0;       ///< allocate only: 0 for the default alignment, else log2 of the alignment
  std::uint64_t id = 0;              ///< the block (for kEnd: the event count)
  std::uint64_t size = 0;            ///< allocate and reallocate: requested bytes

  /// Field-wise equality (for tests and round trips).
  friend constexpr bool operator==(const TraceEvent&, const TraceEvent&) = default;
};

/// Largest encoding of one event: tag, two 10-byte varints, alignment byte.
inline constexpr std::size_t kMaxEventBytes = 22;

/// Why a byte sequence is not a valid event.
enum class DecodeError : std::uint8_t {
  kNone,                ///< decoded
  kTruncated,           ///< the bytes end inside the event
  kUnknownEvent,        ///< the tag byte is not A, F, R or E
  kBadVarint,           ///< a varint longer than 10 bytes or overflowing 64 bits (a 10th byte above 1)
  kNonCanonicalVarint,  ///< a varint not in its shortest form: a last byte of 0 after others
  kBadAlignment,        ///< align_log2 above kMaxAlignLog2
};

/// A one-line description of `e` ("truncated event", ...).
constexpr const char* describe(DecodeError e) {
  switch (e) {
    case DecodeError::kNone:
      return "no error";
    case DecodeError::kTruncated:
      return "truncated event: the trace ends inside it";
    case DecodeError::kUnknownEvent:
      return "unknown event tag";
    case DecodeError::kBadVarint:
      return "corrupt number: varint longer than 10 bytes or above 2^64 - 1 (a 10th byte above 1)";
    case DecodeError::kNonCanonicalVarint:
      return "corrupt number: varint not in its shortest form (a last byte of 0 after others)";
    case DecodeError::kBadAlignment:
      return "corrupt alignment: exponent above 30";
  }
  return "?";
}

/// The outcome of decoding one event at some offset.
struct Decoded {
  TraceEvent event;                        ///< the event (valid only when error == kNone)
  std::size_t next = 0;                    ///< offset of the byte after the event (when error == kNone)
  DecodeError error = DecodeError::kNone;  ///< why decoding failed
  std::size_t error_offset = 0;            ///< offset of the offending byte (or of the end, when truncated)
};

namespace internal {

/// Appends `v` as a varint at `out[n]`, returns the new length: the shortest form (get_varint refuses any other).
/// Precondition: room for 10 bytes.
constexpr std::size_t put_varint(std::span<std::byte> out, std::size_t n, std::uint64_t v) {
  while (v >= 0x80) {
    out[n++] = static_cast<std::byte>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<std::byte>(v);
  return n;
}

/// Reads a varint at `*pos`, advancing it; sets `*error` (and leaves `*pos` at the offending byte) on failure: the
/// bytes end inside it, it runs past 10 bytes or 64 bits, or it is not in its shortest form.
constexpr std::uint64_t get_varint(std::span<const std::byte> in, std::size_t* pos, DecodeError* error) {
  std::uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= in.size()) {
      *error = DecodeError::kTruncated;
      return 0;
    }
    const auto b = static_cast<std::uint8_t>(in[*pos]);
    // The 10th byte carries bit 63 only: anything more would overflow 64 bits.
    if (i == 9 && b > 1) {
      *error = DecodeError::kBadVarint;
      return 0;
    }
    // A last byte of 0 after others adds nothing: the same number in more bytes than it needs.
    if (b == 0 && i > 0) {
      *error = DecodeError::kNonCanonicalVarint;
      return 0;
    }
    ++*pos;
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  --*pos;
  *error = DecodeError::kBadVarint;
  return 0;
}

}  // namespace internal

/// Encodes `e` into `out` (at least kMaxEventBytes long) and returns the bytes written. Precondition: for an
/// allocate event, align_log2 <= kMaxAlignLog2. Never allocates; usable in an interrupt handler.
constexpr std::size_t encode(const TraceEvent& e, std::span<std::byte> out) {
  std::size_t n = 0;
  out[n++] = static_cast<std::byte>(e.kind);
  n = internal::put_varint(out, n, e.id);
  if (e.kind == EventKind::kAllocate || e.kind == EventKind::kReallocate) n = internal::put_varint(out, n, e.size);
  if (e.kind == EventKind::kAllocate) out[n++] = static_cast<std::byte>(e.align_log2);
  return n;
}

/// Decodes the event starting at `in[offset]`. On failure names the offending byte; never reads past `in`.
constexpr Decoded decode(std::span<const std::byte> in, std::size_t offset) {
  Decoded d;
  std::size_t pos = offset;
  if (pos >= in.size()) {
    d.error = DecodeError::kTruncated;
    d.error_offset = pos;
    return d;
  }
  const auto tag = static_cast<std::uint8_t>(in[pos]);
  if (tag != 'A' && tag != 'F' && tag != 'R' && tag != 'E') {
    d.error = DecodeError::kUnknownEvent;
    d.error_offset = pos;
    return d;
  }
  ++pos;
  d.event.kind = static_cast<EventKind>(tag);
  DecodeError error = DecodeError::kNone;
  d.event.id = internal::get_varint(in, &pos, &error);
  if (error == DecodeError::kNone && (tag == 'A' || tag == 'R')) d.event.size = internal::get_varint(in, &pos, &error);
  if (error == DecodeError::kNone && tag == 'A') {
    if (pos >= in.size()) {
      error = DecodeError::kTruncated;
    } else if (static_cast<std::uint8_t>(in[pos]) > kMaxAlignLog2) {
      error = DecodeError::kBadAlignment;
    } else {
      d.event.align_log2 = static_cast<std::uint8_t>(in[pos++]);
    }
  }
  if (error != DecodeError::kNone) {
    d.error = error;
    d.error_offset = pos;
    return d;
  }
  d.next = pos;
  return d;
}

}  // namespace nostd::record
